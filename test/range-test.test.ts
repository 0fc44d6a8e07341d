// The LR range test: its sweep, its stop rule on a synthetic loss, its suggestions, and the
// bit-exact restore of parameters and optimizer state.
import { describe, expect, it } from 'vitest';
import { Adam, ParameterStore, SGD, lrRangeTest, type LRRangeTestOptions, type Parameter } from '../src/index.js';
import { suggest } from '../src/schedules/range-test.js';
import { BACKENDS, expectSameBits, fillMixed, prng } from './helpers.js';

/** Quadratic loss 1/2 |w - 1|^2, gradient written into w.grad. */
function quadratic(w: Parameter): number {
  let loss = 0;
  const d = w.data, g = w.grad;
  for (let i = 0; i < w.size; i++) {
    g[i] = d[i] - 1;
    loss += 0.5 * (d[i] - 1) ** 2;
  }
  return loss;
}

/** Two identical Adam optimizers (amsgrad) on the quadratic, 5 steps in, gradients set. */
async function adamPair(backend: (typeof BACKENDS)[number]) {
  const make = async () => {
    const store = await ParameterStore.create({ backend });
    const w = store.parameter('w', fillMixed(new Float32Array(37), prng(9), 1, 0));
    const opt = new Adam([w], { lr: 0.01, betas: [0.8, 0.95], weightDecay: 0.01, amsgrad: true });
    return { w, opt };
  };
  const a = await make(), b = await make();
  for (let s = 0; s < 5; s++) {
    for (const x of [a, b]) { quadratic(x.w); x.opt.step(); }
  }
  a.w.grad.set(fillMixed(new Float32Array(37), prng(3), 1, 0));
  b.w.grad.set(a.w.grad);
  return { a, b };
}

/** Parameters, gradients, every state buffer, step counts and hyperparameters of `a` equal `b`'s bit for bit. */
function expectSameOptimizer(a: Awaited<ReturnType<typeof adamPair>>['a'], b: typeof a): void {
  expectSameBits(a.w.data, b.w.data, 'data');
  expectSameBits(a.w.grad, b.w.grad, 'grad');
  const sa = a.opt.stateDict(), sb = b.opt.stateDict();
  expect(sa.paramGroups).toEqual(sb.paramGroups);
  expect(sa.state[0].step).toBe(sb.state[0].step);
  for (const key of ['expAvg', 'expAvgSq', 'maxExpAvgSq']) {
    expectSameBits(sa.state[0][key] as Float32Array, sb.state[0][key] as Float32Array, key);
  }
}

for (const backend of BACKENDS) {
  describe(`lrRangeTest (${backend})`, () => {
    it('restores parameters, gradients, every state buffer, step counts and hyperparameters bit for bit', async () => {
      const rand = prng(3);
      const make = async () => {
        const store = await ParameterStore.create({ backend });
        const w = store.parameter('w', fillMixed(new Float32Array(37), prng(9), 1, 0));
        const opt = new Adam([w], { lr: 0.01, amsgrad: true });
        return { w, opt };
      };
      const a = await make(), b = await make();
      for (let s = 0; s < 5; s++) {
        for (const x of [a, b]) { quadratic(x.w); x.opt.step(); }
      }
      a.w.grad.set(fillMixed(new Float32Array(37), rand, 1, 0));
      b.w.grad.set(a.w.grad);
      const result = await lrRangeTest(a.opt as never, () => quadratic(a.w), { numIter: 50 });
      expect(result.lrs.length).toBeGreaterThan(10);
      expectSameBits(a.w.data, b.w.data, 'data');
      expectSameBits(a.w.grad, b.w.grad, 'grad');
      for (const key of ['expAvg', 'expAvgSq', 'maxExpAvgSq']) {
        expectSameBits(a.opt.state(a.w)[key] as Float32Array, b.opt.state(b.w)[key] as Float32Array, key);
      }
      expect(a.opt.state(a.w).step).toBe(5);
      expect(a.opt.paramGroups[0].lr).toBe(0.01);
      // Training continues exactly as if the test had never run.
      for (let s = 0; s < 3; s++) {
        for (const x of [a, b]) { quadratic(x.w); x.opt.step(); }
      }
      expectSameBits(a.w.data, b.w.data, 'data after further steps');
    });

    it('sweeps exponentially from startLr to endLr when nothing diverges', async () => {
      const store = await ParameterStore.create({ backend });
      const w = store.parameter('w', 4);
      const opt = new SGD([w], { lr: 0.1 });
      const r = await lrRangeTest(opt as never, () => { w.grad.fill(0); return 1; }, { startLr: 1e-6, endLr: 1, numIter: 7 });
      expect(r.stoppedEarly).toBe(false);
      expect('stopReason' in r || 'stopMessage' in r || 'reason' in r.suggestion).toBe(false);
      expect(r.lrs.length).toBe(7);
      r.lrs.forEach((lr, i) => expect(lr).toBeCloseTo(1e-6 * 10 ** i, 12 - i));
      const lin = await lrRangeTest(opt as never, () => 1, { startLr: 1, endLr: 3, numIter: 3, stepMode: 'linear' });
      expect(lin.lrs).toEqual([1, 2, 3]);
      expect(r.smoothed.every((s) => Math.abs(s - 1) < 1e-12)).toBe(true); // bias correction: a constant loss stays 1
    });

    it('stops when the smoothed loss exceeds 4x the best; suggests the steepest descent and min/10', async () => {
      const store = await ParameterStore.create({ backend });
      const w = store.parameter('w', 4);
      const opt = new SGD([w], { lr: 0.1 });
      // Synthetic loss of the lr in effect: flat, falls between 1e-4 and 1e-2, explodes above 1.
      const loss = (lr: number) => {
        const x = Math.log10(lr);
        if (x < -4) return 1;
        if (x < -2) return 1 - 0.45 * (x + 4); // 1 -> 0.1
        if (x < 0) return 0.1;
        return 0.1 * 10 ** (3 * x);
      };
      const r = await lrRangeTest(opt as never, () => loss(opt.paramGroups[0].lr));
      expect(r.stoppedEarly).toBe(true);
      expect(r.stopReason).toBe('diverged');
      expect(r.stopMessage).toMatch(new RegExp(`^the smoothed loss [\\d.e+-]+ exceeded 4 times the best [\\d.e+-]+ at step ${r.lrs.length} of 100 \\(lr [\\d.]+\\)$`));
      expect(r.suggestion.reason).toBeUndefined();
      const last = r.lrs[r.lrs.length - 1];
      expect(last).toBeGreaterThan(1);
      expect(last).toBeLessThan(10);
      expect(r.smoothed[r.smoothed.length - 1]).toBeGreaterThan(4 * Math.min(...r.smoothed));
      expect(r.suggestion.steepest).toBeGreaterThan(1e-4);
      expect(r.suggestion.steepest).toBeLessThan(1e-1);
      // the smoothed loss lags, so its minimum sits at the end of the flat region (0.01..~2)
      expect(r.suggestion.minDividedBy10).toBeGreaterThan(1e-3);
      expect(r.suggestion.minDividedBy10).toBeLessThan(1);
      expect(opt.paramGroups[0].lr).toBe(0.1);
    });

    it('stops on a non-finite loss, and restores even when trainStep throws', async () => {
      const store = await ParameterStore.create({ backend });
      const w = store.parameter('w', [1, 2]);
      const opt = new SGD([w], { lr: 0.1, momentum: 0.9 });
      let calls = 0;
      const r = await lrRangeTest(opt as never, () => (++calls > 5 ? NaN : quadratic(w)));
      expect(r.stoppedEarly).toBe(true);
      expect(r.stopReason).toBe('non-finite-loss');
      expect(r.losses.length).toBe(5); // the NaN is not recorded
      expect(Array.from(w.data)).toEqual([1, 2]);
      await expect(lrRangeTest(opt as never, () => { quadratic(w); throw new Error('boom'); })).rejects.toThrow('boom');
      await expect(lrRangeTest(opt as never, () => { opt.step(); quadratic(w); return 'x' as never; })).rejects.toThrow(/trainStep must return the loss as a number/);
      expect(Array.from(w.data)).toEqual([1, 2]);
      expect(opt.state(w).step).toBe(0);
      // momentum buffer allocated during the test is back to unused: the next step starts it from g
      w.grad.set([1, 1]);
      opt.step();
      expect(opt.state(w).momentumBuffer).toEqual(new Float32Array([1, 1]));
    });

    it('a NaN loss at step k stops the sweep unrecorded; the suggestion comes from the finite part', async () => {
      const { a, b } = await adamPair(backend);
      let calls = 0;
      const r = await lrRangeTest(a.opt as never, () => (++calls === 40 ? NaN : quadratic(a.w)), { numIter: 60 });
      expect(calls).toBe(40);
      expect(r.stoppedEarly).toBe(true);
      expect(r.stopReason).toBe('non-finite-loss');
      expect(r.stopMessage).toMatch(/^the loss was NaN at step 40 of 60 \(lr [\d.e-]+\)$/);
      for (const xs of [r.lrs, r.losses, r.smoothed]) {
        expect(xs.length).toBe(39);
        expect(xs.every(Number.isFinite)).toBe(true);
      }
      expect(r.suggestion).toEqual(suggest(r.lrs, r.smoothed));
      expect(r.suggestion.steepest).toBeDefined();
      expect(r.suggestion.minDividedBy10).toBeDefined();
      expect(r.suggestion.reason).toBeUndefined();
      // the same sweep cut short by numIter records the same losses (the NaN poisoned nothing)
      const c = await adamPair(backend);
      const full = await lrRangeTest(c.a.opt as never, () => quadratic(c.a.w), { numIter: 60 });
      expect(full.losses.slice(0, 39)).toEqual(r.losses);
      expect(full.smoothed.slice(0, 39)).toEqual(r.smoothed);
      expectSameOptimizer(a, b);
    });

    it('an infinite loss (+Infinity or -Infinity) stops the sweep the same way and restores bit for bit', async () => {
      for (const bad of [Infinity, -Infinity]) {
        const { a, b } = await adamPair(backend);
        let calls = 0;
        const r = await lrRangeTest(a.opt as never, () => (++calls === 20 ? bad : quadratic(a.w)), { numIter: 50 });
        expect(r.stoppedEarly).toBe(true);
        expect(r.stopReason).toBe('non-finite-loss');
        expect(r.stopMessage).toMatch(new RegExp(`^the loss was ${bad} at step 20 of 50 `));
        expect(r.losses.length).toBe(19);
        expect(r.smoothed.every(Number.isFinite)).toBe(true);
        expect(r.suggestion.steepest).toBeDefined();
        expectSameOptimizer(a, b);
        // training continues exactly as if the test had never run
        for (let s = 0; s < 3; s++) {
          for (const x of [a, b]) { quadratic(x.w); x.opt.step(); }
        }
        expectSameOptimizer(a, b);
      }
    });

    it('a NaN loss at the very first step: nothing recorded, no suggestion, and the reason says why', async () => {
      const { a, b } = await adamPair(backend);
      const r = await lrRangeTest(a.opt as never, () => { quadratic(a.w); return NaN; });
      expect(r.stoppedEarly).toBe(true);
      expect(r.stopReason).toBe('non-finite-loss');
      expect(r.stopMessage).toBe('the loss was NaN at step 1 of 100 (lr 1e-7)');
      expect(r.lrs).toEqual([]);
      expect(r.losses).toEqual([]);
      expect(r.smoothed).toEqual([]);
      expect(r.suggestion).toEqual({
        steepest: undefined,
        minDividedBy10: undefined,
        reason: 'no finite loss was recorded; the loss was NaN at step 1 of 100 (lr 1e-7)',
      });
      expectSameOptimizer(a, b);
    });

    it('with too few finite losses for the steepest slope, gives min/10 and the reason', async () => {
      const { a, b } = await adamPair(backend);
      let calls = 0;
      const r = await lrRangeTest(a.opt as never, () => (++calls === 3 ? NaN : quadratic(a.w)), { startLr: 1e-4, endLr: 1, numIter: 5 });
      expect(r.losses.length).toBe(2);
      expect(r.suggestion.steepest).toBeUndefined();
      expect(r.suggestion.minDividedBy10).toBeDefined();
      expect(r.suggestion.reason).toBe('steepest needs at least 3 recorded losses, got 2; the loss was NaN at step 3 of 5 (lr 0.01)');
      expectSameOptimizer(a, b);
    });

    it('a trainStep that throws after a NaN-free start still restores bit for bit', async () => {
      const { a, b } = await adamPair(backend);
      let calls = 0;
      await expect(lrRangeTest(a.opt as never, () => { if (++calls === 7) throw new Error('boom'); return quadratic(a.w); })).rejects.toThrow('boom');
      expectSameOptimizer(a, b);
    });

    it('rejects bad options', async () => {
      const store = await ParameterStore.create({ backend });
      const opt = new SGD([store.parameter('w', 2)], { lr: 0.1 });
      await expect(lrRangeTest(opt as never, () => 1, { startLr: 0 })).rejects.toThrow(/lrRangeTest: invalid startLr: 0/);
      await expect(lrRangeTest(opt as never, () => 1, { endLr: 'x' as never })).rejects.toThrow('lrRangeTest: endLr must be a number, got "x" (string)');
      await expect(lrRangeTest(opt as never, () => 1, { numIter: 1 })).rejects.toThrow(/invalid numIter: 1/);
      await expect(lrRangeTest(opt as never, () => 1, { stepMode: 'log' as never })).rejects.toThrow(/invalid stepMode: "log"/);
      await expect(lrRangeTest(opt as never, 5 as never)).rejects.toThrow(/lrRangeTest: trainStep must be a function returning the loss, got 5 \(number\)/);
    });

    it('startLr >= endLr: the message names both options and their values, and marks a default', async () => {
      const store = await ParameterStore.create({ backend });
      const opt = new SGD([store.parameter('w', 2)], { lr: 0.1 });
      const cases: [LRRangeTestOptions, string][] = [
        [{ startLr: 0.01, endLr: 0.001 }, 'invalid endLr: endLr (0.001) must be greater than startLr (0.01)'],
        [{ startLr: 0.5, endLr: 0.5 }, 'invalid endLr: endLr (0.5) must be greater than startLr (0.5)'],
        [{ endLr: 1e-8 }, 'invalid endLr: endLr (1e-8) must be greater than startLr (1e-7, default)'],
        [{ endLr: -1 }, 'invalid endLr: endLr (-1) must be greater than startLr (1e-7, default)'],
        [{ startLr: 100 }, 'invalid startLr: endLr (10, default) must be greater than startLr (100)'],
        [{ startLr: 100, endLr: undefined }, 'invalid startLr: endLr (10, default) must be greater than startLr (100)'],
      ];
      for (const [options, message] of cases) {
        const error = await lrRangeTest(opt as never, () => 1, options).then(() => undefined, (e: Error) => e);
        expect(error).toBeInstanceOf(RangeError);
        expect(error?.message).toBe(`lrRangeTest: ${message}`);
      }
      expect(opt.paramGroups[0].lr).toBe(0.1);
    });
  });
}

describe('suggest', () => {
  it('as its doc example says; gives the reason when a suggestion is absent', () => {
    expect(suggest([1e-3, 1e-2, 1e-1, 1], [1, 0.9, 0.2, 3])).toEqual({ steepest: 0.01, minDividedBy10: 0.01 });
    expect(suggest([], [])).toEqual({ steepest: undefined, minDividedBy10: undefined, reason: 'no finite loss was recorded' });
    expect(suggest([0.1, 1], [2, 1])).toEqual({ steepest: undefined, minDividedBy10: 0.1, reason: 'steepest needs at least 3 recorded losses, got 2' });
    expect(suggest([0.1, 1, 10], [NaN, 1, Infinity])).toEqual({ steepest: undefined, minDividedBy10: 0.1, reason: 'the smoothed loss has no finite slope against log(lr)' });
  });
});
