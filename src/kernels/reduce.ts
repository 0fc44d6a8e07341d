// JS twin of assembly/kernels/reduce.ts: the same operations in the same order. Hand-written,
// like the SIMD reductions (see there why); the element-wise kernels are generated.

/** Sum of squares in float64, four lane sums combined as (s0 + s1) + (s2 + s3); see the SIMD kernel. */
export function sumSquares(heap: Float32Array, x: number, n: number): number {
  const ix = x >>> 2;
  let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const a = heap[ix + i], b = heap[ix + i + 1], c = heap[ix + i + 2], d = heap[ix + i + 3];
    s0 += a * a; s1 += b * b; s2 += c * c; s3 += d * d; // exact products of float32 values
  }
  if (i < n) { const a = heap[ix + i]; s0 += a * a; }
  if (i + 1 < n) { const b = heap[ix + i + 1]; s1 += b * b; }
  if (i + 2 < n) { const c = heap[ix + i + 2]; s2 += c * c; }
  return (s0 + s1) + (s2 + s3);
}

/** Sum of |x| in float64, four lane sums combined as (s0 + s1) + (s2 + s3); see the SIMD kernel. */
export function sumAbs(heap: Float32Array, x: number, n: number): number {
  const ix = x >>> 2;
  let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    s0 += Math.abs(heap[ix + i]); s1 += Math.abs(heap[ix + i + 1]); s2 += Math.abs(heap[ix + i + 2]); s3 += Math.abs(heap[ix + i + 3]);
  }
  if (i < n) s0 += Math.abs(heap[ix + i]);
  if (i + 1 < n) s1 += Math.abs(heap[ix + i + 1]);
  if (i + 2 < n) s2 += Math.abs(heap[ix + i + 2]);
  return (s0 + s1) + (s2 + s3);
}

/**
 * Dot product in float64 of n elements at `x` (in `xHeap`) and `y` (in `yHeap`), four lane
 * sums combined as (s0 + s1) + (s2 + s3); see the SIMD kernel. Each product of two float32
 * values is exact in float64.
 */
export function dot(xHeap: Float32Array, x: number, yHeap: Float32Array, y: number, n: number): number {
  const ix = x >>> 2, iy = y >>> 2;
  let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    s0 += xHeap[ix + i] * yHeap[iy + i]; s1 += xHeap[ix + i + 1] * yHeap[iy + i + 1];
    s2 += xHeap[ix + i + 2] * yHeap[iy + i + 2]; s3 += xHeap[ix + i + 3] * yHeap[iy + i + 3];
  }
  if (i < n) s0 += xHeap[ix + i] * yHeap[iy + i];
  if (i + 1 < n) s1 += xHeap[ix + i + 1] * yHeap[iy + i + 1];
  if (i + 2 < n) s2 += xHeap[ix + i + 2] * yHeap[iy + i + 2];
  return (s0 + s1) + (s2 + s3);
}

/** Largest |x| (NaN if any is NaN; 0 for n = 0). */
export function maxAbs(heap: Float32Array, x: number, n: number): number {
  const ix = x >>> 2;
  let m = 0;
  for (let i = 0; i < n; i++) m = Math.max(m, Math.abs(heap[ix + i]));
  return m;
}

/** 1 when every element is finite, else 0. */
export function allFinite(heap: Float32Array, x: number, n: number): number {
  const ix = x >>> 2;
  for (let i = 0; i < n; i++) {
    const v = heap[ix + i];
    if (v - v !== 0) return 0; // Inf - Inf and NaN - NaN are NaN
  }
  return 1;
}
