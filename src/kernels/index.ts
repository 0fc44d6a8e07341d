import { adadelta } from './adadelta.js';
import { adagrad } from './adagrad.js';
import { adam } from './adam.js';
import { adamax } from './adamax.js';
import { copy } from './copy.js';
import { lion } from './lion.js';
import { allFinite, clamp, maxAbs, sumSquares } from './reduce.js';
import { rmsprop } from './rmsprop.js';
import { scale } from './scale.js';
import { sgd } from './sgd.js';

/** The JS twins, by the name of the WASM export each mirrors. */
export const jsTwins = { sgd, adam, adagrad, rmsprop, adamax, adadelta, lion, copy, scale, sumSquares, maxAbs, allFinite, clamp } as const;

type Twins = typeof jsTwins;

/** Drops the leading `heap` argument of a JS twin: the signature of the matching WASM export. */
type Bound<F> = F extends (heap: Float32Array, ...args: infer A) => infer R ? (...args: A) => R : never;

/**
 * The kernel functions of a backend, with the WASM exports' signatures (byte offsets into
 * the arena, element counts, float32 scalars, flag bits).
 */
export type Kernels = { readonly [K in keyof Twins]: Bound<Twins[K]> };

/** Names of the kernel exports. */
export const KERNEL_NAMES = Object.keys(jsTwins) as (keyof Twins)[];

/** Binds the JS twins to a heap getter (re-read at every call, so it survives growth). */
export function bindJsKernels(heap: () => Float32Array): Kernels {
  const bound: Record<string, unknown> = {};
  for (const name of KERNEL_NAMES) {
    const twin = jsTwins[name] as (heap: Float32Array, ...args: number[]) => number | void;
    bound[name] = (...args: number[]) => twin(heap(), ...args);
  }
  return bound as Kernels;
}
