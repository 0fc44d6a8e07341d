import { Optimizer, type AnyOptimizer } from '../optim/optimizer.js';
import type { Schedule } from './functions.js';

export type { AnyOptimizer };

/** Saved state of a scheduler (plain data; survives structuredClone and JSON). */
export interface SchedulerState {
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
  /** Each group's base (initial) learning rate. */
  baseLrs: number[];
  /** The values in effect for the next optimizer step, written back to the groups on load. */
  lastLrs: number[];
  /** The momenta in effect (null for groups whose momentum the scheduler does not set). */
  lastMomenta: (number | null)[];
  /** The children of SequentialLR / ChainedScheduler. */
  children?: SchedulerState[];
}

type Group = Record<string, unknown>;

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
  if (Array.isArray(group.betas)) group.betas = [value, group.betas[1]];
  else group.momentum = value;
}

/** Expands a per-group option (a number, or one number per group). */
export function perGroup(context: string, name: string, value: number | readonly number[], groups: number): number[] {
  if (Array.isArray(value)) {
    if (value.length !== groups) {
      throw new RangeError(`${context}: ${name} has ${value.length} values for ${groups} param group${groups === 1 ? '' : 's'}`);
    }
    return [...value];
  }
  return new Array<number>(groups).fill(value as number);
}

function isPlain(value: unknown): boolean {
  return value === null || ['number', 'string', 'boolean', 'undefined'].includes(typeof value) ||
    (Array.isArray(value) && value.every(isPlain));
}

/**
 * Base of the learning-rate schedulers, with PyTorch's protocol: construction records each
 * group's `initialLr` (once) and applies the values of step 0; each `step()`, called after
 * `optimizer.step()`, advances one step and writes `lr` (and momentum, for the cyclical
 * policies) into every param group. A scheduler evaluates pure schedules: the value at step
 * `t` depends on `t` alone, never on what the groups held before.
 */
export abstract class LRScheduler {
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

  /** @internal */
  protected constructor(
    optimizer: AnyOptimizer,
    /** The scheduler's class name, as saved in its state. */
    readonly name: string,
    options: object,
  ) {
    if (!(optimizer instanceof Optimizer)) throw new TypeError(`${name}: the first argument must be an optimizer, got ${String(optimizer)}`);
    if (options === null || typeof options !== 'object') throw new TypeError(`${name}: options must be an object, got ${String(options)}`);
    this.optimizer = optimizer;
    this.options = Object.fromEntries(Object.entries(options).filter(([, v]) => isPlain(v)));
    const groups = optimizer.paramGroups as unknown as Group[];
    this.baseLrs = groups.map((g) => (typeof g.initialLr === 'number' ? g.initialLr : (g.lr as number)));
  }

  /** Records `initialLr` on the groups and applies step 0; subclasses call it last in their constructor. @internal */
  protected start(): void {
    const groups = this.optimizer.paramGroups as unknown as Group[];
    groups.forEach((g, i) => { g.initialLr ??= this.baseLrs[i]; });
    this.apply(0);
  }

  /** The learning rate of group `group` at step `t`. */
  abstract lrAt(t: number, group: number): number;

  /** The momentum of group `group` at step `t`, for the schedulers that cycle it. */
  momentumAt(_t: number, _group: number): number | undefined {
    return undefined;
  }

  /** Advances one step (call after `optimizer.step()`) and writes the new values into the param groups. */
  step(): void {
    this.lastEpoch++;
    this.apply(this.lastEpoch);
  }

  /** The learning rates last written, one per group (PyTorch's `get_last_lr()`). */
  getLastLr(): number[] {
    return [...this.#lastLrs];
  }

  /** @internal */
  protected apply(t: number): void {
    const groups = this.optimizer.paramGroups as unknown as Group[];
    if (groups.length !== this.baseLrs.length) {
      throw new Error(`${this.name}: the optimizer has ${groups.length} param groups, but the scheduler was built for ${this.baseLrs.length}`);
    }
    const lrs = groups.map((_, i) => this.lrAt(t, i));
    const momenta = groups.map((_, i) => this.momentumAt(t, i));
    groups.forEach((g, i) => {
      g.lr = lrs[i];
      if (momenta[i] !== undefined) writeMomentum(g, momenta[i]!);
    });
    this.#lastLrs = lrs;
    this.#lastMomenta = momenta.map((m) => m ?? null);
  }

  /** Rebuilds the schedules from `baseLrs` (after a state load changed them). @internal */
  protected rebuild(): void {}

  /** Child schedulers (SequentialLR, ChainedScheduler). @internal */
  protected children(): readonly LRScheduler[] {
    return [];
  }

  /** The scheduler's state, as plain data (PyTorch's `state_dict()`). */
  stateDict(): SchedulerState {
    const children = this.children();
    return {
      format: 'simdopt-scheduler', version: 1, type: this.name, options: structuredClone(this.options),
      lastEpoch: this.lastEpoch, baseLrs: [...this.baseLrs], lastLrs: [...this.#lastLrs], lastMomenta: [...this.#lastMomenta],
      ...(children.length ? { children: children.map((c) => c.stateDict()) } : {}),
    };
  }

  /** Throws if `sd` cannot be loaded into this scheduler; changes nothing. @internal */
  validateState(sd: unknown, path = this.name): void {
    const fail = (why: string): never => { throw new Error(`${path}: cannot load scheduler state: ${why}`); };
    if (sd === null || typeof sd !== 'object') fail(`expected an object, got ${String(sd)}`);
    const s = sd as Partial<SchedulerState>;
    if (s.format !== 'simdopt-scheduler') fail(`not a scheduler state dict (format ${JSON.stringify(s.format)})`);
    if (s.version !== 1) fail(`unsupported version ${String(s.version)} (this library reads version 1)`);
    if (s.type !== this.name) fail(`it was saved from a ${String(s.type)}, not a ${this.name}`);
    if (JSON.stringify(s.options) !== JSON.stringify(this.options)) {
      fail(`it was saved with options ${JSON.stringify(s.options)}; this scheduler has ${JSON.stringify(this.options)}`);
    }
    if (!Number.isSafeInteger(s.lastEpoch) || (s.lastEpoch as number) < 0) fail(`invalid lastEpoch ${String(s.lastEpoch)}`);
    const n = this.baseLrs.length;
    for (const key of ['baseLrs', 'lastLrs', 'lastMomenta'] as const) {
      const v = s[key] as unknown[];
      if (!Array.isArray(v) || v.length !== n) fail(`${key} must have one entry per param group (${n})`);
      for (let i = 0; i < n; i++) {
        const x = v[i];
        if (key === 'lastMomenta' && x === null) continue;
        // The values are written into the param groups: they must be values a group accepts.
        if (typeof x !== 'number' || !Number.isFinite(x) || x < 0) fail(`${key}[${i}] is ${String(x)}, not a finite number >= 0`);
        if (key === 'lastMomenta' && Array.isArray((this.optimizer.paramGroups[i] as unknown as Group).betas) && (x as number) >= 1) fail(`${key}[${i}] is ${String(x)}, not a beta in [0, 1)`);
      }
    }
    const kids = this.children();
    if ((s.children?.length ?? 0) !== kids.length) fail(`expected ${kids.length} child schedulers, got ${s.children?.length ?? 0}`);
    kids.forEach((k, i) => k.validateState(s.children![i], `${path} > child ${i}`));
  }

  /**
   * Restores a state from {@link stateDict}: the step count, and the values in effect, written
   * back into the param groups, so stepping on continues the same sequence. The state must
   * come from a scheduler of the same class and options; otherwise this throws and changes
   * nothing.
   */
  loadStateDict(sd: SchedulerState): void {
    this.validateState(sd);
    this.#load(sd);
  }

  #load(sd: SchedulerState): void {
    // Children first: the composite's own values are what the groups must hold.
    this.children().forEach((c, i) => c.#load(sd.children![i]));
    this.lastEpoch = sd.lastEpoch;
    this.baseLrs.splice(0, this.baseLrs.length, ...sd.baseLrs);
    this.rebuild();
    this.#lastLrs = [...sd.lastLrs];
    this.#lastMomenta = [...sd.lastMomenta];
    const groups = this.optimizer.paramGroups as unknown as Group[];
    groups.forEach((g, i) => {
      g.lr = sd.lastLrs[i];
      g.initialLr = sd.baseLrs[i];
      const m = sd.lastMomenta[i];
      if (m !== null) writeMomentum(g, m);
    });
  }
}

/** A scheduler that evaluates one pure schedule per param group (and optionally a momentum schedule). @internal */
export abstract class FunctionScheduler extends LRScheduler {
  /** @internal */
  protected lrs: Schedule[] = [];
  /** @internal */
  protected momenta: Schedule[] | undefined;
  #factory: ((baseLr: number, group: number) => Schedule) | undefined;

  /** Builds each group's lr schedule from its base lr, now and whenever the base lrs are restored. @internal */
  protected schedules(factory: (baseLr: number, group: number) => Schedule): void {
    this.#factory = factory;
    this.lrs = this.baseLrs.map(factory);
  }

  protected override rebuild(): void {
    if (this.#factory) this.lrs = this.baseLrs.map(this.#factory);
  }

  lrAt(t: number, group: number): number {
    return this.lrs[group](t);
  }

  override momentumAt(t: number, group: number): number | undefined {
    return this.momenta?.[group](t);
  }
}
