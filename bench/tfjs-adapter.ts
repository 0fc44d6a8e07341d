// simdopt/tfjs against TF.js's own Adam, side by side in one run (npm run bench:tfjs): a
// tfjs-layers MLP of about 1M and 4M parameters on tfjs-backend-cpu and tfjs-backend-wasm;
// per step, the optimizer phase (applyGradients with the same gradients: for the adapter the
// copies in and out included) and the whole training step (model.trainOnBatch); where the
// adapter's time goes (the copies each way against the alternatives, and the simdopt step);
// and stepArrays' copies against the step itself. Every configuration is checked before it
// is timed: one step of each optimizer from the same weights must agree within 1e-3 of the
// update. Medians (tinybench p50). Writes bench/results/tfjs.json.
//
//   npm run bench:tfjs
//   npm run bench:tfjs -- --sizes 1m --backends wasm --iterations 5
import { mkdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import { dirname } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { Bench } from 'tinybench';
import { Adam, ParameterStore, stepArrays } from '../dist/index.js';
import { tfjsOptimizer } from '../dist/tfjs/index.js';
import { readTensor, writeVariable } from '../dist/tfjs/transfer.js';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1] : fallback;
}

/** The two MLPs: units per layer (input first). */
const MODELS: Record<string, number[]> = {
  '1m': [784, 1024, 256, 10], // 1,068,810 parameters
  '4m': [1024, 2048, 1024, 10], // 4,207,626 parameters
};
const sizes = arg('sizes', '1m,4m').split(',');
const backends = arg('backends', 'cpu,wasm').split(',');
const iterations = Number(arg('iterations', '10'));
const BATCH = 64;
const HYPER = { lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8 };

setWasmPaths(`${dirname(createRequire(import.meta.url).resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm'))}/`);
tf.env().set('PROD', true);
const progress = (s: string) => process.stderr.write(`\r\x1b[K${s}`);
const gc = (globalThis as { gc?: () => void }).gc ?? (() => undefined);

async function medians(tasks: Record<string, () => unknown>, n = iterations): Promise<Record<string, number>> {
  const bench = new Bench({ time: 0, iterations: n, warmupIterations: 2, warmupTime: 0, setup: () => gc() });
  for (const [name, fn] of Object.entries(tasks)) bench.add(name, fn as () => Promise<void>);
  await bench.run();
  return Object.fromEntries(bench.tasks.map((t) => {
    const r = t.result as { latency?: { p50: number }; error?: unknown };
    if (!r.latency) throw new Error(`${t.name} failed: ${String(r.error)}`);
    return [t.name, r.latency.p50];
  }));
}

/** Deterministic values in [-scale, scale). */
function lcg(n: number, seed: number, scale = 1): Float32Array {
  let s = seed >>> 0;
  return Float32Array.from({ length: n }, () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 4294967296 * 2 - 1) * scale);
}

function mlp(units: number[], seed: number): tf.Sequential {
  const layers = units.slice(1).map((u, i) => tf.layers.dense({
    units: u, activation: i === units.length - 2 ? 'softmax' : 'relu', ...(i === 0 ? { inputShape: [units[0]] } : {}),
    kernelInitializer: 'zeros',
  }));
  const model = tf.sequential({ layers });
  tf.tidy(() => model.setWeights(model.getWeights().map((w, i) => tf.tensor(lcg(w.size, seed + i, Math.sqrt(6 / (w.shape[0] + (w.shape[1] ?? 0)))), w.shape))));
  return model;
}

/** Largest |a - b| against the largest update |b - before|: must be within 1e-3 of it. */
function checkClose(label: string, a: Float32Array[], b: Float32Array[], before: Float32Array[]): void {
  let diff = 0, update = 0;
  a.forEach((x, k) => { for (let i = 0; i < x.length; i++) { diff = Math.max(diff, Math.abs(x[i] - b[k][i])); update = Math.max(update, Math.abs(b[k][i] - before[k][i])); } });
  if (!(diff <= 1e-3 * update + 1e-9) || update === 0) throw new Error(`${label}: the adapter's step differs from tf.train.adam's by ${diff} (update ${update})`);
}

const read = (vs: readonly tf.Tensor[]) => vs.map((v) => (v.dataSync() as Float32Array).slice());

interface Row {
  backend: string; model: string; params: number;
  phaseTfAdamMs: number; phaseSimdoptMs: number; phaseRatio: number;
  stepTfAdamMs: number; stepSimdoptMs: number; stepRatio: number;
  /** The alternatives, where they differ from the adapter's copies (tfjs-backend-wasm). */
  gradsInMs: number; gradsInDataSyncMs?: number; kernelMs: number; paramsOutMs: number; paramsOutSliceMs?: number;
}
const rows: Row[] = [];

for (const backend of backends) {
  await tf.setBackend(backend);
  await tf.ready();
  for (const size of sizes) {
    const units = MODELS[size];
    const label = `${backend} ${size}`;
    progress(`${label}: building…`);
    const theirsModel = mlp(units, 1), oursModel = mlp(units, 1);
    const params = theirsModel.countParams();
    const x = tf.tensor2d(lcg(BATCH * units[0], 7), [BATCH, units[0]]);
    const y = tf.oneHot(tf.tensor1d(Array.from({ length: BATCH }, (_, i) => i % 10), 'int32'), 10).toFloat();
    const theirs = tf.train.adam(HYPER.lr, HYPER.beta1, HYPER.beta2, HYPER.eps);
    const ours = await tfjsOptimizer(Adam, { lr: HYPER.lr, betas: [HYPER.beta1, HYPER.beta2], eps: HYPER.eps });
    theirsModel.compile({ optimizer: theirs, loss: 'categoricalCrossentropy' });
    oursModel.compile({ optimizer: ours, loss: 'categoricalCrossentropy' });
    const theirsVars = theirsModel.trainableWeights.map((w) => w.read() as tf.Variable);
    const oursVars = oursModel.trainableWeights.map((w) => w.read() as tf.Variable);
    // One set of gradients, as model.fit computes them, for the optimizer phase.
    const { grads, value } = tf.variableGrads(() => tf.tidy(() => tf.losses.softmaxCrossEntropy(y, theirsModel.apply(x) as tf.Tensor) as tf.Scalar), theirsVars);
    value.dispose();
    const gradList = theirsVars.map((v) => grads[v.name]);
    const named = (vars: tf.Variable[]) => vars.map((v, i) => ({ name: v.name, tensor: gradList[i] }));

    // Check: one training step, then one optimizer step, each from the same weights.
    progress(`${label}: checking…`);
    const w0 = read(theirsVars);
    await theirsModel.trainOnBatch(x, y);
    await oursModel.trainOnBatch(x, y);
    checkClose(`${label} training step`, read(oursVars), read(theirsVars), w0);
    oursModel.setWeights(theirsModel.getWeights()); // the adapter reads weights changed from outside
    const w1 = read(theirsVars);
    theirs.applyGradients(named(theirsVars));
    ours.applyGradients(named(oursVars));
    checkClose(`${label} optimizer step`, read(oursVars), read(theirsVars), w1);

    progress(`${label}: timing the optimizer phase…`);
    const phase = await medians({
      tfAdam: () => theirs.applyGradients(named(theirsVars)),
      simdopt: () => ours.applyGradients(named(oursVars)),
    });
    progress(`${label}: timing the training step…`);
    const step = await medians({
      tfAdam: () => theirsModel.trainOnBatch(x, y),
      simdopt: () => oursModel.trainOnBatch(x, y),
    }, Math.max(3, Math.round(iterations / 2)));

    // Where the adapter's time goes: its copy functions over a store of the same shapes, and
    // the alternatives they replace.
    progress(`${label}: timing the copies…`);
    const store = await ParameterStore.create();
    const ps = oursVars.map((v, i) => store.parameter(`p${i}`, { shape: v.shape, values: v.dataSync() }));
    const opt = new Adam(ps, { lr: HYPER.lr });
    const spare = oursVars.map((v) => tf.variable(v.clone()));
    // On tfjs-backend-wasm the adapter reads from the backend's heap and hands it the arena to
    // copy; elsewhere its copies are these very alternatives, so they are not timed twice.
    const heap = typeof (tf.backend() as unknown as { typedArrayFromHeap?: unknown }).typedArrayFromHeap === 'function';
    const parts: Record<string, number> = await medians({
      gradsIn: () => gradList.forEach((g, i) => readTensor(g, ps[i].grad)),
      kernel: () => opt.step(),
      paramsOut: () => spare.forEach((v, i) => writeVariable(v, ps[i].data)),
      ...(heap ? {
        gradsInDataSync: () => gradList.forEach((g, i) => ps[i].grad.set(g.dataSync() as Float32Array)),
        paramsOutSlice: () => spare.forEach((v, i) => { const t = tf.tensor(ps[i].data.slice(), v.shape, 'float32'); v.assign(t); t.dispose(); }),
      } : {}),
    });
    rows.push({
      backend, model: size, params,
      phaseTfAdamMs: phase.tfAdam, phaseSimdoptMs: phase.simdopt, phaseRatio: phase.tfAdam / phase.simdopt,
      stepTfAdamMs: step.tfAdam, stepSimdoptMs: step.simdopt, stepRatio: step.tfAdam / step.simdopt,
      gradsInMs: parts.gradsIn, gradsInDataSyncMs: parts.gradsInDataSync, kernelMs: parts.kernel, paramsOutMs: parts.paramsOut, paramsOutSliceMs: parts.paramsOutSlice,
    });
    store.dispose();
    tf.dispose([x, y, ...gradList, ...spare]);
    theirsModel.dispose();
    oursModel.dispose();
    theirs.dispose();
    ours.dispose();
  }
}

// stepArrays (another tensor library's Float32Arrays in and out) against the step alone.
const helper: { params: number; stepMs: number; stepArraysMs: number; copiesMs: number; copiesOverStep: number }[] = [];
for (const size of sizes) {
  const units = MODELS[size];
  const shapes = units.slice(1).flatMap((u, i) => [[units[i], u], [u]]);
  const store = await ParameterStore.create();
  const ps = shapes.map((s, i) => store.parameter(`p${i}`, { shape: s, values: lcg(s[0] * (s[1] ?? 1), i, 0.05) }));
  const opt = new Adam(ps, { lr: HYPER.lr });
  const grads = ps.map((p, i) => lcg(p.size, 100 + i, 0.01));
  const out = ps.map((p) => new Float32Array(p.size));
  // Check: stepArrays equals copying by hand and stepping.
  const ref = await ParameterStore.create();
  const rs = shapes.map((s, i) => ref.parameter(`p${i}`, { shape: s, values: ps[i].data }));
  const refOpt = new Adam(rs, { lr: HYPER.lr });
  stepArrays(opt, grads, out);
  rs.forEach((p, i) => p.grad.set(grads[i]));
  refOpt.step();
  rs.forEach((p, i) => { if (out[i].some((v, j) => !Object.is(v, p.data[j]))) throw new Error('stepArrays differs from a step by hand'); });
  ref.dispose();
  progress(`stepArrays ${size}: timing…`);
  const t = await medians({ step: () => opt.step(), stepArrays: () => stepArrays(opt, grads, out) }, 30);
  const params = ps.reduce((n, p) => n + p.size, 0);
  helper.push({ params, stepMs: t.step, stepArraysMs: t.stepArrays, copiesMs: t.stepArrays - t.step, copiesOverStep: (t.stepArrays - t.step) / t.step });
  store.dispose();
}
progress('');

const ms = (v: number) => (v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2));
const x = (v: number) => `${v.toFixed(1)}×`;
const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
console.log(`\nNode ${process.version} (V8 ${process.versions.v8}), ${os.cpus().length} cores (${cpu}), TF.js ${tf.version.tfjs}, batch ${BATCH}, Adam lr ${HYPER.lr}, eps ${HYPER.eps}; medians of ${iterations} (training step: ${Math.max(3, Math.round(iterations / 2))})\n`);
console.log('| TF.js backend | parameters | optimizer phase: tf.train.adam | simdopt/tfjs Adam | speed-up | training step: tf.train.adam | simdopt/tfjs Adam | speed-up |');
console.log('|---|---:|---:|---:|---:|---:|---:|---:|');
for (const r of rows) {
  console.log(`| ${r.backend} | ${r.params.toLocaleString('en-US')} | ${ms(r.phaseTfAdamMs)} ms | ${ms(r.phaseSimdoptMs)} ms | **${x(r.phaseRatio)}** | ${ms(r.stepTfAdamMs)} ms | ${ms(r.stepSimdoptMs)} ms | ${x(r.stepRatio)} |`);
}
console.log('\nThe adapter\'s phase, part by part (ms), beside the copies it does not use (\'same\': the adapter\'s copy is that one):\n');
console.log('| TF.js backend | parameters | gradients in | (dataSync + set) | simdopt Adam step | parameters out | (slice + tensor + assign) |');
console.log('|---|---:|---:|---:|---:|---:|---:|');
const alt = (v: number | undefined) => (v === undefined ? 'same' : ms(v));
for (const r of rows) {
  console.log(`| ${r.backend} | ${r.params.toLocaleString('en-US')} | ${ms(r.gradsInMs)} | ${alt(r.gradsInDataSyncMs)} | ${ms(r.kernelMs)} | ${ms(r.paramsOutMs)} | ${alt(r.paramsOutSliceMs)} |`);
}
console.log('\nstepArrays (Float32Array gradients in, parameters out) against the Adam step alone:\n');
console.log('| parameters | Adam step | stepArrays | copies | copies ÷ step |');
console.log('|---:|---:|---:|---:|---:|');
for (const h of helper) console.log(`| ${h.params.toLocaleString('en-US')} | ${ms(h.stepMs)} ms | ${ms(h.stepArraysMs)} ms | ${ms(h.copiesMs)} ms | ${x(h.copiesOverStep)} |`);

mkdirSync('bench/results', { recursive: true });
writeFileSync('bench/results/tfjs.json', JSON.stringify({
  date: new Date().toISOString(), node: process.version, v8: process.versions.v8, cpus: os.cpus().length, cpu, tfjs: tf.version.tfjs,
  batch: BATCH, hyper: HYPER, iterations, rows, helper,
}, null, 2) + '\n');
