// The optimizer base class: param groups, state buffers in the arena, the step, and state
// save and load. Group parsing and validation live in groups.ts, the state-dict format and
// its checks in state-dict.ts, element types and buffer layout in state.ts.
import { ELEMENTWISE_KERNELS, type Kernels } from '../kernels/index.js';
import { STATE_SCRATCH_BYTES, roundingKey, type StateRange } from '../kernels/lowp.js';
import { KERNELS_WASM_SHA256 } from '../generated/kernels-wasm.js';
import { Parameter, paddedSize, type ParameterStore } from '../store.js';
import {
  bufferSpecOf, checkOptionKeys, hasStateOptions, hyperparameters, parseParams, prepareGroup, validateGroup,
  type OptimizerSpec, type ParamGroup, type ParamGroupInput, type ParamsInput,
} from './groups.js';
import { describe } from '../validate.js';
import {
  DTYPES, addressOf, allocateBuffer, convertState, groupFromParams, keepsPart, layoutGroup, layoutOf, ownLayout, paramState, partSize,
  readGroup, stateRange, viewParamState, writeGroup, zeroElements,
  type BufferLayout, type GroupData, type GroupState, type OwnLayout, type Run, type StateBuffer, type StateDtype, type StateShape, type StateValues,
} from './state.js';
import { checkedStateDict, savedBufferKeys, type LoadStateOptions, type OptimizerStateDict, type ParamStateEntry } from './state-dict.js';
import { activeRuns, copyBooks, needsCohorts, settleBooks, stepCohorts } from './frozen.js';
import type { ParamBook } from './state.js';

export type { OptimizerSpec, ParamGroup, ParamGroupInput, ParamsInput } from './groups.js';
export { SCHEDULER_GROUP_KEYS } from './groups.js';
export type { GroupState, Run, QuantizedState, StateDtype, StateOptions, StateValues } from './state.js';
export type { LoadStateOptions, OptimizerStateDict, ParamStateEntry } from './state-dict.js';

/**
 * Any optimizer of this library, whatever its options type (for code that takes any of them:
 * schedulers, checkpoints).
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyOptimizer = Optimizer<any, any>;

/** One group's state as the snapshot and load paths carry it: everything a step can change. @internal */
export interface GroupCapture {
  step: number;
  fresh: Set<string>;
  scalars: Record<string, number>;
  /** Each buffer's raw data over the whole group (padding included), in the group's dtype. */
  buffers: Map<string, GroupData>;
  hyper: Record<string, unknown>;
  /** Each parameter's own step, unwritten buffers and scalars, where frozen parameters made them differ. */
  books?: ParamBook[];
}

/** Everything a step can change, copied. @internal */
export interface OptimizerSnapshot {
  readonly data: Float32Array[];
  readonly grad: Float32Array[];
  readonly groups: GroupCapture[];
}

/**
 * A view of one parameter's optimizer state: its step count, its state buffers, and any
 * host-side scalars (NAdam's `muProduct`). Each optimizer has its own typed form
 * (`AdamState`: `expAvg`, `expAvgSq`, `maxExpAvgSq?`).
 */
export interface ParameterState {
  /** Steps taken. */
  step: number;
  [buffer: string]: number | Float32Array | undefined;
}

/**
 * The stored form of one parameter's optimizer state ({@link Optimizer.rawState}): its step
 * count, host-side scalars, and each state buffer as a Float32Array (float32 state) or the raw
 * bits of a bfloat16 or int8 one ({@link QuantizedState}).
 */
export interface RawParameterState {
  /** Steps taken. */
  step: number;
  [buffer: string]: number | StateValues;
}

/**
 * The state of one parameter under an optimizer that keeps two moments (Adam, AdamW, NAdam,
 * RAdam, ADOPT): live views of the first and second moment.
 */
export interface MomentsState extends ParameterState {
  /** First moment m. */
  expAvg: Float32Array;
  /** Second moment v. */
  expAvgSq: Float32Array;
}

/**
 * Base of every optimizer: param groups, validation, state allocation in the arena and the
 * per-step loop. A subclass supplies its defaults, its option table, the state buffers a
 * group needs, and `updateGroup`, which computes the step's scalars once (in float64, handed
 * to the kernel as float32) and makes one kernel call per run.
 */
export abstract class Optimizer<O extends object, S extends ParameterState = ParameterState> {
  /** The defaults every param group starts from. */
  readonly defaults: Readonly<O>;
  /** The live param groups. */
  readonly paramGroups: ParamGroup<O>[] = [];
  /** The store holding every parameter and all state. */
  readonly store: ParameterStore;
  /** @internal */
  protected readonly groupStates: GroupState[] = [];
  /** @internal */
  readonly spec: OptimizerSpec<O>;
  readonly #seen = new Set<Parameter>();
  /** The buffers of their own shape (see {@link StateBufferSpec.shape}), by name. */
  readonly #shapes: ReadonlyMap<string, StateShape>;
  /** Whether this optimizer takes the state options (its state may be bfloat16 or int8). */
  readonly #lowPrecision: boolean;

  /**
   * The int8 map of state buffer `name`. Optimizers without the state options keep float32
   * state only (their state dicts refuse low-precision data), where the map plays no part.
   */
  #range(name: string): StateRange {
    return this.#lowPrecision ? stateRange(name) : 'signed';
  }

  /** @internal */
  protected constructor(params: ParamsInput<O>, options: Partial<O> | undefined, defaults: O, spec: OptimizerSpec<O>) {
    this.spec = spec;
    this.#shapes = new Map(Object.entries(spec.shapes ?? {}));
    this.#lowPrecision = hasStateOptions(spec as OptimizerSpec<unknown>);
    if (this.#lowPrecision && this.#shapes.size > 0) throw new Error(`${spec.name}: internal error: state buffers of their own shape are float32, so an optimizer with them cannot take the state options`);
    const name = spec.name;
    if (options !== undefined && (options === null || typeof options !== 'object' || Array.isArray(options))) {
      throw new TypeError(`${name}: options must be an object, got ${describe(options)}`);
    }
    checkOptionKeys(spec, options ?? {}, name, false);
    const merged = {} as Record<string, unknown>;
    for (const [k, v] of Object.entries(defaults)) merged[k] = Array.isArray(v) ? Object.freeze([...v]) : v;
    for (const [k, v] of Object.entries(options ?? {})) if (v !== undefined) merged[k] = Array.isArray(v) ? Object.freeze([...v]) : v;
    this.defaults = Object.freeze(merged) as Readonly<O>;
    const { inputs, single } = parseParams(name, params);
    // Validate everything before allocating anything.
    const groups = inputs.map((input, i) => prepareGroup(spec, this.defaults, input, single ? name : `${name}: param group ${i}`));
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
    const group = prepareGroup(this.spec, this.defaults, input, context);
    for (const p of group.params) {
      if (p.store !== this.store) throw new Error(`${context}: parameter ${JSON.stringify(p.name)} belongs to another ParameterStore`);
      if (this.#seen.has(p)) throw new Error(`${context}: parameter ${JSON.stringify(p.name)} is already in a param group`);
    }
    if (new Set(group.params).size !== group.params.length) {
      throw new Error(`${context}: a parameter appears twice in the group`);
    }
    this.#install(group);
  }

  /** Validates a group's hyperparameters (at construction, before every step and on load). @internal */
  validateGroup(group: ParamGroup<O>, context: string): void {
    validateGroup(this.spec, group, context);
  }

  /** The element type of a group's state (float32 for optimizers without the state options). */
  #dtypeOf(group: object): StateDtype {
    return this.#lowPrecision ? (group as { stateDtype: StateDtype }).stateDtype : 'float32';
  }

  #install(group: ParamGroup<O>): void {
    const state = layoutGroup(group.params, this.#dtypeOf(group));
    for (const p of group.params) this.#seen.add(p);
    this.paramGroups.push(group);
    this.groupStates.push(state);
    for (const buffer of this.stateBuffers(group)) this.#allocate(group, state, buffer);
  }

  /** Allocates state buffer `name` of a group if it is not yet, filled with its initial value and marked fresh. */
  #allocate(group: ParamGroup<O>, state: GroupState, name: string): void {
    if (state.buffers.has(name)) return;
    if (bufferSpecOf(this.spec as OptimizerSpec<unknown>, name) === undefined) throw new Error(`${this.spec.name}: internal error: state buffer ${JSON.stringify(name)} is not declared in the optimizer's spec`);
    const buffer = allocateBuffer(this.store, state, this.#ownLayout(name, group.params));
    state.buffers.set(name, buffer);
    state.fresh.add(name);
    state.books?.forEach((b) => b.fresh.add(name));
    const value = this.initialValue(name, group);
    // Only the parameters' own elements: padding stays zero.
    if (value !== 0) writeGroup(this.store, state, buffer, groupFromParams(layoutOf(state, buffer), group.params, [], value, this.#range(name)));
  }

  /** The layout of buffer `name` over `params` when it has its own shape (else it has the group's). */
  #ownLayout(name: string, params: readonly Parameter[]): OwnLayout | undefined {
    const shape = this.#shapes.get(name);
    return shape === undefined ? undefined : ownLayout(params, shape);
  }

  /**
   * Zeroes the padding of a group's parameters and state buffers. A step leaves padding at
   * zero (zero gradient, zero state) except where eps = 0 turns 0/0 into NaN; this restores it.
   */
  #zeroPadding(group: ParamGroup<O>, state: GroupState): void {
    group.params.forEach((p) => {
      if (p.size !== p.paddedSize) this.store.view(p.dataAddress + 4 * p.size, p.paddedSize - p.size).fill(0);
    });
    for (const buffer of state.buffers.values()) {
      const layout = layoutOf(state, buffer);
      group.params.forEach((_, i) => {
        const size = partSize(layout, group.params, i), padded = paddedSize(size);
        if (size !== padded) zeroElements(this.store, buffer, layout.paramOffsets[i] + size, padded - size);
      });
    }
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
   * Runs once per step, after validation and allocation and before any group steps: an
   * optimizer whose groups share a quantity computes it here (Prodigy's step size, from sums
   * over all its parameters). Returning false ends the step there: no group steps and no step
   * count moves. @internal
   */
  protected beginStep(_kernels: Kernels): boolean {
    return true;
  }

  /**
   * Absolute byte address of parameter `p`'s part of state buffer `name`: for buffers not
   * shaped like their parameters (see {@link StateBufferSpec.shape}), which runs do not
   * address. The buffer must be allocated and `p` must keep a part of it. @internal
   */
  protected stateOf(state: GroupState, name: string, p: Parameter): number {
    const buffer = state.buffers.get(name);
    // By parameter, not index: a frozen parameters' cohort's state lists some of the group's parameters.
    const index = buffer?.layout?.index.get(p);
    if (buffer?.layout === undefined || index === undefined || buffer.layout.shapes[index] === undefined) {
      throw new Error(`${this.spec.name}: internal error: parameter ${JSON.stringify(p.name)} keeps no part of a state buffer ${JSON.stringify(name)} of its own shape`);
    }
    return addressOf(buffer, buffer.layout.paramOffsets[index]);
  }

  /**
   * Absolute byte address of state buffer `name` at `run`. A buffer the kernel reads under the
   * step's flags (`used`, the default) must be allocated: asking for one that is not throws,
   * so byte offset 0 (a real arena address) never reaches a kernel by accident. A buffer the
   * kernel does not read under its flags (`used = false`, e.g. `maxExpAvgSq` without amsgrad)
   * is passed as 0. @internal
   */
  protected stateAt(state: GroupState, name: string, run: Run, used = true): number {
    if (!used) return 0;
    const buffer = state.buffers.get(name);
    if (buffer === undefined) {
      throw new Error(`${this.spec.name}: internal error: state buffer ${JSON.stringify(name)} is needed by this step but was never allocated (allocated: ${[...state.buffers.keys()].join(', ') || 'none'})`);
    }
    return addressOf(buffer, run.state);
  }

  /** Absolute byte address of the parameters at `run`. @internal */
  protected paramAt(run: Run): number {
    return run.data;
  }

  /** Absolute byte address of the gradients at `run`. @internal */
  protected gradAt(run: Run): number {
    return run.grad;
  }

  #context(i: number): string {
    return this.paramGroups.length > 1 ? `${this.spec.name}: param group ${i}` : this.spec.name;
  }

  /**
   * Performs one optimization step on every param group: one kernel call per group (per
   * run of adjacent parameters, when a group's parameters are not registered back to back).
   * Every group's hyperparameters are validated first, so an invalid value written into
   * `paramGroups` throws before anything changes. Frozen parameters (`p.requiresGrad =
   * false`) are skipped, values and state, as PyTorch skips a parameter whose grad is None;
   * each parameter counts its own steps, so one unfrozen later resumes from its own state.
   * @param closure optional: re-evaluates the model and returns the loss, which `step` returns.
   */
  step(closure?: () => number): number | undefined {
    this.store.assertLive(this.spec.name);
    const loss = closure?.();
    this.paramGroups.forEach((group, i) => {
      this.validateGroup(group, this.#context(i));
      const dtype = this.#dtypeOf(group);
      if (dtype !== this.groupStates[i].dtype) {
        throw new Error(`${this.#context(i)}: stateDtype cannot change after the param group was created (it holds ${this.groupStates[i].dtype} state, the group now says ${JSON.stringify(dtype)}); to convert, load this optimizer's state dict into a new optimizer with the stateDtype you want`);
      }
    });
    this.paramGroups.forEach((group, i) => {
      for (const buffer of this.stateBuffers(group)) this.#allocate(group, this.groupStates[i], buffer);
    });
    const kernels = this.store.kernels;
    if (!this.beginStep(kernels)) return loss;
    this.paramGroups.forEach((group, i) => {
      const state = this.groupStates[i];
      const update = (g: ParamGroup<O>, s: GroupState) => this.updateGroup(g, s, s.dtype === 'float32' ? kernels : this.#lowPrecisionKernels(kernels, g, s, i));
      if (needsCohorts(group.params, state)) {
        stepCohorts(group, state, update);
      } else {
        state.step++;
        try {
          update(group, state);
        } catch (e) {
          state.step--;
          throw e;
        }
        state.fresh.clear();
      }
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
   * the usual reaction with loss scaling is to lower the scale and try again. The gradients
   * of frozen parameters are not looked at (PyTorch's GradScaler checks the grads that exist).
   */
  stepIfFinite(): boolean {
    this.store.assertLive(this.spec.name);
    const k = this.store.kernels;
    for (const [gi, gs] of this.groupStates.entries()) {
      for (const run of activeRuns(this.paramGroups[gi].params, gs)) {
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
    for (const state of this.groupStates) {
      for (const run of state.runs) this.store.view(run.grad, run.n).fill(0);
    }
  }

  // ---- state: one capture and one apply path, for snapshots and state dicts ---------------

  /** Copies every group's step, fresh set, scalars, hyperparameters and buffers. */
  #capture(): GroupCapture[] {
    return this.paramGroups.map((group, i) => {
      const gs = this.groupStates[i];
      const buffers = new Map<string, GroupData>();
      for (const [name, buffer] of gs.buffers) buffers.set(name, readGroup(this.store, gs, buffer));
      return { step: gs.step, fresh: new Set(gs.fresh), scalars: { ...gs.scalars }, buffers, hyper: hyperparameters(group), books: gs.books && copyBooks(gs.books) };
    });
  }

  /**
   * Puts captured state back: hyperparameters, step counts, scalars and buffers. A buffer the
   * capture does not hold (allocated since, or never written) is set to its initial value and
   * marked fresh. Every buffer the new state needs is allocated before anything changes.
   */
  #apply(captures: readonly GroupCapture[]): void {
    this.paramGroups.forEach((group, gi) => {
      const candidate = { ...captures[gi].hyper, params: group.params } as unknown as ParamGroup<O>;
      for (const name of new Set([...this.stateBuffers(candidate), ...captures[gi].buffers.keys()])) this.#allocate(candidate, this.groupStates[gi], name);
    });
    this.paramGroups.forEach((group, gi) => {
      const gs = this.groupStates[gi];
      const saved = captures[gi];
      const g = group as Record<string, unknown>;
      const dtype = g.stateDtype;
      for (const key of Object.keys(g)) if (key !== 'params') delete g[key];
      for (const [key, value] of Object.entries(saved.hyper)) g[key] = structuredClone(value);
      // The element type is the group's own: loaded state was converted to it.
      if (dtype !== undefined) g.stateDtype = dtype;
      gs.step = saved.step;
      for (const key of Object.keys(gs.scalars)) delete gs.scalars[key];
      Object.assign(gs.scalars, saved.scalars);
      gs.fresh.clear();
      for (const name of saved.fresh) gs.fresh.add(name);
      gs.books = saved.books && copyBooks(saved.books);
      for (const [name, buffer] of gs.buffers) {
        const values = saved.buffers.get(name);
        if (values !== undefined) {
          writeGroup(this.store, gs, buffer, values);
          continue;
        }
        gs.fresh.add(name);
        gs.books?.forEach((b) => b.fresh.add(name));
        writeGroup(this.store, gs, buffer, groupFromParams(layoutOf(gs, buffer), group.params, [], this.initialValue(name, group), this.#range(name)));
      }
    });
  }

  /**
   * The optimizer's state as plain data: format version, kernel build hash, class name, the
   * param groups' hyperparameters, and each parameter's step count and state buffers (copies).
   * Buffers no step has written yet (SGD's momentum buffer before the first step) are left
   * out, as PyTorch leaves them out.
   */
  stateDict(): OptimizerStateDict {
    this.store.assertLive(`${this.spec.name}.stateDict`);
    const captures = this.#capture();
    const state: Record<number, ParamStateEntry> = {};
    const paramGroups: OptimizerStateDict['paramGroups'] = [];
    let index = 0;
    this.paramGroups.forEach((group, gi) => {
      const gs = this.groupStates[gi];
      const c = captures[gi];
      const indices: number[] = [];
      group.params.forEach((_, pi) => {
        const book = c.books?.[pi] ?? c;
        const entry: ParamStateEntry = { step: book.step, ...book.scalars };
        for (const [name, values] of c.buffers) {
          if (book.fresh.has(name) && this.initialValue(name, group) === 0) continue;
          const layout = layoutOf(gs, gs.buffers.get(name)!);
          if (!keepsPart(layout, pi)) continue; // a buffer this parameter keeps none of
          entry[name] = paramState(layout, values, pi, partSize(layout, group.params, pi));
        }
        state[index] = entry;
        indices.push(index++);
      });
      paramGroups.push({ ...c.hyper, params: indices });
    });
    const params = this.paramGroups.flatMap((g) => g.params);
    return {
      format: 'simdopt-optimizer', version: 2, kernelHash: KERNELS_WASM_SHA256, optimizer: this.spec.name,
      paramGroups, state, paramNames: params.map((p) => p.name), paramSizes: params.map((p) => p.size),
      paramShapes: params.map((p) => [...p.shape]),
    };
  }

  /**
   * Throws an Error saying what is wrong if `sd` cannot be loaded into this optimizer
   * (format, version, kernel build, class, groups, parameters and their shapes,
   * hyperparameters, state keys, buffer types and lengths); changes nothing.
   */
  validateStateDict(sd: unknown, options: LoadStateOptions = {}): void {
    this.checkStateDict(sd, options);
  }

  /**
   * Restores a state from {@link stateDict}, as PyTorch's `load_state_dict`: hyperparameters,
   * step counts and state buffers. The input is copied, then the copy is validated
   * ({@link validateStateDict}) and applied: an invalid state dict throws and leaves the
   * optimizer exactly as it was. State buffers may be `Float32Array`s or arrays of numbers of
   * the parameter's length (rounded to float32); for JSON, see `stateDictToJSON`. State saved
   * on either backend loads into either.
   */
  loadStateDict(input: OptimizerStateDict, options: LoadStateOptions = {}): void {
    this.store.assertLive(`${this.spec.name}.loadStateDict`);
    this.applyStateDict(this.checkStateDict(input, options));
  }

  /**
   * The checked private copy that {@link loadStateDict} applies (throws as it does), for
   * callers that check several parts before applying any (checkpoints). @internal
   */
  checkStateDict(input: unknown, options: LoadStateOptions = {}): OptimizerStateDict {
    return checkedStateDict(this, input, options);
  }

  /** Applies a state dict returned by {@link checkStateDict}. @internal */
  applyStateDict(sd: OptimizerStateDict): void {
    const scalars = this.spec.scalars ?? [];
    let index = 0;
    const captures = this.paramGroups.map((group, gi): GroupCapture => {
      const gs = this.groupStates[gi];
      const entries = group.params.map((_, pi) => sd.state[index + pi]);
      const { params: _, ...hyper } = sd.paramGroups[gi];
      index += group.params.length;
      // A buffer some parameters lack (a parameter frozen since before its first step) starts
      // from its initial value there, unwritten for that parameter.
      const candidate = { ...hyper, params: group.params } as unknown as ParamGroup<O>;
      // Each parameter's state is converted to the group's dtype when saved in another (a
      // buffer of its own shape is float32).
      const values = new Map<string, GroupData>();
      const layouts = new Map<string, BufferLayout>();
      for (const name of savedBufferKeys(this.spec as OptimizerSpec<unknown>, entries)) {
        const range = this.#range(name);
        const layout: BufferLayout = this.#ownLayout(name, group.params) ?? gs;
        layouts.set(name, layout);
        const perParam = entries.map((e) => (e[name] === undefined ? undefined : convertState(e[name] as StateValues, layout.dtype, range)));
        values.set(name, groupFromParams(layout, group.params, perParam, this.initialValue(name, candidate), range));
      }
      // A buffer a parameter keeps none of is not unwritten for it.
      const books = entries.map((e, pi): ParamBook => ({
        step: e.step, fresh: new Set([...values.keys()].filter((name) => !(name in e) && keepsPart(layouts.get(name)!, pi))),
        scalars: Object.fromEntries(scalars.filter((k) => typeof e[k] === 'number').map((k) => [k, e[k] as number])),
      }));
      const settled = { ...gs, books: undefined, step: 0, fresh: new Set<string>(), scalars: {} };
      settleBooks(settled, books);
      return { step: settled.step, fresh: settled.fresh, scalars: settled.scalars, buffers: values, hyper, books: settled.books };
    });
    this.#apply(captures);
  }

  /**
   * A copy of everything a step can change: parameter values and gradients, every state
   * buffer, step counts, host-side scalars and hyperparameters. @internal
   */
  snapshot(): OptimizerSnapshot {
    const params = this.paramGroups.flatMap((g) => g.params);
    return { data: params.map((p) => p.data.slice()), grad: params.map((p) => p.grad.slice()), groups: this.#capture() };
  }

  /** Puts back a {@link snapshot}, bit for bit; buffers allocated since are reset and marked unused. @internal */
  restore(snap: OptimizerSnapshot): void {
    const params = this.paramGroups.flatMap((g) => g.params);
    params.forEach((p, i) => {
      p.data.set(snap.data[i]);
      p.grad.set(snap.grad[i]);
    });
    this.#apply(snap.groups);
  }

  /**
   * The optimizer state of `param` (PyTorch's `optimizer.state[p]`): its step count and each
   * allocated state buffer it keeps as a Float32Array of length `param.size` (or of the
   * elements of the buffer's own shape: Adafactor's row and column factors). For float32 state
   * these are live views: they never move, and stay valid for the store's life where
   * `store.stableViews` is true (the rules of {@link Parameter.data}). For bfloat16 and int8
   * state they are dequantised copies (writing them changes nothing); {@link rawState} gives
   * the stored bits.
   */
  state(param: Parameter): S {
    return this.#paramState(param, (raw, buffer, name) => (raw instanceof Float32Array ? raw : DTYPES[buffer.dtype].decode(raw, this.#range(name)))) as S;
  }

  /**
   * The optimizer state of `param` as stored: its step count and, per allocated state buffer,
   * live views of its raw data: a Float32Array (float32 state), `{ dtype: 'bfloat16', data:
   * Uint16Array }` or `{ dtype: 'int8', data: Uint8Array, scales: Float32Array, blockSize }`
   * (the codes, and the scale of each block of `blockSize` elements). The same forms as in
   * {@link stateDict}, but live (views of the arena, with the validity rules of
   * {@link Parameter.data}).
   */
  rawState(param: Parameter): RawParameterState {
    return this.#paramState(param, (raw) => raw);
  }

  /** `param`'s step count, scalars and, per allocated buffer it keeps a part of, `view` of the live raw state of that part. */
  #paramState<V>(param: Parameter, view: (raw: StateValues, buffer: StateBuffer, name: string) => V): { step: number; [key: string]: number | V } {
    for (let gi = 0; gi < this.paramGroups.length; gi++) {
      const index = this.paramGroups[gi].params.indexOf(param);
      if (index < 0) continue;
      const gs = this.groupStates[gi];
      const book = gs.books?.[index] ?? gs;
      const result: { step: number; [key: string]: number | V } = { step: book.step, ...book.scalars };
      const params = this.paramGroups[gi].params;
      for (const [name, buffer] of gs.buffers) {
        const layout = layoutOf(gs, buffer);
        if (keepsPart(layout, index)) result[name] = view(viewParamState(this.store, layout, buffer, index, partSize(layout, params, index)), buffer, name);
      }
      return result;
    }
    throw new Error(`${this.spec.name}: parameter ${param instanceof Parameter ? JSON.stringify(param.name) : describe(param)} is not in any param group`);
  }

  /**
   * The kernels a low-precision group's update calls: each kernel with state arrays runs its
   * bfloat16 or int8 variant, given the store's scratch (one part per thread), and (bfloat16)
   * the call's position in the group's state buffers (the stochastic-rounding counter) and the
   * step's rounding key, or (int8) the scales of the parameter the call covers. Calls that use no state array run the
   * float32 kernel. An int8 call must cover one parameter from its first element (its blocks
   * start there): the group's runs are one per parameter.
   */
  #lowPrecisionKernels(base: Kernels, group: ParamGroup<O>, gs: GroupState, groupIndex: number): Kernels {
    const suffix = DTYPES[gs.dtype].kernelSuffix;
    const options = group as unknown as { stochasticRounding: boolean; stateSeed: number };
    const key = roundingKey(options.stateSeed, gs.step, groupIndex);
    const stochastic = options.stochasticRounding;
    const bytes = DTYPES[gs.dtype].bytesPerElement;
    const locate = (address: number) => {
      for (const buffer of gs.buffers.values()) {
        if (address >= buffer.address && address < buffer.address + gs.elements * bytes) return { buffer, element: (address - buffer.address) / bytes };
      }
      throw new Error(`${this.spec.name}: internal error: a kernel's state array at ${address} is in no state buffer of the group`);
    };
    const raw = base as unknown as Record<string, (a: Record<string, number>, n: number, s?: object, f?: object, x?: object) => void>;
    const out: Record<string, unknown> = { ...base };
    for (const k of STATEFUL_KERNELS) {
      const states = Object.keys(k.state);
      const variant = raw[k.name + suffix];
      out[k.name] = (arrays: Record<string, number>, n: number, scalars?: object, flags?: object) => {
        const used = states.filter((x) => arrays[x]);
        if (used.length === 0) return raw[k.name](arrays, n, scalars, flags);
        const { element } = locate(arrays[used[0]]);
        const scratch = this.store.scratch('state', this.store.threads.active * STATE_SCRATCH_BYTES);
        if (gs.dtype === 'bfloat16') return variant({ ...arrays, scratch }, n, scalars, { ...flags, stochastic }, { index: element, key });
        // (Parameters of size 0 share their offset with the next one.)
        const pi = gs.paramOffsets.findIndex((at, i) => at === element && group.params[i].paddedSize >= n);
        if (pi < 0) throw new Error(`${this.spec.name}: internal error: an int8 kernel call must cover one parameter from its first element`);
        const scales: Record<string, number> = {};
        for (const x of used) scales[`${x}Scale`] = locate(arrays[x]).buffer.scales! + 4 * gs.blockOffsets[pi];
        return variant({ ...arrays, ...scales, scratch }, n, scalars, flags);
      };
    }
    return out as unknown as Kernels;
  }
}

/** The float32 kernels with state arrays (each has bfloat16 and int8 variants). */
const STATEFUL_KERNELS = ELEMENTWISE_KERNELS.filter((k) => k.variant === 'float32' && Object.keys(k.state).length > 0);
