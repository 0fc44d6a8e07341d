// The kernel module's ABI, defined once: its version, its element-wise kernels (each written
// once in this directory, generated into the SIMD kernel and the JS twin by
// scripts/gen-kernels.ts) and the signatures of the hand-written reductions. Everything that
// lists kernels (the exports, the JS twins, the typed wrappers, thread slicing, flag bits,
// docs/ABI.md) is generated from here.
import type { KernelDef } from '../dsl.js';
import accumulate from './accumulate.js';
import adadelta from './adadelta.js';
import adagrad from './adagrad.js';
import adam from './adam.js';
import adan from './adan.js';
import ademamix from './ademamix.js';
import adopt from './adopt.js';
import average from './average.js';
import adamax from './adamax.js';
import clamp from './clamp.js';
import copy from './copy.js';
import { axpy, lbfgsPair, negate } from './lbfgs.js';
import lion from './lion.js';
import { muonApply, muonMomentum } from './muon.js';
import rmsprop from './rmsprop.js';
import scale from './scale.js';
import scheduleFree from './schedulefree.js';
import sgd from './sgd.js';
import swap from './swap.js';

/**
 * ABI version of the kernel module (its `abiVersion()` export and `KERNEL_ABI_VERSION`).
 * Bump it whenever an export, an argument (order, type, name) or a flag bit changes; the
 * generator refuses to build when the ABI's fingerprint changed but this did not.
 */
export const ABI_VERSION = 12;

/** Fingerprint of ABI version {@link ABI_VERSION}, as the generator computes it (record it when bumping). */
export const ABI_FINGERPRINT = '5b5ea6c5cee7be35';

/** The element-wise kernels, in export order. */
export const KERNELS: readonly KernelDef[] = [sgd, adam, adagrad, rmsprop, adamax, adadelta, lion, copy, scale, clamp, adopt, muonMomentum, muonApply, average, swap, accumulate, adan, ademamix, axpy, negate, lbfgsPair, scheduleFree] as unknown as KernelDef[];

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
 * their value is a fixed combination order across lanes (four f64 lane sums for sumSquares,
 * sumAbs and dot), which an element-wise trace does not express, and a few short loops cost
 * less to keep by hand than a second DSL would. Their signatures are declared here for the ABI and the wrappers.
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
    name: 'sumAbs',
    summary: 'Sum of |x| over n f32 elements, in f64, in the lane order of sumSquares: lane k (elements k, k+4, ...) accumulates in order, and the result is (lane0 + lane1) + (lane2 + lane3).',
    args: [{ name: 'x', type: 'ptr', doc: 'values' }, { name: 'n', type: 'i32', doc: 'number of elements' }],
    result: 'f64',
    resultDoc: 'the sum of absolute values (NaN if any is NaN)',
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

/** Every hand-written export: the reductions, then the matrix kernels. */
export const HAND_WRITTEN: readonly HandWrittenExport[] = [...REDUCTIONS, ...MATRIX_KERNELS];
