// Multi-threaded kernel calls: workers share the arena (a shared WebAssembly.Memory) and each
// runs the same kernel over its own slice of a call's range. The element-wise kernels are
// independent per element, so every thread count gives the same bits; reductions stay on the
// calling thread (their fixed chunk order is what keeps norms identical).
import { ELEMENTWISE_KERNELS, type RawKernels } from './kernels/index.js';

/**
 * How each element-wise kernel slices, from the kernel definitions: where `n` is, every
 * argument's advance per element (bytes for arrays, elements for bfloat16's `index`) and per
 * slice (the int8 scratch, one per slice), and the granule slices start on (a vector, or an int8
 * block, so a slice never splits a block).
 */
const ELEMENTWISE: Record<string, { n: number; strides: readonly number[]; sliceStrides: readonly number[]; granule: number }> =
  Object.fromEntries(ELEMENTWISE_KERNELS.map((k) => [k.name, { n: k.n, strides: k.strides, sliceStrides: k.sliceStrides, granule: k.granule }]));
/** Exports the host splits itself and hands out as parts (see {@link ThreadPool.runParts}). */
export const PART_KERNELS = { gemm: 11 } as const;
/** Every export a worker may run, by index. */
const NAMES = [...Object.keys(ELEMENTWISE), ...Object.keys(PART_KERNELS)];
/** Below this many elements a call runs on the calling thread alone (hand-off costs more). */
export const MIN_PARALLEL_ELEMENTS = 1 << 15;
/** Most arguments of any export a worker runs (an element-wise kernel: arrays, n, scalars, flags). */
const MAX_ARGS = Math.max(...ELEMENTWISE_KERNELS.map((k) => k.strides.length), ...Object.values(PART_KERNELS));
const EXIT = -1;

/** What `store.threads` reports. */
export interface ThreadInfo {
  /** Threads asked for. */
  requested: number;
  /** Threads that run kernel calls (the calling thread included). */
  active: number;
  /** Why fewer than requested, or how they run. */
  note: string;
}

// Control block (Int32): [0] done counter; [1 + w] generation for worker w. Then per worker a
// Float64 block: [0] kernel index, [1] argument count, [2..] arguments.
const ARG_SLOTS = MAX_ARGS + 2;
const ARGS_BYTES = 8 * ARG_SLOTS;

/** Source of the worker (Node: worker_threads eval; browsers: a module Blob). */
function workerSource(node: boolean): string {
  const body = `
    const names = ${JSON.stringify(NAMES)};
    const start = (data, post) => {
      const { module, memory, control, index } = data;
      const instance = new WebAssembly.Instance(module, { env: { memory } });
      const k = instance.exports;
      const ctl = new Int32Array(control, 0, 64);
      const args = new Float64Array(control, 256 + index * ${ARGS_BYTES}, ${ARG_SLOTS});
      let seen = 0;
      post('ready');
      for (;;) {
        // Spin briefly (a step's calls come in quick succession), then sleep.
        for (let i = 0; i < 20000 && Atomics.load(ctl, 1 + index) === seen; i++);
        Atomics.wait(ctl, 1 + index, seen);
        seen = Atomics.load(ctl, 1 + index);
        const id = args[0];
        if (id === ${EXIT}) break;
        const fn = k[names[id]];
        const count = args[1];
        const a = [];
        for (let i = 0; i < count; i++) a.push(args[2 + i]);
        fn(...a);
        Atomics.add(ctl, 0, 1);
        Atomics.notify(ctl, 0);
      }
    };`;
  return node
    ? `${body}\nconst { parentPort, workerData } = require('node:worker_threads');\nstart(workerData, (m) => parentPort.postMessage(m));`
    : `${body}\nself.onmessage = (e) => start(e.data, (m) => self.postMessage(m));`;
}

interface AnyWorker { terminate(): unknown; postMessage(m: unknown): void; unref?(): void }

/** Whether this engine can make a shared WebAssembly memory (which never detaches), and why not. */
export function sharedMemorySupport(): string | undefined {
  if (typeof SharedArrayBuffer !== 'function') return 'SharedArrayBuffer is unavailable (browsers need cross-origin isolation)';
  if (typeof Atomics !== 'object') return 'Atomics is unavailable';
  try {
    new WebAssembly.Memory({ initial: 0, maximum: 1, shared: true });
  } catch {
    return 'this engine cannot make a shared WebAssembly memory';
  }
  return undefined;
}

/** Whether this engine can share a WebAssembly memory with workers, and why not. */
export function threadSupport(): string | undefined {
  const shared = sharedMemorySupport();
  if (shared !== undefined) return shared;
  const g = globalThis as { crossOriginIsolated?: boolean; process?: { versions?: { node?: string } }; Worker?: unknown };
  if (!g.process?.versions?.node && g.crossOriginIsolated === false) return 'the page is not cross-origin isolated';
  if (!g.process?.versions?.node && typeof g.Worker !== 'function') return 'Web Workers are unavailable';
  return undefined;
}

/** A pool of workers running kernel slices over a shared memory. @internal */
export class ThreadPool {
  readonly #workers: AnyWorker[];
  readonly #ctl: Int32Array;
  readonly #args: Float64Array[];
  readonly #spin: boolean;

  private constructor(workers: AnyWorker[], control: SharedArrayBuffer, spin: boolean) {
    this.#workers = workers;
    this.#ctl = new Int32Array(control, 0, 64);
    this.#args = workers.map((_, w) => new Float64Array(control, 256 + w * ARGS_BYTES, ARG_SLOTS));
    this.#spin = spin;
  }

  /** Starts `count` workers over `memory`, each instantiating `module`. */
  static async start(count: number, module: WebAssembly.Module, memory: WebAssembly.Memory): Promise<ThreadPool> {
    const control = new SharedArrayBuffer(256 + count * ARGS_BYTES);
    const node = Boolean((globalThis as { process?: { versions?: { node?: string } } }).process?.versions?.node);
    const workers: AnyWorker[] = [];
    const ready: Promise<void>[] = [];
    for (let index = 0; index < count; index++) {
      const data = { module, memory, control, index };
      if (node) {
        // A computed specifier, so browser bundlers leave this Node-only import alone.
        const specifier = ['node', 'worker_threads'].join(':');
        const { Worker } = (await import(/* @vite-ignore */ specifier)) as typeof import('node:worker_threads');
        const w = new Worker(workerSource(true), { eval: true, workerData: data });
        w.unref();
        ready.push(new Promise((resolve, reject) => { w.once('message', () => resolve()); w.once('error', reject); }));
        workers.push(w);
      } else {
        const url = URL.createObjectURL(new Blob([workerSource(false)], { type: 'text/javascript' }));
        const w = new (globalThis as unknown as { Worker: new (u: string) => Worker }).Worker(url);
        ready.push(new Promise((resolve, reject) => { w.onmessage = () => resolve(); w.onerror = (e) => reject(new Error(String(e.message))); }));
        w.postMessage(data);
        workers.push(w as unknown as AnyWorker);
      }
    }
    await Promise.all(ready);
    // A browser's main thread may not block in Atomics.wait: it spins on the counter instead.
    const canBlock = node || typeof (globalThis as { WorkerGlobalScope?: unknown }).WorkerGlobalScope !== 'undefined';
    return new ThreadPool(workers, control, !canBlock);
  }

  get size(): number {
    return this.#workers.length + 1;
  }

  /** Wraps `direct` (the calling thread's positional kernels): element-wise calls of enough elements are split across the pool. */
  wrap(direct: RawKernels): RawKernels {
    const wrapped: Record<string, unknown> = { ...direct };
    NAMES.forEach((name, id) => {
      const slicing = ELEMENTWISE[name];
      if (slicing === undefined) return;
      const fn = (direct as unknown as Record<string, (...a: number[]) => void>)[name];
      wrapped[name] = (...a: number[]) => {
        const n = a[slicing.n];
        if (n < MIN_PARALLEL_ELEMENTS) return fn(...a);
        this.#run(id, fn, a, slicing, n);
      };
    });
    return wrapped as unknown as RawKernels;
  }

  #run(id: number, fn: (...a: number[]) => void, a: number[], slicing: (typeof ELEMENTWISE)[string], n: number): void {
    const { strides, sliceStrides, granule } = slicing;
    const per = Math.ceil(n / this.size / granule) * granule; // whole vectors (int8: whole blocks) per slice
    const parts: number[][] = [];
    for (let start = 0, slice = 0; start < n; start += per, slice++) {
      const len = Math.min(per, n - start);
      parts.push(a.map((x, i) => (i === slicing.n ? len : x + strides[i] * start + sliceStrides[i] * slice)));
    }
    this.#dispatch(id, fn, parts);
  }

  /**
   * Runs `name` once per entry of `parts` (each a whole argument list), the first on the
   * calling thread and the others on workers, and returns when all are done. At most
   * {@link size} parts; the caller splits the work so that the results do not depend on how.
   */
  runParts(name: keyof typeof PART_KERNELS, fn: (...a: number[]) => void, parts: number[][]): void {
    if (parts.length > this.size) throw new RangeError(`runParts: ${parts.length} parts for ${this.size} threads`);
    this.#dispatch(NAMES.indexOf(name), fn, parts);
  }

  #dispatch(id: number, fn: (...a: number[]) => void, parts: number[][]): void {
    const ctl = this.#ctl;
    Atomics.store(ctl, 0, 0);
    const handed = parts.length - 1;
    for (let w = 0; w < handed; w++) {
      const a = parts[w + 1];
      const args = this.#args[w];
      args[0] = id;
      args[1] = a.length;
      for (let i = 0; i < a.length; i++) args[2 + i] = a[i];
      Atomics.add(ctl, 1 + w, 1);
      Atomics.notify(ctl, 1 + w);
    }
    fn(...parts[0]);
    for (let spins = 0; ; spins++) {
      const done = Atomics.load(ctl, 0);
      if (done >= handed) break;
      // The workers finish about when this thread does: spin a while before sleeping.
      if (!this.#spin && spins > 20000) Atomics.wait(ctl, 0, done, 1);
    }
  }

  /** Stops the workers. */
  stop(): void {
    this.#workers.forEach((w, i) => {
      this.#args[i][0] = EXIT;
      Atomics.add(this.#ctl, 1 + i, 1);
      Atomics.notify(this.#ctl, 1 + i);
      void w.terminate();
    });
  }
}
