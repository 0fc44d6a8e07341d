// Rprop and ASGD beyond the PyTorch fixtures (test/reference.test.ts): hand-derived steps, the
// special values of Rprop's sign logic (with PyTorch 1.13's own results), when lr is read, what
// ASGD keeps (ax, eta, mu) and that it is saved and restored, and the option checks.
import { describe, expect, it } from 'vitest';
import { ASGD, ParameterStore, Rprop, loadCheckpoint, saveCheckpoint, type Parameter } from '../src/index.js';
import { BACKENDS, expectSameBits } from './helpers.js';

const f = Math.fround;

async function param(backend: 'wasm' | 'js', values: number[]): Promise<Parameter> {
  return (await ParameterStore.create({ backend })).parameter('w', values);
}

for (const backend of BACKENDS) {
  describe(`Rprop (${backend})`, () => {
    it('hand-derived: the first step moves by lr against the sign; a kept sign grows the step, a flip halves it and holds still', async () => {
      const w = await param(backend, [1, 1, 1]);
      const opt = new Rprop([w], { lr: 0.25, stepSizes: [0.01, 0.5] });
      w.grad.set([2, -3, 0]);
      opt.step();
      // prev = 0: factor 1, step = lr; p -= sign(g)*0.25
      expect(Array.from(w.data)).toEqual([0.75, 1.25, 1]);
      expect(Array.from(opt.state(w).stepSize)).toEqual([0.25, 0.25, 0.25]);
      w.grad.set([1, 4, 5]);
      opt.step();
      // [0]: same sign: step = min(0.25*1.2, 0.5) = 0.3 (f32), p = 0.75 - 0.3
      // [1]: flipped: step = 0.125, no move, prev = 0;  [2]: prev 0: factor 1, p = 1 - 0.25
      expect(Array.from(opt.state(w).stepSize)).toEqual([f(f(0.25) * f(1.2)), 0.125, 0.25]);
      expect(Array.from(w.data)).toEqual([f(0.75 - f(f(0.25) * f(1.2))), 1.25, 0.75]);
      expect(Array.from(opt.state(w).prev)).toEqual([1, 0, 5]);
      w.grad.set([1, 4, 5]);
      opt.step();
      // [0]: 0.3*1.2 = 0.36; [1]: prev 0: factor 1, moves by 0.125; [2]: 0.25*1.2 = 0.3
      expect(Array.from(opt.state(w).stepSize)).toEqual([f(f(f(0.25) * f(1.2)) * f(1.2)), 0.125, f(f(0.25) * f(1.2))]);
      for (let s = 0; s < 20; s++) opt.step();
      expect(opt.state(w).stepSize[0]).toBe(0.5); // clamped to the largest step size
    });

    it('special values as PyTorch 1.13 computes them: a flip to ±Inf holds still and leaves prev = 0 (not NaN); NaN holds still and keeps NaN', async () => {
      const w = await param(backend, [1, 1, 1, 1]);
      const opt = new Rprop([w], { lr: 0.01 });
      const expected = [ // PyTorch 1.13.1, torch.optim.Rprop(lr=0.01, foreach=False): p, prev, step_size after each step
        [[1.0099999904632568, 0.9900000095367432, 1.0, 0.9900000095367432], [-1, 1, 0, 2], [0.01, 0.01, 0.01, 0.01]],
        [[1.0099999904632568, 0.9900000095367432, 0.9900000095367432, 0.9900000095367432], [0, NaN, Infinity, 0], [0.005, 0.01, 0.01, 0.005]],
        [[1.0049999952316284, 0.9800000190734863, 0.9779999852180481, 0.9850000143051147], [1, 1, 1, 1], [0.005, 0.01, 0.012, 0.005]],
      ];
      const grads = [[-1, 1, 0, 2], [Infinity, NaN, Infinity, -Infinity], [1, 1, 1, 1]];
      grads.forEach((g, s) => {
        w.grad.set(g);
        opt.step();
        const [p, prev, step] = expected[s];
        expect(Array.from(w.data), `step ${s} p`).toEqual(p);
        expect(Array.from(opt.state(w).prev), `step ${s} prev`).toEqual(prev);
        expect(Array.from(opt.state(w).stepSize), `step ${s} step sizes`).toEqual(step.map(f));
        if (s === 1) expect(Object.is(opt.state(w).prev[0], 0) && Object.is(opt.state(w).prev[3], 0)).toBe(true); // +0, as PyTorch's grad[...] = 0
      });
    });

    it('maximize ascends; prev holds -grad', async () => {
      const w = await param(backend, [1, 1]);
      const opt = new Rprop([w], { lr: 0.5, maximize: true });
      w.grad.set([2, -3]);
      opt.step();
      expect(Array.from(w.data)).toEqual([1.5, 0.5]);
      expect(Array.from(opt.state(w).prev)).toEqual([-2, 3]);
    });

    it('lr is read at the first step only (a scheduler that sets it before counts; later changes do not)', async () => {
      const w = await param(backend, [0, 0]);
      const opt = new Rprop([w], { lr: 0.5 });
      opt.paramGroups[0].lr = 0.125;
      w.grad.set([1, -1]);
      opt.step();
      expect(Array.from(w.data)).toEqual([-0.125, 0.125]);
      opt.paramGroups[0].lr = 100;
      w.grad.set([0, 0]); // no sign: step sizes unchanged, no move
      opt.step();
      expect(Array.from(opt.state(w).stepSize)).toEqual([0.125, 0.125]);
    });
  });

  describe(`ASGD (${backend})`, () => {
    it('hand-derived: p *= 1 - lambd*eta, p -= eta*g; eta and mu for the next step; ax copies p until t0, then averages', async () => {
      const w = await param(backend, [1, -2]);
      const opt = new ASGD([w], { lr: 0.5, lambd: 0.5, alpha: 1, t0: 1 });
      w.grad.set([1, 1]);
      opt.step();
      // eta = lr = 0.5, mu = 1: p = p*(1 - 0.25) - 0.5*1 = [0.25, -2];  ax = p
      expect(Array.from(w.data)).toEqual([0.25, -2]);
      expect(Array.from(opt.state(w).ax)).toEqual([0.25, -2]);
      // next: eta = 0.5 / (1 + 0.5*0.5*1)^1 = 0.4, mu = 1/max(1, 1 - 1) = 1
      expect(opt.state(w)).toMatchObject({ step: 1, eta: f(0.4), mu: 1 });
      opt.step();
      // p = p*(1 - 0.5*0.4) - 0.4 = [0.25*0.8 - 0.4, -2*0.8 - 0.4] (f32); mu still 1: ax = p
      const p2 = [f(f(0.25 * f(1 - 0.5 * f(0.4))) - f(0.4)), f(f(-2 * f(1 - 0.5 * f(0.4))) - f(0.4))];
      expect(Array.from(w.data)).toEqual(p2);
      expect(Array.from(opt.state(w).ax)).toEqual(p2);
      // eta = 0.5 / (1 + 0.25*2) = 1/3, mu = 1/max(1, 2 - 1) = 1; then t = 3: mu = 1/2
      expect(opt.state(w)).toMatchObject({ eta: f(1 / 3), mu: 1 });
      opt.step();
      expect(opt.state(w).mu).toBe(0.5);
      const ax3 = Array.from(w.data);
      opt.step();
      // mu = 1/2 != 1: ax = ax + (p - ax)/2
      expect(Array.from(opt.state(w).ax)).toEqual(ax3.map((a, i) => f(a + f(f(w.data[i] - a) * 0.5))));
    });

    it('the state is saved (ax, eta, mu) and a restored run continues to the same bits, through state dicts and checkpoints', async () => {
      const make = async () => {
        const store = await ParameterStore.create({ backend });
        const w = store.parameter('w', [1, -2, 3, 0.5, -0.25]);
        return { store, w, opt: new ASGD([w], { lr: 0.05, t0: 2, weightDecay: 0.01 }) };
      };
      const grads = (s: number) => [0.5, -1, s, 0.25 * s, -0.125];
      const a = await make(), b = await make(), c = await make();
      for (let s = 0; s < 4; s++) { a.w.grad.set(grads(s)); a.opt.step(); }
      const sd = a.opt.stateDict();
      expect(Object.keys(sd.state[0]).sort()).toEqual(['ax', 'eta', 'mu', 'step']);
      b.opt.loadStateDict(sd);
      b.w.data.set(a.w.data);
      loadCheckpoint(saveCheckpoint({ store: a.store, optimizer: a.opt }), { store: c.store, optimizer: c.opt });
      for (let s = 4; s < 8; s++) for (const x of [a, b, c]) { x.w.grad.set(grads(s)); x.opt.step(); }
      for (const x of [b, c]) {
        expectSameBits(x.w.data, a.w.data, 'parameters');
        expectSameBits(x.opt.state(x.w).ax, a.opt.state(a.w).ax, 'ax');
        expect(x.opt.state(x.w).eta).toBe(a.opt.state(a.w).eta);
        expect(x.opt.state(x.w).mu).toBe(a.opt.state(a.w).mu);
      }
    });
  });
}

describe('option checks', () => {
  it('Rprop: etas as PyTorch requires (0 < etaminus < 1 < etaplus), step sizes 0 <= min <= max', async () => {
    const w = await param('js', [1]);
    expect(() => new Rprop([w], { etas: [0.5, 1] })).toThrow(/Rprop: invalid etaplus \(etas\[1\]\): 1 \(must be > 1\)/);
    expect(() => new Rprop([w], { etas: [1.2, 0.5] })).toThrow(/Rprop: invalid etaminus \(etas\[0\]\): 1.2 \(must be in \(0, 1\)\)/);
    expect(() => new Rprop([w], { etas: [0, 1.2] })).toThrow(/invalid etaminus \(etas\[0\]\): 0/);
    expect(() => new Rprop([w], { etas: 0.5 as never })).toThrow(/Rprop: etas must be an array of two numbers, got 0.5 \(number\)/);
    expect(() => new Rprop([w], { stepSizes: [1, 0.5] })).toThrow(/Rprop: invalid stepSizes: \[1, 0.5\] \(must be a pair \[min, max\] with min <= max\)/);
    expect(() => new Rprop([w], { stepSizes: [-1, 0.5] })).toThrow(/invalid smallest step size \(stepSizes\[0\]\): -1 \(must be >= 0\)/);
    expect(() => new Rprop([w], { lr: -1 })).toThrow(/invalid learning rate \(lr\): -1/);
    expect(() => new Rprop([w], { weightDecay: 0.1 } as never)).toThrow(/Rprop: unknown option "weightDecay" \(valid: lr, etas, stepSizes, maximize\)/);
  });

  it('ASGD: every number finite and >= 0', async () => {
    const w = await param('js', [1]);
    expect(() => new ASGD([w], { lambd: -1 })).toThrow(/ASGD: invalid decay term \(lambd\): -1 \(must be >= 0\)/);
    expect(() => new ASGD([w], { t0: NaN })).toThrow(/ASGD: invalid averaging start \(t0\): NaN \(must be finite\)/);
    expect(() => new ASGD([w], { alpha: Infinity })).toThrow(/invalid eta decay power \(alpha\): Infinity/);
    expect(() => new ASGD([w], { weightDecay: -0.1 })).toThrow(/invalid weight_decay value \(weightDecay\): -0.1/);
  });
});
