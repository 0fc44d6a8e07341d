// simdopt/tfjs, the TensorFlow.js adapter, in Node with @tensorflow/tfjs on its cpu and wasm
// backends: the same bits as simdopt stepping the same gradients; model.fit, minimize and
// applyGradients; variables added later and steps over some variables; exact resume through
// getWeights/setWeights, model.save + tf.loadLayersModel and simdopt checkpoints; no leaked
// tensors; no TF.js tensor over the arena; losses tracking TF.js's own optimizers; errors.
import { describe, expect, it } from 'vitest';
import {
  Adadelta, Adagrad, Adam, Adamax, AdamW, NAdam, OneCycleLR, OPTIMIZERS, ParameterStore, RMSprop, SGD, StepLR,
  clipGradNorm, type AnyOptimizer,
} from '../src/index.js';
import { SimdoptOptimizer, tfjsOptimizer, type SchedulerFactory, type TfjsOptimizerOptions } from '../src/tfjs/index.js';
import { expectSameBits } from './helpers.js';
import { mlp, regressionData, TF_BACKENDS, tf, useBackend, values, weightsOf } from './tfjs/common.js';

/** Float32 bits of every variable. */
const bitsOf = (vars: readonly tf.Tensor[]): Float32Array[] => vars.map((v) => (v.dataSync() as Float32Array).slice());
const expectAllSame = (a: Float32Array[], b: Float32Array[], label: string) => {
  expect(a.length, label).toBe(b.length);
  a.forEach((x, i) => expectSameBits(x, b[i], `${label} [${i}]`));
};

describe.each(TF_BACKENDS)('simdopt/tfjs on TF.js %s', (backend) => {
  it('applyGradients (map and list) gives the bits of simdopt stepping the same gradients; minimize trains', async () => {
    await useBackend(backend);
    for (const simdoptBackend of ['wasm', 'js'] as const) {
      const shapes = [[3, 4], [4], []];
      const vars = shapes.map((s, i) => tf.variable(tf.tensor(values(s.reduce((a, b) => a * b, 1), 40 + i), s)));
      const schedule: SchedulerFactory = (o) => new StepLR(o, { stepSize: 2, gamma: 0.5 });
      const opt = await tfjsOptimizer(AdamW, { lr: 0.05, weightDecay: 0.1 }, { backend: simdoptBackend, clipGradNorm: 0.5, scheduler: schedule });
      // The reference: the same optimizer, schedule and clipping over a store of its own.
      const store = await ParameterStore.create({ backend: simdoptBackend });
      const params = vars.map((v, i) => store.parameter(`p${i}`, { shape: v.shape.length ? v.shape : [1], values: v.dataSync() }));
      const ref = new AdamW(params, { lr: 0.05, weightDecay: 0.1 });
      const sched = schedule(ref) as StepLR;
      for (let step = 0; step < 6; step++) {
        const grads = shapes.map((s, i) => tf.tensor(values(params[i].size, 1000 * step + i, 3), s));
        opt.applyGradients(step % 2 === 0 ? Object.fromEntries(vars.map((v, i) => [v.name, grads[i]])) : vars.map((v, i) => ({ name: v.name, tensor: grads[i] })));
        params.forEach((p, i) => p.grad.set(grads[i].dataSync()));
        clipGradNorm(params, 0.5);
        ref.step();
        sched.step();
        tf.dispose(grads);
      }
      expectAllSame(bitsOf(vars), params.map((p) => p.data.slice()), `${simdoptBackend} store`);
      expect(opt.iterations).toBe(6);
      expect(opt.optimizer!.paramGroups[0].lr).toBe(ref.paramGroups[0].lr);
      expect(opt.store!.backend).toBe(simdoptBackend);
      // minimize: the loss goes down, the cost is returned when asked.
      const x = tf.tensor2d(values(6, 7), [2, 3]);
      const loss = () => tf.tidy(() => tf.sum(tf.square(tf.add(tf.matMul(x, vars[0]), vars[1]))).add(tf.square(vars[2])).asScalar());
      const first = opt.minimize(loss, true)!;
      const before = first.dataSync()[0];
      first.dispose();
      for (let i = 0; i < 30; i++) opt.minimize(loss);
      const after = loss();
      expect(after.dataSync()[0]).toBeLessThan(before);
      // varList: only those variables move.
      const fixed = bitsOf([vars[1], vars[2]]);
      opt.minimize(loss, false, [vars[0]]);
      expectAllSame(bitsOf([vars[1], vars[2]]), fixed, 'variables outside varList');
      tf.dispose([x, after, ...vars]);
      opt.dispose();
      store.dispose();
    }
  });

  it('variables seen later join the optimizer; a step with gradients for some variables leaves the others exactly as they were', async () => {
    await useBackend(backend);
    const a = tf.variable(tf.tensor(values(6, 1), [2, 3]));
    const b = tf.variable(tf.tensor(values(5, 2), [5]));
    const aAlone = tf.variable(a.clone());
    const opt = await tfjsOptimizer(NAdam, { lr: 0.02 });
    const optAlone = await tfjsOptimizer(NAdam, { lr: 0.02 });
    const ga = (s: number) => tf.tensor(values(6, 100 + s), [2, 3]);
    const gb = (s: number) => tf.tensor(values(5, 200 + s), [5]);
    for (let s = 0; s < 8; s++) {
      const g = ga(s);
      // b joins at step 3 (rebuilding the optimizer with a's state and fresh state for b).
      opt.applyGradients(s < 3 ? { [a.name]: g } : { [a.name]: g, [b.name]: gb(s) });
      optAlone.applyGradients({ [aAlone.name]: g });
    }
    // An element-wise optimizer: a's trajectory is the same with or without b.
    expectAllSame(bitsOf([a]), bitsOf([aAlone]), 'a beside b');
    expect(opt.variables).toEqual([a, b]);
    expect(opt.optimizer!.paramGroups[0].params.length).toBe(2);
    const state = opt.optimizer!.state(opt.optimizer!.paramGroups[0].params[1]);
    expect(state.step).toBe(8);
    // Now a step with a gradient for b only: a's values and state stay as they were.
    const aBits = bitsOf([a]);
    const aState = Object.values(opt.optimizer!.state(opt.optimizer!.paramGroups[0].params[0])).filter((v) => v instanceof Float32Array).map((v) => (v as Float32Array).slice());
    const bBefore = bitsOf([b]);
    opt.applyGradients({ [b.name]: gb(9) });
    expectAllSame(bitsOf([a]), aBits, 'a, without a gradient');
    const aStateAfter = Object.values(opt.optimizer!.state(opt.optimizer!.paramGroups[0].params[0])).filter((v) => v instanceof Float32Array) as Float32Array[];
    expectAllSame(aStateAfter.map((v) => v.slice()), aState, 'a\'s state, without a gradient');
    expect(bitsOf([b])[0]).not.toEqual(bBefore[0]);
    opt.dispose();
    optAlone.dispose();
  });

  it('reads a variable changed from outside (model.setWeights) before stepping', async () => {
    await useBackend(backend);
    const { xs, ys, d } = regressionData();
    // SGD keeps no state, so a step from the new weights must equal a first step from them.
    const model = mlp(d);
    model.compile({ optimizer: await tfjsOptimizer(SGD, { lr: 0.1 }), loss: 'meanSquaredError' });
    await model.trainOnBatch(xs, ys);
    const fresh = mlp(d, 9);
    model.setWeights(fresh.getWeights());
    await model.trainOnBatch(xs, ys);
    fresh.compile({ optimizer: await tfjsOptimizer(SGD, { lr: 0.1 }), loss: 'meanSquaredError' });
    await fresh.trainOnBatch(xs, ys);
    expectAllSame(weightsOf(model), weightsOf(fresh), 'a step after model.setWeights');
    tf.dispose([xs, ys]);
    for (const m of [model, fresh]) m.dispose();
  });

  it('numTensors after 1,000 steps is what it was after 10 (minimize, applyGradients, model.fit)', async () => {
    await useBackend(backend);
    const w = tf.variable(tf.tensor(values(20, 3), [4, 5]));
    const x = tf.tensor2d(values(8, 4), [2, 4]);
    const opt = await tfjsOptimizer(Adam, { lr: 1e-3 }, { clipGradNorm: 1, stepIfFinite: true, scheduler: (o) => new OneCycleLR(o, { maxLr: 1e-2, totalSteps: 1000 }) });
    const loss = () => tf.tidy(() => tf.mean(tf.square(tf.matMul(x, w))).asScalar());
    let after10 = 0;
    for (let i = 1; i <= 1000; i++) {
      if (i % 2 === 0) opt.minimize(loss);
      else {
        const { grads, value } = opt.computeGradients(loss);
        opt.applyGradients(grads);
        tf.dispose([grads[w.name], value]);
      }
      if (i === 10) after10 = tf.memory().numTensors;
    }
    expect(tf.memory().numTensors).toBe(after10);
    // model.fit: 100 batches and 1,000 batches leave as many tensors.
    const { xs, ys, d } = regressionData(1000);
    const model = mlp(d, 5, 8);
    model.compile({ optimizer: await tfjsOptimizer(Adam, { lr: 1e-3 }), loss: 'meanSquaredError' });
    await model.fit(xs.slice(0, 100), ys.slice(0, 100), { batchSize: 1, epochs: 1, verbose: 0, shuffle: false });
    const afterFit100 = tf.memory().numTensors;
    await model.fit(xs, ys, { batchSize: 1, epochs: 1, verbose: 0, shuffle: false });
    expect(tf.memory().numTensors).toBe(afterFit100);
    tf.dispose([w, x, xs, ys]);
    model.dispose();
    opt.dispose();
  });

  it('no TF.js tensor shares the arena: growing and overwriting the arena leaves the variables as they were', async () => {
    await useBackend(backend);
    for (const simdoptBackend of ['wasm', 'js'] as const) {
      const { xs, ys, d } = regressionData();
      const model = mlp(d);
      const opt = await tfjsOptimizer(Adam, { lr: 0.01 }, { backend: simdoptBackend });
      model.compile({ optimizer: opt, loss: 'meanSquaredError' });
      for (let i = 0; i < 3; i++) await model.trainOnBatch(xs, ys);
      const store = opt.store!;
      const weights = await opt.getWeights();
      // Every buffer of the arena: the wasm memory, or the js backend's ArrayBuffers.
      const arena = new Set<ArrayBufferLike>(store.memory ? [store.memory.buffer] : []);
      for (const p of store.parameters) { arena.add(p.data.buffer); arena.add(p.grad.buffer); }
      for (const p of store.parameters) for (const v of Object.values(opt.optimizer!.state(p))) if (v instanceof Float32Array) arena.add(v.buffer);
      const held = [...model.trainableWeights.map((w) => w.read()), ...weights.map((w) => w.tensor)];
      // On the cpu backend dataSync() returns the tensor's own array, so this checks where TF.js keeps it.
      for (const t of held) if (t.dtype === 'float32') expect(arena.has((t.dataSync() as Float32Array).buffer)).toBe(false);
      const before = bitsOf(model.trainableWeights.map((w) => w.read()));
      // Grow the arena (a new block; memory.grow on the wasm backend), then overwrite all of it.
      store.parameter('growth', 3_000_000);
      for (const p of store.parameters) { p.data.fill(NaN); p.grad.fill(NaN); }
      expectAllSame(bitsOf(model.trainableWeights.map((w) => w.read())), before, `${simdoptBackend}: variables after the arena changed`);
      expect(Number.isFinite((await model.evaluate(xs, ys) as tf.Scalar).dataSync()[0])).toBe(true);
      opt.dispose();
      model.dispose();
      tf.dispose([xs, ys]);
    }
  });

  it('every registry optimizer trains a model through model.fit and round-trips its state', async () => {
    await useBackend(backend);
    const { xs, ys, d } = regressionData();
    // L-BFGS (closure) evaluates its own gradients, which TF.js cannot give it: refused (below).
    for (const entry of OPTIMIZERS.filter((e) => !e.closure)) {
      const model = mlp(d, 5, 8);
      const opt = await tfjsOptimizer(entry.key);
      model.compile({ optimizer: opt, loss: 'meanSquaredError' });
      const h = await model.fit(xs, ys, { epochs: 10, batchSize: 16, verbose: 0, shuffle: false });
      const losses = h.history.loss as number[];
      expect(losses.every(Number.isFinite), entry.key).toBe(true);
      expect(losses[9], entry.key).toBeLessThan(losses[0]);
      // getWeights -> setWeights into a fresh adapter: the same state, bit for bit.
      const copy = await tfjsOptimizer(entry.key);
      await copy.setWeights(await opt.getWeights());
      const other = mlp(d, 5, 8);
      other.setWeights(model.getWeights());
      other.compile({ optimizer: copy, loss: 'meanSquaredError' });
      await model.trainOnBatch(xs, ys);
      await other.trainOnBatch(xs, ys);
      expectAllSame(weightsOf(other), weightsOf(model), entry.key);
      for (const m of [model, other]) m.dispose();
      opt.dispose();
      copy.dispose();
    }
    tf.dispose([xs, ys]);
  });
});

describe('simdopt/tfjs: exact resume', () => {
  const K = 6;
  const schedule: SchedulerFactory = (o) => new OneCycleLR(o, { maxLr: 0.05, totalSteps: 2 * K });
  const adapterOptions: TfjsOptimizerOptions = { scheduler: schedule, clipGradNorm: 1 };
  const make = () => tfjsOptimizer(AdamW, { lr: 0.01, amsgrad: true }, adapterOptions);

  async function train(model: tf.LayersModel, steps: number): Promise<void> {
    const { xs, ys } = regressionData();
    for (let i = 0; i < steps; i++) await model.trainOnBatch(xs, ys);
    tf.dispose([xs, ys]);
  }

  async function uninterrupted(d: number): Promise<Float32Array[]> {
    const model = mlp(d);
    model.compile({ optimizer: await make(), loss: 'meanSquaredError' });
    await train(model, 2 * K);
    const w = weightsOf(model);
    model.dispose();
    return w;
  }

  it.each(TF_BACKENDS)('getWeights/setWeights, model.save + tf.loadLayersModel and checkpoints resume with the same bits (TF.js %s)', async (backend) => {
    await useBackend(backend);
    const d = regressionData().d;
    const expected = await uninterrupted(d);

    // K steps, then save every way.
    const model = mlp(d);
    const opt = await make();
    model.compile({ optimizer: opt, loss: 'meanSquaredError' });
    await train(model, K);
    const modelWeights = model.getWeights().map((w) => w.clone());
    const optWeights = (await opt.getWeights()).map((w) => ({ name: w.name, tensor: w.tensor.clone() }));
    const checkpoint = opt.saveCheckpoint();
    let artifacts: tf.io.ModelArtifacts | undefined;
    await model.save(tf.io.withSaveHandler(async (a) => { artifacts = a; return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } }; }), { includeOptimizer: true });

    // 1. setWeights into a fresh optimizer before its first step, of a model built again.
    const m1 = mlp(d, 77);
    m1.setWeights(modelWeights);
    const o1 = await make();
    await o1.setWeights(optWeights);
    m1.compile({ optimizer: o1, loss: 'meanSquaredError' });
    await train(m1, K);
    expectAllSame(weightsOf(m1), expected, 'getWeights/setWeights');

    // 2. setWeights into an optimizer that has state: rewind the first model three steps later.
    await train(model, 3);
    model.setWeights(modelWeights);
    await opt.setWeights(optWeights);
    await train(model, K);
    expectAllSame(weightsOf(model), expected, 'setWeights over existing state');

    // 3. model.save({ includeOptimizer }) and tf.loadLayersModel: the optimizer comes back
    //    through fromConfig; the scheduler, a function, is attached again.
    const m3 = await tf.loadLayersModel(tf.io.fromMemory(artifacts!));
    expect(m3.optimizer).toBeInstanceOf(SimdoptOptimizer);
    const o3 = m3.optimizer as SimdoptOptimizer;
    o3.setScheduler(schedule);
    expect(o3.iterations).toBe(K);
    await train(m3, K);
    expectAllSame(weightsOf(m3), expected, 'model.save / loadLayersModel');
    expect(o3.getConfig()).toEqual(opt.getConfig());

    // 4. A simdopt checkpoint, loaded into a fresh optimizer with a model built again (other weights).
    const m4 = mlp(d, 78);
    const o4 = await make();
    await o4.loadCheckpoint(checkpoint, m4.trainableWeights);
    expect(weightsOf(m4)).toEqual(modelWeights.map((w) => w.dataSync()));
    m4.compile({ optimizer: o4, loss: 'meanSquaredError' });
    await train(m4, K);
    expectAllSame(weightsOf(m4), expected, 'checkpoint');

    tf.dispose([...modelWeights, ...optWeights.map((w) => w.tensor)]);
    for (const m of [model, m1, m3, m4]) m.dispose();
    for (const o of [opt, o1, o3, o4]) o.dispose();
  });
});

describe('simdopt/tfjs: losses over 100 steps track TF.js\'s own optimizers', () => {
  // Matched hyperparameters (TF.js positional arguments ↔ simdopt options). Where the
  // defaults differ they are set explicitly: TF.js's Adam/Adamax/RMSprop eps is the backend's
  // epsilon (1e-7), PyTorch's 1e-8; TF.js's RMSprop decay is 0.9, PyTorch's alpha 0.99;
  // TF.js's Adagrad starts its accumulator at 0.1 (PyTorch 0) and adds 1e-7 under the square
  // root where PyTorch adds eps = 1e-10 after it. TF.js's RMSprop also puts eps under the
  // square root (sqrt(ms + eps), PyTorch sqrt(ms) + eps): with a negligible eps (1e-30) the
  // two are the same update, with 1e-8 they are not (a gradient of 1e-5 steps 30× less).
  const CASES: [string, () => tf.Optimizer, () => Promise<SimdoptOptimizer>][] = [
    ['sgd', () => tf.train.sgd(0.05), () => tfjsOptimizer(SGD, { lr: 0.05 })],
    ['momentum', () => tf.train.momentum(0.02, 0.9), () => tfjsOptimizer(SGD, { lr: 0.02, momentum: 0.9 })],
    ['nesterov', () => tf.train.momentum(0.02, 0.9, true), () => tfjsOptimizer(SGD, { lr: 0.02, momentum: 0.9, nesterov: true })],
    ['adam', () => tf.train.adam(0.01, 0.9, 0.999, 1e-8), () => tfjsOptimizer(Adam, { lr: 0.01, betas: [0.9, 0.999], eps: 1e-8 })],
    ['adamax', () => tf.train.adamax(0.01, 0.9, 0.999, 1e-8, 0), () => tfjsOptimizer(Adamax, { lr: 0.01, betas: [0.9, 0.999], eps: 1e-8 })],
    ['rmsprop', () => tf.train.rmsprop(0.005, 0.9, 0, 1e-30), () => tfjsOptimizer(RMSprop, { lr: 0.005, alpha: 0.9, eps: 1e-30 })],
    ['rmsprop momentum', () => tf.train.rmsprop(0.001, 0.9, 0.5, 1e-30), () => tfjsOptimizer(RMSprop, { lr: 0.001, alpha: 0.9, momentum: 0.5, eps: 1e-30 })],
    ['adagrad', () => tf.train.adagrad(0.05, 0.1), () => tfjsOptimizer(Adagrad, { lr: 0.05, initialAccumulatorValue: 0.1 })],
  ];
  // SGD and momentum do the same float32 operations as TF.js: equal losses. The adaptive ones
  // round in another order (and Adagrad's eps sits elsewhere): within 1e-4, relative, at
  // every step. The targets are noisy, so 100 steps stay away from the regime where the model
  // nearly interpolates the data: there the loss is so flat and small that any difference in
  // rounding, even between two orderings of TF.js's own ops, grows step by step (measured:
  // without noise Adam's losses drift apart by 10% in the last steps, at 1e-4 of the first loss).
  const EXACT = new Set(['sgd', 'momentum', 'nesterov']);

  async function losses(make: () => tf.Optimizer | Promise<tf.Optimizer>): Promise<number[]> {
    const { xs, ys, d } = regressionData(64, 8, 0.3);
    const model = mlp(d, 5, 16);
    model.compile({ optimizer: await make(), loss: 'meanSquaredError' });
    const out: number[] = [];
    for (let i = 0; i < 100; i++) out.push(await model.trainOnBatch(xs, ys) as number);
    model.optimizer.dispose();
    model.dispose();
    tf.dispose([xs, ys]);
    return out;
  }

  it.each(TF_BACKENDS)('TF.js %s', async (backend) => {
    await useBackend(backend);
    const report: string[] = [];
    for (const [name, theirs, ours] of CASES) {
      const a = await losses(theirs), b = await losses(ours);
      const rel = Math.max(...a.map((x, i) => Math.abs(x - b[i]) / Math.abs(x)));
      report.push(`${name} ${rel.toExponential(1)}`);
      expect(b[99], name).toBeLessThan(b[0] / 2);
      if (EXACT.has(name)) expect(b, name).toEqual(a);
      else expect(rel, `${name}: largest relative difference of the losses`).toBeLessThan(1e-4);
    }
    console.log(`loss tracking on TF.js ${backend} (largest relative difference over 100 steps): ${report.join(', ')}`);
  });

  it('Adadelta differs by design: TF.js divides by the root of the accumulator before this step\'s gradient', async () => {
    // Hand-derived first step, p = 1, g = 0.5, lr = 1, rho = 0.9, eps = 1e-6:
    //   TF.js:   update = sqrt(0 + eps) / sqrt(0 + eps) * g = g  ->  p = 0.5
    //   PyTorch: v = 0.1 * g^2 = 0.025; update = sqrt(eps) / sqrt(v + eps) * g = 0.0031622..  ->  p = 0.996838
    await useBackend('cpu');
    const theirs = tf.variable(tf.scalar(1)), ours = tf.variable(tf.scalar(1));
    const g = tf.scalar(0.5);
    const t = tf.train.adadelta(1, 0.9, 1e-6);
    t.applyGradients([{ name: theirs.name, tensor: g }]);
    const o = await tfjsOptimizer(Adadelta, { lr: 1, rho: 0.9, eps: 1e-6 });
    o.applyGradients({ [ours.name]: g });
    expect(theirs.dataSync()[0]).toBe(0.5);
    expect(ours.dataSync()[0]).toBeCloseTo(1 - Math.sqrt(1e-6) / Math.sqrt(0.025 + 1e-6) * 0.5, 6);
    tf.dispose([theirs, ours, g]);
    t.dispose();
    o.dispose();
  });
});

describe('simdopt/tfjs: serialisation, options and errors', () => {
  it('is a tf.Optimizer registered for serialisation, the same class for @tensorflow/tfjs and tfjs-core users', async () => {
    const core = await import('@tensorflow/tfjs-core');
    const opt = await tfjsOptimizer('nag', { lr: 0.1 }, { clipGradNorm: { maxNorm: 2, normType: Infinity }, stepIfFinite: true, backend: 'js' });
    expect(opt).toBeInstanceOf(tf.Optimizer);
    expect(opt).toBeInstanceOf(core.Optimizer);
    expect(Object.getPrototypeOf(SimdoptOptimizer.prototype)).toBe(core.train.sgd(1).constructor.prototype.__proto__);
    expect(tf.serialization.SerializationMap.getMap().classNameMap.SimdoptOptimizer?.[0]).toBe(SimdoptOptimizer);
    expect(core.serialization.SerializationMap.getMap()).toBe(tf.serialization.SerializationMap.getMap());
    const config = opt.getConfig();
    expect(config).toEqual({ optimizer: 'sgd', options: { lr: 0.1, momentum: 0.9, nesterov: true }, clipGradNorm: { maxNorm: 2, normType: 'inf' }, stepIfFinite: true, backend: 'js' });
    // Through JSON, as model.json carries it.
    const back = await (SimdoptOptimizer.fromConfig(SimdoptOptimizer, JSON.parse(JSON.stringify(config))) as SimdoptOptimizer).ready();
    expect(back.getConfig()).toEqual(config);
    opt.dispose();
    back.dispose();
  });

  it('stepIfFinite: a non-finite gradient changes nothing (variables, state, scheduler, iterations)', async () => {
    await useBackend('cpu');
    const w = tf.variable(tf.tensor(values(4, 8)));
    const opt = await tfjsOptimizer(Adam, { lr: 0.1 }, { stepIfFinite: true, scheduler: (o) => new StepLR(o, { stepSize: 1, gamma: 0.5 }) });
    opt.applyGradients({ [w.name]: tf.tensor([1, 2, 3, 4]) });
    const before = bitsOf([w]);
    const state = (await opt.getWeights()).slice(2).map((x) => (x.tensor.dataSync() as Float32Array).slice());
    opt.applyGradients({ [w.name]: tf.tensor([1, NaN, 3, 4]) });
    expectAllSame(bitsOf([w]), before, 'variable');
    expectAllSame((await opt.getWeights()).slice(2).map((x) => x.tensor.dataSync() as Float32Array), state, 'state');
    expect(opt.skippedSteps).toBe(1);
    expect(opt.iterations).toBe(1);
    expect(opt.optimizer!.paramGroups[0].lr).toBe(0.05);
    opt.dispose();
  });

  it('refuses bad input with a clear message and changes nothing', async () => {
    await useBackend('cpu');
    expect(() => new SimdoptOptimizer(Adam, {}, { clipGradNrm: 1 } as never)).toThrow(/unknown option "clipGradNrm"/);
    expect(() => new SimdoptOptimizer(Adam, {}, { threads: 0 })).toThrow(/threads/);
    expect(() => new SimdoptOptimizer('adamm')).toThrow(/unknown optimizer "adamm"/);
    await expect(tfjsOptimizer(Adam, { lr: -1 })).rejects.toThrow(/lr/);
    // TF.js hands the optimizer gradients: L-BFGS, whose step evaluates a closure, cannot run.
    await expect(tfjsOptimizer('lbfgs')).rejects.toThrow(/SimdoptOptimizer: LBFGS cannot be used here: its step\(closure\) re-evaluates the loss/);
    await expect(tfjsOptimizer(Adam, { lr: 1e-3 }, { scheduler: (o: AnyOptimizer) => new OneCycleLR(o, { maxLr: 1 } as never) })).rejects.toThrow(/OneCycleLR/);
    const early = new SimdoptOptimizer(Adam);
    const v = tf.variable(tf.tensor([[1, 2, 3], [4, 5, 6]]));
    expect(() => early.applyGradients({ [v.name]: tf.zerosLike(v) })).toThrow(/not ready yet/);
    await early.ready();

    const opt = await tfjsOptimizer(Adam, { lr: 0.1 });
    const w = tf.variable(tf.tensor([1, 2, 3]));
    opt.applyGradients({ [w.name]: tf.tensor([1, 1, 1]) });
    const wBits = bitsOf([w, v]);
    const snapshot = async () => (await opt.getWeights()).slice(2).map((x) => (x.tensor.dataSync() as Float32Array).slice());
    const state = await snapshot();
    const unchanged = async () => {
      expectAllSame(bitsOf([w, v]), wBits, 'variables');
      expectAllSame(await snapshot(), state, 'state');
      expect(opt.iterations).toBe(1);
    };
    expect(() => opt.applyGradients({ [w.name]: tf.tensor([1, 1, 1]), [v.name]: tf.tensor([[1, 2], [3, 4], [5, 6]]) })).toThrow(/gradient of ".*" has shape \[3, 2\], the variable \[2, 3\]; nothing was changed/);
    expect(() => opt.applyGradients({ [w.name]: tf.tensor([1, 1, 1], [3], 'int32') })).toThrow(/dtype int32, not float32/);
    const n = tf.variable(tf.tensor([1, 2], [2], 'int32'));
    expect(() => opt.applyGradients({ [w.name]: tf.tensor([1, 1, 1]), [n.name]: tf.tensor([1, 1], [2], 'int32') })).toThrow(/has dtype int32; simdopt optimizers update float32 variables only/);
    expect(() => opt.applyGradients({ noSuchVariable: tf.tensor([1]) })).toThrow(/no variable named "noSuchVariable"/);
    expect(() => opt.applyGradients([{ name: w.name, tensor: tf.tensor([1, 1, 1]) }, { name: w.name, tensor: tf.tensor([1, 1, 1]) }])).toThrow(/two gradients/);
    // TF.js's own Adam's weights are not this optimizer's.
    const theirs = tf.train.adam(0.1);
    theirs.applyGradients([{ name: w.name, tensor: tf.tensor([1, 1, 1]) }]);
    w.assign(tf.tensor(wBits[0]));
    await expect(opt.setWeights(await theirs.getWeights())).rejects.toThrow(/not a SimdoptOptimizer's weights.*nothing was changed/);
    // Weights of another optimizer class, or of other shapes.
    const nadam = await tfjsOptimizer(NAdam);
    const u = tf.variable(tf.tensor([1, 2, 3]));
    nadam.applyGradients({ [u.name]: tf.tensor([1, 1, 1]) });
    await expect(opt.setWeights(await nadam.getWeights())).rejects.toThrow(/NAdam/);
    const wide = await tfjsOptimizer(Adam);
    const x = tf.variable(tf.tensor([1, 2, 3, 4]));
    wide.applyGradients({ [x.name]: tf.tensor([1, 1, 1, 1]) });
    await expect(opt.setWeights(await wide.getWeights())).rejects.toThrow(/shapes \[4\].*\[3\]; nothing was changed/);
    await unchanged();
    // Before the first step, state for other shapes waits, then refuses at the first step, changing nothing.
    const later = await tfjsOptimizer(Adam);
    await later.setWeights(await wide.getWeights());
    expect(() => later.applyGradients({ [w.name]: tf.tensor([1, 1, 1]) })).toThrow(/shapes \[4\], but the first step has \[3\]; nothing was changed/);
    await expect(later.loadCheckpoint(opt.saveCheckpoint())).rejects.toThrow(/pass them/);
    await unchanged();
    // A disposed optimizer says so.
    opt.dispose();
    expect(() => opt.applyGradients({ [w.name]: tf.tensor([1, 1, 1]) })).toThrow(/disposed/);
    expect(() => opt.saveCheckpoint()).toThrow(/disposed/);
    for (const o of [theirs, nadam, wide, later, early]) o.dispose();
  });
});
