// The schedule table: one entry per learning-rate schedule, with its options (check, default,
// per-group or not), the pure schedule it builds and how the command line offers it. The
// scheduler classes (schedulers.ts), the pure schedule functions (functions.ts), the CLI's
// `schedule` command and the demo all read it; nothing else lists schedules or their defaults.
// Formulas are PyTorch's closed forms (torch.optim.lr_scheduler); transcendental parts use the
// library's deterministic cosPi / pow, so values are identical in every engine and within a
// few ulps of PyTorch's.
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
type PerGroup = 'baseLr' | 'maxLr' | 'baseMomentum' | 'maxMomentum' | 'lrLambda';
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
      const anneal = o.annealStrategy === 'cos'
        ? (a: number, b: number, pct: number) => b + ((a - b) / 2) * (cosPi(pct) + 1)
        : (a: number, b: number, pct: number) => (b - a) * pct + a;
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
