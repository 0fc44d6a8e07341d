// Training quality with low-precision optimizer state: trains the main job's model with each
// state dtype (float32, bfloat16, bfloat16 with stochastic rounding, int8), three seeds each
// (initialisation and data), and reports the final loss and accuracy against float32's.
//
//   npx tsx scripts/dtype-quality.ts [--optimizers adam,adamw,momentum,lion] [--steps 1000] [--seeds 3] [--backend wasm]
//
// The task is TASK below: the demo's spirals today. Another task is one object with the same
// fields (a model, its data, the lr), so switching this comparison to it is a one-line change.
import { MLP } from '../src/demo/mlp.js';
import { DEMO_LAYERS, DEMO_SAMPLES, ONECYCLE_PEAK, demoBaseLr } from '../src/demo/run.js';
import { spirals, type Dataset } from '../src/demo/spirals.js';
import { OneCycleLR, ParameterStore, createOptimizer, optimizerEntry, type BackendName, type OptimizerEntry, type Parameter } from '../src/index.js';

/** A training task: data for a seed, and a model over a store that computes its loss and gradient. */
interface Task {
  readonly name: string;
  /** Training and held-out data for seed `seed`. */
  data(seed: number): { train: Dataset; test: Dataset };
  /** The model, initialised from `seed`. */
  model(store: ParameterStore, seed: number): { readonly parameters: Parameter[]; lossAndGrad(d: Dataset): { loss: number; accuracy: number } };
  /** The base lr of an optimizer on this task (the demo's sweep, on float32 state). */
  lr(entry: OptimizerEntry, backend: BackendName): Promise<number>;
}

/** The main job's task: the 2-32-32-2 tanh MLP on two spirals (src/demo/), 200 points, full batch. */
const spiralsTask: Task = {
  name: `spirals (${DEMO_SAMPLES} points, MLP ${DEMO_LAYERS.join('-')}, full batch)`,
  data: (seed) => ({ train: spirals(DEMO_SAMPLES, 0.04, 7 + seed), test: spirals(DEMO_SAMPLES, 0.04, 1007 + seed) }),
  model: (store, seed) => new MLP(store, DEMO_LAYERS, seed),
  lr: (entry, backend) => demoBaseLr(entry, backend),
};

/** The task this script measures: switch to another task here. */
const TASK: Task = spiralsTask;

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1] : fallback;
}

const optimizers = arg('optimizers', 'adam,adamw,momentum,lion').split(',');
const steps = Number(arg('steps', '1000'));
const seeds = Number(arg('seeds', '3'));
const backend = arg('backend', 'wasm') as BackendName;
// The noise floor: float32 with the lr changed by 2^-20 of itself. On a small full-batch task the
// final loss of two runs this close differs by as much as the dtypes do.
const VARIANTS = [
  { label: 'float32', options: { stateDtype: 'float32' } },
  { label: 'float32, lr × (1 + 2^-20)', options: { stateDtype: 'float32' }, lrFactor: 1 + 2 ** -20 },
  { label: 'bfloat16', options: { stateDtype: 'bfloat16' } },
  { label: 'bfloat16 stochastic', options: { stateDtype: 'bfloat16', stochasticRounding: true } },
  { label: 'int8', options: { stateDtype: 'int8' } },
] as const;

/** One run under the demo's 1Cycle schedule: the final training loss and accuracy, and the held-out accuracy. */
async function train(entry: OptimizerEntry, lr: number, options: object, seed: number) {
  const store = await ParameterStore.create({ backend });
  const { train: data, test } = TASK.data(seed);
  const model = TASK.model(store, seed);
  const opt = createOptimizer(entry, model.parameters, { lr, ...options, ...('stochasticRounding' in options ? { stateSeed: seed } : {}) });
  const sched = new OneCycleLR(opt, { maxLr: lr * ONECYCLE_PEAK, totalSteps: steps, cycleMomentum: entry.momentum !== undefined });
  let sum = 0;
  for (let s = 0; s < steps; s++) {
    sum += model.lossAndGrad(data).loss;
    opt.step();
    sched.step();
  }
  const final = model.lossAndGrad(data);
  const held = model.lossAndGrad(test);
  store.dispose();
  return { loss: final.loss, meanLoss: sum / steps, accuracy: final.accuracy, testAccuracy: held.accuracy };
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const fmt = (x: number, d = 4) => x.toFixed(d);

console.log(`Training quality by state dtype: ${TASK.name}, ${steps} steps of 1Cycle (peak ${ONECYCLE_PEAK}× the demo's base lr), ` +
  `mean of ${seeds} seeds (initialisation and data), ${backend} backend, ${new Date().toISOString().slice(0, 10)}\n`);
console.log('| optimizer | state | final loss | vs float32 | mean loss over the run | vs float32 | accuracy | vs float32 (points) | held-out accuracy |');
console.log('|---|---|---:|---:|---:|---:|---:|---:|---:|');
const results: Record<string, unknown>[] = [];
for (const key of optimizers) {
  const entry = optimizerEntry(key);
  const lr = await TASK.lr(entry, backend);
  let base: { loss: number; meanLoss: number; accuracy: number } | undefined;
  for (const v of VARIANTS) {
    const runs = [];
    for (let seed = 1; seed <= seeds; seed++) runs.push(await train(entry, lr * ('lrFactor' in v ? v.lrFactor : 1), v.options, seed));
    const r = {
      loss: mean(runs.map((x) => x.loss)), meanLoss: mean(runs.map((x) => x.meanLoss)),
      accuracy: mean(runs.map((x) => x.accuracy)), testAccuracy: mean(runs.map((x) => x.testAccuracy)),
    };
    base ??= r;
    const rel = (x: number, y: number) => { const d = (x / y - 1) * 100; return `${d >= 0 ? '+' : ''}${fmt(d, 1)}%`; };
    const dAcc = (r.accuracy - base.accuracy) * 100;
    const first = v === VARIANTS[0];
    results.push({ optimizer: key, state: v.label, lr, ...r, runs });
    console.log(`| ${key} | ${v.label} | ${r.loss.toPrecision(3)} | ${first ? '–' : rel(r.loss, base.loss)} | ${r.meanLoss.toPrecision(4)} | ${first ? '–' : rel(r.meanLoss, base.meanLoss)} | ` +
      `${fmt(100 * r.accuracy, 2)}% | ${first ? '–' : `${dAcc >= 0 ? '+' : ''}${fmt(dAcc, 2)}`} | ${fmt(100 * r.testAccuracy, 2)}% |`);
  }
}
if (process.argv.includes('--json')) console.log(JSON.stringify(results));
