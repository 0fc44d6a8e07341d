import type { Kernels } from '../kernels/index.js';
import { KERNELS_WASM_SHA256 } from '../generated/kernels-wasm.js';
import { Parameter, type ParameterStore } from '../store.js';
import { describe, kindOf, type Check } from './options.js';

/**
 * Any optimizer of this library, whatever its options type (for code that takes any of them:
 * schedulers, checkpoints).
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyOptimizer = Optimizer<any>;

/** A param group as passed to a constructor: its parameters and any options overriding the defaults. */
export type ParamGroupInput<O> = Partial<O> & {
  /** The group's parameters. */
  params: Parameter[];
};

/** What optimizers accept: a list of parameters, or a list of param groups. */
export type ParamsInput<O> = readonly Parameter[] | readonly ParamGroupInput<O>[];

/**
 * A live param group: its (frozen) parameter list and its hyperparameters. Writing a
 * hyperparameter (`group.lr = 0.01`, `group.betas = [0.9, 0.99]`) takes effect at the
 * next `step()`, which validates it first.
 */
export type ParamGroup<O> = O & {
  /** The group's parameters (fixed; add parameters with `addParamGroup`). */
  readonly params: readonly Parameter[];
};

/** A stretch of a group's parameters that lie back to back in the arena: one kernel call. @internal */
export interface Run {
  /** byte offset of the first element from the data (and grad) region's start */
  readonly data: number;
  /** byte offset from the start of each of the group's state buffers */
  readonly state: number;
  /** elements, padding included (a multiple of 4) */
  readonly n: number;
}

/** Book-keeping of one param group. @internal */
export interface GroupState {
  /** steps taken (PyTorch keeps one per parameter; all of a group's step together here) */
  step: number;
  readonly runs: readonly Run[];
  /** state-buffer element offset of each parameter, in group order */
  readonly paramOffsets: readonly number[];
  /** elements of each state buffer: the sum of the parameters' padded sizes */
  readonly elements: number;
  /** byte offset (from the state region's start) of each allocated state buffer */
  readonly buffers: Map<string, number>;
  /** buffers allocated since the last step: no update has written them yet */
  readonly fresh: Set<string>;
  /** host-side per-group state kept in float64 (NAdam's muProduct) */
  readonly scalars: Record<string, number>;
}

/** One parameter's saved state: its step count, buffers, and host-side scalars. */
export interface ParamStateEntry {
  /** Steps taken. */
  step: number;
  [key: string]: number | Float32Array;
}

/**
 * An optimizer's saved state (PyTorch's `optimizer.state_dict()`, camelCase): plain data with
 * typed arrays, which survives `structuredClone`. `state` is keyed by parameter index, in
 * param-group order, as PyTorch keys it; `paramNames` and `paramSizes` let a mismatch be
 * reported by name.
 */
export interface OptimizerStateDict {
  /** Marks an optimizer state dict. */
  format: 'simdopt-optimizer';
  /** Format version (1). */
  version: 1;
  /** SHA-256 of the kernel module that produced the state. */
  kernelHash: string;
  /** The optimizer's class name. */
  optimizer: string;
  /** Each group's hyperparameters, and the indices of its parameters. */
  paramGroups: (Record<string, unknown> & {
    /** Indices of the group's parameters (in group order across all groups). */
    params: number[];
  })[];
  /** Each parameter's state, keyed by parameter index. */
  state: Record<number, ParamStateEntry>;
  /** The parameters' names, by index. */
  paramNames: string[];
  /** The parameters' sizes, by index. */
  paramSizes: number[];
}

/** Options of {@link Optimizer.loadStateDict}. */
export interface LoadStateOptions {
  /** Accept state saved by a different kernel build (default false: such state is refused). */
  ignoreKernelHash?: boolean;
}

/** Everything a step can change, copied. @internal */
export interface OptimizerSnapshot {
  readonly data: Float32Array[];
  readonly grad: Float32Array[];
  readonly groups: {
    step: number; fresh: Set<string>; scalars: Record<string, number>;
    buffers: Map<string, Float32Array>; hyper: Record<string, unknown>;
  }[];
}

/** The table an optimizer hands its base class. @internal */
export interface OptimizerSpec<O> {
  /** Class name used in messages and saved state. */
  readonly name: string;
  /** Every state buffer the optimizer can hold (PyTorch's state keys, camelCase). */
  readonly buffers: readonly string[];
  /** Host-side per-group scalars kept as state (NAdam's muProduct). */
  readonly scalars?: readonly string[];
  /** A checker per option; any other key is an error. */
  readonly checks: { readonly [K in keyof O]-?: Check };
  /** Checks across options (e.g. Nesterov needs momentum). */
  readonly crossCheck?: (group: O, context: string) => void;
}

/**
 * A view of one parameter's optimizer state: its step count, its state buffers, and any
 * host-side scalars (NAdam's `muProduct`).
 */
export interface ParameterState {
  /** Steps taken. */
  step: number;
  [buffer: string]: number | Float32Array;
}

/**
 * Keys a scheduler records in a param group besides the optimizer's options (PyTorch's
 * `initial_lr` and CyclicLR's / OneCycleLR's `max_lr`, camelCase).
 */
export const SCHEDULER_GROUP_KEYS = ['initialLr', 'maxLr'] as const;

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== 'object') return false;
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}

/**
 * Why `value` cannot be a state buffer of `size` elements, or undefined when it can: a
 * Float32Array of that length, or an array of that many numbers with no holes.
 */
function bufferProblem(value: unknown, size: number): string | undefined {
  if (ArrayBuffer.isView(value)) {
    if (!(value instanceof Float32Array)) return `is ${kindOf(value)}; state buffers are Float32Arrays (or arrays of numbers)`;
    return value.length === size ? undefined : `has length ${value.length}, expected ${size}`;
  }
  if (!Array.isArray(value)) return `is ${kindOf(value)}, not a Float32Array of length ${size}`;
  if (value.length !== size) return `has length ${value.length}, expected ${size}`;
  for (let i = 0; i < size; i++) {
    if (!(i in value)) return `has a hole at index ${i}`;
    if (typeof value[i] !== 'number') return `holds ${describe(value[i])} (${typeof value[i]}) at index ${i}, not a number`;
  }
  return undefined;
}

/**
 * Base of every optimizer: param groups, validation, state allocation in the arena and the
 * per-step loop. A subclass supplies its defaults, its option table, the state buffers a
 * group needs, and `updateGroup`, which computes the step's scalars once (in float64, handed
 * to the kernel as float32) and makes one kernel call per run.
 */
export abstract class Optimizer<O extends object> {
  /** The defaults every param group starts from. */
  readonly defaults: Readonly<O>;
  /** The live param groups. */
  readonly paramGroups: ParamGroup<O>[] = [];
  /** The store holding every parameter and all state. */
  readonly store: ParameterStore;
  /** @internal */
  protected readonly groupStates: GroupState[] = [];
  /** @internal */
  protected readonly spec: OptimizerSpec<O>;
  readonly #seen = new Set<Parameter>();

  /** @internal */
  protected constructor(params: ParamsInput<O>, options: Partial<O> | undefined, defaults: O, spec: OptimizerSpec<O>) {
    this.spec = spec;
    const name = spec.name;
    if (options !== undefined && (options === null || typeof options !== 'object' || Array.isArray(options))) {
      throw new TypeError(`${name}: options must be an object, got ${describe(options)}`);
    }
    this.#checkKeys(options ?? {}, `${name}`, false);
    const merged = {} as Record<string, unknown>;
    for (const [k, v] of Object.entries(defaults)) merged[k] = Array.isArray(v) ? Object.freeze([...v]) : v;
    for (const [k, v] of Object.entries(options ?? {})) if (v !== undefined) merged[k] = Array.isArray(v) ? Object.freeze([...v]) : v;
    this.defaults = Object.freeze(merged) as Readonly<O>;
    if (!Array.isArray(params) || params.length === 0) {
      throw new Error(`${name}: expected a non-empty array of parameters or of param groups, got ${Array.isArray(params) ? 'an empty array' : describe(params)}`);
    }
    const list = params as readonly unknown[];
    const single = list.every((p) => p instanceof Parameter);
    if (!single) {
      list.forEach((p, i) => {
        if (!(p instanceof Parameter) && !isPlainObject(p)) {
          throw new TypeError(`${name}: params[${i}] is ${kindOf(p)}, not a Parameter or a param group (register values with store.parameter(name, size) and pass the Parameter)`);
        }
      });
      const i = list.findIndex((p) => p instanceof Parameter);
      if (i >= 0) throw new TypeError(`${name}: params mixes Parameters and param groups (params[${i}] is ${String(list[i])}); pass either a list of Parameters or a list of { params: [...] } groups`);
    }
    const inputs: ParamGroupInput<O>[] = single
      ? [{ params: params as Parameter[] } as ParamGroupInput<O>]
      : (params as ParamGroupInput<O>[]);
    // Validate everything before allocating anything.
    const groups = inputs.map((input, i) => this.#prepare(input, single ? name : `${name}: param group ${i}`));
    const store = groups[0].params[0].store;
    this.store = store;
    const seen = new Set<Parameter>();
    groups.forEach((group, i) => {
      for (const p of group.params) {
        if (p.store !== store) throw new Error(`${name}: param group ${i}: parameter ${JSON.stringify(p.name)} belongs to another ParameterStore`);
        if (seen.has(p)) throw new Error(`${name}: parameter ${JSON.stringify(p.name)} appears in more than one param group (or twice in one)`);
        seen.add(p);
      }
    });
    for (const group of groups) this.#install(group);
  }

  /**
   * Adds a param group (PyTorch's `add_param_group`): options default to the optimizer's
   * defaults; its parameters must be new to this optimizer and of the same store.
   */
  addParamGroup(input: ParamGroupInput<O>): void {
    const context = `${this.spec.name}: param group ${this.paramGroups.length}`;
    const group = this.#prepare(input, context);
    for (const p of group.params) {
      if (p.store !== this.store) throw new Error(`${context}: parameter ${JSON.stringify(p.name)} belongs to another ParameterStore`);
      if (this.#seen.has(p)) throw new Error(`${context}: parameter ${JSON.stringify(p.name)} is already in a param group`);
    }
    if (new Set(group.params).size !== group.params.length) {
      throw new Error(`${context}: a parameter appears twice in the group`);
    }
    this.#install(group);
  }

  #checkKeys(options: object, context: string, allowParams: boolean): void {
    for (const key of Object.keys(options)) {
      if (allowParams && key === 'params') continue;
      if (!Object.prototype.hasOwnProperty.call(this.spec.checks, key)) {
        throw new Error(`${context}: unknown option ${JSON.stringify(key)} (valid: ${Object.keys(this.spec.checks).join(', ')})`);
      }
    }
  }

  /** Merges defaults into a group input and validates it. */
  #prepare(input: ParamGroupInput<O>, context: string): ParamGroup<O> {
    if (input === null || typeof input !== 'object' || Array.isArray(input)) {
      throw new TypeError(`${context}: a param group must be an object with params, got ${describe(input)}`);
    }
    this.#checkKeys(input, context, true);
    const params = input.params as unknown;
    if (!Array.isArray(params) || params.length === 0) {
      throw new Error(`${context}: params must be a non-empty array of Parameters, got ${Array.isArray(params) ? 'an empty array' : kindOf(params)}`);
    }
    params.forEach((p, i) => {
      if (!(p instanceof Parameter)) throw new TypeError(`${context}: params[${i}] is ${kindOf(p)}, not a Parameter`);
    });
    const group = {} as Record<string, unknown>;
    for (const [k, v] of Object.entries(this.defaults)) group[k] = Array.isArray(v) ? [...v] : v;
    for (const [k, v] of Object.entries(input)) if (k !== 'params' && v !== undefined) group[k] = Array.isArray(v) ? [...v] : v;
    group.params = Object.freeze([...(params as Parameter[])]);
    const result = group as ParamGroup<O>;
    this.validateGroup(result, context);
    return result;
  }

  /**
   * Validates a group's hyperparameters (at construction, before every step and on load): every
   * option's value, and no key the optimizer does not know (a misspelt `group.lrr = 0.5`
   * would otherwise be ignored). Besides the options, a group may hold the keys schedulers
   * record ({@link SCHEDULER_GROUP_KEYS}). @internal
   */
  protected validateGroup(group: ParamGroup<O>, context: string): void {
    const checks = this.spec.checks as Record<string, Check>;
    for (const key of Object.keys(group)) {
      if (key === 'params' || Object.prototype.hasOwnProperty.call(checks, key)) continue;
      if ((SCHEDULER_GROUP_KEYS as readonly string[]).includes(key)) {
        const v = (group as Record<string, unknown>)[key];
        if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) throw new RangeError(`${context}: ${key} (recorded by a scheduler) must be a finite number >= 0, got ${describe(v)}`);
        continue;
      }
      throw new Error(`${context}: unknown hyperparameter ${JSON.stringify(key)} in the param group (valid: ${Object.keys(checks).join(', ')}; and ${SCHEDULER_GROUP_KEYS.join(', ')}, which schedulers record)`);
    }
    for (const key of Object.keys(checks)) checks[key]((group as Record<string, unknown>)[key], context);
    this.spec.crossCheck?.(group, context);
  }

  #install(group: ParamGroup<O>): void {
    const runs: Run[] = [];
    const paramOffsets: number[] = [];
    let elements = 0;
    for (const p of group.params) {
      const last = runs[runs.length - 1];
      if (last !== undefined && last.data + last.n * 4 === p.offset) {
        runs[runs.length - 1] = { ...last, n: last.n + p.paddedSize };
      } else {
        runs.push({ data: p.offset, state: elements * 4, n: p.paddedSize });
      }
      paramOffsets.push(elements);
      elements += p.paddedSize;
      this.#seen.add(p);
    }
    const state: GroupState = { step: 0, runs, paramOffsets, elements, buffers: new Map(), fresh: new Set(), scalars: {} };
    this.paramGroups.push(group);
    this.groupStates.push(state);
    for (const buffer of this.stateBuffers(group)) this.#buffer(group, state, buffer);
  }

  #buffer(group: ParamGroup<O>, state: GroupState, name: string): number {
    let offset = state.buffers.get(name);
    if (offset === undefined) {
      offset = this.store.allocState(state.elements);
      state.buffers.set(name, offset);
      state.fresh.add(name);
      const value = this.initialValue(name, group);
      if (value !== 0) {
        // Only the parameters' own elements: padding stays zero.
        const heap = this.store.heap();
        const base = (this.store.stateBase + offset) >>> 2;
        group.params.forEach((p, i) => heap.fill(value, base + state.paramOffsets[i], base + state.paramOffsets[i] + p.size));
      }
    }
    return offset;
  }

  /**
   * Zeroes the padding of a group's parameters and state buffers. A step leaves padding at
   * zero (zero gradient, zero state) except where eps = 0 turns 0/0 into NaN; this restores it.
   */
  #zeroPadding(group: ParamGroup<O>, state: GroupState): void {
    const heap = this.store.heap();
    group.params.forEach((p, i) => {
      if (p.size === p.paddedSize) return;
      const data = (this.store.dataBase + p.offset) >>> 2;
      heap.fill(0, data + p.size, data + p.paddedSize);
      for (const offset of state.buffers.values()) {
        const base = ((this.store.stateBase + offset) >>> 2) + state.paramOffsets[i];
        heap.fill(0, base + p.size, base + p.paddedSize);
      }
    });
  }

  /**
   * The names of the state buffers a group needs with its current options. Allocated at
   * construction; a buffer an option switches on later (momentum set on a group that had
   * none) is allocated, zeroed, at the first step that needs it. @internal
   */
  protected abstract stateBuffers(group: ParamGroup<O>): readonly string[];

  /** The value a freshly allocated state buffer starts from (Adagrad's initial accumulator); 0 by default. @internal */
  protected initialValue(_name: string, _group: ParamGroup<O>): number {
    return 0;
  }

  /** Performs a group's update: compute the step's scalars, then one kernel call per run. @internal */
  protected abstract updateGroup(group: ParamGroup<O>, state: GroupState, kernels: Kernels): void;

  /**
   * Absolute byte address of state buffer `name` at `run`. A buffer the kernel reads under the
   * step's flags (`used`, the default) must be allocated: asking for one that is not throws,
   * so byte offset 0 (a real arena address) never reaches a kernel by accident. A buffer the
   * kernel does not read under its flags (`used = false`, e.g. `maxExpAvgSq` without amsgrad)
   * is passed as 0. @internal
   */
  protected stateAt(state: GroupState, name: string, run: Run, used = true): number {
    if (!used) return 0;
    const offset = state.buffers.get(name);
    if (offset === undefined) {
      throw new Error(`${this.spec.name}: internal error: state buffer ${JSON.stringify(name)} is needed by this step but was never allocated (allocated: ${[...state.buffers.keys()].join(', ') || 'none'})`);
    }
    return this.store.stateBase + offset + run.state;
  }

  /** Absolute byte address of the parameters at `run`. @internal */
  protected paramAt(run: Run): number {
    return this.store.dataBase + run.data;
  }

  /** Absolute byte address of the gradients at `run`. @internal */
  protected gradAt(run: Run): number {
    return this.store.gradBase + run.data;
  }

  /**
   * Performs one optimization step on every param group: one kernel call per group (per
   * run of adjacent parameters, when a group's parameters are not registered back to back).
   * Every group's hyperparameters are validated first, so an invalid value written into
   * `paramGroups` throws before anything changes.
   * @param closure optional: re-evaluates the model and returns the loss, which `step` returns.
   */
  step(closure?: () => number): number | undefined {
    this.store.assertLive(this.spec.name);
    const loss = closure?.();
    this.paramGroups.forEach((group, i) => {
      this.validateGroup(group, this.paramGroups.length > 1 ? `${this.spec.name}: param group ${i}` : this.spec.name);
    });
    this.paramGroups.forEach((group, i) => {
      const state = this.groupStates[i];
      for (const buffer of this.stateBuffers(group)) this.#buffer(group, state, buffer);
    });
    const kernels = this.store.kernels;
    this.paramGroups.forEach((group, i) => {
      const state = this.groupStates[i];
      state.step++;
      try {
        this.updateGroup(group, state, kernels);
      } catch (e) {
        state.step--;
        throw e;
      }
      state.fresh.clear();
      const eps = (group as { eps?: unknown }).eps;
      if (typeof eps === 'number' && Math.fround(eps) === 0) this.#zeroPadding(group, state);
    });
    return loss;
  }

  /** Steps skipped by {@link stepIfFinite} because a gradient was not finite. */
  skippedSteps = 0;

  /**
   * Steps only when every gradient of this optimizer's parameters is finite: one pass over
   * the gradients in the kernels, then the step. When an Inf or NaN is found, nothing changes
   * (parameters, state, step counts) and it returns false (and counts it in `skippedSteps`);
   * the usual reaction with loss scaling is to lower the scale and try again.
   */
  stepIfFinite(): boolean {
    this.store.assertLive(this.spec.name);
    const k = this.store.kernels;
    for (const gs of this.groupStates) {
      for (const run of gs.runs) {
        if (!k.allFinite(this.gradAt(run), run.n)) {
          this.skippedSteps++;
          return false;
        }
      }
    }
    this.step();
    return true;
  }

  /** Sets the gradients of every parameter of this optimizer to zero. */
  zeroGrad(): void {
    this.store.assertLive(this.spec.name);
    const heap = this.store.heap();
    const base = this.store.gradBase >>> 2;
    for (const state of this.groupStates) {
      for (const run of state.runs) heap.fill(0, base + (run.data >>> 2), base + (run.data >>> 2) + run.n);
    }
  }

  /**
   * The optimizer's state as plain data: format version, kernel build hash, class name, the
   * param groups' hyperparameters, and each parameter's step count and state buffers (copies).
   * Buffers no step has written yet (SGD's momentum buffer before the first step) are left
   * out, as PyTorch leaves them out.
   */
  stateDict(): OptimizerStateDict {
    this.store.assertLive(`${this.spec.name}.stateDict`);
    const heap = this.store.heap();
    const state: Record<number, ParamStateEntry> = {};
    const paramGroups: OptimizerStateDict['paramGroups'] = [];
    let index = 0;
    this.paramGroups.forEach((group, gi) => {
      const gs = this.groupStates[gi];
      const indices: number[] = [];
      group.params.forEach((p, pi) => {
        const entry: ParamStateEntry = { step: gs.step, ...gs.scalars };
        for (const [name, offset] of gs.buffers) {
          if (gs.fresh.has(name) && this.initialValue(name, group) === 0) continue;
          const at = ((this.store.stateBase + offset) >>> 2) + gs.paramOffsets[pi];
          entry[name] = heap.slice(at, at + p.size);
        }
        state[index] = entry;
        indices.push(index++);
      });
      const hyper = Object.fromEntries(Object.entries(group).filter(([k]) => k !== 'params').map(([k, v]) => [k, structuredClone(v)]));
      paramGroups.push({ ...hyper, params: indices });
    });
    const params = this.paramGroups.flatMap((g) => g.params);
    return {
      format: 'simdopt-optimizer', version: 1, kernelHash: KERNELS_WASM_SHA256, optimizer: this.spec.name,
      paramGroups, state, paramNames: params.map((p) => p.name), paramSizes: params.map((p) => p.size),
    };
  }

  /**
   * Throws an Error saying what is wrong if `sd` cannot be loaded into this optimizer
   * (format, version, kernel build, class, groups, parameters, hyperparameters, state keys,
   * buffer types and lengths); changes nothing.
   */
  validateStateDict(sd: unknown, options: LoadStateOptions = {}): void {
    this.#checkedCopy(sd, options);
  }

  /**
   * Copies `input` (reading every property once: a getter that throws, a proxy or a function
   * is refused), then validates the copy and returns it. Loading applies only this copy, so
   * nothing the caller holds can change between the checks and the load.
   */
  #checkedCopy(input: unknown, options: LoadStateOptions): OptimizerStateDict {
    const name = this.spec.name;
    const fail = (why: string): never => { throw new Error(`${name}.loadStateDict: ${why}; nothing was changed`); };
    if (input === null || typeof input !== 'object') fail(`expected a state dict object, got ${describe(input)}`);
    let copy: unknown;
    try {
      copy = structuredClone(input);
    } catch (e) {
      fail(`the state dict cannot be read as plain data (${(e as Error).message})`);
    }
    const s = copy as Partial<OptimizerStateDict>;
    if (s.format !== 'simdopt-optimizer') fail(`not an optimizer state dict (format ${describe(s.format)})`);
    if (s.version !== 1) fail(`unsupported state dict version ${describe(s.version)} (this library reads version 1)`);
    if (s.kernelHash !== KERNELS_WASM_SHA256 && !options.ignoreKernelHash) {
      fail(`the state was saved by kernel build ${String(s.kernelHash).slice(0, 12)}…, this is ${KERNELS_WASM_SHA256.slice(0, 12)}… (pass { ignoreKernelHash: true } to load it anyway)`);
    }
    if (s.optimizer !== name) fail(`the state was saved from ${describe(s.optimizer)}, not ${name}`);
    const params = this.paramGroups.flatMap((g) => g.params);
    if (!Array.isArray(s.paramNames) || !Array.isArray(s.paramSizes)) fail('paramNames and paramSizes are missing');
    const names = s.paramNames!, sizes = s.paramSizes!;
    if (names.length !== params.length || sizes.length !== params.length) {
      fail(`the state holds ${names.length} parameters (${names.map((n) => describe(n)).join(', ')}), this optimizer has ${params.length} (${params.map((p) => p.name).join(', ')})`);
    }
    params.forEach((p, i) => {
      if (names[i] !== p.name || sizes[i] !== p.size) {
        fail(`parameter ${i} is ${describe(names[i])} of size ${describe(sizes[i])} in the state, but ${JSON.stringify(p.name)} of size ${p.size} here`);
      }
    });
    if (!Array.isArray(s.paramGroups) || s.paramGroups.length !== this.paramGroups.length) {
      fail(`the state has ${Array.isArray(s.paramGroups) ? s.paramGroups.length : 'no'} param groups, this optimizer has ${this.paramGroups.length}`);
    }
    if (s.state === null || typeof s.state !== 'object' || Array.isArray(s.state)) fail(`state must be an object keyed by parameter index, got ${describe(s.state)}`);
    const indices = Object.keys(s.state!);
    const extra = indices.filter((k) => !(String(Number(k)) === k && Number(k) >= 0 && Number(k) < params.length));
    if (extra.length > 0) fail(`state holds entries for no parameter of this optimizer: ${extra.map((k) => JSON.stringify(k)).join(', ')} (parameters are 0 to ${params.length - 1})`);
    let index = 0;
    s.paramGroups!.forEach((g, gi) => {
      const context = `${name}.loadStateDict: param group ${gi}`;
      if (!isPlainObject(g)) fail(`param group ${gi} is not an object`);
      const expected = this.paramGroups[gi].params.map(() => index++);
      if (!Array.isArray(g.params) || g.params.length !== expected.length || g.params.some((x, k) => x !== expected[k])) {
        fail(`param group ${gi} lists parameters ${describe(g.params)}, expected ${describe(expected)}`);
      }
      for (const key of Object.keys(this.spec.checks)) if (!(key in g)) fail(`param group ${gi} lacks ${key}`);
      const candidate = { ...g, params: this.paramGroups[gi].params } as unknown as ParamGroup<O>;
      try {
        this.validateGroup(candidate, context);
      } catch (e) {
        fail((e as Error).message.replace(`${context}: `, `param group ${gi}: `));
      }
      let step: number | undefined;
      let keys: string | undefined;
      for (const pi of expected) {
        const entry = s.state![pi] as Record<string, unknown> | undefined;
        const pname = JSON.stringify(params[pi].name);
        if (!isPlainObject(entry)) fail(`no state for parameter ${pi} (${pname})`);
        if (!Number.isSafeInteger(entry!.step) || (entry!.step as number) < 0) fail(`invalid step ${describe(entry!.step)} for parameter ${pi} (${pname})`);
        if (step !== undefined && entry!.step !== step) fail(`parameters of param group ${gi} have different step counts (${step} and ${describe(entry!.step)}); this library steps a group together`);
        step = entry!.step as number;
        const these = Object.keys(entry!).sort().join(', ');
        if (keys !== undefined && these !== keys) fail(`parameters of param group ${gi} hold different state (${keys} and ${these})`);
        keys = these;
        for (const [key, value] of Object.entries(entry!)) {
          if (key === 'step') continue;
          if (this.spec.scalars?.includes(key)) {
            if (typeof value !== 'number' || !Number.isFinite(value)) fail(`state ${key} of parameter ${pi} (${pname}) is ${describe(value)}, not a finite number`);
            continue;
          }
          if (!this.spec.buffers.includes(key)) fail(`unknown state ${JSON.stringify(key)} for parameter ${pi} (${pname}); ${name} keeps ${this.spec.buffers.join(', ')}`);
          const why = bufferProblem(value, params[pi].size);
          if (why !== undefined) fail(`state ${key} of parameter ${pi} (${pname}) ${why}`);
        }
      }
    });
    return s as OptimizerStateDict;
  }

  /**
   * Restores a state from {@link stateDict}, as PyTorch's `load_state_dict`: hyperparameters,
   * step counts and state buffers. The input is copied, then the copy is validated
   * ({@link validateStateDict}) and applied: an invalid state dict throws and leaves the
   * optimizer exactly as it was. State buffers may be `Float32Array`s or arrays of numbers of
   * the parameter's length (rounded to float32); for JSON, see {@link stateDictToJSON}. State
   * saved on either backend loads into either.
   */
  loadStateDict(input: OptimizerStateDict, options: LoadStateOptions = {}): void {
    this.store.assertLive(`${this.spec.name}.loadStateDict`);
    const sd = this.#checkedCopy(input, options);
    // Allocate every buffer the loaded state needs before changing anything else.
    let at = 0;
    this.paramGroups.forEach((group, gi) => {
      const gs = this.groupStates[gi];
      const first = sd.state[at];
      const candidate = { ...sd.paramGroups[gi], params: group.params } as unknown as ParamGroup<O>;
      const names = new Set([...this.stateBuffers(candidate), ...Object.keys(first).filter((k) => this.spec.buffers.includes(k))]);
      for (const buffer of names) if (!gs.buffers.has(buffer)) this.#buffer(candidate, gs, buffer);
      at += group.params.length;
    });
    let index = 0;
    this.paramGroups.forEach((group, gi) => {
      const gs = this.groupStates[gi];
      const saved = sd.paramGroups[gi];
      const g = group as Record<string, unknown>;
      for (const key of Object.keys(g)) if (key !== 'params') delete g[key];
      for (const [key, value] of Object.entries(saved)) if (key !== 'params') g[key] = value;
      const first = sd.state[index];
      gs.step = first.step;
      for (const key of Object.keys(gs.scalars)) delete gs.scalars[key];
      for (const key of this.spec.scalars ?? []) if (typeof first[key] === 'number') gs.scalars[key] = first[key] as number;
      gs.fresh.clear();
      const heap = this.store.heap();
      for (const [buffer, offset] of gs.buffers) {
        const base = (this.store.stateBase + offset) >>> 2;
        const present = buffer in first;
        if (!present) gs.fresh.add(buffer);
        const init = this.initialValue(buffer, group);
        group.params.forEach((p, pi) => {
          const at = base + gs.paramOffsets[pi];
          const value = sd.state[index + pi][buffer];
          if (present) heap.set(value as ArrayLike<number>, at);
          else heap.fill(init, at, at + p.size);
          heap.fill(0, at + p.size, at + p.paddedSize);
        });
      }
      index += group.params.length;
    });
  }

  /**
   * A copy of everything a step can change: parameter values and gradients, every state
   * buffer, step counts, host-side scalars and hyperparameters. @internal
   */
  snapshot(): OptimizerSnapshot {
    const heap = this.store.heap();
    const params = this.paramGroups.flatMap((g) => g.params);
    return {
      data: params.map((p) => p.data.slice()),
      grad: params.map((p) => p.grad.slice()),
      groups: this.paramGroups.map((group, i) => {
        const gs = this.groupStates[i];
        const buffers = new Map<string, Float32Array>();
        for (const [name, offset] of gs.buffers) {
          const at = (this.store.stateBase + offset) >>> 2;
          buffers.set(name, heap.slice(at, at + gs.elements));
        }
        const hyper = Object.fromEntries(Object.entries(group).filter(([k]) => k !== 'params').map(([k, v]) => [k, structuredClone(v)]));
        return { step: gs.step, fresh: new Set(gs.fresh), scalars: { ...gs.scalars }, buffers, hyper };
      }),
    };
  }

  /** Puts back a {@link snapshot}, bit for bit; buffers allocated since are zeroed and marked unused. @internal */
  restore(snap: OptimizerSnapshot): void {
    const params = this.paramGroups.flatMap((g) => g.params);
    params.forEach((p, i) => {
      p.data.set(snap.data[i]);
      p.grad.set(snap.grad[i]);
    });
    const heap = this.store.heap();
    this.paramGroups.forEach((group, i) => {
      const gs = this.groupStates[i];
      const saved = snap.groups[i];
      gs.step = saved.step;
      gs.fresh.clear();
      for (const name of saved.fresh) gs.fresh.add(name);
      for (const key of Object.keys(gs.scalars)) delete gs.scalars[key];
      Object.assign(gs.scalars, saved.scalars);
      for (const [name, offset] of gs.buffers) {
        const at = (this.store.stateBase + offset) >>> 2;
        const copy = saved.buffers.get(name);
        if (copy) heap.set(copy, at);
        else {
          heap.fill(0, at, at + gs.elements);
          gs.fresh.add(name);
        }
      }
      const g = group as Record<string, unknown>;
      for (const key of Object.keys(g)) if (key !== 'params' && !(key in saved.hyper)) delete g[key];
      for (const [key, value] of Object.entries(saved.hyper)) g[key] = structuredClone(value);
    });
  }

  /**
   * The optimizer state of `param` (PyTorch's `optimizer.state[p]`): its step count and a
   * live Float32Array view (length `param.size`) of each allocated state buffer. Views
   * follow the rules of {@link Parameter.data}.
   */
  state(param: Parameter): ParameterState {
    for (let gi = 0; gi < this.paramGroups.length; gi++) {
      const index = this.paramGroups[gi].params.indexOf(param);
      if (index < 0) continue;
      const gs = this.groupStates[gi];
      const result: ParameterState = { step: gs.step, ...gs.scalars };
      const buffer = this.store.backendBuffer();
      for (const [name, offset] of gs.buffers) {
        result[name] = new Float32Array(buffer, this.store.stateBase + offset + gs.paramOffsets[index] * 4, param.size);
      }
      return result;
    }
    throw new Error(`${this.spec.name}: parameter ${param instanceof Parameter ? JSON.stringify(param.name) : describe(param)} is not in any param group`);
  }
}
