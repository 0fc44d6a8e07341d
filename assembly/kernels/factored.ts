// JS twin: src/kernels/factored.ts. Adafactor's factored second moment over a rows × cols
// matrix (the last two dimensions of a parameter), as torch.optim._adafactor's
// _single_tensor_adafactor computes it (PyTorch 2.5+):
//
//   row_mean = grad.square().mean(dim=-1)           rowMeanSquares
//   col_mean = grad.square().mean(dim=-2)           colMeanSquares
//   update   = grad * rsqrt(clamp_min((row_var @ col_var) / row_mean_of_row_var, eps1²))
//                                                   adafactorUpdate
//
// Hand-written pairs, like the reductions (assembly/kernels/reduce.ts): their contract is an
// order of operations across a matrix (a float64 sum per row or per column, in a fixed order),
// which an element-wise trace does not express. Every output element is computed whole by one
// call in that order, so splitting rows (or, for the column means, columns) across threads
// never changes a bit. Signatures are declared in src/kernels/defs/index.ts (MATRIX_KERNELS).
import { load as loadLanes, signMask, store as storeLanes } from "../common";
import { sumSquares } from "./reduce";

/**
 * out[i] = f32(Σ_j x[i][j]² / cols) for the `rows` contiguous rows of `cols` f32 at `x`: each
 * row's sum of squares is {@link sumSquares} of that row (float64, four lane sums from the
 * row's first element, combined as (l0 + l1) + (l2 + l3)), divided by cols in float64 and
 * rounded once to f32. PyTorch computes the mean in float32 (a norm, squared, divided).
 */
export function rowMeanSquares(x: usize, rows: i32, cols: i32, out: usize): void {
  const rowBytes = <usize>cols << 2;
  const n = <f64>cols;
  for (let i = 0; i < rows; i++) {
    store<f32>(out, <f32>(sumSquares(x, cols) / n));
    x += rowBytes;
    out += 4;
  }
}

/** acc + lo(v)², acc + hi(v)²: the squares of the low and high f32 lanes of v, exact in f64. */
// @ts-ignore: decorator
@inline function squareLo(acc: v128, v: v128): v128 {
  const d = f64x2.promote_low_f32x4(v);
  return f64x2.add(acc, f64x2.mul(d, d));
}

// @ts-ignore: decorator
@inline function squareHi(acc: v128, v: v128): v128 {
  const d = f64x2.promote_low_f32x4(v128.shuffle<f32>(v, v, 2, 3, 0, 1));
  return f64x2.add(acc, f64x2.mul(d, d));
}

/** Stores f32(lo / n) and f32(hi / n) lane by lane: four means at `out`, the first `lanes` of them. */
// @ts-ignore: decorator
@inline function storeMeans(out: usize, lo: v128, hi: v128, n: f64, lanes: i32): void {
  store<f32>(out, <f32>(f64x2.extract_lane(lo, 0) / n));
  if (lanes > 1) store<f32>(out, <f32>(f64x2.extract_lane(lo, 1) / n), 4);
  if (lanes > 2) store<f32>(out, <f32>(f64x2.extract_lane(hi, 0) / n), 8);
  if (lanes > 3) store<f32>(out, <f32>(f64x2.extract_lane(hi, 1) / n), 12);
}

/**
 * out[j] = f32(Σ_i x[i][j]² / rows) for `cols` columns of a matrix at `x` whose rows are `ld`
 * f32 apart: each column's squares are summed in float64 from +0 in row order (i = 0, 1, ...),
 * divided by rows in float64 and rounded once to f32. Columns run 16 (then 4, then the rest) at
 * a time, one f64 lane each, so a row is read a cache line at a time.
 */
export function colMeanSquares(x: usize, rows: i32, cols: i32, ld: i32, out: usize): void {
  const stride = <usize>ld << 2;
  const n = <f64>rows;
  let j = 0;
  for (; j + 16 <= cols; j += 16) {
    let a0 = f64x2.splat(0), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0;
    let p = x + (<usize>j << 2);
    for (let i = 0; i < rows; i++) {
      const v0 = v128.load(p), v1 = v128.load(p, 16), v2 = v128.load(p, 32), v3 = v128.load(p, 48);
      a0 = squareLo(a0, v0); a1 = squareHi(a1, v0);
      a2 = squareLo(a2, v1); a3 = squareHi(a3, v1);
      a4 = squareLo(a4, v2); a5 = squareHi(a5, v2);
      a6 = squareLo(a6, v3); a7 = squareHi(a7, v3);
      p += stride;
    }
    const o = out + (<usize>j << 2);
    storeMeans(o, a0, a1, n, 4);
    storeMeans(o + 16, a2, a3, n, 4);
    storeMeans(o + 32, a4, a5, n, 4);
    storeMeans(o + 48, a6, a7, n, 4);
  }
  for (; j < cols; j += 4) {
    const lanes = min(4, cols - j);
    let a = f64x2.splat(0), b = a;
    let p = x + (<usize>j << 2);
    for (let i = 0; i < rows; i++) {
      const v = loadLanes(p, lanes);
      a = squareLo(a, v);
      b = squareHi(b, v);
      p += stride;
    }
    storeMeans(out + (<usize>j << 2), a, b, n, lanes);
  }
}

/** grad·rsqrt(max(r·c / rowMean, eps1Sq)) of one f32x4, the gradient's sign flipped by `sign`. */
// @ts-ignore: decorator
@inline function factored(r: v128, c: v128, g: v128, rowMean: v128, eps1Sq: v128, one: v128, sign: v128): v128 {
  const v = f32x4.max(f32x4.div(f32x4.mul(r, c), rowMean), eps1Sq);
  return f32x4.mul(f32x4.div(one, f32x4.sqrt(v)), v128.xor(g, sign));
}

/**
 * Adafactor's update of a rows × cols matrix from its factors: for each element
 * update[i][j] = f32(f32(1 / f32(sqrt(max(f32(f32(row[i]·col[j]) / rowMean), eps1Sq)))) · g)
 * with g = grad[i][j], or -grad[i][j] when `negate` is nonzero (maximize). `grad` and `update`
 * are row-major with rows of `cols` f32; `row` holds rows values, `col` cols values.
 */
export function adafactorUpdate(row: usize, col: usize, grad: usize, update: usize, rows: i32, cols: i32, rowMean: f32, eps1Sq: f32, negate: i32): void {
  const rm = f32x4.splat(rowMean), e = f32x4.splat(eps1Sq), one = f32x4.splat(1), sign = signMask(negate != 0);
  const full = <usize>(cols & ~3) << 2;
  const lanes = cols & 3;
  const rowBytes = <usize>cols << 2;
  for (let i = 0; i < rows; i++) {
    const r = f32x4.splat(load<f32>(row));
    let o: usize = 0;
    for (; o < full; o += 16) {
      v128.store(update + o, factored(r, v128.load(col + o), v128.load(grad + o), rm, e, one, sign));
    }
    if (lanes != 0) storeLanes(update + o, factored(r, loadLanes(col + o, lanes), loadLanes(grad + o, lanes), rm, e, one, sign), lanes);
    row += 4;
    grad += rowBytes;
    update += rowBytes;
  }
}
