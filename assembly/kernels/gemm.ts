// JS twin: src/kernels/gemm.ts. A float32 matrix multiply, C = alpha·op(A)·op(B) + beta·C, with
// the same bits as its twin on every input.
//
// The order of operations is the contract. Every element of C is
//   acc = 0; for kk = 0 .. k-1: acc = f32(acc + f32(A[i][kk] * B[kk][j]))
//   C[i][j] = beta == 0 ? f32(alpha * acc) : f32(f32(alpha * acc) + f32(beta * C[i][j]))
// a sequential sum over kk in float32, a product then a sum (no fused multiply-add). The SIMD
// kernel keeps that order by vectorising across columns: one f32x4 lane per element of C, each
// lane accumulating its own kk = 0, 1, 2, ... in turn, so tiling rows and columns (and splitting
// them across threads) never changes a result. With beta == 0, C is not read (as BLAS: NaN in
// an uninitialised C does not leak in).
//
// Layout: B is first packed (gemmPack) into panels of 8 columns, panel p holding for each kk
// the 8 values op(B)[kk][8p .. 8p+7] (zero past n), so the kernel streams a panel with two
// aligned loads per kk. A is read in place through two strides (elements): op(A)[i][kk] is at
// a + 4·(i·aRowStride + kk·aColStride), so op(A) = Aᵀ costs nothing. The kernel computes
// 6×8 tiles of C (12 f32x4 accumulators, two for B, one for a broadcast A value: 15 of the 16
// SIMD registers an x86-64 engine has), rows in blocks of ROW_BLOCK so a block of A stays in
// the L2 cache while every panel of B streams past it.

/** Rows of C per block: a block of A (ROW_BLOCK × k floats) is reused across all panels of B. */
const ROW_BLOCK = 48;

/**
 * Packs op(B), k×n with element (kk, j) at `b + 4·(kk·rowStride + j·colStride)`, into
 * ceil(n / 8) panels of k×8 floats at `packed` (16-byte aligned), zero past column n.
 */
export function gemmPack(b: usize, rowStride: i32, colStride: i32, k: i32, n: i32, packed: usize): void {
  const rs = <usize>rowStride << 2, cs = <usize>colStride << 2;
  for (let j0 = 0; j0 < n; j0 += 8) {
    const w = min(8, n - j0);
    let src = b + <usize>j0 * cs;
    if (w == 8 && colStride == 1) {
      for (let kk = 0; kk < k; kk++) {
        v128.store(packed, v128.load(src));
        v128.store(packed, v128.load(src, 16), 16);
        src += rs;
        packed += 32;
      }
    } else {
      for (let kk = 0; kk < k; kk++) {
        let s = src;
        for (let jj = 0; jj < 8; jj++) {
          store<f32>(packed + (<usize>jj << 2), jj < w ? load<f32>(s) : 0);
          s += cs;
        }
        src += rs;
        packed += 32;
      }
    }
  }
}

/** Stores the first `w` (0..4) lanes of `v` at `p`. */
// @ts-ignore: decorator
@inline function storeLanes(p: usize, v: v128, w: i32): void {
  if (w >= 4) {
    v128.store(p, v);
    return;
  }
  if (w > 0) v128.store32_lane(p, v, 0);
  if (w > 1) v128.store32_lane(p + 4, v, 1);
  if (w > 2) v128.store32_lane(p + 8, v, 2);
}

/** Loads the first `w` (0..4) lanes at `p`, the others zero (only what is stored is read). */
// @ts-ignore: decorator
@inline function loadLanes(p: usize, w: i32): v128 {
  if (w >= 4) return v128.load(p);
  let v = f32x4.splat(0);
  if (w > 0) v = v128.load32_lane(p, v, 0);
  if (w > 1) v = v128.load32_lane(p + 4, v, 1);
  if (w > 2) v = v128.load32_lane(p + 8, v, 2);
  return v;
}

/** alpha·acc (+ beta·c): the epilogue of one f32x4 of C, stored in its first `w` lanes. */
// @ts-ignore: decorator
@inline function finish(p: usize, acc: v128, alpha: v128, beta: v128, useBeta: bool, w: i32): void {
  let r = f32x4.mul(alpha, acc);
  if (useBeta) r = f32x4.add(r, f32x4.mul(beta, loadLanes(p, w)));
  storeLanes(p, r, w);
}

/** One row of C (8 columns of a panel), `w` of them stored. */
// @ts-ignore: decorator
@inline function finishRow(p: usize, lo: v128, hi: v128, alpha: v128, beta: v128, useBeta: bool, w: i32): void {
  finish(p, lo, alpha, beta, useBeta, min(w, 4));
  finish(p + 16, hi, alpha, beta, useBeta, w - 4);
}

/** A 6×8 tile of C at `c` (row stride `ldc` bytes) from 6 rows of op(A) at `a` and a panel at `bp`. */
function tile6(a: usize, rs: usize, cs: usize, bp: usize, c: usize, ldc: usize, k: i32, w: i32, alpha: v128, beta: v128, useBeta: bool): void {
  let c00 = f32x4.splat(0), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00;
  let c30 = c00, c31 = c00, c40 = c00, c41 = c00, c50 = c00, c51 = c00;
  let a0 = a;
  const end = bp + (<usize>k << 5);
  if (cs == 4) {
    // Contiguous rows of A: four kk at once per row, one load and four lane broadcasts
    // (written out four times: a shuffle's lanes must be constants).
    const end4 = bp + (<usize>(k & ~3) << 5);
    while (bp < end4) {
      const r0 = v128.load(a0), r1 = v128.load(a0 + rs), r2 = v128.load(a0 + 2 * rs);
      const r3 = v128.load(a0 + 3 * rs), r4 = v128.load(a0 + 4 * rs), r5 = v128.load(a0 + 5 * rs);
      {
        const b0 = v128.load(bp, 0), b1 = v128.load(bp, 0 + 16);
        let x = i32x4.shuffle(r0, r0, 0, 0, 0, 0);
        c00 = f32x4.add(c00, f32x4.mul(x, b0)); c01 = f32x4.add(c01, f32x4.mul(x, b1));
        x = i32x4.shuffle(r1, r1, 0, 0, 0, 0);
        c10 = f32x4.add(c10, f32x4.mul(x, b0)); c11 = f32x4.add(c11, f32x4.mul(x, b1));
        x = i32x4.shuffle(r2, r2, 0, 0, 0, 0);
        c20 = f32x4.add(c20, f32x4.mul(x, b0)); c21 = f32x4.add(c21, f32x4.mul(x, b1));
        x = i32x4.shuffle(r3, r3, 0, 0, 0, 0);
        c30 = f32x4.add(c30, f32x4.mul(x, b0)); c31 = f32x4.add(c31, f32x4.mul(x, b1));
        x = i32x4.shuffle(r4, r4, 0, 0, 0, 0);
        c40 = f32x4.add(c40, f32x4.mul(x, b0)); c41 = f32x4.add(c41, f32x4.mul(x, b1));
        x = i32x4.shuffle(r5, r5, 0, 0, 0, 0);
        c50 = f32x4.add(c50, f32x4.mul(x, b0)); c51 = f32x4.add(c51, f32x4.mul(x, b1));
      }
      {
        const b0 = v128.load(bp, 32), b1 = v128.load(bp, 32 + 16);
        let x = i32x4.shuffle(r0, r0, 1, 1, 1, 1);
        c00 = f32x4.add(c00, f32x4.mul(x, b0)); c01 = f32x4.add(c01, f32x4.mul(x, b1));
        x = i32x4.shuffle(r1, r1, 1, 1, 1, 1);
        c10 = f32x4.add(c10, f32x4.mul(x, b0)); c11 = f32x4.add(c11, f32x4.mul(x, b1));
        x = i32x4.shuffle(r2, r2, 1, 1, 1, 1);
        c20 = f32x4.add(c20, f32x4.mul(x, b0)); c21 = f32x4.add(c21, f32x4.mul(x, b1));
        x = i32x4.shuffle(r3, r3, 1, 1, 1, 1);
        c30 = f32x4.add(c30, f32x4.mul(x, b0)); c31 = f32x4.add(c31, f32x4.mul(x, b1));
        x = i32x4.shuffle(r4, r4, 1, 1, 1, 1);
        c40 = f32x4.add(c40, f32x4.mul(x, b0)); c41 = f32x4.add(c41, f32x4.mul(x, b1));
        x = i32x4.shuffle(r5, r5, 1, 1, 1, 1);
        c50 = f32x4.add(c50, f32x4.mul(x, b0)); c51 = f32x4.add(c51, f32x4.mul(x, b1));
      }
      {
        const b0 = v128.load(bp, 64), b1 = v128.load(bp, 64 + 16);
        let x = i32x4.shuffle(r0, r0, 2, 2, 2, 2);
        c00 = f32x4.add(c00, f32x4.mul(x, b0)); c01 = f32x4.add(c01, f32x4.mul(x, b1));
        x = i32x4.shuffle(r1, r1, 2, 2, 2, 2);
        c10 = f32x4.add(c10, f32x4.mul(x, b0)); c11 = f32x4.add(c11, f32x4.mul(x, b1));
        x = i32x4.shuffle(r2, r2, 2, 2, 2, 2);
        c20 = f32x4.add(c20, f32x4.mul(x, b0)); c21 = f32x4.add(c21, f32x4.mul(x, b1));
        x = i32x4.shuffle(r3, r3, 2, 2, 2, 2);
        c30 = f32x4.add(c30, f32x4.mul(x, b0)); c31 = f32x4.add(c31, f32x4.mul(x, b1));
        x = i32x4.shuffle(r4, r4, 2, 2, 2, 2);
        c40 = f32x4.add(c40, f32x4.mul(x, b0)); c41 = f32x4.add(c41, f32x4.mul(x, b1));
        x = i32x4.shuffle(r5, r5, 2, 2, 2, 2);
        c50 = f32x4.add(c50, f32x4.mul(x, b0)); c51 = f32x4.add(c51, f32x4.mul(x, b1));
      }
      {
        const b0 = v128.load(bp, 96), b1 = v128.load(bp, 96 + 16);
        let x = i32x4.shuffle(r0, r0, 3, 3, 3, 3);
        c00 = f32x4.add(c00, f32x4.mul(x, b0)); c01 = f32x4.add(c01, f32x4.mul(x, b1));
        x = i32x4.shuffle(r1, r1, 3, 3, 3, 3);
        c10 = f32x4.add(c10, f32x4.mul(x, b0)); c11 = f32x4.add(c11, f32x4.mul(x, b1));
        x = i32x4.shuffle(r2, r2, 3, 3, 3, 3);
        c20 = f32x4.add(c20, f32x4.mul(x, b0)); c21 = f32x4.add(c21, f32x4.mul(x, b1));
        x = i32x4.shuffle(r3, r3, 3, 3, 3, 3);
        c30 = f32x4.add(c30, f32x4.mul(x, b0)); c31 = f32x4.add(c31, f32x4.mul(x, b1));
        x = i32x4.shuffle(r4, r4, 3, 3, 3, 3);
        c40 = f32x4.add(c40, f32x4.mul(x, b0)); c41 = f32x4.add(c41, f32x4.mul(x, b1));
        x = i32x4.shuffle(r5, r5, 3, 3, 3, 3);
        c50 = f32x4.add(c50, f32x4.mul(x, b0)); c51 = f32x4.add(c51, f32x4.mul(x, b1));
      }
      a0 += 16;
      bp += 128;
    }
  }
  if (rs == 4) {
    // op(A) = Aᵀ stored by columns: the 6 values of one kk are adjacent; the first four by one
    // load and lane broadcasts, the last two by broadcasting loads.
    while (bp < end) {
      const b0 = v128.load(bp), b1 = v128.load(bp, 16);
      const r = v128.load(a0);
      let x = i32x4.shuffle(r, r, 0, 0, 0, 0);
      c00 = f32x4.add(c00, f32x4.mul(x, b0)); c01 = f32x4.add(c01, f32x4.mul(x, b1));
      x = i32x4.shuffle(r, r, 1, 1, 1, 1);
      c10 = f32x4.add(c10, f32x4.mul(x, b0)); c11 = f32x4.add(c11, f32x4.mul(x, b1));
      x = i32x4.shuffle(r, r, 2, 2, 2, 2);
      c20 = f32x4.add(c20, f32x4.mul(x, b0)); c21 = f32x4.add(c21, f32x4.mul(x, b1));
      x = i32x4.shuffle(r, r, 3, 3, 3, 3);
      c30 = f32x4.add(c30, f32x4.mul(x, b0)); c31 = f32x4.add(c31, f32x4.mul(x, b1));
      x = v128.load32_splat(a0, 16);
      c40 = f32x4.add(c40, f32x4.mul(x, b0)); c41 = f32x4.add(c41, f32x4.mul(x, b1));
      x = v128.load32_splat(a0, 20);
      c50 = f32x4.add(c50, f32x4.mul(x, b0)); c51 = f32x4.add(c51, f32x4.mul(x, b1));
      a0 += cs;
      bp += 32;
    }
  }
  while (bp < end) {
    const b0 = v128.load(bp), b1 = v128.load(bp, 16);
    let x = v128.load32_splat(a0);
    c00 = f32x4.add(c00, f32x4.mul(x, b0)); c01 = f32x4.add(c01, f32x4.mul(x, b1));
    x = v128.load32_splat(a0 + rs);
    c10 = f32x4.add(c10, f32x4.mul(x, b0)); c11 = f32x4.add(c11, f32x4.mul(x, b1));
    x = v128.load32_splat(a0 + 2 * rs);
    c20 = f32x4.add(c20, f32x4.mul(x, b0)); c21 = f32x4.add(c21, f32x4.mul(x, b1));
    x = v128.load32_splat(a0 + 3 * rs);
    c30 = f32x4.add(c30, f32x4.mul(x, b0)); c31 = f32x4.add(c31, f32x4.mul(x, b1));
    x = v128.load32_splat(a0 + 4 * rs);
    c40 = f32x4.add(c40, f32x4.mul(x, b0)); c41 = f32x4.add(c41, f32x4.mul(x, b1));
    x = v128.load32_splat(a0 + 5 * rs);
    c50 = f32x4.add(c50, f32x4.mul(x, b0)); c51 = f32x4.add(c51, f32x4.mul(x, b1));
    a0 += cs;
    bp += 32;
  }
  finishRow(c, c00, c01, alpha, beta, useBeta, w);
  finishRow(c + ldc, c10, c11, alpha, beta, useBeta, w);
  finishRow(c + 2 * ldc, c20, c21, alpha, beta, useBeta, w);
  finishRow(c + 3 * ldc, c30, c31, alpha, beta, useBeta, w);
  finishRow(c + 4 * ldc, c40, c41, alpha, beta, useBeta, w);
  finishRow(c + 5 * ldc, c50, c51, alpha, beta, useBeta, w);
}

/** A 1×8 tile (the rows left over after the 6-row tiles). */
function tile1(a: usize, cs: usize, bp: usize, c: usize, k: i32, w: i32, alpha: v128, beta: v128, useBeta: bool): void {
  let c00 = f32x4.splat(0), c01 = c00;
  const end = bp + (<usize>k << 5);
  while (bp < end) {
    const x = v128.load32_splat(a);
    c00 = f32x4.add(c00, f32x4.mul(x, v128.load(bp)));
    c01 = f32x4.add(c01, f32x4.mul(x, v128.load(bp, 16)));
    a += cs;
    bp += 32;
  }
  finishRow(c, c00, c01, alpha, beta, useBeta, w);
}

/**
 * C = alpha·op(A)·op(B) + beta·C for m×n C at `c` (row stride `ldc` elements), op(A) m×k read
 * through its strides, op(B) packed by gemmPack at `packed`. With beta == 0, C is only written.
 */
export function gemm(a: usize, aRowStride: i32, aColStride: i32, packed: usize, c: usize, ldc: i32, m: i32, n: i32, k: i32, alpha: f32, beta: f32): void {
  const rs = <usize>aRowStride << 2, cs = <usize>aColStride << 2, ldcb = <usize>ldc << 2;
  const panelBytes = <usize>k << 5;
  const va = f32x4.splat(alpha), vb = f32x4.splat(beta);
  const useBeta = beta != 0;
  for (let i0 = 0; i0 < m; i0 += ROW_BLOCK) {
    const i1 = min(m, i0 + ROW_BLOCK);
    let bp = packed;
    for (let j = 0; j < n; j += 8) {
      const w = min(8, n - j);
      const cj = c + (<usize>j << 2);
      let i = i0;
      for (; i + 6 <= i1; i += 6) tile6(a + <usize>i * rs, rs, cs, bp, cj + <usize>i * ldcb, ldcb, k, w, va, vb, useBeta);
      for (; i < i1; i++) tile1(a + <usize>i * rs, cs, bp, cj + <usize>i * ldcb, k, w, va, vb, useBeta);
      bp += panelBytes;
    }
  }
}
