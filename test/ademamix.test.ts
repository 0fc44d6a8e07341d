// AdEMAMix has no PyTorch class: check it against a float64 transcription of the authors'
// PyTorch reference (github.com/apple/ml-ademamix, pytorch/ademamix.py: AdEMAMix.step and its
// linear_warmup_scheduler / linear_hl_warmup_scheduler) over 25 steps on two tensors, on both
// backends, within the reference README's tolerance (|ours - ref| <= 2e-4 |ref| + 1e-5); its
// schedules against values the reference's Python functions print; hand-derived first steps.
import { describe, expect, it } from 'vitest';
import { AdEMAMix, ParameterStore, ademamixAlpha, ademamixBeta3, type AdEMAMixOptions } from '../src/index.js';
import { BACKENDS, prng, worstFraction } from './helpers.js';

/** linear_warmup_scheduler(step, alpha_end, alpha_start=0, warmup), as the reference writes it. */
function linearWarmup(step: number, alphaEnd: number, alphaStart: number, warmup: number): number {
  if (step < warmup) {
    const a = step / warmup;
    return (1 - a) * alphaStart + a * alphaEnd;
  }
  return alphaEnd;
}

/** linear_hl_warmup_scheduler(step, beta_end, beta_start, warmup), with the engine's Math.log and Math.pow. */
function linearHlWarmup(step: number, betaEnd: number, betaStart: number, warmup: number): number {
  const f = (beta: number, eps = 1e-8) => Math.log(0.5) / Math.log(beta + eps) - 1;
  const fInv = (t: number) => Math.pow(0.5, 1 / (t + 1));
  if (step < warmup) {
    const a = step / warmup;
    return fInv((1 - a) * f(betaStart) + a * f(betaEnd));
  }
  return betaEnd;
}

interface Ref { p: Float64Array; m1: Float64Array; m2: Float64Array; nu: Float64Array }

/**
 * Float64 AdEMAMix, as AdEMAMix.step writes it (a warmup of 0 here is the reference's None;
 * `maximize`, this library's, negates the gradient first):
 *   bias_correction1 = 1 - beta1**step;  bias_correction2 = 1 - beta2**step
 *   alpha = linear_warmup_scheduler(step, alpha, 0, alpha_warmup) if alpha_warmup else alpha
 *   beta3 = linear_hl_warmup_scheduler(step, beta3, beta1, beta3_warmup) if beta3_warmup else beta3
 *   exp_avg_fast = exp_avg_fast*beta1 + (1 - beta1)*grad if beta1 != 0 else grad
 *   exp_avg_slow = exp_avg_slow*beta3 + (1 - beta3)*grad
 *   exp_avg_sq = exp_avg_sq*beta2 + (1 - beta2)*grad*grad
 *   denom = sqrt(exp_avg_sq)/sqrt(bias_correction2) + eps
 *   update = (exp_avg_fast/bias_correction1 + alpha*exp_avg_slow)/denom + weight_decay*p
 *   p += -lr*update
 */
function ademamix64(r: Ref, g32: Float32Array, step: number, o: AdEMAMixOptions): void {
  const [b1, b2, b3Final] = o.betas;
  const bc1 = 1 - b1 ** step, bc2 = 1 - b2 ** step;
  const alpha = o.alphaWarmup ? linearWarmup(step, o.alpha, 0, o.alphaWarmup) : o.alpha;
  const b3 = o.beta3Warmup ? linearHlWarmup(step, b3Final, b1, o.beta3Warmup) : b3Final;
  for (let i = 0; i < r.p.length; i++) {
    const grad = o.maximize ? -g32[i] : g32[i];
    let fast = grad;
    if (b1 !== 0) fast = r.m1[i] = r.m1[i] * b1 + (1 - b1) * grad;
    r.m2[i] = r.m2[i] * b3 + (1 - b3) * grad;
    r.nu[i] = r.nu[i] * b2 + (1 - b2) * grad * grad;
    const denom = Math.sqrt(r.nu[i]) / Math.sqrt(bc2) + o.eps;
    const update = (fast / bc1 + alpha * r.m2[i]) / denom + o.weightDecay * r.p[i];
    r.p[i] += -o.lr * update;
  }
}

const BASE: AdEMAMixOptions = { lr: 1e-3, betas: [0.9, 0.999, 0.9999], alpha: 2, alphaWarmup: 0, beta3Warmup: 0, eps: 1e-8, weightDecay: 0, maximize: false, stateDtype: 'float32', stochasticRounding: false, stateSeed: 0 };
const CONFIGS: Partial<AdEMAMixOptions>[] = [
  {},
  { lr: 1e-2, alpha: 5, alphaWarmup: 10, beta3Warmup: 10, weightDecay: 0.1 },
  { lr: 1e-2, alpha: 8, alphaWarmup: 100, beta3Warmup: 50, betas: [0.8, 0.99, 0.999], maximize: true },
  { lr: 3e-3, betas: [0, 0.99, 0.999], beta3Warmup: 20, eps: 1e-3, weightDecay: 0.01 },
  { lr: 1e-2, betas: [0.5, 0.9, 0.99], alpha: 0 },
];

for (const backend of BACKENDS) {
  describe(`AdEMAMix against a float64 transcription of the reference (${backend})`, () => {
    CONFIGS.forEach((partial, ci) => {
      it(`config ${ci}: ${JSON.stringify(partial)}`, async () => {
        const o = { ...BASE, ...partial };
        const rand = prng(500 + ci);
        const sizes = [13, 30];
        const store = await ParameterStore.create({ backend });
        const init = sizes.map((n) => Float32Array.from({ length: n }, () => rand() * 2 - 1));
        const params = init.map((v, k) => store.parameter(`p${k}`, v));
        const refs: Ref[] = init.map((v) => ({ p: Float64Array.from(v), m1: new Float64Array(v.length), m2: new Float64Array(v.length), nu: new Float64Array(v.length) }));
        const opt = new AdEMAMix(params, partial);
        let worst = 0;
        for (let s = 0; s < 25; s++) {
          // exact zeros every 7th element and tiny values every 11th, as the PyTorch reference data has
          const grads = sizes.map((n) => Float32Array.from({ length: n }, (_, i) => (i % 7 === 0 ? 0 : i % 11 === 0 ? 1e-20 : (rand() * 2 - 1) * (1 + s % 3))));
          params.forEach((p, k) => p.grad.set(grads[k]));
          opt.step();
          refs.forEach((r, k) => ademamix64(r, grads[k], s + 1, o));
          params.forEach((p, k) => {
            const r = refs[k], st = opt.state(p), at = `step ${s + 1}, tensor ${k}`;
            worst = Math.max(worst, worstFraction(p.data, r.p, `${at}, p`));
            if (o.betas[0] !== 0) worstFraction(st.expAvgFast!, r.m1, `${at}, expAvgFast`);
            worstFraction(st.expAvgSlow, r.m2, `${at}, expAvgSlow`);
            worstFraction(st.expAvgSq, r.nu, `${at}, expAvgSq`);
          });
        }
        expect(opt.state(params[0]).step).toBe(25);
        expect(worst).toBeLessThan(1);
      });
    });
  });

  describe(`AdEMAMix by hand (${backend})`, () => {
    // betas [0.5, 0.75, 0.75], alpha 2, lr 0.25, eps 0: every value of step 1 is exact in float32.
    const o = { lr: 0.25, betas: [0.5, 0.75, 0.75] as [number, number, number], alpha: 2, eps: 0 };
    const p0 = [1, -2, 0.5, 3], g1 = [2, -0.5, 4, 1];

    async function setup(extra: Partial<AdEMAMixOptions> = {}) {
      const store = await ParameterStore.create({ backend });
      const w = store.parameter('w', p0);
      const opt = new AdEMAMix([w], { ...o, ...extra });
      w.grad.set(g1);
      opt.step();
      return { w, opt };
    }

    it('step 1: m1/(1-β1) = g, m2 = 0.25·g, √v/√(1-β2) = |g|, so p -= 0.25·(1 + 2·0.25)·sign(g)', async () => {
      const { w, opt } = await setup();
      const s = opt.state(w);
      expect(Array.from(s.expAvgFast!)).toEqual([1, -0.25, 2, 0.5]);
      expect(Array.from(s.expAvgSlow)).toEqual([0.5, -0.125, 1, 0.25]);
      expect(Array.from(s.expAvgSq)).toEqual([1, 0.0625, 4, 0.25]);
      expect(Array.from(w.data)).toEqual([0.625, -1.625, 0.125, 2.625]);
    });

    it('decoupled weight decay joins the update: p -= lr·(1.5·sign(g) + wd·p)', async () => {
      const { w } = await setup({ weightDecay: 0.5 });
      // u = [1.5 + 0.5, -1.5 - 1, 1.5 + 0.25, 1.5 + 1.5]
      expect(Array.from(w.data)).toEqual([0.5, -1.375, 0.0625, 2.25]);
    });

    it('alpha warmup: alpha = t/T·alpha, 2/4 at step 1, so p -= 0.25·(1 + 0.5·0.25)·sign(g)', async () => {
      const { w } = await setup({ alphaWarmup: 4 });
      expect(Array.from(w.data)).toEqual([0.71875, -1.71875, 0.21875, 2.71875]);
    });

    it('beta3 warmup: m2 decays at this step\'s beta3, which starts near beta1', async () => {
      const { w, opt } = await setup({ beta3Warmup: 4 });
      const b3 = linearHlWarmup(1, 0.75, 0.5, 4);
      expect(b3).toBeGreaterThan(0.5);
      expect(b3).toBeLessThan(0.75);
      g1.forEach((g, i) => expect(opt.state(w).expAvgSlow[i]).toBeCloseTo((1 - b3) * g, 6));
    });

    it('betas[0] = 0: no expAvgFast; m1 is the gradient itself', async () => {
      const { w, opt } = await setup({ betas: [0, 0.75, 0.75] });
      expect(opt.state(w).expAvgFast).toBeUndefined();
      // (g + 2·0.25·g)/|g| = 1.5·sign(g), as with the fast EMA at step 1
      expect(Array.from(w.data)).toEqual([0.625, -1.625, 0.125, 2.625]);
      // a later beta1 allocates the buffer, zeroed, and uses it from there
      opt.paramGroups[0].betas = [0.5, 0.75, 0.75];
      opt.step();
      expect(Array.from(opt.state(w).expAvgFast!)).toEqual([1, -0.25, 2, 0.5]);
    });

    it('maximize ascends', async () => {
      const { w } = await setup({ maximize: true });
      expect(Array.from(w.data)).toEqual([1.375, -2.375, 0.875, 3.375]);
    });
  });
}

describe('AdEMAMix schedules', () => {
  // The reference's own functions (pytorch/ademamix.py), run in CPython: repr() of each result.
  const BETA3: [number, number, number, number, number][] = [
    [1, 0.9999, 0.9, 10000, 0.9090765770366876],
    [1000, 0.9999, 0.9, 10000, 0.9990090102690186],
    [9999, 0.9999, 0.9, 10000, 0.9999000000099914],
    [10000, 0.9999, 0.9, 10000, 0.9999],
    [3, 0.999, 0, 10, 0.996671008267372],
    [7, 0.9999, 0.5, 20, 0.9997144173114164],
  ];
  const ALPHA: [number, number, number, number][] = [[1, 5, 100, 0.05], [50, 5, 100, 2.5], [99, 8, 100, 7.92], [100, 8, 100, 8], [3, 2, 7, 0.8571428571428571]];

  it('beta3: linear_hl_warmup_scheduler(t, beta3, beta1, warmup), to a few ulps of CPython\'s', () => {
    for (const [t, b3, b1, warmup, want] of BETA3) {
      expect(Math.abs(ademamixBeta3(t, b3, b1, warmup) - want), `t=${t}`).toBeLessThanOrEqual(4e-16);
      expect(Math.fround(ademamixBeta3(t, b3, b1, warmup)), `t=${t}`).toBe(Math.fround(want));
    }
    expect(ademamixBeta3(5, 0.9999, 0.9, 0)).toBe(0.9999); // no warmup
  });

  it('alpha: linear_warmup_scheduler(t, alpha, 0, warmup)', () => {
    for (const [t, alpha, warmup, want] of ALPHA) expect(ademamixAlpha(t, alpha, warmup), `t=${t}`).toBe(want);
    expect(ademamixAlpha(1, 5, 0)).toBe(5); // no warmup
  });
});

describe('AdEMAMix options', () => {
  it('defaults are the reference class\'s', async () => {
    const store = await ParameterStore.create({ backend: 'js' });
    const opt = new AdEMAMix([store.parameter('w', 2)]);
    expect(opt.defaults).toEqual({ lr: 1e-3, betas: [0.9, 0.999, 0.9999], alpha: 2, alphaWarmup: 0, beta3Warmup: 0, eps: 1e-8, weightDecay: 0, maximize: false, stateDtype: 'float32', stochasticRounding: false, stateSeed: 0 });
  });

  it('validates its options, naming option and value', async () => {
    const store = await ParameterStore.create({ backend: 'js' });
    const w = store.parameter('w', 2);
    expect(() => new AdEMAMix([w], { betas: [0.9, 0.999, 1] })).toThrow(/AdEMAMix: invalid beta parameter at index 2: 1/);
    expect(() => new AdEMAMix([w], { betas: [0.9, 0.999] as never })).toThrow(/AdEMAMix: betas must be an array of three numbers/);
    expect(() => new AdEMAMix([w], { alpha: -1 })).toThrow(/AdEMAMix: invalid alpha value \(alpha\): -1/);
    expect(() => new AdEMAMix([w], { alphaWarmup: 2.5 })).toThrow(/AdEMAMix: invalid alphaWarmup: 2.5 \(must be a whole number >= 0\)/);
    expect(() => new AdEMAMix([w], { beta3Warmup: -1 })).toThrow(/AdEMAMix: invalid beta3Warmup: -1/);
    expect(() => new AdEMAMix([w], { weightDecay: -0.1 })).toThrow(/AdEMAMix: invalid weight decay value \(weightDecay\): -0.1/);
  });
});
