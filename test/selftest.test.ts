// The kernels under an independent WebAssembly implementation: build/selftest.wasm (the
// kernels plus a driver, assembly/selftest.ts) runs in Debian's wabt interpreter
// (wasm-interp) and in this engine, and both must return the hash that the same driver,
// written here over the JS twins, computes. Keep this driver in step with the AssemblyScript one.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { jsTwins } from '../src/kernels/index.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const N = 1003, BASE = 16384, STRIDE = 4096;
const CASES = [
  0, 0, 0, 2 | 1, 0, 16 | 64, 0, 16 | 32, 0, 16 | 2,
  1, 0, 1, 8 | 2, 1, 4 | 1, 1, 32 | 4, 1, 256, 1, 8 | 32 | 1,
  2, 0, 2, 2 | 1, 3, 0, 3, 128 | 16, 3, 2 | 1 | 16,
  4, 0, 4, 2 | 1, 5, 0, 5, 2 | 1, 6, 0, 6, 4 | 1,
];

/** The driver of assembly/selftest.ts over the JS twins. */
function jsSelftest(): number {
  const heap = new Float32Array(65536 / 4);
  const bits = new Uint32Array(heap.buffer);
  const t = jsTwins;
  let seed = 0x2545f491;
  const next = () => {
    seed ^= seed << 13; seed >>>= 0;
    seed ^= seed >>> 17;
    seed ^= seed << 5; seed >>>= 0;
    return seed;
  };
  const unit = () => Math.fround((next() >>> 8) / 8388608 - 1);
  const at = (k: number) => BASE + k * STRIDE;
  const fill = (k: number, positive: boolean) => {
    for (let i = 0; i < N; i++) { const v = unit(); heap[at(k) / 4 + i] = positive ? Math.abs(v) : v; }
  };
  let hash = 2166136261;
  const mix = (word: number) => {
    for (let b = 0; b < 4; b++) {
      hash ^= (word >>> (b * 8)) & 0xff;
      hash = Math.imul(hash, 16777619) >>> 0;
    }
  };
  const mixArrays = () => {
    for (let k = 0; k < 5; k++) {
      for (let i = 0; i < N; i++) {
        const j = at(k) / 4 + i;
        mix(Number.isNaN(heap[j]) ? 0x7fc00000 : bits[j]);
      }
    }
  };
  const mixF64 = (x: number) => {
    const w = new Uint32Array(new Float64Array([Number.isNaN(x) ? NaN : x]).buffer);
    if (Number.isNaN(x)) { mix(0); mix(0x7ff80000); } else { mix(w[0]); mix(w[1]); }
  };
  const reset = () => { fill(0, false); fill(1, false); fill(2, false); fill(3, true); fill(4, true); };
  const step = (kernel: number, flags: number) => {
    const p = at(0), g = at(1), a = at(2), b = at(3), c = at(4);
    if (kernel === 0) t.sgd(heap, p, g, a, N, 0.01, 0.001, 0.9, 1.0, flags);
    else if (kernel === 1) t.adam(heap, p, g, a, b, c, N, 0.9, 0.1, 0.999, 0.001, 0.0123, 31.6, 1e-8, 0.01, 0.999, 0.004, flags);
    else if (kernel === 2) t.adagrad(heap, p, g, b, N, 0.05, 0.001, 1e-10, flags);
    else if (kernel === 3) t.rmsprop(heap, p, g, b, a, c, N, 0.01, 0.99, 0.01, 1e-8, 0.001, 0.9, flags);
    else if (kernel === 4) t.adamax(heap, p, g, a, b, N, 0.9, 0.1, 0.999, 0.02, 1e-8, 0.001, flags);
    else if (kernel === 5) t.adadelta(heap, p, g, b, c, N, 1.0, 0.9, 0.1, 1e-6, 0.001, flags);
    else t.lion(heap, p, g, a, N, 0.0003, 0.9, 0.1, 0.99, 0.01, 0.9999, flags);
  };
  for (let i = 0; i < CASES.length; i += 2) {
    reset();
    for (let s = 0; s < 3; s++) {
      step(CASES[i], CASES[i + 1]);
      fill(1, false);
    }
    mixArrays();
  }
  reset();
  t.scale(heap, at(0), N, 0.75);
  t.clamp(heap, at(1), N, -0.5, 0.25);
  mixArrays();
  mixF64(t.sumSquares(heap, at(2), N));
  mixF64(t.maxAbs(heap, at(2), N));
  mix(t.allFinite(heap, at(2), N));
  heap[at(2) / 4 + 10] = Infinity;
  mix(t.allFinite(heap, at(2), N));
  return hash >>> 0;
}

describe('self-test module (build/selftest.wasm) in other runtimes', () => {
  const expected = jsSelftest();

  it('this engine runs it to the JS twins\' hash', async () => {
    const { instance } = await WebAssembly.instantiate(readFileSync(`${root}/build/selftest.wasm`));
    const run = instance.exports.run as () => number;
    expect(run() >>> 0).toBe(expected);
    expect(instance.exports.memory).toBeInstanceOf(WebAssembly.Memory);
    expect(WebAssembly.Module.imports(new WebAssembly.Module(readFileSync(`${root}/build/selftest.wasm`)))).toEqual([]);
  });

  const interp = spawnSync('wasm-interp', ['--version'], { encoding: 'utf8' });
  if (interp.status !== 0) console.warn('wasm-interp (Debian package wabt) is not installed; .ci/run installs it');
  it.skipIf(interp.status !== 0)(`wabt's wasm-interp ${interp.stdout?.trim() ?? ''} runs it to the same hash`, () => {
    const run = spawnSync('wasm-interp', [`${root}/build/selftest.wasm`, '--run-all-exports'], { encoding: 'utf8' });
    expect(run.status, run.stderr).toBe(0);
    const m = /run\(\) => i32:(-?\d+)/.exec(run.stdout);
    expect(m, run.stdout).not.toBeNull();
    expect(Number(m![1]) >>> 0).toBe(expected);
  });
});
