// Low-precision optimizer state (stateDtype 'bfloat16' and 'int8'): the formats against an
// independent reading of their definitions (src/kernels/lowp.ts), the SIMD kernels' stores and
// loads against the host's reference on special inputs (NaN, ±Infinity, subnormals, ±0,
// rounding ties, all-zero blocks, a block with one huge value), stochastic rounding's
// statistics and determinism, conversions between dtypes on load, memory per parameter, the
// options' checks, and old (float32-only) state dicts and checkpoints still loading.
import { describe, expect, it } from 'vitest';
import { STAGGER_BYTES } from '../src/store.js';
import {
  Adam, AdamW, ParameterStore, RMSprop, SGD, loadCheckpoint, saveCheckpoint, type BackendName, type OptimizerStateDict,
  type QuantizedState,
} from '../src/index.js';
import {
  BLOCK_ELEMENTS, MANTISSA_BITS, bf16FromBits, f32Bits, f32FromBits, fromBfloat16, fromInt8, hash32, roundingKey, toBfloat16, toInt8,
} from '../src/kernels/lowp.js';
import { BACKENDS, expectSameBits, fillMixed, prng, SPECIAL_VALUES } from './helpers.js';
import { withCrc, withHeader } from './fuzz/checkpoint-fuzz.js';

const bitsOf = (x: number) => f32Bits(Math.fround(x)) >>> 0;
const isNaN16 = (h: number) => (h & 0x7fff) > 0x7f80;

/** bfloat16 rounding to nearest, ties to even, by comparing the two neighbours in float64 (not on bits); -1 for NaN. */
function bf16Reference(x: number): number {
  if (Number.isNaN(x)) return -1;
  const b = bitsOf(x);
  const lo = b >>> 16;
  if (!Number.isFinite(x) || (b & 0xffff) === 0) return lo;
  const hi = (lo + 1) & 0xffff;
  const down = f32FromBits(lo << 16);
  // Past the largest bfloat16 the next value up is 2^128 (where float32 overflows to Infinity).
  const up = (lo & 0x7fff) === 0x7f7f ? Math.sign(x) * 2 ** 128 : f32FromBits(hi << 16);
  const dDown = Math.abs(x - down), dUp = Math.abs(up - x);
  if (dDown !== dUp) return dDown < dUp ? lo : hi;
  return (lo & 1) === 0 ? lo : hi;
}

/** Values that stress bfloat16 rounding: ties to even and odd, near-ties, subnormals, overflow. */
function bf16Stress(): Float32Array {
  const out: number[] = [...SPECIAL_VALUES];
  const rand = prng(17);
  for (let i = 0; i < 2000; i++) {
    const upper = Math.floor(rand() * 65536);
    for (const low of [0x8000, 0x7fff, 0x8001, 0x0000, 0xffff]) out.push(f32FromBits((upper << 16) | low));
  }
  out.push(f32FromBits(0x7f7fffff), f32FromBits(0x7f7f8000), f32FromBits(0x7f7f7fff), f32FromBits(0x00008000), f32FromBits(0x80018000));
  return Float32Array.from(out);
}

describe('bfloat16', () => {
  it('decodes all 65536 patterns to the float32 with those upper bits, and re-encodes them unchanged (NaN stays NaN)', () => {
    const all = Uint16Array.from({ length: 65536 }, (_, i) => i);
    const values = fromBfloat16(all);
    const bits = new Uint32Array(values.buffer);
    for (let h = 0; h < 65536; h++) expect(bits[h]).toBe((h << 16) >>> 0);
    const back = toBfloat16(values);
    for (let h = 0; h < 65536; h++) {
      if (isNaN16(h)) expect(isNaN16(back[h])).toBe(true);
      else expect(back[h]).toBe(h);
    }
  });

  it('rounds to nearest with ties to even (checked against float64 distances), overflow to ±Infinity, every NaN to a NaN', () => {
    const values = bf16Stress();
    const got = toBfloat16(values);
    values.forEach((x, i) => {
      const want = bf16Reference(x);
      if (want < 0) expect(isNaN16(got[i]), `NaN ${bitsOf(x).toString(16)}`).toBe(true);
      else expect(got[i], `${x} (0x${bitsOf(x).toString(16)})`).toBe(want);
    });
    // NaNs whose payload would carry into the exponent or the sign still give NaN.
    for (const b of [0x7f800001, 0x7fbfffff, 0x7fffffff, 0xff800001, 0xffffffff]) expect(isNaN16(bf16FromBits(b | 0))).toBe(true);
    expect(bf16FromBits(bitsOf(3.4028234663852886e38))).toBe(0x7f80);
  });
});

/** The values a kernel stored, as the host reads them: the optimizer's state after one step that only copies g into it. */
async function storeThroughKernels(backend: BackendName, dtype: 'bfloat16' | 'int8', g: Float32Array): Promise<QuantizedState> {
  const store = await ParameterStore.create({ backend });
  const p = store.parameter('p', g.length);
  p.grad.set(g);
  // SGD's first momentum step stores the gradient: buf = g (and p -= 0·g).
  const opt = new SGD([p], { lr: 0, momentum: 0.5, stateDtype: dtype });
  opt.step();
  const raw = opt.rawState(p).momentumBuffer as QuantizedState;
  const copy = { ...raw, data: raw.data.slice(), ...(raw.scales ? { scales: raw.scales.slice() } : {}) };
  store.dispose();
  return copy;
}

/** Special inputs for the int8 blocks: all zeros, one huge value, Infinity, NaN, subnormals, ties. */
function int8Stress(): Float32Array {
  const B = BLOCK_ELEMENTS;
  const out = new Float32Array(8 * B + 37);
  const rand = prng(5);
  fillMixed(out, rand, 1, 0.05);
  out.fill(0, 0, B); // an all-zero block
  out.fill(-0, B, B + 16);
  out[2 * B + 3] = 3e38; // one huge value: everything else in its block flushes or keeps 16 binades
  out[3 * B + 5] = Infinity; // saturates to the block's finite absmax
  out[3 * B + 6] = -Infinity;
  out[4 * B + 7] = NaN; // stores 0
  for (let i = 0; i < 64; i++) out[5 * B + i] = (rand() - 0.5) * 2e-40; // a block of subnormals
  // Magnitudes exactly halfway between two steps of the map (ties round away from zero).
  const step = 1 << (23 - MANTISSA_BITS);
  for (let i = 0; i < 64; i++) out[6 * B + i] = f32FromBits((((0x3f000000 + i * step) | (step >> 1)) | (i % 2 ? 0x80000000 : 0)) | 0);
  return out;
}

describe('int8, blockwise', () => {
  it('round trips within the map\'s precision of the block absmax; zero, flush, saturation and NaN as documented', () => {
    const x = int8Stress();
    for (const signed of [true, false]) {
      const q = toInt8(x, signed);
      const y = fromInt8(q.data, q.scales, signed);
      for (let b = 0; b * BLOCK_ELEMENTS < x.length; b++) {
        const block = x.subarray(b * BLOCK_ELEMENTS, (b + 1) * BLOCK_ELEMENTS);
        const absmax = block.reduce((m, v) => (Number.isFinite(v) ? Math.max(m, Math.abs(v)) : m), 0);
        // The scale is the absmax rounded to the map: within half a step of it.
        expect(Math.abs(q.scales[b] - absmax)).toBeLessThanOrEqual(absmax * 2 ** -(MANTISSA_BITS + 1) * 1.0001);
      }
      x.forEach((v, i) => {
        const w = y[i];
        const scale = q.scales[Math.floor(i / BLOCK_ELEMENTS)];
        const label = `${signed ? 'signed' : 'unsigned'} [${i}] ${v} -> ${w}`;
        if (Number.isNaN(v) || (!signed && v <= 0) || v === 0) expect(w === 0, label).toBe(true);
        else if (v === Infinity || v === -Infinity) expect(w, label).toBe(signed ? Math.sign(v) * scale : scale);
        else if (Math.abs(v) < scale * 2 ** (signed ? -15.5 : -31.5)) expect(Math.abs(w), label).toBeLessThanOrEqual(scale * 2 ** (signed ? -15 : -31));
        else {
          expect(Math.sign(w), label).toBe(Math.sign(v));
          expect(Math.abs(w - v), label).toBeLessThanOrEqual(Math.abs(v) * 2 ** -(MANTISSA_BITS + 1) * 1.0001 + scale * 2 ** (signed ? -16 : -32));
        }
      });
      // The all-zero block: zero scale, zero codes, zeros back (signed: -0 keeps its sign).
      expect(q.scales[0]).toBe(0);
      expect(Array.from(y.subarray(0, BLOCK_ELEMENTS)).every((v) => v === 0)).toBe(true);
      if (signed) expect(Object.is(y[BLOCK_ELEMENTS], -0)).toBe(true);
    }
  });

  it('blocks start at each parameter\'s first element: a parameter\'s codes do not depend on its neighbours', async () => {
    const store = await ParameterStore.create({ backend: 'js' });
    const a = store.parameter('a', 300), b = store.parameter('b', 1000);
    const alone = await ParameterStore.create({ backend: 'js' });
    const b2 = alone.parameter('b', 1000);
    const g = fillMixed(new Float32Array(1000), prng(3), 1, 0);
    a.grad.fill(1e6); // a huge neighbour
    b.grad.set(g);
    b2.grad.set(g);
    const opt = new Adam([a, b], { stateDtype: 'int8' }), opt2 = new Adam([b2], { stateDtype: 'int8' });
    opt.step();
    opt2.step();
    expect(opt.rawState(b).expAvg).toEqual(opt2.rawState(b2).expAvg);
    expectSameBits(b.data, b2.data, 'b');
  });
});

describe('the SIMD kernels store and load exactly what the reference encodes and decodes, on special inputs', () => {
  for (const dtype of ['bfloat16', 'int8'] as const) {
    it(`${dtype}: stores (signed state) of ties, specials, all-zero and one-huge-value blocks, NaN payloads; both backends`, async () => {
      const g = dtype === 'bfloat16' ? bf16Stress() : int8Stress();
      const want = dtype === 'bfloat16' ? { dtype, data: toBfloat16(g) } : { dtype, ...toInt8(g, true), blockSize: BLOCK_ELEMENTS };
      for (const backend of BACKENDS) {
        const got = await storeThroughKernels(backend, dtype, g);
        if (dtype === 'int8') {
          expect(Array.from(got.data), backend).toEqual(Array.from(want.data));
          expectSameBits(got.scales!, (want as { scales: Float32Array }).scales, `${backend} scales`);
        } else {
          const w = want.data as Uint16Array, d = got.data as Uint16Array;
          for (let i = 0; i < w.length; i++) if (!(isNaN16(w[i]) && isNaN16(d[i]))) expect(d[i], `${backend} [${i}] ${g[i]}`).toBe(w[i]);
        }
      }
    });

    it(`${dtype}: loads decode what the reference decodes (a step that reads the state back into the parameter)`, async () => {
      const g = fillMixed(new Float32Array(3 * BLOCK_ELEMENTS + 9), prng(11), 3, 0.05).map((v) => (Number.isFinite(v) ? v : 0));
      for (const backend of BACKENDS) {
        const store = await ParameterStore.create({ backend });
        const p = store.parameter('p', g.length);
        // buf = 1·buf + (1 - 1)·0 = buf; p = 0 - 1·buf: the parameter receives -decode(buf).
        const opt = new SGD([p], { lr: 1, momentum: 1, dampening: 1, stateDtype: dtype });
        p.grad.set(g);
        opt.step(); // buf = g (stored)
        p.data.fill(0);
        p.grad.fill(0);
        opt.step();
        const stored = opt.state(p).momentumBuffer as Float32Array; // host decode
        p.data.forEach((v, i) => {
          if (!(v === -stored[i] || (v === 0 && stored[i] === 0))) expect.fail(`${backend} ${dtype} [${i}]: ${v} vs -${stored[i]}`);
        });
        store.dispose();
      }
    });
  }

  it('int8, unsigned state: negative and NaN values store 0, Infinity saturates (both backends)', async () => {
    for (const backend of BACKENDS) {
      const store = await ParameterStore.create({ backend });
      const n = 600;
      const p = store.parameter('p', n);
      const g = fillMixed(new Float32Array(n), prng(9), 2, 0.05);
      p.grad.set(g);
      // betas [0, ...] with beta2 = 0: v = g·g, the square of each gradient (Inf, NaN included).
      const opt = new Adam([p], { betas: [0, 0], stateDtype: 'int8' });
      opt.step();
      const want = toInt8(g.map((x) => Math.fround(x * x)), false);
      const raw = opt.rawState(p).expAvgSq as QuantizedState;
      expect(Array.from(raw.data), backend).toEqual(Array.from(want.data));
      expectSameBits(raw.scales!, want.scales, `${backend} scales`);
      store.dispose();
    }
  });
});

describe('stochastic rounding (bfloat16)', () => {
  it('is unbiased: the mean over steps of a value rounded stochastically approaches the value', async () => {
    const store = await ParameterStore.create({ backend: 'wasm' });
    const x = Math.fround(1 + 3 * 2 ** -10); // 3/8 of the way from one bfloat16 to the next
    const p = store.parameter('p', 4096);
    // SGD's first momentum step stores g: a fresh optimizer per round, the step count as the counter.
    let sum = 0, n = 0;
    for (let seed = 0; seed < 8; seed++) {
      const opt = new SGD([p], { lr: 0, momentum: 0.5, stateDtype: 'bfloat16', stochasticRounding: true, stateSeed: seed });
      p.grad.fill(x);
      opt.step();
      for (const v of opt.state(p).momentumBuffer as Float32Array) { sum += v; n++; }
    }
    const lo = f32FromBits(bitsOf(x) & 0xffff0000), hi = f32FromBits((bitsOf(x) & 0xffff0000) + 0x10000);
    expect(Math.abs(sum / n - x)).toBeLessThan((hi - lo) * 0.02);
    // Nearest rounding would give lo every time.
    expect(toBfloat16([x])[0]).toBe(bitsOf(lo) >>> 16);
  });

  it('draws from (seed, step, group, element): the same bits for the same seed, others for another', () => {
    expect(roundingKey(1, 2, 0)).toBe(roundingKey(1, 2, 0));
    const keys = new Set([roundingKey(1, 2, 0), roundingKey(2, 2, 0), roundingKey(1, 3, 0), roundingKey(1, 2, 1)]);
    expect(keys.size).toBe(4);
    // hash32 is a bijection on 32 bits (xorshifts and odd multipliers): a few thousand inputs never collide.
    expect(new Set(Array.from({ length: 5000 }, (_, i) => hash32(i))).size).toBe(5000);
  });
});

async function trained(backend: BackendName, dtype: 'float32' | 'bfloat16' | 'int8', steps = 3) {
  const store = await ParameterStore.create({ backend });
  const rand = prng(21);
  const w = store.parameter('w', fillMixed(new Float32Array(700), rand, 1, 0)), b = store.parameter('b', fillMixed(new Float32Array(5), rand, 1, 0));
  const opt = new Adam([{ params: [w] }, { params: [b], lr: 0.003 }], { lr: 0.01, amsgrad: true, stateDtype: dtype });
  for (let s = 0; s < steps; s++) {
    w.grad.set(fillMixed(new Float32Array(700), rand, 1, 0));
    b.grad.set(fillMixed(new Float32Array(5), rand, 1, 0));
    opt.step();
  }
  return { store, w, b, opt };
}

describe('state converts between dtypes on load, with the documented rounding', () => {
  const dtypes = ['float32', 'bfloat16', 'int8'] as const;
  for (const from of dtypes) {
    for (const to of dtypes) {
      if (from === to) continue;
      it(`${from} state dict into a ${to} optimizer (and its checkpoint): each buffer is ${to === 'float32' ? 'dequantised exactly' : `the ${to} encoding of the saved values`}`, async () => {
        const a = await trained('wasm', from);
        const sd = a.opt.stateDict();
        for (const via of ['stateDict', 'checkpoint'] as const) {
          const c = await trained('js', to, 1);
          if (via === 'stateDict') c.opt.loadStateDict(sd);
          else loadCheckpoint(saveCheckpoint({ store: a.store, optimizer: a.opt }), { store: c.store, optimizer: c.opt });
          expect(c.opt.paramGroups[0].stateDtype).toBe(to);
          expect(c.opt.paramGroups[0].lr).toBe(0.01);
          for (const [p, q] of [[a.w, c.w], [a.b, c.b]]) {
            for (const name of ['expAvg', 'expAvgSq', 'maxExpAvgSq']) {
              const saved = a.opt.state(p)[name] as Float32Array; // the saved buffer's values
              const signed = name === 'expAvg';
              const want = to === 'float32' ? saved : to === 'bfloat16' ? fromBfloat16(toBfloat16(saved)) : (() => { const t = toInt8(saved, signed); return fromInt8(t.data, t.scales, signed); })();
              expectSameBits(c.opt.state(q)[name] as Float32Array, want, `${via} ${p.name}.${name}`);
            }
          }
          c.store.dispose();
        }
      });
    }
  }

  it('a state dict of the same dtype loads its bits unchanged (stateDict -> loadStateDict -> stateDict)', async () => {
    for (const dtype of ['bfloat16', 'int8'] as const) {
      const a = await trained('wasm', dtype), c = await trained('js', dtype, 1);
      const sd = a.opt.stateDict();
      c.opt.loadStateDict(sd);
      expect(c.opt.stateDict().state).toEqual(sd.state);
    }
  });
});

describe('memory: bytes of state per parameter', () => {
  it('Adam holds 8 bytes of state per parameter in float32, 4 in bfloat16, 2 + 4/256 in int8', async () => {
    const n = 1 << 16;
    const bytes: Record<string, number> = {};
    for (const dtype of ['float32', 'bfloat16', 'int8'] as const) {
      // The wasm backend's arena is one memory: allocations are back to back.
      const store = await ParameterStore.create({ backend: 'wasm' });
      const w = store.parameter('w', n);
      const used = (store as unknown as { allocate(b: number): number }).allocate(0);
      new Adam([w], { stateDtype: dtype });
      bytes[dtype] = (store as unknown as { allocate(b: number): number }).allocate(0) - used;
    }
    // Each of the two moment buffers (the codes, for int8; not the small scales) is followed by
    // the arena's stagger padding.
    const pad = 2 * STAGGER_BYTES;
    expect((bytes.float32 - pad) / n).toBe(8);
    expect((bytes.bfloat16 - pad) / n).toBe(4);
    expect((bytes.int8 - pad) / n).toBe(2 + 2 * 4 / BLOCK_ELEMENTS);
  });
});

describe('options and their checks', () => {
  it('bad input is refused with a message naming the option and the value', async () => {
    const store = await ParameterStore.create({ backend: 'js' });
    const w = store.parameter('w', 3);
    expect(() => new Adam([w], { stateDtype: 'fp8' as never })).toThrow('Adam: invalid stateDtype: "fp8" (must be "float32", "bfloat16" or "int8")');
    expect(() => new Adam([w], { stochasticRounding: true })).toThrow(/Adam: stochasticRounding applies to stateDtype 'bfloat16' only, but stateDtype is "float32"/);
    expect(() => new Adam([w], { stateDtype: 'int8', stochasticRounding: true })).toThrow(/stochasticRounding applies to stateDtype 'bfloat16' only, but stateDtype is "int8"/);
    expect(() => new Adam([w], { stateDtype: 'bfloat16', stateSeed: -1 })).toThrow(/invalid stateSeed: -1 \(must be a whole number in \[0, 4294967295\]\)/);
    expect(() => new Adam([w], { stateDtype: 'bfloat16', stateSeed: 1.5 })).toThrow(/invalid stateSeed: 1.5/);
    expect(() => new RMSprop([w], { centered: true, stateDtype: 'int8' })).toThrow(/centered RMSprop needs stateDtype 'float32' \(got "int8"\)/);
    expect(() => new RMSprop([w], { centered: true, stateDtype: 'bfloat16' })).toThrow(/centered RMSprop needs stateDtype 'float32'/);
  });

  it('a param group keeps its dtype: changing it later throws at the next step, nothing changed; groups may differ', async () => {
    const store = await ParameterStore.create({ backend: 'wasm' });
    const w = store.parameter('w', [1, 2, 3]), b = store.parameter('b', [4]);
    const opt = new AdamW([{ params: [w], stateDtype: 'int8' }, { params: [b] }], { lr: 0.1 });
    expect(opt.paramGroups.map((g) => g.stateDtype)).toEqual(['int8', 'float32']);
    w.grad.fill(1);
    opt.step();
    const before = store.dump();
    opt.paramGroups[1].stateDtype = 'bfloat16';
    expect(() => opt.step()).toThrow(/AdamW: param group 1: stateDtype cannot change after the param group was created \(it holds float32 state, the group now says "bfloat16"\)/);
    expectSameBits(store.dump(), before, 'arena');
  });

  it('state(p) gives dequantised copies for low-precision state; rawState(p) live views of the stored bits', async () => {
    const { w, opt } = await trained('wasm', 'int8');
    const raw = opt.rawState(w).expAvg as QuantizedState;
    expect(raw).toMatchObject({ dtype: 'int8', blockSize: BLOCK_ELEMENTS });
    expect(raw.data.length).toBe(700);
    expect(raw.scales!.length).toBe(3);
    const copy = opt.state(w).expAvg as Float32Array;
    copy.fill(123); // a copy: the state is unchanged
    expect((opt.state(w).expAvg as Float32Array)[0]).not.toBe(123);
    raw.data.fill(0); // a live view: the state is changed
    expect(Array.from(opt.state(w).expAvg as Float32Array).every((v) => v === 0)).toBe(true);
  });
});

describe('state saved before low-precision state still loads (format version 1, float32)', () => {
  it('a version-1 state dict without the state options loads as float32 state', async () => {
    const a = await trained('wasm', 'float32'), c = await trained('wasm', 'float32', 1);
    const sd = a.opt.stateDict();
    const old: OptimizerStateDict = {
      ...sd, version: 1,
      paramGroups: sd.paramGroups.map(({ stateDtype: _, stochasticRounding: __, stateSeed: ___, ...g }) => g as OptimizerStateDict['paramGroups'][number]),
    };
    c.opt.loadStateDict(old);
    expect(c.opt.stateDict()).toEqual(sd);
  });

  it('a version-1 checkpoint (float32 blocks, no state options) loads exactly', async () => {
    const a = await trained('wasm', 'float32'), c = await trained('js', 'float32', 1);
    const bytes = saveCheckpoint({ store: a.store, optimizer: a.opt });
    // Rewrite it as the previous format wrote it: version 1, groups without the state options.
    const length = new DataView(bytes.buffer).getUint32(12, true);
    const header = JSON.parse(new TextDecoder().decode(bytes.subarray(16, 16 + length))) as { optimizer: { version: number; paramGroups: Record<string, unknown>[] } };
    header.optimizer.version = 1;
    for (const g of header.optimizer.paramGroups) { delete g.stateDtype; delete g.stochasticRounding; delete g.stateSeed; }
    const out = withHeader(bytes, JSON.stringify(header));
    new DataView(out.buffer).setUint32(8, 1, true);
    withCrc(out);
    loadCheckpoint(out, { store: c.store, optimizer: c.opt });
    expect(c.opt.stateDict()).toEqual(a.opt.stateDict());
    expectSameBits(c.w.data, a.w.data, 'w');
  });

  it('a version-1 checkpoint may not hold 16- or 8-bit blocks', async () => {
    const a = await trained('wasm', 'int8'), c = await trained('wasm', 'int8', 1);
    const bytes = saveCheckpoint({ store: a.store, optimizer: a.opt });
    new DataView(bytes.buffer).setUint32(8, 1, true);
    expect(() => loadCheckpoint(withCrc(bytes), { store: c.store, optimizer: c.opt })).toThrow(/block \d+ is not \{ size: n \} with a whole n >= 0; nothing was changed/);
  });
});
