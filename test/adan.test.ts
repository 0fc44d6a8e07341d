// Adan has no PyTorch class: check it against a float64 transcription of the authors'
// reference implementation (github.com/sail-sg/Adan, adan.py, _single_tensor_adan) over 25
// steps on two tensors, on both backends, within the reference README's tolerance
// (|ours - ref| <= 2e-4 |ref| + 1e-5); and hand-derived first two steps.
import { describe, expect, it } from 'vitest';
import { Adan, ParameterStore, type AdanOptions } from '../src/index.js';
import { BACKENDS, prng, worstFraction } from './helpers.js';

/** One tensor's float64 reference state: the reference keeps -g (neg_pre_grad); so does this. */
interface Ref { p: Float64Array; expAvg: Float64Array; expAvgDiff: Float64Array; expAvgSq: Float64Array; negPreGrad: Float64Array }

/**
 * Float64 Adan, as Adan.step and _single_tensor_adan write it (max_grad_norm = 0, so the clip
 * coefficient is 1; `maximize`, this library's, negates the gradient first):
 *   step == 1: neg_pre_grad = -grad
 *   bias_correction{1,2,3} = 1 - beta{1,2,3}**step
 *   d = neg_pre_grad + grad
 *   exp_avg = exp_avg*beta1 + (1 - beta1)*grad
 *   exp_avg_diff = exp_avg_diff*beta2 + (1 - beta2)*d
 *   d = d*beta2 + grad;  exp_avg_sq = exp_avg_sq*beta3 + (1 - beta3)*d*d
 *   denom = sqrt(exp_avg_sq)/sqrt(bias_correction3) + eps
 *   no_prox: p *= 1 - lr*wd;  p += -lr/bc1 * exp_avg/denom;  p += -lr*beta2/bc2 * exp_avg_diff/denom
 *   else:    the same two additions, then p /= 1 + lr*wd
 *   neg_pre_grad = -grad
 */
function adan64(r: Ref, g32: Float32Array, step: number, o: AdanOptions): void {
  const [b1, b2, b3] = o.betas;
  const bc1 = 1 - b1 ** step, bc2 = 1 - b2 ** step, bc3Sqrt = Math.sqrt(1 - b3 ** step);
  const stepSize = o.lr / bc1, stepSizeDiff = (o.lr * b2) / bc2;
  for (let i = 0; i < r.p.length; i++) {
    const grad = o.maximize ? -g32[i] : g32[i];
    if (step === 1) r.negPreGrad[i] = -grad;
    let d = r.negPreGrad[i] + grad;
    r.expAvg[i] = r.expAvg[i] * b1 + (1 - b1) * grad;
    r.expAvgDiff[i] = r.expAvgDiff[i] * b2 + (1 - b2) * d;
    d = d * b2 + grad;
    r.expAvgSq[i] = r.expAvgSq[i] * b3 + (1 - b3) * d * d;
    const denom = Math.sqrt(r.expAvgSq[i]) / bc3Sqrt + o.eps;
    if (o.noProx) {
      r.p[i] *= 1 - o.lr * o.weightDecay;
      r.p[i] += -stepSize * (r.expAvg[i] / denom);
      r.p[i] += -stepSizeDiff * (r.expAvgDiff[i] / denom);
    } else {
      r.p[i] += -stepSize * (r.expAvg[i] / denom);
      r.p[i] += -stepSizeDiff * (r.expAvgDiff[i] / denom);
      r.p[i] /= 1 + o.lr * o.weightDecay;
    }
    r.negPreGrad[i] = -grad;
  }
}

const BASE: AdanOptions = { lr: 1e-3, betas: [0.98, 0.92, 0.99], eps: 1e-8, weightDecay: 0, noProx: false, maximize: false };
const CONFIGS: Partial<AdanOptions>[] = [
  {},
  { lr: 1e-2, weightDecay: 0.02 },
  { lr: 1e-2, weightDecay: 0.05, noProx: true, maximize: true },
  { lr: 3e-3, betas: [0.9, 0.8, 0.95], eps: 1e-3, weightDecay: 0.1 },
  { lr: 5e-3, betas: [0.5, 0, 0.9] },
];

for (const backend of BACKENDS) {
  describe(`Adan against a float64 transcription of the reference (${backend})`, () => {
    CONFIGS.forEach((partial, ci) => {
      it(`config ${ci}: ${JSON.stringify(partial)}`, async () => {
        const o = { ...BASE, ...partial };
        const rand = prng(400 + ci);
        const sizes = [13, 30];
        const store = await ParameterStore.create({ backend });
        const init = sizes.map((n) => Float32Array.from({ length: n }, () => rand() * 2 - 1));
        const params = init.map((v, k) => store.parameter(`p${k}`, v));
        const refs: Ref[] = init.map((v) => ({
          p: Float64Array.from(v), expAvg: new Float64Array(v.length), expAvgDiff: new Float64Array(v.length),
          expAvgSq: new Float64Array(v.length), negPreGrad: new Float64Array(v.length),
        }));
        const opt = new Adan(params, partial);
        let worst = 0;
        for (let s = 0; s < 25; s++) {
          // exact zeros every 7th element and tiny values every 11th, as the PyTorch reference data has
          const grads = sizes.map((n) => Float32Array.from({ length: n }, (_, i) => (i % 7 === 0 ? 0 : i % 11 === 0 ? 1e-20 : (rand() * 2 - 1) * (1 + s % 3))));
          params.forEach((p, k) => p.grad.set(grads[k]));
          opt.step();
          refs.forEach((r, k) => adan64(r, grads[k], s + 1, o));
          params.forEach((p, k) => {
            const r = refs[k], st = opt.state(p), at = `step ${s + 1}, tensor ${k}`;
            worst = Math.max(worst, worstFraction(p.data, r.p, `${at}, p`));
            worstFraction(st.expAvg, r.expAvg, `${at}, expAvg`);
            worstFraction(st.expAvgDiff, r.expAvgDiff, `${at}, expAvgDiff`);
            worstFraction(st.expAvgSq, r.expAvgSq, `${at}, expAvgSq`);
            // prevGrad is the gradient itself, exactly: the reference's -neg_pre_grad
            expect(Array.from(st.prevGrad)).toEqual(Array.from(r.negPreGrad, (x) => -x));
          });
        }
        expect(opt.state(params[0]).step).toBe(25);
        expect(worst).toBeLessThan(1);
      });
    });
  });

  describe(`Adan by hand (${backend})`, () => {
    // betas [0.5, 0.5, 0.75], lr 0.25, eps 0: every value of step 1 is exact in float32.
    const o = { lr: 0.25, betas: [0.5, 0.5, 0.75] as [number, number, number], eps: 0 };
    const p0 = [1, -2, 0.5, 3], g1 = [2, -0.5, 4, 1], g2 = [1, 0.5, -4, 1];

    async function setup(extra: Partial<AdanOptions> = {}) {
      const store = await ParameterStore.create({ backend });
      const w = store.parameter('w', p0);
      return { w, opt: new Adan([w], { ...o, ...extra }) };
    }

    it('step 1: the difference is 0 (prevGrad starts as g), so p moves by lr·sign(g); step 2 uses g2 - g1', async () => {
      const { w, opt } = await setup();
      w.grad.set(g1);
      opt.step();
      // d = 0; m = 0.5·g = [1, -0.25, 2, 0.5]; diff = 0; n = 0.25·g² = [1, 0.0625, 4, 0.25]
      // denom = √n/√(1 - 0.75) = |g|; stepSize = 0.25/0.5 = 0.5; p -= 0.5·m/|g| = 0.25·sign(g)
      const s = opt.state(w);
      expect(Array.from(s.expAvg)).toEqual([1, -0.25, 2, 0.5]);
      expect(Array.from(s.expAvgDiff)).toEqual([0, 0, 0, 0]);
      expect(Array.from(s.expAvgSq)).toEqual([1, 0.0625, 4, 0.25]);
      expect(Array.from(s.prevGrad)).toEqual(g1);
      expect(Array.from(w.data)).toEqual([0.75, -1.75, 0.25, 2.75]);
      w.grad.set(g2);
      opt.step();
      // d = g2 - g1 = [-1, 1, -8, 0]; m = 0.5·m + 0.5·g2 = [1, 0.125, -1, 0.75]; diff = 0.5·d = [-0.5, 0.5, -4, 0]
      // u = 0.5·d + g2 = [0.5, 1, -8, 1]; n = 0.75·n + 0.25·u² = [0.8125, 0.296875, 19, 0.4375]
      expect(Array.from(s.expAvg)).toEqual([1, 0.125, -1, 0.75]);
      expect(Array.from(s.expAvgDiff)).toEqual([-0.5, 0.5, -4, 0]);
      expect(Array.from(s.expAvgSq)).toEqual([0.8125, 0.296875, 19, 0.4375]);
      expect(Array.from(s.prevGrad)).toEqual(g2);
      // p -= (0.25/0.75·m + 0.25·0.5/0.75·diff) / (√n/√(1 - 0.75²))
      const m = [1, 0.125, -1, 0.75], diff = [-0.5, 0.5, -4, 0], n = [0.8125, 0.296875, 19, 0.4375];
      const p1 = [0.75, -1.75, 0.25, 2.75];
      p1.forEach((p, i) => expect(w.data[i]).toBeCloseTo(p - ((0.25 / 0.75) * m[i] + (0.125 / 0.75) * diff[i]) / (Math.sqrt(n[i]) / Math.sqrt(1 - 0.5625)), 6));
    });

    it('weight decay: proximal p /= 1 + lr·wd after the update; noProx p *= 1 - lr·wd before it', async () => {
      const prox = await setup({ weightDecay: 1 });
      prox.w.grad.set(g1);
      prox.opt.step();
      // (p - 0.25·sign(g)) / 1.25, one float32 division
      expect(Array.from(prox.w.data)).toEqual([0.75, -1.75, 0.25, 2.75].map((x) => Math.fround(x / 1.25)));
      const noProx = await setup({ weightDecay: 1, noProx: true });
      noProx.w.grad.set(g1);
      noProx.opt.step();
      // 0.75·p - 0.25·sign(g)
      expect(Array.from(noProx.w.data)).toEqual([0.5, -1.25, 0.125, 2]);
    });

    it('maximize ascends and keeps the negated gradient as prevGrad', async () => {
      const { w, opt } = await setup({ maximize: true });
      w.grad.set(g1);
      opt.step();
      expect(Array.from(w.data)).toEqual([1.25, -2.25, 0.75, 3.25]);
      expect(Array.from(opt.state(w).prevGrad)).toEqual(g1.map((x) => -x));
    });

    it('a non-finite first gradient gives a NaN difference, as the reference\'s -g + g does', async () => {
      const { w, opt } = await setup();
      w.grad.set([Infinity, 1, 1, 1]);
      opt.step();
      expect(opt.state(w).expAvgDiff[0]).toBeNaN();
      expect(opt.state(w).expAvgDiff[1]).toBe(0);
    });
  });
}

describe('Adan options', () => {
  it('defaults are the reference\'s', async () => {
    const store = await ParameterStore.create({ backend: 'js' });
    const opt = new Adan([store.parameter('w', 2)]);
    expect(opt.defaults).toEqual({ lr: 1e-3, betas: [0.98, 0.92, 0.99], eps: 1e-8, weightDecay: 0, noProx: false, maximize: false });
  });

  it('validates its options, naming option and value', async () => {
    const store = await ParameterStore.create({ backend: 'js' });
    const w = store.parameter('w', 2);
    expect(() => new Adan([w], { betas: [0.9, 0.9, 1] })).toThrow(/Adan: invalid beta parameter at index 2: 1/);
    expect(() => new Adan([w], { betas: [0.9, 0.99] as never })).toThrow(/Adan: betas must be an array of three numbers, got \[0.9, 0.99\]/);
    expect(() => new Adan([w], { noProx: 1 as never })).toThrow(/Adan: noProx must be a boolean, got 1 \(number\)/);
    expect(() => new Adan([w], { weightDecay: -0.1 })).toThrow(/Adan: invalid weight decay value \(weightDecay\): -0.1/);
    expect(() => new Adan([w], { maxGradNorm: 1 } as never)).toThrow(/Adan: unknown option "maxGradNorm"/);
  });
});

describe('Adan state', () => {
  it('stays float32: no stateDtype option, and a state dict holding bfloat16 state is refused', async () => {
    const store = await ParameterStore.create({ backend: 'js' });
    const w = store.parameter('w', 4);
    expect(() => new Adan([w], { stateDtype: 'int8' } as never)).toThrow(/unknown option "stateDtype"/);
    const opt = new Adan([w]);
    w.grad.fill(0.5);
    opt.step();
    const sd = opt.stateDict();
    (sd.state[0] as Record<string, unknown>).expAvg = { dtype: 'bfloat16', data: new Uint16Array(4) };
    expect(() => opt.loadStateDict(sd)).toThrow(/state expAvg of parameter 0/);
  });
});
