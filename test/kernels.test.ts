// The kernels, called through each backend exactly as the library calls them (named
// arguments): identical float32 bits on both backends for every flag combination of every
// element-wise kernel and every length 0..67 (so the partial-vector tail is covered) at
// unaligned offsets, nothing written outside [0, n), and arguments the flags do not use
// really unused (omitted on one backend, given on the other). Then the ABI: the module's
// exports match the definitions, the wrappers refuse missing arguments and unknown flags,
// and docs/ABI.md and the generated sources are what the generator writes now.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { analyse, analyseAll, renderAbiDoc, renderApi, renderAssembly, renderJs } from '../scripts/gen-kernels.js';
import { add, defineKernel, mul, negIf, sub, type KernelDef } from '../src/kernels/dsl.js';
import { createJsBackend, createWasmBackend, kernelWasmBytes, type Backend } from '../src/backend.js';
import { ELEMENTWISE_KERNELS, KERNEL_ABI_VERSION, KERNEL_NAMES, REDUCTION_NAMES, type Kernels } from '../src/kernels/index.js';
import { expectSameBits, fillMixed, prng } from './helpers.js';
import { toBfloat16, toInt8 } from '../src/kernels/lowp.js';

const N_MAX = 67;
/** Byte offsets of the arrays: 4-byte aligned, deliberately not 16-byte aligned. */
const SLOT = 4 * 80;
const BASE = 4 * 17;
/** Array slots: as many as the kernel with the most arrays has (Adan's six). */
const ARRAYS = Math.max(...ELEMENTWISE_KERNELS.map((k) => k.arrays.length));

const reserved = new WeakSet<Backend>();

/** The test's region of a backend's memory, from address 0 (allocated once per backend). */
function region(backend: Backend): Float32Array {
  if (!reserved.has(backend)) {
    backend.allocate(BASE + ARRAYS * SLOT + 64);
    reserved.add(backend);
  }
  return backend.view(0, (BASE + ARRAYS * SLOT + 64) / 4);
}

function setup(backend: Backend, seed: number): Float32Array {
  const heap = region(backend);
  fillMixed(heap.subarray(0, (BASE + ARRAYS * SLOT) / 4 + 16), prng(seed), 2, 0.1);
  return heap;
}

const at = (k: number) => BASE + k * SLOT;

/** Scalar sets per kernel, by name. */
const SCALARS: Record<string, readonly Record<string, number>[]> = {
  sgd: [{ lr: 0.1, weightDecay: 0.01, momentum: 0.9, dampeningComplement: 0.75 }],
  adam: [{
    beta1: 0.9, oneMinusBeta1: 0.1, beta2: 0.999, oneMinusBeta2: 0.001, stepSize: 0.01, invBiasCorrection2Sqrt: 31.6, eps: 1e-8,
    weightDecay: 0.05, decay: 0.9995, gradCoef: 0.0123, expAvgCoef: 0.0111,
  }],
  adagrad: [{ clr: 0.05, weightDecay: 0.01, eps: 1e-10 }],
  rmsprop: [{ lr: 0.01, alpha: 0.99, oneMinusAlpha: 0.01, eps: 1e-8, weightDecay: 0.01, momentum: 0.9 }],
  adamax: [{ beta1: 0.9, oneMinusBeta1: 0.1, beta2: 0.999, clr: 0.02, eps: 1e-8, weightDecay: 0.05 }],
  adadelta: [{ lr: 1, rho: 0.9, oneMinusRho: 0.1, eps: 1e-6, weightDecay: 0.01 }],
  lion: [{ lr: 1e-4, beta1: 0.9, oneMinusBeta1: 0.1, beta2: 0.99, oneMinusBeta2: 0.01, decay: 0.999 }],
  adan: [{
    beta1: 0.98, oneMinusBeta1: 0.02, beta2: 0.92, oneMinusBeta2: 0.08, beta3: 0.99, oneMinusBeta3: 0.01,
    stepSize: 0.0505, stepSizeDiff: 0.0115, invBiasCorrection3Sqrt: 7.09, eps: 1e-8, decay: 0.9998, proxDivisor: 1.0002,
  }],
  ademamix: [{
    lr: 1e-3, beta1: 0.9, oneMinusBeta1: 0.1, beta2: 0.999, oneMinusBeta2: 0.001, beta3: 0.9999, oneMinusBeta3: 1e-4,
    alpha: 5, invBiasCorrection1: 5.26, invBiasCorrection2Sqrt: 22.4, eps: 1e-8, weightDecay: 0.1,
  }],
  copy: [{}],
  clamp: [{ lo: -1, hi: 1 }, { lo: 0, hi: 0.5 }, { lo: -1e-30, hi: 1e30 }],
  scale: [{ factor: 0.5 }, { factor: -3 }, { factor: 1e-30 }, { factor: 7.1 }],
  // EMA weights either side of PyTorch's lerp switch (0.5) and SWA counts; window lengths.
  average: [{ weight: 0.001, complement: 0.999, count: 2 }, { weight: 0.75, complement: 0.25, count: 7 }],
  accumulate: [{ count: 4 }, { count: 3 }],
};

/**
 * The scalar sets a kernel is tested with: the hand-chosen ones above, or for a kernel without
 * any, one set derived from its definition (a deterministic value in (0.001, 1] per scalar), so
 * a new kernel is covered without editing this file.
 */
function scalarSets(k: { name: string; scalars: readonly string[] }): readonly Record<string, number>[] {
  const chosen = SCALARS[k.name];
  if (chosen) return chosen;
  const rand = prng(k.name.length * 7919 + k.name.charCodeAt(0));
  return [Object.fromEntries(k.scalars.map((x) => [x, Math.fround(0.001 + 0.999 * rand())]))];
}

type Named = (arrays: Record<string, number>, n: number, scalars?: Record<string, number>, flags?: Record<string, boolean>) => void;
const named = (b: Backend, name: string) => (b.kernels as unknown as Record<string, Named>)[name];

const analysed = analyseAll();
const byName = new Map(analysed.map((a) => [a.name, a]));

/** Flag objects for every combination of the kernel's flags. */
function combinations(flags: readonly string[]): Record<string, boolean>[] {
  return Array.from({ length: 1 << flags.length }, (_, bits) => Object.fromEntries(flags.map((f, i) => [f, (bits & (1 << i)) !== 0])));
}

/** Whether the flags (all of the kernel's, by name) use argument `arg`, from the traced definition. */
function uses(kernel: string, arg: string, flags: Record<string, boolean>): boolean {
  const a = byName.get(kernel)!;
  const key = a.spec.reduce((k, f, i) => k | (flags[f] ? 1 << i : 0), 0);
  return a.uses.get(arg)![key];
}

describe('kernels: wasm and js twins agree bit for bit', async () => {
  const wasm = await createWasmBackend();
  const js = createJsBackend();

  it('every element-wise kernel has test scalars naming exactly its scalars', () => {
    for (const k of ELEMENTWISE_KERNELS) {
      for (const set of scalarSets(k)) expect(Object.keys(set).sort(), k.name).toEqual([...k.scalars].sort());
    }
  });

  // The float32 kernels here; their bfloat16 and int8 variants below.
  for (const k of ELEMENTWISE_KERNELS.filter((x) => x.variant === 'float32')) {
    const flagSets = combinations(Object.keys(k.flags));
    it(`${k.name}: all ${flagSets.length} flag combination(s), lengths 0..${N_MAX}, unaligned offsets, unused arguments omitted on wasm`, () => {
      let variant = 0;
      for (const scalars of scalarSets(k)) {
        for (const flags of flagSets) {
          const all = Object.fromEntries(k.arrays.map((x, i) => [x, at(i)]));
          // wasm gets only what these flags use; js gets everything.
          const some = Object.fromEntries(k.arrays.filter((x) => uses(k.name, x, flags)).map((x) => [x, all[x]]));
          const someScalars = Object.fromEntries(Object.entries(scalars).filter(([x]) => uses(k.name, x, flags)));
          for (let n = 0; n <= N_MAX; n++) {
            const seed = 1000 * variant + n;
            const hw = setup(wasm, seed), hj = setup(js, seed);
            const before = hw.slice(0, (BASE + ARRAYS * SLOT) / 4);
            named(wasm, k.name)(some, n, someScalars, flags);
            named(js, k.name)(all, n, scalars, flags);
            for (let s = 0; s < ARRAYS; s++) {
              const from = at(s) / 4;
              const label = `${k.name} ${JSON.stringify(flags)} ${JSON.stringify(scalars)}, n=${n}, array ${s}`;
              expectSameBits(hw.subarray(from, from + SLOT / 4), hj.subarray(from, from + SLOT / 4), label);
              // Nothing past n (nor before the array) changes.
              expectSameBits(hw.subarray(from + n, from + SLOT / 4), before.subarray(from + n, from + SLOT / 4), `${label} past n`);
            }
            expectSameBits(hw.subarray(0, BASE / 4), before.subarray(0, BASE / 4), `${k.name}: bytes before the arrays`);
          }
          variant++;
        }
      }
    });
  }

  it('reductions (sumSquares, maxAbs, allFinite, sumAbs, dot) return the same value on both backends, lengths 0..67', () => {
    const same = (a: number, b: number) => Object.is(a, b) || (Number.isNaN(a) && Number.isNaN(b));
    let nonFinite = 0, finite = 0;
    for (let seed = 0; seed < 6; seed++) {
      for (let n = 0; n <= N_MAX; n++) {
        // seeds 0-2: ordinary values only; 3-5: with specials (Inf, NaN, subnormals, extremes)
        for (const b of [wasm, js]) {
          fillMixed(region(b).subarray(0, (BASE + SLOT) / 4), prng(77 * seed + n), 3, seed < 3 ? 0 : 0.05);
        }
        for (const name of REDUCTION_NAMES) {
          // dot(x, y, n) over two arrays; the others (x, n).
          const call = (k: Kernels) => (name === 'dot' ? k.dot(at(0), at(1), n) : k[name](at(0), n));
          const a = call(wasm.kernels), b = call(js.kernels);
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
    wasm.kernels.adam({ param: at(0), grad: at(1), expAvg: at(2), expAvgSq: at(3) }, 8, {
      beta1: 0.9, oneMinusBeta1: 0.1, beta2: 0.999, oneMinusBeta2: 0.001, stepSize: 0.01, invBiasCorrection2Sqrt: 31.6, eps: 1e-8,
    });
    expect(Array.from(hw.subarray(at(0) / 4, at(0) / 4 + 8))).not.toEqual(Array.from(before));
  });
});

describe('kernels: the bfloat16 and int8 variants agree bit for bit with their twins', async () => {
  const wasm = await createWasmBackend();
  const js = createJsBackend();
  // Each argument array in a slot of its own, at 4-byte but not 16-byte aligned offsets.
  const SLOT_BYTES = 6016, SLOTS = 10;
  const bases = new Map<Backend, number>([wasm, js].map((b) => [b, b.allocate(SLOTS * SLOT_BYTES + 64) + 4]));
  const slot = (b: Backend, i: number) => bases.get(b)! + i * SLOT_BYTES;
  const bytes = (b: Backend) => b.u8(bases.get(b)!, SLOTS * SLOT_BYTES);
  // Lengths around vectors, 16-code groups and 256-element blocks; each flag combination runs three.
  const LENGTHS = [0, 1, 2, 3, 4, 5, 7, 15, 16, 17, 33, 64, 67, 255, 256, 257, 300, 513, 600, 1000];

  /** Fills the arrays: random bits everywhere (hostile codes and scales), or valid state encoded from mixed values. */
  function fill(b: Backend, k: (typeof ELEMENTWISE_KERNELS)[number], n: number, seed: number, valid: boolean): void {
    const rand = prng(seed);
    k.arrays.forEach((_, i) => fillMixed(b.view(slot(b, i), SLOT_BYTES / 4 - 1), rand, 2, 0.1));
    if (!valid) return;
    k.arrays.forEach((x, i) => {
      const range = k.state[x];
      if (range === undefined) return;
      const values = fillMixed(new Float32Array(n), prng(seed + i), 1, 0.02);
      if (k.variant === 'bfloat16') b.u16(slot(b, i), n).set(toBfloat16(values));
      else {
        const q = toInt8(values, range === 'signed');
        b.u8(slot(b, i), n).set(q.data);
        b.view(slot(b, k.arrays.indexOf(`${x}Scale`)), q.scales.length).set(q.scales);
      }
    });
  }

  for (const k of ELEMENTWISE_KERNELS.filter((x) => x.variant !== 'float32')) {
    const flagSets = combinations(Object.keys(k.flags));
    it(`${k.name}: all ${flagSets.length} flag combinations, lengths 0..1000 across blocks, hostile and valid state, unused arguments omitted on wasm`, () => {
      const scalars = scalarSets(ELEMENTWISE_KERNELS.find((x) => x.name === k.base)!)[0];
      flagSets.forEach((flags, c) => {
        for (const n of [LENGTHS[c % LENGTHS.length], LENGTHS[(7 * c + 3) % LENGTHS.length], 600]) {
          for (const valid of [false, true]) {
            const seed = 7919 * c + n + (valid ? 1 : 0);
            fill(wasm, k, n, seed, valid);
            fill(js, k, n, seed, valid);
            const before = bytes(wasm).slice();
            const call = (b: Backend, all: boolean) => {
              const arrays = Object.fromEntries(k.arrays.filter((x) => all || x === 'scratch' || uses(k.name, x, flags)).map((x) => [x, slot(b, k.arrays.indexOf(x))]));
              const someScalars = Object.fromEntries(Object.entries(scalars).filter(([x]) => all || uses(k.name, x, flags)));
              named(b, k.name)(arrays, n, someScalars, flags, ...(k.ints.length ? [{ index: 12345 + n, key: seed }] : []) as []);
            };
            call(wasm, false);
            call(js, true);
            const label = `${k.name} ${JSON.stringify(flags)} n=${n}${valid ? ' (valid state)' : ''}`;
            const bw = bytes(wasm), bj = bytes(js);
            k.arrays.forEach((x, i) => {
              if (x === 'scratch') return; // the wasm kernel's own, unused by the twin
              const from = i * SLOT_BYTES;
              const written = x.endsWith('Scale') ? 4 * Math.ceil(n / 256) : n * k.strides[i];
              const w = bw.subarray(from, from + SLOT_BYTES), j = bj.subarray(from, from + SLOT_BYTES);
              // Float32 arrays compare as floats (NaN payloads may differ); codes and bfloat16 bits exactly.
              if (k.strides[i] >= 4 || x.endsWith('Scale')) expectSameBits(new Float32Array(w.buffer, w.byteOffset, SLOT_BYTES / 4 - 1), new Float32Array(j.buffer, j.byteOffset, SLOT_BYTES / 4 - 1), `${label}: ${x}`);
              else if (k.variant === 'bfloat16') expectSameBf16(w.subarray(0, written), j.subarray(0, written), `${label}: ${x}`);
              else expect(Array.from(w.subarray(0, written)), `${label}: ${x}`).toEqual(Array.from(j.subarray(0, written)));
              expect(Array.from(w.subarray(written)).every((v, q) => v === before[from + written + q]), `${label}: ${x} past n`).toBe(true);
            });
          }
        }
      });
    });
  }
});

/** bfloat16 bits agree (NaN with NaN, whatever its payload). */
function expectSameBf16(a: Uint8Array, b: Uint8Array, label: string): void {
  const x = new Uint16Array(a.buffer, a.byteOffset, a.length / 2), y = new Uint16Array(b.buffer, b.byteOffset, b.length / 2);
  const nan = (h: number) => (h & 0x7fff) > 0x7f80;
  for (let i = 0; i < x.length; i++) {
    if (x[i] !== y[i] && !(nan(x[i]) && nan(y[i]))) expect.fail(`${label}: bfloat16 element ${i}: 0x${x[i].toString(16)} vs 0x${y[i].toString(16)}`);
  }
}

describe('kernel ABI', () => {
  it('the module exports exactly the defined kernels, with the defined argument counts, and abiVersion()', async () => {
    const module = new WebAssembly.Module(kernelWasmBytes() as Uint8Array<ArrayBuffer>);
    expect(WebAssembly.Module.imports(module)).toEqual([{ module: 'env', name: 'memory', kind: 'memory' }]);
    const exported = WebAssembly.Module.exports(module);
    expect(exported.filter((e) => e.kind === 'function').map((e) => e.name).sort()).toEqual([...KERNEL_NAMES, 'abiVersion'].sort());
    expect(exported.filter((e) => e.kind !== 'function')).toEqual([{ name: 'memory', kind: 'memory' }]); // the imported memory, re-exported by asc
    const instance = new WebAssembly.Instance(module, { env: { memory: new WebAssembly.Memory({ initial: 1 }) } });
    const exports = instance.exports as Record<string, (...a: number[]) => number>;
    expect(exports.abiVersion()).toBe(KERNEL_ABI_VERSION);
    for (const k of ELEMENTWISE_KERNELS) {
      expect(exports[k.name].length, k.name).toBe(k.arrays.length + 1 + k.ints.length + k.scalars.length + (Object.keys(k.flags).length ? 1 : 0));
      expect(k.strides.length, k.name).toBe(exports[k.name].length);
      expect(Object.values(k.flags), k.name).toEqual(Object.keys(k.flags).map((_, i) => 1 << i));
    }
    for (const name of REDUCTION_NAMES) expect(exports[name].length, name).toBe(name === 'dot' ? 3 : 2);
  });

  it('the named wrappers refuse a missing array or scalar the flags use, an array at address 0 and an unknown flag', () => {
    for (const b of [createJsBackend()]) {
      const scalars = SCALARS.adam[0] as unknown as Parameters<Kernels['adam']>[2];
      const arrays = { param: at(0), grad: at(1), expAvg: at(2), expAvgSq: at(3) };
      region(b);
      expect(() => b.kernels.adam(arrays, 4, scalars, { amsgrad: true })).toThrow(/kernels\.adam: array maxExpAvgSq is needed \(used when amsgrad and not plain\) but was not given/);
      expect(() => b.kernels.adam({ ...arrays, maxExpAvgSq: 0 }, 4, scalars, { amsgrad: true })).toThrow(/array maxExpAvgSq is needed .* but has address 0/);
      expect(() => b.kernels.adam(arrays, 4, scalars, { amsgrad: true, plain: true })).not.toThrow();
      const { expAvg: _, ...noExpAvg } = arrays;
      expect(() => b.kernels.adam(noExpAvg as typeof arrays, 4, scalars)).toThrow(/kernels\.adam: array expAvg is needed \(used always\) but was not given/);
      const { gradCoef: __, ...noGradCoef } = scalars;
      expect(() => b.kernels.adam(arrays, 4, noGradCoef as typeof scalars, { nesterov: true })).toThrow(/kernels\.adam: scalar gradCoef is needed \(used when nesterov and not rectified and not plain\) but was not given/);
      expect(() => b.kernels.adam(arrays, 4, noGradCoef as typeof scalars, { nesterov: true, rectified: true })).not.toThrow();
      expect(() => b.kernels.adam(arrays, 4, scalars, { amsGrad: true } as never)).toThrow(/kernels\.adam: unknown flag "amsGrad" \(its flags: maximize, weightDecay, decoupled, amsgrad, nesterov, rectified, plain\)/);
      expect(() => b.kernels.sgd({ param: at(0), grad: at(1) }, 4, { lr: 0.1 }, { momentum: true })).toThrow(/array momentumBuffer is needed \(used when momentum\)/);
      expect(() => b.kernels.sgd({ param: at(0), grad: at(1) }, 4, { lr: 0.1 })).not.toThrow();
    }
  });

  it('docs/ABI.md is what the generator writes now (regenerate: node --import tsx scripts/gen-kernels.ts --docs)', () => {
    expect(readFileSync(new URL('../docs/ABI.md', import.meta.url), 'utf8')).toBe(renderAbiDoc(analysed));
  });

  it('the generated sources match the definitions (rebuild: npm run build:wasm)', () => {
    const read = (path: string) => readFileSync(new URL(`../${path}`, import.meta.url), 'utf8');
    expect(read('assembly/generated/kernels.ts')).toBe(renderAssembly(analysed));
    expect(read('src/generated/kernels-js.ts')).toBe(renderJs(analysed));
    expect(read('src/generated/kernels-api.ts')).toBe(renderApi(analysed));
  });
});

describe('kernel definitions: the generator refuses what the targets could not agree on', () => {
  const base = {
    name: 'toy',
    doc: { summary: 'toy', rule: 'p -= lr * g', mirrors: 'nothing' },
    arrays: { param: { access: 'readwrite', doc: 'p' }, grad: { access: 'read', doc: 'g' } },
    scalars: { lr: 'lr' },
  } as const;
  const check = (def: unknown) => () => analyse(def as KernelDef);

  it('accepts a well-formed kernel and traces one program per distinct flag combination', () => {
    const a = analyse(defineKernel({
      ...base,
      flags: { maximize: { doc: 'negate', runtime: true }, half: { doc: 'halve' } },
      body({ param, grad }, s, f) {
        const g = negIf(f.maximize, grad.load());
        param.store(sub(param.load(), mul(s.lr, f.half ? mul(0.5, g) : g)));
      },
    }) as unknown as KernelDef);
    expect(a.specs.length).toBe(2);
    expect(a.flags).toEqual(['maximize', 'half']);
  });

  it('a runtime flag used other than through negIf', () => {
    expect(check(defineKernel({
      ...base,
      flags: { maximize: { doc: 'negate', runtime: true } },
      body({ param, grad }, s, f) {
        const g = grad.load();
        param.store(sub(param.load(), mul(s.lr, f.maximize ? g : add(g, g))));
      },
    }))).toThrow(/runtime flag maximize is used other than through negIf/);
  });

  it('an array used only under a flag that does not say so, or used without its flag', () => {
    const gated = (when: string | undefined) => defineKernel({
      ...base,
      arrays: { ...base.arrays, buf: { access: 'readwrite', doc: 'b', ...(when ? { when } : {}) } },
      flags: { momentum: { doc: 'm' }, other: { doc: 'o' } },
      body({ param, grad, buf }, s, f) {
        let g = grad.load();
        if (f.momentum || (when === 'other' && f.other)) { g = add(buf.load(), g); buf.store(g); }
        if (f.other) g = mul(g, 2);
        param.store(sub(param.load(), mul(s.lr, g)));
      },
    });
    expect(check(gated(undefined))).toThrow(/array buf is not used with flags \{\}: declare the flag it needs \(when\)/);
    expect(check(gated('other'))).toThrow(/array buf is declared to be used only with other, but flags \{ momentum \} use it/);
    expect(check(gated('momentum'))).not.toThrow();
  });

  it('a flag that changes nothing, a scalar never used, a second load', () => {
    expect(check(defineKernel({
      ...base, flags: { idle: { doc: 'nothing' } },
      body({ param, grad }, s) { param.store(sub(param.load(), mul(s.lr, grad.load()))); },
    }))).toThrow(/flag idle changes nothing/);
    expect(check(defineKernel({
      ...base, scalars: { lr: 'lr', unused: 'x' }, flags: {},
      body({ param, grad }, s) { param.store(sub(param.load(), mul(s.lr, grad.load()))); },
    }))).toThrow(/unused is never used/);
    expect(check(defineKernel({
      ...base, flags: {},
      body({ param, grad }, s) { param.store(sub(param.load(), mul(s.lr, add(grad.load(), grad.load())))); },
    }))).toThrow(/loads grad twice/);
  });
});
