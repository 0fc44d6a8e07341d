// The schedule table: one entry per learning-rate schedule, with its options (check, default,
// per-group or not), the pure schedule it builds and how the command line offers it. The
// scheduler classes (schedulers.ts), the pure schedule functions (functions.ts), the CLI's
// `schedule` command and the demo all read it; nothing else lists schedules or their defaults.
// Formulas are PyTorch's closed forms (torch.optim.lr_scheduler, torch/optim/swa_utils.py),
// Hugging Face's lr lambdas (transformers/optimization.py) and optax's schedules
// (optax/schedules/_schedule.py), each entry citing its source; transcendental parts use the
// library's deterministic cosPi / pow, so values are identical in every engine and within a
// few ulps of the source's.
import { cosPi, pow } from '../detmath.js';
import { checkNumber, checkRule, invalid, required, type NumberRange, type Rule } from '../validate.js';

/** A schedule: the value (learning rate or momentum) in effect for optimizer step `step` (0-based). */
export type Schedule = (step: number) => number;

/** Learning-rate and momentum schedules of the cyclical policies. */
export interface ScheduleWithMomentum {
  /** The learning rate at each step. */
  lr: Schedule;
  /** The momentum (or Adam's beta1) at each step. */
  momentum: Schedule;
}

/** Options of {@link StepLR} and {@link stepSchedule}. */
export interface StepLROptions {
  /** Steps between two decays, a whole number >= 1. */
  stepSize: number;
  /** Factor of each decay, >= 0 (default 0.1). */
  gamma?: number;
}

/** Options of {@link MultiStepLR} and {@link multiStepSchedule}. */
export interface MultiStepLROptions {
  /** Steps at which the lr decays, whole numbers >= 0 (a repeated milestone decays twice). */
  milestones: readonly number[];
  /** Factor of each decay, >= 0 (default 0.1). */
  gamma?: number;
}

/** Options of {@link ConstantLR} and {@link constantSchedule}. */
export interface ConstantLROptions {
  /** Factor applied until `totalIters`, in [0, 1] (default 1/3). */
  factor?: number;
  /** Steps the factor applies, a whole number >= 0 (default 5). */
  totalIters?: number;
}

/** Options of {@link LinearLR} and {@link linearSchedule}. */
export interface LinearLROptions {
  /** Factor at step 0, in (0, 1] (default 1/3). */
  startFactor?: number;
  /** Factor from `totalIters` on, in [0, 1] (default 1). */
  endFactor?: number;
  /** Steps of the ramp, a whole number >= 1 (default 5). */
  totalIters?: number;
}

/** Options of {@link ExponentialLR} and {@link exponentialSchedule}. */
export interface ExponentialLROptions {
  /** Factor of each step, >= 0. */
  gamma: number;
}

/** Options of {@link PolynomialLR} and {@link polynomialSchedule}. */
export interface PolynomialLROptions {
  /** Steps until the lr reaches 0, a whole number >= 1 (default 5). */
  totalIters?: number;
  /** Power of the polynomial, >= 0 (default 1). */
  power?: number;
}

/** Options of {@link CosineAnnealingLR} and {@link cosineSchedule}. */
export interface CosineAnnealingLROptions {
  /** Steps of the half cosine, a whole number >= 1. */
  tMax: number;
  /** Lowest lr, >= 0 (default 0). */
  etaMin?: number;
}

/** Options of {@link CosineAnnealingWarmRestarts} and {@link cosineWarmRestartsSchedule}. */
export interface CosineAnnealingWarmRestartsOptions {
  /** Steps of the first cycle, a whole number >= 1. */
  t0: number;
  /** Each cycle is this many times longer than the last, a whole number >= 1 (default 1). */
  tMult?: number;
  /** Lowest lr, >= 0 (default 0). */
  etaMin?: number;
}

/** Options of {@link WarmupCosineLR} and {@link warmupCosineSchedule}. */
export interface WarmupCosineLROptions {
  /** Steps of the linear warm-up, a whole number >= 0. */
  warmupSteps: number;
  /** Step at which the cosine reaches `etaMin`, a whole number > warmupSteps. */
  totalSteps: number;
  /** Factor of the base lr at step 0, in [0, 1] (default 0). */
  warmupStartFactor?: number;
  /** Lowest lr, >= 0 (default 0). */
  etaMin?: number;
}

/** Options of {@link LambdaLR}. */
export interface LambdaLROptions {
  /** The factor of the base lr at each step: one function, or one per param group. */
  lrLambda: ((t: number) => number) | readonly ((t: number) => number)[];
}

/** Options of {@link MultiplicativeLR}. */
export interface MultiplicativeLROptions {
  /** The factor step `t` (1, 2, ...) multiplies the lr by: one function, or one per param group. */
  lrLambda: ((t: number) => number) | readonly ((t: number) => number)[];
}

/** Options of {@link SWALR} and {@link swaSchedule}. */
export interface SWALROptions {
  /** The lr annealed to, >= 0: one, or one per param group (in the scheduler). */
  swaLr: number | readonly number[];
  /** Steps of the anneal, a whole number >= 0 (default 10; 0 sets swaLr at once). */
  annealEpochs?: number;
  /** 'cos' (default) or 'linear'. */
  annealStrategy?: 'cos' | 'linear';
}

/** Options of {@link ConstantWithWarmupLR} and {@link constantWithWarmupSchedule}. */
export interface ConstantWithWarmupLROptions {
  /** Steps of the linear warm-up from 0, a whole number >= 0. */
  warmupSteps: number;
}

/** Options of {@link InverseSqrtLR} and {@link inverseSqrtSchedule}. */
export interface InverseSqrtLROptions {
  /** Steps of the linear warm-up from 0, a whole number >= 0. */
  warmupSteps: number;
  /** Time scale of the decay, > 0 (default: warmupSteps, or 10000 when that is 0). */
  timescale?: number;
}

/** The shapes of a warm-up or decay of {@link WarmupStableDecayLR}. */
export type WarmupStableDecayShape = 'linear' | 'cosine' | '1-sqrt';

/** Options of {@link WarmupStableDecayLR} and {@link warmupStableDecaySchedule}. */
export interface WarmupStableDecayLROptions {
  /** Steps of the warm-up, a whole number >= 0. */
  warmupSteps: number;
  /** Steps of the decay, a whole number >= 0. */
  decaySteps: number;
  /** Steps in all (the stable phase is what warm-up and decay leave); or give `stableSteps`. */
  totalSteps?: number;
  /** Steps at the full lr between warm-up and decay, a whole number >= 0 (default: from totalSteps). */
  stableSteps?: number;
  /** Shape of the warm-up: 'linear' (default), 'cosine' or '1-sqrt'. */
  warmupType?: WarmupStableDecayShape;
  /** Shape of the decay: 'cosine' (default), 'linear' or '1-sqrt'. */
  decayType?: WarmupStableDecayShape;
  /** Where warm-up starts and decay ends, as a fraction of the lr, in [0, 1] (default 0). */
  minLrRatio?: number;
  /** Waves of the cosine decay, >= 0 (default 0.5: a half cosine). */
  numCycles?: number;
}

/** Options of {@link CosineWithMinLR} and {@link cosineWithMinLrSchedule}. */
export interface CosineWithMinLROptions {
  /** Steps of the linear warm-up from 0, a whole number >= 0. */
  warmupSteps: number;
  /** Step at which the cosine reaches the minimum, a whole number >= max(1, warmupSteps). */
  totalSteps: number;
  /** Waves of the cosine, >= 0 (default 0.5: a half cosine). */
  numCycles?: number;
  /** The lowest lr, >= 0 (one, or one per param group); or give `minLrRate`. */
  minLr?: number | readonly number[];
  /** The lowest lr as a fraction of each group's lr, in [0, 1]; or give `minLr`. */
  minLrRate?: number;
}

/** Options of {@link PiecewiseInterpolateLR} and {@link piecewiseInterpolateSchedule}. */
export interface PiecewiseInterpolateLROptions {
  /** 'linear' (default) or 'cosine' interpolation between the values at the boundaries. */
  interpolateType?: 'linear' | 'cosine';
  /** Steps at which each scale has been applied in full, increasing whole numbers >= 0 (default none). */
  boundaries?: readonly number[];
  /** Factors, >= 0, one per boundary: the value at `boundaries[k]` is the lr times `scales[0..k]` (default none). */
  scales?: readonly number[];
}

/** Options of {@link WarmupCosineRestartsLR} and {@link warmupCosineRestartsSchedule}. */
export interface WarmupCosineRestartsLROptions {
  /** Steps of each cycle, warm-up included, whole numbers > warmupSteps. */
  cycleSteps: readonly number[];
  /** Each cycle's peak as a factor of the lr, >= 0, one per cycle (default 1 for every cycle). */
  peakFactors?: readonly number[];
  /** Steps of each cycle's linear warm-up, a whole number >= 0 (default 0: each cycle starts at its peak). */
  warmupSteps?: number;
  /** Where each warm-up starts, as a factor of the lr, >= 0 (default 0). */
  startFactor?: number;
  /** Where each cycle's cosine ends, as a factor of the lr, >= 0 (default 0). */
  endFactor?: number;
  /** Power of the cosine factor, >= 0 (default 1). */
  exponent?: number;
}

/** Options of {@link cyclicSchedule} and {@link CyclicLR}. */
export interface CyclicOptions {
  /** Lower learning rate of the cycle (per group in the scheduler). */
  baseLr: number | readonly number[];
  /** Upper learning rate of the cycle (per group in the scheduler). */
  maxLr: number | readonly number[];
  /** Steps in the increasing half of a cycle (default 2000). */
  stepSizeUp?: number;
  /** Steps in the decreasing half (default: stepSizeUp). */
  stepSizeDown?: number;
  /** 'triangular' (default), 'triangular2' (amplitude halves each cycle), 'exp_range' (amplitude * gamma^t). */
  mode?: 'triangular' | 'triangular2' | 'exp_range';
  /** Base of 'exp_range' (default 1). */
  gamma?: number;
  /** Custom amplitude scaling, overriding `mode`: called with the cycle number or the step. */
  scaleFn?: (x: number) => number;
  /** What `scaleFn` receives: 'cycle' (default with scaleFn) or 'iterations'. */
  scaleMode?: 'cycle' | 'iterations';
  /** Cycle momentum inversely to the lr (default true). */
  cycleMomentum?: boolean;
  /** Lower momentum (default 0.8). */
  baseMomentum?: number | readonly number[];
  /** Upper momentum (default 0.9). */
  maxMomentum?: number | readonly number[];
}

/** Options of {@link oneCycleSchedule} and {@link OneCycleLR}. */
export interface OneCycleOptions {
  /** Peak learning rate (per group in the scheduler). */
  maxLr: number | readonly number[];
  /** Steps in the cycle; or give `epochs` and `stepsPerEpoch`. */
  totalSteps?: number;
  /** Epochs in the cycle (with `stepsPerEpoch`, instead of `totalSteps`). */
  epochs?: number;
  /** Optimizer steps per epoch (with `epochs`). */
  stepsPerEpoch?: number;
  /** Fraction of the cycle spent increasing the lr (default 0.3). */
  pctStart?: number;
  /** 'cos' (default) or 'linear'. */
  annealStrategy?: 'cos' | 'linear';
  /** Cycle momentum (SGD's `momentum`, the Adam family's `betas[0]`) inversely (default true). */
  cycleMomentum?: boolean;
  /** Lowest momentum, at the lr peak (default 0.85). */
  baseMomentum?: number | readonly number[];
  /** Highest momentum, at the start and end (default 0.95). */
  maxMomentum?: number | readonly number[];
  /** initialLr = maxLr / divFactor (default 25). */
  divFactor?: number;
  /** minLr = initialLr / finalDivFactor (default 1e4). */
  finalDivFactor?: number;
  /** Three phases (up, back down to initialLr, then to minLr) instead of two (default false). */
  threePhase?: boolean;
}

/** The options a scheduler class takes once or once per param group (an array). */
type PerGroup = 'baseLr' | 'maxLr' | 'baseMomentum' | 'maxMomentum' | 'lrLambda' | 'swaLr' | 'minLr';
/** An option's value in one group: a per-group array resolved to its element. */
type One<K, T> = K extends PerGroup ? Exclude<T, readonly unknown[]> : T;
/** The options a schedule's builder receives: checked, defaults applied, one group's values. */
type Resolved<O> = { readonly [K in keyof O]-?: One<K, Exclude<O[K], undefined>> };
/** The options as they stand while resolving (earlier ones resolved, defaults may read them). */
type Partly<O> = { readonly [K in keyof O]?: One<K, O[K]> };

/** One option of a table entry. */
interface OptionSpec<O> {
  /** What a given value must be. */
  rule: Rule;
  /** The value when the option is left out (or a function of the options before it); without one the option is required. */
  default?: unknown;
  /** May stay unset (no default, not required). */
  optional?: true;
  /** The scheduler class takes one value or an array of one per param group. */
  perGroup?: true;
  /** Added to the message when a required option is left out. */
  requiredHint?: string;
}

/** A table entry. */
interface ScheduleSpec<O> {
  /** One line on what the schedule does (the CLI's help). */
  doc: string;
  /** The options, in the order they are checked. */
  options: { readonly [K in keyof O]-?: OptionSpec<O> };
  /** Checks that involve several options, after each option's own. */
  crossCheck?(o: Resolved<O>, context: string): void;
  /** One group's schedule: its lr (and, for the cyclical policies, momentum) at each step. */
  make(o: Resolved<O>, baseLr: number): { lr: Schedule; momentum?: Schedule };
  /** The base lr the schedule starts from, when it is an option rather than the group's lr. */
  initialLr?(o: Resolved<O>): number;
  /**
   * The schedule starts from the lr each group holds when the scheduler is built (PyTorch's
   * MultiplicativeLR and SWALR read the group's lr), not from its `initialLr`.
   */
  startsFromLr?: true;
  /** Hyperparameters the scheduler writes into each group at construction. */
  record?(o: Resolved<O>, initialLr: number): Record<string, number>;
  /** How `simdopt schedule` offers it. */
  cli?: {
    /** The command's name for it. */
    name: string;
    /** Values for options that have no default (or a function of the options given so far). */
    examples?: { readonly [K in keyof O]?: unknown };
    /** Steps to plot by default (100 when absent). */
    length?(o: Resolved<O>): number;
    /** Options the command does not offer. */
    omit?: readonly (keyof O)[];
  };
}

/** Identity, for inference: ties an entry's option names, checks and builder to its options type. */
const entry = <O>(spec: ScheduleSpec<O>): ScheduleSpec<O> => spec;

const real = (range: NumberRange = {}): Rule => ({ type: 'number', ...range });
const whole = (min: number): Rule => ({ type: 'number', integer: true, min });
const NONNEGATIVE = real({ min: 0 });
const POSITIVE = real({ min: 0, minExclusive: true });
const FRACTION = real({ min: 0, max: 1 });
const FLAG: Rule = { type: 'boolean' };

/** The cosine curve from `base` (x = 0) down to `etaMin` (x = 1). */
const cosineBetween = (base: number, etaMin: number, x: number) => etaMin + ((base - etaMin) * (1 + cosPi(x))) / 2;

/** From `start` (pct = 0) to `end` (pct = 1) along a half cosine: PyTorch's OneCycleLR `_annealing_cos`, optax's `_cosine_interpolate`. */
const interpolateCos = (start: number, end: number, pct: number) => end + ((start - end) / 2) * (cosPi(pct) + 1);
/** From `start` to `end` linearly: PyTorch's OneCycleLR `_annealing_linear`, optax's `_linear_interpolate`. */
const interpolateLinear = (start: number, end: number, pct: number) => (end - start) * pct + start;

/** Hugging Face's linear warm-up factor, `t / max(1, warmup)` (transformers/optimization.py). */
const hfWarmup = (t: number, warmup: number) => t / Math.max(1, warmup);
/** Hugging Face's cosine factor `0.5 (1 + cos(pi numCycles 2 progress))`. */
const hfCosine = (numCycles: number, progress: number) => 0.5 * (1 + cosPi(numCycles * 2 * progress));

/** Throws unless exactly one of options `a` and `b` is set. */
function oneOf(o: Record<string, unknown>, context: string, a: string, b: string): void {
  if (o[a] !== undefined && o[b] !== undefined) invalid(context, b, o[b], `left out when ${a} is given (give one of them)`);
  if (o[a] === undefined && o[b] === undefined) required(context, a, `or ${b}`);
}

/** The table, by class name; also the order the CLI lists them in. */
export const SCHEDULES = {
  OneCycleLR: entry<OneCycleOptions>({
    doc: '1Cycle (Smith & Topin): lr up from maxLr/divFactor to maxLr, then down to a minimum; momentum inversely',
    options: {
      maxLr: { rule: NONNEGATIVE, perGroup: true },
      epochs: { rule: whole(1), optional: true },
      stepsPerEpoch: { rule: whole(1), optional: true },
      totalSteps: {
        rule: whole(1), requiredHint: 'or both epochs and stepsPerEpoch',
        default: (o: Partly<OneCycleOptions>) => (o.epochs !== undefined && o.stepsPerEpoch !== undefined ? o.epochs * o.stepsPerEpoch : undefined),
      },
      pctStart: { rule: FRACTION, default: 0.3 },
      annealStrategy: { rule: { type: 'oneOf', values: ['cos', 'linear'] }, default: 'cos' },
      cycleMomentum: { rule: FLAG, default: true },
      baseMomentum: { rule: NONNEGATIVE, default: 0.85, perGroup: true },
      maxMomentum: { rule: NONNEGATIVE, default: 0.95, perGroup: true },
      divFactor: { rule: POSITIVE, default: 25 },
      finalDivFactor: { rule: POSITIVE, default: 1e4 },
      threePhase: { rule: FLAG, default: false },
    },
    initialLr: (o) => o.maxLr / o.divFactor,
    record: (o, initialLr) => ({ initialLr, maxLr: o.maxLr }),
    make(o) {
      const total = o.totalSteps, maxLr = o.maxLr, pctStart = o.pctStart, baseM = o.baseMomentum, maxM = o.maxMomentum;
      const initialLr = maxLr / o.divFactor;
      const minLr = initialLr / o.finalDivFactor;
      const phases = o.threePhase
        ? [
          { end: pctStart * total - 1, lr: [initialLr, maxLr], m: [maxM, baseM] },
          { end: 2 * pctStart * total - 2, lr: [maxLr, initialLr], m: [baseM, maxM] },
          { end: total - 1, lr: [initialLr, minLr], m: [maxM, maxM] },
        ]
        : [
          { end: pctStart * total - 1, lr: [initialLr, maxLr], m: [maxM, baseM] },
          { end: total - 1, lr: [maxLr, minLr], m: [baseM, maxM] },
        ];
      const anneal = o.annealStrategy === 'cos' ? interpolateCos : interpolateLinear;
      // Past the end (steps >= T - 1) the schedule holds its final values.
      const at = (t: number, key: 'lr' | 'm') => {
        const step = Math.min(t, total - 1);
        let start = 0;
        for (let i = 0; i < phases.length; i++) {
          const ph = phases[i];
          if (step <= ph.end || i === phases.length - 1) {
            const pct = ph.end === start ? 1 : (step - start) / (ph.end - start);
            return anneal(ph[key][0], ph[key][1], pct);
          }
          start = ph.end;
        }
        return NaN; // unreachable
      };
      return { lr: (t) => at(t, 'lr'), momentum: (t) => at(t, 'm') };
    },
    cli: { name: 'onecycle', examples: { maxLr: (o: { baseLr: number }) => o.baseLr, totalSteps: 100 }, length: (o) => o.totalSteps, omit: ['epochs', 'stepsPerEpoch'] },
  }),

  CyclicLR: entry<CyclicOptions>({
    doc: 'triangular waves between baseLr and maxLr (triangular, triangular2, exp_range); momentum inversely',
    options: {
      baseLr: { rule: NONNEGATIVE, perGroup: true },
      maxLr: { rule: NONNEGATIVE, perGroup: true },
      stepSizeUp: { rule: POSITIVE, default: 2000 },
      stepSizeDown: { rule: POSITIVE, default: (o: Partly<CyclicOptions>) => o.stepSizeUp },
      mode: { rule: { type: 'oneOf', values: ['triangular', 'triangular2', 'exp_range'] }, default: 'triangular' },
      gamma: { rule: NONNEGATIVE, default: 1 },
      scaleFn: { rule: { type: 'function' }, optional: true },
      scaleMode: { rule: { type: 'oneOf', values: ['cycle', 'iterations'] }, optional: true },
      cycleMomentum: { rule: FLAG, default: true },
      baseMomentum: { rule: NONNEGATIVE, default: 0.8, perGroup: true },
      maxMomentum: { rule: NONNEGATIVE, default: 0.9, perGroup: true },
    },
    initialLr: (o) => o.baseLr,
    make(o) {
      const { baseLr, maxLr, baseMomentum: baseM, maxMomentum: maxM, gamma } = o;
      let scaleFn: (x: number) => number;
      let scaleMode: 'cycle' | 'iterations';
      if (o.scaleFn !== undefined) {
        scaleFn = o.scaleFn;
        scaleMode = o.scaleMode ?? 'cycle';
      } else if (o.mode === 'triangular') {
        scaleFn = () => 1; scaleMode = 'cycle';
      } else if (o.mode === 'triangular2') {
        scaleFn = (x) => 1 / pow(2, x - 1); scaleMode = 'cycle';
      } else {
        scaleFn = (x) => pow(gamma, x); scaleMode = 'iterations';
      }
      const total = o.stepSizeUp + o.stepSizeDown;
      const ratio = o.stepSizeUp / total;
      const phase = (t: number) => {
        const cycle = Math.floor(1 + t / total);
        const x = 1 + t / total - cycle;
        const factor = x <= ratio ? x / ratio : (x - 1) / (ratio - 1);
        return { factor, scale: scaleFn(scaleMode === 'cycle' ? cycle : t) };
      };
      return {
        lr: (t) => { const p = phase(t); return baseLr + (maxLr - baseLr) * p.factor * p.scale; },
        momentum: (t) => { const p = phase(t); return maxM - (maxM - baseM) * p.factor * p.scale; },
      };
    },
    cli: { name: 'cyclic', examples: { maxLr: (o: { baseLr: number }) => o.baseLr * 10 }, length: (o) => 4 * o.stepSizeUp, omit: ['scaleMode'] },
  }),

  StepLR: entry<StepLROptions>({
    doc: 'decays the lr by gamma every stepSize steps',
    options: { stepSize: { rule: whole(1) }, gamma: { rule: NONNEGATIVE, default: 0.1 } },
    make: (o, base) => ({ lr: (t) => base * pow(o.gamma, Math.floor(t / o.stepSize)) }),
    cli: { name: 'step', examples: { stepSize: 30 } },
  }),

  MultiStepLR: entry<MultiStepLROptions>({
    doc: 'decays the lr by gamma at each milestone',
    options: { milestones: { rule: { type: 'numbers', integer: true, min: 0 } }, gamma: { rule: NONNEGATIVE, default: 0.1 } },
    make(o, base) {
      const milestones = [...o.milestones].sort((a, b) => a - b);
      return { lr: (t) => base * pow(o.gamma, milestones.filter((m) => m <= t).length) };
    },
    cli: { name: 'multistep', examples: { milestones: [30, 60] } },
  }),

  ConstantLR: entry<ConstantLROptions>({
    doc: 'the lr times factor for totalIters steps, then the lr',
    options: { factor: { rule: FRACTION, default: 1 / 3 }, totalIters: { rule: whole(0), default: 5 } },
    make: (o, base) => ({ lr: (t) => (t < o.totalIters ? base * o.factor : base) }),
    cli: { name: 'constant', length: () => 20 },
  }),

  LinearLR: entry<LinearLROptions>({
    doc: 'the lr times a factor moving linearly from startFactor to endFactor over totalIters steps',
    options: {
      startFactor: { rule: real({ min: 0, max: 1, minExclusive: true }), default: 1 / 3 },
      endFactor: { rule: FRACTION, default: 1 },
      totalIters: { rule: whole(1), default: 5 },
    },
    make: ({ startFactor: start, endFactor: end, totalIters: total }, base) =>
      ({ lr: (t) => base * (start + ((end - start) * Math.min(t, total)) / total) }),
    cli: { name: 'linear', length: () => 20 },
  }),

  ExponentialLR: entry<ExponentialLROptions>({
    doc: 'the lr times gamma every step',
    options: { gamma: { rule: NONNEGATIVE } },
    make: (o, base) => ({ lr: (t) => base * pow(o.gamma, t) }),
    cli: { name: 'exponential', examples: { gamma: 0.95 } },
  }),

  PolynomialLR: entry<PolynomialLROptions>({
    doc: 'the lr times (1 - t/totalIters)^power, down to 0 at totalIters',
    options: { totalIters: { rule: whole(1), default: 5 }, power: { rule: NONNEGATIVE, default: 1 } },
    make: (o, base) => ({ lr: (t) => base * pow(1 - Math.min(t, o.totalIters) / o.totalIters, o.power) }),
    cli: { name: 'polynomial', length: () => 20 },
  }),

  CosineAnnealingLR: entry<CosineAnnealingLROptions>({
    doc: 'cosine from the lr down to etaMin over tMax steps (periodic past tMax)',
    options: { tMax: { rule: whole(1) }, etaMin: { rule: NONNEGATIVE, default: 0 } },
    make: (o, base) => ({ lr: (t) => cosineBetween(base, o.etaMin, t / o.tMax) }),
    cli: { name: 'cosine', examples: { tMax: 100 }, length: (o) => o.tMax },
  }),

  CosineAnnealingWarmRestarts: entry<CosineAnnealingWarmRestartsOptions>({
    doc: 'SGDR: cosine from the lr to etaMin over t0 steps, restarting with cycles tMult times longer',
    options: { t0: { rule: whole(1) }, tMult: { rule: whole(1), default: 1 }, etaMin: { rule: NONNEGATIVE, default: 0 } },
    make: ({ t0, tMult, etaMin }, base) => ({
      lr: (t) => {
        let tCur = t, tI = t0;
        if (tMult === 1) tCur = t % t0;
        else while (tCur >= tI) { tCur -= tI; tI *= tMult; }
        return cosineBetween(base, etaMin, tCur / tI);
      },
    }),
    cli: { name: 'cosine-warm-restarts', examples: { t0: 10 } },
  }),

  WarmupCosineLR: entry<WarmupCosineLROptions>({
    doc: 'linear warm-up over warmupSteps, then cosine down to etaMin at totalSteps',
    options: {
      warmupSteps: { rule: whole(0) },
      totalSteps: { rule: whole(1) },
      warmupStartFactor: { rule: FRACTION, default: 0 },
      etaMin: { rule: NONNEGATIVE, default: 0 },
    },
    crossCheck(o, context) {
      if (o.totalSteps <= o.warmupSteps) invalid(context, 'totalSteps', o.totalSteps, `greater than warmupSteps, ${o.warmupSteps}`);
    },
    make({ warmupSteps: warmup, totalSteps: total, warmupStartFactor: start, etaMin }, base) {
      const decay = total - warmup;
      return {
        lr: (t) => (t < warmup ? base * (start + ((1 - start) * t) / warmup) : cosineBetween(base, etaMin, Math.min(t - warmup, decay) / decay)),
      };
    },
    cli: { name: 'warmup-cosine', examples: { totalSteps: 100, warmupSteps: (o: { totalSteps: number }) => Math.floor(o.totalSteps / 10) }, length: (o) => o.totalSteps },
  }),

  LambdaLR: entry<LambdaLROptions>({
    doc: 'the lr times lrLambda(t)',
    options: { lrLambda: { rule: { type: 'function' }, perGroup: true } },
    make: (o, base) => ({ lr: (t) => base * checkNumber('LambdaLR', `lrLambda(${t})`, o.lrLambda(t)) }),
  }),

  // PyTorch's MultiplicativeLR (torch/optim/lr_scheduler.py): get_lr returns
  // group['lr'] * lr_lambda(last_epoch) from step 1 on, the group's lr at step 0. The same
  // product, in the same order, from the lr the group held when the scheduler was built; the
  // running product is cached, so stepping through costs one multiplication a step.
  MultiplicativeLR: entry<MultiplicativeLROptions>({
    doc: 'the lr times lrLambda(1) · lrLambda(2) · ... · lrLambda(t)',
    options: { lrLambda: { rule: { type: 'function' }, perGroup: true } },
    startsFromLr: true,
    make(o, base) {
      let at = 0, lr = base; // the lr at step `at`
      return {
        lr: (t) => {
          if (t < at) { at = 0; lr = base; }
          while (at < t) {
            lr *= checkNumber('MultiplicativeLR', `lrLambda(${at + 1})`, o.lrLambda(at + 1));
            at++;
          }
          return lr;
        },
      };
    },
  }),

  // PyTorch's SWALR (torch/optim/swa_utils.py), whose get_lr recovers the lr it anneals from out
  // of the group's lr at each step; in closed form: alpha = anneal(clamp(t / max(1, annealEpochs)))
  // (t counted from 1 when annealEpochs = 0), lr = swaLr * alpha + base * (1 - alpha), with
  // anneal(x) = (1 - cos(pi x)) / 2 ('cos') or x ('linear').
  SWALR: entry<SWALROptions>({
    doc: 'anneals the lr to swaLr over annealEpochs steps (cos or linear), for stochastic weight averaging',
    options: {
      swaLr: { rule: NONNEGATIVE, perGroup: true },
      annealEpochs: { rule: whole(0), default: 10 },
      annealStrategy: { rule: { type: 'oneOf', values: ['cos', 'linear'] }, default: 'cos' },
    },
    startsFromLr: true,
    make({ swaLr, annealEpochs: epochs, annealStrategy }, base) {
      const anneal = annealStrategy === 'cos' ? (x: number) => (1 - cosPi(x)) / 2 : (x: number) => x;
      return {
        lr: (t) => {
          const alpha = anneal(Math.max(0, Math.min(1, (epochs === 0 ? Math.max(1, t) : t) / Math.max(1, epochs))));
          return swaLr * alpha + base * (1 - alpha);
        },
      };
    },
    cli: { name: 'swa', examples: { swaLr: (o: { baseLr: number }) => o.baseLr / 2 }, length: (o) => 2 * o.annealEpochs || 20 },
  }),

  // Hugging Face's get_constant_schedule_with_warmup (transformers/optimization.py):
  // lr_lambda(t) = t / max(1, warmup) while t < warmup, then 1.
  ConstantWithWarmupLR: entry<ConstantWithWarmupLROptions>({
    doc: 'linear warm-up from 0 over warmupSteps, then the lr (Hugging Face constant_with_warmup)',
    options: { warmupSteps: { rule: whole(0) } },
    make: ({ warmupSteps: warmup }, base) => ({ lr: (t) => base * (t < warmup ? hfWarmup(t, warmup) : 1) }),
    cli: { name: 'constant-warmup', examples: { warmupSteps: 10 }, length: (o) => 2 * o.warmupSteps || 20 },
  }),

  // Hugging Face's get_inverse_sqrt_schedule (transformers/optimization.py, after big_vision):
  // the warm-up, then 1 / sqrt((t + timescale - warmup) / timescale).
  InverseSqrtLR: entry<InverseSqrtLROptions>({
    doc: 'linear warm-up from 0, then the lr times 1/sqrt((t + timescale - warmupSteps)/timescale) (Hugging Face inverse_sqrt)',
    options: {
      warmupSteps: { rule: whole(0) },
      timescale: { rule: POSITIVE, default: (o: Partly<InverseSqrtLROptions>) => o.warmupSteps || 10_000 },
    },
    make: ({ warmupSteps: warmup, timescale }, base) => {
      const shift = timescale - warmup;
      return { lr: (t) => base * (t < warmup ? hfWarmup(t, warmup) : 1 / Math.sqrt((t + shift) / timescale)) };
    },
    cli: { name: 'inverse-sqrt', examples: { warmupSteps: 10 } },
  }),

  // Hugging Face's get_wsd_schedule (transformers/optimization.py, _get_wsd_scheduler_lambda):
  // warm-up from minLrRatio to 1, stable at 1, decay to minLrRatio, then minLrRatio.
  WarmupStableDecayLR: entry<WarmupStableDecayLROptions>({
    doc: 'warm-up, a stable phase at the lr, then a decay to minLrRatio (Hugging Face warmup_stable_decay)',
    options: {
      warmupSteps: { rule: whole(0) },
      decaySteps: { rule: whole(0) },
      totalSteps: { rule: whole(0), optional: true },
      stableSteps: {
        rule: whole(0), requiredHint: 'or totalSteps',
        default: (o: Partly<WarmupStableDecayLROptions>) =>
          (o.totalSteps === undefined ? undefined : Math.max(0, o.totalSteps - (o.warmupSteps ?? 0) - (o.decaySteps ?? 0))),
      },
      warmupType: { rule: { type: 'oneOf', values: ['linear', 'cosine', '1-sqrt'] }, default: 'linear' },
      decayType: { rule: { type: 'oneOf', values: ['linear', 'cosine', '1-sqrt'] }, default: 'cosine' },
      minLrRatio: { rule: FRACTION, default: 0 },
      numCycles: { rule: NONNEGATIVE, default: 0.5 },
    },
    crossCheck(o, context) {
      const { warmupSteps: w, stableSteps: s, decaySteps: d, totalSteps: total } = o;
      if (total === undefined || w + s + d === total) return;
      invalid(context, 'totalSteps', total, w + d > total ? `at least warmupSteps + decaySteps, ${w + d}`
        : `warmupSteps + stableSteps + decaySteps, ${w + s + d}, when stableSteps is given too`);
    },
    make({ warmupSteps: warmup, stableSteps: stable, decaySteps: decay, warmupType, decayType, minLrRatio: ratio, numCycles }, base) {
      const scaled = (factor: number) => Math.max(0, factor * (1 - ratio) + ratio);
      const warm = (p: number) => (warmupType === 'linear' ? p : warmupType === 'cosine' ? 0.5 * (1 - cosPi(p)) : 1 - Math.sqrt(1 - p));
      const down = (p: number) => (decayType === 'linear' ? 1 - p : decayType === 'cosine' ? hfCosine(numCycles, p) : 1 - Math.sqrt(p));
      return {
        lr: (t) => base * (t < warmup ? scaled(warm(hfWarmup(t, warmup)))
          : t < warmup + stable ? 1
            : t < warmup + stable + decay ? scaled(down((t - warmup - stable) / Math.max(1, decay)))
              : ratio),
      };
    },
    cli: {
      name: 'wsd', examples: { warmupSteps: 10, decaySteps: 20, totalSteps: (o: { stableSteps?: number }) => (o.stableSteps === undefined ? 100 : undefined) },
      length: (o) => o.warmupSteps + o.stableSteps + o.decaySteps || 20,
    },
  }),

  // Hugging Face's get_cosine_with_min_lr_schedule_with_warmup (transformers/optimization.py):
  // the warm-up, then max(0, c (1 - rate) + rate) with c = 0.5 (1 + cos(pi numCycles 2 progress)),
  // progress = (t - warmup) / max(1, total - warmup), not clamped (as the source). Hugging Face
  // turns min_lr into a rate by dividing it by the optimizer's default lr; here each group's
  // minLr is divided by that group's lr, so every group reaches its minLr.
  CosineWithMinLR: entry<CosineWithMinLROptions>({
    doc: 'linear warm-up from 0, then cosine down to minLr (or minLrRate times the lr) at totalSteps (Hugging Face cosine_with_min_lr)',
    options: {
      warmupSteps: { rule: whole(0) },
      totalSteps: { rule: whole(1) },
      numCycles: { rule: NONNEGATIVE, default: 0.5 },
      minLr: { rule: NONNEGATIVE, optional: true, perGroup: true },
      minLrRate: { rule: FRACTION, optional: true },
    },
    crossCheck(o, context) {
      if (o.totalSteps < o.warmupSteps) invalid(context, 'totalSteps', o.totalSteps, `at least warmupSteps, ${o.warmupSteps}`);
      oneOf(o, context, 'minLr', 'minLrRate');
    },
    make({ warmupSteps: warmup, totalSteps: total, numCycles, minLr, minLrRate }, base) {
      const rate = minLrRate ?? (base === 0 ? 0 : minLr / base);
      const span = Math.max(1, total - warmup);
      return {
        lr: (t) => base * (t < warmup ? hfWarmup(t, warmup) : Math.max(0, hfCosine(numCycles, (t - warmup) / span) * (1 - rate) + rate)),
      };
    },
    cli: {
      name: 'cosine-min-lr', examples: { warmupSteps: 10, totalSteps: 100, minLrRate: (o: { minLr?: number }) => (o.minLr === undefined ? 0.1 : undefined) },
      length: (o) => o.totalSteps,
    },
  }),

  // optax's piecewise_interpolate_schedule (optax/schedules/_schedule.py): values are the
  // cumulative products of [lr, ...scales] at [0, ...boundaries]; between two boundaries the
  // value moves from one to the next (pct = (t - b_k) / max(b_{k+1} - b_k, 1)), and from the
  // last boundary on it is the last value.
  PiecewiseInterpolateLR: entry<PiecewiseInterpolateLROptions>({
    doc: 'linear or cosine interpolation between the lr times cumulative scales at the boundaries (optax piecewise_interpolate)',
    options: {
      interpolateType: { rule: { type: 'oneOf', values: ['linear', 'cosine'] }, default: 'linear' },
      boundaries: { rule: { type: 'numbers', integer: true, min: 0 }, default: [] },
      scales: { rule: { type: 'numbers', min: 0 }, default: [] },
    },
    crossCheck({ boundaries, scales }, context) {
      if (scales.length !== boundaries.length) invalid(context, 'scales', scales, `an array of ${boundaries.length}, one per boundary`);
      boundaries.forEach((b, i) => { if (i > 0 && b <= boundaries[i - 1]) invalid(context, 'boundaries', boundaries, 'increasing'); });
    },
    make({ interpolateType, boundaries, scales }, base) {
      const interpolate = interpolateType === 'cosine' ? interpolateCos : interpolateLinear;
      const bounds = [0, ...boundaries];
      const values = [base];
      for (const scale of scales) values.push(values[values.length - 1] * scale);
      return {
        lr: (t) => {
          for (let k = 0; k + 1 < bounds.length; k++) {
            if (bounds[k] <= t && t < bounds[k + 1]) return interpolate(values[k], values[k + 1], (t - bounds[k]) / Math.max(bounds[k + 1] - bounds[k], 1));
          }
          return values[values.length - 1];
        },
      };
    },
    cli: {
      name: 'piecewise', examples: { boundaries: [30, 60], scales: [0.1, 0.1] },
      length: (o) => (o.boundaries.length ? o.boundaries[o.boundaries.length - 1] + 20 : 100),
    },
  }),

  // optax's sgdr_schedule (optax/schedules/_schedule.py): warmup_cosine_decay_schedule cycles
  // joined end to end (join_schedules). A cycle of n steps with peak p: linear from
  // startFactor * lr to p over warmupSteps (linear_schedule), then cosine_decay_schedule from p
  // over n - warmupSteps steps with alpha = end / p (0 when p = 0), its factor raised to
  // `exponent`; past the last cycle, its end value.
  WarmupCosineRestartsLR: entry<WarmupCosineRestartsLROptions>({
    doc: 'SGDR with warm-up: cycles of a linear warm-up to each cycle\'s peak, then cosine down to endFactor (optax sgdr)',
    options: {
      cycleSteps: { rule: { type: 'numbers', integer: true, min: 1 } },
      peakFactors: { rule: { type: 'numbers', min: 0 }, default: (o: Partly<WarmupCosineRestartsLROptions>) => (Array.isArray(o.cycleSteps) ? o.cycleSteps.map(() => 1) : undefined) },
      warmupSteps: { rule: whole(0), default: 0 },
      startFactor: { rule: NONNEGATIVE, default: 0 },
      endFactor: { rule: NONNEGATIVE, default: 0 },
      exponent: { rule: NONNEGATIVE, default: 1 },
    },
    crossCheck({ cycleSteps, peakFactors, warmupSteps }, context) {
      if (cycleSteps.length === 0) invalid(context, 'cycleSteps', cycleSteps, 'a non-empty array of whole numbers');
      if (peakFactors.length !== cycleSteps.length) invalid(context, 'peakFactors', peakFactors, `an array of ${cycleSteps.length}, one per cycle`);
      cycleSteps.forEach((n, i) => { if (n <= warmupSteps) invalid(context, `cycleSteps[${i}]`, n, `greater than warmupSteps, ${warmupSteps}`); });
    },
    make({ cycleSteps, peakFactors, warmupSteps: warmup, startFactor, endFactor, exponent }, base) {
      const init = base * startFactor, end = base * endFactor;
      let start = 0;
      const cycles = cycleSteps.map((n, k) => {
        const peak = base * peakFactors[k];
        const c = { start, peak, alpha: peak === 0 ? 0 : end / peak, decay: n - warmup };
        start += n;
        return c;
      });
      return {
        lr: (t) => {
          let k = 0;
          while (k + 1 < cycles.length && t >= cycles[k + 1].start) k++;
          const { start: s, peak, alpha, decay } = cycles[k];
          const u = t - s;
          if (u < warmup) return (init - peak) * (1 - u / warmup) + peak;
          const cosine = 0.5 * (1 + cosPi(Math.min(u - warmup, decay) / decay));
          return peak * ((1 - alpha) * pow(cosine, exponent) + alpha);
        },
      };
    },
    cli: {
      name: 'sgdr',
      examples: {
        cycleSteps: [30, 60],
        peakFactors: (o: { cycleSteps: number[] }) => o.cycleSteps.map((_, k) => pow(0.5, k)),
        warmupSteps: (o: { cycleSteps: number[] }) => Math.floor(Math.min(...o.cycleSteps) / 10),
      },
      length: (o) => o.cycleSteps.reduce((a, b) => a + b, 0),
    },
  }),
};

/** A schedule of the table, by class name. */
export type ScheduleName = keyof typeof SCHEDULES;

/** The entries the command line offers, by their command-line name (`onecycle`, `step`, ...), in the table's order. */
export const CLI_SCHEDULES: ReadonlyMap<string, ScheduleName> = new Map((Object.keys(SCHEDULES) as ScheduleName[])
  .flatMap((name) => (SCHEDULES[name].cli ? [[SCHEDULES[name].cli!.name, name] as const] : [])));

/** An entry, its options seen as plain records. */
export type AnySchedule = ScheduleSpec<Record<string, unknown>>;

/** The entry of `name`, as plain records. */
export const scheduleSpec = (name: ScheduleName): AnySchedule => SCHEDULES[name] as unknown as AnySchedule;

/**
 * Checks `raw` against an entry's options, in the table's order, and applies the defaults:
 * the options of one group (a per-group array must already be resolved to its element).
 * With `keys`, only those options.
 */
export function resolveOptions(name: ScheduleName, raw: Record<string, unknown>, keys?: readonly string[]): Record<string, unknown> {
  const spec = scheduleSpec(name);
  const o: Record<string, unknown> = {};
  for (const [key, opt] of Object.entries(spec.options)) {
    if (keys && !keys.includes(key)) continue;
    let v = raw[key];
    if (v === undefined) v = typeof opt.default === 'function' ? (opt.default as (o: object) => unknown)(o) : opt.default;
    if (v === undefined) {
      if (opt.optional) continue;
      required(name, key, opt.requiredHint);
    }
    o[key] = checkRule(name, key, v, opt.rule);
  }
  if (!keys) spec.crossCheck?.(o, name);
  return o;
}

/**
 * One group's schedule of entry `name` from its resolved options and base lr; every value it
 * returns first checks that the step is a whole number >= 0.
 */
export function makeSchedule(name: ScheduleName, o: Record<string, unknown>, baseLr: number): { lr: Schedule; momentum?: Schedule } {
  const s = scheduleSpec(name).make(o, baseLr);
  const guard = (f: Schedule): Schedule => (t) => (checkNumber(name, 'step', t, { min: 0, integer: true }), f(t));
  return { lr: guard(s.lr), ...(s.momentum ? { momentum: guard(s.momentum) } : {}) };
}

/**
 * Builds the pure schedule of entry `name` from options given as one object (the base lr as
 * `baseLr` where the schedule scales the group's lr); returns it with the resolved options.
 */
export function buildSchedule(name: ScheduleName, raw: Record<string, unknown>): { lr: Schedule; momentum?: Schedule; options: Record<string, unknown> } {
  const spec = scheduleSpec(name);
  const o = resolveOptions(name, raw);
  const base = spec.initialLr ? spec.initialLr(o) : checkNumber(name, 'baseLr', raw.baseLr, { min: 0 });
  return { ...makeSchedule(name, o, base), options: o };
}
