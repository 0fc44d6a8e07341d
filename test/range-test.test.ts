// The LR range test: its sweep, its stop rule on a synthetic loss, its suggestions, and the
// bit-exact restore of parameters and optimizer state.
import { describe, expect, it } from 'vitest';
import { Adam, ParameterStore, SGD, lrRangeTest, type Parameter } from '../src/index.js';
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
      expect(r.losses.length).toBe(6);
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

    it('rejects bad options', async () => {
      const store = await ParameterStore.create({ backend });
      const opt = new SGD([store.parameter('w', 2)], { lr: 0.1 });
      await expect(lrRangeTest(opt as never, () => 1, { startLr: 0 })).rejects.toThrow(/lrRangeTest: invalid startLr: 0/);
      await expect(lrRangeTest(opt as never, () => 1, { startLr: 1, endLr: 0.5 })).rejects.toThrow(/invalid endLr: 0.5/);
      await expect(lrRangeTest(opt as never, () => 1, { numIter: 1 })).rejects.toThrow(/invalid numIter: 1/);
      await expect(lrRangeTest(opt as never, () => 1, { stepMode: 'log' as never })).rejects.toThrow(/invalid stepMode: "log"/);
      await expect(lrRangeTest(opt as never, 5 as never)).rejects.toThrow(/invalid trainStep/);
    });
  });
}
