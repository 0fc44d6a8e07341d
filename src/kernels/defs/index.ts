// The kernel module's ABI, defined once: its version, its element-wise kernels (each written
// once in this directory, generated into the SIMD kernel and the JS twin by
// scripts/gen-kernels.ts) and the signatures of the hand-written reductions. Everything that
// lists kernels (the exports, the JS twins, the typed wrappers, thread slicing, flag bits,
// docs/ABI.md) is generated from here.
import type { KernelDef } from '../dsl.js';
import adadelta from './adadelta.js';
import adagrad from './adagrad.js';
import adam from './adam.js';
import adopt from './adopt.js';
import adamax from './adamax.js';
import clamp from './clamp.js';
import copy from './copy.js';
import lion from './lion.js';
import rmsprop from './rmsprop.js';
import scale from './scale.js';
import sgd from './sgd.js';

/**
 * ABI version of the kernel module (its `abiVersion()` export and `KERNEL_ABI_VERSION`).
 * Bump it whenever an export, an argument (order, type, name) or a flag bit changes; the
 * generator refuses to build when the ABI's fingerprint changed but this did not.
 */
export const ABI_VERSION = 6;

/** Fingerprint of ABI version {@link ABI_VERSION}, as the generator computes it (record it when bumping). */
export const ABI_FINGERPRINT = 'c86e49b40c0299e7';

/** The element-wise kernels, in export order. */
export const KERNELS: readonly KernelDef[] = [sgd, adam, adagrad, rmsprop, adamax, adadelta, lion, copy, scale, clamp, adopt] as unknown as KernelDef[];

/** A hand-written export's signature (the reductions: a pair of SIMD kernel and JS twin kept by hand). */
export interface HandWrittenExport {
  readonly name: string;
  readonly summary: string;
  readonly args: readonly { readonly name: string; readonly type: 'ptr' | 'i32' | 'f32'; readonly doc: string }[];
  readonly result: 'f64' | 'f32' | 'i32';
  readonly resultDoc: string;
}

/**
 * The reductions stay hand-written pairs (assembly/kernels/reduce.ts and src/kernels/reduce.ts):
 * their value is a fixed combination order across lanes (four f64 lane sums for sumSquares),
 * which an element-wise trace does not express, and three short loops cost less to keep by
 * hand than a second DSL would. Their signatures are declared here for the ABI and the wrappers.
 */
export const REDUCTIONS: readonly HandWrittenExport[] = [
  {
    name: 'sumSquares',
    summary: 'Sum of squares of n f32 elements, in f64: lane k (elements k, k+4, k+8, ...) accumulates in order, and the result is (lane0 + lane1) + (lane2 + lane3).',
    args: [{ name: 'x', type: 'ptr', doc: 'values' }, { name: 'n', type: 'i32', doc: 'number of elements' }],
    result: 'f64',
    resultDoc: 'the sum of squares (each square exact in f64)',
  },
  {
    name: 'maxAbs',
    summary: 'Largest |x| over n f32 elements.',
    args: [{ name: 'x', type: 'ptr', doc: 'values' }, { name: 'n', type: 'i32', doc: 'number of elements' }],
    result: 'f32',
    resultDoc: 'the largest absolute value (NaN if any is NaN; 0 for n = 0)',
  },
  {
    name: 'allFinite',
    summary: 'Whether n f32 elements are all finite.',
    args: [{ name: 'x', type: 'ptr', doc: 'values' }, { name: 'n', type: 'i32', doc: 'number of elements' }],
    result: 'i32',
    resultDoc: '1 when no element is Inf or NaN, else 0',
  },
];
