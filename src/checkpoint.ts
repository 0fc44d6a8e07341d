// Binary checkpoints: parameters, optimizer state and scheduler state in one Uint8Array.
import { KERNELS_WASM_SHA256 } from './generated/kernels-wasm.js';
import type { AnyOptimizer, LoadStateOptions, OptimizerStateDict, ParamStateEntry } from './optim/optimizer.js';
import { ReduceLROnPlateau, type PlateauState } from './schedules/plateau.js';
import { LRScheduler, type SchedulerState } from './schedules/scheduler.js';
import { ParameterStore } from './store.js';

const MAGIC = 'SIMDOPTC';
const FORMAT_VERSION = 1;

/** What a checkpoint holds, or restores into. */
export interface CheckpointParts {
  /** The store whose parameters are saved (all of them) or restored. */
  store: ParameterStore;
  /** The optimizer whose state is saved or restored. */
  optimizer?: AnyOptimizer;
  /** The scheduler whose state is saved or restored. */
  scheduler?: LRScheduler | ReduceLROnPlateau;
}

interface Block { size: number }
interface Header {
  kernelHash: string;
  backend: string;
  params: { name: string; size: number }[];
  optimizer?: Omit<OptimizerStateDict, 'state'> & { state: Record<number, Record<string, number | { block: number }>> };
  scheduler?: SchedulerState | PlateauState;
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

function checkParts(context: string, parts: CheckpointParts): void {
  if (parts === null || typeof parts !== 'object' || !(parts.store instanceof ParameterStore)) {
    throw new TypeError(`${context}: expected { store, optimizer?, scheduler? } with a ParameterStore`);
  }
  for (const key of Object.keys(parts)) {
    if (!['store', 'optimizer', 'scheduler'].includes(key)) throw new Error(`${context}: unknown part ${JSON.stringify(key)}`);
  }
  parts.store.assertLive(context);
  if (parts.optimizer !== undefined && parts.optimizer.store !== parts.store) throw new Error(`${context}: the optimizer belongs to another ParameterStore`);
  if (parts.scheduler !== undefined) {
    if (!(parts.scheduler instanceof LRScheduler) && !(parts.scheduler instanceof ReduceLROnPlateau)) throw new TypeError(`${context}: scheduler is not a scheduler`);
    if (parts.optimizer === undefined || parts.scheduler.optimizer !== (parts.optimizer as unknown)) {
      throw new Error(`${context}: a scheduler needs its optimizer in the checkpoint too`);
    }
  }
}

/** Float32 blocks are stored little-endian, in the host's order; every JavaScript engine in use is little-endian. */
function assertLittleEndian(context: string): void {
  if (new Uint8Array(new Uint16Array([1]).buffer)[0] !== 1) throw new Error(`${context}: checkpoints need a little-endian host`);
}

/**
 * Saves the store's parameters and, when given, the optimizer's and the scheduler's state as
 * compact bytes: a magic string and version, a JSON header (names, sizes, hyperparameters,
 * kernel build), the raw float32 buffers, and a CRC-32 of everything before it. Gradients are
 * not saved. Loads on either backend.
 *
 * @example
 * const bytes = saveCheckpoint({ store, optimizer: opt, scheduler: sched });
 * await fs.promises.writeFile('run.ckpt', bytes);
 */
export function saveCheckpoint(parts: CheckpointParts): Uint8Array {
  checkParts('saveCheckpoint', parts);
  assertLittleEndian('saveCheckpoint');
  const { store, optimizer, scheduler } = parts;
  const arrays: ArrayLike<number>[] = [];
  const blocks: Block[] = [];
  const add = (a: ArrayLike<number>) => { arrays.push(a); blocks.push({ size: a.length }); return blocks.length - 1; };
  const params = store.parameters.map((p) => { add(p.data); return { name: p.name, size: p.size }; });
  let opt: Header['optimizer'];
  if (optimizer) {
    const sd = optimizer.stateDict();
    const state: Record<number, Record<string, number | { block: number }>> = {};
    for (const [index, entry] of Object.entries(sd.state)) {
      state[Number(index)] = Object.fromEntries(Object.entries(entry).map(([k, v]) => [k, v instanceof Float32Array ? { block: add(v) } : v]));
    }
    opt = { ...sd, state };
  }
  const header: Header = {
    kernelHash: KERNELS_WASM_SHA256, backend: store.backend, params, blocks,
    ...(opt ? { optimizer: opt } : {}), ...(scheduler ? { scheduler: scheduler.stateDict() } : {}),
  };
  let json = new TextEncoder().encode(JSON.stringify(header));
  const padded = Math.ceil(json.length / 4) * 4;
  const floats = blocks.reduce((n, b) => n + b.size, 0);
  const total = 8 + 4 + 4 + padded + 4 * floats + 4;
  const out = new Uint8Array(total);
  const view = new DataView(out.buffer);
  for (let i = 0; i < 8; i++) out[i] = MAGIC.charCodeAt(i);
  view.setUint32(8, FORMAT_VERSION, true);
  view.setUint32(12, json.length, true);
  out.set(json, 16);
  out.fill(0x20, 16 + json.length, 16 + padded);
  json = new Uint8Array(0);
  const data = new Float32Array(out.buffer, 16 + padded, floats);
  let at = 0;
  for (const a of arrays) { data.set(a, at); at += a.length; }
  view.setUint32(total - 4, crc32(out.subarray(0, total - 4)), true);
  return out;
}

/**
 * Restores a checkpoint from {@link saveCheckpoint} into `store` (its parameters must have the
 * same names and sizes) and, when given, into `optimizer` and `scheduler` (which must be of
 * the classes, options and groups that were saved). Everything is checked first (checksum,
 * format, parameters, state): bad bytes or a mismatch throw an Error that says what is wrong
 * and change nothing. Resuming is exact: continuing gives the same bits as the run that was
 * saved, on either backend.
 */
export function loadCheckpoint(bytes: Uint8Array, parts: CheckpointParts, options: LoadStateOptions = {}): void {
  const fail = (why: string): never => { throw new Error(`loadCheckpoint: ${why}; nothing was changed`); };
  if (!(bytes instanceof Uint8Array)) fail(`expected a Uint8Array, got ${Object.prototype.toString.call(bytes)}`);
  checkParts('loadCheckpoint', parts);
  assertLittleEndian('loadCheckpoint');
  if (bytes.length < 20) fail(`${bytes.length} bytes is too short for a checkpoint`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (view.getUint32(bytes.length - 4, true) !== crc32(bytes.subarray(0, bytes.length - 4))) {
    fail('checksum mismatch: the checkpoint is truncated or altered');
  }
  for (let i = 0; i < 8; i++) if (bytes[i] !== MAGIC.charCodeAt(i)) fail('not a simdopt checkpoint (bad magic)');
  const version = view.getUint32(8, true);
  if (version !== FORMAT_VERSION) fail(`unsupported checkpoint format version ${version} (this library reads ${FORMAT_VERSION})`);
  const headerLength = view.getUint32(12, true);
  const padded = Math.ceil(headerLength / 4) * 4;
  if (16 + padded > bytes.length - 4) fail('the header runs past the end');
  let header: Header;
  try {
    header = JSON.parse(new TextDecoder().decode(bytes.subarray(16, 16 + headerLength))) as Header;
  } catch {
    return fail('the header is not valid JSON');
  }
  const floats = (bytes.length - 4 - 16 - padded) / 4;
  if (header === null || typeof header !== 'object' || !Array.isArray(header.blocks) ||
    !header.blocks.every((b) => b !== null && typeof b === 'object' && Number.isSafeInteger(b.size) && b.size >= 0) ||
    header.blocks.reduce((n, b) => n + b.size, 0) !== floats) {
    fail('the data section does not match the header');
  }
  // Copy the data section so it is 4-byte aligned whatever the input's offset.
  const data = new Float32Array(bytes.slice(16 + padded, bytes.length - 4).buffer);
  const starts: number[] = [];
  header.blocks.reduce((at, b) => { starts.push(at); return at + b.size; }, 0);
  const block = (i: number) => data.subarray(starts[i], starts[i] + header.blocks[i].size);

  const { store, optimizer, scheduler } = parts;
  const saved = header.params;
  const here = store.parameters;
  const names = (list: { name: string; size: number }[]) => list.map((p) => `${p.name}[${p.size}]`).join(', ');
  if (!Array.isArray(saved) || saved.length !== here.length || saved.some((p, i) => p?.name !== here[i].name || p?.size !== here[i].size)) {
    fail(`the checkpoint holds parameters ${Array.isArray(saved) ? names(saved) : 'none'}, the store has ${names(here.map((p) => ({ name: p.name, size: p.size })))}`);
  }
  if (header.blocks.length < here.length || here.some((p, i) => header.blocks[i].size !== p.size)) fail('a parameter block does not match its parameter\'s size');
  if (header.optimizer && !optimizer) fail('the checkpoint holds optimizer state: pass the optimizer');
  if (!header.optimizer && optimizer) fail('the checkpoint holds no optimizer state');
  if (header.scheduler && !scheduler) fail('the checkpoint holds scheduler state: pass the scheduler');
  if (!header.scheduler && scheduler) fail('the checkpoint holds no scheduler state');
  let sd: OptimizerStateDict | undefined;
  if (optimizer && header.optimizer) {
    const state: Record<number, ParamStateEntry> = {};
    for (const [index, entry] of Object.entries(header.optimizer.state ?? {})) {
      if (entry === null || typeof entry !== 'object') fail(`malformed optimizer state for parameter ${index}`);
      state[Number(index)] = Object.fromEntries(Object.entries(entry).map(([k, v]) => {
        if (typeof v !== 'object' || v === null) return [k, v];
        if (!Number.isInteger(v.block) || v.block < here.length || v.block >= header.blocks.length) fail(`state ${k} of parameter ${index} points at no data block`);
        return [k, block(v.block).slice()];
      })) as ParamStateEntry;
    }
    sd = { ...header.optimizer, state };
    try {
      optimizer.validateStateDict(sd, options);
    } catch (e) {
      fail((e as Error).message.replace(/; nothing was changed$/, ''));
    }
  }
  if (scheduler && header.scheduler) {
    try {
      if (scheduler instanceof LRScheduler) scheduler.validateState(header.scheduler);
      else scheduler.validateState(header.scheduler);
    } catch (e) {
      fail((e as Error).message);
    }
  }
  // Everything checked: apply.
  here.forEach((p, i) => p.data.set(block(i)));
  if (optimizer && sd) optimizer.loadStateDict(sd, options);
  if (scheduler && header.scheduler) {
    if (scheduler instanceof LRScheduler) scheduler.loadStateDict(header.scheduler as SchedulerState);
    else scheduler.loadStateDict(header.scheduler as PlateauState);
  }
}
