// Hand-derived steps, worked out in the comments, on both backends. Values are chosen so
// that most results are exact in float32; the Adam ones carry eps and roundings, so they are
// compared to the hand value within 1e-6.
import { describe, expect, it } from 'vitest';
import { Adadelta, Adagrad, Adam, Adamax, AdamW, Lion, NAdam, ParameterStore, RAdam, RMSprop, SGD, radamRectification, type Parameter } from '../src/index.js';
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

    it('Adagrad: sum = 0 + 0.25; p = 1 - 0.1*0.5/(0.5 + 1e-10) ≈ 0.9; with lrDecay 1 step 2 uses lr/2', async () => {
      const w = await one(backend, [1]);
      const opt = new Adagrad([w], { lr: 0.1, lrDecay: 1 });
      w.grad.set([0.5]);
      opt.step();
      expect(w.data[0]).toBeCloseTo(0.9, 6);
      expect(opt.state(w).sum).toEqual(new Float32Array([0.25]));
      opt.step();
      // clr = 0.1/(1 + 1*1) = 0.05; sum = 0.5; p = 0.9 - 0.05*0.5/sqrt(0.5) = 0.9 - 0.0353553
      expect(w.data[0]).toBeCloseTo(0.9 - 0.025 / Math.sqrt(0.5), 6);
    });

    it('Adagrad initialAccumulatorValue 0.75: sum = 0.75 + 0.25 = 1, p = 1 - 0.1*0.5/1 = 0.95', async () => {
      const w = await one(backend, [1, 2, 3]);
      const opt = new Adagrad([w], { lr: 0.1, initialAccumulatorValue: 0.75 });
      expect(opt.state(w).sum).toEqual(new Float32Array([0.75, 0.75, 0.75]));
      w.grad.set([0.5, 0, 0]);
      opt.step();
      expect(w.data[0]).toBeCloseTo(0.95, 7);
      expect(w.data[1]).toBe(2);
    });

    it('RMSprop: sq = 0.01*0.25 = 0.0025, avg = 0.05 + 1e-8, p = 1 - 0.01*0.5/0.05 = 0.9', async () => {
      const w = await one(backend, [1]);
      const opt = new RMSprop([w]);
      w.grad.set([0.5]);
      opt.step();
      expect(w.data[0]).toBeCloseTo(0.9, 6);
      expect((opt.state(w).squareAvg as Float32Array)[0]).toBeCloseTo(0.0025, 9);
      expect(opt.state(w).gradAvg).toBeUndefined();
      expect(opt.state(w).momentumBuffer).toBeUndefined();
    });

    it('RMSprop centered: ga = 0.005, avg = sqrt(0.0025 - 0.000025) = 0.0497494, p = 1 - 0.005/avg', async () => {
      const w = await one(backend, [1]);
      const opt = new RMSprop([w], { centered: true });
      w.grad.set([0.5]);
      opt.step();
      expect(w.data[0]).toBeCloseTo(1 - 0.005 / (Math.sqrt(0.002475) + 1e-8), 6);
      expect((opt.state(w).gradAvg as Float32Array)[0]).toBeCloseTo(0.005, 9);
    });

    it('RMSprop momentum 0.9: buf = g/avg = 10, p = 0.9; step 2 buf = 9 + 0.5/sqrt(0.004975)', async () => {
      const w = await one(backend, [1]);
      const opt = new RMSprop([w], { momentum: 0.9 });
      w.grad.set([0.5]);
      opt.step();
      expect((opt.state(w).momentumBuffer as Float32Array)[0]).toBeCloseTo(10, 4);
      expect(w.data[0]).toBeCloseTo(0.9, 6);
      opt.step();
      const buf = 9 + 0.5 / (Math.sqrt(0.004975) + 1e-8);
      expect(w.data[0]).toBeCloseTo(0.9 - 0.01 * buf, 5);
    });

    it('Adamax: m = 0.05, u = max(0, 0.5 + 1e-8), clr = 0.1/0.1, p = 1 - 0.05/0.5 = 0.9', async () => {
      const w = await one(backend, [1]);
      const opt = new Adamax([w], { lr: 0.1 });
      w.grad.set([0.5]);
      opt.step();
      expect(w.data[0]).toBeCloseTo(0.9, 6);
      expect((opt.state(w).expInf as Float32Array)[0]).toBeCloseTo(0.5, 7);
      // step 2 with g = 0.25: u = max(0.999*0.5, 0.25) = 0.4995; m = 0.045 + 0.025 = 0.07
      w.grad.set([0.25]);
      opt.step();
      expect((opt.state(w).expInf as Float32Array)[0]).toBeCloseTo(0.4995, 7);
      expect(w.data[0]).toBeCloseTo(0.9 - (0.1 / 0.19) * 0.07 / 0.4995, 6);
    });

    it('NAdam: the mu schedule and muProduct as derived', async () => {
      const w = await one(backend, [1]);
      const opt = new NAdam([w], { lr: 0.1 });
      w.grad.set([0.5]);
      opt.step();
      // mu1 = 0.9 (1 - 0.5*0.96^0.004), mu2 = 0.9 (1 - 0.5*0.96^0.008); muProduct = mu1
      // m = 0.05, v = 0.00025, denom = sqrt(0.00025/0.001) + 1e-8 ≈ 0.5
      // p = 1 - 0.1 (1-mu1)/(1-mu1) * 0.5/0.5 - 0.1 mu2/(1 - mu1 mu2) * 0.05/0.5
      const mu1 = 0.9 * (1 - 0.5 * 0.96 ** 0.004), mu2 = 0.9 * (1 - 0.5 * 0.96 ** 0.008);
      expect(opt.state(w).muProduct).toBeCloseTo(mu1, 14);
      expect(w.data[0]).toBeCloseTo(1 - 0.1 - (0.1 * mu2 * 0.1) / (1 - mu1 * mu2), 6);
    });

    it('RAdam: rho_t <= 5 for the first steps, so step 1 is p -= lr * m/(1-b1) = lr*g', async () => {
      const w = await one(backend, [1]);
      const opt = new RAdam([w], { lr: 0.1 });
      w.grad.set([0.5]);
      opt.step();
      expect(w.data[0]).toBeCloseTo(0.95, 6);
    });

    it('RAdam rectification with b2 = 0.9: rho_inf = 19; rho_5 = 4.58 (none), rho_6 = 5.3896 (rect as derived)', async () => {
      expect(radamRectification(0.9, 1)).toBeUndefined(); // rho_1 = 19 - 2*0.9/0.1 = 1
      expect(radamRectification(0.9, 5)).toBeUndefined();
      const rho6 = 19 - (12 * 0.9 ** 6) / (1 - 0.9 ** 6);
      expect(rho6).toBeCloseTo(5.3896, 3); // 19 - 12*0.531441/0.468559
      const rect = Math.sqrt(((rho6 - 4) * (rho6 - 2) * 19) / (15 * 17 * rho6));
      expect(radamRectification(0.9, 6)).toBeCloseTo(rect, 12);
      // and the optimizer switches to the rectified update at step 6
      const w = await one(backend, [1]);
      const opt = new RAdam([w], { lr: 0.1, betas: [0.9, 0.9] });
      for (let s = 0; s < 5; s++) {
        w.grad.set([0.5]);
        opt.step(); // unrectified: m/(1-b1^t) = 0.5 exactly in exact arithmetic
      }
      expect(w.data[0]).toBeCloseTo(1 - 5 * 0.05, 5);
      opt.step();
      // v/(1-b2^6) = 0.25, so the step is lr * 0.5 * rect * sqrt(1-b2^6)/(sqrt(v) + eps) = lr*rect
      expect(w.data[0]).toBeCloseTo(0.75 - 0.1 * rect, 5);
    });

    it('Adadelta: sq = 0.025, delta = sqrt(1e-6)/sqrt(0.025 + 1e-6) * 0.5, p = 1 - delta', async () => {
      const w = await one(backend, [1]);
      const opt = new Adadelta([w]);
      w.grad.set([0.5]);
      opt.step();
      const delta = (Math.sqrt(1e-6) / Math.sqrt(0.025 + 1e-6)) * 0.5;
      expect(w.data[0]).toBeCloseTo(1 - delta, 7);
      const s = opt.state(w);
      expect((s.squareAvg as Float32Array)[0]).toBeCloseTo(0.025, 9);
      expect((s.accDelta as Float32Array)[0]).toBeCloseTo(0.1 * delta * delta, 12);
    });

    it('Lion: c = 0.1*0.5 > 0 so p = 1 - 0.1 = 0.9, m = 0.01*0.5; weight decay 0.5 gives 0.95 - 0.1', async () => {
      const w = await one(backend, [1, 1, 1]);
      const opt = new Lion([w], { lr: 0.1 });
      w.grad.set([0.5, -0.5, 0]);
      opt.step();
      expect(Array.from(w.data)).toEqual([Math.fround(0.9), Math.fround(1.1), 1]); // sign(0) = 0
      expect((opt.state(w).expAvg as Float32Array)[0]).toBeCloseTo(0.005, 9);
      const v = await one(backend, [1]);
      const decayed = new Lion([v], { lr: 0.1, weightDecay: 0.5 });
      v.grad.set([0.5]);
      decayed.step();
      expect(v.data[0]).toBeCloseTo(0.85, 6);
    });
  });
}
