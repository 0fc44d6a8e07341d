// The kernels under an independent WebAssembly implementation: build/selftest.wasm (the
// kernels plus a driver, assembly/selftest.ts) runs in Debian's wabt interpreter
// (wasm-interp) and in this engine, and both must return the hash that the same driver,
// written here over the JS twins, computes. The kernel calls of both come from one table of named
// cases (src/kernels/selftest-cases.ts); keep the rest of this driver in step with the AssemblyScript one.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { bindJsKernels, jsTwins } from '../src/kernels/index.js';
import { SELFTEST_CASES } from '../src/kernels/selftest-cases.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const N = 1003, BASE = 16384, STRIDE = 4096;

/** The driver of assembly/selftest.ts over the JS twins. */
function jsSelftest(): number {
  const heap = new Float32Array(65536 / 4);
  const bits = new Uint32Array(heap.buffer);
  const t = jsTwins;
  const kernels = bindJsKernels({
    view: (address, count) => new Float32Array(heap.buffer, heap.byteOffset + address, count),
    u16: (address, count) => new Uint16Array(heap.buffer, heap.byteOffset + address, count),
    u8: (address, count) => new Uint8Array(heap.buffer, heap.byteOffset + address, count),
  }) as unknown as Record<string, (...a: unknown[]) => void>;
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
  for (const c of SELFTEST_CASES) {
    const arrays = Object.fromEntries(Object.entries(c.arrays).map(([name, slot]) => [name, at(slot)]));
    for (const flags of c.flags) {
      reset();
      for (let s = 0; s < 3; s++) {
        kernels[c.kernel](arrays, N, c.scalars, flags);
        fill(1, false);
      }
      mixArrays();
    }
  }
  reset();
  mixF64(t.sumSquares(heap, at(2), N));
  mixF64(t.maxAbs(heap, at(2), N));
  mix(t.allFinite(heap, at(2), N));
  mixF64(t.sumAbs(heap, at(2), N));
  mixF64(t.dot(heap.subarray(at(1) / 4), heap.subarray(at(2) / 4), N));
  heap[at(2) / 4 + 10] = Infinity;
  mix(t.allFinite(heap, at(2), N));
  heap[at(2) / 4 + 11] = 0;
  heap[at(2) / 4 + 12] = NaN;
  mix(t.countNonzero(heap, at(2), N));
  reset();
  const slot = (k: number) => heap.subarray(at(k) / 4);
  mixF64(t.sumAbs(heap, at(0), N));
  mixF64(t.sumSquaresDecayed(slot(1), slot(0), N, 0));
  mixF64(t.sumSquaresDecayed(slot(1), slot(0), N, 0.01));
  mixF64(t.dotDecayedDelta(slot(1), slot(0), slot(2), N, 0));
  mixF64(t.dotDecayedDelta(slot(1), slot(0), slot(2), N, 0.5));
  reset();
  kernels.gemmPack(at(1), 17, 1, 59, 17, at(3));
  kernels.gemm(at(0), 59, 1, at(3), at(2), 17, 17, 17, 59, 1.0, 0.0);
  kernels.gemm(at(0), 1, 17, at(3), at(2), 17, 17, 17, 59, 0.5, 2.0);
  mixArrays();
  reset();
  mixF64(t.sum(heap, at(1), N));
  kernels.rowMeanSquares(at(1), 17, 59, at(3));
  kernels.colMeanSquares(at(1), 17, 59, 59, at(4));
  kernels.adafactorUpdate(at(3), at(4), at(1), at(2), 17, 59, 0.75, 1e-6, 0);
  kernels.adafactorUpdate(at(3), at(4), at(1), at(0), 17, 59, 0.5, 1e-6, 1);
  mixArrays();
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
