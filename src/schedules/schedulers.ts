import { checkNumber, invalid, perGroup, wrongType } from '../validate.js';
import { HyperparameterScheduler } from './hyperparameter.js';
import { ReduceLROnPlateau } from './plateau.js';
import { LRScheduler, momentumKey, type AnyOptimizer, type SchedulerStateBase } from './scheduler.js';
import {
  CLI_SCHEDULES, makeSchedule, resolveOptions, scheduleSpec, type ConstantLROptions, type ConstantWithWarmupLROptions,
  type CosineAnnealingLROptions, type CosineAnnealingWarmRestartsOptions, type CosineWithMinLROptions, type CyclicOptions,
  type ExponentialLROptions, type InverseSqrtLROptions, type LambdaLROptions, type LinearLROptions, type MultiStepLROptions,
  type MultiplicativeLROptions, type OneCycleOptions, type PiecewiseInterpolateLROptions, type PolynomialLROptions,
  type SWALROptions, type Schedule, type ScheduleName, type StepLROptions, type WarmupCosineLROptions,
  type WarmupCosineRestartsLROptions, type WarmupStableDecayLROptions,
} from './table.js';

/**
 * A scheduler that evaluates the pure schedules of one entry of the schedule table, one per
 * param group (and a momentum schedule for the cyclical policies): it checks the options
 * against the table, records each group's base lr, and writes the values of each step. @internal
 */
export abstract class FunctionScheduler extends LRScheduler {
  /** Each group's options, checked, with the defaults applied. @internal */
  protected readonly settings: readonly Record<string, unknown>[];
  readonly #entry: ScheduleName;
  #lrs: Schedule[] = [];
  #momenta: Schedule[] | undefined;

  /** @internal */
  protected constructor(optimizer: AnyOptimizer, name: ScheduleName, options: object) {
    const spec = scheduleSpec(name);
    super(optimizer, name, options, Object.keys(spec.options));
    this.#entry = name;
    const n = this.baseLrs.length, raw = options as Record<string, unknown>;
    const perGroupKeys = Object.keys(spec.options).filter((k) => spec.options[k].perGroup);
    const spread = perGroupKeys.map((k) => perGroup(name, k, raw[k], n));
    this.settings = this.baseLrs.map((_, i) => resolveOptions(name, { ...raw, ...Object.fromEntries(perGroupKeys.map((k, j) => [k, spread[j][i]])) }));
    const cycle = this.settings[0].cycleMomentum === true;
    if (cycle && momentumKey(optimizer) === undefined) {
      throw new Error(`${name}: cycleMomentum needs an optimizer with momentum or betas; ${optimizer.constructor.name} has neither (pass cycleMomentum: false)`);
    }
    // Everything checked: from here on the groups change.
    if (spec.initialLr) this.baseLrs.splice(0, n, ...this.settings.map((o) => spec.initialLr!(o)));
    else if (spec.startsFromLr) this.baseLrs.splice(0, n, ...this.groups.map((g) => g.lr as number));
    if (spec.record) this.groups.forEach((g, i) => Object.assign(g, spec.record!(this.settings[i], this.baseLrs[i])));
    this.rebuild();
    this.start();
  }

  /** Builds each group's schedules from its options and base lr (again after a state load). @internal */
  protected override rebuild(): void {
    const built = this.settings.map((o, i) => makeSchedule(this.#entry, o, this.baseLrs[i]));
    this.#lrs = built.map((s) => s.lr);
    if (this.settings[0].cycleMomentum === true) this.#momenta = built.map((s) => s.momentum!);
  }

  lrAt(t: number, group: number): number {
    return this.#lrs[group](t);
  }

  override momentumAt(t: number, group: number): number | undefined {
    return this.#momenta?.[group](t);
  }

  protected override basesAreInitialLrs(): boolean {
    return scheduleSpec(this.#entry).startsFromLr !== true;
  }
}

/**
 * StepLR: decays each group's lr by `gamma` every `stepSize` steps:
 * `lr = initialLr * gamma^floor(t / stepSize)`.
 * @example new StepLR(opt, { stepSize: 30, gamma: 0.1 })
 */
export class StepLR extends FunctionScheduler {
  constructor(optimizer: AnyOptimizer, options: StepLROptions) {
    super(optimizer, 'StepLR', options);
  }
}

/**
 * MultiStepLR: decays by `gamma` at each milestone: `lr = initialLr * gamma^(milestones <= t)`.
 * @example new MultiStepLR(opt, { milestones: [30, 80], gamma: 0.1 })
 */
export class MultiStepLR extends FunctionScheduler {
  constructor(optimizer: AnyOptimizer, options: MultiStepLROptions) {
    super(optimizer, 'MultiStepLR', options);
  }
}

/** ConstantLR: `lr = initialLr * factor` for the first `totalIters` steps, then `initialLr`. */
export class ConstantLR extends FunctionScheduler {
  constructor(optimizer: AnyOptimizer, options: ConstantLROptions = {}) {
    super(optimizer, 'ConstantLR', options);
  }
}

/** LinearLR: `lr = initialLr * (startFactor + (endFactor - startFactor) * min(t, totalIters) / totalIters)`. */
export class LinearLR extends FunctionScheduler {
  constructor(optimizer: AnyOptimizer, options: LinearLROptions = {}) {
    super(optimizer, 'LinearLR', options);
  }
}

/** ExponentialLR: `lr = initialLr * gamma^t`. */
export class ExponentialLR extends FunctionScheduler {
  constructor(optimizer: AnyOptimizer, options: ExponentialLROptions) {
    super(optimizer, 'ExponentialLR', options);
  }
}

/** PolynomialLR: `lr = initialLr * (1 - min(t, totalIters) / totalIters)^power`. */
export class PolynomialLR extends FunctionScheduler {
  constructor(optimizer: AnyOptimizer, options: PolynomialLROptions = {}) {
    super(optimizer, 'PolynomialLR', options);
  }
}

/**
 * CosineAnnealingLR: `lr = etaMin + (initialLr - etaMin) * (1 + cos(pi t / tMax)) / 2`
 * (periodic past `tMax`, as PyTorch).
 */
export class CosineAnnealingLR extends FunctionScheduler {
  constructor(optimizer: AnyOptimizer, options: CosineAnnealingLROptions) {
    super(optimizer, 'CosineAnnealingLR', options);
  }
}

/**
 * CosineAnnealingWarmRestarts (SGDR, Loshchilov & Hutter 2017): cosine annealing from
 * `initialLr` to `etaMin` over `t0` steps, restarting with cycles `tMult` times longer.
 */
export class CosineAnnealingWarmRestarts extends FunctionScheduler {
  constructor(optimizer: AnyOptimizer, options: CosineAnnealingWarmRestartsOptions) {
    super(optimizer, 'CosineAnnealingWarmRestarts', options);
  }
}

/**
 * Linear warm-up then cosine decay: from `initialLr * warmupStartFactor` up to `initialLr`
 * over `warmupSteps`, then cosine down to `etaMin` at `totalSteps`, where it stays. Not a
 * PyTorch class: the recipe PyTorch users build from SequentialLR.
 * @example new WarmupCosineLR(opt, { warmupSteps: 500, totalSteps: 10_000 })
 */
export class WarmupCosineLR extends FunctionScheduler {
  constructor(optimizer: AnyOptimizer, options: WarmupCosineLROptions) {
    super(optimizer, 'WarmupCosineLR', options);
  }
}

/**
 * LambdaLR: `lr = initialLr * lrLambda(t)`, with one function, or one per group.
 * @example new LambdaLR(opt, { lrLambda: (t) => 0.95 ** t })
 */
export class LambdaLR extends FunctionScheduler {
  constructor(optimizer: AnyOptimizer, options: LambdaLROptions) {
    super(optimizer, 'LambdaLR', options);
  }
}

/**
 * CyclicLR (Smith, 2017): the lr cycles between `baseLr` and `maxLr` in triangular waves of
 * `stepSizeUp + stepSizeDown` steps ('triangular', 'triangular2' halving the amplitude each
 * cycle, 'exp_range' scaling it by `gamma^t`, or a custom `scaleFn`); momentum cycles
 * inversely between `maxMomentum` and `baseMomentum`. Sets each group's lr to `baseLr` at
 * construction.
 */
export class CyclicLR extends FunctionScheduler {
  constructor(optimizer: AnyOptimizer, options: CyclicOptions) {
    super(optimizer, 'CyclicLR', options);
  }
}

/**
 * OneCycleLR, the 1Cycle policy (Smith & Topin, 2018), as PyTorch: the lr rises from
 * `maxLr / divFactor` to `maxLr` over the first `pctStart` of the cycle, then anneals to
 * `maxLr / divFactor / finalDivFactor`; momentum (`momentum`, or `betas[0]` for the Adam
 * family) moves inversely between `maxMomentum` and `baseMomentum`. `maxLr` and the momenta
 * may be per-group arrays.
 *
 * Past the end: after `totalSteps - 1` steps the scheduler holds the final values (the
 * minimum lr, `maxMomentum`) however often it is stepped. PyTorch raises a ValueError once
 * stepped past `totalSteps`, and its `totalSteps`-th step extrapolates past the minimum
 * (pytorch/pytorch#91765); holding is what a training loop that steps the scheduler once
 * too often wants, and `finished` tells when the cycle is over.
 *
 * @example
 * const opt = new SGD(params, { lr: 0.1, momentum: 0.9 });
 * const sched = new OneCycleLR(opt, { maxLr: 0.1, totalSteps: epochs * batches });
 * for (...) { computeGradients(); opt.step(); sched.step(); }
 */
export class OneCycleLR extends FunctionScheduler {
  /** Steps in the cycle. */
  readonly totalSteps: number;

  constructor(optimizer: AnyOptimizer, options: OneCycleOptions) {
    super(optimizer, 'OneCycleLR', options);
    this.totalSteps = this.settings[0].totalSteps as number;
  }

  /** True once the cycle has reached its last step (further steps hold the final values). */
  get finished(): boolean {
    return this.lastEpoch >= this.totalSteps - 1;
  }
}

/**
 * MultiplicativeLR: each step multiplies the lr by `lrLambda(t)` (PyTorch's MultiplicativeLR):
 * `lr = lr₀ * lrLambda(1) * ... * lrLambda(t)`, where lr₀ is the lr the group holds when the
 * scheduler is built (as PyTorch, not its `initialLr`). One function, or one per group.
 * @example new MultiplicativeLR(opt, { lrLambda: () => 0.95 })
 */
export class MultiplicativeLR extends FunctionScheduler {
  constructor(optimizer: AnyOptimizer, options: MultiplicativeLROptions) {
    super(optimizer, 'MultiplicativeLR', options);
  }
}

/**
 * SWALR, PyTorch's scheduler for stochastic weight averaging (torch.optim.swa_utils.SWALR):
 * anneals each group's lr to `swaLr` (one, or one per group) over `annealEpochs` steps
 * (default 10; 0 sets swaLr at once), along a cosine (`annealStrategy: 'cos'`, the default) or
 * linearly: `lr = swaLr * a + lr₀ * (1 - a)`, `a = (1 - cos(pi x)) / 2` or `x`,
 * `x = min(1, t / annealEpochs)`. It leaves momentum alone, so it works with any optimizer.
 *
 * lr₀ is the lr the group holds when SWALR takes its first step, as in PyTorch, whose SWALR
 * recovers it from the group's lr: built at the start of training beside another scheduler,
 * SWALR anneals from wherever that scheduler has left the lr when you switch to stepping
 * SWALR. (PyTorch keeps recovering it at each step; here it is recorded once, in the state.)
 * @example
 * const cosine = new CosineAnnealingLR(opt, { tMax: 100 });
 * const swa = new SWALR(opt, { swaLr: 0.05, annealEpochs: 5 });
 * for (let epoch = 0; epoch < 100; epoch++) {
 *   train();
 *   if (epoch >= 75) { averaged.updateParameters(); swa.step(); } else cosine.step();
 * }
 */
export class SWALR extends FunctionScheduler {
  constructor(optimizer: AnyOptimizer, options: SWALROptions) {
    super(optimizer, 'SWALR', options);
  }

  /** Advances one step; the first records the groups' lr as the start of the anneal. */
  override step(): void {
    if (this.lastEpoch === 0 && this.groups.length === this.baseLrs.length) {
      this.baseLrs.splice(0, this.baseLrs.length, ...this.groups.map((g) => g.lr as number));
      this.rebuild();
    }
    super.step();
  }
}

/**
 * Constant lr after a linear warm-up from 0 (Hugging Face's `get_constant_schedule_with_warmup`):
 * `lr = initialLr * t / warmupSteps` while `t < warmupSteps`, then `initialLr`.
 * @example new ConstantWithWarmupLR(opt, { warmupSteps: 500 })
 */
export class ConstantWithWarmupLR extends FunctionScheduler {
  constructor(optimizer: AnyOptimizer, options: ConstantWithWarmupLROptions) {
    super(optimizer, 'ConstantWithWarmupLR', options);
  }
}

/**
 * Inverse square root decay after a linear warm-up from 0 (Hugging Face's
 * `get_inverse_sqrt_schedule`): `lr = initialLr / sqrt((t + timescale - warmupSteps) / timescale)`
 * from `warmupSteps` on; `timescale` defaults to `warmupSteps` (10000 when that is 0).
 * @example new InverseSqrtLR(opt, { warmupSteps: 4000 })
 */
export class InverseSqrtLR extends FunctionScheduler {
  constructor(optimizer: AnyOptimizer, options: InverseSqrtLROptions) {
    super(optimizer, 'InverseSqrtLR', options);
  }
}

/**
 * Warmup–stable–decay (Hugging Face's `get_wsd_schedule`): warm-up from `initialLr * minLrRatio`
 * to `initialLr` over `warmupSteps` ('linear', 'cosine' or '1-sqrt'), `stableSteps` at
 * `initialLr` (or what `totalSteps` leaves), decay over `decaySteps` back to
 * `initialLr * minLrRatio` ('cosine' with `numCycles` waves, 'linear' or '1-sqrt'), then that.
 * Hugging Face warns and uses stableSteps when both it and totalSteps are given; here they
 * must agree.
 * @example new WarmupStableDecayLR(opt, { warmupSteps: 1000, decaySteps: 2000, totalSteps: 20_000, decayType: '1-sqrt' })
 */
export class WarmupStableDecayLR extends FunctionScheduler {
  constructor(optimizer: AnyOptimizer, options: WarmupStableDecayLROptions) {
    super(optimizer, 'WarmupStableDecayLR', options);
  }
}

/**
 * Cosine decay to a minimum lr after a linear warm-up from 0 (Hugging Face's
 * `get_cosine_with_min_lr_schedule_with_warmup`): `lr = initialLr * max(0, c (1 - r) + r)`,
 * `c = (1 + cos(2 pi numCycles p)) / 2`, `p = (t - warmupSteps) / (totalSteps - warmupSteps)`,
 * with `r = minLrRate`, or `minLr / initialLr` so that each group reaches `minLr` (Hugging
 * Face divides minLr by the optimizer's default lr, the same for every group). As the source,
 * `p` is not clamped: past `totalSteps` the cosine goes on (back up, for numCycles 0.5).
 * @example new CosineWithMinLR(opt, { warmupSteps: 100, totalSteps: 10_000, minLrRate: 0.1 })
 */
export class CosineWithMinLR extends FunctionScheduler {
  constructor(optimizer: AnyOptimizer, options: CosineWithMinLROptions) {
    super(optimizer, 'CosineWithMinLR', options);
  }
}

/**
 * Piecewise interpolation (optax's `piecewise_interpolate_schedule`): the lr at
 * `boundaries[k]` is `initialLr * scales[0] * ... * scales[k]`; from step 0 to the first
 * boundary and between boundaries it moves linearly (`interpolateType: 'linear'`, the default)
 * or along a half cosine ('cosine'); from the last boundary on it holds.
 * @example new PiecewiseInterpolateLR(opt, { interpolateType: 'cosine', boundaries: [1000, 5000], scales: [0.1, 0.1] })
 */
export class PiecewiseInterpolateLR extends FunctionScheduler {
  constructor(optimizer: AnyOptimizer, options: PiecewiseInterpolateLROptions) {
    super(optimizer, 'PiecewiseInterpolateLR', options);
  }
}

/**
 * SGDR with warm-up and a peak per cycle (optax's `sgdr_schedule` of
 * `warmup_cosine_decay_schedule` cycles): cycle k lasts `cycleSteps[k]` steps; it warms up
 * linearly from `initialLr * startFactor` to `initialLr * peakFactors[k]` over `warmupSteps`,
 * then decays along a cosine (raised to `exponent`) to `initialLr * endFactor`. After the last
 * cycle the lr holds its end value. (CosineAnnealingWarmRestarts is PyTorch's SGDR without
 * warm-up, restarting at the same peak.)
 * @example new WarmupCosineRestartsLR(opt, { cycleSteps: [1000, 2000, 4000], peakFactors: [1, 0.5, 0.25], warmupSteps: 100 })
 */
export class WarmupCosineRestartsLR extends FunctionScheduler {
  constructor(optimizer: AnyOptimizer, options: WarmupCosineRestartsLROptions) {
    super(optimizer, 'WarmupCosineRestartsLR', options);
  }
}

/** The scheduler classes of the schedule table, by entry: every entry has one. @internal */
export const SCHEDULER_CLASSES = {
  OneCycleLR, CyclicLR, StepLR, MultiStepLR, ConstantLR, LinearLR, ExponentialLR, PolynomialLR, CosineAnnealingLR,
  CosineAnnealingWarmRestarts, WarmupCosineLR, LambdaLR, MultiplicativeLR, SWALR, ConstantWithWarmupLR, InverseSqrtLR,
  WarmupStableDecayLR, CosineWithMinLR, PiecewiseInterpolateLR, WarmupCosineRestartsLR,
} satisfies Record<ScheduleName, new (optimizer: AnyOptimizer, options: never) => FunctionScheduler>;

/** A scheduler of the schedule table by its command-line name (`onecycle`, `cosine`, ...). @internal */
export function createScheduler(cliName: string, optimizer: AnyOptimizer, options: object): FunctionScheduler {
  const name = CLI_SCHEDULES.get(cliName);
  if (!name) throw new Error(`unknown schedule ${JSON.stringify(cliName)} (known: ${[...CLI_SCHEDULES.keys()].join(', ')})`);
  return new SCHEDULER_CLASSES[name](optimizer, options as never);
}

/** Checks the children of a composite: schedulers of `optimizer` with a schedule (and, where `hyper`, HyperparameterSchedulers). */
function checkChildren<T extends LRScheduler<SchedulerStateBase>>(name: string, optimizer: AnyOptimizer, schedulers: unknown, hyper: boolean): T[] {
  if (!Array.isArray(schedulers)) wrongType(name, 'schedulers', schedulers, 'an array of schedulers');
  if (schedulers.length === 0) invalid(name, 'schedulers', schedulers, 'a non-empty array of schedulers');
  schedulers.forEach((s, i) => {
    if (!(s instanceof LRScheduler) || s instanceof ReduceLROnPlateau) wrongType(name, `schedulers[${i}]`, s, 'a scheduler with a schedule (ReduceLROnPlateau cannot be composed)');
    if (!hyper && s instanceof HyperparameterScheduler) wrongType(name, `schedulers[${i}]`, s, 'a learning-rate scheduler (chain a HyperparameterScheduler with ChainedScheduler, or step it on its own)');
    if (s.optimizer !== optimizer) throw new Error(`${name}: schedulers[${i}] belongs to another optimizer`);
  });
  return schedulers as T[];
}

/**
 * SequentialLR: runs `schedulers[0]` until `milestones[0]`, then `schedulers[1]` from its own
 * step 0, and so on (PyTorch's SequentialLR). Step this scheduler, not its children.
 * @example
 * const warm = new LinearLR(opt, { startFactor: 0.01, totalIters: 10 });
 * const cos = new CosineAnnealingLR(opt, { tMax: 90 });
 * const sched = new SequentialLR(opt, { schedulers: [warm, cos], milestones: [10] });
 */
export class SequentialLR extends LRScheduler {
  readonly #schedulers: LRScheduler[];
  readonly #milestones: number[];

  constructor(optimizer: AnyOptimizer, options: { schedulers: LRScheduler[]; milestones: number[] }) {
    super(optimizer, 'SequentialLR', options, ['schedulers', 'milestones']);
    this.#schedulers = checkChildren(this.name, optimizer, options.schedulers, false);
    const m = options.milestones;
    if (!Array.isArray(m) || m.length !== this.#schedulers.length - 1) {
      const n = this.#schedulers.length - 1;
      invalid(this.name, 'milestones', m, `an array of ${n} whole number${n === 1 ? '' : 's'}, one fewer than schedulers`);
    }
    m.forEach((x, i) => {
      checkNumber(this.name, `milestones[${i}]`, x, { min: 1, integer: true });
      if (i > 0 && x <= m[i - 1]) invalid(this.name, 'milestones', m, 'increasing');
    });
    this.#milestones = [...m];
    // Every child keeps the base it recorded; the groups start again from step 0 of the first.
    this.baseLrs.splice(0, this.baseLrs.length, ...this.#schedulers[0].baseLrs);
    this.start();
  }

  #active(t: number): [LRScheduler, number] {
    let k = 0;
    while (k < this.#milestones.length && t >= this.#milestones[k]) k++;
    return [this.#schedulers[k], k === 0 ? t : t - this.#milestones[k - 1]];
  }

  lrAt(t: number, group: number): number {
    const [s, local] = this.#active(t);
    return s.lrAt(local, group);
  }

  override momentumAt(t: number, group: number): number | undefined {
    const [s, local] = this.#active(t);
    return s.momentumAt(local, group);
  }

  protected override children(): readonly LRScheduler<SchedulerStateBase>[] {
    return this.#schedulers;
  }
}

/**
 * ChainedScheduler: applies several schedulers at once; the lr is the initial lr times the
 * product of each child's factor (its lr over its own base), which is what PyTorch's
 * chaining computes for the multiplicative schedulers (Step, MultiStep, Constant, Linear,
 * Exponential, Polynomial, Lambda, Multiplicative, and cosine with etaMin = 0). Momentum comes
 * from the last child that sets it. A {@link HyperparameterScheduler} child writes its own key
 * at each step (after the lr and momentum) and takes no part in the lr. Step this scheduler,
 * not its children; its state holds theirs.
 * @example new ChainedScheduler(opt, { schedulers: [new ConstantLR(opt, { factor: 0.1, totalIters: 2 }), new ExponentialLR(opt, { gamma: 0.9 })] })
 */
export class ChainedScheduler extends LRScheduler {
  readonly #schedulers: (LRScheduler | HyperparameterScheduler)[];
  readonly #lrSchedulers: LRScheduler[];
  readonly #hyper: HyperparameterScheduler[];

  constructor(optimizer: AnyOptimizer, options: { schedulers: readonly (LRScheduler | HyperparameterScheduler)[] }) {
    super(optimizer, 'ChainedScheduler', options, ['schedulers']);
    this.#schedulers = checkChildren(this.name, optimizer, options.schedulers, true);
    this.#hyper = this.#schedulers.filter((s): s is HyperparameterScheduler => s instanceof HyperparameterScheduler);
    this.#lrSchedulers = this.#schedulers.filter((s): s is LRScheduler => !(s instanceof HyperparameterScheduler));
    if (this.#lrSchedulers.length) this.baseLrs.splice(0, this.baseLrs.length, ...this.#lrSchedulers[0].baseLrs);
    this.start();
  }

  lrAt(t: number, group: number): number {
    let lr = this.baseLrs[group];
    if (lr === 0) return 0;
    for (const s of this.#lrSchedulers) lr *= s.lrAt(t, group) / s.baseLrs[group];
    return lr;
  }

  override momentumAt(t: number, group: number): number | undefined {
    let m: number | undefined;
    for (const s of this.#lrSchedulers) m = s.momentumAt(t, group) ?? m;
    return m;
  }

  /** @internal */
  protected override apply(t: number): void {
    // The hyperparameters' values are checked before anything is written.
    const writes = this.#hyper.map((h) => h.prepare(t));
    super.apply(t);
    for (const write of writes) write();
  }

  protected override children(): readonly LRScheduler<SchedulerStateBase>[] {
    return this.#schedulers;
  }
}
