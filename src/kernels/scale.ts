// JS twin of assembly/kernels/scale.ts.

const fround = Math.fround;

/** Multiplies `n` float32 elements of `heap` at byte offset `x` by `factor`, in place. */
export function scale(heap: Float32Array, x: number, n: number, factor: number): void {
  const ix = x >>> 2;
  factor = fround(factor);
  for (let i = 0; i < n; i++) heap[ix + i] = fround(heap[ix + i] * factor);
}
