import { KERNELS_SHARED_WASM_BASE64, KERNELS_WASM_BASE64 } from './generated/kernels-wasm.js';
import { MIN_PARALLEL_ELEMENTS as MIN_PARALLEL, ThreadPool, threadSupport, type ThreadInfo } from './threads.js';
import { KERNEL_NAMES, bindJsKernels, type Kernels } from './kernels/index.js';

/** Which kernels run a store's steps. */
export type BackendName = 'wasm' | 'js';

/** The `backend` option: `'auto'` picks `'wasm'` when the engine validates the SIMD kernel module. */
export type BackendOption = 'auto' | BackendName;

/** Compiled kernel module, or its bytes, for environments that must not or cannot decode the embedded copy. */
export type WasmSource = WebAssembly.Module | BufferSource;

/** Size of a WebAssembly page; both backends grow their memory in whole pages. */
export const PAGE_BYTES = 65536;

/** Largest arena either backend will build (the wasm32 address space). */
export const MAX_ARENA_BYTES = 65536 * PAGE_BYTES;

/**
 * A backend owns the arena's memory and the kernels that run over it. The wasm backend's
 * memory is a `WebAssembly.Memory` imported by the kernel module (shared where the engine
 * has `SharedArrayBuffer`, so growing does not detach it); the js backend's is a resizable
 * `ArrayBuffer` (a plain one where the engine lacks them) with the same layout.
 * @internal
 */
export interface Backend {
  readonly name: BackendName;
  readonly kernels: Kernels;
  /** The WebAssembly memory (wasm backend only). */
  readonly memory: WebAssembly.Memory | undefined;
  /** The current buffer; replaced (and, unless `stableViews`, the old one detached) when the memory grows. */
  buffer(): ArrayBuffer;
  /** True when growing never detaches: views taken once stay valid. */
  readonly stableViews: boolean;
  /** A Float32Array over the whole current buffer. */
  heap(): Float32Array;
  /** Makes the memory at least `bytes` long (contents and addresses kept). */
  ensure(bytes: number): void;
  /** How many threads run kernel calls, and why. */
  readonly threads: ThreadInfo;
  /** Stops any worker threads. */
  dispose(): void;
}

function decodeBase64(text: string): Uint8Array {
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

let embeddedBytes: Uint8Array | undefined;

/** The embedded kernel module's bytes (decoded once). */
export function kernelWasmBytes(): Uint8Array {
  embeddedBytes ??= decodeBase64(KERNELS_WASM_BASE64);
  return embeddedBytes;
}

/**
 * True when this engine has WebAssembly and validates the kernel module, which uses
 * 128-bit SIMD: the test `backend: 'auto'` applies.
 */
export function wasmSimdSupported(): boolean {
  try {
    return typeof WebAssembly === 'object' && typeof WebAssembly.validate === 'function' &&
      WebAssembly.validate(kernelWasmBytes() as Uint8Array<ArrayBuffer>);
  } catch {
    return false;
  }
}

/**
 * Where the kernel module ships beside this file (`dist/simdopt.wasm`), for pages and
 * runtimes that prefer to fetch and compile it themselves, e.g. under a Content Security
 * Policy: `ParameterStore.create({ wasm: await WebAssembly.compileStreaming(fetch(kernelWasmUrl())) })`.
 * Bundlers that understand `new URL(..., import.meta.url)` copy the file along.
 */
export function kernelWasmUrl(): URL {
  return new URL('./simdopt.wasm', import.meta.url);
}

let defaultModule: Promise<WebAssembly.Module> | undefined;

function compileModule(source: WasmSource | undefined): Promise<WebAssembly.Module> {
  if (source instanceof WebAssembly.Module) return Promise.resolve(source);
  if (source !== undefined) return WebAssembly.compile(source);
  defaultModule ??= WebAssembly.compile(kernelWasmBytes() as Uint8Array<ArrayBuffer>);
  return defaultModule;
}

function pagesFor(bytes: number): number {
  return Math.ceil(bytes / PAGE_BYTES);
}

/** Next size to grow to: at least `bytes`, and at least 1/4 more than now, so growth is amortised. */
function growTarget(current: number, bytes: number): number {
  return Math.min(MAX_ARENA_BYTES, pagesFor(Math.max(bytes, current + Math.floor(current / 4))) * PAGE_BYTES);
}

function checkLimit(bytes: number): void {
  if (bytes > MAX_ARENA_BYTES) {
    throw new RangeError(`The arena would need ${bytes} bytes, more than the ${MAX_ARENA_BYTES} bytes (4 GiB) a 32-bit WebAssembly memory can address`);
  }
}

/** Whether this engine can make a shared WebAssembly memory (which never detaches), and why not. */
function sharedMemorySupport(): string | undefined {
  if (typeof SharedArrayBuffer !== 'function') return 'SharedArrayBuffer is unavailable (browsers need cross-origin isolation)';
  if (typeof Atomics !== 'object') return 'Atomics is unavailable';
  try {
    new WebAssembly.Memory({ initial: 0, maximum: 1, shared: true });
  } catch {
    return 'this engine cannot make a shared WebAssembly memory';
  }
  return undefined;
}

let sharedBytes: Uint8Array | undefined;
let sharedModule: Promise<WebAssembly.Module> | undefined;

/** Instantiates the kernel module over a fresh memory; with `threads` > 1, over a shared memory with a worker pool. @internal */
export async function createWasmBackend(source?: WasmSource, threads = 1): Promise<Backend> {
  if (typeof WebAssembly !== 'object') {
    throw new Error("backend 'wasm' was asked for, but this engine has no WebAssembly");
  }
  if (source === undefined && !wasmSimdSupported()) {
    throw new Error("backend 'wasm' was asked for, but this engine does not support WebAssembly SIMD (128-bit); use backend 'auto' or 'js'");
  }
  // A shared memory whenever the engine has one (it never detaches, so views stay valid),
  // with the shared-memory build of the same kernels; a custom module keeps its own memory.
  const sharedUnsupported = source !== undefined ? 'a custom kernel module was given (threads need the built-in shared-memory build)' : sharedMemorySupport();
  const unsupported = threads > 1 ? (sharedUnsupported ?? threadSupport()) : undefined;
  const useThreads = threads > 1 && unsupported === undefined;
  const shared = sharedUnsupported === undefined;
  let module: WebAssembly.Module;
  if (shared) {
    sharedBytes ??= decodeBase64(KERNELS_SHARED_WASM_BASE64);
    sharedModule ??= WebAssembly.compile(sharedBytes as Uint8Array<ArrayBuffer>);
    module = await sharedModule;
  } else {
    module = await compileModule(source);
  }
  const memory = shared ? new WebAssembly.Memory({ initial: 1, maximum: 65536, shared: true }) : new WebAssembly.Memory({ initial: 1 });
  const instance = await WebAssembly.instantiate(module, { env: { memory } });
  const exports = instance.exports as unknown as Kernels & { abiVersion(): number };
  if (typeof exports.abiVersion !== 'function' || exports.abiVersion() !== KERNEL_ABI_VERSION) {
    throw new Error(`The kernel module has ABI version ${typeof exports.abiVersion === 'function' ? exports.abiVersion() : 'unknown'}; this library needs ${KERNEL_ABI_VERSION}`);
  }
  const kernels: Record<string, unknown> = {};
  for (const name of KERNEL_NAMES) {
    if (typeof exports[name] !== 'function') throw new Error(`The kernel module does not export ${name}`);
    kernels[name] = exports[name];
  }
  const pool = useThreads ? await ThreadPool.start(threads - 1, module, memory) : undefined;
  const info: ThreadInfo = threads <= 1
    ? { requested: threads, active: 1, note: 'one thread' }
    : pool ? { requested: threads, active: pool.size, note: `${pool.size} threads over a shared WebAssembly.Memory; calls under ${MIN_PARALLEL} elements run on the calling thread` }
      : { requested: threads, active: 1, note: `one thread: ${unsupported}` };
  let heap = new Float32Array(memory.buffer);
  const backend: Backend = {
    name: 'wasm',
    memory,
    stableViews: shared,
    threads: info,
    dispose: () => pool?.stop(),
    kernels: pool ? pool.wrap(kernels as unknown as Kernels) : (kernels as unknown as Kernels),
    buffer: () => memory.buffer as ArrayBuffer,
    heap() {
      if (heap.buffer !== memory.buffer) heap = new Float32Array(memory.buffer);
      return heap;
    },
    ensure(bytes) {
      const current = memory.buffer.byteLength;
      if (bytes <= current) return;
      checkLimit(bytes);
      const target = growTarget(current, bytes);
      try {
        memory.grow((target - current) / PAGE_BYTES);
      } catch {
        // The engine refused the amortised size: try the exact size before giving up.
        try {
          memory.grow(pagesFor(bytes) - current / PAGE_BYTES);
        } catch (e) {
          throw new RangeError(`Could not grow the WebAssembly memory to ${bytes} bytes: ${(e as Error).message}`);
        }
      }
    },
  };
  return backend;
}

/** Detaches `buffer` where the engine can (so stale views read as empty on both backends). */
function detach(buffer: ArrayBuffer): void {
  try {
    if (typeof structuredClone === 'function') structuredClone(buffer, { transfer: [buffer] });
  } catch {
    // No transfer support: the old buffer stays readable but is no longer the arena.
  }
}

/** A resizable ArrayBuffer (ES2024) of up to 4 GiB, or undefined where the engine has none. */
function resizableBuffer(bytes: number): ArrayBuffer | undefined {
  const probe = ArrayBuffer.prototype as { resize?: unknown };
  if (typeof probe.resize !== 'function') return undefined;
  for (const max of [MAX_ARENA_BYTES, MAX_ARENA_BYTES / 4]) {
    try {
      return new (ArrayBuffer as unknown as new (n: number, o: { maxByteLength: number }) => ArrayBuffer)(bytes, { maxByteLength: max });
    } catch {
      // The engine would not reserve that much: try less, then a plain buffer.
    }
  }
  return undefined;
}

/**
 * The pure-JS backend: an ArrayBuffer with the wasm backend's layout and the JS twins.
 * Resizable where the engine allows (growing keeps every view valid); elsewhere a growth
 * copies into a larger buffer and detaches the old one. @internal
 */
export function createJsBackend(threads = 1): Backend {
  const resizable = resizableBuffer(PAGE_BYTES);
  let buffer = resizable ?? new ArrayBuffer(PAGE_BYTES);
  // Over a resizable buffer, a Float32Array without a length tracks the buffer's length.
  let heap = new Float32Array(buffer);
  const backend: Backend = {
    name: 'js',
    memory: undefined,
    stableViews: resizable !== undefined,
    threads: { requested: threads, active: 1, note: threads > 1 ? 'one thread: the js backend runs on the calling thread' : 'one thread' },
    dispose: () => {},
    kernels: bindJsKernels(() => heap),
    buffer: () => buffer,
    heap: () => heap,
    ensure(bytes) {
      const current = buffer.byteLength;
      if (bytes <= current) return;
      checkLimit(bytes);
      if (resizable !== undefined) {
        const resize = (n: number) => (buffer as unknown as { resize(n: number): void }).resize(n);
        try {
          resize(Math.min(growTarget(current, bytes), (buffer as unknown as { maxByteLength: number }).maxByteLength));
        } catch {
          try {
            resize(pagesFor(bytes) * PAGE_BYTES);
          } catch (e) {
            throw new RangeError(`Could not grow the arena to ${bytes} bytes: ${(e as Error).message}`);
          }
        }
        return;
      }
      let next: ArrayBuffer;
      try {
        next = new ArrayBuffer(growTarget(current, bytes));
      } catch {
        try {
          next = new ArrayBuffer(pagesFor(bytes) * PAGE_BYTES);
        } catch (e) {
          throw new RangeError(`Could not allocate an arena of ${bytes} bytes: ${(e as Error).message}`);
        }
      }
      new Uint8Array(next).set(new Uint8Array(buffer));
      detach(buffer);
      buffer = next;
      heap = new Float32Array(buffer);
    },
  };
  return backend;
}

/** ABI version the TypeScript side expects of the kernel module (its `abiVersion()` export). */
export const KERNEL_ABI_VERSION = 4;

/** Creates the backend a store asked for. @internal */
export async function createBackend(option: BackendOption, source?: WasmSource, threads = 1): Promise<Backend> {
  if (option === 'js') return createJsBackend(threads);
  if (option === 'wasm') return createWasmBackend(source, threads);
  if (option === 'auto') {
    if (source !== undefined ? typeof WebAssembly === 'object' : wasmSimdSupported()) return createWasmBackend(source, threads);
    return createJsBackend(threads);
  }
  throw new Error(`Invalid backend: ${JSON.stringify(option)} (expected 'auto', 'wasm' or 'js')`);
}
