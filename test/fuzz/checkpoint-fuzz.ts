// Mutation fuzz of checkpoints, shared by test/checkpoint-fuzz.test.ts (a few hundred cases)
// and scripts/fuzz-checkpoints.ts (the full count). Each mutated checkpoint must either be
// refused with a clear error and leave store, optimizer and scheduler bit for bit as they
// were, or load exactly what its bytes encode, read back by an independent decoder here.
import {
  Adam, AveragedModel, GradientAccumulator, OneCycleLR, ParameterStore, crc32, loadCheckpoint, saveCheckpoint, stateDictToJSON,
  type BackendName, type Parameter, type QuantizedState, type StateDtype,
} from '../../src/index.js';
import { fillMixed, prng } from '../helpers.js';

/**
 * The model every mutation is loaded into: two groups, amsgrad (three buffers), a 1Cycle
 * scheduler, an EMA of the first two parameters and a gradient accumulator of 3 micro-batches.
 */
export interface FuzzWorld {
  store: ParameterStore;
  params: Parameter[];
  opt: Adam;
  sched: OneCycleLR;
  avg: AveragedModel;
  acc: GradientAccumulator;
}

const SIZES = [5, 3, 9];

/** Builds a world (its Adam's state of `dtype`) and trains it `steps` micro-batches on gradients from `seed`. */
export async function fuzzWorld(backend: BackendName, seed: number, steps: number, dtype: StateDtype = 'float32'): Promise<FuzzWorld> {
  const store = await ParameterStore.create({ backend });
  const rand = prng(seed);
  const params = SIZES.map((n, i) => store.parameter(`p${i}`, fillMixed(new Float32Array(n), rand, 1, 0)));
  const opt = new Adam([{ params: params.slice(0, 2) }, { params: params.slice(2), lr: 0.003, weightDecay: 0.01 }], { amsgrad: true, stateDtype: dtype });
  const sched = new OneCycleLR(opt, { maxLr: 0.01, totalSteps: 50 });
  const avg = new AveragedModel(params.slice(0, 2), { mode: 'ema', decay: 0.9 });
  const acc = new GradientAccumulator(opt, { everyK: 3, scheduler: sched });
  for (let s = 0; s < steps; s++) {
    for (const p of params) p.grad.set(fillMixed(new Float32Array(p.size), rand, 1, 0));
    if (acc.step()) avg.updateParameters();
  }
  for (const p of params) p.grad.set(fillMixed(new Float32Array(p.size), rand, 1, 0));
  return { store, params, opt, sched, avg, acc };
}

/** The parts of a world a checkpoint holds. */
export const partsOf = (w: FuzzWorld) => ({ store: w.store, optimizer: w.opt, scheduler: w.sched, averaged: w.avg, accumulator: w.acc });

/** Every bit a load may change (and the gradients, which it must not), as one exact string. */
export function fingerprint(w: FuzzWorld, withArenaSize = true): string {
  return stateDictToJSON({
    data: w.params.map((p) => p.data.slice()),
    grad: w.params.map((p) => p.grad.slice()),
    views: w.params.map((p) => w.opt.state(p)),
    opt: w.opt.stateDict(),
    sched: w.sched.stateDict(),
    avg: w.avg.stateDict(),
    acc: w.acc.stateDict(),
    bytes: withArenaSize ? w.store.byteLength : 0,
  });
}

interface Decoded {
  header: {
    params: { name: string; size: number }[];
    blocks: { size: number; type?: 'uint16' | 'uint8' }[];
    optimizer: { paramGroups: Record<string, unknown>[]; state: Record<string, Record<string, unknown>> };
    scheduler: { lastEpoch: number; lastLrs: number[]; baseLrs: number[] };
    averaged: { nAveraged: number; averages: { block: number }[] };
    accumulator: { miniStep: number; accumulated?: { block: number }[] };
  };
  blocks: (Float32Array | Uint16Array | Uint8Array)[];
}

/** An independent reading of checkpoint bytes (for the oracle): header and blocks (float32, or 16- and 8-bit, each padded to 4 bytes), or undefined. */
function decode(bytes: Uint8Array): Decoded | undefined {
  try {
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const length = view.getUint32(12, true);
    const header = JSON.parse(new TextDecoder().decode(bytes.subarray(16, 16 + length))) as Decoded['header'];
    let at = 16 + Math.ceil(length / 4) * 4;
    const blocks = header.blocks.map((b) => {
      const start = at;
      if (b.type === 'uint8') {
        const out = new Uint8Array(b.size);
        for (let i = 0; i < b.size; i++) out[i] = view.getUint8(at++);
        at = start + Math.ceil(b.size / 4) * 4;
        return out;
      }
      if (b.type === 'uint16') {
        const out = new Uint16Array(b.size);
        for (let i = 0; i < b.size; i++, at += 2) out[i] = view.getUint16(at, true);
        at = start + Math.ceil((2 * b.size) / 4) * 4;
        return out;
      }
      const out = new Float32Array(b.size);
      for (let i = 0; i < b.size; i++, at += 4) out[i] = view.getFloat32(at, true);
      return out;
    });
    return { header, blocks };
  } catch {
    return undefined;
  }
}

const bitsOf = (a: Float32Array) => Array.from(new Uint32Array(a.buffer, a.byteOffset, a.length), (u, i) => (Number.isNaN(a[i]) ? 'nan' : u));
const sameBits = (a: Float32Array | Uint16Array | Uint8Array, b: Float32Array | Uint16Array | Uint8Array) => a.length === b.length && a.constructor === b.constructor &&
  (a instanceof Float32Array ? bitsOf(a).every((x, i) => x === bitsOf(b as Float32Array)[i]) : a.every((x, i) => x === b[i]));

/** Checks that `w` holds exactly what `bytes` encode; returns what differs, or undefined. */
function loadedExactly(w: FuzzWorld, bytes: Uint8Array, gradsBefore: Float32Array[]): string | undefined {
  const d = decode(bytes);
  if (!d) return 'loaded bytes the oracle cannot decode';
  const { header, blocks } = d;
  for (let i = 0; i < w.params.length; i++) {
    if (!sameBits(w.params[i].data, blocks[i])) return `parameter ${i} is not its block`;
    if (!sameBits(w.params[i].grad, gradsBefore[i])) return `gradient ${i} changed`;
  }
  const sd = w.opt.stateDict();
  for (const [index, entry] of Object.entries(header.optimizer.state)) {
    for (const [key, value] of Object.entries(entry)) {
      const got = sd.state[Number(index)][key];
      if (typeof value === 'number') { if (got !== value) return `state ${key} of ${index} is ${String(got)}, saved ${value}`; continue; }
      const saved = value as { block?: number; dtype?: string; data?: { block: number }; scales?: { block: number }; blockSize?: number };
      if (saved.dtype === undefined) {
        if (!(got instanceof Float32Array) || !sameBits(got, blocks[saved.block!])) return `state ${key} of ${index} is not its block`;
        continue;
      }
      // A low-precision buffer loads into this optimizer's dtype: the same dtype keeps its bits.
      const q = got as QuantizedState;
      if (q.dtype !== saved.dtype || !sameBits(q.data, blocks[saved.data!.block]) || (saved.scales && !sameBits(q.scales!, blocks[saved.scales.block]))) {
        return `state ${key} of ${index} is not its blocks`;
      }
    }
  }
  const scheduled = new Set(['lr', 'betas', 'initialLr', 'maxLr']);
  for (let gi = 0; gi < header.optimizer.paramGroups.length; gi++) {
    const saved = header.optimizer.paramGroups[gi], got = sd.paramGroups[gi];
    for (const key of Object.keys(saved)) {
      if (scheduled.has(key)) continue; // the scheduler writes these last
      if (JSON.stringify(got[key]) !== JSON.stringify(saved[key])) return `group ${gi} ${key} is ${JSON.stringify(got[key])}, saved ${JSON.stringify(saved[key])}`;
    }
    if (got.lr !== header.scheduler.lastLrs[gi]) return `group ${gi} lr is ${String(got.lr)}, the scheduler saved ${header.scheduler.lastLrs[gi]}`;
  }
  const s = w.sched.stateDict();
  if (s.lastEpoch !== header.scheduler.lastEpoch || JSON.stringify(s.lastLrs) !== JSON.stringify(header.scheduler.lastLrs) ||
    JSON.stringify(s.baseLrs) !== JSON.stringify(header.scheduler.baseLrs)) return 'scheduler state is not what was saved';
  const avg = w.avg.stateDict();
  if (avg.nAveraged !== header.averaged.nAveraged) return `nAveraged is ${avg.nAveraged}, saved ${header.averaged.nAveraged}`;
  if (avg.averages.some((a, i) => !sameBits(a, blocks[header.averaged.averages[i].block]))) return 'an average is not its block';
  const acc = w.acc.stateDict();
  if (acc.miniStep !== header.accumulator.miniStep) return `miniStep is ${acc.miniStep}, saved ${header.accumulator.miniStep}`;
  if ((acc.accumulated === undefined) !== (header.accumulator.accumulated === undefined)) return 'accumulated sums appeared or vanished';
  if (acc.accumulated?.some((a, i) => !sameBits(a, blocks[header.accumulator.accumulated![i].block]))) return 'an accumulated sum is not its block';
  return undefined;
}

// ---- mutations ---------------------------------------------------------------------------

type Rand = () => number;
const int = (rand: Rand, n: number) => Math.floor(rand() * n);
const pick = <T>(rand: Rand, list: readonly T[]): T => list[int(rand, list.length)];

/** `bytes` with its CRC-32 recomputed. */
export function withCrc(bytes: Uint8Array): Uint8Array {
  new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).setUint32(bytes.length - 4, crc32(bytes.subarray(0, bytes.length - 4)), true);
  return bytes;
}

function parts(bytes: Uint8Array) {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const length = view.getUint32(12, true);
  const dataStart = 16 + Math.ceil(length / 4) * 4;
  return { length, dataStart, header: JSON.parse(new TextDecoder().decode(bytes.subarray(16, 16 + length))) as Record<string, unknown> };
}

/** Rebuilds a checkpoint around a new header text, the data section kept, with a valid CRC. */
export function withHeader(bytes: Uint8Array, text: string): Uint8Array {
  const { dataStart } = parts(bytes);
  const json = new TextEncoder().encode(text);
  const padded = Math.ceil(json.length / 4) * 4;
  const out = new Uint8Array(16 + padded + (bytes.length - dataStart));
  out.set(bytes.subarray(0, 16));
  out.set(json, 16);
  out.fill(0x20, 16 + json.length, 16 + padded);
  out.set(bytes.subarray(dataStart), 16 + padded);
  new DataView(out.buffer).setUint32(12, json.length, true);
  return withCrc(out);
}

const HOSTILE: readonly unknown[] = [
  -1, 0, 1, 2, 3, 7, 9, 1e300, -1e300, 0.5, -0.5, 2 ** 31, 2 ** 32 + 3, 2 ** 53, 2 ** 40, null, true, false, '', 'x', 'p0', 'NaN',
  [], [0], [1, 2], {}, { block: 3 }, { block: -1 }, { block: 1e9 }, { size: 3 }, { __proto__: null }, [null], 0.999, 1e-30,
];
const HOSTILE_KEYS = ['__proto__', 'constructor', 'prototype', 'lrr', 'block', 'size', 'step', '0', '-1', 'expAvg', 'muProduct'];

/** Every path (list of keys) in a JSON value. */
function paths(value: unknown, prefix: (string | number)[] = [], out: (string | number)[][] = []): (string | number)[][] {
  out.push(prefix);
  if (Array.isArray(value)) value.forEach((v, i) => paths(v, [...prefix, i], out));
  else if (value !== null && typeof value === 'object') for (const k of Object.keys(value)) paths((value as Record<string, unknown>)[k], [...prefix, k], out);
  return out;
}

/** Names of the mutation kinds, and whether a mutation of that kind may legitimately load. */
export const MUTATIONS = {
  'bit flips': (b: Uint8Array, r: Rand) => { const o = b.slice(); for (let k = 1 + int(r, 4); k > 0; k--) o[int(r, o.length)] ^= 1 << int(r, 8); return o; },
  truncation: (b: Uint8Array, r: Rand) => b.slice(0, int(r, b.length)),
  extension: (b: Uint8Array, r: Rand) => { const o = new Uint8Array(b.length + 1 + int(r, 64)); o.set(b); for (let i = b.length; i < o.length; i++) o[i] = int(r, 256); return o; },
  'extension, CRC recomputed': (b: Uint8Array, r: Rand) => {
    const extra = 4 * (1 + int(r, 8)); const o = new Uint8Array(b.length + extra); o.set(b.subarray(0, b.length - 4));
    for (let i = b.length - 4; i < o.length - 4; i++) o[i] = int(r, 256); return withCrc(o);
  },
  'swapped blocks, CRC recomputed': (b: Uint8Array, r: Rand) => {
    const { dataStart, header } = parts(b); const blocks = header.blocks as { size: number; type?: string }[];
    const bytes = (x: { size: number; type?: string }) => Math.ceil((x.size * (x.type === 'uint8' ? 1 : x.type === 'uint16' ? 2 : 4)) / 4) * 4;
    const starts: number[] = []; blocks.reduce((at, x) => (starts.push(at), at + bytes(x)), dataStart);
    const i = int(r, blocks.length), j = int(r, blocks.length); const o = b.slice();
    const n = Math.min(bytes(blocks[i]), bytes(blocks[j]));
    o.set(b.subarray(starts[j], starts[j] + n), starts[i]); o.set(b.subarray(starts[i], starts[i] + n), starts[j]);
    return withCrc(o);
  },
  'float data edits, CRC recomputed': (b: Uint8Array, r: Rand) => {
    const { dataStart } = parts(b); const o = b.slice(); const v = new DataView(o.buffer);
    const floats = (o.length - 4 - dataStart) / 4;
    for (let k = 1 + int(r, 6); k > 0; k--) {
      const at = dataStart + 4 * int(r, floats);
      if (r() < 0.5) v.setFloat32(at, pick(r, [NaN, Infinity, -Infinity, -0, 0, 1e-45, 3.4e38, (r() - 0.5) * 100]), true);
      else v.setUint32(at, (r() * 2 ** 32) >>> 0, true);
    }
    return withCrc(o);
  },
  'header value edits, CRC recomputed': (b: Uint8Array, r: Rand) => {
    const { header } = parts(b);
    const all = paths(header).filter((p) => p.length > 0);
    const path = pick(r, all);
    let parent = header as Record<string | number, unknown>;
    for (const k of path.slice(0, -1)) parent = parent[k] as Record<string | number, unknown>;
    const last = path[path.length - 1];
    const roll = r();
    if (roll < 0.1) delete parent[last];
    else if (roll < 0.2) Object.defineProperty(parent, pick(r, HOSTILE_KEYS), { value: pick(r, HOSTILE), enumerable: true, writable: true, configurable: true });
    else if (roll < 0.35 && typeof parent[last] === 'number') parent[last] = (parent[last] as number) + pick(r, [1, -1, 0.5, 4, -4]);
    else parent[last] = structuredClone(pick(r, HOSTILE));
    return withHeader(b, JSON.stringify(header));
  },
  'header text edits, CRC recomputed': (b: Uint8Array, r: Rand) => {
    const { length } = parts(b); const o = b.slice();
    for (let k = 1 + int(r, 3); k > 0; k--) o[16 + int(r, length)] = pick(r, [0x22, 0x7b, 0x7d, 0x2c, 0x30, 0x39, 0x2d, 0x20, int(r, 256)]);
    return withCrc(o);
  },
  'length and version fields, CRC recomputed': (b: Uint8Array, r: Rand) => {
    const o = b.slice(); const v = new DataView(o.buffer);
    v.setUint32(pick(r, [8, 12]), pick(r, [0, 1, 2, 3, 4, 0xffffffff, 0x7fffffff, o.length, v.getUint32(12, true) + 4, v.getUint32(12, true) - 1]), true);
    return withCrc(o);
  },
} as const satisfies Record<string, (b: Uint8Array, r: Rand) => Uint8Array>;

/** The outcome of one mutated checkpoint. */
export type Outcome = { kind: keyof typeof MUTATIONS; loaded: boolean; reason: string } | { kind: keyof typeof MUTATIONS; failure: string };

/** Loads `mutated` into `target`; checks the all-or-nothing contract. */
export function tryLoad(kind: keyof typeof MUTATIONS, mutated: Uint8Array, target: FuzzWorld): Outcome {
  const before = fingerprint(target);
  const grads = target.params.map((p) => p.grad.slice());
  try {
    loadCheckpoint(mutated, partsOf(target));
  } catch (e) {
    if (!(e instanceof Error)) return { kind, failure: `threw a non-Error: ${String(e)}` };
    if (!e.message.startsWith('loadCheckpoint: ') || !e.message.endsWith('nothing was changed')) return { kind, failure: `unclear error: ${e.message}` };
    if (fingerprint(target) !== before) return { kind, failure: `refused (${e.message}) but changed the target` };
    const reason = e.message.replace(/^loadCheckpoint: /, '').replace(/-?\d[\d.e+-]*/g, 'N').replace(/"[^"]*"/g, 'S').slice(0, 70);
    return { kind, loaded: false, reason };
  }
  const wrong = loadedExactly(target, mutated, grads);
  return wrong ? { kind, failure: `loaded, but ${wrong}` } : { kind, loaded: true, reason: 'loaded exactly' };
}

/** Runs `count` mutations from `seed` (source and target worlds of `backend`, with state of `dtype`); returns the outcomes. */
export async function runFuzz(backend: BackendName, count: number, seed: number, dtype: StateDtype = 'float32'): Promise<Outcome[]> {
  const source = await fuzzWorld(backend, 1, 7, dtype); // mid-window: the accumulator holds sums
  const original = saveCheckpoint(partsOf(source));
  const kinds = Object.keys(MUTATIONS) as (keyof typeof MUTATIONS)[];
  const rand = prng(seed);
  const outcomes: Outcome[] = [];
  let target = await fuzzWorld(backend, 2, 6, dtype);
  for (let i = 0; i < count; i++) {
    const kind = kinds[i % kinds.length];
    const mutated = MUTATIONS[kind](original, rand);
    const outcome = tryLoad(kind, mutated, target);
    outcomes.push(outcome);
    if ('loaded' in outcome && outcome.loaded) target = await fuzzWorld(backend, 2, 6, dtype); // a fresh target for the next one
  }
  return outcomes;
}
