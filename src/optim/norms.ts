// Per-tensor reductions of the layer-wise optimizers (LAMB, LARS) and Prodigy's sums: float64,
// in the kernels, over fixed chunks in a fixed order, so both backends and every thread count
// give the same bits (reductions run on the calling thread).
import { NORM_CHUNK } from '../clip.js';

/**
 * A float64 reduction over the `n` elements of one tensor, taken chunk by chunk as
 * {@link gradNorm} takes it ({@link NORM_CHUNK} elements from the tensor's first one), the
 * chunks' partial sums added in order: `part(byteOffset, count)` reduces one chunk in a kernel.
 * @internal
 */
export function tensorSum(n: number, part: (byteOffset: number, count: number) => number): number {
  let sum = 0;
  for (let i = 0; i < n; i += NORM_CHUNK) sum += part(4 * i, Math.min(NORM_CHUNK, n - i));
  return sum;
}

/**
 * optax's trust ratio (`transform.scale_by_trust_ratio`, min_norm 0):
 * `trustCoefficient * paramNorm / (updateNorm + eps)`, and 1 where either norm is 0 (a
 * parameter or update of zeros would otherwise never move, or divide by zero). A NaN norm
 * gives NaN, as in optax. @internal
 */
export function trustRatio(paramNorm: number, updateNorm: number, trustCoefficient: number, eps: number): number {
  if (paramNorm === 0 || updateNorm === 0) return 1;
  return (trustCoefficient * paramNorm) / (updateNorm + eps);
}
