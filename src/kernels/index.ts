// The kernels as the library calls them. The element-wise kernels and their JS twins are
// generated from src/kernels/defs/ (scripts/gen-kernels.ts, run by the build); the reductions
// are hand-written pairs (assembly/kernels/reduce.ts, ./reduce.ts).
import { KERNEL_NAMES, bindKernels, type Kernels, type RawKernels } from '../generated/kernels-api.js';
import * as generated from '../generated/kernels-js.js';
import { allFinite, maxAbs, sumSquares } from './reduce.js';

export { ELEMENTWISE_KERNELS, KERNEL_ABI_VERSION, KERNEL_NAMES, REDUCTION_NAMES, bindKernels } from '../generated/kernels-api.js';
export type { ElementwiseKernelInfo, Kernels, RawKernels } from '../generated/kernels-api.js';

/** The JS twins, by the name of the WASM export each mirrors (the heap first, then the export's arguments). */
export const jsTwins = { ...generated, sumSquares, maxAbs, allFinite } as const;

/** The JS twins bound to a heap getter (re-read at every call, so it survives growth), positional like the exports. */
export function bindJsRaw(heap: () => Float32Array): RawKernels {
  const bound: Record<string, unknown> = {};
  for (const name of KERNEL_NAMES) {
    const twin = jsTwins[name] as (heap: Float32Array, ...args: number[]) => number | void;
    bound[name] = (...args: number[]) => twin(heap(), ...args);
  }
  return bound as unknown as RawKernels;
}

/** The JS twins bound to a heap getter, with named arguments. */
export function bindJsKernels(heap: () => Float32Array): Kernels {
  return bindKernels(bindJsRaw(heap));
}
