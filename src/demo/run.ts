// The main job: train the demo MLP on two spirals once per optimizer of the registry and per
// schedule, and measure how fast each reaches a target loss.
import { pow } from '../detmath.js';
import { OPTIMIZERS, createOptimizer, inEvalMode, optimizerEntry, type OptimizerEntry } from '../registry.js';
import { readMomentum } from '../schedules/scheduler.js';
import { createScheduler } from '../schedules/schedulers.js';
import { ParameterStore } from '../store.js';
import type { BackendOption } from '../backend.js';
import { MLP } from './mlp.js';
import { spirals, type Dataset } from './spirals.js';

/** Steps of each short run of the base-lr sweep ({@link demoBaseLr}). */
export const SWEEP_STEPS = 200;
/** Decades the sweep tries: the entry's lr times 1, 10, 100 and 1000. */
export const SWEEP_DECADES = 4;

/** 1Cycle's peak is this multiple of the optimizer's base lr (it starts at peak/25). */
export const ONECYCLE_PEAK = 3;
/** Exponential decay ends at this fraction of the base lr. */
export const EXPONENTIAL_END = 0.01;

/**
 * The demo's schedules, by their names in the schedule table (as the CLI spells them), each
 * with the options a run of `steps` steps from base lr `lr` with `entry` uses. 'constant' is
 * ConstantLR with factor 1: the optimizer's lr throughout. 1Cycle cycles momentum (or β1)
 * where the entry names one.
 */
const DEMO_SCHEDULE_OPTIONS = {
  constant: () => ({ factor: 1 }),
  exponential: (steps: number) => ({ gamma: pow(EXPONENTIAL_END, 1 / steps) }),
  onecycle: (steps: number, lr: number, entry: OptimizerEntry) => ({ maxLr: lr * ONECYCLE_PEAK, totalSteps: steps, cycleMomentum: entry.momentum !== undefined }),
  cosine: (steps: number) => ({ tMax: steps }),
};
export type DemoSchedule = keyof typeof DEMO_SCHEDULE_OPTIONS;
/** The demo's schedules. */
export const DEMO_SCHEDULES = Object.keys(DEMO_SCHEDULE_OPTIONS) as DemoSchedule[];

export interface DemoOptions {
  /** Registry keys of the optimizers to train (default: every entry of the registry). */
  optimizers?: string[];
  schedules?: DemoSchedule[];
  /** Full-batch training steps per run (default 1000). */
  steps?: number;
  /** Loss counted as reached (default 0.05). */
  target?: number;
  backend?: BackendOption;
  /** Called after each run. */
  onProgress?: (done: number, total: number, run: DemoRun) => void;
}

export interface DemoRun {
  optimizer: string;
  label: string;
  schedule: DemoSchedule;
  baseLr: number;
  losses: number[];
  lrs: number[];
  momenta: (number | null)[];
  finalLoss: number;
  accuracy: number;
  /** First step whose loss is below the target, or null. */
  stepsToTarget: number | null;
  ms: number;
}

export interface DemoResult {
  runs: DemoRun[];
  steps: number;
  target: number;
  backend: string;
  layers: number[];
  samples: number;
}

/** Points in the demo data set (two spirals). */
export const DEMO_SAMPLES = 200;

/** The demo network: 2 inputs, two tanh layers of 32, 2 classes. */
export const DEMO_LAYERS = [2, 32, 32, 2];

/** One training run of the demo network from its fixed initialisation: `lr` as base, under `schedule`. */
async function train(entry: OptimizerEntry, lr: number, schedule: DemoSchedule, data: Dataset, steps: number, target: number, backend: BackendOption) {
  const store = await ParameterStore.create({ backend });
  const model = new MLP(store, DEMO_LAYERS, 1);
  const opt = createOptimizer(entry, model.parameters, { lr });
  const sched = createScheduler(schedule, opt, DEMO_SCHEDULE_OPTIONS[schedule](steps, lr, entry));
  const losses: number[] = [], lrs: number[] = [], momenta: (number | null)[] = [];
  let stepsToTarget: number | null = null;
  const t0 = performance.now();
  for (let s = 0; s < steps; s++) {
    const { loss } = model.lossAndGrad(data);
    losses.push(loss);
    lrs.push(opt.paramGroups[0].lr);
    momenta.push(readMomentum(opt.paramGroups[0]) ?? null);
    if (stepsToTarget === null && loss < target) stepsToTarget = s;
    // L-BFGS re-evaluates the full batch as often as its step needs (its first evaluation is the loss above).
    if (entry.closure) opt.step(() => model.lossAndGrad(data).loss);
    else opt.step();
    sched.step();
  }
  const ms = performance.now() - t0;
  // Schedule-free optimizers are evaluated at their average (eval mode).
  const final = inEvalMode(opt, () => model.lossAndGrad(data));
  const used = store.backend;
  store.dispose();
  return { backend: used, losses, lrs, momenta, finalLoss: final.loss, accuracy: final.accuracy, stepsToTarget, ms };
}

/**
 * The demo's base lr for `entry`: the entry's lr, raised a decade at a time (at most
 * {@link SWEEP_DECADES} values) until a short 1Cycle run ({@link SWEEP_STEPS} steps, peaking at
 * {@link ONECYCLE_PEAK}× the lr) at least halves the loss; when none does, the one that ended
 * lowest. The registry's lrs are PyTorch's defaults, set for large models and noisy
 * minibatches; this small full-batch task needs larger ones. Taking the smallest lr that
 * trains, checked through 1Cycle's peak, keeps every schedule's run stable.
 */
export async function demoBaseLr(entry: OptimizerEntry, backend: BackendOption = 'auto', data: Dataset = spirals(DEMO_SAMPLES)): Promise<number> {
  let best = { lr: entry.lr, loss: Infinity };
  for (let k = 0; k < SWEEP_DECADES; k++) {
    const lr = Number((entry.lr * 10 ** k).toPrecision(12));
    const run = await train(entry, lr, 'onecycle', data, SWEEP_STEPS, 0, backend);
    if (run.finalLoss <= run.losses[0] / 2) return lr;
    if (run.finalLoss < best.loss) best = { lr, loss: run.finalLoss };
  }
  return best.lr;
}

/** Trains every (optimizer, schedule) pair; see {@link DemoOptions}. */
export async function runDemo(options: DemoOptions = {}): Promise<DemoResult> {
  const entries = (options.optimizers ?? OPTIMIZERS.map((e) => e.key)).map(optimizerEntry);
  const schedules = options.schedules ?? [...DEMO_SCHEDULES];
  for (const s of schedules) if (!DEMO_SCHEDULES.includes(s)) throw new Error(`unknown schedule ${JSON.stringify(s)} (known: ${DEMO_SCHEDULES.join(', ')})`);
  const steps = options.steps ?? 1000;
  if (!Number.isInteger(steps) || steps < 2) throw new RangeError(`steps must be a whole number >= 2, got ${steps}`);
  const target = options.target ?? 0.05;
  const backendOption = options.backend ?? 'auto';
  const data = spirals(DEMO_SAMPLES);
  const runs: DemoRun[] = [];
  let backend = '';
  const total = entries.length * schedules.length;
  for (const entry of entries) {
    const baseLr = await demoBaseLr(entry, backendOption, data);
    for (const schedule of schedules) {
      const { backend: used, ...result } = await train(entry, baseLr, schedule, data, steps, target, backendOption);
      backend = used;
      const run: DemoRun = { optimizer: entry.key, label: entry.label, schedule, baseLr, ...result };
      runs.push(run);
      options.onProgress?.(runs.length, total, run);
    }
  }
  return { runs, steps, target, backend, layers: DEMO_LAYERS, samples: data.n };
}

/**
 * The 1Cycle comparison: for each optimizer, steps to target under 1Cycle against constant
 * and exponential decay (a run that never reaches the target counts as `steps`, so its ratio
 * is a bound; when neither run reaches it the ratio is null), and the median ratio over the
 * optimizers that have one.
 */
export function oneCycleSpeedup(result: DemoResult): { perOptimizer: { optimizer: string; vsConstant: number | null; vsExponential: number | null }[]; medianVsConstant: number | null; medianVsExponential: number | null } {
  const find = (o: string, s: DemoSchedule) => result.runs.find((r) => r.optimizer === o && r.schedule === s);
  const steps = (r: DemoRun | undefined) => (r ? r.stepsToTarget ?? result.steps : undefined);
  const names = [...new Set(result.runs.map((r) => r.optimizer))];
  const perOptimizer = names.map((o) => {
    const oneRun = find(o, 'onecycle');
    const one = steps(oneRun), c = steps(find(o, 'constant')), e = steps(find(o, 'exponential'));
    // null when a run is missing, or when neither reached the target (nothing to compare)
    const ratio = (x: number | undefined, other: DemoRun | undefined) =>
      one !== undefined && x !== undefined && !(oneRun!.stepsToTarget === null && other!.stepsToTarget === null) ? x / Math.max(one, 1) : null;
    return { optimizer: o, vsConstant: ratio(c, find(o, 'constant')), vsExponential: ratio(e, find(o, 'exponential')) };
  });
  const median = (xs: (number | null)[]) => {
    const v = xs.filter((x): x is number => x !== null).sort((a, b) => a - b);
    if (v.length === 0) return null;
    return v.length % 2 ? v[(v.length - 1) / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
  };
  return { perOptimizer, medianVsConstant: median(perOptimizer.map((p) => p.vsConstant)), medianVsExponential: median(perOptimizer.map((p) => p.vsExponential)) };
}
