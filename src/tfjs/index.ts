/**
 * simdopt/tfjs: any simdopt optimizer, with its options, scheduler, gradient clipping and
 * `stepIfFinite`, as a TensorFlow.js optimizer (a subclass of `tf.Optimizer`) for
 * `model.compile({ optimizer })`, `model.fit`, `optimizer.minimize(f)` and
 * `optimizer.applyGradients(grads)`. Imports `@tensorflow/tfjs-core` (an optional peer
 * dependency; `@tensorflow/tfjs` re-exports it, so its users get the same classes).
 *
 * @example
 * import * as tf from '@tensorflow/tfjs';
 * import { AdamW, OneCycleLR } from 'simdopt';
 * import { tfjsOptimizer } from 'simdopt/tfjs';
 * const optimizer = await tfjsOptimizer(AdamW, { lr: 1e-3 }, {
 *   scheduler: (opt) => new OneCycleLR(opt, { maxLr: 1e-2, totalSteps: 1000 }),
 *   clipGradNorm: 1,
 * });
 * model.compile({ optimizer, loss: 'meanSquaredError' });
 * await model.fit(xs, ys, { epochs: 10 });
 * @packageDocumentation
 */
// Follows tfjs-core 4.x: optimizers/optimizer.js (the Optimizer base: `minimize` computes the
// gradients and calls `applyGradients` with a NamedTensorMap, or with a NamedTensor[] in
// `varList` order; `getWeights` starts with `saveIterations()`'s 'iter' scalar and
// `setWeights` reads it first), optimizers/adam_optimizer.js (variables looked up by name in
// `engine().registeredVariables`; state matched to variables by position, so a model rebuilt
// under other variable names resumes; weight names `<variable>/<slot>`), serialization.js
// (`registerClass` keys the class by its static `className`; `getConfig` / `fromConfig`), and
// tfjs-layers 4.x engine/training.js (`compile` takes any `instanceof tf.Optimizer`;
// `save({ includeOptimizer })` stores `getClassName()`, `getConfig()` and `getWeights()`;
// models.js `loadLayersModel` rebuilds the optimizer with `fromConfig`, then awaits
// `setWeights`, then disposes the weights it passed).
import {
  Optimizer as TfOptimizer, engine, scalar, serialization, tensor,
  type NamedTensorMap, type Tensor, type Variable,
} from '@tensorflow/tfjs-core';
import type { BackendOption } from '../backend.js';
import { loadCheckpoint, saveCheckpoint, type CheckpointBytes } from '../checkpoint.js';
import { refuseClosureDriven } from '../optim/groups.js';
import type { AnyOptimizer, OptimizerStateDict, ParamStateEntry } from '../optim/optimizer.js';
import { stateBufferSpecs } from '../optim/groups.js';
import { stateShape, type StateBufferSpec } from '../optim/state.js';
import { OPTIMIZERS, optimizerEntry, type OptimizerClass } from '../registry.js';
import { ReduceLROnPlateau } from '../schedules/plateau.js';
import { LRScheduler, type SchedulerStateHeader } from '../schedules/scheduler.js';
import { stateDictFromJSON, stateDictToJSON } from '../state-json.js';
import { checkStepOptions, policyStep, type StepOptions } from '../step-arrays.js';
import { ParameterStore, type Parameter } from '../store.js';
import { checkKeys, checkNumber, describe, kindOf, wrongType } from '../validate.js';
import { readTensor, writeVariable } from './transfer.js';

/** A tensor with a name, as TF.js's optimizers take gradients and give weights (tfjs-core's `NamedTensor`, which its index does not export). */
export interface NamedTensor {
  /** The variable's (or weight's) name. */
  name: string;
  /** The tensor. */
  tensor: Tensor;
}

/** A scheduler a {@link SimdoptOptimizer} can drive (a `ReduceLROnPlateau` is stepped by you, with its metric). */
export type TfjsScheduler = LRScheduler | ReduceLROnPlateau;

/** Builds the scheduler of the simdopt optimizer the adapter creates once it has seen the variables. */
export type SchedulerFactory = (optimizer: AnyOptimizer) => TfjsScheduler;

/** The options of a simdopt optimizer class (`Partial<AdamOptions>` for `Adam`). */
export type OptionsOf<C> = C extends new (params: never, options?: infer O) => AnyOptimizer ? NonNullable<O> : Record<string, unknown>;

/** What {@link SimdoptOptimizer} adds to the simdopt optimizer's own options. */
export interface TfjsOptimizerOptions {
  /**
   * Builds a scheduler of the simdopt optimizer (`(opt) => new OneCycleLR(opt, {...})`),
   * stepped after every step taken. Called once the variables are known (at the first
   * step). A `ReduceLROnPlateau` is not stepped for you: step it with its metric, e.g. in a
   * callback, `optimizer.scheduler.step(logs.val_loss)`.
   */
  scheduler?: SchedulerFactory;
  /** Clip the gradients to this total 2-norm before each step, or `{ maxNorm, normType }` (see `StepOptions`). */
  clipGradNorm?: StepOptions['clipGradNorm'];
  /** Clamp every gradient into `[-clipGradValue, clipGradValue]` before each step. */
  clipGradValue?: number;
  /** Step only when every gradient is finite; a skipped step changes nothing (variables, state, scheduler, `iterations`). */
  stepIfFinite?: boolean;
  /** The simdopt backend: `'auto'` (default: WebAssembly SIMD where available), `'wasm'` or `'js'`. */
  backend?: BackendOption;
  /** Threads for each kernel call (default 1; see `ParameterStoreOptions.threads`). */
  threads?: number;
}

const ADAPTER_KEYS = ['scheduler', 'clipGradNorm', 'clipGradValue', 'stepIfFinite', 'backend', 'threads'] as const;
/** Name of the weight that carries the state besides the buffers (JSON in a string tensor). */
const STATE_WEIGHT = 'simdopt/state';
const STATE_FORMAT = 'simdopt-tfjs-optimizer';

/** What `getWeights` stores beside the buffers, as exact JSON. */
interface SavedState {
  format: typeof STATE_FORMAT;
  version: 1;
  /** The optimizer's state dict without its buffers. */
  optimizer: OptimizerStateDict;
  /** Parameter index and buffer name of each weight after the state weight, in order. */
  buffers: [number, string][];
  /** Each variable's TF.js shape, by position. */
  shapes: number[][];
  scheduler?: SchedulerStateHeader;
  skippedSteps: number;
}

/** State read by `setWeights` before the variables were known: applied when they are. */
interface PendingState {
  optimizer: OptimizerStateDict;
  shapes: number[][];
  skippedSteps: number;
}

/** The registry key of a class (the first entry of the class; it adds no options). */
function registryKey(cls: OptimizerClass): string | undefined {
  return OPTIMIZERS.find((e) => e.optimizer === cls && Object.keys(e.options).length === 0)?.key;
}

const sameShape = (a: readonly number[], b: readonly number[]): boolean => a.length === b.length && a.every((x, i) => x === b[i]);
const shapeText = (s: readonly number[]): string => `[${s.join(', ')}]`;
const isTensor = (t: unknown): t is Tensor => t !== null && typeof t === 'object' && typeof (t as Tensor).dataId === 'object' && Array.isArray((t as Tensor).shape);

/** A tf.Variable, or a tfjs-layers LayerVariable (`model.trainableWeights`), whose `read()` returns its tf.Variable. */
export type VariableLike = Variable | {
  /** The layer variable's tf.Variable. */
  read(): Tensor;
};

/**
 * A TensorFlow.js optimizer that runs a simdopt optimizer: its state lives in a simdopt
 * store (the WebAssembly SIMD kernels, or their bit-identical JS twins), with the options,
 * scheduler, clipping and `stepIfFinite` of {@link TfjsOptimizerOptions}.
 *
 * - **Variables.** On its first step it registers a parameter per variable it is given
 *   gradients for (in that order, shapes included, float32 only) and builds the simdopt
 *   optimizer over them in one param group; variables seen later join that group (the
 *   optimizer is rebuilt over all of them, their state starting fresh at the group's step
 *   count, as TF.js's own optimizers share one step count). A step that has gradients for
 *   only some variables leaves the others exactly as they were (values and state).
 * - **Each step** (`applyGradients`, which `minimize` and `model.fit` call): the gradients are
 *   copied into the store (a variable changed from outside since the last step, e.g. by
 *   `model.setWeights`, is read in first), clipped, stepped (or skipped with
 *   `stepIfFinite`), the scheduler stepped, and every updated variable written back (see
 *   `transfer.ts`: in place in tfjs-backend-wasm's heap where nothing else shares the
 *   variable's data, else one `assign` of a tensor made from a fresh copy). No TF.js tensor
 *   ever holds the store's memory, and no tensor is left behind.
 * - **State.** `getWeights` / `setWeights` (and so `model.save({ includeOptimizer: true })`
 *   and `tf.loadLayersModel`) carry the whole state exactly: `'iter'`, a string weight
 *   `'simdopt/state'` (step counts, hyperparameters, scheduler state, as exact JSON) and one
 *   float32 weight per state buffer, named `<variable>/<buffer>` (`dense/kernel/expAvg`).
 *   State is matched to variables by position, as TF.js's optimizers match it, so a model
 *   built again (under new variable names) resumes. {@link saveCheckpoint} /
 *   {@link loadCheckpoint} write and read simdopt checkpoints (the variables' values too).
 * - **Serialisation.** Registered with `tf.serialization.registerClass` as
 *   `SimdoptOptimizer`; `getConfig()` holds the optimizer's registry key, its options and the
 *   options above except the scheduler (a function): after `tf.loadLayersModel`, attach it
 *   again with {@link setScheduler}, and the saved scheduler state is loaded into it.
 *
 * Differences from TF.js's optimizers: the semantics and defaults are PyTorch's (`Adam`'s
 * `eps` is 1e-8, TF.js's 1e-7; see the README's table), and `iterations` counts the steps
 * taken (a step skipped by `stepIfFinite` does not count).
 *
 * @example
 * const optimizer = await tfjsOptimizer(Adam, { lr: 1e-3 });   // or new SimdoptOptimizer(Adam, { lr: 1e-3 }) then await optimizer.ready()
 * model.compile({ optimizer, loss: 'categoricalCrossentropy' });
 */
export class SimdoptOptimizer extends TfOptimizer {
  /** The name TF.js serialisation knows this class by. */
  static get className(): string {
    return 'SimdoptOptimizer';
  }

  readonly #cls: OptimizerClass;
  readonly #key: string | undefined;
  readonly #options: Record<string, unknown>;
  readonly #adapter: TfjsOptimizerOptions;
  readonly #policy: StepOptions;
  #schedulerFactory: SchedulerFactory | undefined;
  #store: ParameterStore | undefined;
  #initError: unknown;
  readonly #ready: Promise<void>;
  #disposed = false;
  #opt: AnyOptimizer | undefined;
  #sched: TfjsScheduler | undefined;
  readonly #vars: Variable[] = [];
  readonly #params: Parameter[] = [];
  readonly #index = new Map<Variable, number>();
  /** Each variable's data id when last read or written: another one means it changed outside. */
  readonly #dataIds: object[] = [];
  #pending: PendingState | undefined;
  /** Scheduler state loaded while no scheduler was attached: applied by {@link setScheduler}. */
  #savedScheduler: SchedulerStateHeader | undefined;
  #weights: Tensor[] = [];
  /** The optimizer's state buffers, read from the probe that checks the options. */
  #bufferSpecs = new Map<string, StateBufferSpec>();

  /**
   * Makes the adapter; its store is created asynchronously: `await optimizer.ready()` before
   * training (or use {@link tfjsOptimizer}, which does). Checks the arguments' types and keys
   * here; the options themselves (and the scheduler) are checked by `ready()`, by building
   * the optimizer once over a probe parameter.
   * @param optimizer a simdopt optimizer class (`Adam`, `SGD`, ...) or a registry key (`'adamw'`, `'nag'`, with the entry's options and lr).
   * @param options the simdopt optimizer's options (`{ lr: 1e-3, weightDecay: 0.01 }`).
   * @param adapterOptions scheduler, clipping, `stepIfFinite`, backend and threads.
   */
  constructor(optimizer: OptimizerClass | string, options: object = {}, adapterOptions: TfjsOptimizerOptions = {}) {
    super();
    const context = 'SimdoptOptimizer';
    if (options === null || typeof options !== 'object' || Array.isArray(options)) wrongType(context, 'options', options, 'an object');
    if (typeof optimizer === 'string') {
      const entry = optimizerEntry(optimizer);
      this.#cls = entry.optimizer;
      this.#options = { lr: entry.lr, ...entry.options, ...options };
    } else {
      if (typeof optimizer !== 'function') wrongType(context, 'optimizer', optimizer, 'a simdopt optimizer class (Adam, SGD, ...) or a registry key (\'adamw\')');
      this.#cls = optimizer;
      this.#options = { ...options };
    }
    this.#key = registryKey(this.#cls);
    if (adapterOptions === null || typeof adapterOptions !== 'object') wrongType(context, 'adapterOptions', adapterOptions, 'an object');
    checkKeys(context, adapterOptions, ADAPTER_KEYS);
    const { scheduler, backend, threads, ...policy } = adapterOptions;
    if (scheduler !== undefined && typeof scheduler !== 'function') wrongType(context, 'scheduler', scheduler, 'a function (optimizer) => scheduler');
    if (backend !== undefined && !['auto', 'wasm', 'js'].includes(backend)) throw new RangeError(`${context}: invalid backend: ${describe(backend)} (must be "auto", "wasm" or "js")`);
    if (threads !== undefined) checkNumber(context, 'threads', threads, { min: 1, max: 64, integer: true });
    this.#policy = checkStepOptions(context, policy);
    this.#adapter = { ...adapterOptions };
    this.#schedulerFactory = scheduler;
    this.#ready = this.#init(backend, threads);
    // Reported by ready() and by the first use; not an unhandled rejection meanwhile.
    this.#ready.catch(() => undefined);
  }

  async #init(backend: BackendOption | undefined, threads: number | undefined): Promise<void> {
    try {
      // The options and the scheduler, checked by building them once over a probe parameter.
      const probe = await ParameterStore.create({ backend: 'js' });
      try {
        const opt = new this.#cls([probe.parameter('probe', { shape: [2, 2] })] as never, this.#options as never);
        this.#bufferSpecs = new Map(stateBufferSpecs(opt.spec).map((b) => [b.name, b]));
        // TF.js hands the optimizer gradients (applyGradients): L-BFGS, which evaluates its own, cannot run here.
        refuseClosureDriven('SimdoptOptimizer', opt);
        if (this.#schedulerFactory !== undefined) this.#makeScheduler(this.#schedulerFactory, opt);
      } finally {
        probe.dispose();
      }
      const store = await ParameterStore.create({ backend: backend ?? 'auto', threads: threads ?? 1 });
      if (this.#disposed) store.dispose();
      else this.#store = store;
    } catch (e) {
      this.#initError = e;
      throw e;
    }
  }

  /** Resolves once the store exists and the options are checked (rejects with what is wrong). */
  async ready(): Promise<this> {
    await this.#ready;
    return this;
  }

  /** The simdopt optimizer, once the first step (or a load) has shown it the variables. */
  get optimizer(): AnyOptimizer | undefined {
    return this.#opt;
  }

  /** The scheduler built by the `scheduler` option, once the optimizer exists. */
  get scheduler(): TfjsScheduler | undefined {
    return this.#sched;
  }

  /** The store holding the parameters (copies of the variables) and the state, once ready. */
  get store(): ParameterStore | undefined {
    return this.#store;
  }

  /** The variables, in the order of their parameters (the order state is matched by). */
  get variables(): readonly Variable[] {
    return this.#vars;
  }

  /** Steps skipped by `stepIfFinite` because a gradient was not finite. */
  get skippedSteps(): number {
    return this.#opt?.skippedSteps ?? this.#pending?.skippedSteps ?? 0;
  }

  #live(context: string): ParameterStore {
    if (this.#disposed) throw new Error(`${context}: this optimizer was disposed`);
    if (this.#store === undefined) {
      if (this.#initError !== undefined) throw this.#initError;
      throw new Error(`${context}: the optimizer is not ready yet: await optimizer.ready() (tfjsOptimizer() does) before training`);
    }
    this.#store.assertLive(context);
    return this.#store;
  }

  #makeScheduler(factory: SchedulerFactory, opt: AnyOptimizer): TfjsScheduler {
    const s = factory(opt);
    if (!(s instanceof LRScheduler)) wrongType('SimdoptOptimizer', 'what the scheduler option returned', s, 'a scheduler (LRScheduler or ReduceLROnPlateau)');
    if (s.optimizer !== opt) throw new Error('SimdoptOptimizer: the scheduler option must build a scheduler of the optimizer it is given');
    return s;
  }

  /**
   * Updates the variables from their gradients (see the class comment): `{ [name]: grad }`
   * or `[{ name, tensor }]`, every variable float32 and every gradient of its variable's
   * shape. Everything is checked first; a bad input throws and changes nothing.
   */
  applyGradients(variableGradients: NamedTensorMap | NamedTensor[]): void {
    const context = 'SimdoptOptimizer.applyGradients';
    this.#live(context);
    const items = this.#gradients(context, variableGradients);
    if (items.length === 0) return;
    const fresh = items.filter((it) => !this.#index.has(it.variable)).map((it) => it.variable);
    if (fresh.length > 0) this.#bind(context, fresh);
    const opt = this.#opt!;
    this.#syncIn();
    const touched = new Set<number>();
    for (const { variable, grad } of items) {
      const i = this.#index.get(variable)!;
      readTensor(grad, this.#params[i].grad);
      touched.add(i);
    }
    const others = this.#params.filter((_, i) => !touched.has(i));
    const kept = others.length > 0 ? this.#keep(opt, others) : undefined;
    if (!policyStep(opt, this.#params, { ...this.#policy, scheduler: this.#sched })) return;
    if (kept !== undefined) kept();
    for (const i of touched) this.#dataIds[i] = writeVariable(this.#vars[i], this.#params[i].data);
    this.incrementIterations();
    this.#release();
  }

  /** The gradients as (variable, tensor) pairs, checked; null gradients left out. */
  #gradients(context: string, input: NamedTensorMap | NamedTensor[]): { variable: Variable; grad: Tensor }[] {
    let pairs: [string, unknown][];
    if (Array.isArray(input)) {
      pairs = input.map((nt: unknown, i) => {
        if (nt === null || typeof nt !== 'object' || typeof (nt as NamedTensor).name !== 'string') {
          throw new TypeError(`${context}: entry ${i} must be { name, tensor }, got ${kindOf(nt)}`);
        }
        return [(nt as NamedTensor).name, (nt as NamedTensor).tensor];
      });
    } else if (input !== null && typeof input === 'object') {
      pairs = Object.entries(input);
    } else {
      wrongType(context, 'variableGradients', input, 'a { [variableName]: gradient } map or a [{ name, tensor }] list');
    }
    const seen = new Set<Variable>();
    const items: { variable: Variable; grad: Tensor }[] = [];
    const registered = engine().registeredVariables;
    for (const [name, grad] of pairs) {
      if (grad === null || grad === undefined) continue;
      const variable = registered[name];
      if (variable === undefined) throw new Error(`${context}: no variable named ${JSON.stringify(name)} is registered (was it disposed?); nothing was changed`);
      if (variable.dtype !== 'float32') throw new TypeError(`${context}: variable ${JSON.stringify(name)} has dtype ${variable.dtype}; simdopt optimizers update float32 variables only; nothing was changed`);
      if (!isTensor(grad)) throw new TypeError(`${context}: the gradient of ${JSON.stringify(name)} must be a tf.Tensor, got ${kindOf(grad)}; nothing was changed`);
      if (grad.isDisposed) throw new Error(`${context}: the gradient of ${JSON.stringify(name)} was disposed; nothing was changed`);
      if (grad.dtype !== 'float32') throw new TypeError(`${context}: the gradient of ${JSON.stringify(name)} has dtype ${grad.dtype}, not float32; nothing was changed`);
      if (!sameShape(grad.shape, variable.shape)) {
        throw new RangeError(`${context}: the gradient of ${JSON.stringify(name)} has shape ${shapeText(grad.shape)}, the variable ${shapeText(variable.shape)}; nothing was changed`);
      }
      if (seen.has(variable)) throw new Error(`${context}: variable ${JSON.stringify(name)} has two gradients; nothing was changed`);
      seen.add(variable);
      items.push({ variable, grad });
    }
    return items;
  }

  /**
   * Registers a parameter per new variable (values read in) and builds the simdopt optimizer
   * over all of them: the first time from the options (and any state `setWeights` left
   * pending), later by rebuilding it with the old state and fresh state for the newcomers.
   */
  #bind(context: string, fresh: readonly Variable[]): void {
    const store = this.#live(context);
    const pending = this.#pending;
    if (this.#opt === undefined && pending !== undefined) {
      const shapes = fresh.map((v) => v.shape);
      if (shapes.length !== pending.shapes.length || shapes.some((s, i) => !sameShape(s, pending.shapes[i]))) {
        throw new Error(`${context}: the state loaded by setWeights is for variables of shapes ${pending.shapes.map(shapeText).join(', ')}, ` +
          `but the first step has ${shapes.map(shapeText).join(', ')}; nothing was changed`);
      }
    }
    for (const v of fresh) {
      const i = this.#params.length;
      const p = store.parameter(`variable${i}`, { shape: v.shape.length === 0 ? [1] : [...v.shape] });
      readTensor(v, p.data);
      this.#params.push(p);
      this.#vars.push(v);
      this.#index.set(v, i);
      this.#dataIds.push(v.dataId);
    }
    const old = this.#opt;
    const next = this.#build(this.#params);
    if (old === undefined) {
      this.#opt = next;
      if (pending !== undefined) {
        this.#pending = undefined;
        next.loadStateDict(pending.optimizer);
        next.skippedSteps = pending.skippedSteps;
      }
      if (this.#schedulerFactory !== undefined) this.#attachScheduler(this.#schedulerFactory);
      return;
    }
    // Rebuild: the old state for the old parameters, fresh state at the same step for the new.
    const sd = old.stateDict();
    const schedulerState = this.#sched?.stateDict();
    const blank = next.stateDict();
    const template = sd.state[0];
    const state: Record<number, ParamStateEntry> = { ...sd.state };
    for (let i = old.paramGroups[0].params.length; i < this.#params.length; i++) {
      const entry: ParamStateEntry = { ...blank.state[i] };
      for (const [k, v] of Object.entries(template)) {
        if (!(v instanceof Float32Array)) entry[k] = v;
        else if (!(k in entry)) entry[k] = new Float32Array(this.#params[i].size);
      }
      state[i] = entry;
    }
    next.loadStateDict({ ...blank, paramGroups: [{ ...sd.paramGroups[0], params: blank.paramGroups[0].params }], state });
    next.skippedSteps = old.skippedSteps;
    this.#opt = next;
    this.#sched = undefined;
    if (this.#schedulerFactory !== undefined) {
      this.#attachScheduler(this.#schedulerFactory);
      if (schedulerState !== undefined) this.#sched!.loadStateDict(schedulerState as never);
    }
  }

  #attachScheduler(factory: SchedulerFactory): void {
    const s = this.#makeScheduler(factory, this.#opt!);
    if (this.#savedScheduler !== undefined) {
      s.loadStateDict(this.#savedScheduler as never);
      this.#savedScheduler = undefined;
    }
    this.#sched = s;
  }

  /**
   * Attaches a scheduler (or detaches it, with `undefined`), as the `scheduler` option would
   * have: after `tf.loadLayersModel`, whose config cannot carry a function. Scheduler state
   * loaded earlier (by `setWeights`) is loaded into it.
   */
  setScheduler(factory: SchedulerFactory | undefined): void {
    if (factory !== undefined && typeof factory !== 'function') wrongType('SimdoptOptimizer.setScheduler', 'factory', factory, 'a function (optimizer) => scheduler');
    this.#schedulerFactory = factory;
    this.#adapter.scheduler = factory;
    this.#sched = undefined;
    if (factory !== undefined && this.#opt !== undefined) this.#attachScheduler(factory);
  }

  /**
   * The TF.js shape of state buffer `name` of a variable of shape `shape`: the variable's, or
   * the buffer's own (Adafactor's row and column factors).
   */
  #stateShape(name: string, shape: readonly number[]): number[] {
    const param = shape.length === 0 ? [1] : shape; // a scalar variable is a parameter of shape [1]
    const own = stateShape(this.#bufferSpecs.get(name), param) ?? [0];
    return sameShape(own, param) ? [...shape] : [...own];
  }

  /** Reads the variables changed from outside (another data id) into their parameters. */
  #syncIn(): void {
    this.#vars.forEach((v, i) => {
      if (v.isDisposed || v.dataId === this.#dataIds[i]) return;
      readTensor(v, this.#params[i].data);
      this.#dataIds[i] = v.dataId;
    });
  }

  /** Copies the values and state of parameters a step must leave alone; returns what puts them back. */
  #keep(opt: AnyOptimizer, params: readonly Parameter[]): () => void {
    const saved = params.map((p) => {
      p.grad.fill(0);
      const buffers = Object.entries(opt.state(p)).filter((e): e is [string, Float32Array] => e[1] instanceof Float32Array);
      return { p, data: p.data.slice(), buffers: buffers.map(([name, b]) => [name, b.slice()] as const) };
    });
    return () => {
      for (const { p, data, buffers } of saved) {
        p.data.set(data);
        const now = opt.state(p) as Record<string, unknown>;
        for (const [name, values] of buffers) (now[name] as Float32Array).set(values);
      }
    };
  }

  /** Disposes the tensors the last `getWeights` returned. */
  #release(): void {
    if (this.#weights.length === 0) return;
    for (const t of this.#weights) t.dispose();
    this.#weights = [];
  }

  /**
   * The optimizer's state as TF.js weights: `'iter'`, `'simdopt/state'` (a string scalar of
   * exact JSON: step counts, hyperparameters, scheduler state) and one float32 tensor per
   * state buffer of each variable, of the variable's shape (or the buffer's own: Adafactor's
   * `rowVar` of a `[rows, cols]` variable is `[rows, 1]`), named `<variable>/<buffer>`.
   * The tensors belong to the optimizer (as TF.js's optimizers return their own variables):
   * they stay valid until its next step, `getWeights`, `setWeights` or `dispose`; clone one
   * to keep it longer.
   */
  override async getWeights(): Promise<NamedTensor[]> {
    await this.ready();
    this.#live('SimdoptOptimizer.getWeights');
    this.#release();
    const source = this.#opt !== undefined
      ? { optimizer: this.#opt.stateDict(), shapes: this.#vars.map((v) => [...v.shape]), names: this.#vars.map((v) => v.name), skippedSteps: this.#opt.skippedSteps }
      : this.#pending !== undefined ? { ...this.#pending, names: this.#pending.shapes.map((_, i) => `variable${i}`) } : undefined;
    const out: NamedTensor[] = [await this.saveIterations()];
    if (source !== undefined) {
      const buffers: [number, string][] = [];
      const tensors: NamedTensor[] = [];
      const state: Record<number, ParamStateEntry> = {};
      for (const [key, entry] of Object.entries(source.optimizer.state)) {
        const index = Number(key);
        state[index] = { step: entry.step };
        for (const [name, value] of Object.entries(entry)) {
          if (!(value instanceof Float32Array)) { state[index][name] = value; continue; }
          buffers.push([index, name]);
          // A copy the store does not hold (stateDict() slices), handed over to TF.js.
          tensors.push({ name: `${source.names[index]}/${name}`, tensor: tensor(value, this.#stateShape(name, source.shapes[index]), 'float32') });
        }
      }
      const saved: SavedState = {
        format: STATE_FORMAT, version: 1, optimizer: { ...source.optimizer, state }, buffers, shapes: source.shapes,
        skippedSteps: source.skippedSteps,
        ...(this.#sched !== undefined ? { scheduler: this.#sched.stateDict() } : this.#savedScheduler !== undefined ? { scheduler: this.#savedScheduler } : {}),
      };
      out.push({ name: STATE_WEIGHT, tensor: scalar(stateDictToJSON(saved), 'string') }, ...tensors);
    }
    this.#weights = out.map((w) => w.tensor);
    return out;
  }

  /**
   * Restores state from {@link getWeights}'s weights (as `tf.loadLayersModel` does with a
   * model saved with its optimizer): everything is read and checked before anything
   * changes. Before the first step the state waits for the variables and is applied (shapes
   * checked) when they are known. Scheduler state goes to the scheduler, or waits for
   * {@link setScheduler}.
   */
  override async setWeights(weightValues: NamedTensor[]): Promise<void> {
    const context = 'SimdoptOptimizer.setWeights';
    await this.ready();
    this.#live(context);
    const fail = (why: string): never => { throw new Error(`${context}: ${why}; nothing was changed`); };
    if (!Array.isArray(weightValues) || weightValues.some((w) => w === null || typeof w !== 'object' || !isTensor(w.tensor))) {
      fail(`expected the list of { name, tensor } that getWeights() returns, got ${kindOf(weightValues)}`);
    }
    if (weightValues.length === 0) fail('the list is empty (getWeights() starts with \'iter\')');
    const iterations = (await weightValues[0].tensor.data())[0] as number;
    if (!Number.isSafeInteger(iterations) || iterations < 0) fail(`the first weight ('iter') is ${describe(iterations)}, not a step count`);
    if (weightValues.length === 1) {
      if (this.#opt !== undefined || this.#pending !== undefined) fail('the weights hold no state (saved before the first step), but this optimizer has state');
      this.iterations_ = iterations;
      return;
    }
    const head = weightValues[1];
    if (head.name !== STATE_WEIGHT || head.tensor.dtype !== 'string' || head.tensor.size !== 1) {
      fail(`these are not a SimdoptOptimizer's weights (the second is ${JSON.stringify(head.name)}, expected the string weight ${JSON.stringify(STATE_WEIGHT)})`);
    }
    let saved: SavedState;
    try {
      saved = stateDictFromJSON<SavedState>((await head.tensor.data())[0] as unknown as string);
    } catch (e) {
      return fail(`the state weight does not parse (${(e as Error).message})`);
    }
    if (saved === null || typeof saved !== 'object' || saved.format !== STATE_FORMAT || saved.version !== 1) fail(`the state weight is not of format ${STATE_FORMAT} version 1`);
    const { buffers, shapes, optimizer: sd } = saved;
    if (!Array.isArray(buffers) || !Array.isArray(shapes) || sd === null || typeof sd !== 'object' || sd.state === null || typeof sd.state !== 'object') fail('the state weight is malformed');
    if (buffers.length !== weightValues.length - 2) fail(`the state names ${buffers.length} buffers, but ${weightValues.length - 2} weights follow it`);
    const state = sd.state as Record<number, ParamStateEntry>;
    for (let k = 0; k < buffers.length; k++) {
      const [index, name] = buffers[k] ?? [];
      const w = weightValues[k + 2].tensor;
      const shape = shapes[index as number];
      if (typeof name !== 'string' || state[index as number] === undefined || !Array.isArray(shape)) fail(`buffer entry ${k} is malformed`);
      const expected = this.#stateShape(name, shape);
      if (w.dtype !== 'float32' || !sameShape(w.shape, expected)) fail(`weight ${JSON.stringify(weightValues[k + 2].name)} is ${w.dtype} ${shapeText(w.shape)}, expected float32 ${shapeText(expected)}`);
      // Copied: TF.js may dispose the tensors (loadLayersModel does) and data() may be its own array.
      state[index as number][name] = (await w.data() as Float32Array).slice();
    }
    const skippedSteps = typeof saved.skippedSteps === 'number' ? saved.skippedSteps : 0;
    const opt = this.#opt;
    if (opt !== undefined) {
      if (!sameShape(shapes.map((s) => s.length), this.#vars.map((v) => v.shape.length)) || shapes.some((s, i) => !sameShape(s, this.#vars[i].shape))) {
        fail(`the state is for variables of shapes ${shapes.map(shapeText).join(', ')}, this optimizer's are ${this.#vars.map((v) => shapeText(v.shape)).join(', ')}`);
      }
      const checked = opt.checkStateDict({ ...sd, paramNames: this.#params.map((p) => p.name) });
      if (saved.scheduler !== undefined && this.#sched !== undefined) this.#sched.validateState(saved.scheduler);
      opt.applyStateDict(checked);
      opt.skippedSteps = skippedSteps;
      if (saved.scheduler !== undefined) {
        if (this.#sched !== undefined) this.#sched.loadStateDict(saved.scheduler as never);
        else this.#savedScheduler = saved.scheduler;
      }
    } else {
      await this.#checkPending(sd, shapes, saved.scheduler, fail);
      this.#pending = { optimizer: sd, shapes, skippedSteps };
      this.#savedScheduler = saved.scheduler;
    }
    this.iterations_ = iterations;
    this.#release();
  }

  /**
   * Checks state loaded before the variables are known, as far as it can be: against the
   * optimizer built over parameters of the saved shapes (in a throwaway store), and the
   * scheduler state against the scheduler the factory builds there.
   */
  /**
   * The optimizer over `params` as one explicit param group, in variable order, so that the
   * state dict's indices are the variables' (a plain list may be split into groups, as
   * MuonWithAuxAdamW splits the matrices from the rest).
   */
  #build(params: Parameter[]): AnyOptimizer {
    const opt = new this.#cls([{ params }] as never, this.#options as never);
    // An optimizer with train and eval modes (schedule-free) trains here: in train mode.
    const modes = opt as unknown as { train?: unknown };
    if (typeof modes.train === 'function') (modes.train as () => void).call(opt);
    return opt;
  }

  async #checkPending(sd: OptimizerStateDict, shapes: number[][], scheduler: SchedulerStateHeader | undefined, fail: (why: string) => never): Promise<void> {
    if (shapes.length === 0) fail('the state holds no variables');
    const probe = await ParameterStore.create({ backend: 'js' });
    try {
      const params = shapes.map((s, i) => probe.parameter(`variable${i}`, { shape: s.length === 0 ? [1] : [...s] }));
      const opt = this.#build(params);
      opt.checkStateDict(sd);
      if (scheduler !== undefined && this.#schedulerFactory !== undefined) this.#makeScheduler(this.#schedulerFactory, opt).validateState(scheduler);
    } catch (e) {
      fail((e as Error).message.replace(/; nothing was changed$/, ''));
    } finally {
      probe.dispose();
    }
  }

  /**
   * A simdopt checkpoint (`saveCheckpoint`) of the variables' values, the optimizer state and
   * the scheduler state, to resume exactly with {@link loadCheckpoint}, here or in a
   * simdopt program. Needs the variables: after the first step, or a `loadCheckpoint`.
   */
  saveCheckpoint(): Uint8Array {
    const context = 'SimdoptOptimizer.saveCheckpoint';
    const store = this.#live(context);
    if (this.#opt === undefined) throw new Error(`${context}: the optimizer has not seen its variables yet (it does at the first step); nothing to save`);
    this.#syncIn();
    return saveCheckpoint({ store, optimizer: this.#opt, ...(this.#sched !== undefined ? { scheduler: this.#sched } : {}) });
  }

  /**
   * Loads a checkpoint of {@link saveCheckpoint}: the variables' values (written into them),
   * the optimizer state and the scheduler state; checked before anything changes. Before the
   * first step, pass the variables in the order training will give them
   * (`model.trainableWeights` for a tfjs-layers model); afterwards they are known.
   */
  async loadCheckpoint(bytes: CheckpointBytes, variables?: readonly VariableLike[]): Promise<void> {
    const context = 'SimdoptOptimizer.loadCheckpoint';
    await this.ready();
    this.#live(context);
    if (variables !== undefined) {
      if (!Array.isArray(variables)) wrongType(context, 'variables', variables, 'an array of variables (model.trainableWeights)');
      const vars = variables.map((v: VariableLike, i) => {
        const variable = (typeof (v as { read?: unknown }).read === 'function' ? (v as { read(): Tensor }).read() : v) as Variable;
        if (!isTensor(variable) || typeof (variable as Variable).assign !== 'function') throw new TypeError(`${context}: variables[${i}] is ${kindOf(v)}, not a tf.Variable or a LayerVariable`);
        if (variable.dtype !== 'float32') throw new TypeError(`${context}: variables[${i}] (${JSON.stringify(variable.name)}) has dtype ${variable.dtype}; simdopt optimizers update float32 variables only`);
        return variable;
      });
      if (this.#opt === undefined) this.#bind(context, vars);
      else if (vars.length !== this.#vars.length || vars.some((v, i) => v !== this.#vars[i])) {
        throw new Error(`${context}: these are not the variables this optimizer trains (${this.#vars.map((v) => v.name).join(', ')}); nothing was changed`);
      }
    } else if (this.#opt === undefined) {
      throw new Error(`${context}: the optimizer has not seen its variables yet: pass them, loadCheckpoint(bytes, model.trainableWeights); nothing was changed`);
    }
    const store = this.#store!;
    loadCheckpoint(bytes, { store, optimizer: this.#opt!, ...(this.#sched !== undefined ? { scheduler: this.#sched } : {}) });
    this.#vars.forEach((v, i) => { this.#dataIds[i] = writeVariable(v, this.#params[i].data); });
    this.iterations_ = this.#opt!.state(this.#params[0]).step;
    this.#release();
  }

  /** TF.js serialisation: the optimizer's registry key and options, and the adapter's options but the scheduler. */
  getConfig(): serialization.ConfigDict {
    if (this.#key === undefined) throw new Error('SimdoptOptimizer.getConfig: the optimizer class is not in simdopt\'s registry (OPTIMIZERS), so it cannot be serialised');
    const { scheduler: _, clipGradNorm, ...rest } = this.#adapter;
    const config: serialization.ConfigDict = { optimizer: this.#key, options: this.#options as serialization.ConfigDict, ...rest as serialization.ConfigDict };
    if (typeof clipGradNorm === 'number') config.clipGradNorm = clipGradNorm;
    else if (clipGradNorm !== undefined) {
      // JSON cannot hold Infinity: the inf-norm is written as "inf".
      config.clipGradNorm = { maxNorm: clipGradNorm.maxNorm, ...(clipGradNorm.normType !== undefined ? { normType: clipGradNorm.normType === Infinity ? 'inf' : clipGradNorm.normType } : {}) };
    }
    return config;
  }

  /** TF.js serialisation: a new (not yet ready) adapter from {@link getConfig}'s config. */
  static override fromConfig<T extends serialization.Serializable>(cls: serialization.SerializableConstructor<T>, config: serialization.ConfigDict): T {
    const { optimizer, options, customObjects: _, clipGradNorm, ...rest } = config as Record<string, unknown>;
    const clip = clipGradNorm !== null && typeof clipGradNorm === 'object' && (clipGradNorm as { normType?: unknown }).normType === 'inf'
      ? { ...clipGradNorm, normType: Infinity } : clipGradNorm;
    return new cls(optimizer, options ?? {}, { ...rest, ...(clip !== undefined ? { clipGradNorm: clip } : {}) });
  }

  /** Releases the store (and the weights getWeights returned); later use throws. */
  override dispose(): void {
    if (this.#disposed) return;
    super.dispose();
    this.#release();
    this.#disposed = true;
    this.#store?.dispose();
  }
}

serialization.registerClass(SimdoptOptimizer, 'simdopt');

/**
 * Makes a {@link SimdoptOptimizer} and waits until it is ready: the TF.js optimizer to pass
 * to `model.compile`. Bad options reject, naming the option and the value.
 *
 * @example
 * const optimizer = await tfjsOptimizer(AdamW, { lr: 1e-3, weightDecay: 0.05 }, { clipGradNorm: 1 });
 * model.compile({ optimizer, loss: 'meanSquaredError' });
 */
export async function tfjsOptimizer<C extends OptimizerClass>(optimizer: C, options?: OptionsOf<C>, adapterOptions?: TfjsOptimizerOptions): Promise<SimdoptOptimizer>;
/** Makes a {@link SimdoptOptimizer} of a registry entry (`'adamw'`, `'nag'`: the entry's options and lr, then `options`) and waits until it is ready. */
export async function tfjsOptimizer(optimizer: string, options?: Record<string, unknown>, adapterOptions?: TfjsOptimizerOptions): Promise<SimdoptOptimizer>;
export async function tfjsOptimizer(optimizer: OptimizerClass | string, options: object = {}, adapterOptions: TfjsOptimizerOptions = {}): Promise<SimdoptOptimizer> {
  return new SimdoptOptimizer(optimizer, options, adapterOptions).ready();
}
