// Optimizer state in the arena: one place that knows element types and sizes. Allocation,
// padding, snapshots, state dicts, checkpoints and thread slicing go through here, so a new
// element type (bfloat16, blockwise int8 with per-block scales) needs no change elsewhere.
import type { Parameter, ParameterStore } from '../store.js';

/** Element types of optimizer state buffers (float32 today). */
export type StateDtype = 'float32';

/** What an optimizer declares of each state buffer it can hold. */
export interface StateBufferSpec {
  /** PyTorch's state key, camelCase (`expAvg`). */
  readonly name: string;
  /** Element type in the arena. */
  readonly dtype: StateDtype;
  /**
   * A family of buffers `name.0`, `name.1`, ... rather than one buffer: as many as the
   * optimizer holds at the time (L-BFGS's history of curvature pairs), each a buffer of its own.
   */
  readonly slots?: true;
}

/** Per element type: bytes per element in the arena. */
export const DTYPES: { readonly [D in StateDtype]: { readonly bytesPerElement: number } } = {
  float32: { bytesPerElement: 4 },
};

/** One allocated state buffer of a param group: all of the group's parameters, in group order. */
export interface StateBuffer {
  /** Absolute byte address in the arena; never changes. */
  readonly address: number;
  readonly dtype: StateDtype;
}

/**
 * A stretch of a group's parameters that lie back to back in the arena (in both the data
 * and the grad halves of one block): one kernel call. @internal
 */
export interface Run {
  /** absolute byte address of the first value */
  readonly data: number;
  /** absolute byte address of the first gradient element */
  readonly grad: number;
  /** element offset into each of the group's state buffers */
  readonly state: number;
  /** elements, padding included (a multiple of 4) */
  readonly n: number;
}

/** Book-keeping of one param group. @internal */
export interface GroupState {
  /** steps taken (PyTorch keeps one per parameter; a group's parameters step together here, unless `books` says otherwise) */
  step: number;
  readonly runs: readonly Run[];
  /** state-buffer element offset of each parameter, in group order */
  readonly paramOffsets: readonly number[];
  /** elements of each state buffer: the sum of the parameters' padded sizes */
  readonly elements: number;
  /** the allocated state buffers, by name */
  readonly buffers: Map<string, StateBuffer>;
  /** buffers allocated since the last step: no update has written them yet */
  readonly fresh: Set<string>;
  /** host-side per-group state kept in float64 (NAdam's muProduct) */
  readonly scalars: Record<string, number>;
  /**
   * Each parameter's own step count, unwritten buffers and scalars, once frozen parameters made
   * them differ within the group; undefined while `step`, `fresh` and `scalars` hold for all.
   */
  books?: ParamBook[];
}

/** One parameter's book-keeping where it differs from its group's (see {@link GroupState.books}). @internal */
export interface ParamBook {
  step: number;
  readonly fresh: Set<string>;
  readonly scalars: Record<string, number>;
}

/**
 * The runs (one kernel call each) of `params`, whose state-buffer element offsets are
 * `offsets`: adjacent parameters (in the data and grad halves, and in the state buffers)
 * share a run. @internal
 */
export function runsOf(params: readonly Parameter[], offsets: readonly number[]): Run[] {
  const runs: { data: number; grad: number; state: number; n: number }[] = [];
  params.forEach((p, i) => {
    const last = runs[runs.length - 1];
    if (last !== undefined && last.data + last.n * 4 === p.dataAddress && last.grad + last.n * 4 === p.gradAddress && last.state + last.n === offsets[i]) {
      last.n += p.paddedSize;
    } else {
      runs.push({ data: p.dataAddress, grad: p.gradAddress, state: offsets[i], n: p.paddedSize });
    }
  });
  return runs;
}

/** Lays a group's parameters out as runs (one kernel call each) and state offsets. @internal */
export function layoutGroup(params: readonly Parameter[]): GroupState {
  const paramOffsets: number[] = [];
  let elements = 0;
  for (const p of params) {
    paramOffsets.push(elements);
    elements += p.paddedSize;
  }
  return { step: 0, runs: runsOf(params, paramOffsets), paramOffsets, elements, buffers: new Map(), fresh: new Set(), scalars: {} };
}

/** Allocates a zeroed buffer of `elements` elements of `dtype` in the store's arena. @internal */
export function allocateBuffer(store: ParameterStore, dtype: StateDtype, elements: number): StateBuffer {
  return { address: store.allocate(elements * DTYPES[dtype].bytesPerElement), dtype };
}

/** Absolute byte address of element `element` of a buffer. @internal */
export function addressOf(buffer: StateBuffer, element: number): number {
  return buffer.address + element * DTYPES[buffer.dtype].bytesPerElement;
}

/** A copy of `count` elements from `element` on, as float32 values. @internal */
export function readBuffer(store: ParameterStore, buffer: StateBuffer, element: number, count: number): Float32Array {
  return store.view(addressOf(buffer, element), count).slice();
}

/** Writes float32 `values` (rounded to the buffer's type) from element `element` on. @internal */
export function writeBuffer(store: ParameterStore, buffer: StateBuffer, element: number, values: ArrayLike<number>): void {
  store.view(addressOf(buffer, element), values.length).set(values);
}

/** Fills `count` elements from `element` on with `value`. @internal */
export function fillBuffer(store: ParameterStore, buffer: StateBuffer, element: number, count: number, value: number): void {
  store.view(addressOf(buffer, element), count).fill(value);
}

/** A live view of `count` elements from `element` on (float32 buffers). @internal */
export function viewBuffer(store: ParameterStore, buffer: StateBuffer, element: number, count: number): Float32Array {
  return store.view(addressOf(buffer, element), count);
}
