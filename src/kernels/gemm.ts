// JS twin of assembly/kernels/gemm.ts: the same packed layout and, for every element of C, the
// same operations in the same order (see there): acc = 0, then for kk = 0 .. k-1
// acc = f32(acc + f32(A[i][kk] * B[kk][j])), then f32(alpha * acc) (+ f32(beta * C) unless
// beta == 0). Each operation is an IEEE double operation on float32 values rounded back to
// float32 (Math.fround), which gives the float32 result exactly: a double holds at least
// 2·24 + 2 bits, so rounding twice is innocuous for + and ×.
import type { TwinMemory } from '../generated/kernels-js.js';

const fround = Math.fround;

/** Columns per panel of the packed B. */
export const PANEL = 8;

/** Elements spanned by a strided rows × cols operand (0 when empty). */
function span(rows: number, cols: number, rowStride: number, colStride: number): number {
  return rows > 0 && cols > 0 ? (rows - 1) * rowStride + (cols - 1) * colStride + 1 : 0;
}

/** Twin of the export `gemmPack`. */
export function gemmPack(mem: TwinMemory, b: number, rowStride: number, colStride: number, k: number, n: number, packed: number): void {
  const B = mem.view(b, span(k, n, rowStride, colStride));
  const P = mem.view(packed, k * PANEL * Math.ceil(n / PANEL));
  let o = 0;
  for (let j0 = 0; j0 < n; j0 += PANEL) {
    const w = Math.min(PANEL, n - j0);
    for (let kk = 0; kk < k; kk++) {
      const row = kk * rowStride + j0 * colStride;
      for (let jj = 0; jj < PANEL; jj++) P[o++] = jj < w ? B[row + jj * colStride] : 0;
    }
  }
}

/** Twin of the export `gemm`. */
export function gemm(mem: TwinMemory, a: number, aRowStride: number, aColStride: number, packed: number, c: number, ldc: number, m: number, n: number, k: number, alpha: number, beta: number): void {
  if (m <= 0 || n <= 0) return;
  alpha = fround(alpha);
  beta = fround(beta);
  const useBeta = beta !== 0;
  const A = mem.view(a, span(m, k, aRowStride, aColStride));
  const P = mem.view(packed, k * PANEL * Math.ceil(n / PANEL));
  const C = mem.view(c, span(m, n, ldc, 1));
  const acc = new Float64Array(PANEL);
  for (let j0 = 0, p = 0; j0 < n; j0 += PANEL, p += k * PANEL) {
    const w = Math.min(PANEL, n - j0);
    for (let i = 0; i < m; i++) {
      let s0 = 0, s1 = 0, s2 = 0, s3 = 0, s4 = 0, s5 = 0, s6 = 0, s7 = 0;
      let ai = i * aRowStride;
      for (let o = p, end = p + k * PANEL; o < end; o += PANEL, ai += aColStride) {
        const x = A[ai];
        s0 = fround(s0 + fround(x * P[o]));
        s1 = fround(s1 + fround(x * P[o + 1]));
        s2 = fround(s2 + fround(x * P[o + 2]));
        s3 = fround(s3 + fround(x * P[o + 3]));
        s4 = fround(s4 + fround(x * P[o + 4]));
        s5 = fround(s5 + fround(x * P[o + 5]));
        s6 = fround(s6 + fround(x * P[o + 6]));
        s7 = fround(s7 + fround(x * P[o + 7]));
      }
      acc[0] = s0; acc[1] = s1; acc[2] = s2; acc[3] = s3; acc[4] = s4; acc[5] = s5; acc[6] = s6; acc[7] = s7;
      const row = i * ldc + j0;
      for (let jj = 0; jj < w; jj++) {
        const r = fround(alpha * acc[jj]);
        C[row + jj] = useBeta ? fround(r + fround(beta * C[row + jj])) : r;
      }
    }
  }
}
