// Optimizer state in the arena: one place that knows element types and sizes. Allocation,
// padding, snapshots, state dicts, checkpoints, conversions and thread slicing go through the
// dtype table here (and the kernels' metadata), so the rest of the library handles every
// element type alike.
import { STATE_RANGES } from '../kernels/index.js';
import {
  BLOCK_ELEMENTS, blockCount, fromBfloat16, fromInt8, toBfloat16, toInt8, type StateRange,
} from '../kernels/lowp.js';
import { paddedSize, type Parameter, type ParameterStore } from '../store.js';
import { checkNumber, checkOneOf, type Check } from '../validate.js';

/**
 * Element types of optimizer state: `'float32'` (4 bytes), `'bfloat16'` (2 bytes: the upper
 * half of a float32) and `'int8'` (1 byte, blockwise: a float32 scale per 256 elements).
 */
export type StateDtype = 'float32' | 'bfloat16' | 'int8';

/** Every state dtype, in order of size. */
export const STATE_DTYPES: readonly StateDtype[] = ['float32', 'bfloat16', 'int8'];

/**
 * One low-precision state buffer of a parameter as state dicts and checkpoints carry it: its
 * raw bits, exactly as the optimizer holds them.
 */
export interface QuantizedState {
  /** The element type. */
  dtype: 'bfloat16' | 'int8';
  /** bfloat16: the upper 16 bits of each float32; int8: one code per element. */
  data: Uint16Array | Uint8Array;
  /** int8: one float32 scale per block of `blockSize` elements, from the parameter's first. */
  scales?: Float32Array;
  /** int8: elements per block (256). */
  blockSize?: number;
}

/** One parameter's state buffer: float32 values, or a low-precision buffer's raw bits. */
export type StateValues = Float32Array | QuantizedState;

/**
 * A state buffer's shape for a parameter of shape `shape` (PyTorch's state tensor shape), or
 * undefined where such a parameter keeps none of it.
 */
export type StateShape = (shape: readonly number[]) => readonly number[] | undefined;

/** What an optimizer declares of each state buffer it can hold. */
export interface StateBufferSpec {
  /** PyTorch's state key, camelCase (`expAvg`). */
  readonly name: string;
  /**
   * The buffer's own shape (see {@link StateShape}). Absent: the parameter's own shape, for
   * every parameter (element-wise state, in the group's dtype). Adafactor's factored second
   * moments keep one value per row and per column of a matrix, and the full second moment
   * only for vectors. A buffer of its own shape is always float32 and has its own layout
   * ({@link OwnLayout}).
   */
  readonly shape?: StateShape;
  /**
   * A family of buffers `name.0`, `name.1`, ... rather than one buffer: as many as the
   * optimizer holds at the time (L-BFGS's history of curvature pairs), each a buffer of its own.
   */
  readonly slots?: true;
}

/** A buffer's state shape for a parameter of shape `shape`: its spec's, or the parameter's own. @internal */
export function stateShape(spec: Pick<StateBufferSpec, 'shape'> | undefined, shape: readonly number[]): readonly number[] | undefined {
  return spec?.shape === undefined ? shape : spec.shape(shape);
}

/** Options every optimizer with state buffers takes: the element type of its state. */
export interface StateOptions {
  /**
   * Element type of the state buffers (moments, momentum, sums): `'float32'` (default),
   * `'bfloat16'` (half the bytes; rounded to nearest, ties to even, or stochastically) or
   * `'int8'` (a quarter, plus a float32 scale per 256 elements: blockwise 8-bit quantisation).
   * Fixed when the param group is created; parameters stay float32. See the README's
   * "Low-precision state".
   */
  stateDtype: StateDtype;
  /**
   * bfloat16 state only: round stored values stochastically (up with probability equal to
   * the dropped fraction) instead of to nearest. Driven by a counter-based generator of
   * (`stateSeed`, step, element), so every backend and thread count, and a resumed run, give
   * the same bits (default false).
   */
  stochasticRounding: boolean;
  /** Seed of stochastic rounding, a whole number in [0, 2^32) (default 0). */
  stateSeed: number;
}

/** The defaults of {@link StateOptions}. */
export const STATE_DEFAULTS: Readonly<StateOptions> = Object.freeze({ stateDtype: 'float32', stochasticRounding: false, stateSeed: 0 });

/** The checks of {@link StateOptions}, for an optimizer's option table. */
export const STATE_CHECKS: { readonly [K in keyof StateOptions]: Check } = {
  stateDtype: (value, context) => { checkOneOf(context, 'stateDtype', value, STATE_DTYPES); },
  stochasticRounding: (value, context) => {
    if (typeof value !== 'boolean') throw new TypeError(`${context}: stochasticRounding must be a boolean, got ${String(value)}`);
  },
  stateSeed: (value, context) => { checkNumber(context, 'stateSeed', value, { min: 0, max: 2 ** 32 - 1, integer: true }); },
};

/** Checks across the state options of a group: stochastic rounding is bfloat16's. */
export function checkStateOptions(group: Partial<StateOptions>, context: string): void {
  if (group.stochasticRounding === true && group.stateDtype !== 'bfloat16') {
    throw new RangeError(`${context}: stochasticRounding applies to stateDtype 'bfloat16' only, but stateDtype is ${JSON.stringify(group.stateDtype)}`);
  }
}

/** The int8 map of a state buffer (first moments and momentum signed; second moments and sums unsigned). */
export function stateRange(name: string): StateRange {
  const range = STATE_RANGES[name];
  if (range === undefined) throw new Error(`internal error: state buffer ${JSON.stringify(name)} is no kernel's state array`);
  return range;
}

/** A group's whole buffer (padding included) as raw data: what snapshots and loads carry. @internal */
export interface GroupData {
  readonly data: Float32Array | Uint16Array | Uint8Array;
  /** int8: every block's scale, parameter by parameter. */
  readonly scales?: Float32Array;
}

/** Per element type: its size, the kernel variant it runs, and how its raw data converts. */
export interface DtypeInfo {
  /** Bytes per element in the arena (scales aside). */
  readonly bytesPerElement: number;
  /** int8: elements per block, each with a float32 scale; a parameter's blocks start at its first element. */
  readonly blockElements?: number;
  /** The kernel variant's export suffix (`''`, `'_bf16'`, `'_int8'`). */
  readonly kernelSuffix: string;
  /** A typed array of `count` raw elements. */
  raw(count: number): Float32Array | Uint16Array | Uint8Array;
  /** The raw view over a store's arena. */
  view(store: ParameterStore, address: number, count: number): Float32Array | Uint16Array | Uint8Array;
  /** One parameter's state in this dtype from float32 values (the documented rounding). */
  encode(values: Float32Array, range: StateRange): StateValues;
  /** float32 values of one parameter's state in this dtype (exact). */
  decode(values: StateValues, range: StateRange): Float32Array;
  /** Whether `value` is this dtype's raw form for `size` elements; why not, otherwise. */
  problem(value: unknown, size: number): string | undefined;
}

function quantized(value: unknown, dtype: string): value is QuantizedState {
  return value !== null && typeof value === 'object' && !ArrayBuffer.isView(value) && (value as { dtype?: unknown }).dtype === dtype;
}

const kind = (v: unknown) => (ArrayBuffer.isView(v) ? v.constructor.name : Array.isArray(v) ? 'an array' : typeof v);

/** The element types: everything the host needs of each. */
export const DTYPES: { readonly [D in StateDtype]: DtypeInfo } = {
  float32: {
    bytesPerElement: 4,
    kernelSuffix: '',
    raw: (count) => new Float32Array(count),
    view: (store, address, count) => store.view(address, count),
    encode: (values) => values,
    decode: (values) => values as Float32Array,
    problem: (value, size) => (value instanceof Float32Array ? (value.length === size ? undefined : `has length ${value.length}, expected ${size}`) : 'is not a Float32Array'),
  },
  bfloat16: {
    bytesPerElement: 2,
    kernelSuffix: '_bf16',
    raw: (count) => new Uint16Array(count),
    view: (store, address, count) => store.u16(address, count),
    encode: (values) => ({ dtype: 'bfloat16', data: toBfloat16(values) }),
    decode: (values) => fromBfloat16((values as QuantizedState).data as Uint16Array),
    problem: (value, size) => {
      if (!quantized(value, 'bfloat16')) return 'is not a bfloat16 state ({ dtype: \'bfloat16\', data: Uint16Array })';
      const keys = Object.keys(value).sort().join();
      if (keys !== 'data,dtype') return `has keys ${keys}, expected dtype, data`;
      if (!(value.data instanceof Uint16Array)) return `has data of type ${kind(value.data)}, expected a Uint16Array`;
      return value.data.length === size ? undefined : `has ${value.data.length} elements, expected ${size}`;
    },
  },
  int8: {
    bytesPerElement: 1,
    blockElements: BLOCK_ELEMENTS,
    kernelSuffix: '_int8',
    raw: (count) => new Uint8Array(count),
    view: (store, address, count) => store.u8(address, count),
    encode: (values, range) => ({ dtype: 'int8', blockSize: BLOCK_ELEMENTS, ...toInt8(values, range === 'signed') }),
    decode: (values, range) => fromInt8((values as QuantizedState).data as Uint8Array, (values as QuantizedState).scales!, range === 'signed'),
    problem: (value, size) => {
      if (!quantized(value, 'int8')) return 'is not an int8 state ({ dtype: \'int8\', data: Uint8Array, scales: Float32Array, blockSize })';
      const keys = Object.keys(value).sort().join();
      if (keys !== 'blockSize,data,dtype,scales') return `has keys ${keys}, expected dtype, data, scales, blockSize`;
      if (value.blockSize !== BLOCK_ELEMENTS) return `has blockSize ${String(value.blockSize)}; this library's int8 blocks have ${BLOCK_ELEMENTS} elements`;
      if (!(value.data instanceof Uint8Array)) return `has data of type ${kind(value.data)}, expected a Uint8Array`;
      if (value.data.length !== size) return `has ${value.data.length} elements, expected ${size}`;
      if (!(value.scales instanceof Float32Array)) return `has scales of type ${kind(value.scales)}, expected a Float32Array`;
      return value.scales.length === blockCount(size) ? undefined : `has ${value.scales.length} scales, expected ${blockCount(size)} (one per ${BLOCK_ELEMENTS} elements)`;
    },
  },
};

/** The dtype of a state dict's buffer value (a Float32Array or array of numbers is float32), or undefined when it is none. */
export function dtypeOf(value: unknown): StateDtype | undefined {
  if (value instanceof Float32Array || Array.isArray(value)) return 'float32';
  for (const d of STATE_DTYPES) if (quantized(value, d)) return d;
  return undefined;
}

/** One parameter's state (any dtype, or an array of numbers) in dtype `to`, converting as documented. @internal */
export function convertState(value: StateValues | readonly number[], to: StateDtype, range: StateRange): StateValues {
  const from = dtypeOf(value)!;
  if (from === to) return Array.isArray(value) ? Float32Array.from(value) : (value as StateValues);
  const values = Array.isArray(value) ? Float32Array.from(value) : DTYPES[from].decode(value as StateValues, range);
  return DTYPES[to].encode(values, range);
}

/**
 * Where each of a group's parameters keeps its part of a state buffer, and the buffer's element
 * type. A buffer shaped like its parameters has its group's ({@link GroupState} is one); a
 * buffer of its own shape has its own ({@link OwnLayout}). @internal
 */
export interface BufferLayout {
  /** the element type */
  readonly dtype: StateDtype;
  /** element offset of each parameter's part, in group order */
  readonly paramOffsets: readonly number[];
  /** int8: the index of each parameter's first block among the buffer's scales */
  readonly blockOffsets: readonly number[];
  /** elements of the whole buffer, padding included */
  readonly elements: number;
  /** int8: blocks (scales) of the buffer */
  readonly blocks: number;
  /** elements of each parameter's part (padding excluded) where they are not the parameter's size */
  readonly sizes?: readonly number[];
  /** each parameter's state shape, or undefined where it keeps none, where it is not the parameter's */
  readonly shapes?: readonly (readonly number[] | undefined)[];
}

/**
 * The layout of a float32 buffer of its own shape ({@link StateBufferSpec.shape}): each
 * parameter's part padded to whole vectors, and empty for a parameter that keeps none. Its
 * indices are the group's; frozen parameters' cohorts, whose states list some of the group's
 * parameters, find a parameter's part through `index`. @internal
 */
export interface OwnLayout extends BufferLayout {
  readonly dtype: 'float32';
  readonly sizes: readonly number[];
  readonly shapes: readonly (readonly number[] | undefined)[];
  /** each of the group's parameters' index in group order */
  readonly index: ReadonlyMap<Parameter, number>;
}

/** The layout of a buffer of shape `shape` over a group's parameters (see {@link OwnLayout}). @internal */
export function ownLayout(params: readonly Parameter[], shape: StateShape): OwnLayout {
  const paramOffsets: number[] = [], sizes: number[] = [], shapes: (readonly number[] | undefined)[] = [];
  let elements = 0;
  for (const p of params) {
    const own = shape(p.shape);
    const size = own === undefined ? 0 : own.reduce((a, b) => a * b, 1);
    paramOffsets.push(elements);
    sizes.push(size);
    shapes.push(own);
    elements += paddedSize(size);
  }
  return { dtype: 'float32', paramOffsets, blockOffsets: [], elements, blocks: 0, sizes, shapes, index: new Map(params.map((p, i) => [p, i])) };
}

/** Elements of parameter `pi`'s part of a buffer of `layout` (padding excluded). @internal */
export function partSize(layout: BufferLayout, params: readonly Parameter[], pi: number): number {
  return layout.sizes === undefined ? params[pi].size : layout.sizes[pi];
}

/** Whether parameter `pi` keeps a part of a buffer of `layout`. @internal */
export function keepsPart(layout: BufferLayout, pi: number): boolean {
  return layout.shapes === undefined || layout.shapes[pi] !== undefined;
}

/** One allocated state buffer of a param group: all of the group's parameters, in group order. */
export interface StateBuffer {
  /** Absolute byte address in the arena; never changes. */
  readonly address: number;
  readonly dtype: StateDtype;
  /** int8: absolute byte address of the float32 scales (the group's blocks, parameter by parameter). */
  readonly scales?: number;
  /** A buffer of its own shape: its layout (else the group's). */
  readonly layout?: OwnLayout;
}

/** The layout of one of a group's buffers: its own, or the group's. @internal */
export function layoutOf(gs: GroupState, buffer: StateBuffer): BufferLayout {
  return buffer.layout ?? gs;
}

/**
 * A stretch of a group's parameters that lie back to back in the arena (in both the data
 * and the grad halves of one block): one kernel call. With int8 state every parameter is its
 * own run (its blocks start at its first element). @internal
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

/** Book-keeping of one param group (and the layout of its buffers shaped like their parameters). @internal */
export interface GroupState extends BufferLayout {
  /** steps taken (PyTorch keeps one per parameter; a group's parameters step together here, unless `books` says otherwise) */
  step: number;
  /** the element type of every state buffer of the group shaped like its parameters (those of their own shape are float32) */
  readonly dtype: StateDtype;
  readonly runs: readonly Run[];
  /** element offset of each parameter in the buffers shaped like the parameters, in group order */
  readonly paramOffsets: readonly number[];
  /** int8: the index of each parameter's first block among the group's scales */
  readonly blockOffsets: readonly number[];
  /** elements of each buffer shaped like the parameters: the sum of their padded sizes */
  readonly elements: number;
  /** int8: blocks (scales) of each state buffer */
  readonly blocks: number;
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
 * share a run, except under a blocked state dtype (int8), where each parameter is its own
 * run (its blocks start at its first element). @internal
 */
export function runsOf(params: readonly Parameter[], offsets: readonly number[], dtype: StateDtype): Run[] {
  const runs: { data: number; grad: number; state: number; n: number }[] = [];
  const merge = DTYPES[dtype].blockElements === undefined;
  params.forEach((p, i) => {
    const last = runs[runs.length - 1];
    if (merge && last !== undefined && last.data + last.n * 4 === p.dataAddress && last.grad + last.n * 4 === p.gradAddress && last.state + last.n === offsets[i]) {
      last.n += p.paddedSize;
    } else {
      runs.push({ data: p.dataAddress, grad: p.gradAddress, state: offsets[i], n: p.paddedSize });
    }
  });
  return runs;
}

/** Lays a group's parameters out as runs (one kernel call each) and state offsets. @internal */
export function layoutGroup(params: readonly Parameter[], dtype: StateDtype): GroupState {
  const paramOffsets: number[] = [];
  const blockOffsets: number[] = [];
  const blockElements = DTYPES[dtype].blockElements;
  let elements = 0, blocks = 0;
  for (const p of params) {
    paramOffsets.push(elements);
    blockOffsets.push(blocks);
    elements += p.paddedSize;
    if (blockElements !== undefined) blocks += Math.ceil(p.paddedSize / blockElements);
  }
  return { step: 0, dtype, runs: runsOf(params, paramOffsets, dtype), paramOffsets, blockOffsets, elements, blocks, buffers: new Map(), fresh: new Set(), scalars: {} };
}

/**
 * Allocates a zeroed state buffer in the store's arena: of the group's dtype and layout (and
 * int8 scales), or float32 of its own layout `own`. @internal
 */
export function allocateBuffer(store: ParameterStore, gs: GroupState, own?: OwnLayout): StateBuffer {
  if (own !== undefined) return { address: store.allocate(own.elements * 4), dtype: 'float32', layout: own };
  const address = store.allocate(gs.elements * DTYPES[gs.dtype].bytesPerElement);
  return DTYPES[gs.dtype].blockElements !== undefined ? { address, dtype: gs.dtype, scales: store.allocate(4 * gs.blocks) } : { address, dtype: gs.dtype };
}

/** Absolute byte address of element `element` of a buffer. @internal */
export function addressOf(buffer: StateBuffer, element: number): number {
  return buffer.address + element * DTYPES[buffer.dtype].bytesPerElement;
}

/** A copy of a group's whole buffer, raw. @internal */
export function readGroup(store: ParameterStore, gs: GroupState, buffer: StateBuffer): GroupData {
  const { elements, blocks } = layoutOf(gs, buffer);
  // (An empty buffer may sit past the arena's end.)
  const data = elements === 0 ? DTYPES[buffer.dtype].raw(0) : DTYPES[buffer.dtype].view(store, buffer.address, elements).slice();
  return buffer.scales === undefined ? { data } : { data, scales: store.view(buffer.scales, blocks).slice() };
}

/** Writes a group's whole buffer from raw data. @internal */
export function writeGroup(store: ParameterStore, gs: GroupState, buffer: StateBuffer, values: GroupData): void {
  const { elements, blocks } = layoutOf(gs, buffer);
  if (elements > 0) DTYPES[buffer.dtype].view(store, buffer.address, elements).set(values.data as never);
  if (buffer.scales !== undefined) store.view(buffer.scales, blocks).set(values.scales!);
}

/** Parameter `pi`'s part (`size` elements) of a buffer's raw data of `layout`, as a state dict holds it. @internal */
export function paramState(layout: BufferLayout, values: GroupData, pi: number, size: number): StateValues {
  const at = layout.paramOffsets[pi];
  const data = values.data.slice(at, at + size);
  switch (layout.dtype) {
    case 'float32': return data as Float32Array;
    case 'bfloat16': return { dtype: 'bfloat16', data: data as Uint16Array };
    case 'int8': {
      const b = layout.blockOffsets[pi];
      return { dtype: 'int8', data: data as Uint8Array, scales: values.scales!.slice(b, b + blockCount(size)), blockSize: BLOCK_ELEMENTS };
    }
  }
}

/**
 * A buffer's raw data of `layout` from each parameter's state in its dtype (`perParam[pi]`, or
 * the buffer's initial value `init` where a parameter has none): padding zero. @internal
 */
export function groupFromParams(layout: BufferLayout, params: readonly Parameter[], perParam: readonly (StateValues | undefined)[], init: number, range: StateRange): GroupData {
  const info = DTYPES[layout.dtype];
  const data = info.raw(layout.elements);
  const scales = info.blockElements !== undefined ? new Float32Array(layout.blocks) : undefined;
  params.forEach((_, pi) => {
    let v = perParam[pi];
    if (v === undefined) {
      if (init === 0) return;
      v = info.encode(new Float32Array(partSize(layout, params, pi)).fill(init), range);
    }
    const raw = v instanceof Float32Array ? v : v.data;
    data.set(raw as never, layout.paramOffsets[pi]);
    if (scales) scales.set((v as QuantizedState).scales!, layout.blockOffsets[pi]);
  });
  return scales ? { data, scales } : { data };
}

/** Zeroes elements [element, element + count) of a buffer (their codes; scales stay). @internal */
export function zeroElements(store: ParameterStore, buffer: StateBuffer, element: number, count: number): void {
  DTYPES[buffer.dtype].view(store, addressOf(buffer, element), count).fill(0);
}

/**
 * Parameter `pi`'s state (`size` elements) in a buffer of `layout`: a live view of its float32
 * values, or of a low-precision buffer's raw data (codes, and int8 scales). @internal
 */
export function viewParamState(store: ParameterStore, layout: BufferLayout, buffer: StateBuffer, pi: number, size: number): StateValues {
  const address = addressOf(buffer, layout.paramOffsets[pi]);
  switch (buffer.dtype) {
    // (An empty part may sit past the arena's end.)
    case 'float32': return size === 0 ? new Float32Array(0) : store.view(address, size);
    case 'bfloat16': return { dtype: 'bfloat16', data: store.u16(address, size) };
    case 'int8': return { dtype: 'int8', data: store.u8(address, size), scales: store.view(buffer.scales! + 4 * layout.blockOffsets[pi], blockCount(size)), blockSize: BLOCK_ELEMENTS };
  }
}
