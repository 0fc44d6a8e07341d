// Gradient clipping and non-finite checks: PyTorch's semantics, identical bits on both
// backends, and the norm's accuracy against a float64 sum.
import { describe, expect, it } from 'vitest';
import { Adam, NORM_CHUNK, ParameterStore, SGD, clipGradNorm, clipGradValue, gradNorm, gradsAreFinite } from '../src/index.js';
import { BACKENDS, expectSameBits, fillMixed, prng } from './helpers.js';

async function grads(backend: 'wasm' | 'js', sizes: number[], seed: number, special = 0) {
  const store = await ParameterStore.create({ backend });
  const rand = prng(seed);
  const params = sizes.map((n, i) => {
    const p = store.parameter(`p${i}`, n);
    p.grad.set(fillMixed(new Float32Array(n), rand, 2, special));
    return p;
  });
  return { store, params };
}

/** float64 reference: sqrt of the sum of squares, summed by pairs for accuracy. */
function norm64(arrays: Float32Array[]): number {
  const sq = arrays.flatMap((a) => Array.from(a, (x) => x * x));
  while (sq.length > 1) {
    const next: number[] = [];
    for (let i = 0; i < sq.length; i += 2) next.push(sq[i] + (sq[i + 1] ?? 0));
    sq.splice(0, sq.length, ...next);
  }
  return Math.sqrt(sq[0] ?? 0);
}

describe('gradNorm', () => {
  it('2-norm within 1e-12 relative of a float64 pairwise sum; identical on both backends; chunked past NORM_CHUNK', async () => {
    const sizes = [3, 1000, 2 * NORM_CHUNK + 17, 64];
    for (const seed of [1, 2, 3]) {
      const w = await grads('wasm', sizes, seed), j = await grads('js', sizes, seed);
      const nw = gradNorm(w.params), nj = gradNorm(j.params);
      expect(Object.is(nw, nj)).toBe(true);
      const ref = norm64(w.params.map((p) => p.grad));
      expect(Math.abs(nw - ref) / ref).toBeLessThan(1e-12);
      // a subset of non-adjacent parameters
      const sub = [w.params[0], w.params[2]];
      expect(gradNorm(sub)).toBeCloseTo(norm64(sub.map((p) => p.grad)), 10);
    }
  });

  it('no overflow where a float32 sum would: 1e30-sized gradients', async () => {
    const store = await ParameterStore.create({ backend: 'wasm' });
    const p = store.parameter('p', [3e30, 4e30]);
    p.grad.set([3e30, 4e30]);
    const ref = Math.hypot(p.grad[0], p.grad[1]); // the float32 values, in float64
    expect(Math.abs(gradNorm([p]) - ref) / ref).toBeLessThan(1e-15);
    expect(Math.fround(p.grad[0] * p.grad[0])).toBe(Infinity); // where float32 would overflow
  });

  it('Infinity and 1 norms; NaN and Inf propagate; empty list is 0', async () => {
    const store = await ParameterStore.create({ backend: 'wasm' });
    const p = store.parameter('p', 5);
    p.grad.set([1, -7, 2, 0, -0.5]);
    expect(gradNorm(p, Infinity)).toBe(7);
    expect(gradNorm(p, 1)).toBe(10.5);
    p.grad[3] = NaN;
    expect(gradNorm(p)).toBeNaN();
    expect(gradNorm(p, Infinity)).toBeNaN();
    p.grad[3] = -Infinity;
    expect(gradNorm(p)).toBe(Infinity);
    expect(gradNorm([])).toBe(0);
    expect(() => gradNorm(p, 3)).toThrow(/gradNorm: invalid normType: 3 \(must be 1, 2 or Infinity\)/);
  });
});

for (const backend of BACKENDS) {
  describe(`clipGradNorm (${backend})`, () => {
    it('scales by min(1, maxNorm/(norm + 1e-6)) in float32, returns the norm before clipping', async () => {
      const { params } = await grads(backend, [7, 30], 4);
      const before = params.map((p) => p.grad.slice());
      const norm = norm64(before);
      const total = clipGradNorm(params, 1);
      expect(total).toBeCloseTo(norm, 12);
      const coef = Math.fround(1 / (total + 1e-6));
      params.forEach((p, k) => p.grad.forEach((g, i) => expect(g).toBe(Math.fround(before[k][i] * coef))));
      expect(gradNorm(params)).toBeCloseTo(1, 5);
      // below maxNorm: nothing changes
      const again = params.map((p) => p.grad.slice());
      clipGradNorm(params, 10);
      params.forEach((p, k) => expectSameBits(p.grad, again[k], 'unchanged'));
    });

    it('errorIfNonfinite throws on a NaN or Inf norm and changes nothing; otherwise scales by it like PyTorch', async () => {
      const { params } = await grads(backend, [9], 5);
      params[0].grad[4] = Infinity;
      const before = params[0].grad.slice();
      expect(() => clipGradNorm(params, 1, { errorIfNonfinite: true })).toThrow(/clipGradNorm: the total norm of order 2 of the gradients is Infinity, so it cannot be clipped/);
      expectSameBits(params[0].grad, before, 'unchanged');
      expect(clipGradNorm(params, 1)).toBe(Infinity);
      expect(params[0].grad[0]).toBe(0); // coef = 1/Inf = 0
      expect(params[0].grad[4]).toBeNaN(); // Inf * 0
    });

    it('clipGradValue clamps into [-c, c], NaN stays NaN', async () => {
      const store = await ParameterStore.create({ backend });
      const p = store.parameter('p', 6);
      p.grad.set([-5, -0.5, 0.25, 3, NaN, -Infinity]);
      clipGradValue([p], 1);
      expect(Array.from(p.grad.subarray(0, 4))).toEqual([-1, -0.5, 0.25, 1]);
      expect(p.grad[4]).toBeNaN();
      expect(p.grad[5]).toBe(-1);
      expect(() => clipGradValue(p, -1)).toThrow(/clipGradValue: invalid clipValue: -1/);
      expect(() => clipGradNorm(p, NaN)).toThrow(/clipGradNorm: invalid maxNorm: NaN/);
      expect(() => clipGradNorm(p, 1, { norm: 2 } as never)).toThrow(/unknown option "norm"/);
    });

    it('clipped gradients and norms are bit-identical across backends on special values', async () => {
      for (const seed of [10, 11, 12]) {
        const w = await grads('wasm', [37, 5, 100], seed, 0.02), j = await grads('js', [37, 5, 100], seed, 0.02);
        const nw = clipGradNorm(w.params, 0.5), nj = clipGradNorm(j.params, 0.5);
        expect(Object.is(nw, nj) || (Number.isNaN(nw) && Number.isNaN(nj))).toBe(true);
        w.params.forEach((p, i) => expectSameBits(p.grad, j.params[i].grad, `seed ${seed} p${i}`));
        clipGradValue(w.params, 0.1); clipGradValue(j.params, 0.1);
        w.params.forEach((p, i) => expectSameBits(p.grad, j.params[i].grad, `value seed ${seed} p${i}`));
      }
    });

    it('stepIfFinite skips a step with a non-finite gradient without touching anything', async () => {
      const store = await ParameterStore.create({ backend });
      const a = store.parameter('a', [1, 2, 3]), b = store.parameter('b', [4]);
      const opt = new Adam([a, b], { lr: 0.1 });
      a.grad.set([0.1, 0.2, 0.3]); b.grad.set([1]);
      expect(opt.stepIfFinite()).toBe(true);
      expect(gradsAreFinite([a, b])).toBe(true);
      const heap = store.dump();
      b.grad[0] = NaN;
      expect(gradsAreFinite([a, b])).toBe(false);
      expect(gradsAreFinite([a])).toBe(true);
      const before = store.dump();
      expect(opt.stepIfFinite()).toBe(false);
      expect(opt.skippedSteps).toBe(1);
      expect(store.dump()).toEqual(before);
      expect(opt.state(a).step).toBe(1);
      b.grad[0] = -Infinity;
      expect(opt.stepIfFinite()).toBe(false);
      b.grad[0] = 1;
      expect(opt.stepIfFinite()).toBe(true);
      expect(opt.state(a).step).toBe(2);
      expect(store.dump()).not.toEqual(heap);
    });
  });
}

describe('clipping input errors', () => {
  it('parameters of two stores, duplicates, non-parameters', async () => {
    const s1 = await ParameterStore.create({ backend: 'js' }), s2 = await ParameterStore.create({ backend: 'js' });
    const a = s1.parameter('a', 2), b = s2.parameter('b', 2);
    expect(() => clipGradNorm([a, b], 1)).toThrow(/clipGradNorm|gradNorm: parameter "b" belongs to another ParameterStore/);
    expect(() => clipGradValue([a, a], 1)).toThrow(/clipGradValue: parameter "a" is listed twice/);
    expect(() => gradsAreFinite([a, {} as never])).toThrow(/gradsAreFinite: params\[1\] must be a Parameter, got an Object/);
    const opt = new SGD([a], { lr: 0.1 });
    expect(opt.skippedSteps).toBe(0);
  });
});
