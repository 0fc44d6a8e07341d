// JS twin: src/kernels/reduce.ts. Reductions for gradient clipping and non-finite checks
// (torch.nn.utils.clip_grad_norm_, torch.isfinite(...).all()), Adafactor's means and RMS values
// (torch.optim._adafactor), the cautious optimizers' mask count, and the per-tensor norms and
// global sums of LAMB, LARS (optax's scale_by_trust_ratio) and Prodigy, and L-BFGS's dot products
// (torch.dot).
//
// Hand-written pairs, not generated from src/kernels/defs/: what matters in a reduction is the
// order in which lanes combine (sumSquares keeps four f64 lane sums and adds them as
// (l0 + l1) + (l2 + l3)), which an element-wise trace does not express; a few short loops cost
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

/**
 * Sum of `n` f32 elements at byte offset `x`, in f64, in the order of {@link sumSquares}: lane
 * k (elements k, k+4, k+8, ...) accumulates in order from +0, and the result is
 * (lane0 + lane1) + (lane2 + lane3). (Adafactor's mean of the row factor.)
 */
export function sum(x: usize, n: i32): f64 {
  let a = f64x2.splat(0), b = f64x2.splat(0);
  const end = x + (<usize>(n & ~3) << 2);
  while (x < end) {
    const v = v128.load(x);
    a = f64x2.add(a, f64x2.promote_low_f32x4(v));
    b = f64x2.add(b, f64x2.promote_low_f32x4(v128.shuffle<f32>(v, v, 2, 3, 0, 1)));
    x += 16;
  }
  const lanes = n & 3;
  if (lanes != 0) {
    // Missing lanes are +0: a lane sum starts at +0 and is never -0 (x + -x is +0), so adding +0 changes nothing.
    const v = load(x, lanes);
    a = f64x2.add(a, f64x2.promote_low_f32x4(v));
    b = f64x2.add(b, f64x2.promote_low_f32x4(v128.shuffle<f32>(v, v, 2, 3, 0, 1)));
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
 * How many of `n` f32 elements at byte offset `x` are neither ±0 nor NaN (the cautious
 * optimizers' count of update elements that agree in sign with the gradient). A count, so
 * exact in any order.
 */
export function countNonzero(x: usize, n: i32): i32 {
  // Each true lane of a comparison is -1: subtracting the masks counts them.
  const zero = f32x4.splat(0);
  let acc = i32x4.splat(0);
  const end = x + (<usize>(n & ~3) << 2);
  while (x < end) {
    const v = v128.load(x);
    acc = i32x4.sub(acc, v128.and(f32x4.ne(v, zero), f32x4.eq(v, v)));
    x += 16;
  }
  const lanes = n & 3;
  if (lanes != 0) {
    const v = load(x, lanes); // missing lanes are zero: not counted
    acc = i32x4.sub(acc, v128.and(f32x4.ne(v, zero), f32x4.eq(v, v)));
  }
  return i32x4.extract_lane(acc, 0) + i32x4.extract_lane(acc, 1) + i32x4.extract_lane(acc, 2) + i32x4.extract_lane(acc, 3);
}

// ---- Reductions of LAMB, LARS and Prodigy (per-tensor norms and Prodigy's global sums) ------
// Same pattern as sumSquares: each term is exact in f64 (|x|, the square or the product of two
// f32 values), lane k accumulates elements k, k+4, k+8, ... in order, and the result is
// (lane0 + lane1) + (lane2 + lane3).

/** Lanes 0 and 1 of an f32x4, as f64. */
// @ts-ignore: decorator
@inline function lo64(v: v128): v128 {
  return f64x2.promote_low_f32x4(v);
}

/** Lanes 2 and 3 of an f32x4, as f64. */
// @ts-ignore: decorator
@inline function hi64(v: v128): v128 {
  return f64x2.promote_low_f32x4(v128.shuffle<f32>(v, v, 2, 3, 0, 1));
}

/** (lane0 + lane1) + (lane2 + lane3) of the two f64x2 lane sums. */
// @ts-ignore: decorator
@inline function lanesSum(a: v128, b: v128): f64 {
  return (f64x2.extract_lane(a, 0) + f64x2.extract_lane(a, 1)) + (f64x2.extract_lane(b, 0) + f64x2.extract_lane(b, 1));
}

/**
 * Sum of |x| of `n` f32 elements at byte offset `x`, in f64 (Prodigy's denominator,
 * `s.abs().sum()`): each |x| is exact, lanes as sumSquares.
 */
export function sumAbs(x: usize, n: i32): f64 {
  let a = f64x2.splat(0), b = f64x2.splat(0);
  const end = x + (<usize>(n & ~3) << 2);
  while (x < end) {
    const v = f32x4.abs(v128.load(x));
    a = f64x2.add(a, lo64(v));
    b = f64x2.add(b, hi64(v));
    x += 16;
  }
  const lanes = n & 3;
  if (lanes != 0) {
    const v = f32x4.abs(load(x, lanes)); // missing lanes are zero and add +0: no change
    a = f64x2.add(a, lo64(v));
    b = f64x2.add(b, hi64(v));
  }
  return lanesSum(a, b);
}

/**
 * Sum of squares, in f64, of the decayed gradient g' of `n` elements: g' = grad when
 * `weightDecay` is 0, else f32(grad + f32(weightDecay * param)), the value the element-wise
 * kernels compute (LARS's ‖g + weightDecay·p‖²). Lanes as sumSquares.
 */
export function sumSquaresDecayed(grad: usize, param: usize, n: i32, weightDecay: f32): f64 {
  let a = f64x2.splat(0), b = f64x2.splat(0);
  const w = f32x4.splat(weightDecay);
  const decayed = weightDecay != 0;
  const end = grad + (<usize>(n & ~3) << 2);
  while (grad < end) {
    let v = v128.load(grad);
    if (decayed) v = f32x4.add(v, f32x4.mul(w, v128.load(param)));
    const lo = lo64(v), hi = hi64(v);
    a = f64x2.add(a, f64x2.mul(lo, lo));
    b = f64x2.add(b, f64x2.mul(hi, hi));
    grad += 16;
    param += 16;
  }
  const lanes = n & 3;
  if (lanes != 0) {
    let v = load(grad, lanes);
    if (decayed) v = f32x4.add(v, f32x4.mul(w, load(param, lanes))); // missing lanes: 0 + w*0 = 0
    const lo = lo64(v), hi = hi64(v);
    a = f64x2.add(a, f64x2.mul(lo, lo));
    b = f64x2.add(b, f64x2.mul(hi, hi));
  }
  return lanesSum(a, b);
}

/**
 * Dot product, in f64, of the decayed gradient g' (as in sumSquaresDecayed) with
 * f32(origin - param) over `n` elements: Prodigy's `torch.dot(grad, p0 - p)`. Each product of
 * two f32 values is exact in f64; lanes as sumSquares.
 */
export function dotDecayedDelta(grad: usize, param: usize, origin: usize, n: i32, weightDecay: f32): f64 {
  let a = f64x2.splat(0), b = f64x2.splat(0);
  const w = f32x4.splat(weightDecay);
  const decayed = weightDecay != 0;
  const end = grad + (<usize>(n & ~3) << 2);
  while (grad < end) {
    const p = v128.load(param);
    let g = v128.load(grad);
    if (decayed) g = f32x4.add(g, f32x4.mul(w, p));
    const delta = f32x4.sub(v128.load(origin), p);
    a = f64x2.add(a, f64x2.mul(lo64(g), lo64(delta)));
    b = f64x2.add(b, f64x2.mul(hi64(g), hi64(delta)));
    grad += 16;
    param += 16;
    origin += 16;
  }
  const lanes = n & 3;
  if (lanes != 0) {
    const p = load(param, lanes);
    let g = load(grad, lanes);
    if (decayed) g = f32x4.add(g, f32x4.mul(w, p));
    const delta = f32x4.sub(load(origin, lanes), p); // missing lanes: 0 * 0 = 0
    a = f64x2.add(a, f64x2.mul(lo64(g), lo64(delta)));
    b = f64x2.add(b, f64x2.mul(hi64(g), hi64(delta)));
  }
  return lanesSum(a, b);
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
