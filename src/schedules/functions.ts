// Pure learning-rate (and momentum) schedules: each checks its options and returns a function
// of the step alone, with no state, so a schedule can be plotted, tested or used without an
// optimizer. Each is the schedule table's entry (table.ts) of the scheduler class of the same
// name, which evaluates these and writes the param groups.
import {
  buildSchedule, resolveOptions, type ConstantLROptions, type ConstantWithWarmupLROptions, type CosineAnnealingLROptions,
  type CosineAnnealingWarmRestartsOptions, type CosineWithMinLROptions, type CyclicOptions, type ExponentialLROptions,
  type InverseSqrtLROptions, type LinearLROptions, type MultiStepLROptions, type OneCycleOptions, type PiecewiseInterpolateLROptions,
  type PolynomialLROptions, type SWALROptions, type Schedule, type ScheduleName, type ScheduleWithMomentum, type StepLROptions,
  type WarmupCosineLROptions, type WarmupCosineRestartsLROptions, type WarmupStableDecayLROptions,
} from './table.js';

export type {
  Schedule, ScheduleWithMomentum, CyclicOptions, OneCycleOptions, ConstantLROptions, CosineAnnealingLROptions,
  CosineAnnealingWarmRestartsOptions, ExponentialLROptions, LambdaLROptions, LinearLROptions, MultiStepLROptions,
  PolynomialLROptions, StepLROptions, WarmupCosineLROptions, MultiplicativeLROptions, SWALROptions, ConstantWithWarmupLROptions,
  InverseSqrtLROptions, WarmupStableDecayLROptions, WarmupStableDecayShape, CosineWithMinLROptions, PiecewiseInterpolateLROptions,
  WarmupCosineRestartsLROptions,
} from './table.js';
export { checkKeys, checkNumber, invalid } from '../validate.js';
export type { NumberRange } from '../validate.js';

/** The base lr of the pure schedules that scale one. */
export interface BaseLrOption {
  /** The learning rate the schedule starts from (a scheduler uses each group's `initialLr`), >= 0. */
  baseLr: number;
}

/** The pure schedule of a table entry that scales a base lr. */
const scaling = <O>(name: ScheduleName) => (o: BaseLrOption & O): Schedule => buildSchedule(name, o as Record<string, unknown>).lr;
/** The pure lr and momentum schedules of a cyclical table entry. */
const cycling = <O>(name: ScheduleName) => (o: O): ScheduleWithMomentum => {
  const s = buildSchedule(name, o as Record<string, unknown>);
  return { lr: s.lr, momentum: s.momentum! };
};

/** StepLR: `baseLr * gamma^floor(t / stepSize)`. */
export const stepSchedule = scaling<StepLROptions>('StepLR');
/** MultiStepLR: `baseLr * gamma^(number of milestones <= t)` (a repeated milestone counts twice). */
export const multiStepSchedule = scaling<MultiStepLROptions>('MultiStepLR');
/** ConstantLR: `baseLr * factor` until `totalIters`, then `baseLr`. */
export const constantSchedule = scaling<ConstantLROptions>('ConstantLR');
/** LinearLR: `baseLr * (startFactor + (endFactor - startFactor) * min(t, totalIters) / totalIters)`. */
export const linearSchedule = scaling<LinearLROptions>('LinearLR');
/** ExponentialLR: `baseLr * gamma^t`. */
export const exponentialSchedule = scaling<ExponentialLROptions>('ExponentialLR');
/** PolynomialLR: `baseLr * (1 - min(t, totalIters) / totalIters)^power`. */
export const polynomialSchedule = scaling<PolynomialLROptions>('PolynomialLR');
/** CosineAnnealingLR: `etaMin + (baseLr - etaMin) * (1 + cos(pi t / tMax)) / 2` (periodic past tMax, as PyTorch). */
export const cosineSchedule = scaling<CosineAnnealingLROptions>('CosineAnnealingLR');
/**
 * CosineAnnealingWarmRestarts (SGDR): cosine from `baseLr` to `etaMin` over `t0` steps, then
 * restarts, each cycle `tMult` times longer than the last.
 */
export const cosineWarmRestartsSchedule = scaling<CosineAnnealingWarmRestartsOptions>('CosineAnnealingWarmRestarts');
/**
 * Linear warm-up then cosine decay, the most common recipe: from `baseLr * warmupStartFactor`
 * up to `baseLr` over `warmupSteps`, then cosine down to `etaMin` at `totalSteps`, where it
 * stays. Equals SequentialLR([LinearLR, CosineAnnealingLR], [warmupSteps]) up to `totalSteps`.
 */
export const warmupCosineSchedule = scaling<WarmupCosineLROptions>('WarmupCosineLR');

/**
 * SWALR (PyTorch's torch.optim.swa_utils.SWALR): from `baseLr` (the lr when the anneal starts)
 * to `swaLr` over `annealEpochs` steps: `swaLr * a + baseLr * (1 - a)` with
 * `a = (1 - cos(pi x)) / 2` ('cos') or `x` ('linear'), `x = min(1, t / annealEpochs)`;
 * `swaLr` from step 0 when `annealEpochs` is 0.
 */
export const swaSchedule = scaling<Omit<SWALROptions, 'swaLr'> & { swaLr: number }>('SWALR');
/**
 * Hugging Face's constant schedule with warm-up (`get_constant_schedule_with_warmup`):
 * `baseLr * t / warmupSteps` while `t < warmupSteps`, then `baseLr`.
 */
export const constantWithWarmupSchedule = scaling<ConstantWithWarmupLROptions>('ConstantWithWarmupLR');
/**
 * Hugging Face's inverse square root schedule (`get_inverse_sqrt_schedule`): the linear warm-up,
 * then `baseLr / sqrt((t + timescale - warmupSteps) / timescale)`.
 */
export const inverseSqrtSchedule = scaling<InverseSqrtLROptions>('InverseSqrtLR');
/**
 * Hugging Face's warmup–stable–decay schedule (`get_wsd_schedule`): warm-up ('linear',
 * 'cosine' or '1-sqrt') from `baseLr * minLrRatio` to `baseLr`, `stableSteps` at `baseLr`, decay
 * ('cosine', 'linear' or '1-sqrt') back to `baseLr * minLrRatio`, where it stays.
 */
export const warmupStableDecaySchedule = scaling<WarmupStableDecayLROptions>('WarmupStableDecayLR');
/**
 * Hugging Face's cosine schedule with a minimum lr (`get_cosine_with_min_lr_schedule_with_warmup`):
 * linear warm-up from 0, then `baseLr * max(0, c (1 - r) + r)`, `c = (1 + cos(2 pi numCycles p)) / 2`,
 * `p = (t - warmupSteps) / (totalSteps - warmupSteps)`, `r = minLrRate` or `minLr / baseLr`.
 */
export const cosineWithMinLrSchedule = scaling<Omit<CosineWithMinLROptions, 'minLr'> & { minLr?: number }>('CosineWithMinLR');
/**
 * optax's `piecewise_interpolate_schedule`: the value at `boundaries[k]` is `baseLr` times
 * `scales[0] * ... * scales[k]`; between boundaries (and from 0 to the first) it moves
 * linearly or along a half cosine; from the last boundary on it holds.
 */
export const piecewiseInterpolateSchedule = scaling<PiecewiseInterpolateLROptions>('PiecewiseInterpolateLR');
/**
 * optax's `sgdr_schedule` of `warmup_cosine_decay_schedule` cycles: cycle k lasts
 * `cycleSteps[k]` steps, warming up linearly from `baseLr * startFactor` to its peak
 * `baseLr * peakFactors[k]` over `warmupSteps`, then decaying along a cosine (raised to
 * `exponent`) to `baseLr * endFactor`; past the last cycle it holds that end value.
 */
export const warmupCosineRestartsSchedule = scaling<WarmupCosineRestartsLROptions>('WarmupCosineRestartsLR');

/** CyclicLR for one group: triangular waves between `baseLr` and `maxLr`, momentum inversely. */
export const cyclicSchedule = cycling<Omit<CyclicOptions, 'baseLr' | 'maxLr' | 'baseMomentum' | 'maxMomentum'> &
  { baseLr: number; maxLr: number; baseMomentum?: number; maxMomentum?: number }>('CyclicLR');

/** Resolves `totalSteps` from `totalSteps` or `epochs * stepsPerEpoch`, as PyTorch does. */
export function oneCycleTotalSteps(o: OneCycleOptions): number {
  return resolveOptions('OneCycleLR', o as unknown as Record<string, unknown>, ['epochs', 'stepsPerEpoch', 'totalSteps']).totalSteps as number;
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
export const oneCycleSchedule = cycling<Omit<OneCycleOptions, 'maxLr' | 'baseMomentum' | 'maxMomentum'> &
  { maxLr: number; baseMomentum?: number; maxMomentum?: number }>('OneCycleLR');
