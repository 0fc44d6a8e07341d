// The kernel module's ABI, defined once: its version, its element-wise kernels (each written
// once in this directory, generated into the SIMD kernel and the JS twin by
// scripts/gen-kernels.ts) and the signatures of the hand-written reductions. Everything that
// lists kernels (the exports, the JS twins, the typed wrappers, thread slicing, flag bits,
// docs/ABI.md) is generated from here.
import type { KernelDef } from '../dsl.js';
import accumulate from './accumulate.js';
import { adafactor, adafactorApply } from './adafactor.js';
import adadelta from './adadelta.js';
import adagrad from './adagrad.js';
import adam from './adam.js';
import adan from './adan.js';
import ademamix from './ademamix.js';
import adopt from './adopt.js';
import average from './average.js';
import adamax from './adamax.js';
import asgd from './asgd.js';
import clamp from './clamp.js';
import copy from './copy.js';
import lamb from './lamb.js';
import lars from './lars.js';
import { axpy, lbfgsPair, negate } from './lbfgs.js';
import lion from './lion.js';
import { muonApply, muonMomentum } from './muon.js';
import { prodigy, prodigyApply } from './prodigy.js';
import rmsprop from './rmsprop.js';
import rprop from './rprop.js';
import scale from './scale.js';
import scheduleFree from './schedulefree.js';
import sgd from './sgd.js';
import swap from './swap.js';

/**
 * ABI version of the kernel module (its `abiVersion()` export and `KERNEL_ABI_VERSION`).
 * Bump it whenever an export, an argument (order, type, name) or a flag bit changes; the
 * generator refuses to build when the ABI's fingerprint changed but this did not.
 */
export const ABI_VERSION = 15;

/** Fingerprint of ABI version {@link ABI_VERSION}, as the generator computes it (record it when bumping). */
export const ABI_FINGERPRINT = '67c71b87097a8276';

/** The element-wise kernels, in export order. */
export const KERNELS: readonly KernelDef[] = [sgd, adam, adagrad, rmsprop, adamax, adadelta, lion, copy, scale, clamp, adopt, muonMomentum, muonApply, average, swap, accumulate, adan, ademamix, rprop, asgd, lamb, lars, prodigy, prodigyApply, adafactor, adafactorApply, axpy, negate, lbfgsPair, scheduleFree] as unknown as KernelDef[];

/** A hand-written export's signature (the reductions: a pair of SIMD kernel and JS twin kept by hand). */
export interface HandWrittenExport {
  readonly name: string;
  readonly summary: string;
  readonly args: readonly { readonly name: string; readonly type: 'ptr' | 'i32' | 'f32'; readonly doc: string }[];
  readonly result: 'f64' | 'f32' | 'i32' | 'void';
  readonly resultDoc: string;
  /** Where the pair lives, for docs/ABI.md. */
  readonly source: string;
}

/**
 * The reductions stay hand-written pairs (assembly/kernels/reduce.ts and src/kernels/reduce.ts):
 * their value is a fixed combination order across lanes (four f64 lane sums for sumSquares, sumAbs and dot),
 * which an element-wise trace does not express, and a few short loops cost less to keep by
 * hand than a second DSL would. Their signatures are declared here for the ABI and the wrappers.
 */
const REDUCE_SOURCE = 'assembly/kernels/reduce.ts, twin src/kernels/reduce.ts';

export const REDUCTIONS: readonly HandWrittenExport[] = [
  {
    name: 'sumSquares',
    summary: 'Sum of squares of n f32 elements, in f64: lane k (elements k, k+4, k+8, ...) accumulates in order, and the result is (lane0 + lane1) + (lane2 + lane3).',
    args: [{ name: 'x', type: 'ptr', doc: 'values' }, { name: 'n', type: 'i32', doc: 'number of elements' }],
    result: 'f64',
    resultDoc: 'the sum of squares (each square exact in f64)',
    source: REDUCE_SOURCE,
  },
  {
    name: 'sum',
    summary: 'Sum of n f32 elements, in f64, in the order of sumSquares: lane k (elements k, k+4, k+8, ...) accumulates in order from +0, and the result is (lane0 + lane1) + (lane2 + lane3).',
    args: [{ name: 'x', type: 'ptr', doc: 'values' }, { name: 'n', type: 'i32', doc: 'number of elements' }],
    result: 'f64',
    resultDoc: 'the sum',
    source: REDUCE_SOURCE,
  },
  {
    name: 'maxAbs',
    summary: 'Largest |x| over n f32 elements.',
    args: [{ name: 'x', type: 'ptr', doc: 'values' }, { name: 'n', type: 'i32', doc: 'number of elements' }],
    result: 'f32',
    resultDoc: 'the largest absolute value (NaN if any is NaN; 0 for n = 0)',
    source: REDUCE_SOURCE,
  },
  {
    name: 'allFinite',
    summary: 'Whether n f32 elements are all finite.',
    args: [{ name: 'x', type: 'ptr', doc: 'values' }, { name: 'n', type: 'i32', doc: 'number of elements' }],
    result: 'i32',
    resultDoc: '1 when no element is Inf or NaN, else 0',
    source: REDUCE_SOURCE,
  },
  {
    name: 'countNonzero',
    summary: 'How many of n f32 elements are neither ±0 nor NaN (the cautious optimizers count the update elements that agree in sign with the gradient).',
    args: [{ name: 'x', type: 'ptr', doc: 'values' }, { name: 'n', type: 'i32', doc: 'number of elements' }],
    result: 'i32',
    resultDoc: 'the count (exact, whatever the order)',
    source: REDUCE_SOURCE,
  },
  {
    name: 'sumAbs',
    summary: 'Sum of |x| over n f32 elements, in f64, lanes combined as in sumSquares (Prodigy\'s denominator).',
    args: [{ name: 'x', type: 'ptr', doc: 'values' }, { name: 'n', type: 'i32', doc: 'number of elements' }],
    result: 'f64',
    resultDoc: 'the sum of absolute values (each exact in f64)',
    source: REDUCE_SOURCE,
  },
  {
    name: 'sumSquaresDecayed',
    summary: 'Sum of squares, in f64, of the decayed gradient g\' = grad (weightDecay 0) or f32(grad + f32(weightDecay·param)), lanes combined as in sumSquares (LARS\'s norm of the update).',
    args: [
      { name: 'grad', type: 'ptr', doc: 'gradients' },
      { name: 'param', type: 'ptr', doc: 'parameters (read when weightDecay is not 0)' },
      { name: 'n', type: 'i32', doc: 'number of elements' },
      { name: 'weightDecay', type: 'f32', doc: 'coefficient of param' },
    ],
    result: 'f64',
    resultDoc: 'the sum of squares (each square exact in f64)',
    source: REDUCE_SOURCE,
  },
  {
    name: 'dotDecayedDelta',
    summary: 'Dot product, in f64, of the decayed gradient (as in sumSquaresDecayed) with f32(origin - param), lanes combined as in sumSquares (Prodigy\'s numerator, torch.dot(grad, p0 - p)).',
    args: [
      { name: 'grad', type: 'ptr', doc: 'gradients' },
      { name: 'param', type: 'ptr', doc: 'parameters' },
      { name: 'origin', type: 'ptr', doc: 'initial parameters (p0)' },
      { name: 'n', type: 'i32', doc: 'number of elements' },
      { name: 'weightDecay', type: 'f32', doc: 'coefficient of param in the decayed gradient' },
    ],
    result: 'f64',
    resultDoc: 'the dot product (each product exact in f64)',
    source: REDUCE_SOURCE,
  },
  {
    name: 'dot',
    summary: 'Dot product of n f32 elements of x and y, in f64, in the lane order of sumSquares: lane k (elements k, k+4, ...) accumulates x[i]·y[i] in order from +0, and the result is (lane0 + lane1) + (lane2 + lane3).',
    args: [{ name: 'x', type: 'ptr', doc: 'first vector' }, { name: 'y', type: 'ptr', doc: 'second vector' }, { name: 'n', type: 'i32', doc: 'number of elements' }],
    result: 'f64',
    resultDoc: 'the dot product (each product of two f32 values exact in f64)',
    source: REDUCE_SOURCE,
  },
];

const GEMM_SOURCE = 'assembly/kernels/gemm.ts, twin src/kernels/gemm.ts';

/**
 * The matrix multiply, a hand-written pair for the same reason as the reductions: its contract
 * is an order of operations across a tiled loop nest (each element of C a sequential float32
 * sum over k, vectorised across columns), which an element-wise trace does not express.
 * Thread slicing splits C's rows or B's panels (src/matmul.ts), never k.
 */
export const MATRIX_KERNELS: readonly HandWrittenExport[] = [
  {
    name: 'gemmPack',
    summary: 'Packs op(B), k×n with element (kk, j) at b + 4·(kk·rowStride + j·colStride), into ceil(n/8) panels of k×8 f32 (for each kk, 8 consecutive columns; zero past n).',
    args: [
      { name: 'b', type: 'ptr', doc: 'B' },
      { name: 'rowStride', type: 'i32', doc: 'elements between op(B)[kk][j] and op(B)[kk+1][j]' },
      { name: 'colStride', type: 'i32', doc: 'elements between op(B)[kk][j] and op(B)[kk][j+1]' },
      { name: 'k', type: 'i32', doc: 'rows of op(B)' },
      { name: 'n', type: 'i32', doc: 'columns of op(B)' },
      { name: 'packed', type: 'ptr', doc: 'destination, 16-byte aligned, 32·k·ceil(n/8) bytes' },
    ],
    result: 'void',
    resultDoc: 'nothing',
    source: GEMM_SOURCE,
  },
  {
    name: 'gemm',
    summary: 'C = alpha·op(A)·op(B) + beta·C for an m×n C; each element acc = 0, acc = f32(acc + f32(A[i][kk]·B[kk][j])) for kk = 0..k-1 in order, then f32(alpha·acc) (+ f32(beta·C) unless beta == 0, when C is not read).',
    args: [
      { name: 'a', type: 'ptr', doc: 'A' },
      { name: 'aRowStride', type: 'i32', doc: 'elements between op(A)[i][kk] and op(A)[i+1][kk]' },
      { name: 'aColStride', type: 'i32', doc: 'elements between op(A)[i][kk] and op(A)[i][kk+1]' },
      { name: 'packed', type: 'ptr', doc: 'op(B) as gemmPack packed it' },
      { name: 'c', type: 'ptr', doc: 'C, row-major; must not overlap A or the packed B' },
      { name: 'ldc', type: 'i32', doc: 'elements between rows of C' },
      { name: 'm', type: 'i32', doc: 'rows of C' },
      { name: 'n', type: 'i32', doc: 'columns of C' },
      { name: 'k', type: 'i32', doc: 'columns of op(A), rows of op(B)' },
      { name: 'alpha', type: 'f32', doc: 'scale of the product' },
      { name: 'beta', type: 'f32', doc: 'scale of C (0: C is only written)' },
    ],
    result: 'void',
    resultDoc: 'nothing',
    source: GEMM_SOURCE,
  },
];

const FACTORED_SOURCE = 'assembly/kernels/factored.ts, twin src/kernels/factored.ts';

/**
 * Adafactor's factored second moment over a matrix (torch.optim._adafactor): hand-written pairs
 * for the same reason as the reductions, a float64 sum per row or per column in a fixed order.
 * Each output element is computed whole by one call, so thread slicing splits rows (or, for
 * the column means, columns) and never changes a bit.
 */
export const FACTORED_KERNELS: readonly HandWrittenExport[] = [
  {
    name: 'rowMeanSquares',
    summary: 'out[i] = f32(sumSquares(row i) / cols) for rows contiguous rows of cols f32: each row\'s sum of squares in f64 in the order of sumSquares (lanes from the row\'s first element), divided by cols in f64, rounded once to f32.',
    args: [
      { name: 'x', type: 'ptr', doc: 'the matrix, row-major' },
      { name: 'rows', type: 'i32', doc: 'rows' },
      { name: 'cols', type: 'i32', doc: 'columns (elements per row)' },
      { name: 'out', type: 'ptr', doc: 'rows f32 means' },
    ],
    result: 'void',
    resultDoc: 'nothing',
    source: FACTORED_SOURCE,
  },
  {
    name: 'colMeanSquares',
    summary: 'out[j] = f32(Σ_i x[i][j]² / rows) for cols columns of a matrix whose rows are ld f32 apart: each column\'s squares summed in f64 from +0 in row order, divided by rows in f64, rounded once to f32.',
    args: [
      { name: 'x', type: 'ptr', doc: 'the first column\'s top element' },
      { name: 'rows', type: 'i32', doc: 'rows' },
      { name: 'cols', type: 'i32', doc: 'columns to reduce' },
      { name: 'ld', type: 'i32', doc: 'elements between rows' },
      { name: 'out', type: 'ptr', doc: 'cols f32 means' },
    ],
    result: 'void',
    resultDoc: 'nothing',
    source: FACTORED_SOURCE,
  },
  {
    name: 'adafactorUpdate',
    summary: 'Adafactor\'s update of a rows×cols matrix from its factors: update[i][j] = f32(f32(1 / f32(sqrt(max(f32(f32(row[i]·col[j]) / rowMean), eps1Sq)))) · g), g = grad[i][j] (negated when negate is nonzero).',
    args: [
      { name: 'row', type: 'ptr', doc: 'rows f32: the row factor (row_var)' },
      { name: 'col', type: 'ptr', doc: 'cols f32: the column factor (col_var)' },
      { name: 'grad', type: 'ptr', doc: 'gradients, row-major' },
      { name: 'update', type: 'ptr', doc: 'the update, row-major (may not overlap the others)' },
      { name: 'rows', type: 'i32', doc: 'rows' },
      { name: 'cols', type: 'i32', doc: 'columns' },
      { name: 'rowMean', type: 'f32', doc: 'the row factor\'s mean, clamped below at eps1' },
      { name: 'eps1Sq', type: 'f32', doc: 'lower bound of the variance estimate, eps1 * eps1' },
      { name: 'negate', type: 'i32', doc: 'nonzero: negate the gradient (maximize)' },
    ],
    result: 'void',
    resultDoc: 'nothing',
    source: FACTORED_SOURCE,
  },
];

/** Every hand-written export: the reductions, then the matrix kernels (the multiply, then Adafactor's). */
export const HAND_WRITTEN: readonly HandWrittenExport[] = [...REDUCTIONS, ...MATRIX_KERNELS, ...FACTORED_KERNELS];
