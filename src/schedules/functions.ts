// Pure learning-rate (and momentum) schedules: each factory validates its options and returns
// a function of the step alone, with no state, so a schedule can be plotted, tested or used
// without an optimizer. The scheduler classes evaluate these and write the param groups.
// Formulas are PyTorch's closed forms (torch.optim.lr_scheduler); transcendental parts use the
// library's deterministic cosPi / pow, so values are identical in every engine and within a
// few ulps of PyTorch's.
import { cosPi, pow } from '../detmath.js';

/** A schedule: the value (learning rate or momentum) in effect for optimizer step `step` (0-based). */
export type Schedule = (step: number) => number;

/** Learning-rate and momentum schedules of the cyclical policies. */
export interface ScheduleWithMomentum {
  /** The learning rate at each step. */
  lr: Schedule;
  /** The momentum (or Adam's beta1) at each step. */
  momentum: Schedule;
}

/** Throws the library's option error. */
export function invalid(context: string, name: string, value: unknown, expected: string): never {
  const shown = typeof value === 'string' ? JSON.stringify(value) : Array.isArray(value) ? `[${value.join(', ')}]` : String(value);
  throw new RangeError(`${context}: invalid ${name}: ${shown} (expected ${expected})`);
}

/** Throws unless `options` is an object whose keys are all in `allowed`. */
export function checkKeys(context: string, options: object, allowed: readonly string[]): void {
  if (options === null || typeof options !== 'object') throw new TypeError(`${context}: options must be an object, got ${String(options)}`);
  for (const key of Object.keys(options)) {
    if (!allowed.includes(key)) throw new Error(`${context}: unknown option ${JSON.stringify(key)} (valid: ${allowed.join(', ')})`);
  }
}

/** Checks a finite number in [min, max] (bounds optional, exclusive when asked). */
export function checkNumber(context: string, name: string, value: unknown, opts: { min?: number; max?: number; minExclusive?: boolean; maxExclusive?: boolean; integer?: boolean } = {}): number {
  const { min = -Infinity, max = Infinity, minExclusive = false, maxExclusive = false, integer = false } = opts;
  const ok = typeof value === 'number' && Number.isFinite(value) &&
    (minExclusive ? value > min : value >= min) && (maxExclusive ? value < max : value <= max) &&
    (!integer || Number.isInteger(value));
  if (!ok) {
    const range = [
      integer ? 'a whole number' : 'a finite number',
      min !== -Infinity ? `${minExclusive ? '>' : '>='} ${min}` : '',
      max !== Infinity ? `${maxExclusive ? '<' : '<='} ${max}` : '',
    ].filter(Boolean).join(' ');
    invalid(context, name, value, range);
  }
  return value as number;
}

function checkStep(step: number): void {
  if (!(Number.isInteger(step) && step >= 0)) throw new RangeError(`schedule: step must be a whole number >= 0, got ${step}`);
}

/** StepLR: `baseLr * gamma^floor(t / stepSize)`. */
export function stepSchedule(o: { baseLr: number; stepSize: number; gamma?: number }): Schedule {
  const c = 'StepLR';
  const stepSize = checkNumber(c, 'stepSize', o.stepSize, { min: 1, integer: true });
  const gamma = checkNumber(c, 'gamma', o.gamma ?? 0.1, { min: 0 });
  const base = checkNumber(c, 'baseLr', o.baseLr, { min: 0 });
  return (t) => (checkStep(t), base * pow(gamma, Math.floor(t / stepSize)));
}

/** MultiStepLR: `baseLr * gamma^(number of milestones <= t)` (a repeated milestone counts twice). */
export function multiStepSchedule(o: { baseLr: number; milestones: readonly number[]; gamma?: number }): Schedule {
  const c = 'MultiStepLR';
  if (!Array.isArray(o.milestones)) invalid(c, 'milestones', o.milestones, 'an array of whole numbers');
  o.milestones.forEach((m, i) => checkNumber(c, `milestones[${i}]`, m, { min: 0, integer: true }));
  const milestones = [...o.milestones].sort((a, b) => a - b);
  const gamma = checkNumber(c, 'gamma', o.gamma ?? 0.1, { min: 0 });
  const base = checkNumber(c, 'baseLr', o.baseLr, { min: 0 });
  return (t) => (checkStep(t), base * pow(gamma, milestones.filter((m) => m <= t).length));
}

/** ConstantLR: `baseLr * factor` until `totalIters`, then `baseLr`. */
export function constantSchedule(o: { baseLr: number; factor?: number; totalIters?: number }): Schedule {
  const c = 'ConstantLR';
  const factor = checkNumber(c, 'factor', o.factor ?? 1 / 3, { min: 0, max: 1 });
  const total = checkNumber(c, 'totalIters', o.totalIters ?? 5, { min: 0, integer: true });
  const base = checkNumber(c, 'baseLr', o.baseLr, { min: 0 });
  return (t) => (checkStep(t), t < total ? base * factor : base);
}

/** LinearLR: `baseLr * (startFactor + (endFactor - startFactor) * min(t, totalIters) / totalIters)`. */
export function linearSchedule(o: { baseLr: number; startFactor?: number; endFactor?: number; totalIters?: number }): Schedule {
  const c = 'LinearLR';
  const start = checkNumber(c, 'startFactor', o.startFactor ?? 1 / 3, { min: 0, max: 1, minExclusive: true });
  const end = checkNumber(c, 'endFactor', o.endFactor ?? 1, { min: 0, max: 1 });
  const total = checkNumber(c, 'totalIters', o.totalIters ?? 5, { min: 1, integer: true });
  const base = checkNumber(c, 'baseLr', o.baseLr, { min: 0 });
  return (t) => (checkStep(t), base * (start + ((end - start) * Math.min(t, total)) / total));
}

/** ExponentialLR: `baseLr * gamma^t`. */
export function exponentialSchedule(o: { baseLr: number; gamma: number }): Schedule {
  const c = 'ExponentialLR';
  const gamma = checkNumber(c, 'gamma', o.gamma, { min: 0 });
  const base = checkNumber(c, 'baseLr', o.baseLr, { min: 0 });
  return (t) => (checkStep(t), base * pow(gamma, t));
}

/** PolynomialLR: `baseLr * (1 - min(t, totalIters) / totalIters)^power`. */
export function polynomialSchedule(o: { baseLr: number; totalIters?: number; power?: number }): Schedule {
  const c = 'PolynomialLR';
  const total = checkNumber(c, 'totalIters', o.totalIters ?? 5, { min: 1, integer: true });
  const power = checkNumber(c, 'power', o.power ?? 1, { min: 0 });
  const base = checkNumber(c, 'baseLr', o.baseLr, { min: 0 });
  return (t) => (checkStep(t), base * pow(1 - Math.min(t, total) / total, power));
}

/** CosineAnnealingLR: `etaMin + (baseLr - etaMin) * (1 + cos(pi t / tMax)) / 2` (periodic past tMax, as PyTorch). */
export function cosineSchedule(o: { baseLr: number; tMax: number; etaMin?: number }): Schedule {
  const c = 'CosineAnnealingLR';
  const tMax = checkNumber(c, 'tMax', o.tMax, { min: 1, integer: true });
  const etaMin = checkNumber(c, 'etaMin', o.etaMin ?? 0, { min: 0 });
  const base = checkNumber(c, 'baseLr', o.baseLr, { min: 0 });
  return (t) => (checkStep(t), etaMin + ((base - etaMin) * (1 + cosPi(t / tMax))) / 2);
}

/**
 * CosineAnnealingWarmRestarts (SGDR): cosine from `baseLr` to `etaMin` over `t0` steps, then
 * restarts, each cycle `tMult` times longer than the last.
 */
export function cosineWarmRestartsSchedule(o: { baseLr: number; t0: number; tMult?: number; etaMin?: number }): Schedule {
  const c = 'CosineAnnealingWarmRestarts';
  const t0 = checkNumber(c, 't0', o.t0, { min: 1, integer: true });
  const tMult = checkNumber(c, 'tMult', o.tMult ?? 1, { min: 1, integer: true });
  const etaMin = checkNumber(c, 'etaMin', o.etaMin ?? 0, { min: 0 });
  const base = checkNumber(c, 'baseLr', o.baseLr, { min: 0 });
  return (t) => {
    checkStep(t);
    let tCur = t, tI = t0;
    if (tMult === 1) tCur = t % t0;
    else while (tCur >= tI) { tCur -= tI; tI *= tMult; }
    return etaMin + ((base - etaMin) * (1 + cosPi(tCur / tI))) / 2;
  };
}

/**
 * Linear warm-up then cosine decay, the most common recipe: from `baseLr * warmupStartFactor`
 * up to `baseLr` over `warmupSteps`, then cosine down to `etaMin` at `totalSteps`, where it
 * stays. Equals SequentialLR([LinearLR, CosineAnnealingLR], [warmupSteps]) up to `totalSteps`.
 */
export function warmupCosineSchedule(o: { baseLr: number; warmupSteps: number; totalSteps: number; warmupStartFactor?: number; etaMin?: number }): Schedule {
  const c = 'warmupCosine';
  const warmup = checkNumber(c, 'warmupSteps', o.warmupSteps, { min: 0, integer: true });
  const total = checkNumber(c, 'totalSteps', o.totalSteps, { min: warmup + 1, integer: true });
  const start = checkNumber(c, 'warmupStartFactor', o.warmupStartFactor ?? 0, { min: 0, max: 1 });
  const etaMin = checkNumber(c, 'etaMin', o.etaMin ?? 0, { min: 0 });
  const base = checkNumber(c, 'baseLr', o.baseLr, { min: 0 });
  const decay = total - warmup;
  return (t) => {
    checkStep(t);
    if (t < warmup) return base * (start + ((1 - start) * t) / warmup);
    const s = Math.min(t - warmup, decay);
    return etaMin + ((base - etaMin) * (1 + cosPi(s / decay))) / 2;
  };
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

/** CyclicLR for one group: triangular waves between `baseLr` and `maxLr`, momentum inversely. */
export function cyclicSchedule(o: Omit<CyclicOptions, 'baseLr' | 'maxLr' | 'baseMomentum' | 'maxMomentum'> &
  { baseLr: number; maxLr: number; baseMomentum?: number; maxMomentum?: number }): ScheduleWithMomentum {
  const c = 'CyclicLR';
  const baseLr = checkNumber(c, 'baseLr', o.baseLr, { min: 0 });
  const maxLr = checkNumber(c, 'maxLr', o.maxLr, { min: 0 });
  const up = checkNumber(c, 'stepSizeUp', o.stepSizeUp ?? 2000, { min: 0, minExclusive: true });
  const down = checkNumber(c, 'stepSizeDown', o.stepSizeDown ?? up, { min: 0, minExclusive: true });
  const mode = o.mode ?? 'triangular';
  if (!['triangular', 'triangular2', 'exp_range'].includes(mode)) invalid(c, 'mode', mode, "'triangular', 'triangular2' or 'exp_range'");
  const gamma = checkNumber(c, 'gamma', o.gamma ?? 1, { min: 0 });
  const baseM = checkNumber(c, 'baseMomentum', o.baseMomentum ?? 0.8, { min: 0 });
  const maxM = checkNumber(c, 'maxMomentum', o.maxMomentum ?? 0.9, { min: 0 });
  let scaleFn: (x: number) => number;
  let scaleMode: 'cycle' | 'iterations';
  if (o.scaleFn !== undefined) {
    if (typeof o.scaleFn !== 'function') invalid(c, 'scaleFn', o.scaleFn, 'a function');
    scaleFn = o.scaleFn;
    scaleMode = o.scaleMode ?? 'cycle';
    if (scaleMode !== 'cycle' && scaleMode !== 'iterations') invalid(c, 'scaleMode', scaleMode, "'cycle' or 'iterations'");
  } else if (mode === 'triangular') {
    scaleFn = () => 1; scaleMode = 'cycle';
  } else if (mode === 'triangular2') {
    scaleFn = (x) => 1 / pow(2, x - 1); scaleMode = 'cycle';
  } else {
    scaleFn = (x) => pow(gamma, x); scaleMode = 'iterations';
  }
  const total = up + down;
  const ratio = up / total;
  const phase = (t: number) => {
    checkStep(t);
    const cycle = Math.floor(1 + t / total);
    const x = 1 + t / total - cycle;
    const factor = x <= ratio ? x / ratio : (x - 1) / (ratio - 1);
    return { factor, scale: scaleFn(scaleMode === 'cycle' ? cycle : t) };
  };
  return {
    lr: (t) => { const p = phase(t); return baseLr + (maxLr - baseLr) * p.factor * p.scale; },
    momentum: (t) => { const p = phase(t); return maxM - (maxM - baseM) * p.factor * p.scale; },
  };
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

/** Resolves `totalSteps` from `totalSteps` or `epochs * stepsPerEpoch`, as PyTorch does. */
export function oneCycleTotalSteps(o: OneCycleOptions): number {
  const c = 'OneCycleLR';
  if (o.totalSteps !== undefined) return checkNumber(c, 'totalSteps', o.totalSteps, { min: 1, integer: true });
  if (o.epochs === undefined || o.stepsPerEpoch === undefined) {
    throw new Error(`${c}: give totalSteps, or both epochs and stepsPerEpoch`);
  }
  return checkNumber(c, 'epochs', o.epochs, { min: 1, integer: true }) * checkNumber(c, 'stepsPerEpoch', o.stepsPerEpoch, { min: 1, integer: true });
}

/**
 * The 1Cycle policy (Smith & Topin, 2018) for one group, as PyTorch's OneCycleLR: the lr
 * rises from `maxLr / divFactor` to `maxLr` until step `pctStart * T - 1`, then anneals to
 * `maxLr / divFactor / finalDivFactor` at step `T - 1` (three-phase: back to the initial lr at
 * `2 pctStart T - 2`, then down to the minimum at `T - 1`); momentum moves inversely between
 * `maxMomentum` and `baseMomentum`. Cos annealing is `end + (start - end)/2 (cos(pi pct) + 1)`.
 *
 * Past the end (steps >= T - 1) the schedule holds its final values; PyTorch raises once
 * stepped past T and, at step T, extrapolates one step beyond the minimum (pytorch#91765).
 */
export function oneCycleSchedule(o: Omit<OneCycleOptions, 'maxLr' | 'baseMomentum' | 'maxMomentum'> &
  { maxLr: number; baseMomentum?: number; maxMomentum?: number }): ScheduleWithMomentum {
  const c = 'OneCycleLR';
  const total = oneCycleTotalSteps(o);
  const maxLr = checkNumber(c, 'maxLr', o.maxLr, { min: 0 });
  const pctStart = checkNumber(c, 'pctStart', o.pctStart ?? 0.3, { min: 0, max: 1 });
  const strategy = o.annealStrategy ?? 'cos';
  if (strategy !== 'cos' && strategy !== 'linear') invalid(c, 'annealStrategy', strategy, "'cos' or 'linear'");
  const divFactor = checkNumber(c, 'divFactor', o.divFactor ?? 25, { min: 0, minExclusive: true });
  const finalDivFactor = checkNumber(c, 'finalDivFactor', o.finalDivFactor ?? 1e4, { min: 0, minExclusive: true });
  const baseM = checkNumber(c, 'baseMomentum', o.baseMomentum ?? 0.85, { min: 0 });
  const maxM = checkNumber(c, 'maxMomentum', o.maxMomentum ?? 0.95, { min: 0 });
  const initialLr = maxLr / divFactor;
  const minLr = initialLr / finalDivFactor;
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
  const anneal = strategy === 'cos'
    ? (a: number, b: number, pct: number) => b + ((a - b) / 2) * (cosPi(pct) + 1)
    : (a: number, b: number, pct: number) => (b - a) * pct + a;
  const at = (t: number, key: 'lr' | 'm') => {
    checkStep(t);
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
}
