// Hand-derived steps, worked out in the comments, on both backends. Values are chosen so
// that most results are exact in float32; the Adam ones carry eps and roundings, so they are
// compared to the hand value within 1e-6.
import { describe, expect, it } from 'vitest';
import { Adam, AdamW, ParameterStore, SGD, type Parameter } from '../src/index.js';
import { BACKENDS } from './helpers.js';

async function one(backend: 'wasm' | 'js', p0: number[]): Promise<Parameter> {
  const store = await ParameterStore.create({ backend });
  return store.parameter('w', p0);
}

for (const backend of BACKENDS) {
  describe(`hand-derived steps (${backend})`, () => {
    it('SGD: p = 1, g = 0.5, lr = 0.25  ->  p = 1 - 0.25*0.5 = 0.875', async () => {
      const w = await one(backend, [1, -2]);
      const opt = new SGD([w], { lr: 0.25 });
      w.grad.set([0.5, -1]);
      opt.step();
      // second element: -2 - 0.25*(-1) = -1.75
      expect(Array.from(w.data)).toEqual([0.875, -1.75]);
      expect(opt.state(w)).toEqual({ step: 1 }); // no momentum buffer without momentum
    });

    it('SGD weight decay: g = 0.5 + 0.5*1 = 1  ->  p = 1 - 0.25*1 = 0.75', async () => {
      const w = await one(backend, [1]);
      const opt = new SGD([w], { lr: 0.25, weightDecay: 0.5 });
      w.grad.set([0.5]);
      opt.step();
      expect(w.data[0]).toBe(0.75);
    });

    it('SGD maximize: p = 1 + 0.25*0.5 = 1.125', async () => {
      const w = await one(backend, [1]);
      const opt = new SGD([w], { lr: 0.25, maximize: true });
      w.grad.set([0.5]);
      opt.step();
      expect(w.data[0]).toBe(1.125);
    });

    it('SGD momentum 0.5, dampening 0.5: step 1 buf = g (no dampening), step 2 buf = 0.5*buf + 0.5*g', async () => {
      const w = await one(backend, [1]);
      const opt = new SGD([w], { lr: 0.25, momentum: 0.5, dampening: 0.5 });
      w.grad.set([0.5]);
      opt.step();
      // buf = 0.5; p = 1 - 0.25*0.5 = 0.875
      expect(w.data[0]).toBe(0.875);
      expect(opt.state(w).momentumBuffer).toEqual(new Float32Array([0.5]));
      opt.step();
      // buf = 0.5*0.5 + 0.5*0.5 = 0.5; p = 0.875 - 0.25*0.5 = 0.75
      expect(opt.state(w).momentumBuffer).toEqual(new Float32Array([0.5]));
      expect(w.data[0]).toBe(0.75);
    });

    it('SGD momentum 0.5, no dampening: step 2 buf = 0.5*0.5 + 0.5 = 0.75, p = 0.875 - 0.1875 = 0.6875', async () => {
      const w = await one(backend, [1]);
      const opt = new SGD([w], { lr: 0.25, momentum: 0.5 });
      w.grad.set([0.5]);
      opt.step();
      opt.step();
      expect(w.data[0]).toBe(0.6875);
    });

    it('SGD Nesterov (NAG) momentum 0.5: buf = g = 0.5, g + 0.5*buf = 0.75, p = 1 - 0.25*0.75 = 0.8125', async () => {
      const w = await one(backend, [1]);
      const opt = new SGD([w], { lr: 0.25, momentum: 0.5, nesterov: true });
      w.grad.set([0.5]);
      opt.step();
      expect(w.data[0]).toBe(0.8125);
      // step 2: buf = 0.5*0.5 + 0.5 = 0.75; g = 0.5 + 0.5*0.75 = 0.875; p = 0.8125 - 0.21875 = 0.59375
      opt.step();
      expect(w.data[0]).toBe(0.59375);
    });

    it('Adam: first step moves by lr*sign(g); second as derived', async () => {
      const w = await one(backend, [1, 1]);
      const opt = new Adam([w], { lr: 0.1 });
      w.grad.set([0.5, -0.5]);
      opt.step();
      // m = 0.1*0.5 = 0.05; v = 0.001*0.25 = 0.00025; stepSize = 0.1/(1-0.9) = 1
      // denom = sqrt(0.00025)/sqrt(0.001) + 1e-8 = 0.5 + 1e-8;  p = 1 - 0.05/0.50000001 ≈ 0.9
      expect(w.data[0]).toBeCloseTo(0.9, 6);
      expect(w.data[1]).toBeCloseTo(1.1, 6);
      const s = opt.state(w);
      expect(s.step).toBe(1);
      expect((s.expAvg as Float32Array)[0]).toBeCloseTo(0.05, 8);
      expect((s.expAvgSq as Float32Array)[0]).toBeCloseTo(0.00025, 10);
      expect(s.maxExpAvgSq).toBeUndefined();
      opt.step();
      // m = 0.9*0.05 + 0.1*0.5 = 0.095; v = 0.999*0.00025 + 0.001*0.25 = 0.00049975
      // 1-b1^2 = 0.19, 1-b2^2 = 0.001999; v/0.001999 = 0.25, so denom = 0.5 + 1e-8
      // p = 0.9 - (0.1/0.19)*0.095/0.5 = 0.9 - 0.1 = 0.8
      expect(w.data[0]).toBeCloseTo(0.8, 6);
    });

    it('Adam L2 weight decay 0.1: g = 0.5 + 0.1*1 = 0.6; the first step still moves by ≈ lr', async () => {
      const w = await one(backend, [1]);
      const opt = new Adam([w], { lr: 0.1, weightDecay: 0.1 });
      w.grad.set([0.5]);
      opt.step();
      expect(w.data[0]).toBeCloseTo(0.9, 6);
      // m = 0.1*0.6 = 0.06 records the decayed gradient
      expect((opt.state(w).expAvg as Float32Array)[0]).toBeCloseTo(0.06, 8);
    });

    it('Adam AMSGrad: vmax = max(vmax, v) is kept; step 2 with g = 0 uses vmax', async () => {
      const w = await one(backend, [1]);
      const opt = new Adam([w], { lr: 0.1, amsgrad: true });
      w.grad.set([0.5]);
      opt.step();
      expect((opt.state(w).maxExpAvgSq as Float32Array)[0]).toBeCloseTo(0.00025, 10);
      w.grad.set([0]);
      opt.step();
      // v = 0.999*0.00025 = 0.00024975 < vmax = 0.00025 -> vmax stays
      const s = opt.state(w);
      expect((s.expAvgSq as Float32Array)[0]).toBeCloseTo(0.00024975, 10);
      expect((s.maxExpAvgSq as Float32Array)[0]).toBeCloseTo(0.00025, 10);
      // m = 0.045; p = 0.9 - (0.1/0.19)*0.045/(sqrt(0.00025)/sqrt(0.001999) + 1e-8)
      const expected = 0.9 - (0.1 / 0.19) * 0.045 / (Math.sqrt(0.00025) / Math.sqrt(0.001999) + 1e-8);
      expect(w.data[0]).toBeCloseTo(expected, 6);
    });

    it('Adam maximize: p = 1 + 0.1 = 1.1', async () => {
      const w = await one(backend, [1]);
      const opt = new Adam([w], { lr: 0.1, maximize: true });
      w.grad.set([0.5]);
      opt.step();
      expect(w.data[0]).toBeCloseTo(1.1, 6);
    });

    it('AdamW: p = 1*(1 - 0.1*0.1) = 0.99, then - 0.1 = 0.89; m ignores the decay', async () => {
      const w = await one(backend, [1]);
      const opt = new AdamW([w], { lr: 0.1, weightDecay: 0.1 });
      w.grad.set([0.5]);
      opt.step();
      expect(w.data[0]).toBeCloseTo(0.89, 6);
      expect((opt.state(w).expAvg as Float32Array)[0]).toBeCloseTo(0.05, 8);
    });

    it('AdamW default weightDecay is 1e-2: p = 1*(1 - 0.1*0.01) - 0.1 = 0.899', async () => {
      const w = await one(backend, [1]);
      const opt = new AdamW([w], { lr: 0.1 });
      expect(opt.defaults.weightDecay).toBe(0.01);
      w.grad.set([0.5]);
      opt.step();
      expect(w.data[0]).toBeCloseTo(0.899, 6);
    });
  });
}
