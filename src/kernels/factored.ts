// JS twin of assembly/kernels/factored.ts: Adafactor's factored second moment over a matrix,
// the same operations in the same order (see there). Each float32 operation is a float64
// operation on float32 values rounded back with Math.fround, which gives the float32 result
// exactly; the sums are float64, as in the SIMD kernels.
import type { TwinMemory } from '../generated/kernels-js.js';
import { sumSquares } from './reduce.js';

const fround = Math.fround;

/** Twin of the export `rowMeanSquares`: each row's {@link sumSquares} / cols, rounded to f32. */
export function rowMeanSquares(mem: TwinMemory, x: number, rows: number, cols: number, out: number): void {
  if (rows <= 0) return;
  const X = mem.view(x, rows * cols);
  const O = mem.view(out, rows);
  for (let i = 0; i < rows; i++) O[i] = fround(sumSquares(X, 4 * i * cols, cols) / cols);
}

/** Twin of the export `colMeanSquares`: each column's squares summed in row order from +0, / rows, rounded to f32. */
export function colMeanSquares(mem: TwinMemory, x: number, rows: number, cols: number, ld: number, out: number): void {
  if (cols <= 0) return;
  const X = rows > 0 ? mem.view(x, (rows - 1) * ld + cols) : new Float32Array(0);
  const O = mem.view(out, cols);
  for (let j = 0; j < cols; j++) {
    let s = 0;
    for (let i = 0, k = j; i < rows; i++, k += ld) s += X[k] * X[k]; // exact squares of float32 values
    O[j] = fround(s / rows);
  }
}

/** Twin of the export `adafactorUpdate`. */
export function adafactorUpdate(mem: TwinMemory, row: number, col: number, grad: number, update: number, rows: number, cols: number, rowMean: number, eps1Sq: number, negate: number): void {
  if (rows <= 0 || cols <= 0) return;
  rowMean = fround(rowMean);
  eps1Sq = fround(eps1Sq);
  const R = mem.view(row, rows), C = mem.view(col, cols), G = mem.view(grad, rows * cols), U = mem.view(update, rows * cols);
  for (let i = 0, k = 0; i < rows; i++) {
    const r = R[i];
    for (let j = 0; j < cols; j++, k++) {
      const v = Math.max(fround(fround(r * C[j]) / rowMean), eps1Sq);
      const g = negate !== 0 ? -G[k] : G[k];
      U[k] = fround(fround(1 / fround(Math.sqrt(v))) * g);
    }
  }
}
