import {
  checkKeys, checkNumber, constantSchedule, cosineSchedule, cosineWarmRestartsSchedule, cyclicSchedule, exponentialSchedule,
  invalid, linearSchedule, multiStepSchedule, oneCycleSchedule, oneCycleTotalSteps, polynomialSchedule, stepSchedule,
  warmupCosineSchedule, type CyclicOptions, type OneCycleOptions,
} from './functions.js';
import { FunctionScheduler, LRScheduler, momentumKey, perGroup, type AnyOptimizer } from './scheduler.js';

type Group = Record<string, unknown>;


/**
 * StepLR: decays each group's lr by `gamma` every `stepSize` steps:
 * `lr = initialLr * gamma^floor(t / stepSize)`.
 * @example new StepLR(opt, { stepSize: 30, gamma: 0.1 })
 */
export class StepLR extends FunctionScheduler {
  constructor(optimizer: AnyOptimizer, options: { stepSize: number; gamma?: number }) {
    super(optimizer, 'StepLR', options);
    checkKeys(this.name, options, ['stepSize', 'gamma']);
    this.schedules((baseLr) => stepSchedule({ baseLr, ...options }));
    this.start();
  }
}

/**
 * MultiStepLR: decays by `gamma` at each milestone: `lr = initialLr * gamma^(milestones <= t)`.
 * @example new MultiStepLR(opt, { milestones: [30, 80], gamma: 0.1 })
 */
export class MultiStepLR extends FunctionScheduler {
  constructor(optimizer: AnyOptimizer, options: { milestones: number[]; gamma?: number }) {
    super(optimizer, 'MultiStepLR', options);
    checkKeys(this.name, options, ['milestones', 'gamma']);
    this.schedules((baseLr) => multiStepSchedule({ baseLr, ...options }));
    this.start();
  }
}

/**
 * ConstantLR: `lr = initialLr * factor` for the first `totalIters` steps, then `initialLr`.
 * Defaults: `factor = 1/3, totalIters = 5`.
 */
export class ConstantLR extends FunctionScheduler {
  constructor(optimizer: AnyOptimizer, options: { factor?: number; totalIters?: number } = {}) {
    super(optimizer, 'ConstantLR', options);
    checkKeys(this.name, options, ['factor', 'totalIters']);
    this.schedules((baseLr) => constantSchedule({ baseLr, ...options }));
    this.start();
  }
}

/**
 * LinearLR: `lr = initialLr * (startFactor + (endFactor - startFactor) * min(t, totalIters) / totalIters)`.
 * Defaults: `startFactor = 1/3, endFactor = 1, totalIters = 5`.
 */
export class LinearLR extends FunctionScheduler {
  constructor(optimizer: AnyOptimizer, options: { startFactor?: number; endFactor?: number; totalIters?: number } = {}) {
    super(optimizer, 'LinearLR', options);
    checkKeys(this.name, options, ['startFactor', 'endFactor', 'totalIters']);
    this.schedules((baseLr) => linearSchedule({ baseLr, ...options }));
    this.start();
  }
}

/** ExponentialLR: `lr = initialLr * gamma^t`. */
export class ExponentialLR extends FunctionScheduler {
  constructor(optimizer: AnyOptimizer, options: { gamma: number }) {
    super(optimizer, 'ExponentialLR', options);
    checkKeys(this.name, options, ['gamma']);
    this.schedules((baseLr) => exponentialSchedule({ baseLr, ...options }));
    this.start();
  }
}

/**
 * PolynomialLR: `lr = initialLr * (1 - min(t, totalIters) / totalIters)^power`.
 * Defaults: `totalIters = 5, power = 1`.
 */
export class PolynomialLR extends FunctionScheduler {
  constructor(optimizer: AnyOptimizer, options: { totalIters?: number; power?: number } = {}) {
    super(optimizer, 'PolynomialLR', options);
    checkKeys(this.name, options, ['totalIters', 'power']);
    this.schedules((baseLr) => polynomialSchedule({ baseLr, ...options }));
    this.start();
  }
}

/**
 * CosineAnnealingLR: `lr = etaMin + (initialLr - etaMin) * (1 + cos(pi t / tMax)) / 2`
 * (periodic past `tMax`, as PyTorch). Default `etaMin = 0`.
 */
export class CosineAnnealingLR extends FunctionScheduler {
  constructor(optimizer: AnyOptimizer, options: { tMax: number; etaMin?: number }) {
    super(optimizer, 'CosineAnnealingLR', options);
    checkKeys(this.name, options, ['tMax', 'etaMin']);
    this.schedules((baseLr) => cosineSchedule({ baseLr, ...options }));
    this.start();
  }
}

/**
 * CosineAnnealingWarmRestarts (SGDR, Loshchilov & Hutter 2017): cosine annealing from
 * `initialLr` to `etaMin` over `t0` steps, restarting with cycles `tMult` times longer.
 * Defaults: `tMult = 1, etaMin = 0`.
 */
export class CosineAnnealingWarmRestarts extends FunctionScheduler {
  constructor(optimizer: AnyOptimizer, options: { t0: number; tMult?: number; etaMin?: number }) {
    super(optimizer, 'CosineAnnealingWarmRestarts', options);
    checkKeys(this.name, options, ['t0', 'tMult', 'etaMin']);
    this.schedules((baseLr) => cosineWarmRestartsSchedule({ baseLr, ...options }));
    this.start();
  }
}

/**
 * Linear warm-up then cosine decay: from `initialLr * warmupStartFactor` (default 0) up to
 * `initialLr` over `warmupSteps`, then cosine down to `etaMin` (default 0) at `totalSteps`,
 * where it stays. Not a PyTorch class: the recipe PyTorch users build from SequentialLR.
 * @example new WarmupCosineLR(opt, { warmupSteps: 500, totalSteps: 10_000 })
 */
export class WarmupCosineLR extends FunctionScheduler {
  constructor(optimizer: AnyOptimizer, options: { warmupSteps: number; totalSteps: number; warmupStartFactor?: number; etaMin?: number }) {
    super(optimizer, 'WarmupCosineLR', options);
    checkKeys(this.name, options, ['warmupSteps', 'totalSteps', 'warmupStartFactor', 'etaMin']);
    this.schedules((baseLr) => warmupCosineSchedule({ baseLr, ...options }));
    this.start();
  }
}

/**
 * LambdaLR: `lr = initialLr * lrLambda(t)`, with one function, or one per group.
 * @example new LambdaLR(opt, { lrLambda: (t) => 0.95 ** t })
 */
export class LambdaLR extends FunctionScheduler {
  constructor(optimizer: AnyOptimizer, options: { lrLambda: ((t: number) => number) | ((t: number) => number)[] }) {
    super(optimizer, 'LambdaLR', options);
    checkKeys(this.name, options, ['lrLambda']);
    const fns = Array.isArray(options.lrLambda) ? options.lrLambda : this.baseLrs.map(() => options.lrLambda as (t: number) => number);
    if (fns.length !== this.baseLrs.length) throw new RangeError(`LambdaLR: lrLambda has ${fns.length} functions for ${this.baseLrs.length} param groups`);
    fns.forEach((f, i) => { if (typeof f !== 'function') invalid('LambdaLR', `lrLambda[${i}]`, f, 'a function'); });
    this.schedules((baseLr, i) => (t: number) => {
      const factor = fns[i](t);
      if (typeof factor !== 'number' || !Number.isFinite(factor)) throw new RangeError(`LambdaLR: lrLambda(${t}) returned ${String(factor)}, not a finite number`);
      return baseLr * factor;
    });
    this.start();
  }
}

function requireMomentum(name: string, optimizer: AnyOptimizer): void {
  if (momentumKey(optimizer) === undefined) {
    throw new Error(`${name}: cycleMomentum needs an optimizer with momentum or betas; ${optimizer.constructor.name} has neither (pass cycleMomentum: false)`);
  }
}

/**
 * CyclicLR (Smith, 2017): the lr cycles between `baseLr` and `maxLr` in triangular waves of
 * `stepSizeUp + stepSizeDown` steps ('triangular', 'triangular2' halving the amplitude each
 * cycle, 'exp_range' scaling it by `gamma^t`, or a custom `scaleFn`); momentum cycles
 * inversely between `maxMomentum` and `baseMomentum`. Sets each group's lr to `baseLr` at
 * construction. Defaults: `stepSizeUp = 2000, mode = 'triangular', gamma = 1,
 * cycleMomentum = true, baseMomentum = 0.8, maxMomentum = 0.9`.
 */
export class CyclicLR extends FunctionScheduler {
  constructor(optimizer: AnyOptimizer, options: CyclicOptions) {
    super(optimizer, 'CyclicLR', options);
    checkKeys(this.name, options, ['baseLr', 'maxLr', 'stepSizeUp', 'stepSizeDown', 'mode', 'gamma', 'scaleFn', 'scaleMode', 'cycleMomentum', 'baseMomentum', 'maxMomentum']);
    const n = this.baseLrs.length;
    const baseLrs = perGroup(this.name, 'baseLr', options.baseLr, n);
    const maxLrs = perGroup(this.name, 'maxLr', options.maxLr, n);
    const baseM = perGroup(this.name, 'baseMomentum', options.baseMomentum ?? 0.8, n);
    const maxM = perGroup(this.name, 'maxMomentum', options.maxMomentum ?? 0.9, n);
    const cycle = options.cycleMomentum ?? true;
    if (typeof cycle !== 'boolean') invalid(this.name, 'cycleMomentum', cycle, 'a boolean');
    if (cycle) requireMomentum(this.name, optimizer);
    const schedules = baseLrs.map((baseLr, i) => cyclicSchedule({ ...options, baseLr, maxLr: maxLrs[i], baseMomentum: baseM[i], maxMomentum: maxM[i] }));
    // PyTorch starts every group at baseLr, which becomes its initialLr.
    this.baseLrs.splice(0, n, ...baseLrs);
    (optimizer.paramGroups as unknown as Group[]).forEach((g, i) => { g.initialLr ??= baseLrs[i]; });
    this.lrs = schedules.map((s) => s.lr);
    this.momenta = cycle ? schedules.map((s) => s.momentum) : undefined;
    this.start();
  }
}

/**
 * OneCycleLR, the 1Cycle policy (Smith & Topin, 2018), as PyTorch: the lr rises from
 * `maxLr / divFactor` to `maxLr` over the first `pctStart` of the cycle, then anneals to
 * `maxLr / divFactor / finalDivFactor`; momentum (`momentum`, or `betas[0]` for the Adam
 * family) moves inversely between `maxMomentum` and `baseMomentum`. `maxLr` and the momenta
 * may be per-group arrays. Defaults: `pctStart = 0.3, annealStrategy = 'cos',
 * cycleMomentum = true, baseMomentum = 0.85, maxMomentum = 0.95, divFactor = 25,
 * finalDivFactor = 1e4, threePhase = false`.
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
    checkKeys(this.name, options, ['maxLr', 'totalSteps', 'epochs', 'stepsPerEpoch', 'pctStart', 'annealStrategy', 'cycleMomentum', 'baseMomentum', 'maxMomentum', 'divFactor', 'finalDivFactor', 'threePhase']);
    const n = this.baseLrs.length;
    this.totalSteps = oneCycleTotalSteps(options);
    const maxLrs = perGroup(this.name, 'maxLr', options.maxLr, n);
    const baseM = perGroup(this.name, 'baseMomentum', options.baseMomentum ?? 0.85, n);
    const maxM = perGroup(this.name, 'maxMomentum', options.maxMomentum ?? 0.95, n);
    const cycle = options.cycleMomentum ?? true;
    if (typeof cycle !== 'boolean') invalid(this.name, 'cycleMomentum', cycle, 'a boolean');
    if (options.threePhase !== undefined && typeof options.threePhase !== 'boolean') invalid(this.name, 'threePhase', options.threePhase, 'a boolean');
    if (cycle) requireMomentum(this.name, optimizer);
    const schedules = maxLrs.map((maxLr, i) => oneCycleSchedule({ ...options, maxLr, baseMomentum: baseM[i], maxMomentum: maxM[i] }));
    const divFactor = checkNumber(this.name, 'divFactor', options.divFactor ?? 25, { min: 0, minExclusive: true });
    const initial = maxLrs.map((m) => m / divFactor);
    this.baseLrs.splice(0, n, ...initial);
    (optimizer.paramGroups as unknown as Group[]).forEach((g, i) => { g.initialLr = initial[i]; g.maxLr = maxLrs[i]; });
    this.lrs = schedules.map((s) => s.lr);
    this.momenta = cycle ? schedules.map((s) => s.momentum) : undefined;
    this.start();
  }

  /** True once the cycle has reached its last step (further steps hold the final values). */
  get finished(): boolean {
    return this.lastEpoch >= this.totalSteps - 1;
  }
}

function checkChildren(name: string, optimizer: AnyOptimizer, schedulers: unknown): LRScheduler[] {
  if (!Array.isArray(schedulers) || schedulers.length === 0) invalid(name, 'schedulers', schedulers, 'a non-empty array of schedulers');
  schedulers.forEach((s, i) => {
    if (!(s instanceof LRScheduler)) invalid(name, `schedulers[${i}]`, s, 'a scheduler (ReduceLROnPlateau cannot be composed)');
    if (s.optimizer !== optimizer) throw new Error(`${name}: schedulers[${i}] belongs to another optimizer`);
  });
  return schedulers as LRScheduler[];
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
    super(optimizer, 'SequentialLR', { milestones: options?.milestones });
    checkKeys(this.name, options, ['schedulers', 'milestones']);
    this.#schedulers = checkChildren(this.name, optimizer, options.schedulers);
    const m = options.milestones;
    if (!Array.isArray(m) || m.length !== this.#schedulers.length - 1) {
      invalid(this.name, 'milestones', m, `${this.#schedulers.length - 1} whole numbers (one fewer than schedulers)`);
    }
    m.forEach((x, i) => {
      checkNumber(this.name, `milestones[${i}]`, x, { min: 1, integer: true });
      if (i > 0 && x <= m[i - 1]) invalid(this.name, 'milestones', m, 'increasing whole numbers');
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

  protected override children(): readonly LRScheduler[] {
    return this.#schedulers;
  }
}

/**
 * ChainedScheduler: applies several schedulers at once; the lr is the initial lr times the
 * product of each child's factor (its lr over its own base), which is what PyTorch's
 * chaining computes for the multiplicative schedulers (Step, MultiStep, Constant, Linear,
 * Exponential, Polynomial, Lambda, and cosine with etaMin = 0). Momentum comes from the last
 * child that sets it. Step this scheduler, not its children.
 * @example new ChainedScheduler(opt, { schedulers: [new ConstantLR(opt, { factor: 0.1, totalIters: 2 }), new ExponentialLR(opt, { gamma: 0.9 })] })
 */
export class ChainedScheduler extends LRScheduler {
  readonly #schedulers: LRScheduler[];

  constructor(optimizer: AnyOptimizer, options: { schedulers: LRScheduler[] }) {
    super(optimizer, 'ChainedScheduler', {});
    checkKeys(this.name, options, ['schedulers']);
    this.#schedulers = checkChildren(this.name, optimizer, options.schedulers);
    this.baseLrs.splice(0, this.baseLrs.length, ...this.#schedulers[0].baseLrs);
    this.start();
  }

  lrAt(t: number, group: number): number {
    let lr = this.baseLrs[group];
    if (lr === 0) return 0;
    for (const s of this.#schedulers) lr *= s.lrAt(t, group) / s.baseLrs[group];
    return lr;
  }

  override momentumAt(t: number, group: number): number | undefined {
    let m: number | undefined;
    for (const s of this.#schedulers) m = s.momentumAt(t, group) ?? m;
    return m;
  }

  protected override children(): readonly LRScheduler[] {
    return this.#schedulers;
  }
}
