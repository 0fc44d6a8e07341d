// Quick start: fit an ill-conditioned linear least-squares problem with SGD, momentum, NAG,
// Adam and AdamW on both backends, print the loss reached and the steps each needed, and
// check that the wasm and js backends produced the same bits. Runs in plain Node:
//   npm start            (builds, then: node examples/quickstart.mjs)
import { Adam, AdamW, ParameterStore, SGD } from 'simdopt';

const N = 512, D = 32, STEPS = 300, TARGET = 0.05;

// Deterministic data: integer PRNG, features with scales from 0.1 to 3 (ill-conditioned).
let seed = 12345;
const rand = () => ((seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0) / 4294967296) * 2 - 1;
const X = Float64Array.from({ length: N * D }, (_, i) => rand() * (0.1 + (2.9 * (i % D)) / (D - 1)));
const wTrue = Float64Array.from({ length: D }, () => rand());
const y = Float64Array.from({ length: N }, (_, r) => {
  let s = 0.3;
  for (let j = 0; j < D; j++) s += X[r * D + j] * wTrue[j];
  return s + 0.01 * rand();
});

/** Mean squared error and its gradient w.r.t. w (length D) and b (length 1). */
function lossAndGrad(w, b, gw, gb) {
  gw.fill(0);
  let loss = 0, db = 0;
  for (let r = 0; r < N; r++) {
    let pred = b[0];
    for (let j = 0; j < D; j++) pred += X[r * D + j] * w[j];
    const e = pred - y[r];
    loss += e * e;
    for (let j = 0; j < D; j++) gw[j] += (2 / N) * e * X[r * D + j];
    db += (2 / N) * e;
  }
  gb[0] = db;
  return loss / N;
}

const recipes = [
  ['SGD', (p) => new SGD(p, { lr: 0.05 })],
  ['SGD momentum', (p) => new SGD(p, { lr: 0.02, momentum: 0.9 })],
  ['SGD Nesterov (NAG)', (p) => new SGD(p, { lr: 0.02, momentum: 0.9, nesterov: true })],
  ['Adam', (p) => new Adam(p, { lr: 0.05 })],
  ['AdamW', (p) => new AdamW(p, { lr: 0.05, weightDecay: 1e-3 })],
];

async function train(backend, make) {
  const store = await ParameterStore.create({ backend });
  const w = store.parameter('w', D);
  const b = store.parameter('b', 1);
  const opt = make([w, b]);
  let loss = Infinity, reached = null;
  const t0 = performance.now();
  for (let step = 0; step < STEPS; step++) {
    loss = lossAndGrad(w.data, b.data, w.grad, b.grad);
    if (reached === null && loss < TARGET) reached = step;
    opt.step();
  }
  loss = lossAndGrad(w.data, b.data, w.grad, b.grad);
  return { loss, reached, ms: performance.now() - t0, bits: Array.from(new Uint32Array(w.data.slice().buffer)).join(), backend: store.backend };
}

console.log(`Linear least squares, ${N} samples × ${D} features, ${STEPS} steps; target loss ${TARGET}\n`);
console.log('| optimizer | final loss | steps to target | wasm ≡ js |');
console.log('|---|---:|---:|:---:|');
let allSame = true;
for (const [name, make] of recipes) {
  const a = await train('wasm', make);
  const j = await train('js', make);
  const same = a.bits === j.bits;
  allSame &&= same;
  console.log(`| ${name} | ${a.loss.toExponential(3)} | ${a.reached ?? `> ${STEPS}`} | ${same ? 'yes' : 'NO'} |`);
}
console.log(`\nbackends: ${(await ParameterStore.create()).backend} (auto) and js; identical results: ${allSame ? 'yes' : 'NO'}`);
if (!allSame) process.exit(1);
