// ADOPT has no PyTorch class: check it against a float64 transcription of the authors'
// reference implementation (github.com/iShohei220/adopt, adopt.py, _single_tensor_adopt,
// with the clipping of Nov. 2024) over 25 steps on two tensors, on both backends, within the
// reference README's tolerance (|ours - ref| <= 2e-4 |ref| + 1e-5); and a hand-derived first
// two steps.
import { describe, expect, it } from 'vitest';
import { ADOPT, ParameterStore, type ADOPTOptions } from '../src/index.js';
import { BACKENDS, prng } from './helpers.js';

/**
 * Float64 ADOPT, as _single_tensor_adopt writes it (`step` counts the steps before this one):
 *   grad = -grad if maximize;  grad += wd*p if wd and not decouple
 *   step == 0: exp_avg_sq.addcmul_(grad, grad); done
 *   p += -lr*wd*p if wd and decouple
 *   normed = grad / clamp(sqrt(exp_avg_sq), eps);  normed.clamp_(-step**0.25, step**0.25)
 *   exp_avg.lerp_(normed, 1 - beta1);  p += -lr*exp_avg
 *   exp_avg_sq = exp_avg_sq*beta2 + (1 - beta2)*grad*grad
 */
function adopt64(p: Float64Array, m: Float64Array, v: Float64Array, g32: Float32Array, step: number, o: ADOPTOptions): void {
  const [b1, b2] = o.betas;
  for (let i = 0; i < p.length; i++) {
    let g = o.maximize ? -g32[i] : g32[i];
    if (o.weightDecay !== 0 && !o.decoupledWeightDecay) g += o.weightDecay * p[i];
    if (step === 0) { v[i] += g * g; continue; }
    if (o.weightDecay !== 0 && o.decoupledWeightDecay) p[i] += -o.lr * o.weightDecay * p[i];
    let normed = g / Math.max(Math.sqrt(v[i]), o.eps);
    if (o.clip) { const c = step ** 0.25; normed = Math.min(Math.max(normed, -c), c); }
    // torch.lerp: start + w*(end - start) for w < 0.5, end - (end - start)*(1 - w) otherwise
    const w = 1 - b1;
    m[i] = w < 0.5 ? m[i] + w * (normed - m[i]) : normed - (normed - m[i]) * (1 - w);
    p[i] += -o.lr * m[i];
    v[i] = v[i] * b2 + (1 - b2) * g * g;
  }
}

const BASE: ADOPTOptions = { lr: 1e-3, betas: [0.9, 0.9999], eps: 1e-6, weightDecay: 0, decoupledWeightDecay: false, clip: true, maximize: false, stateDtype: 'float32', stochasticRounding: false, stateSeed: 0 };
const CONFIGS: Partial<ADOPTOptions>[] = [
  {},
  { lr: 1e-2, weightDecay: 0.05 },
  { lr: 1e-2, weightDecay: 0.1, decoupledWeightDecay: true, maximize: true },
  { lr: 3e-3, clip: false, betas: [0.5, 0.99], eps: 1e-3 },
];

for (const backend of BACKENDS) {
  describe(`ADOPT against a float64 transcription of the reference (${backend})`, () => {
    CONFIGS.forEach((partial, ci) => {
      it(`config ${ci}: ${JSON.stringify(partial)}`, async () => {
        const o = { ...BASE, ...partial };
        const rand = prng(300 + ci);
        const sizes = [13, 30];
        const store = await ParameterStore.create({ backend });
        const init = sizes.map((n) => Float32Array.from({ length: n }, () => rand() * 2 - 1));
        const params = init.map((v, k) => store.parameter(`p${k}`, v));
        const ref = init.map((v) => Float64Array.from(v));
        const m = sizes.map((n) => new Float64Array(n)), v = sizes.map((n) => new Float64Array(n));
        const opt = new ADOPT(params, partial);
        for (let s = 0; s < 25; s++) {
          // exact zeros every 7th element, as the PyTorch reference data has
          const grads = sizes.map((n) => Float32Array.from({ length: n }, (_, i) => (i % 7 === 0 ? 0 : (rand() * 2 - 1) * (1 + s % 3))));
          params.forEach((p, k) => p.grad.set(grads[k]));
          opt.step();
          ref.forEach((r, k) => adopt64(r, m[k], v[k], grads[k], s, o));
          params.forEach((p, k) => {
            for (let i = 0; i < p.size; i++) {
              const bound = 2e-4 * Math.abs(ref[k][i]) + 1e-5;
              if (!(Math.abs(p.data[i] - ref[k][i]) <= bound)) expect.fail(`step ${s}, tensor ${k}, element ${i}: ${p.data[i]} vs float64 ${ref[k][i]}`);
            }
            const st = opt.state(p);
            for (let i = 0; i < p.size; i++) {
              if (!(Math.abs(st.expAvgSq[i] - v[k][i]) <= 2e-4 * Math.abs(v[k][i]) + 1e-5)) expect.fail(`step ${s}: expAvgSq[${i}] ${st.expAvgSq[i]} vs ${v[k][i]}`);
            }
          });
        }
        expect(opt.state(params[0]).step).toBe(25);
      });
    });
  });
}

describe('ADOPT by hand', () => {
  it('step 1 only sets v = g²; step 2 moves p by lr · clip(g / max(√v, eps), 1) · (1 - β1)', async () => {
    const store = await ParameterStore.create({ backend: 'js' });
    const w = store.parameter('w', [1, -2, 0.5, 3]);
    const opt = new ADOPT([w], { lr: 0.1, betas: [0.5, 0.9] });
    w.grad.set([2, 0.5, -4, 0]);
    opt.step();
    expect(Array.from(w.data)).toEqual([1, -2, 0.5, 3]); // no update on the first step
    expect(Array.from(opt.state(w).expAvgSq)).toEqual([4, 0.25, 16, 0]);
    expect(Array.from(opt.state(w).expAvg)).toEqual([0, 0, 0, 0]);
    w.grad.set([1, 1, -8, 1]);
    opt.step();
    // ng = g/√v = [0.5, 2, -2, 1/1e-6], clipped to ±(2-1)^0.25 = ±1: [0.5, 1, -1, 1]; m = 0.5·ng; p -= 0.1·m
    const f = Math.fround;
    expect(Array.from(opt.state(w).expAvg)).toEqual([0.25, 0.5, -0.5, 0.5]);
    expect(Array.from(w.data)).toEqual([f(1 - f(0.1 * 0.25)), f(-2 - f(0.1 * 0.5)), f(0.5 + f(0.1 * 0.5)), f(3 - f(0.1 * 0.5))]);
    // v = 0.9·v + (0.1·g)·g
    expect(Array.from(opt.state(w).expAvgSq)).toEqual([f(f(0.9 * 4) + f(f(f(0.1) * 1) * 1)), f(f(f(0.9) * 0.25) + f(f(0.1) * 1)), f(f(f(0.9) * 16) + f(f(f(f(0.1) * -8)) * -8)), f(f(0.1) * 1)]);
  });

  it('validates its options, naming option and value', async () => {
    const store = await ParameterStore.create({ backend: 'js' });
    const w = store.parameter('w', 2);
    expect(() => new ADOPT([w], { betas: [0.9, 1] })).toThrow(/ADOPT: invalid beta parameter at index 1: 1/);
    expect(() => new ADOPT([w], { clip: 1 as never })).toThrow(/ADOPT: clip must be a boolean, got 1 \(number\)/);
    expect(() => new ADOPT([w], { eps: -1 })).toThrow(/ADOPT: invalid epsilon value \(eps\): -1/);
  });
});
