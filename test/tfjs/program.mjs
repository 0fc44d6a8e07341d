// The adapter's program for the browser test, run the same way in Node: a small tfjs-layers
// MLP trained 30 steps through model.fit with simdopt's Adam and with tf.train.adam (the same
// hyperparameters: TF.js's default eps, 1e-7), on TF.js's cpu and wasm backends; it reports
// both loss curves, the tensors left behind and an exact getWeights/setWeights round trip.
// `tf` is TF.js (core and layers), `lib` simdopt and `adapter` simdopt/tfjs.
export async function run(tf, lib, adapter) {
  let seed = 12345;
  const rand = () => ((seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0) / 4294967296) * 2 - 1;
  const N = 64, D = 6;
  const x = Float32Array.from({ length: N * D }, rand);
  const y = Float32Array.from({ length: N }, (_, r) => x[r * D] * x[r * D + 1] - x[r * D + 2] + 0.3 * rand());
  const init = [[D, 16], [16], [16, 1], [1]].map((s) => Float32Array.from({ length: s.reduce((a, b) => a * b, 1) }, () => rand() * 0.5));
  const out = {};
  for (const backend of ['cpu', 'wasm']) {
    await tf.setBackend(backend);
    await tf.ready();
    const xs = tf.tensor2d(x, [N, D]), ys = tf.tensor2d(y, [N, 1]);
    const fit = async (optimizer) => {
      const model = tf.sequential({ layers: [tf.layers.dense({ units: 16, activation: 'relu', inputShape: [D] }), tf.layers.dense({ units: 1 })] });
      tf.tidy(() => model.setWeights(init.map((v, i) => tf.tensor(v, model.getWeights()[i].shape))));
      model.compile({ optimizer, loss: 'meanSquaredError' });
      const { history } = await model.fit(xs, ys, { epochs: 30, batchSize: N, shuffle: false, verbose: 0 });
      return { model, losses: history.loss };
    };
    const theirs = await fit(tf.train.adam(0.01));
    const opt = await adapter.tfjsOptimizer(lib.Adam, { lr: 0.01, eps: 1e-7 });
    const before = tf.memory().numTensors;
    const ours = await fit(opt);
    const tensorsAdded = tf.memory().numTensors - before;
    // Resume through getWeights/setWeights in a second adapter: one more step each, same bits.
    const copy = await adapter.tfjsOptimizer(lib.Adam, { lr: 0.01, eps: 1e-7 });
    await copy.setWeights(await opt.getWeights());
    const twin = tf.sequential({ layers: [tf.layers.dense({ units: 16, activation: 'relu', inputShape: [D] }), tf.layers.dense({ units: 1 })] });
    twin.setWeights(ours.model.getWeights());
    twin.compile({ optimizer: copy, loss: 'meanSquaredError' });
    await ours.model.trainOnBatch(xs, ys);
    await twin.trainOnBatch(xs, ys);
    const bits = (m) => m.getWeights().map((w) => Array.from(new Uint32Array(w.dataSync().slice().buffer))).flat();
    out[backend] = {
      ours: ours.losses, theirs: theirs.losses, tensorsAdded, resumedSame: JSON.stringify(bits(ours.model)) === JSON.stringify(bits(twin)),
      instanceOfOptimizer: opt instanceof tf.Optimizer, simdoptBackend: opt.store.backend, registered: tf.serialization.SerializationMap.getMap().classNameMap.SimdoptOptimizer !== undefined,
    };
    for (const m of [theirs.model, ours.model, twin]) m.dispose();
    for (const o of [opt, copy]) o.dispose();
    tf.dispose([xs, ys]);
  }
  return out;
}
