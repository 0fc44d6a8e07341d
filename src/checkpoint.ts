// Binary checkpoints: parameters, optimizer state, scheduler state, an averaged model and a
// gradient accumulator in one Uint8Array.
import { GradientAccumulator, type GradientAccumulatorStateDict } from './accumulate.js';
import { AveragedModel, type AveragedModelStateDict } from './averaged.js';
import { KERNELS_WASM_SHA256 } from './generated/kernels-wasm.js';
import type { AnyOptimizer, LoadStateOptions, OptimizerStateDict, ParamStateEntry } from './optim/optimizer.js';
import type { StateValues } from './optim/state.js';
import type { HyperparameterScheduler, HyperparameterState } from './schedules/hyperparameter.js';
import type { ReduceLROnPlateau, PlateauState } from './schedules/plateau.js';
import { LRScheduler, type SchedulerState } from './schedules/scheduler.js';
import { kindOf } from './validate.js';
import { assertLittleEndian } from './state-json.js';
import { ParameterStore } from './store.js';

const MAGIC = 'SIMDOPTC';
/**
 * Format version 2: data blocks may hold 16- or 8-bit elements (low-precision optimizer state),
 * each block padded to whole 4 bytes. Version 1 (float32 blocks only) still loads.
 */
const FORMAT_VERSION = 2;

/** The element types of data blocks (float32 when `type` is absent). */
const BLOCK_TYPES = { uint16: Uint16Array, uint8: Uint8Array } as const;
type BlockType = keyof typeof BLOCK_TYPES;
type BlockArray = Float32Array | Uint16Array | Uint8Array;

/** What a checkpoint holds, or restores into. */
export interface CheckpointParts {
  /** The store whose parameters are saved (all of them) or restored. */
  store: ParameterStore;
  /** The optimizer whose state is saved or restored. */
  optimizer?: AnyOptimizer;
  /** The scheduler whose state is saved or restored (a ChainedScheduler holds several). */
  scheduler?: LRScheduler | ReduceLROnPlateau | HyperparameterScheduler;
  /** An averaged model (EMA or SWA) of the store's parameters, saved or restored with its averages. */
  averaged?: AveragedModel;
  /** The gradient accumulator of the optimizer (which must be in the checkpoint too), saved or restored mid-window. */
  accumulator?: GradientAccumulator;
}

/** A data block: `size` elements of float32, or of `type`. */
interface Block { size: number; type?: BlockType }
/** A float32 array in the data section, by block index. */
interface BlockRef { block: number }
/** A state buffer in the header: a float32 block, or a low-precision buffer whose arrays are blocks. */
type BufferRef = BlockRef | { dtype: string; data: BlockRef; scales?: BlockRef; blockSize?: number };
interface Header {
  kernelHash: string;
  backend: string;
  params: { name: string; size: number; shape?: number[] }[];
  optimizer?: Omit<OptimizerStateDict, 'state'> & { state: Record<number, Record<string, number | BufferRef>> };
  scheduler?: SchedulerState | PlateauState | HyperparameterState;
  averaged?: Omit<AveragedModelStateDict, 'averages'> & { averages: BlockRef[] };
  accumulator?: Omit<GradientAccumulatorStateDict, 'accumulated'> & { accumulated?: BlockRef[] };
  blocks: Block[];
}

let crcTable: Uint32Array | undefined;

/** CRC-32 (IEEE 802.3, as zlib) of `bytes`. */
export function crc32(bytes: Uint8Array): number {
  if (!crcTable) {
    crcTable = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      crcTable[n] = c >>> 0;
    }
  }
  const t = crcTable;
  let crc = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) crc = t[(crc ^ bytes[i]) & 0xff] ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

const PARTS = ['store', 'optimizer', 'scheduler', 'averaged', 'accumulator'];

function checkParts(context: string, parts: CheckpointParts): void {
  if (parts === null || typeof parts !== 'object' || !(parts.store instanceof ParameterStore)) {
    throw new TypeError(`${context}: expected { store, optimizer?, scheduler?, averaged?, accumulator? } with a ParameterStore`);
  }
  for (const key of Object.keys(parts)) {
    if (!PARTS.includes(key)) throw new Error(`${context}: unknown part ${JSON.stringify(key)} (valid: ${PARTS.join(', ')})`);
  }
  parts.store.assertLive(context);
  if (parts.optimizer !== undefined && parts.optimizer.store !== parts.store) throw new Error(`${context}: the optimizer belongs to another ParameterStore`);
  if (parts.scheduler !== undefined) {
    if (!(parts.scheduler instanceof LRScheduler)) throw new TypeError(`${context}: scheduler is not a scheduler`);
    if (parts.optimizer === undefined || parts.scheduler.optimizer !== (parts.optimizer as unknown)) {
      throw new Error(`${context}: a scheduler needs its optimizer in the checkpoint too`);
    }
  }
  if (parts.averaged !== undefined) {
    if (!(parts.averaged instanceof AveragedModel)) throw new TypeError(`${context}: averaged is not an AveragedModel`);
    if (parts.averaged.store !== parts.store) throw new Error(`${context}: the averaged model belongs to another ParameterStore`);
  }
  if (parts.accumulator !== undefined) {
    if (!(parts.accumulator instanceof GradientAccumulator)) throw new TypeError(`${context}: accumulator is not a GradientAccumulator`);
    if (parts.optimizer === undefined || parts.accumulator.optimizer !== parts.optimizer) {
      throw new Error(`${context}: a gradient accumulator needs its optimizer in the checkpoint too`);
    }
  }
}


/**
 * Saves the store's parameters and, when given, the state of the optimizer, the scheduler,
 * an averaged model (its averages and `nAveraged`) and a gradient accumulator (its window,
 * mid-window sums included) as compact bytes: a magic string and version, a JSON header
 * (names, sizes, hyperparameters, kernel build), the raw buffers (float32; bfloat16 and int8
 * optimizer state as its raw 16- and 8-bit data and float32 scales), and a CRC-32 of
 * everything before it. Gradients are not saved, nor which parameters are frozen. Loads on
 * either backend. An averaged model must be swapped out (a checkpoint of the store alone taken
 * while it is swapped in holds the averaged values as the parameters: a way to export them).
 *
 * @example
 * const bytes = saveCheckpoint({ store, optimizer: opt, scheduler: sched, averaged: ema, accumulator: acc });
 * await fs.promises.writeFile('run.ckpt', bytes);
 */
export function saveCheckpoint(parts: CheckpointParts): Uint8Array {
  checkParts('saveCheckpoint', parts);
  assertLittleEndian('saveCheckpoint');
  const { store, optimizer, scheduler, averaged, accumulator } = parts;
  const arrays: BlockArray[] = [];
  const blocks: Block[] = [];
  const add = (a: BlockArray) => {
    arrays.push(a);
    blocks.push(a instanceof Uint16Array ? { size: a.length, type: 'uint16' } : a instanceof Uint8Array ? { size: a.length, type: 'uint8' } : { size: a.length });
    return { block: blocks.length - 1 };
  };
  const params = store.parameters.map((p) => { add(p.data); return { name: p.name, size: p.size, shape: [...p.shape] }; });
  const ref = (v: StateValues): BufferRef => {
    if (v instanceof Float32Array) return add(v);
    const { scales, data, ...rest } = v;
    return { ...rest, data: add(data), ...(scales ? { scales: add(scales) } : {}) };
  };
  let opt: Header['optimizer'];
  if (optimizer) {
    const sd = optimizer.stateDict();
    const state: Record<number, Record<string, number | BufferRef>> = {};
    for (const [index, entry] of Object.entries(sd.state)) {
      state[Number(index)] = Object.fromEntries(Object.entries(entry).map(([k, v]) => [k, typeof v === 'number' ? v : ref(v)]));
    }
    opt = { ...sd, state };
  }
  let avg: Header['averaged'];
  if (averaged) {
    const { averages, ...rest } = averaged.stateDict();
    avg = { ...rest, averages: averages.map((a) => add(a)) };
  }
  let acc: Header['accumulator'];
  if (accumulator) {
    const { accumulated, ...rest } = accumulator.stateDict();
    acc = { ...rest, ...(accumulated ? { accumulated: accumulated.map((a) => add(a)) } : {}) };
  }
  const header: Header = {
    kernelHash: KERNELS_WASM_SHA256, backend: store.backend, params, blocks,
    ...(opt ? { optimizer: opt } : {}), ...(scheduler ? { scheduler: scheduler.stateDict() } : {}),
    ...(avg ? { averaged: avg } : {}), ...(acc ? { accumulator: acc } : {}),
  };
  let json = new TextEncoder().encode(JSON.stringify(header));
  const padded = Math.ceil(json.length / 4) * 4;
  const dataBytes = blocks.reduce((n, b) => n + blockBytes(b), 0);
  const total = 8 + 4 + 4 + padded + dataBytes + 4;
  const out = new Uint8Array(total);
  const view = new DataView(out.buffer);
  for (let i = 0; i < 8; i++) out[i] = MAGIC.charCodeAt(i);
  view.setUint32(8, FORMAT_VERSION, true);
  view.setUint32(12, json.length, true);
  out.set(json, 16);
  out.fill(0x20, 16 + json.length, 16 + padded);
  json = new Uint8Array(0);
  let at = 16 + padded;
  arrays.forEach((a, i) => {
    new Uint8Array(out.buffer, at, a.byteLength).set(new Uint8Array(a.buffer, a.byteOffset, a.byteLength));
    at += blockBytes(blocks[i]);
  });
  view.setUint32(total - 4, crc32(out.subarray(0, total - 4)), true);
  return out;
}

/** What {@link loadCheckpoint} reads from: a byte array at any offset, an ArrayBuffer, or a DataView. */
export type CheckpointBytes = Uint8Array | ArrayBuffer | DataView;

/**
 * A private copy of the checkpoint's bytes, from offset 0 of a buffer of its own, whatever the
 * container: a Node `Buffer` (a `Uint8Array` at any offset into a shared pool, whose `slice`
 * is a view), a `subarray`, an `ArrayBuffer` (`fetch(...).arrayBuffer()`), or a `DataView`.
 * Copying once makes every later read relative to the copy, and nothing the caller does
 * while loading can change what is read.
 */
function copyBytes(input: unknown, fail: (why: string) => never): Uint8Array {
  const tag = Object.prototype.toString.call(input);
  let view: Uint8Array;
  if (ArrayBuffer.isView(input) && (tag === '[object Uint8Array]' || tag === '[object DataView]')) {
    view = new Uint8Array(input.buffer, input.byteOffset, input.byteLength);
  } else if (tag === '[object ArrayBuffer]' || tag === '[object SharedArrayBuffer]') {
    view = new Uint8Array(input as ArrayBuffer);
  } else {
    throw new TypeError(`loadCheckpoint: expected the checkpoint as a Uint8Array (a Node Buffer is one), an ArrayBuffer or a DataView, got ${kindOf(input)}; nothing was changed`);
  }
  if (view.byteLength < 20) fail(`${view.byteLength} bytes is too short for a checkpoint`);
  const copy = new Uint8Array(view.byteLength);
  copy.set(view);
  return copy;
}

/** Bytes a block takes in the data section: its elements, padded to whole 4 bytes. */
function blockBytes(b: Block): number {
  return Math.ceil((b.size * (b.type === undefined ? 4 : BLOCK_TYPES[b.type].BYTES_PER_ELEMENT)) / 4) * 4;
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  v !== null && typeof v === 'object' && !Array.isArray(v) && Object.getPrototypeOf(v) === Object.prototype;

/** The header, checked for shape (not yet against the store): every field where and what it must be. */
function checkHeader(header: unknown, dataBytes: number, version: number, fail: (why: string) => never): Header {
  if (!isObject(header)) fail('the header is not a JSON object');
  const h = header as Record<string, unknown>;
  for (const key of Object.keys(h)) {
    if (!['kernelHash', 'backend', 'params', 'optimizer', 'scheduler', 'averaged', 'accumulator', 'blocks'].includes(key)) fail(`the header holds an unknown field ${JSON.stringify(key)}`);
  }
  if (typeof h.kernelHash !== 'string') fail('the header has no kernelHash');
  if (typeof h.backend !== 'string') fail('the header has no backend');
  if (!Array.isArray(h.blocks)) fail('the header has no blocks');
  let total = 0;
  (h.blocks as unknown[]).forEach((b, i) => {
    const typed = version >= 2 && isObject(b) && Object.keys(b).sort().join() === 'size,type';
    if (!isObject(b) || (Object.keys(b).join() !== 'size' && !typed) || !Number.isSafeInteger(b.size) || (b.size as number) < 0 ||
      (typed && !Object.prototype.hasOwnProperty.call(BLOCK_TYPES, b.type as string))) {
      fail(`block ${i} is not { size: n }${version >= 2 ? ' or { size: n, type: \'uint16\' | \'uint8\' }' : ''} with a whole n >= 0`);
    }
    total += blockBytes(b as unknown as Block);
  });
  if (total !== dataBytes) fail(`the blocks hold ${total} bytes, the data section ${dataBytes}`);
  if (!Array.isArray(h.params)) fail('the header has no params');
  (h.params as unknown[]).forEach((p, i) => {
    const keys = Object.keys(p ?? {}).sort().join();
    if (!isObject(p) || (keys !== 'name,size' && keys !== 'name,shape,size') || typeof p.name !== 'string' || !Number.isSafeInteger(p.size) || (p.size as number) < 0) fail(`params[${i}] is not { name, size, shape }`);
    if (p.shape !== undefined && (!Array.isArray(p.shape) || p.shape.length === 0 || !p.shape.every((d) => Number.isSafeInteger(d) && (d as number) >= 0))) fail(`params[${i}].shape is not a list of whole numbers`);
  });
  if (h.optimizer !== undefined && !isObject(h.optimizer)) fail('the optimizer section is not an object');
  if (h.scheduler !== undefined && !isObject(h.scheduler)) fail('the scheduler section is not an object');
  if (h.averaged !== undefined && !isObject(h.averaged)) fail('the averaged section is not an object');
  if (h.accumulator !== undefined && !isObject(h.accumulator)) fail('the accumulator section is not an object');
  return h as unknown as Header;
}

/**
 * Restores a checkpoint from {@link saveCheckpoint} into `store` (its parameters must have the
 * same names and sizes) and, when given, into `optimizer`, `scheduler`, `averaged` and
 * `accumulator` (which must be of the classes, options, groups and parameters that were
 * saved; the parts given must be the parts saved). Checkpoints saved before averaged models
 * and accumulators could be saved load as they did. `bytes` may be a `Uint8Array` at any
 * offset (a Node `Buffer` from `readFileSync` included), an `ArrayBuffer` (from
 * `fetch(...).arrayBuffer()` or `Blob.arrayBuffer()`) or a `DataView`; anything else is a
 * TypeError. Everything is checked first (checksum, format, header fields, parameters,
 * state, scheduler): bad bytes or a mismatch throw an Error that says what is wrong and change
 * nothing. Resuming is exact: continuing gives the same bits as the run that was saved, on
 * either backend.
 *
 * @example
 * writeFileSync('run.ckpt', saveCheckpoint({ store, optimizer: opt, scheduler: sched }));
 * // later, or in another process:
 * loadCheckpoint(readFileSync('run.ckpt'), { store, optimizer: opt, scheduler: sched });
 */
export function loadCheckpoint(input: CheckpointBytes, parts: CheckpointParts, options: LoadStateOptions = {}): void {
  const fail = (why: string): never => { throw new Error(`loadCheckpoint: ${why}; nothing was changed`); };
  checkParts('loadCheckpoint', parts);
  assertLittleEndian('loadCheckpoint');
  const bytes = copyBytes(input, fail);
  const view = new DataView(bytes.buffer);
  if (view.getUint32(bytes.length - 4, true) !== crc32(bytes.subarray(0, bytes.length - 4))) {
    fail('checksum mismatch: the checkpoint is truncated or altered');
  }
  for (let i = 0; i < 8; i++) if (bytes[i] !== MAGIC.charCodeAt(i)) fail('not a simdopt checkpoint (bad magic)');
  const version = view.getUint32(8, true);
  if (version !== 1 && version !== FORMAT_VERSION) fail(`unsupported checkpoint format version ${version} (this library reads 1 and ${FORMAT_VERSION})`);
  const headerLength = view.getUint32(12, true);
  const padded = Math.ceil(headerLength / 4) * 4;
  if (16 + padded > bytes.length - 4) fail(`the header (${headerLength} bytes) runs past the end`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(16, 16 + headerLength)));
  } catch {
    fail('the header is not valid JSON');
  }
  const header = checkHeader(parsed, bytes.length - 4 - 16 - padded, version, fail);
  // `bytes` is a private copy starting at offset 0, so every block is 4-byte aligned.
  const starts: number[] = [];
  header.blocks.reduce((at, b) => { starts.push(at); return at + blockBytes(b); }, 16 + padded);
  const block = (i: number): BlockArray => {
    const b = header.blocks[i];
    return new (b.type === undefined ? Float32Array : BLOCK_TYPES[b.type])(bytes.buffer as ArrayBuffer, starts[i], b.size);
  };

  const { store, optimizer, scheduler, averaged, accumulator } = parts;
  const saved = header.params;
  const here = store.parameters;
  const names = (list: readonly { name: string; size: number; shape?: readonly number[] }[]) =>
    list.map((p) => `${p.name}[${p.shape && p.shape.length > 1 ? p.shape.join('×') : p.size}]`).join(', ') || 'none';
  const sameShape = (a: readonly number[] | undefined, b: readonly number[]) => a === undefined || (a.length === b.length && a.every((x, i) => x === b[i]));
  if (saved.length !== here.length || saved.some((p, i) => p.name !== here[i].name || p.size !== here[i].size || !sameShape(p.shape, here[i].shape))) {
    fail(`the checkpoint holds parameters ${names(saved)}, the store has ${names(here)}`);
  }
  if (header.blocks.length < here.length || here.some((p, i) => header.blocks[i].size !== p.size || header.blocks[i].type !== undefined)) fail('a parameter block does not match its parameter\'s size');
  if (header.optimizer && !optimizer) fail('the checkpoint holds optimizer state: pass the optimizer');
  if (!header.optimizer && optimizer) fail('the checkpoint holds no optimizer state');
  if (header.scheduler && !scheduler) fail('the checkpoint holds scheduler state: pass the scheduler');
  if (!header.scheduler && scheduler) fail('the checkpoint holds no scheduler state');
  if (header.averaged && !averaged) fail('the checkpoint holds an averaged model: pass it as averaged');
  if (!header.averaged && averaged) fail('the checkpoint holds no averaged model');
  if (header.accumulator && !accumulator) fail('the checkpoint holds a gradient accumulator: pass it as accumulator');
  if (!header.accumulator && accumulator) fail('the checkpoint holds no gradient accumulator');
  const used = new Set<number>();
  /** The data block `ref` points at (each used once, never a parameter's); `what` names it in the message. */
  const take = (ref: unknown, what: string): BlockArray => {
    const b = (ref as { block?: unknown } | null)?.block;
    if (!isObject(ref) || Object.keys(ref).length !== 1 || !Number.isSafeInteger(b) || (b as number) < here.length || (b as number) >= header.blocks.length) {
      fail(`${what} points at no data block`);
    }
    if (used.has(b as number)) fail(`data block ${String(b)} is used twice`);
    used.add(b as number);
    return block(b as number);
  };
  /** Checks a part's state through its own checks (`check` throws as its loadStateDict does). */
  const checked = <T>(check: () => T): T => {
    try {
      return check();
    } catch (e) {
      return fail((e as Error).message.replace(/; nothing was changed$/, ''));
    }
  };
  let sd: OptimizerStateDict | undefined;
  if (optimizer && header.optimizer) {
    const state: Record<string, ParamStateEntry> = {};
    const savedState = header.optimizer.state as unknown;
    if (!isObject(savedState)) fail('the optimizer section has no state object');
    for (const [index, entry] of Object.entries(savedState as Record<string, unknown>)) {
      if (!isObject(entry)) fail(`malformed optimizer state for parameter ${index}`);
      state[index] = Object.fromEntries(Object.entries(entry as Record<string, unknown>).map(([k, v]) => {
        if (typeof v !== 'object' || v === null) return [k, v];
        if (!isObject(v)) fail(`state ${k} of parameter ${index} points at no data block`);
        // A low-precision buffer: its arrays are blocks, the rest as saved (checked with the state dict).
        if ('dtype' in (v as object)) {
          const q = v as Record<string, unknown>;
          return [k, { ...q, data: take(q.data, `state ${k}.data of parameter ${index}`), ...('scales' in q ? { scales: take(q.scales, `state ${k}.scales of parameter ${index}`) } : {}) }];
        }
        return [k, take(v, `state ${k} of parameter ${index}`)];
      })) as ParamStateEntry;
    }
    // The checked copy is what gets applied: the state is copied and checked once.
    sd = checked(() => optimizer.checkStateDict({ ...header.optimizer, state }, options));
  }
  /** A part's list of block references, resolved (anything else is left for the part's checks to refuse). */
  const takeAll = (refs: unknown, what: string): unknown => (Array.isArray(refs) ? refs.map((r, i) => take(r, `${what}[${i}]`)) : refs);
  let avg: AveragedModelStateDict | undefined;
  if (averaged && header.averaged) {
    const part = header.averaged;
    avg = checked(() => averaged.checkStateDict({ ...part, averages: takeAll(part.averages, 'averages') }));
  }
  let acc: GradientAccumulatorStateDict | undefined;
  if (accumulator && header.accumulator) {
    const part = header.accumulator;
    acc = checked(() => accumulator.checkStateDict({ ...part, ...(part.accumulated !== undefined ? { accumulated: takeAll(part.accumulated, 'accumulated') } : {}) }));
  }
  if (used.size !== header.blocks.length - here.length) fail(`${header.blocks.length - here.length - used.size} data blocks belong to nothing`);
  if (scheduler && header.scheduler) checked(() => scheduler.validateState(header.scheduler!));
  // Everything checked: apply.
  if (optimizer && sd) optimizer.applyStateDict(sd);
  if (averaged && avg) averaged.applyStateDict(avg);
  if (accumulator && acc) accumulator.applyStateDict(acc);
  here.forEach((p, i) => p.data.set(block(i) as Float32Array));
  // Checked above: the state fits this scheduler, whichever kind it is.
  if (scheduler && header.scheduler) scheduler.loadStateDict(header.scheduler as SchedulerState & PlateauState & HyperparameterState);
}
