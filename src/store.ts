import { createBackend, type Backend, type BackendName, type BackendOption, type WasmSource } from './backend.js';
import { describe } from './optim/options.js';
import type { ThreadInfo } from './threads.js';
import type { Kernels } from './kernels/index.js';

/** Bytes before the first segment (keeps offset 0 free and the regions cache-line aligned). */
const ARENA_BASE = 64;
/** Every segment starts on this boundary (one f32x4 vector). */
export const SEGMENT_ALIGN_BYTES = 16;
/** Every segment is padded to a whole number of vectors of this many f32 elements. */
export const VECTOR_ELEMENTS = 4;
/** Smallest data-region capacity, so small models do not relocate at every parameter. */
const MIN_DATA_CAPACITY = 4096;

/** Options of {@link ParameterStore.create}. */
export interface ParameterStoreOptions {
  /**
   * `'auto'` (default): WebAssembly SIMD kernels when the engine validates them, pure JS
   * otherwise. `'wasm'` fails with a clear error where WebAssembly SIMD is missing. `'js'`
   * never touches WebAssembly. Both backends give the same float32 bits.
   */
  backend?: BackendOption;
  /** The kernel module (compiled, or its bytes) to use instead of the embedded copy. */
  wasm?: WasmSource;
  /**
   * Threads that run each kernel call, each over its slice (default 1). Needs shared memory
   * (Node, or a cross-origin-isolated page) and the wasm backend; otherwise the store runs on
   * one thread and `store.threads.note` says why. Results are the same bits for any count.
   */
  threads?: number;
}

/** Number of float32 elements a segment of `size` elements occupies (whole vectors). */
export function paddedSize(size: number): number {
  return Math.ceil(size / VECTOR_ELEMENTS) * VECTOR_ELEMENTS;
}


/**
 * A named float32 tensor (flat) living in a {@link ParameterStore}'s arena, with its gradient.
 *
 * `data` and `grad` are getters: each returns a live `Float32Array` over the arena. Adding
 * parameters, building an optimizer, or a step or state load that allocates a state buffer
 * for the first time (momentum switched on later) may grow or rearrange the arena; arrays
 * obtained before that are detached (length 0) and must be fetched again, so read `p.data`
 * / `p.grad` afresh after such calls. With `threads` > 1 the arena is a shared memory, which
 * cannot detach: old arrays then stay readable but may no longer be the parameter's.
 *
 * @example
 * const w = store.parameter('w', 10);
 * w.data.fill(0.5);
 * w.grad.set(gradient);
 */
export class Parameter {
  /** @internal byte offset of the segment from the start of the data (and grad) region */
  readonly offset: number;
  #store: ParameterStore;
  #version = -1;
  #data: Float32Array | undefined;
  #grad: Float32Array | undefined;

  /** @internal */
  constructor(
    store: ParameterStore,
    /** The name the parameter was registered under. */
    readonly name: string,
    /** Number of float32 elements. */
    readonly size: number,
    /** Registration order within the store, from 0. */
    readonly index: number,
    offset: number,
  ) {
    this.#store = store;
    this.offset = offset;
  }

  /** The store that owns this parameter. */
  get store(): ParameterStore {
    return this.#store;
  }

  /** Number of float32 elements the segment occupies, padding included (a multiple of 4). */
  get paddedSize(): number {
    return paddedSize(this.size);
  }

  #refresh(): void {
    const store = this.#store;
    const buffer = store.backendBuffer();
    this.#data = new Float32Array(buffer, store.dataBase + this.offset, this.size);
    this.#grad = new Float32Array(buffer, store.gradBase + this.offset, this.size);
    this.#version = store.layoutVersion;
  }

  /** The parameter's values: a live view over the arena (see the class comment). */
  get data(): Float32Array {
    if (this.#version !== this.#store.layoutVersion) this.#refresh();
    return this.#data!;
  }

  /** The parameter's gradient: a live view over the arena, zero until written. */
  get grad(): Float32Array {
    if (this.#version !== this.#store.layoutVersion) this.#refresh();
    return this.#grad!;
  }

  /** Sets every gradient element to zero. */
  zeroGrad(): void {
    this.grad.fill(0);
  }

  /** `Parameter("name", size)`. */
  toString(): string {
    return `Parameter(${JSON.stringify(this.name)}, ${this.size})`;
  }
}

/**
 * Owns one arena holding every parameter, gradient and optimizer state buffer of a model,
 * and the kernels (WASM SIMD or their bit-identical JS twins) that update it.
 *
 * Layout, deterministic on both backends: 64 reserved bytes; the data region (each
 * parameter's values in registration order, every segment 16-byte aligned and padded with
 * zeros to a multiple of 4 elements); the grad region, the same layout at a fixed distance;
 * then optimizer state. Parameters registered one after another are therefore contiguous,
 * so a param group is one range and one kernel call.
 *
 * @example
 * const store = await ParameterStore.create();          // backend 'auto'
 * const w = store.parameter('w', 784 * 10);
 * const b = store.parameter('b', 10);
 * const opt = new Adam([w, b], { lr: 1e-3 });
 */
export class ParameterStore {
  #backendRef: Backend | undefined;
  readonly #params: Parameter[] = [];
  readonly #byName = new Map<string, Parameter>();
  #dataCapacity = 0;
  #dataUsed = 0;
  #stateUsed = 0;
  #layoutVersion = 0;

  private constructor(backend: Backend) {
    this.#backendRef = backend;
  }

  get #backend(): Backend {
    if (this.#backendRef === undefined) throw new Error('This ParameterStore was disposed: its parameters, optimizers and checkpoints can no longer be used');
    return this.#backendRef;
  }

  /** True once {@link dispose} has been called. */
  get disposed(): boolean {
    return this.#backendRef === undefined;
  }

  /**
   * Releases the arena (the WebAssembly memory or the ArrayBuffer, once nothing else holds
   * it). Any later use of the store, its parameters or an optimizer over them throws.
   * Views taken earlier are detached where the engine allows (js backend) or left pointing at
   * memory no longer used.
   */
  dispose(): void {
    if (this.#backendRef === undefined) return;
    this.#backendRef.dispose();
    this.#backendRef = undefined;
    this.#layoutVersion++;
  }

  /** Throws if the store was disposed. @internal */
  assertLive(context: string): void {
    if (this.#backendRef === undefined) throw new Error(`${context}: its ParameterStore was disposed`);
  }

  /**
   * Creates an empty store.
   * @param options `backend`: `'auto'` (default), `'wasm'` or `'js'`; `wasm`: a kernel module to use.
   */
  static async create(options: ParameterStoreOptions = {}): Promise<ParameterStore> {
    if (options === null || typeof options !== 'object') {
      throw new TypeError(`ParameterStore.create: options must be an object, got ${describe(options)}`);
    }
    for (const key of Object.keys(options)) {
      if (key !== 'backend' && key !== 'wasm' && key !== 'threads') throw new Error(`ParameterStore.create: unknown option ${JSON.stringify(key)}`);
    }
    const threads = options.threads ?? 1;
    if (!Number.isInteger(threads) || threads < 1 || threads > 64) {
      throw new RangeError(`ParameterStore.create: invalid threads: ${describe(threads)} (expected a whole number from 1 to 64)`);
    }
    return new ParameterStore(await createBackend(options.backend ?? 'auto', options.wasm, threads));
  }

  /** The backend in use: `'wasm'` or `'js'`. */
  get backend(): BackendName {
    return this.#backend.name;
  }

  /** How many threads run kernel calls (see {@link ParameterStoreOptions.threads}), and a note on why. */
  get threads(): ThreadInfo {
    return { ...this.#backend.threads };
  }

  /** Bytes of parameters (and, as many, of gradients) registered, padding included. */
  get parameterBytes(): number {
    return this.#dataUsed;
  }

  /** The parameters in registration order. */
  get parameters(): readonly Parameter[] {
    return this.#params;
  }

  /** The WebAssembly memory holding the arena (wasm backend), for embedding; undefined on js. */
  get memory(): WebAssembly.Memory | undefined {
    return this.#backend.memory;
  }

  /** Bytes the arena occupies now (parameters, gradients, optimizer state, padding, reserve). */
  get byteLength(): number {
    return this.#backend.buffer().byteLength;
  }

  /** The parameter registered under `name`, if any. */
  get(name: string): Parameter | undefined {
    return this.#byName.get(name);
  }

  /**
   * Registers a parameter of `size` float32 elements (zero-initialised), or of the given
   * initial values, and its gradient (zero). Names are unique within a store.
   * May grow the arena: see {@link Parameter} about views.
   */
  parameter(name: string, sizeOrValues: number | ArrayLike<number>): Parameter {
    this.assertLive('ParameterStore.parameter');
    if (typeof name !== 'string' || name.length === 0) {
      throw new TypeError(`Parameter name must be a non-empty string, got ${describe(name)}`);
    }
    if (this.#byName.has(name)) throw new Error(`A parameter named ${JSON.stringify(name)} already exists in this store`);
    let values: Float32Array | undefined;
    let size: number;
    if (typeof sizeOrValues === 'number') {
      size = sizeOrValues;
      if (!Number.isSafeInteger(size) || size < 0) {
        throw new RangeError(`Invalid size for parameter ${JSON.stringify(name)}: ${describe(size)} (expected a whole number >= 0)`);
      }
    } else if (sizeOrValues !== null && typeof sizeOrValues === 'object' && typeof sizeOrValues.length === 'number') {
      const length = sizeOrValues.length;
      if (!Number.isSafeInteger(length) || length < 0) {
        throw new RangeError(`Parameter ${JSON.stringify(name)}: initial values have an invalid length ${describe(length)}`);
      }
      // Copied before anything moves: the values may be a view over this very arena.
      values = Float32Array.from(sizeOrValues);
      size = length;
    } else {
      throw new TypeError(`Parameter ${JSON.stringify(name)}: expected a size or an array of initial values, got ${describe(sizeOrValues)}`);
    }
    const bytes = paddedSize(size) * 4;
    const needed = this.#dataUsed + bytes;
    if (needed > this.#dataCapacity) {
      this.#relocate(Math.max(needed, 2 * this.#dataCapacity, MIN_DATA_CAPACITY));
    }
    const param = new Parameter(this, name, size, this.#params.length, this.#dataUsed);
    if (values !== undefined) new Float32Array(this.#backend.buffer(), this.dataBase + this.#dataUsed, size).set(values);
    this.#dataUsed = needed;
    this.#params.push(param);
    this.#byName.set(name, param);
    return param;
  }

  /** Sets every gradient in the store to zero. */
  zeroGrad(): void {
    new Uint8Array(this.#backend.buffer(), this.gradBase, this.#dataUsed).fill(0);
  }

  // ---- internals shared with the optimizers -------------------------------------------

  /** @internal byte offset of the data region */
  get dataBase(): number {
    return ARENA_BASE;
  }

  /** @internal byte offset of the grad region */
  get gradBase(): number {
    return ARENA_BASE + this.#dataCapacity;
  }

  /** @internal byte offset of the state region */
  get stateBase(): number {
    return ARENA_BASE + 2 * this.#dataCapacity;
  }

  /** @internal changes whenever views over the arena must be re-derived */
  get layoutVersion(): number {
    return this.#layoutVersion;
  }

  /** @internal */
  get kernels(): Kernels {
    return this.#backend.kernels;
  }

  /** @internal the arena's current buffer */
  backendBuffer(): ArrayBuffer {
    return this.#backend.buffer();
  }

  /** @internal a Float32Array over the whole arena */
  heap(): Float32Array {
    return this.#backend.heap();
  }

  /**
   * @internal Reserves `elements` zeroed float32 elements (a multiple of 4) in the state
   * region; returns their byte offset from the state region's start (stable across growth).
   */
  allocState(elements: number): number {
    const offset = this.#stateUsed;
    const bytes = elements * 4;
    this.#grow(this.stateBase + offset + bytes);
    this.#stateUsed = offset + bytes;
    new Uint8Array(this.#backend.buffer(), this.stateBase + offset, bytes).fill(0);
    return offset;
  }

  #grow(bytes: number): void {
    if (this.#backend.ensure(bytes)) this.#layoutVersion++;
  }

  /** Grows the data and grad regions to `capacity` bytes each, moving grad and state up. */
  #relocate(capacity: number): void {
    capacity = Math.ceil(capacity / 64) * 64;
    const oldGrad = this.gradBase, oldState = this.stateBase;
    const newGrad = ARENA_BASE + capacity, newState = ARENA_BASE + 2 * capacity;
    // Always a new buffer: views taken before the move must not alias the moved regions.
    if (this.#backend.renew(newState + this.#stateUsed)) this.#layoutVersion++;
    const u8 = new Uint8Array(this.#backend.buffer());
    // Highest region first: each move goes up, and copyWithin is a memmove.
    u8.copyWithin(newState, oldState, oldState + this.#stateUsed);
    u8.copyWithin(newGrad, oldGrad, oldGrad + this.#dataUsed);
    u8.fill(0, ARENA_BASE + this.#dataUsed, newGrad);
    u8.fill(0, newGrad + this.#dataUsed, newState);
    this.#dataCapacity = capacity;
    this.#layoutVersion++;
  }
}
