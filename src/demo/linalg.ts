// The demo's matrix operations, in one place: scratch matrices and the matrix multiply the
// MNIST network runs on. Every model operand goes through these two functions.
import type { Parameter, ParameterStore } from '../store.js';

/** A row-major float32 matrix. */
export interface MatrixLike {
  readonly data: Float32Array;
  readonly rows: number;
  readonly cols: number;
}

/** Options of {@link matmul}: `out = alpha · op(a) · op(b) + beta · out`, op = transpose when set. */
export interface MatmulOptions {
  transA?: boolean;
  transB?: boolean;
  alpha?: number;
  beta?: number;
}

/** A zeroed `rows` × `cols` scratch matrix for model code over `store`. */
export function matrix(_store: ParameterStore, rows: number, cols: number): MatrixLike {
  return { data: new Float32Array(rows * cols), rows, cols };
}

const asMatrix = (m: MatrixLike | Parameter): MatrixLike => {
  if ('rows' in m) return m;
  if (m.shape.length !== 2) throw new RangeError(`matmul: ${m.name} has shape [${m.shape.join(', ')}], not 2-D`);
  return { data: m.data, rows: m.shape[0], cols: m.shape[1] };
};

/**
 * `out = alpha · op(a) · op(b) + beta · out` over row-major float32 matrices (op transposes
 * where `transA` / `transB` say). A Parameter operand means its values with its 2-D shape;
 * `beta = 0` (the default) means `out` is not read.
 */
export function matmul(_store: ParameterStore, a: MatrixLike | Parameter, b: MatrixLike | Parameter, out: MatrixLike | Parameter, options: MatmulOptions = {}): void {
  const A = asMatrix(a), B = asMatrix(b), C = asMatrix(out);
  const { transA = false, transB = false, alpha = 1, beta = 0 } = options;
  const m = transA ? A.cols : A.rows, k = transA ? A.rows : A.cols;
  const kb = transB ? B.cols : B.rows, n = transB ? B.rows : B.cols;
  if (k !== kb || C.rows !== m || C.cols !== n) {
    throw new RangeError(`matmul: shapes do not fit: op(a) ${m}×${k}, op(b) ${kb}×${n}, out ${C.rows}×${C.cols}`);
  }
  const x = A.data, y = B.data, z = C.data;
  const row = new Float64Array(n);
  for (let i = 0; i < m; i++) {
    row.fill(0);
    if (transB) {
      for (let j = 0; j < n; j++) {
        let s = 0;
        for (let p = 0; p < k; p++) s += (transA ? x[p * m + i] : x[i * k + p]) * y[j * k + p];
        row[j] = s;
      }
    } else {
      for (let p = 0; p < k; p++) {
        const v = transA ? x[p * m + i] : x[i * k + p];
        if (v === 0) continue;
        const o = p * n;
        for (let j = 0; j < n; j++) row[j] += v * y[o + j];
      }
    }
    const o = i * n;
    for (let j = 0; j < n; j++) z[o + j] = beta === 0 ? alpha * row[j] : alpha * row[j] + beta * z[o + j];
  }
}
