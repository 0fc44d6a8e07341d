// The kernels as the library calls them. The element-wise kernels and their JS twins are
// generated from src/kernels/defs/ (scripts/gen-kernels.ts, run by the build); the reductions,
// the matrix multiply and Adafactor's factored kernels are hand-written pairs
// (assembly/kernels/reduce.ts, ./reduce.ts; assembly/kernels/gemm.ts, ./gemm.ts;
// assembly/kernels/factored.ts, ./factored.ts).
import { KERNEL_NAMES, bindKernels, type Kernels, type RawKernels } from '../generated/kernels-api.js';
import * as generated from '../generated/kernels-js.js';
import type { TwinMemory } from '../generated/kernels-js.js';
import { allFinite, countNonzero, dot, dotDecayedDelta, maxAbs, sum, sumAbs, sumSquares, sumSquaresDecayed } from './reduce.js';
import { gemm, gemmPack } from './gemm.js';
import { adafactorUpdate, colMeanSquares, rowMeanSquares } from './factored.js';

export { ELEMENTWISE_KERNELS, KERNEL_ABI_VERSION, KERNEL_NAMES, REDUCTION_NAMES, STATE_RANGES, bindKernels } from '../generated/kernels-api.js';
export type { ElementwiseKernelInfo, Kernels, RawKernels } from '../generated/kernels-api.js';

/** The JS twins of the element-wise and matrix kernels (over a {@link TwinMemory}) and of the reductions (over one heap). */
export const jsTwins = { ...generated, gemmPack, gemm, rowMeanSquares, colMeanSquares, adafactorUpdate, sumSquares, sum, maxAbs, allFinite, countNonzero, sumAbs, sumSquaresDecayed, dotDecayedDelta, dot } as const;

/** Twins that take the memory first, like the generated ones. */
const OVER_MEMORY: Record<string, unknown> = { ...generated, gemmPack, gemm, rowMeanSquares, colMeanSquares, adafactorUpdate };

export type { TwinMemory } from '../generated/kernels-js.js';

/** Reductions over one array: `(heap, x, n)`. */
const REDUCTIONS = { sumSquares, sum, maxAbs, allFinite, countNonzero, sumAbs } as const;

/**
 * The JS twins bound to a memory (which finds the heap holding each address), positional like
 * the exports. A reduction's range lies in one heap, as every array does (dot's two ranges
 * each in one).
 */
export function bindJsRaw(mem: TwinMemory): RawKernels {
  const bound: Record<string, unknown> = {};
  for (const name of KERNEL_NAMES) {
    if (name === 'dot') {
      bound[name] = (x: number, y: number, n: number) => dot(mem.view(x, n), mem.view(y, n), n);
    } else if (name in REDUCTIONS) {
      const twin = REDUCTIONS[name as keyof typeof REDUCTIONS];
      bound[name] = (x: number, n: number) => twin(mem.view(x, n), 0, n);
    } else if (name === 'sumSquaresDecayed') {
      bound[name] = (g: number, p: number, n: number, w: number) => sumSquaresDecayed(mem.view(g, n), mem.view(p, n), n, w);
    } else if (name === 'dotDecayedDelta') {
      bound[name] = (g: number, p: number, o: number, n: number, w: number) => dotDecayedDelta(mem.view(g, n), mem.view(p, n), mem.view(o, n), n, w);
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
