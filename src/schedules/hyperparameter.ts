// Hyperparameter schedules, as optax's inject_hyperparams (optax/schedules/_inject.py) gives
// them: any numeric hyperparameter of a param group (weight decay, betas[0], momentum, eps, ...)
// takes the value of a schedule function at each step, the optimizer's step i using
// schedule(i). It writes its one key and nothing else, so it runs beside a learning-rate
// scheduler on the same optimizer, or inside a ChainedScheduler with one (one state, one
// checkpoint entry).
import { SCHEDULER_GROUP_KEYS } from '../optim/groups.js';
import { checkNumber, describe, invalid, perGroup, problem, required, wrongType } from '../validate.js';
import { LRScheduler, type AnyOptimizer, type SchedulerStateBase } from './scheduler.js';
import type { Schedule } from './table.js';

/** Options of {@link HyperparameterScheduler}. */
export interface HyperparameterSchedulerOptions {
  /**
   * The hyperparameter: an option of the optimizer that holds a number (`'weightDecay'`,
   * `'momentum'`, `'eps'`), or an element of one that holds numbers (`'betas.0'`, `'betas.1'`).
   * Not `'lr'`, which learning-rate schedulers write.
   */
  key: string;
  /**
   * The value at each step (the value itself, not a factor, as optax's schedules): one function
   * of the step, or one per param group. Any pure schedule of this library fits
   * (`cosineSchedule({ baseLr: 0.05, tMax: 1000 })` anneals a hyperparameter from 0.05 to 0).
   */
  schedule: Schedule | readonly Schedule[];
}

/** Saved state of a {@link HyperparameterScheduler}. */
export interface HyperparameterState extends SchedulerStateBase {
  /** The class. */
  type: 'HyperparameterScheduler';
  /** The values in effect, one per group, written back to the groups on load. */
  lastValues: number[];
}

type Group = Record<string, unknown>;

/** Numbers of a group that are not hyperparameters to schedule: `lr` has its schedulers, `stateSeed` is an identity. */
const NOT_SCHEDULED = new Set(['lr', 'stateSeed']);

/** The numeric hyperparameters of a group, as keys: `eps`, `weightDecay`, `betas.0`, `betas.1`, ... (not `lr`). */
function numericKeys(optimizer: AnyOptimizer, group: Group): string[] {
  return Object.keys(optimizer.spec.checks).filter((k) => !NOT_SCHEDULED.has(k)).flatMap((k) => {
    const v = group[k];
    if (typeof v === 'number') return [k];
    if (Array.isArray(v) && v.length > 0 && v.every((x) => typeof x === 'number')) return v.map((_, i) => `${k}.${i}`);
    return [];
  });
}

/**
 * A schedule for any numeric hyperparameter, as optax's `inject_hyperparams`: at construction
 * and at each `step()` it writes `schedule(t)` into `key` of every param group (one schedule,
 * or one per group), so the optimizer's step `t` uses `schedule(t)`.
 *
 * - `key` names an option of the optimizer holding a number (`'weightDecay'`, `'momentum'`,
 *   `'eps'`, ...) or an element of one holding numbers (`'betas.0'`). An unknown key, a key
 *   that holds no number (`'amsgrad'`, `'betas'` without an index) and `'lr'` (learning-rate
 *   schedulers write it) are refused at construction, with the keys that can be scheduled.
 * - Each value is checked by the optimizer's own rules before anything is written: a value
 *   it refuses (`weightDecay` below 0, `betas.0` at 1) throws at the step that produces it,
 *   with the optimizer's message, and leaves the groups and the step count as they were.
 * - It writes only its key: it runs beside a learning-rate scheduler on the same optimizer
 *   (step both after each `optimizer.step()`), or inside a {@link ChainedScheduler} with it,
 *   which steps both, saves both in one state and goes into a checkpoint as one scheduler. Two
 *   schedulers that write the same key (a HyperparameterScheduler on `'betas.0'` and OneCycleLR
 *   cycling momentum) overwrite each other: the last stepped wins.
 * - `stateDict()` holds the step count and the values in effect; `loadStateDict()` writes
 *   them back and continues the sequence. The schedule functions are not saved (as
 *   LambdaLR's): build the scheduler with the same ones, then load.
 *
 * It is an {@link LRScheduler} for composition and checkpoints, but it never writes the lr:
 * `lrAt` and `getLastLr` throw; read `valueAt` and `getLastValues`.
 *
 * @example
 * const opt = new AdamW(params, { lr: 1e-3, weightDecay: 0.04 });
 * const lr = new WarmupCosineLR(opt, { warmupSteps: 100, totalSteps: 10_000 });
 * const wd = new HyperparameterScheduler(opt, { key: 'weightDecay', schedule: cosineSchedule({ baseLr: 0.04, tMax: 10_000 }) });
 * const beta1 = new HyperparameterScheduler(opt, { key: 'betas.0', schedule: (t) => Math.min(0.95, 0.85 + t / 1e4) });
 * const sched = new ChainedScheduler(opt, { schedulers: [lr, wd, beta1] });
 * for (...) { computeGradients(); opt.step(); sched.step(); }
 */
export class HyperparameterScheduler extends LRScheduler<HyperparameterState> {
  /** The key it writes, as given (`'weightDecay'`, `'betas.0'`). */
  readonly key: string;
  readonly #option: string;
  readonly #index: number | undefined;
  readonly #schedules: Schedule[];
  #lastValues: number[] = [];

  constructor(optimizer: AnyOptimizer, options: HyperparameterSchedulerOptions) {
    super(optimizer, 'HyperparameterScheduler', options, ['key', 'schedule']);
    const c = this.name, key = options.key as unknown;
    if (key === undefined) required(c, 'key');
    if (options.schedule === undefined) required(c, 'schedule');
    if (typeof key !== 'string') wrongType(c, 'key', key, "a string naming a hyperparameter ('weightDecay', 'betas.0')");
    const groups = this.groups;
    const known = numericKeys(optimizer, groups[0]);
    const mustBe = (why = '') => `a numeric hyperparameter of ${optimizer.spec.name}${why}: ${known.join(', ')}`;
    const match = /^([A-Za-z_$][\w$]*)(?:\.(\d+))?$/.exec(key);
    const option = match?.[1] ?? key, index = match?.[2] === undefined ? undefined : Number(match[2]);
    if (option === 'lr') invalid(c, 'key', key, mustBe(' other than lr, which learning-rate schedulers write (LambdaLR takes any function)'));
    if ((SCHEDULER_GROUP_KEYS as readonly string[]).includes(option)) invalid(c, 'key', key, mustBe(` (${option} is recorded by learning-rate schedulers)`));
    if (!match || !Object.prototype.hasOwnProperty.call(optimizer.spec.checks, option)) invalid(c, 'key', key, mustBe());
    groups.forEach((g, i) => {
      const v = g[option], where = groups.length > 1 ? ` in param group ${i}` : '';
      if (index === undefined && Array.isArray(v)) invalid(c, 'key', key, mustBe(`; ${option} is an array${where}: name an element, ${v.map((_, j) => `'${option}.${j}'`).join(' or ')}`));
      const x = index === undefined ? v : Array.isArray(v) ? v[index] : undefined;
      if (typeof x !== 'number') {
        const holds = index !== undefined && Array.isArray(v) ? `${option} has ${v.length} element${v.length === 1 ? '' : 's'}` : `${option} holds ${describe(v)}`;
        invalid(c, 'key', key, mustBe(`; ${holds}${where}`));
      }
    });
    const schedules = perGroup(c, 'schedule', options.schedule as Schedule, groups.length);
    schedules.forEach((f, i) => {
      if (typeof f !== 'function') wrongType(c, schedules.length > 1 && Array.isArray(options.schedule) ? `schedule[${i}]` : 'schedule', f, 'a function of the step (or an array of one per param group)');
    });
    this.key = key;
    this.#option = option;
    this.#index = index;
    this.#schedules = schedules;
    this.apply(0);
  }

  /** Throws: this scheduler writes another hyperparameter, never the lr. */
  lrAt(_t: number, _group: number): number {
    throw new Error(`${this.name}: it schedules ${this.key}, not the lr; read valueAt(t, group)`);
  }

  /** Throws: this scheduler writes another hyperparameter, never the lr. */
  override getLastLr(): number[] {
    throw new Error(`${this.name}: it schedules ${this.key}, not the lr; read getLastValues()`);
  }

  /** The value of group `group` at step `t` (checked to be a finite number). */
  valueAt(t: number, group: number): number {
    return checkNumber(this.name, `schedule(${t})`, this.#schedules[group](t));
  }

  /** The values last written, one per group. */
  getLastValues(): number[] {
    return [...this.#lastValues];
  }

  /** Group `g` with `value` at the key, as a new record (arrays copied, never mutated). */
  #with(g: Group, value: number): Group {
    if (this.#index === undefined) return { ...g, [this.#option]: value };
    const arr = [...(g[this.#option] as number[])];
    arr[this.#index] = value;
    return { ...g, [this.#option]: arr };
  }

  /** Throws the optimizer's own error, prefixed, when it refuses `value` in group `i`. */
  #check(i: number, value: number, when: string): void {
    const opt = this.optimizer, n = this.groups.length;
    try {
      opt.validateGroup(this.#with(this.groups[i], value) as never, n > 1 ? `${opt.spec.name}: param group ${i}` : opt.spec.name);
    } catch (e) {
      const E = e instanceof RangeError ? RangeError : e instanceof TypeError ? TypeError : Error;
      throw new E(`${this.name}: ${this.key} = ${describe(value)} ${when} is refused by the optimizer: ${(e as Error).message}`);
    }
  }

  /** Computes and checks step `t`'s values (throwing, with nothing changed, when one is refused); returns their write. @internal */
  prepare(t: number): () => void {
    this.checkGroupCount();
    const values = this.groups.map((_, i) => this.valueAt(t, i));
    values.forEach((v, i) => this.#check(i, v, `at step ${t}`));
    return () => this.#write(values);
  }

  #write(values: readonly number[]): void {
    this.groups.forEach((g, i) => { g[this.#option] = this.#with(g, values[i])[this.#option]; });
    this.#lastValues = [...values];
  }

  /** @internal */
  protected override apply(t: number): void {
    this.prepare(t)();
  }

  protected override stateFields(): Record<string, unknown> {
    return { lastValues: [...this.#lastValues] };
  }

  protected override checkFields(s: Record<string, unknown>, fail: (why: string) => never): void {
    const v = s.lastValues, n = this.groups.length;
    if (!Array.isArray(v) || v.length !== n) fail(problem('lastValues', v, `an array of ${n}, one per param group`));
    v.forEach((x, i) => {
      if (typeof x !== 'number' || !Number.isFinite(x)) fail(problem(`lastValues[${i}]`, x, 'a finite number'));
      try {
        this.#check(i, x, 'in the state');
      } catch (e) {
        fail((e as Error).message.replace(`${this.name}: `, ''));
      }
    });
  }

  protected override load(sd: Record<string, unknown>): void {
    const s = sd as unknown as HyperparameterState;
    this.lastEpoch = s.lastEpoch;
    this.#write(s.lastValues);
  }
}
