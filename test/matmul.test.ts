// store.matmul: the contract (each element a sequential float32 sum over k, then alpha and
// beta), identical bits on both backends and 1-3 threads, on random and special values and odd
// shapes; and the API's checks.
import { describe, expect, it } from 'vitest';
import { Matrix, ParameterStore, type MatmulOptions } from '../src/index.js';
import { symmetricGemmAt, gemmAt } from '../src/matmul.js';
import { BACKENDS, expectSameBits, fillMixed, prng } from './helpers.js';

const f = Math.fround;

/** The contract, written as plainly as possible: the spec the kernels must meet bit for bit. */
function specMatmul(A: Float32Array, aRows: number, aCols: number, B: Float32Array, bRows: number, bCols: number, C: Float32Array, o: MatmulOptions): Float32Array {
  const tA = o.transA ?? false, tB = o.transB ?? false;
  const m = tA ? aCols : aRows, k = tA ? aRows : aCols, n = tB ? bRows : bCols;
  const alpha = f(o.alpha ?? 1), beta = f(o.beta ?? 0);
  const a = (i: number, kk: number) => (tA ? A[kk * aCols + i] : A[i * aCols + kk]);
  const b = (kk: number, j: number) => (tB ? B[j * bCols + kk] : B[kk * bCols + j]);
  const out = C.slice();
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let acc = 0;
      for (let kk = 0; kk < k; kk++) acc = f(acc + f(a(i, kk) * b(kk, j)));
      const r = f(alpha * acc);
      out[i * n + j] = beta !== 0 ? f(r + f(beta * C[i * n + j])) : r;
    }
  }
  return out;
}

interface Case { m: number; k: number; n: number; options: MatmulOptions; special?: number }

const SHAPES: [number, number, number][] = [
  [1, 1, 1], [1, 7, 1], [1, 9, 33], [33, 9, 1], [5, 3, 17], [6, 8, 8], [7, 5, 9], [12, 16, 16], [13, 1, 15],
  [67, 131, 29], [50, 0, 10], [0, 5, 4], [4, 5, 0], [19, 64, 70],
];
const OPTIONS: MatmulOptions[] = [
  {}, { transA: true }, { transB: true }, { transA: true, transB: true },
  { alpha: 0.5, beta: 1 }, { alpha: -2, beta: 0.25, transB: true }, { beta: -1, transA: true },
];

const CASES: Case[] = SHAPES.flatMap(([m, k, n], s) => OPTIONS.map((options, o) => ({ m, k, n, options, special: (s + o) % 3 === 0 ? 0.15 : 0 })));

/** Runs a case on a store; returns the result and the inputs. */
function run(store: ParameterStore, c: Case, seed: number) {
  const rand = prng(seed);
  const { m, k, n, options } = c;
  const [aRows, aCols] = options.transA ? [k, m] : [m, k];
  const [bRows, bCols] = options.transB ? [n, k] : [k, n];
  const scale = 1;
  const A = fillMixed(new Float32Array(aRows * aCols), rand, scale, c.special ?? 0);
  const B = fillMixed(new Float32Array(bRows * bCols), rand, scale, c.special ?? 0);
  const C0 = fillMixed(new Float32Array(m * n), rand, scale, c.special ?? 0);
  const a = store.matrix(aRows, aCols, A), b = store.matrix(bRows, bCols, B), out = store.matrix(m, n, C0);
  store.matmul(a, b, out, options);
  return { result: out.data.slice(), A, B, C0, aRows, aCols, bRows, bCols };
}

describe('matmul: the contract, on both backends', () => {
  for (const backend of BACKENDS) {
    it(`${backend}: ${CASES.length} cases (odd shapes, transposes, alpha and beta, special values) equal the sequential-sum spec bit for bit`, async () => {
      const store = await ParameterStore.create({ backend });
      CASES.forEach((c, i) => {
        const r = run(store, c, 1000 + i);
        const want = specMatmul(r.A, r.aRows, r.aCols, r.B, r.bRows, r.bCols, r.C0, c.options);
        expectSameBits(r.result, want, `${backend} ${c.m}×${c.k}×${c.n} ${JSON.stringify(c.options)}`);
      });
      store.dispose();
    });
  }

  it('special values: Inf·0 and NaN propagate, huge sums overflow to Inf, subnormal products stay exact', async () => {
    for (const backend of BACKENDS) {
      const store = await ParameterStore.create({ backend });
      const a = store.matrix(4, 2, [Infinity, 0, NaN, 1, 3e38, 3e38, 1e-30, 1e-15]);
      const b = store.matrix(2, 1, [0, 1]);
      const b2 = store.matrix(2, 1, [1, 1]);
      const out = store.matrix(4, 1);
      store.matmul(a, b, out);
      expect([...out.data].map(String)).toEqual(['NaN', 'NaN', String(f(3e38)), String(f(1e-15))]);
      store.matmul(a, b2, out);
      expect(out.data[2]).toBe(Infinity);
      expect(out.data[3]).toBe(f(f(1e-30) + f(1e-15)));
      store.dispose();
    }
  });

  it('beta = 0 never reads out (NaN left there does not leak in); beta = 1 accumulates', async () => {
    const store = await ParameterStore.create();
    const a = store.matrix(2, 2, [1, 2, 3, 4]), b = store.matrix(2, 2, [1, 0, 0, 1]);
    const out = store.matrix(2, 2, [NaN, NaN, NaN, NaN]);
    store.matmul(a, b, out);
    expect([...out.data]).toEqual([1, 2, 3, 4]);
    store.matmul(a, b, out, { beta: 1 });
    expect([...out.data]).toEqual([2, 4, 6, 8]);
  });
});

describe('matmul: same bits for any thread count', () => {
  // Sizes above the parallel threshold: rows split (m large) and column panels split (m small).
  const big: Case[] = [
    { m: 197, k: 231, n: 167, options: {} },
    { m: 197, k: 231, n: 167, options: { transA: true, transB: true, alpha: 0.75, beta: 0.5 } },
    { m: 5, k: 1000, n: 1003, options: { transB: true } },
    { m: 256, k: 130, n: 140, options: { transA: true }, special: 0.05 },
  ];
  it('1, 2 and 3 threads (wasm) and the js backend give the same bits', async () => {
    const results = new Map<string, Float32Array[]>();
    for (const [backend, threads] of [['wasm', 1], ['wasm', 2], ['wasm', 3], ['js', 1]] as const) {
      const store = await ParameterStore.create({ backend, threads });
      expect(store.threads.active).toBe(threads);
      // Count the products that were really split across threads.
      const runParts = store.runParts.bind(store);
      let split = 0;
      store.runParts = (name, parts) => { if (parts.length > 1) split++; runParts(name, parts); };
      big.forEach((c, i) => {
        const key = `${c.m}×${c.k}×${c.n} ${JSON.stringify(c.options)}`;
        const list = results.get(key) ?? [];
        list.push(run(store, c, 77 + i).result);
        results.set(key, list);
      });
      expect(split, `${backend}, ${threads} threads: products split`).toBe(threads > 1 ? big.length : 0);
      store.dispose();
    }
    for (const [key, list] of results) list.forEach((r, i) => expectSameBits(r, list[0], `${key}, run ${i}`));
  });
});

describe('symmetric products (Muon\'s Gram matrices)', () => {
  it('one triangle computed and mirrored gives the full product\'s bits (X·Xᵀ, Xᵀ·X, A·A + beta·A), 1-3 threads', async () => {
    for (const [backend, threads] of [['wasm', 1], ['wasm', 2], ['wasm', 3], ['js', 1]] as const) {
      const store = await ParameterStore.create({ backend, threads });
      for (const [s, k] of [[1, 5], [47, 30], [48, 64], [49, 7], [130, 97], [400, 300]]) {
        const rand = prng(s * 1000 + k);
        const x = store.matrix(s, k, fillMixed(new Float32Array(s * k), rand, 1, 0.02));
        const at = (m: { address: number; rows: number; cols: number }) => ({ address: m.address, rows: m.rows, cols: m.cols });
        const full = store.matrix(s, s), half = store.matrix(s, s, new Float32Array(s * s).fill(NaN));
        gemmAt(store, at(x), at(x), at(full), false, true, 1, 0);
        symmetricGemmAt(store, at(x), at(x), at(half), false, true, 1, 0);
        expectSameBits(half.data, full.data, `${backend}/${threads}: X·Xᵀ ${s}×${k}`);
        const xt = store.matrix(k, s, fillMixed(new Float32Array(s * k), rand, 1, 0.02));
        gemmAt(store, at(xt), at(xt), at(full), true, false, 1, 0);
        symmetricGemmAt(store, at(xt), at(xt), at(half), true, false, 1, 0);
        expectSameBits(half.data, full.data, `${backend}/${threads}: Xᵀ·X ${s}×${k}`);
        // B = c·A·A + b·A over the symmetric A just made.
        const a = store.matrix(s, s, full.data), b1 = store.matrix(s, s, full.data), b2 = store.matrix(s, s, full.data);
        gemmAt(store, at(a), at(a), at(b1), false, false, 2.0315, -4.775);
        symmetricGemmAt(store, at(a), at(a), at(b2), false, false, 2.0315, -4.775);
        expectSameBits(b2.data, b1.data, `${backend}/${threads}: c·A·A + b·A ${s}`);
      }
      store.dispose();
    }
  });
});

describe('matmul: operands and checks', () => {
  it('takes 2-D parameters and gradients as { data, rows, cols }, and subarrays of arena views', async () => {
    const store = await ParameterStore.create();
    const w = store.parameter('w', { shape: [3, 2], values: [1, 2, 3, 4, 5, 6] });
    const x = store.matrix(1, 3, [1, 1, 1]);
    const y = store.matrix(1, 2);
    store.matmul(x, w, y);
    expect([...y.data]).toEqual([9, 12]);
    store.matmul(x, y, { data: w.grad, rows: 3, cols: 2 }, { transA: true });
    expect([...w.grad]).toEqual([9, 12, 9, 12, 9, 12]);
    const tail = store.matrix(2, 2);
    store.matmul({ data: w.data.subarray(2), rows: 2, cols: 2 }, store.matrix(2, 2, [1, 0, 0, 1]), tail);
    expect([...tail.data]).toEqual([3, 4, 5, 6]);
    expect(tail).toBeInstanceOf(Matrix);
    expect(tail.toString()).toBe('Matrix(2×2)');
  });

  it('views taken before the arena grew still count as the arena (a gradient cached across growth)', async () => {
    for (const backend of BACKENDS) {
      const store = await ParameterStore.create({ backend });
      const w = store.parameter('w', { shape: [2, 2], values: [1, 2, 3, 4] });
      const grad = w.grad; // cached, as model code does
      const x = store.matrix(2, 2, [1, 0, 0, 1]), y = store.matrix(2, 2);
      store.matmul(x, w, y);
      store.matrix(2048, 2048); // 16 MiB: the memory grows
      if (store.stableViews) {
        store.matmul(x, y, { data: grad, rows: 2, cols: 2 });
        expect([...grad], backend).toEqual([1, 2, 3, 4]);
      }
      store.matmul(x, y, { data: w.grad, rows: 2, cols: 2 }, { alpha: 2 });
      expect([...w.grad], backend).toEqual([2, 4, 6, 8]);
      store.dispose();
    }
  });

  it('refuses mismatched shapes, overlap, foreign memory and bad options, changing nothing', async () => {
    const store = await ParameterStore.create();
    const other = await ParameterStore.create();
    const a = store.matrix(2, 3, [1, 2, 3, 4, 5, 6]), b = store.matrix(3, 4), out = store.matrix(2, 4, [7, 7, 7, 7, 7, 7, 7, 7]);
    const before = out.data.slice();
    expect(() => store.matmul(a, a, out)).toThrow('matmul: inner dimensions differ: a is 2×3, b is 2×3');
    expect(() => store.matmul(a, b, store.matrix(4, 2))).toThrow('matmul: out is 4×2, but the product is 2×4 (a is 2×3, b is 3×4)');
    expect(() => store.matmul(a, b, out, { transA: true })).toThrow('inner dimensions differ: aᵀ is 3×2, b is 3×4');
    expect(() => store.matmul(a, store.matrix(3, 3), { data: a.data, rows: 2, cols: 3 })).toThrow(/out overlaps a/);
    expect(() => store.matmul(a, b, { data: new Float32Array(8), rows: 2, cols: 4 })).toThrow(/out.data is not a view of this store's arena/);
    expect(() => store.matmul(a, b, { data: out.data, rows: 4, cols: 4 })).toThrow('out.data has 8 elements, not rows · cols = 4·4 = 16');
    expect(() => store.matmul(a, other.matrix(3, 4), out)).toThrow(/b \(Matrix\(3×4\)\) belongs to another store/);
    expect(() => store.matmul(a, b, out, { alpha: NaN })).toThrow('matmul: invalid alpha: NaN (must be finite)');
    expect(() => store.matmul(a, b, out, { transA: 1 as unknown as boolean })).toThrow('transA must be a boolean');
    expect(() => store.matmul(a, b, out, { trans: true } as MatmulOptions)).toThrow('matmul: unknown option "trans" (valid: transA, transB, alpha, beta)');
    expect(() => store.matmul(a, [1, 2] as unknown as Matrix, out)).toThrow(/b.data must be a Float32Array/);
    const v = store.parameter('v', 6);
    expect(() => store.matmul(v, b, out)).toThrow('a (Parameter("v", 6)) has shape [6]; a matrix operand needs 2 dimensions');
    expect(() => store.matrix(-1, 2)).toThrow('ParameterStore.matrix: invalid rows: -1');
    expect(() => store.matrix(2, 2, [1])).toThrow('1 values do not fill 2×2 (4 elements)');
    expectSameBits(out.data, before, 'out after refused calls');
    store.dispose();
    expect(() => a.data).toThrow(/disposed/);
  });
});
