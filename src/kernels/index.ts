import { adam } from './adam.js';
import { copy } from './copy.js';
import { scale } from './scale.js';
import { sgd } from './sgd.js';

/** Drops the leading `heap` argument of a JS twin: the signature of the matching WASM export. */
type Bound<F> = F extends (heap: Float32Array, ...args: infer A) => void ? (...args: A) => void : never;

/**
 * The kernel functions of a backend, with the WASM exports' signatures (byte offsets into
 * the arena, element counts, float32 scalars, flag bits).
 */
export interface Kernels {
  sgd: Bound<typeof sgd>;
  adam: Bound<typeof adam>;
  copy: Bound<typeof copy>;
  scale: Bound<typeof scale>;
}

/** The JS twins, by export name. */
export const jsTwins = { sgd, adam, copy, scale } as const;

/** Binds the JS twins to a heap getter (re-read at every call, so it survives growth). */
export function bindJsKernels(heap: () => Float32Array): Kernels {
  return {
    sgd: (...a) => sgd(heap(), ...a),
    adam: (...a) => adam(heap(), ...a),
    copy: (...a) => copy(heap(), ...a),
    scale: (...a) => scale(heap(), ...a),
  };
}
