// The kernels as the library calls them. The element-wise kernels and their JS twins are
// generated from src/kernels/defs/ (scripts/gen-kernels.ts, run by the build); the reductions
// and the matrix multiply are hand-written pairs (assembly/kernels/reduce.ts, ./reduce.ts;
// assembly/kernels/gemm.ts, ./gemm.ts).
import { KERNEL_NAMES, bindKernels, type Kernels, type RawKernels } from '../generated/kernels-api.js';
import * as generated from '../generated/kernels-js.js';
import type { TwinMemory } from '../generated/kernels-js.js';
import { allFinite, dot, maxAbs, sumAbs, sumSquares } from './reduce.js';
import { gemm, gemmPack } from './gemm.js';

export { ELEMENTWISE_KERNELS, KERNEL_ABI_VERSION, KERNEL_NAMES, REDUCTION_NAMES, STATE_RANGES, bindKernels } from '../generated/kernels-api.js';
export type { ElementwiseKernelInfo, Kernels, RawKernels } from '../generated/kernels-api.js';

/** The JS twins of the element-wise kernels and the matrix multiply (over a {@link TwinMemory}) and of the reductions (over one heap). */
export const jsTwins = { ...generated, gemmPack, gemm, sumSquares, maxAbs, allFinite, sumAbs, dot } as const;

/** Twins that take the memory first, like the generated ones. */
const OVER_MEMORY: Record<string, unknown> = { ...generated, gemmPack, gemm };

export type { TwinMemory } from '../generated/kernels-js.js';

const REDUCTIONS = { sumSquares, maxAbs, allFinite, sumAbs } as const;

/**
 * The JS twins bound to a memory (which finds the heap holding each address), positional like
 * the exports. A reduction's range lies in one heap, as every array does (dot's two ranges
 * each in one).
 */
export function bindJsRaw(mem: TwinMemory): RawKernels {
  const bound: Record<string, unknown> = {};
  for (const name of KERNEL_NAMES) {
    if (name === 'dot') {
      bound[name] = (x: number, y: number, n: number) => dot(mem.view(x, n), 0, mem.view(y, n), 0, n);
    } else if (name in REDUCTIONS) {
      const twin = REDUCTIONS[name as keyof typeof REDUCTIONS];
      bound[name] = (x: number, n: number) => twin(mem.view(x, n), 0, n);
    } else {
      const twin = OVER_MEMORY[name] as (mem: TwinMemory, ...args: number[]) => void;
      bound[name] = (...args: number[]) => twin(mem, ...args);
    }
  }
  return bound as unknown as RawKernels;
}

/** The JS twins bound to a memory, with named arguments. */
export function bindJsKernels(mem: TwinMemory): Kernels {
  return bindKernels(bindJsRaw(mem));
}
