// The raw kernels, called through each backend's exports exactly as an embedder would:
// identical float32 bits on both backends for every length 0..67 (so the partial-vector
// tail is covered) at unaligned offsets, nothing written outside [0, n), and the flag
// constants agreeing between the AssemblyScript and TypeScript sources.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createJsBackend, createWasmBackend, type Backend } from '../src/backend.js';
import * as flags from '../src/kernels/flags.js';
import { expectSameBits, fillMixed, prng } from './helpers.js';

const N_MAX = 67;
/** Byte offsets of the arrays: 4-byte aligned, deliberately not 16-byte aligned. */
const SLOT = 4 * 80;
const BASE = 4 * 17;
const ARRAYS = 5;

function setup(backend: Backend, seed: number): Float32Array {
  backend.ensure(BASE + ARRAYS * SLOT + 64);
  const heap = backend.heap();
  fillMixed(heap.subarray(0, (BASE + ARRAYS * SLOT) / 4 + 16), prng(seed), 2, 0.1);
  return heap;
}

const at = (k: number) => BASE + k * SLOT;

type Call = (b: Backend, n: number) => void;

const calls: Record<string, Call[]> = {
  sgd: [0, 1, 2, 3, 16, 18, 48, 50, 19, 51, 17, 33 + 16].map((f): Call => (b, n) =>
    b.kernels.sgd(at(0), at(1), at(2), n, 0.1, 0.01, 0.9, 0.75, f)),
  // every combination of MAXIMIZE, WEIGHT_DECAY, DECOUPLED, AMSGRAD with plain Adam, NESTEROV (NAdam) and PLAIN (RAdam)
  adam: Array.from({ length: 16 }, (_, f) => f).flatMap((f) => [f, f | 32, f | 256, f | 32 | 256]).map((f): Call => (b, n) =>
    b.kernels.adam(at(0), at(1), at(2), at(3), at(4), n, 0.9, 0.1, 0.999, 0.001, 0.01, 31.6, 1e-8, 0.05, 0.9995, 0.0123, f)),
  adagrad: [0, 1, 2, 3].map((f): Call => (b, n) => b.kernels.adagrad(at(0), at(1), at(2), n, 0.05, 0.01, 1e-10, f)),
  rmsprop: [0, 1, 2, 3, 16, 17, 18, 19, 128, 129, 130, 131, 144, 145, 146, 147].map((f): Call => (b, n) =>
    b.kernels.rmsprop(at(0), at(1), at(2), at(3), at(4), n, 0.01, 0.99, 0.01, 1e-8, 0.01, 0.9, f)),
  adamax: [0, 1, 2, 3].map((f): Call => (b, n) => b.kernels.adamax(at(0), at(1), at(2), at(3), n, 0.9, 0.1, 0.999, 0.02, 1e-8, 0.05, f)),
  adadelta: [0, 1, 2, 3].map((f): Call => (b, n) => b.kernels.adadelta(at(0), at(1), at(2), at(3), n, 1, 0.9, 0.1, 1e-6, 0.01, f)),
  lion: [0, 1, 4, 5].map((f): Call => (b, n) => b.kernels.lion(at(0), at(1), at(2), n, 1e-4, 0.9, 0.1, 0.99, 0.01, 0.999, f)),
  copy: [(b, n) => b.kernels.copy(at(0), at(1), n)],
  clamp: [[-1, 1], [0, 0.5], [-1e-30, 1e30]].map(([lo, hi]): Call => (b, n) => b.kernels.clamp(at(0), n, lo, hi)),
  scale: [0.5, -3, 1e-30, 7.1].map((a): Call => (b, n) => b.kernels.scale(at(0), n, a)),
};

describe('kernels: wasm and js twins agree bit for bit', async () => {
  const wasm = await createWasmBackend();
  const js = createJsBackend();
  for (const [name, variants] of Object.entries(calls)) {
    it(`${name}: every flag combination, lengths 0..${N_MAX}, unaligned offsets`, () => {
      variants.forEach((call, v) => {
        for (let n = 0; n <= N_MAX; n++) {
          const seed = 1000 * v + n;
          const hw = setup(wasm, seed), hj = setup(js, seed);
          const before = hw.slice(0, (BASE + ARRAYS * SLOT) / 4);
          call(wasm, n);
          call(js, n);
          for (let k = 0; k < ARRAYS; k++) {
            const from = at(k) / 4;
            expectSameBits(hw.subarray(from, from + SLOT / 4), hj.subarray(from, from + SLOT / 4), `${name} variant ${v}, n=${n}, array ${k}`);
            // Nothing past n (nor before the array) changes.
            expectSameBits(hw.subarray(from + n, from + SLOT / 4), before.subarray(from + n, from + SLOT / 4), `${name} variant ${v}, n=${n}: array ${k} past n`);
          }
          expectSameBits(hw.subarray(0, BASE / 4), before.subarray(0, BASE / 4), `${name} variant ${v}, n=${n}: bytes before the arrays`);
        }
      });
    });
  }

  it('reductions (sumSquares, maxAbs, allFinite) return the same value on both backends, lengths 0..67', () => {
    const same = (a: number, b: number) => Object.is(a, b) || (Number.isNaN(a) && Number.isNaN(b));
    let nonFinite = 0, finite = 0;
    for (let seed = 0; seed < 6; seed++) {
      for (let n = 0; n <= N_MAX; n++) {
        // seeds 0-2: ordinary values only; 3-5: with specials (Inf, NaN, subnormals, extremes)
        for (const b of [wasm, js]) {
          b.ensure(BASE + ARRAYS * SLOT + 64);
          fillMixed(b.heap().subarray(0, (BASE + SLOT) / 4), prng(77 * seed + n), 3, seed < 3 ? 0 : 0.05);
        }
        for (const name of ['sumSquares', 'maxAbs', 'allFinite'] as const) {
          const a = wasm.kernels[name](at(0), n), b = js.kernels[name](at(0), n);
          if (!same(a, b)) expect.fail(`${name} seed ${seed} n=${n}: wasm ${a}, js ${b}`);
        }
        if (wasm.kernels.allFinite(at(0), n)) finite++; else nonFinite++;
      }
    }
    expect(finite).toBeGreaterThan(0);
    expect(nonFinite).toBeGreaterThan(0);
  });

  it('the kernels touched something (a parity test that cannot fail is no test)', () => {
    const hw = setup(wasm, 7);
    const before = hw.slice(at(0) / 4, at(0) / 4 + 8);
    calls.adam[0](wasm, 8);
    expect(Array.from(hw.subarray(at(0) / 4, at(0) / 4 + 8))).not.toEqual(Array.from(before));
  });
});

describe('kernel flags', () => {
  it('assembly/common.ts and src/kernels/flags.ts define the same bits', () => {
    const source = readFileSync(new URL('../assembly/common.ts', import.meta.url), 'utf8');
    const asFlags = Object.fromEntries([...source.matchAll(/export const (\w+): u32 = (\d+);/g)].map((m) => [m[1], Number(m[2])]));
    expect(asFlags).toEqual({ ...flags });
  });
});
