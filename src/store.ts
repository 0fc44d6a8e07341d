import { createBackend, type Backend, type BackendName, type BackendOption, type WasmSource } from './backend.js';
import { describe } from './validate.js';
import type { ThreadInfo } from './threads.js';
import type { Kernels } from './kernels/index.js';
import { createMatrix, matmul, type Matrix, type MatmulOptions, type MatrixLike } from './matmul.js';
import type { PART_KERNELS } from './threads.js';

/** Every segment starts on this boundary (one f32x4 vector). */
export const SEGMENT_ALIGN_BYTES = 16;
/**
 * Padding after each allocation of at least {@link STAGGER_FROM_BYTES}: 17 cache lines, so that
 * consecutive large allocations start at 64 different offsets modulo 4 KiB (17 is coprime
 * with the 64 lines of a page). @internal
 */
export const STAGGER_BYTES = 17 * 64;
/** Allocations from this size on are staggered. @internal */
const STAGGER_FROM_BYTES = 4096;
/** Every segment is padded to a whole number of vectors of this many f32 elements. */
export const VECTOR_ELEMENTS = 4;
/** Smallest capacity of a parameter block's data (and grad) half, so small models take one block. */
const MIN_BLOCK_BYTES = 65536;

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


/** What {@link ParameterStore.parameter} accepts besides a size or initial values. */
export interface ParameterOptions {
  /** The tensor's shape (whole numbers >= 0); the size is their product. Default: `[size]`. */
  shape?: readonly number[];
  /** Initial values (`size` of them); default zeros. */
  values?: ArrayLike<number>;
}

/**
 * A named float32 tensor living in a {@link ParameterStore}'s arena, with its gradient and
 * its shape.
 *
 * `data` and `grad` are `Float32Array` views over the arena. Their segments never move: once
 * registered, a parameter keeps its address for the life of the store, and no view ever
 * covers another segment. Where the store's memory can grow without detaching
 * (`store.stableViews`: the js backend on an engine with resizable ArrayBuffers, the wasm
 * backend on a shared memory), an array taken once stays valid for the life of the store.
 * Elsewhere (the wasm backend over a non-shared memory, e.g. in a page that is not
 * cross-origin isolated) growth detaches arrays taken before it (they read as length 0, so a
 * stale array is visibly empty rather than silently writing elsewhere): take `p.data` /
 * `p.grad` afresh after registering parameters or building optimizers.
 *
 * @example
 * const w = store.parameter('w', { shape: [784, 128] });
 * w.data.fill(0.5);
 * w.grad.set(gradient);
 */
export class Parameter {
  /** @internal absolute byte address of the values */
  readonly dataAddress: number;
  /** @internal absolute byte address of the gradient */
  readonly gradAddress: number;
  /** The tensor's shape; the product of its entries is `size`. */
  readonly shape: readonly number[];
  /**
   * @internal elements (padded) of the parameters registered before this one: where it
   * would start if all were laid end to end, whatever blocks they landed in. Reductions
   * chunk by it, so their results do not depend on the arena's layout.
   */
  readonly position: number;
  #store: ParameterStore;
  #requiresGrad = true;
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
    dataAddress: number,
    gradAddress: number,
    shape: readonly number[],
    position: number,
  ) {
    this.position = position;
    this.#store = store;
    this.dataAddress = dataAddress;
    this.gradAddress = gradAddress;
    this.shape = Object.freeze([...shape]);
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
    const version = store.viewsVersion;
    if (version === this.#version) return;
    this.#data = store.view(this.dataAddress, this.size);
    this.#grad = store.view(this.gradAddress, this.size);
    this.#version = version;
  }

  /** The parameter's values: a view over the arena (see the class comment). */
  get data(): Float32Array {
    this.#refresh();
    return this.#data!;
  }

  /** The parameter's gradient: a view over the arena, zero until written. */
  get grad(): Float32Array {
    this.#refresh();
    return this.#grad!;
  }

  /** Sets every gradient element to zero. */
  zeroGrad(): void {
    this.grad.fill(0);
  }

  /**
   * Whether optimizers update this parameter (default true). `p.requiresGrad = false` freezes
   * it, as PyTorch's `p.requires_grad_(False)` does (whose grad then stays None, so that every
   * optimizer skips it): every optimizer over it leaves its values and its state (buffers and
   * step count) exactly as they are, with no update and no weight decay, until it is set back
   * to true; then it continues from its own state and step count, as in PyTorch. Gradient
   * clipping, `gradNorm`, `gradsAreFinite`, `stepIfFinite` and gradient accumulation leave
   * its gradient out. An averaged model keeps averaging it (a frozen value's average stays
   * put), as PyTorch's `AveragedModel` averages every parameter. Not saved in state dicts or
   * checkpoints: freeze again after loading.
   *
   * @example
   * for (const p of backbone) p.requiresGrad = false;   // train the head only
   * // later: unfreeze, each parameter resumes its own Adam moments and step count
   * for (const p of backbone) p.requiresGrad = true;
   */
  get requiresGrad(): boolean {
    return this.#requiresGrad;
  }

  /** Freezes (`false`) or unfreezes (`true`) the parameter; anything but a boolean is a TypeError. */
  set requiresGrad(value: boolean) {
    if (typeof value !== 'boolean') throw new TypeError(`Parameter ${JSON.stringify(this.name)}: requiresGrad must be a boolean, got ${describe(value)} (${typeof value})`);
    if (value === this.#requiresGrad) return;
    this.#requiresGrad = value;
    this.#store.countFrozen(value ? -1 : 1);
  }

  /** `Parameter("name", size)`, or `Parameter("name", [rows, cols])` when it has a shape of more than one dimension. */
  toString(): string {
    return `Parameter(${JSON.stringify(this.name)}, ${this.shape.length === 1 ? this.size : `[${this.shape.join(', ')}]`})`;
  }
}

/** A block of parameters: data and grad halves of the same capacity, filled in registration order. */
interface Block {
  readonly data: number;
  readonly grad: number;
  readonly capacity: number;
  used: number;
}

/**
 * Owns one arena holding every parameter, gradient and optimizer state buffer of a model,
 * and the kernels (WASM SIMD or their bit-identical JS twins) that update it.
 *
 * The arena is append-only: nothing in it ever moves. Parameters are registered into
 * blocks, each a data half and a grad half of the same capacity (every segment 16-byte
 * aligned and padded with zeros to a multiple of 4 elements); when a block is full the next
 * one is appended with twice the capacity. Optimizer state buffers are appended as they are
 * allocated. Parameters registered one after another in one block are contiguous in both
 * halves, so a param group is one range and one kernel call per block it spans.
 *
 * @example
 * const store = await ParameterStore.create();          // backend 'auto'
 * const w = store.parameter('w', { shape: [784, 10] });
 * const b = store.parameter('b', 10);
 * const opt = new Adam([w, b], { lr: 1e-3 });
 */
export class ParameterStore {
  #backendRef: Backend | undefined;
  readonly #params: Parameter[] = [];
  readonly #byName = new Map<string, Parameter>();
  #block: Block | undefined;
  #parameterBytes = 0;
  #frozen = 0;
  #frozenVersion = 0;
  readonly #scratch = new Map<string, { address: number; bytes: number }>();

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
   * Releases the arena (the WebAssembly memory or the ArrayBuffers, once nothing else holds
   * them) and stops any worker threads. Any later use of the store, its parameters or an
   * optimizer over them throws. Arrays taken earlier keep the memory they cover alive and
   * readable, but it is no longer the store's.
   */
  dispose(): void {
    if (this.#backendRef === undefined) return;
    this.#backendRef.dispose();
    this.#backendRef = undefined;
  }

  /** Throws if the store was disposed. @internal */
  assertLive(context: string): void {
    if (this.#backendRef === undefined) throw new Error(`${context}: its ParameterStore was disposed`);
  }

  /**
   * Creates an empty store.
   * @param options `backend`: `'auto'` (default), `'wasm'` or `'js'`; `wasm`: a kernel module to use; `threads`.
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

  /**
   * True when arrays over the arena (`p.data`, `p.grad`, `opt.state(p)` buffers) taken once
   * stay valid for the life of the store: its memory grows without detaching (a resizable
   * `ArrayBuffer` on the js backend, a shared `WebAssembly.Memory` on the wasm backend).
   * False where only a detaching memory is available (the wasm backend without
   * `SharedArrayBuffer`, e.g. a page that is not cross-origin isolated, or a custom kernel
   * module): there growth detaches earlier arrays (length 0), so take them afresh after
   * registering parameters or building optimizers. Segments never move either way.
   */
  get stableViews(): boolean {
    return this.#backend.stableViews;
  }

  /** How many threads run kernel calls (see {@link ParameterStoreOptions.threads}), and a note on why. */
  get threads(): ThreadInfo {
    return { ...this.#backend.threads };
  }

  /** Bytes of parameters (and, as many, of gradients) registered, padding included. */
  get parameterBytes(): number {
    return this.#parameterBytes;
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
    return this.#backend.byteLength;
  }

  /** @internal how many of the store's parameters are frozen (`requiresGrad` false): 0 keeps every step on its fast path */
  get frozenCount(): number {
    return this.#frozen;
  }

  /** @internal changes whenever a parameter of the store is frozen or unfrozen */
  get frozenVersion(): number {
    return this.#frozenVersion;
  }

  /** @internal a parameter was frozen (+1) or unfrozen (-1) */
  countFrozen(change: 1 | -1): void {
    this.#frozen += change;
    this.#frozenVersion++;
  }

  /** The parameter registered under `name`, if any. */
  get(name: string): Parameter | undefined {
    return this.#byName.get(name);
  }

  /**
   * Registers a parameter and its gradient (zero): of `size` float32 elements
   * (zero-initialised), of the given initial values, or `{ shape, values? }` for a tensor
   * of that shape (`p.shape`; the size is the product). Names are unique within a store.
   * The segments never move; see {@link Parameter} about views.
   *
   * @example
   * const w = store.parameter('w', { shape: [784, 128] });
   * const b = store.parameter('b', 128);
   * const c = store.parameter('c', [0.5, -1, 2]);
   */
  parameter(name: string, sizeOrValues: number | ArrayLike<number> | ParameterOptions): Parameter {
    this.assertLive('ParameterStore.parameter');
    const context = 'ParameterStore.parameter';
    if (typeof name !== 'string' || name.length === 0) {
      throw new TypeError(`${context}: parameter name must be a non-empty string, got ${describe(name)}`);
    }
    if (this.#byName.has(name)) throw new Error(`${context}: a parameter named ${JSON.stringify(name)} already exists in this store`);
    const { size, shape, values } = parseParameterInput(`${context}: parameter ${JSON.stringify(name)}`, sizeOrValues);
    const bytes = paddedSize(size) * 4;
    let block = this.#block;
    if (block === undefined || block.used + bytes > block.capacity) {
      const capacity = Math.max(bytes, MIN_BLOCK_BYTES, block ? 2 * block.capacity : 0);
      const data = this.#append(capacity);
      const grad = this.#append(capacity);
      block = this.#block = { data, grad, capacity, used: 0 };
    }
    const param = new Parameter(this, name, size, this.#params.length, block.data + block.used, block.grad + block.used, shape, this.#parameterBytes / 4);
    if (values !== undefined) this.#backend.view(param.dataAddress, size).set(values);
    block.used += bytes;
    this.#parameterBytes += bytes;
    this.#params.push(param);
    this.#byName.set(name, param);
    return param;
  }

  /** Sets every gradient in the store to zero. */
  zeroGrad(): void {
    for (const p of this.#params) this.#backend.view(p.gradAddress, p.size).fill(0);
  }

  /**
   * Allocates a `rows × cols` float32 matrix in the arena: zeros, or a copy of `values`
   * (row-major). For activations, products and other scratch space that
   * {@link matmul} reads or writes; it never moves, and lives as long as the store.
   *
   * @example
   * const h = store.matrix(128, 256);          // a batch of hidden activations
   * store.matmul(x, w, h);                     // h = x · w
   */
  matrix(rows: number, cols: number, values?: ArrayLike<number>): Matrix {
    return createMatrix(this, rows, cols, values);
  }

  /**
   * Matrix multiply in the arena: `out = alpha · op(a) · op(b) + beta · out`, where `op(x)` is
   * `x` or, with `transA` / `transB`, its transpose (as BLAS `sgemm` and `torch.addmm`). With
   * `beta = 0` (the default) `out` is only written. Operands are {@link Matrix}es, 2-D
   * {@link Parameter}s (their values, `p.shape` = [rows, cols]) or `{ data, rows, cols }` over a
   * view of this store's arena, such as a gradient: `{ data: w.grad, rows: 784, cols: 256 }`.
   * `out` must not overlap `a` or `b`. Shapes are checked, with the shapes in the message.
   *
   * Every element of the product is a float32 sum over k in order, a rounded product then a
   * rounded sum (no fused multiply-add): the wasm kernel (WebAssembly SIMD, 6×8 tiles) and the
   * js one give the same bits, for any thread count (threads take whole rows or column panels).
   * The result then is `f32(alpha · sum)`, plus `f32(beta · out)` when beta is not 0.
   *
   * @example
   * store.matmul(x, w, h);                                        // h = x · w
   * store.matmul(x, dh, { data: w.grad, rows: 784, cols: 256 }, { transA: true, beta: 1 }); // w.grad += xᵀ · dh
   */
  matmul(a: MatrixLike | Parameter, b: MatrixLike | Parameter, out: MatrixLike | Parameter, options?: MatmulOptions): void {
    matmul(this, a, b, out, options);
  }

  // ---- internals shared with the optimizers -------------------------------------------

  /** @internal */
  get kernels(): Kernels {
    return this.#backend.kernels;
  }

  /**
   * @internal A Float32Array over `count` elements at byte address `address` (within one
   * allocation). Live; see {@link viewsVersion}.
   */
  view(address: number, count: number): Float32Array {
    return this.#backend.view(address, count);
  }

  /** @internal A Uint16Array over `count` elements at byte address `address` (bfloat16 state). Live, as {@link view}. */
  u16(address: number, count: number): Uint16Array {
    return this.#backend.u16(address, count);
  }

  /** @internal A Uint8Array over `count` bytes at byte address `address` (int8 state). Live, as {@link view}. */
  u8(address: number, count: number): Uint8Array {
    return this.#backend.u8(address, count);
  }

  /** @internal a copy of the whole arena, indexed by byte address / 4 (tests, diagnostics) */
  dump(): Float32Array {
    return this.#backend.dump();
  }

  /** @internal changes whenever views taken before must be taken again (growth of a detaching memory) */
  get viewsVersion(): number {
    return this.#backend.viewsVersion;
  }

  /**
   * @internal Appends `bytes` zeroed bytes to the arena (16-byte aligned); returns their
   * absolute byte address, which never changes.
   */
  allocate(bytes: number): number {
    return this.#append(bytes);
  }

  /**
   * @internal A scratch region of at least `bytes` bytes for `key` (e.g. the matrix multiply's
   * packed operand), reused by every call that asks with that key; a larger request appends a
   * new region of at least twice the size (the arena never frees).
   */
  scratch(key: string, bytes: number): number {
    const held = this.#scratch.get(key);
    if (held && held.bytes >= bytes) return held.address;
    const size = Math.max(bytes, held ? 2 * held.bytes : 0);
    const region = { address: this.#append(size), bytes: size };
    this.#scratch.set(key, region);
    return region.address;
  }

  /** @internal the arena address of a view of this store's memory, if it is one */
  addressOf(view: Float32Array): number | undefined {
    return this.#backend.addressOf(view);
  }

  /** @internal runs a kernel once per argument list, on the store's threads */
  runParts(name: keyof typeof PART_KERNELS, parts: number[][]): void {
    this.#backend.runParts(name, parts);
  }

  #append(bytes: number): number {
    const aligned = Math.ceil(bytes / SEGMENT_ALIGN_BYTES) * SEGMENT_ALIGN_BYTES;
    // A large allocation is followed by STAGGER_BYTES of padding, so that buffers of equal,
    // page-multiple sizes (a 16M-parameter model's data, gradients and moments: 64 MiB each) do
    // not start at the same address modulo 4 KiB: a kernel streaming five or six such arrays
    // then collides in the same cache sets and on 4K aliasing between its loads and stores
    // (Adan at 16M parameters: 67 ms a step with its six arrays 64 MiB apart, 24 ms with them
    // staggered; bench/results/round3-unstaggered.json holds a run before this padding, round3.json one after).
    return this.#backend.allocate(aligned >= STAGGER_FROM_BYTES ? aligned + STAGGER_BYTES : aligned);
  }
}

/** Reads `parameter()`'s second argument: a size, initial values, or `{ shape, values }`. */
function parseParameterInput(context: string, input: unknown): { size: number; shape: number[]; values: Float32Array | undefined } {
  const checkSize = (size: unknown, what: string): number => {
    if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0) {
      throw new RangeError(`${context}: invalid ${what}: ${describe(size)} (expected a whole number >= 0)`);
    }
    return size;
  };
  // Copied before anything is allocated: the values may be a view over this very arena.
  const copy = (values: unknown, what: string): Float32Array => {
    if (values === null || typeof values !== 'object' || typeof (values as ArrayLike<number>).length !== 'number') {
      throw new TypeError(`${context}: ${what} must be an array of numbers, got ${describe(values)}`);
    }
    checkSize((values as ArrayLike<number>).length, `${what} length`);
    return Float32Array.from(values as ArrayLike<number>);
  };
  if (typeof input === 'number') {
    const size = checkSize(input, 'size');
    return { size, shape: [size], values: undefined };
  }
  if (input === null || typeof input !== 'object') {
    throw new TypeError(`${context}: expected a size, an array of initial values or { shape, values }, got ${describe(input)}`);
  }
  if (typeof (input as ArrayLike<number>).length === 'number') {
    const values = copy(input, 'initial values');
    return { size: values.length, shape: [values.length], values };
  }
  const o = input as ParameterOptions;
  for (const key of Object.keys(o)) {
    if (key !== 'shape' && key !== 'values') throw new Error(`${context}: unknown option ${JSON.stringify(key)} (valid: shape, values)`);
  }
  const values = o.values === undefined ? undefined : copy(o.values, 'values');
  let shape: number[];
  if (o.shape === undefined) {
    if (values === undefined) throw new TypeError(`${context}: { shape, values } needs a shape or values`);
    shape = [values.length];
  } else {
    if (!Array.isArray(o.shape) || o.shape.length === 0) throw new TypeError(`${context}: shape must be a non-empty array of whole numbers, got ${describe(o.shape)}`);
    shape = o.shape.map((d, i) => checkSize(d, `shape[${i}]`));
  }
  const size = shape.reduce((a, b) => a * b, 1);
  checkSize(size, `size (the product of shape ${describe(shape)})`);
  if (values !== undefined && values.length !== size) {
    throw new RangeError(`${context}: ${values.length} values do not fill shape ${describe(shape)} (${size} elements)`);
  }
  return { size, shape, values };
}
