// JS twin: src/kernels/reduce.ts. Reductions for gradient clipping and non-finite checks
// (torch.nn.utils.clip_grad_norm_, torch.isfinite(...).all()) and for L-BFGS (torch.dot,
// Tensor.abs().sum()).
//
// Hand-written pairs, not generated from src/kernels/defs/: what matters in a reduction is the
// order in which lanes combine (sumSquares, sumAbs and dot keep four f64 lane sums and add them
// as (l0 + l1) + (l2 + l3)), which an element-wise trace does not express; short loops cost
// less to keep by hand than a second DSL would. Their signatures are declared in
// src/kernels/defs/index.ts (REDUCTIONS) for docs/ABI.md and the typed wrappers.
import { load } from "../common";

/**
 * Sum of squares of `n` f32 elements at byte offset `x`, in f64: each square is exact in
 * f64, lane k (elements k, k+4, k+8, ...) accumulates in order, and the result is
 * (lane0 + lane1) + (lane2 + lane3). The JS twin keeps the same four sums, so both give the
 * same bits.
 */
export function sumSquares(x: usize, n: i32): f64 {
  let a = f64x2.splat(0), b = f64x2.splat(0);
  const end = x + (<usize>(n & ~3) << 2);
  while (x < end) {
    const v = v128.load(x);
    const lo = f64x2.promote_low_f32x4(v);
    const hi = f64x2.promote_low_f32x4(v128.shuffle<f32>(v, v, 2, 3, 0, 1));
    a = f64x2.add(a, f64x2.mul(lo, lo));
    b = f64x2.add(b, f64x2.mul(hi, hi));
    x += 16;
  }
  const lanes = n & 3;
  if (lanes != 0) {
    const v = load(x, lanes); // missing lanes are zero and add +0: no change
    const lo = f64x2.promote_low_f32x4(v);
    const hi = f64x2.promote_low_f32x4(v128.shuffle<f32>(v, v, 2, 3, 0, 1));
    a = f64x2.add(a, f64x2.mul(lo, lo));
    b = f64x2.add(b, f64x2.mul(hi, hi));
  }
  return (f64x2.extract_lane(a, 0) + f64x2.extract_lane(a, 1)) + (f64x2.extract_lane(b, 0) + f64x2.extract_lane(b, 1));
}

/** Largest |x| over `n` f32 elements at byte offset `x` (NaN if any is NaN; 0 for n = 0). */
export function maxAbs(x: usize, n: i32): f32 {
  let m = f32x4.splat(0);
  const end = x + (<usize>(n & ~3) << 2);
  while (x < end) {
    m = f32x4.max(m, f32x4.abs(v128.load(x)));
    x += 16;
  }
  const lanes = n & 3;
  if (lanes != 0) m = f32x4.max(m, f32x4.abs(load(x, lanes)));
  return max(max(f32x4.extract_lane(m, 0), f32x4.extract_lane(m, 1)), max(f32x4.extract_lane(m, 2), f32x4.extract_lane(m, 3)));
}

/** 1 when all `n` f32 elements at byte offset `x` are finite, 0 when any is infinite or NaN. */
export function allFinite(x: usize, n: i32): i32 {
  // x*0 is ±0 for a finite x and NaN for ±Inf or NaN; the sum stays NaN once it is.
  const zero = f32x4.splat(0);
  let acc = zero;
  const end = x + (<usize>(n & ~3) << 2);
  while (x < end) {
    acc = f32x4.add(acc, f32x4.mul(v128.load(x), zero));
    x += 16;
  }
  const lanes = n & 3;
  if (lanes != 0) acc = f32x4.add(acc, f32x4.mul(load(x, lanes), zero));
  return i32(i32x4.all_true(f32x4.eq(acc, acc)));
}

/**
 * Sum of |x| over `n` f32 elements at byte offset `x`, in f64, in the lane order of
 * {@link sumSquares}: lane k (elements k, k+4, ...) accumulates in order, and the result is
 * (lane0 + lane1) + (lane2 + lane3). NaN if any element is NaN.
 */
export function sumAbs(x: usize, n: i32): f64 {
  let a = f64x2.splat(0), b = f64x2.splat(0);
  const end = x + (<usize>(n & ~3) << 2);
  while (x < end) {
    const v = f32x4.abs(v128.load(x));
    a = f64x2.add(a, f64x2.promote_low_f32x4(v));
    b = f64x2.add(b, f64x2.promote_low_f32x4(v128.shuffle<f32>(v, v, 2, 3, 0, 1)));
    x += 16;
  }
  const lanes = n & 3;
  if (lanes != 0) {
    const v = f32x4.abs(load(x, lanes)); // missing lanes are zero and add +0: no change
    a = f64x2.add(a, f64x2.promote_low_f32x4(v));
    b = f64x2.add(b, f64x2.promote_low_f32x4(v128.shuffle<f32>(v, v, 2, 3, 0, 1)));
  }
  return (f64x2.extract_lane(a, 0) + f64x2.extract_lane(a, 1)) + (f64x2.extract_lane(b, 0) + f64x2.extract_lane(b, 1));
}

/**
 * Dot product of `n` f32 elements at byte offsets `x` and `y`, in f64: each product of two
 * f32 values is exact in f64, lane k (elements k, k+4, ...) accumulates in order from +0, and
 * the result is (lane0 + lane1) + (lane2 + lane3). A lane sum starts at +0 and so is never -0:
 * the zero lanes of a partial last vector add +0 and change nothing, as the JS twin, which
 * skips them, assumes.
 */
export function dot(x: usize, y: usize, n: i32): f64 {
  let a = f64x2.splat(0), b = f64x2.splat(0);
  const end = x + (<usize>(n & ~3) << 2);
  while (x < end) {
    const u = v128.load(x), v = v128.load(y);
    a = f64x2.add(a, f64x2.mul(f64x2.promote_low_f32x4(u), f64x2.promote_low_f32x4(v)));
    b = f64x2.add(b, f64x2.mul(f64x2.promote_low_f32x4(v128.shuffle<f32>(u, u, 2, 3, 0, 1)), f64x2.promote_low_f32x4(v128.shuffle<f32>(v, v, 2, 3, 0, 1))));
    x += 16;
    y += 16;
  }
  const lanes = n & 3;
  if (lanes != 0) {
    const u = load(x, lanes), v = load(y, lanes);
    a = f64x2.add(a, f64x2.mul(f64x2.promote_low_f32x4(u), f64x2.promote_low_f32x4(v)));
    b = f64x2.add(b, f64x2.mul(f64x2.promote_low_f32x4(v128.shuffle<f32>(u, u, 2, 3, 0, 1)), f64x2.promote_low_f32x4(v128.shuffle<f32>(v, v, 2, 3, 0, 1))));
  }
  return (f64x2.extract_lane(a, 0) + f64x2.extract_lane(a, 1)) + (f64x2.extract_lane(b, 0) + f64x2.extract_lane(b, 1));
}
