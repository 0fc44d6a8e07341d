// Matrix multiply over a store's arena: C = alpha·op(A)·op(B) + beta·C, on the SIMD kernel
// (assembly/kernels/gemm.ts) or its bit-identical JS twin (src/kernels/gemm.ts). The kernels
// fix the order of operations of every element of C (a sequential float32 sum over k, no fused
// multiply-add), so results are the same bits on both backends and for any thread count:
// threads take whole rows of C (or whole panels of columns), never a share of k.
import { checkKeys, checkNumber, checkRule, describe } from './validate.js';
import { Parameter, type ParameterStore } from './store.js';

/** A row-major float32 matrix whose `data` is a view of a store's arena. */
export interface MatrixLike {
  /** `rows · cols` values, row-major: element (i, j) at `data[i * cols + j]`. */
  readonly data: Float32Array;
  /** Number of rows. */
  readonly rows: number;
  /** Number of columns. */
  readonly cols: number;
}

/** Options of {@link ParameterStore.matmul}. */
export interface MatmulOptions {
  /** Use the transpose of `a` (default false). */
  transA?: boolean;
  /** Use the transpose of `b` (default false). */
  transB?: boolean;
  /** Scale of the product (default 1). */
  alpha?: number;
  /** Scale of `out`'s previous values (default 0: `out` is only written, never read). */
  beta?: number;
}

/**
 * A matrix in a store's arena (scratch space for activations, intermediate products, ...),
 * made by {@link ParameterStore.matrix}. Its segment never moves; `data` is a live view (see
 * {@link Parameter} about views on a detaching memory).
 */
export class Matrix implements MatrixLike {
  /** @internal absolute byte address of the values */
  readonly address: number;
  #store: ParameterStore;
  #version = -1;
  #data: Float32Array | undefined;

  /** @internal */
  constructor(
    store: ParameterStore,
    /** Number of rows. */
    readonly rows: number,
    /** Number of columns. */
    readonly cols: number,
    address: number,
  ) {
    this.#store = store;
    this.address = address;
  }

  /** The store whose arena holds the matrix. */
  get store(): ParameterStore {
    return this.#store;
  }

  /** `rows · cols`. */
  get size(): number {
    return this.rows * this.cols;
  }

  /** The values, row-major: a view over the arena. */
  get data(): Float32Array {
    const version = this.#store.viewsVersion;
    if (version !== this.#version) {
      this.#store.assertLive('Matrix.data');
      this.#data = this.#store.view(this.address, this.rows * this.cols);
      this.#version = version;
    }
    return this.#data!;
  }

  toString(): string {
    return `Matrix(${this.rows}×${this.cols})`;
  }
}

/** Columns per packed panel of B (the kernels' PANEL). */
const PANEL = 8;
/**
 * Below this many multiply-adds (about 0.15 ms on one thread) a product runs on the calling
 * thread alone: waking a sleeping worker costs tens of microseconds.
 */
const MIN_PARALLEL_MACS = 1 << 22;
/** Rows of C per SIMD tile: thread shares of rows are whole tiles. */
const TILE_ROWS = 6;

function checkDimension(context: string, what: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw new RangeError(`${context}: invalid ${what}: ${describe(value)} (expected a whole number >= 0)`);
  }
  return value;
}

/** Makes a zeroed (or filled) `rows × cols` matrix in the store's arena. @internal */
export function createMatrix(store: ParameterStore, rows: number, cols: number, values?: ArrayLike<number>): Matrix {
  const context = 'ParameterStore.matrix';
  store.assertLive(context);
  checkDimension(context, 'rows', rows);
  checkDimension(context, 'cols', cols);
  const size = rows * cols;
  let copy: Float32Array | undefined;
  if (values !== undefined) {
    if (values === null || typeof values !== 'object' || typeof values.length !== 'number') {
      throw new TypeError(`${context}: values must be an array of numbers, got ${describe(values)}`);
    }
    if (values.length !== size) throw new RangeError(`${context}: ${values.length} values do not fill ${rows}×${cols} (${size} elements)`);
    copy = Float32Array.from(values); // before allocating: the values may be a view of this arena
  }
  const m = new Matrix(store, rows, cols, store.allocate(Math.max(4, size * 4)));
  if (copy) m.data.set(copy);
  return m;
}

/** An operand resolved to an address in the arena and its dimensions. @internal */
export interface Operand {
  readonly address: number;
  readonly rows: number;
  readonly cols: number;
}

function operand(store: ParameterStore, context: string, what: string, x: unknown): Operand {
  if (x instanceof Matrix) {
    if (x.store !== store) throw new Error(`${context}: ${what} (${x.toString()}) belongs to another store`);
    return { address: x.address, rows: x.rows, cols: x.cols };
  }
  if (x instanceof Parameter) {
    if (x.store !== store) throw new Error(`${context}: ${what} (${x.toString()}) belongs to another store`);
    if (x.shape.length !== 2) {
      throw new RangeError(`${context}: ${what} (${x.toString()}) has shape ${describe(x.shape)}; a matrix operand needs 2 dimensions (pass { data: p.data, rows, cols } to view it as one)`);
    }
    return { address: x.dataAddress, rows: x.shape[0], cols: x.shape[1] };
  }
  if (x === null || typeof x !== 'object') {
    throw new TypeError(`${context}: ${what} must be a Matrix, a 2-D Parameter or { data, rows, cols }, got ${describe(x)}`);
  }
  const { data, rows, cols } = x as MatrixLike;
  if (!(data instanceof Float32Array)) throw new TypeError(`${context}: ${what}.data must be a Float32Array view of the store's arena, got ${describe(data)}`);
  checkDimension(context, `${what}.rows`, rows);
  checkDimension(context, `${what}.cols`, cols);
  if (data.length !== rows * cols) {
    throw new RangeError(`${context}: ${what}.data has ${data.length} elements, not rows · cols = ${rows}·${cols} = ${rows * cols}`);
  }
  const address = store.addressOf(data);
  if (address === undefined) {
    throw new Error(`${context}: ${what}.data is not a view of this store's arena (use p.data, p.grad, a store.matrix(...)'s data or a subarray of one; after the arena grew on a detaching memory, take the view again)`);
  }
  return { address, rows, cols };
}

function overlaps(x: Operand, y: Operand): boolean {
  const xEnd = x.address + 4 * x.rows * x.cols, yEnd = y.address + 4 * y.rows * y.cols;
  return x.rows * x.cols > 0 && y.rows * y.cols > 0 && x.address < yEnd && y.address < xEnd;
}

const OPTION_KEYS = ['transA', 'transB', 'alpha', 'beta'] as const;

/** `out = alpha·op(a)·op(b) + beta·out`. @internal (public as {@link ParameterStore.matmul}) */
export function matmul(store: ParameterStore, a: MatrixLike | Parameter, b: MatrixLike | Parameter, out: MatrixLike | Parameter, options: MatmulOptions = {}): void {
  const context = 'matmul';
  store.assertLive(context);
  checkKeys(context, options, OPTION_KEYS);
  const { transA = false, transB = false, alpha = 1, beta = 0 } = options;
  checkRule(context, 'transA', transA, { type: 'boolean' });
  checkRule(context, 'transB', transB, { type: 'boolean' });
  checkNumber(context, 'alpha', alpha);
  checkNumber(context, 'beta', beta);
  const A = operand(store, context, 'a', a), B = operand(store, context, 'b', b), C = operand(store, context, 'out', out);
  // op(A) is m×k, op(B) k×n; element strides (row, column) of each as stored.
  const [m, k] = transA ? [A.cols, A.rows] : [A.rows, A.cols];
  const [kB, n] = transB ? [B.cols, B.rows] : [B.rows, B.cols];
  const shape = (x: Operand, t: boolean, name: string) => `${name}${t ? 'ᵀ' : ''} is ${t ? x.cols : x.rows}×${t ? x.rows : x.cols}`;
  if (k !== kB) throw new RangeError(`${context}: inner dimensions differ: ${shape(A, transA, 'a')}, ${shape(B, transB, 'b')}`);
  if (C.rows !== m || C.cols !== n) throw new RangeError(`${context}: out is ${C.rows}×${C.cols}, but the product is ${m}×${n} (${shape(A, transA, 'a')}, ${shape(B, transB, 'b')})`);
  if (overlaps(C, A) || overlaps(C, B)) throw new Error(`${context}: out overlaps ${overlaps(C, A) ? 'a' : 'b'}; write the product to separate memory`);
  gemmAt(store, A, B, C, transA, transB, Math.fround(alpha), Math.fround(beta));
}

/**
 * The product over resolved operands, unchecked (shapes agree, `C` overlaps neither; alpha
 * and beta float32): for the library's own callers. @internal
 */
export function gemmAt(store: ParameterStore, A: Operand, B: Operand, C: Operand, transA: boolean, transB: boolean, alpha: number, beta: number): void {
  const product = prepare(store, A, B, C, transA, transB, alpha, beta);
  if (product) product.run(0, product.m, 0, C.cols);
}

/**
 * A product known to be symmetric (`A·Aᵀ`, `Aᵀ·A`, or `A·A` and `beta·C` for symmetric A and
 * C), m×m: each band of 48 rows is computed from its own first row rightwards, and the
 * elements below that are copied from their mirror images. A computed element is the same
 * bits as in the full product, and so is its mirror image (the same products summed in the
 * same order), so the result equals {@link gemmAt}'s bit for bit at about half the work.
 * @internal
 */
export function symmetricGemmAt(store: ParameterStore, A: Operand, B: Operand, C: Operand, transA: boolean, transB: boolean, alpha: number, beta: number): void {
  const product = prepare(store, A, B, C, transA, transB, alpha, beta);
  if (!product) return;
  const m = product.m;
  for (let r = 0; r < m; r += SYMMETRIC_BAND) product.run(r, Math.min(SYMMETRIC_BAND, m - r), r, m - r);
  // Below each band's first row, copy the mirror images (as bits: NaN payloads too).
  const view = store.view(C.address, m * m);
  const bits = new Uint32Array(view.buffer, view.byteOffset, m * m);
  for (let i = SYMMETRIC_BAND; i < m; i++) {
    const band = i - (i % SYMMETRIC_BAND);
    for (let j = 0; j < band; j++) bits[i * m + j] = bits[j * m + i];
  }
}

/** Rows of a band of {@link symmetricGemmAt}: whole tiles, and whole packed panels for its first column. */
const SYMMETRIC_BAND = 48;

/**
 * Packs op(B) and returns a runner of `rows` rows from `row0` and `cols` columns from `col0`
 * (a multiple of the panel width) of the product, split across the store's threads by rows
 * (or by column panels when there are few rows); undefined for an empty product.
 */
function prepare(store: ParameterStore, A: Operand, B: Operand, C: Operand, transA: boolean, transB: boolean, alpha: number, beta: number) {
  const [m, k] = transA ? [A.cols, A.rows] : [A.rows, A.cols];
  const n = C.cols;
  if (m === 0 || n === 0) return undefined;
  const [aRow, aCol] = transA ? [1, A.cols] : [A.cols, 1];
  const [bRow, bCol] = transB ? [1, B.cols] : [B.cols, 1];
  const packed = store.scratch('gemm.packed', Math.max(16, 4 * PANEL * k * Math.ceil(n / PANEL)));
  store.kernels.gemmPack(B.address, bRow, bCol, k, n, packed);
  const args = (row0: number, rows: number, col0: number, cols: number): number[] =>
    [A.address + 4 * row0 * aRow, aRow, aCol, packed + 4 * k * col0, C.address + 4 * (row0 * n + col0), n, rows, cols, k, alpha, beta];
  const run = (row0: number, rows: number, col0: number, cols: number): void => {
    const panels = Math.ceil(cols / PANEL);
    const threads = rows * cols * k < MIN_PARALLEL_MACS ? 1 : store.threads.active;
    const parts: number[][] = [];
    if (threads > 1 && rows >= 2 * TILE_ROWS * threads) {
      const per = Math.ceil(rows / threads / TILE_ROWS) * TILE_ROWS;
      for (let r = 0; r < rows; r += per) parts.push(args(row0 + r, Math.min(per, rows - r), col0, cols));
    } else if (threads > 1 && panels >= 2 * threads) {
      const per = Math.ceil(panels / threads) * PANEL;
      for (let c = 0; c < cols; c += per) parts.push(args(row0, rows, col0 + c, Math.min(per, cols - c)));
    } else {
      parts.push(args(row0, rows, col0, cols));
    }
    store.runParts('gemm', parts);
  };
  return { m, run };
}
