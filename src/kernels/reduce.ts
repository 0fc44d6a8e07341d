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

/** Sum in float64, four lane sums combined as (s0 + s1) + (s2 + s3), as {@link sumSquares}; see the SIMD kernel. */
export function sum(heap: Float32Array, x: number, n: number): number {
  const ix = x >>> 2;
  let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    s0 += heap[ix + i]; s1 += heap[ix + i + 1]; s2 += heap[ix + i + 2]; s3 += heap[ix + i + 3];
  }
  if (i < n) s0 += heap[ix + i];
  if (i + 1 < n) s1 += heap[ix + i + 1];
  if (i + 2 < n) s2 += heap[ix + i + 2];
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

/** How many elements are neither ±0 nor NaN (an exact count). */
export function countNonzero(heap: Float32Array, x: number, n: number): number {
  const ix = x >>> 2;
  let count = 0;
  for (let i = 0; i < n; i++) {
    const v = heap[ix + i];
    if (v !== 0 && v === v) count++;
  }
  return count;
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

// The reductions over several arrays take a view of each (the arrays may lie in different
// heaps of the js backend's arena), each starting at the first element.

/** The decayed gradient as the kernels compute it: grad, or f32(grad + f32(weightDecay * param)). */
function decayed(grad: Float32Array, param: Float32Array, i: number, w: number): number {
  return w === 0 ? grad[i] : Math.fround(grad[i] + Math.fround(w * param[i]));
}

/** Sum of squares of the decayed gradient (see the SIMD kernel), lanes as {@link sumSquares}. */
export function sumSquaresDecayed(grad: Float32Array, param: Float32Array, n: number, weightDecay: number): number {
  const w = Math.fround(weightDecay); // an f32 argument at the ABI
  const s = [0, 0, 0, 0];
  for (let i = 0; i < n; i++) {
    const g = decayed(grad, param, i, w);
    s[i & 3] += g * g; // exact product of float32 values
  }
  return (s[0] + s[1]) + (s[2] + s[3]);
}

/** Dot product of the decayed gradient with f32(origin - param) (see the SIMD kernel), lanes as {@link sumSquares}. */
export function dotDecayedDelta(grad: Float32Array, param: Float32Array, origin: Float32Array, n: number, weightDecay: number): number {
  const w = Math.fround(weightDecay);
  const s = [0, 0, 0, 0];
  for (let i = 0; i < n; i++) {
    s[i & 3] += decayed(grad, param, i, w) * Math.fround(origin[i] - param[i]); // exact product of float32 values
  }
  return (s[0] + s[1]) + (s[2] + s[3]);
}

/**
 * Dot product in float64 of n elements of `x` and `y` (views, each from its first element),
 * four lane sums combined as (s0 + s1) + (s2 + s3); see the SIMD kernel. Each product of two
 * float32 values is exact in float64.
 */
export function dot(x: Float32Array, y: Float32Array, n: number): number {
  const s = [0, 0, 0, 0];
  for (let i = 0; i < n; i++) s[i & 3] += x[i] * y[i];
  return (s[0] + s[1]) + (s[2] + s[3]);
}
