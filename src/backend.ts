import { KERNELS_SHARED_WASM_BASE64, KERNELS_WASM_BASE64 } from './generated/kernels-wasm.js';
import { MIN_PARALLEL_ELEMENTS as MIN_PARALLEL, ThreadPool, sharedMemorySupport, threadSupport, type PART_KERNELS, type ThreadInfo } from './threads.js';
import { KERNEL_ABI_VERSION, KERNEL_NAMES, bindJsKernels, bindKernels, type Kernels, type RawKernels, type TwinMemory } from './kernels/index.js';

/** Which kernels run a store's steps. */
export type BackendName = 'wasm' | 'js';

/** The `backend` option: `'auto'` picks `'wasm'` when the engine validates the SIMD kernel module. */
export type BackendOption = 'auto' | BackendName;

/** Compiled kernel module, or its bytes, for environments that must not or cannot decode the embedded copy. */
export type WasmSource = WebAssembly.Module | BufferSource;

/** Bytes before the first allocation (keeps address 0 free and the segments cache-line aligned). */
export const ARENA_BASE = 64;

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
  /** True when growing never detaches: views taken once stay valid. */
  readonly stableViews: boolean;
  /**
   * Appends `bytes` (a multiple of 16) of zeroed memory and returns its byte address, which
   * never changes (the arena is append-only: nothing is moved or freed before dispose).
   */
  allocate(bytes: number): number;
  /** A Float32Array over `count` elements at `address`, inside one allocation. */
  view(address: number, count: number): Float32Array;
  /** A Uint16Array over `count` elements at `address` (2-byte aligned), inside one allocation (bfloat16 state). */
  u16(address: number, count: number): Uint16Array;
  /** A Uint8Array over `count` bytes at `address`, inside one allocation (int8 state). */
  u8(address: number, count: number): Uint8Array;
  /** Changes whenever views taken before must be taken again (growth of a detaching memory). */
  readonly viewsVersion: number;
  /** Bytes of memory the arena holds. */
  readonly byteLength: number;
  /** A copy of the whole arena, indexed by byte address / 4 (for tests and diagnostics). */
  dump(): Float32Array;
  /** How many threads run kernel calls, and why. */
  readonly threads: ThreadInfo;
  /**
   * The arena address of a Float32Array over this backend's memory, or undefined when the
   * array is not a view of it (or of a buffer since detached by growth).
   */
  addressOf(view: Float32Array): number | undefined;
  /**
   * Runs a kernel once per argument list, in parallel where the backend has threads (at most
   * `threads.active` lists), returning when all are done.
   */
  runParts(name: keyof typeof PART_KERNELS, parts: number[][]): void;
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
  let end = ARENA_BASE;
  let version = 0;
  // A shared memory hands out a new SharedArrayBuffer object after each growth, over the same
  // bytes: views taken before stay valid, so every buffer object it has had counts as the arena.
  const buffers = new WeakSet<ArrayBufferLike>([memory.buffer]);
  const ensure = (bytes: number) => {
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
    // A non-shared memory's old buffer is now detached: views must be taken again.
    if (!shared) version++;
    else buffers.add(memory.buffer);
  };
  const backend: Backend = {
    name: 'wasm',
    memory,
    stableViews: shared,
    threads: info,
    dispose: () => pool?.stop(),
    kernels: bindKernels(pool ? pool.wrap(kernels as unknown as RawKernels) : (kernels as unknown as RawKernels)),
    get viewsVersion() { return version; },
    get byteLength() { return memory.buffer.byteLength; },
    // Memory a WebAssembly memory grows by is zero, and nothing is ever freed: no fill needed.
    allocate(bytes) {
      const at = end;
      ensure(at + bytes);
      end = at + bytes;
      return at;
    },
    view: (address, count) => new Float32Array(memory.buffer, address, count),
    u16: (address, count) => new Uint16Array(memory.buffer, address, count),
    u8: (address, count) => new Uint8Array(memory.buffer, address, count),
    dump: () => new Float32Array(memory.buffer).slice(),
    addressOf: (v) => (v.buffer === memory.buffer || (shared && buffers.has(v.buffer)) ? v.byteOffset : undefined),
    runParts(name, parts) {
      const fn = kernels[name] as (...a: number[]) => void;
      if (pool && parts.length > 1) pool.runParts(name, fn, parts);
      else for (const a of parts) fn(...a);
    },
  };
  return backend;
}


/** One block of the js backend's memory: an ArrayBuffer at a fixed place in the address space. */
interface Block {
  readonly base: number;
  readonly size: number;
  readonly heap: Float32Array;
  used: number;
}

/** Smallest js-backend block once the arena is past 1 MiB (see `allocate`). */
const LARGE_BLOCK_BYTES = 32 << 20;

/**
 * The pure-JS backend: the arena is a list of plain ArrayBuffers ("blocks"), each at a fixed
 * place in one address space, with the wasm backend's addresses (the first block starts at
 * address 0 and keeps the first 64 bytes free). An allocation that does not fit the last block
 * opens a new one, twice as large; nothing is copied, moved or detached, so every view stays
 * valid for the life of the store, and the JS twins index each array in its own block's
 * Float32Array (plain ArrayBuffers, which engines access fastest). @internal
 */
export function createJsBackend(threads = 1): Backend {
  const blocks: Block[] = [];
  const open = (base: number, size: number): Block => {
    checkLimit(base + size);
    let buffer: ArrayBuffer;
    try {
      buffer = new ArrayBuffer(size);
    } catch (e) {
      throw new RangeError(`Could not allocate ${size} bytes for the arena: ${(e as Error).message}`);
    }
    const block = { base, size, heap: new Float32Array(buffer), used: 0 };
    blocks.push(block);
    return block;
  };
  open(0, PAGE_BYTES).used = ARENA_BASE;
  let last = blocks[0];
  const find = (address: number): Block => {
    if (address >= last.base && address < last.base + last.size) return last;
    for (let i = blocks.length - 1; i >= 0; i--) {
      const b = blocks[i];
      if (address >= b.base && address < b.base + b.size) return (last = b);
    }
    throw new RangeError(`address ${address} is outside the arena`);
  };
  const view = (address: number, count: number) => {
    const b = find(address);
    return new Float32Array(b.heap.buffer, address - b.base, count);
  };
  const u16 = (address: number, count: number) => {
    const b = find(address);
    return new Uint16Array(b.heap.buffer, address - b.base, count);
  };
  const u8 = (address: number, count: number) => {
    const b = find(address);
    return new Uint8Array(b.heap.buffer, address - b.base, count);
  };
  const mem: TwinMemory = { view, u16, u8 };
  const kernels = bindJsKernels(mem);
  return {
    name: 'js',
    memory: undefined,
    stableViews: true,
    viewsVersion: 0,
    threads: { requested: threads, active: 1, note: threads > 1 ? 'one thread: the js backend runs on the calling thread' : 'one thread' },
    dispose: () => {},
    kernels,
    get byteLength() { return blocks.reduce((n, b) => n + b.size, 0); },
    allocate(bytes) {
      let block = blocks[blocks.length - 1];
      if (block.used + bytes > block.size) {
        // A gap of one vector keeps two blocks from ever looking adjacent.
        const base = block.base + block.size + 16;
        let size = pagesFor(Math.max(bytes, 2 * block.size)) * PAGE_BYTES;
        // Past 1 MiB, blocks of at least 32 MiB: measured in Node 20 on Linux, the JS kernels
        // ran about 20% slower over arrays in blocks of 2-16 MiB than in one large block, and as
        // fast in blocks of 32 MiB or more (which the C allocator maps on their own rather than
        // placing in its heap). Pages no one touches take no memory.
        if (size > 1 << 20 && size < LARGE_BLOCK_BYTES) size = LARGE_BLOCK_BYTES;
        block = open(base, size);
      }
      const at = block.base + block.used;
      block.used += bytes;
      return at;
    },
    view,
    u16,
    u8,
    addressOf(v) {
      for (const b of blocks) if (b.heap.buffer === v.buffer) return b.base + v.byteOffset;
      return undefined;
    },
    runParts(name, parts) {
      const fn = kernels[name] as (...a: number[]) => void;
      for (const a of parts) fn(...a);
    },
    dump() {
      const top = blocks[blocks.length - 1];
      const out = new Float32Array((top.base + top.size) / 4);
      for (const b of blocks) out.set(b.heap, b.base / 4);
      return out;
    },
  };
}

/** ABI version the TypeScript side expects of the kernel module (its `abiVersion()` export): from src/kernels/defs/index.ts. */
export { KERNEL_ABI_VERSION };

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
