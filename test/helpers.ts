import { expect } from 'vitest';
import { ParameterStore, loadCheckpoint, saveCheckpoint, type BackendName, type Parameter } from '../src/index.js';
import type { AnyOptimizer } from '../src/optim/optimizer.js';

/** Both backends, in the order tests run them. */
export const BACKENDS: readonly BackendName[] = ['wasm', 'js'];

/** A store of each backend. */
export async function storePair(): Promise<{ wasm: ParameterStore; js: ParameterStore }> {
  return { wasm: await ParameterStore.create({ backend: 'wasm' }), js: await ParameterStore.create({ backend: 'js' }) };
}

/** Deterministic 32-bit PRNG (mulberry32): the same numbers in every engine. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Float32 values that stress rounding and special cases. */
export const SPECIAL_VALUES: readonly number[] = [
  0, -0, 1, -1, Infinity, -Infinity, NaN,
  1.401298464324817e-45, -1.401298464324817e-45, // smallest subnormals
  1.1754942106924411e-38, -1.1754942106924411e-38, // largest subnormals
  1.1754943508222875e-38, // smallest normal
  3.4028234663852886e38, -3.4028234663852886e38, // largest finite
  1e-20, -1e-20, 1e20, -1e20, 0.1, -0.1, 65504, 1e-7,
];

/**
 * Fills `out` with a deterministic mix: mostly ordinary values in [-scale, scale], some
 * special values (`specialRate` of them), some subnormals and extreme magnitudes.
 */
export function fillMixed(out: Float32Array, rand: () => number, scale = 1, specialRate = 0.05): Float32Array {
  for (let i = 0; i < out.length; i++) {
    const r = rand();
    if (r < specialRate) out[i] = SPECIAL_VALUES[Math.floor(rand() * SPECIAL_VALUES.length)];
    else if (r < specialRate * 1.5) out[i] = (rand() - 0.5) * 2e-40; // subnormal
    else if (r < specialRate * 2) out[i] = (rand() - 0.5) * 10 ** Math.floor(rand() * 76 - 38);
    else out[i] = (rand() * 2 - 1) * scale;
  }
  return out;
}

/** First index where two float32 arrays differ in bits (NaN equals NaN whatever its payload), or -1. */
export function firstBitDifference(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) return Math.min(a.length, b.length);
  const ua = new Uint32Array(a.buffer, a.byteOffset, a.length);
  const ub = new Uint32Array(b.buffer, b.byteOffset, b.length);
  for (let i = 0; i < a.length; i++) {
    if (ua[i] !== ub[i] && !(Number.isNaN(a[i]) && Number.isNaN(b[i]))) return i;
  }
  return -1;
}

/** Asserts bit equality of two float32 arrays (NaN agrees with NaN), reporting the first difference. */
export function expectSameBits(actual: Float32Array, expected: Float32Array, label: string): void {
  const i = firstBitDifference(actual, expected);
  if (i >= 0) {
    const bits = (x: number) => (new Uint32Array(new Float32Array([x]).buffer)[0] >>> 0).toString(16).padStart(8, '0');
    expect.fail(`${label}: lengths ${actual.length}/${expected.length}; first difference at [${i}]: ` +
      `${actual[i]} (0x${bits(actual[i])}) vs ${expected[i]} (0x${bits(expected[i])})`);
  }
}

/** Worst |ours - ref| as a fraction of the tolerance 2e-4 |ref| + 1e-5, failing at the first element over it
 * (the reference tolerance of the float64 transcription tests). */
export function worstFraction(ours: Float32Array, ref: Float64Array, what: string): number {
  let worst = 0;
  for (let i = 0; i < ref.length; i++) {
    const f = Math.abs(ours[i] - ref[i]) / (2e-4 * Math.abs(ref[i]) + 1e-5);
    if (!(f <= 1)) expect.fail(`${what}, element ${i}: ${ours[i]} vs float64 ${ref[i]}`);
    worst = Math.max(worst, f);
  }
  return worst;
}

/**
 * Six steps of `make` over a 37-element parameter on wasm (gradients from `seed`); after the
 * third its checkpoint loads into a fresh js run, which takes the last three: the parameter and
 * state buffer `buffer` must end with the same bits. Returns the js run's state of the parameter.
 */
export async function expectCheckpointResume(make: (w: Parameter) => AnyOptimizer, seed: number, buffer: string): Promise<Record<string, unknown>> {
  const grads = Array.from({ length: 6 }, (_, s) => fillMixed(new Float32Array(37), prng(seed + s), 1, 0));
  const build = async (backend: BackendName) => {
    const store = await ParameterStore.create({ backend });
    const w = store.parameter('w', fillMixed(new Float32Array(37), prng(seed + 1), 1, 0));
    return { store, w, opt: make(w) };
  };
  const a = await build('wasm'), b = await build('js');
  for (let s = 0; s < 6; s++) {
    a.w.grad.set(grads[s]);
    a.opt.step();
    if (s === 2) loadCheckpoint(saveCheckpoint({ store: a.store, optimizer: a.opt }), { store: b.store, optimizer: b.opt });
    if (s > 2) {
      b.w.grad.set(grads[s]);
      b.opt.step();
    }
  }
  expectSameBits(b.w.data, a.w.data, 'w');
  const state = b.opt.state(b.w) as Record<string, unknown>;
  expectSameBits(state[buffer] as Float32Array, (a.opt.state(a.w) as Record<string, unknown>)[buffer] as Float32Array, buffer);
  return state;
}
