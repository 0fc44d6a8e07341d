import { Optimizer, type AnyOptimizer } from '../optim/optimizer.js';
import { checkKeys, describe, problem, refuse, wrongType } from '../validate.js';

export type { AnyOptimizer };

/** What every scheduler state dict starts with (plain data; survives structuredClone and JSON). */
export interface SchedulerStateBase {
  /** Marks a scheduler state dict. */
  format: 'simdopt-scheduler';
  /** Format version (1). */
  version: 1;
  /** The scheduler's class name. */
  type: string;
  /** Its options (functions left out). */
  options: Record<string, unknown>;
  /** Steps taken. */
  lastEpoch: number;
}

/** What the state dict of every scheduler that writes the lr starts with. */
export interface SchedulerStateHeader extends SchedulerStateBase {
  /** The learning rates in effect, one per group, written back to the groups on load. */
  lastLrs: number[];
}

/** Saved state of a scheduler that evaluates schedules (every one but {@link ReduceLROnPlateau}). */
export interface SchedulerState extends SchedulerStateHeader {
  /** Each group's base (initial) learning rate. */
  baseLrs: number[];
  /** The momenta in effect (null for groups whose momentum the scheduler does not set). */
  lastMomenta: (number | null)[];
  /** The children of SequentialLR / ChainedScheduler. */
  children?: SchedulerState[];
}

type Group = Record<string, unknown>;
type Fail = (why: string) => never;

/** Where a scheduler writes momentum: `momentum` (SGD, RMSprop) or `betas[0]` (the Adam family, Lion). */
export function momentumKey(optimizer: AnyOptimizer): 'momentum' | 'betas' | undefined {
  const d = optimizer.defaults as Group;
  if (Array.isArray(d.betas)) return 'betas';
  if (typeof d.momentum === 'number') return 'momentum';
  return undefined;
}

/** Reads a group's momentum (SGD's `momentum`, or `betas[0]`). */
export function readMomentum(group: Record<string, unknown>): number | undefined {
  if (Array.isArray(group.betas)) return group.betas[0] as number;
  return typeof group.momentum === 'number' ? group.momentum : undefined;
}

function writeMomentum(group: Group, value: number): void {
  if (Array.isArray(group.betas)) group.betas = [value, ...(group.betas as unknown[]).slice(1)];
  else group.momentum = value;
}

function isPlain(value: unknown): boolean {
  return value === null || ['number', 'string', 'boolean', 'undefined'].includes(typeof value) ||
    (Array.isArray(value) && value.every(isPlain));
}

/** A value a group accepts as its lr: a finite number >= 0. */
const isLr = (x: unknown): x is number => typeof x === 'number' && Number.isFinite(x) && x >= 0;

/**
 * Base of the learning-rate schedulers, with PyTorch's protocol: construction records each
 * group's `initialLr` (once) and applies the values of step 0; each `step()`, called after
 * `optimizer.step()`, advances one step and writes `lr` (and momentum, for the cyclical
 * policies) into every param group. A scheduler evaluates pure schedules: the value at step
 * `t` depends on `t` alone, never on what the groups held before. {@link ReduceLROnPlateau}
 * is the exception: it is stepped with a metric, and its state says how it got where it is.
 * {@link HyperparameterScheduler} is one too, for composition and checkpoints, that writes
 * another hyperparameter and never the lr.
 *
 * `S` is the state dict's type, `A` what `step` takes (nothing, or the plateau's metric).
 */
export abstract class LRScheduler<S extends SchedulerStateBase = SchedulerState, A extends unknown[] = []> {
  /** The optimizer whose param groups this scheduler writes. */
  readonly optimizer: AnyOptimizer;
  /** Steps taken (PyTorch's `last_epoch`): 0 after construction. */
  lastEpoch = 0;
  /** Each group's `initialLr`, the base of the schedule. */
  readonly baseLrs: number[];
  /** @internal */
  protected readonly options: Record<string, unknown>;
  #lastLrs: number[] = [];
  #lastMomenta: (number | null)[] = [];

  /** Checks the optimizer and the option names, and keeps the options that are plain data. @internal */
  protected constructor(
    optimizer: AnyOptimizer,
    /** The scheduler's class name, as saved in its state. */
    readonly name: string,
    options: object,
    allowed: readonly string[],
  ) {
    if (!(optimizer instanceof Optimizer)) wrongType(name, 'the first argument', optimizer, 'an optimizer');
    checkKeys(name, options, allowed);
    this.optimizer = optimizer;
    this.options = Object.fromEntries(Object.entries(options).filter(([, v]) => isPlain(v)));
    this.baseLrs = this.groups.map((g) => (typeof g.initialLr === 'number' ? g.initialLr : (g.lr as number)));
  }

  /** The optimizer's param groups, as records. @internal */
  protected get groups(): Group[] {
    return this.optimizer.paramGroups as unknown as Group[];
  }

  /** Records `initialLr` on the groups and applies step 0; subclasses call it last in their constructor. @internal */
  protected start(): void {
    this.groups.forEach((g, i) => { g.initialLr ??= this.baseLrs[i]; });
    this.apply(0);
  }

  /** The learning rate of group `group` at step `t`. */
  abstract lrAt(t: number, group: number): number;

  /** The momentum of group `group` at step `t`, for the schedulers that cycle it. */
  momentumAt(_t: number, _group: number): number | undefined {
    return undefined;
  }

  /**
   * Advances one step (call after `optimizer.step()`) and writes the new values into the param
   * groups. When a value is refused (a schedule function returning NaN), it throws and the
   * step count stays where it was.
   */
  step(..._args: A): void {
    const t = this.lastEpoch + 1;
    this.apply(t);
    this.lastEpoch = t;
  }

  /** The learning rates last written, one per group (PyTorch's `get_last_lr()`). */
  getLastLr(): number[] {
    return [...this.#lastLrs];
  }

  /** Notes the values now in the groups. @internal */
  protected record(lrs: number[], momenta: (number | null)[] = []): void {
    this.#lastLrs = lrs;
    this.#lastMomenta = momenta;
  }

  /** Throws when the optimizer's param groups are no longer those the scheduler was built for. @internal */
  protected checkGroupCount(): void {
    const n = this.groups.length;
    if (n !== this.baseLrs.length) throw new Error(`${this.name}: the optimizer has ${n} param groups, but the scheduler was built for ${this.baseLrs.length}`);
  }

  /** @internal */
  protected apply(t: number): void {
    this.checkGroupCount();
    const groups = this.groups;
    const lrs = groups.map((_, i) => this.lrAt(t, i));
    const momenta = groups.map((_, i) => this.momentumAt(t, i));
    groups.forEach((g, i) => {
      g.lr = lrs[i];
      if (momenta[i] !== undefined) writeMomentum(g, momenta[i]!);
    });
    this.record(lrs, momenta.map((m) => m ?? null));
  }

  /**
   * Whether `baseLrs` are the groups' `initialLr` (written back on load); not for schedules
   * that start from the lr the group held when they started (MultiplicativeLR, SWALR). @internal
   */
  protected basesAreInitialLrs(): boolean {
    return true;
  }

  /** Rebuilds the schedules from `baseLrs` (after a state load changed them). @internal */
  protected rebuild(): void {}

  /** Child schedulers (SequentialLR, ChainedScheduler). @internal */
  protected children(): readonly LRScheduler<SchedulerStateBase>[] {
    return [];
  }

  /** The scheduler's state, as plain data (PyTorch's `state_dict()`). */
  stateDict(): S {
    return {
      format: 'simdopt-scheduler', version: 1, type: this.name, options: structuredClone(this.options), lastEpoch: this.lastEpoch,
      ...this.stateFields(),
    } as unknown as S;
  }

  /** The state after the common header, in its saved order. @internal */
  protected stateFields(): Record<string, unknown> {
    const children = this.children();
    return {
      baseLrs: [...this.baseLrs], lastLrs: [...this.#lastLrs], lastMomenta: [...this.#lastMomenta],
      ...(children.length ? { children: children.map((c) => c.stateDict()) } : {}),
    };
  }

  /** Throws if `sd` cannot be loaded into this scheduler; changes nothing. @internal */
  validateState(sd: unknown): void {
    this.checkState(sd, refuse(`${this.name}.loadStateDict`));
  }

  /** The checks of every scheduler state: the header, then {@link checkFields}. @internal */
  protected checkState(sd: unknown, fail: Fail): void {
    if (sd === null || typeof sd !== 'object') fail(`expected a scheduler state dict object, got ${describe(sd)}`);
    const s = sd as Record<string, unknown>;
    if (s.format !== 'simdopt-scheduler') fail(`not a scheduler state dict (format ${describe(s.format)})`);
    if (s.version !== 1) fail(`unsupported state dict version ${describe(s.version)} (this library reads version 1)`);
    if (s.type !== this.name) fail(`the state was saved from ${describe(s.type)}, not ${this.name}`);
    if (JSON.stringify(s.options) !== JSON.stringify(this.options)) {
      fail(`the state was saved with options ${JSON.stringify(s.options)}; this scheduler has ${JSON.stringify(this.options)}`);
    }
    if (!Number.isSafeInteger(s.lastEpoch) || (s.lastEpoch as number) < 0) fail(problem('lastEpoch', s.lastEpoch, 'a whole number >= 0'));
    this.checkFields(s, fail);
  }

  /**
   * Checks that `s[key]` holds one entry per param group, each passing `ok`. The values are
   * written into the param groups: they must be values a group accepts. @internal
   */
  protected checkPerGroup(s: Record<string, unknown>, key: string, fail: Fail, ok: (x: unknown, group: number) => boolean, mustBe = 'a finite number >= 0'): void {
    const v = s[key], n = this.baseLrs.length;
    if (!Array.isArray(v) || v.length !== n) fail(problem(key, v, `an array of ${n}, one per param group`));
    v.forEach((x, i) => { if (!ok(x, i)) fail(problem(`${key}[${i}]`, x, mustBe)); });
  }

  /** Checks `lastLrs`, the learning rates a state writes back into the groups. @internal */
  protected checkLastLrs(s: Record<string, unknown>, fail: Fail): void {
    this.checkPerGroup(s, 'lastLrs', fail, isLr);
  }

  /** The checks of this class's own fields, after the header's. @internal */
  protected checkFields(s: Record<string, unknown>, fail: Fail): void {
    this.checkLastLrs(s, fail);
    this.checkPerGroup(s, 'baseLrs', fail, isLr);
    // Momentum goes into `momentum` or `betas[0]`, where it must be a beta in [0, 1).
    this.checkPerGroup(s, 'lastMomenta', fail, (x, i) => x === null || (isLr(x) && !(Array.isArray(this.groups[i].betas) && x >= 1)),
      'null, or a finite number >= 0 (a beta < 1)');
    const kids = this.children(), saved = s.children as unknown[] | undefined;
    if ((saved?.length ?? 0) !== kids.length) fail(`expected ${kids.length} child schedulers, got ${saved?.length ?? 0}`);
    kids.forEach((k, i) => k.checkState(saved![i], (why) => fail(`child ${i} (${k.name}): ${why}`)));
  }

  /**
   * Restores a state from {@link stateDict}: the step count, and the values in effect, written
   * back into the param groups, so stepping on continues the same sequence. The state must
   * come from a scheduler of the same class and options; otherwise this throws and changes
   * nothing.
   */
  loadStateDict(sd: S): void {
    this.validateState(sd);
    this.load(sd as unknown as Record<string, unknown>);
  }

  /** Applies a checked state. @internal */
  protected load(sd: Record<string, unknown>): void {
    const s = sd as unknown as SchedulerState;
    // Children first: the composite's own values are what the groups must hold.
    this.children().forEach((c, i) => c.load(s.children![i] as unknown as Record<string, unknown>));
    this.lastEpoch = s.lastEpoch;
    this.baseLrs.splice(0, this.baseLrs.length, ...s.baseLrs);
    this.rebuild();
    this.record([...s.lastLrs], [...s.lastMomenta]);
    const initial = this.basesAreInitialLrs();
    this.groups.forEach((g, i) => {
      g.lr = s.lastLrs[i];
      if (initial) g.initialLr = s.baseLrs[i];
      const m = s.lastMomenta[i];
      if (m !== null) writeMomentum(g, m);
    });
  }
}
