// The main job: train the demo MLP on two spirals once per optimizer and per schedule, and
// measure how fast each reaches a target loss.
import { pow } from '../detmath.js';
import { Adagrad } from '../optim/adagrad.js';
import { Adam, AdamW } from '../optim/adam.js';
import { Adamax } from '../optim/adamax.js';
import { NAdam } from '../optim/nadam.js';
import type { AnyOptimizer } from '../optim/optimizer.js';
import { RMSprop } from '../optim/rmsprop.js';
import { SGD } from '../optim/sgd.js';
import { readMomentum } from '../schedules/scheduler.js';
import { createScheduler } from '../schedules/schedulers.js';
import { ParameterStore } from '../store.js';
import type { BackendOption } from '../backend.js';
import type { Parameter } from '../store.js';
import { MLP } from './mlp.js';
import { spirals } from './spirals.js';

/**
 * The demo's optimizers, each with its base learning rate: the best of a three-point sweep
 * (×0.3, ×1, ×3) of constant-lr runs on this task, so the constant schedule is at its best.
 */
export const DEMO_OPTIMIZERS: Record<string, { label: string; lr: number; momentum: boolean; make: (p: Parameter[], lr: number) => AnyOptimizer }> = {
  sgd: { label: 'SGD', lr: 1.5, momentum: false, make: (p, lr) => new SGD(p, { lr }) },
  momentum: { label: 'SGD momentum', lr: 0.3, momentum: true, make: (p, lr) => new SGD(p, { lr, momentum: 0.9 }) },
  nag: { label: 'NAG (Nesterov)', lr: 0.3, momentum: true, make: (p, lr) => new SGD(p, { lr, momentum: 0.9, nesterov: true }) },
  adagrad: { label: 'AdaGrad', lr: 0.3, momentum: false, make: (p, lr) => new Adagrad(p, { lr }) },
  rmsprop: { label: 'RMSProp', lr: 0.015, momentum: false, make: (p, lr) => new RMSprop(p, { lr }) },
  adam: { label: 'Adam', lr: 0.01, momentum: true, make: (p, lr) => new Adam(p, { lr }) },
  adamw: { label: 'AdamW', lr: 0.01, momentum: true, make: (p, lr) => new AdamW(p, { lr, weightDecay: 1e-3 }) },
  nadam: { label: 'NAdam', lr: 0.03, momentum: true, make: (p, lr) => new NAdam(p, { lr }) },
  adamax: { label: 'AdaMax', lr: 0.06, momentum: true, make: (p, lr) => new Adamax(p, { lr }) },
};

/** 1Cycle's peak is this multiple of the optimizer's base lr (it starts at peak/25). */
export const ONECYCLE_PEAK = 3;
/** Exponential decay ends at this fraction of the base lr. */
export const EXPONENTIAL_END = 0.01;

/**
 * The demo's schedules, by their names in the schedule table (as the CLI spells them), each
 * with the options a run of `steps` steps with optimizer `spec` uses. 'constant' is ConstantLR
 * with factor 1: the optimizer's lr throughout.
 */
const DEMO_SCHEDULE_OPTIONS = {
  constant: () => ({ factor: 1 }),
  exponential: (steps: number) => ({ gamma: pow(EXPONENTIAL_END, 1 / steps) }),
  onecycle: (steps: number, spec: (typeof DEMO_OPTIMIZERS)[string]) => ({ maxLr: spec.lr * ONECYCLE_PEAK, totalSteps: steps, cycleMomentum: spec.momentum }),
  cosine: (steps: number) => ({ tMax: steps }),
};
export type DemoSchedule = keyof typeof DEMO_SCHEDULE_OPTIONS;
/** The demo's schedules. */
export const DEMO_SCHEDULES = Object.keys(DEMO_SCHEDULE_OPTIONS) as DemoSchedule[];

export interface DemoOptions {
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

/** Trains every (optimizer, schedule) pair; see {@link DemoOptions}. */
export async function runDemo(options: DemoOptions = {}): Promise<DemoResult> {
  const optimizers = options.optimizers ?? Object.keys(DEMO_OPTIMIZERS);
  const schedules = options.schedules ?? [...DEMO_SCHEDULES];
  for (const o of optimizers) if (!(o in DEMO_OPTIMIZERS)) throw new Error(`unknown optimizer ${JSON.stringify(o)} (known: ${Object.keys(DEMO_OPTIMIZERS).join(', ')})`);
  for (const s of schedules) if (!DEMO_SCHEDULES.includes(s)) throw new Error(`unknown schedule ${JSON.stringify(s)} (known: ${DEMO_SCHEDULES.join(', ')})`);
  const steps = options.steps ?? 1000;
  if (!Number.isInteger(steps) || steps < 2) throw new RangeError(`steps must be a whole number >= 2, got ${steps}`);
  const target = options.target ?? 0.05;
  const data = spirals(DEMO_SAMPLES);
  const runs: DemoRun[] = [];
  let backend = '';
  const total = optimizers.length * schedules.length;
  for (const name of optimizers) {
    for (const schedule of schedules) {
      const spec = DEMO_OPTIMIZERS[name];
      const store = await ParameterStore.create({ backend: options.backend ?? 'auto' });
      backend = store.backend;
      const model = new MLP(store, DEMO_LAYERS, 1);
      const opt = spec.make(model.parameters, spec.lr);
      const sched = createScheduler(schedule, opt, DEMO_SCHEDULE_OPTIONS[schedule](steps, spec));
      const losses: number[] = [], lrs: number[] = [], momenta: (number | null)[] = [];
      let stepsToTarget: number | null = null;
      const t0 = performance.now();
      for (let s = 0; s < steps; s++) {
        const { loss } = model.lossAndGrad(data);
        losses.push(loss);
        lrs.push(opt.paramGroups[0].lr);
        momenta.push(readMomentum(opt.paramGroups[0]) ?? null);
        if (stepsToTarget === null && loss < target) stepsToTarget = s;
        opt.step();
        sched.step();
      }
      const ms = performance.now() - t0;
      const final = model.lossAndGrad(data);
      store.dispose();
      const run: DemoRun = {
        optimizer: name, label: spec.label, schedule, baseLr: spec.lr, losses, lrs, momenta,
        finalLoss: final.loss, accuracy: final.accuracy, stepsToTarget, ms,
      };
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
