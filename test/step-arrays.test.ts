// stepArrays: gradients in from Float32Arrays, clip, step, schedule, parameters out; the same
// bits as doing it by hand; checks before anything is copied.
import { describe, expect, it } from 'vitest';
import { AdamW, ParameterStore, ReduceLROnPlateau, SGD, StepLR, clipGradNorm, stepArrays } from '../src/index.js';
import { BACKENDS, expectSameBits, prng } from './helpers.js';

const random = (n: number, seed: number) => { const r = prng(seed); return Float32Array.from({ length: n }, () => r() * 2 - 1); };

describe.each(BACKENDS)('stepArrays (%s)', (backend) => {
  it('copies the gradients in, clips, steps, schedules and copies the parameters out: the bits of doing it by hand', async () => {
    const sizes = [7, 64, 1];
    const make = async () => {
      const store = await ParameterStore.create({ backend });
      const params = sizes.map((n, i) => store.parameter(`p${i}`, random(n, i)));
      const opt = new AdamW(params, { lr: 0.01 });
      return { store, params, opt, sched: new StepLR(opt, { stepSize: 2, gamma: 0.5 }) };
    };
    const a = await make(), b = await make();
    // "Another library's" arrays: its own parameters and gradients.
    const theirs = sizes.map((n, i) => random(n, i));
    for (let step = 0; step < 5; step++) {
      const grads = sizes.map((n, i) => random(n, 100 * step + i + 10));
      expect(stepArrays(a.opt, grads, theirs, { clipGradNorm: 0.5, scheduler: a.sched })).toBe(true);
      b.params.forEach((p, i) => p.grad.set(grads[i]));
      clipGradNorm(b.params, 0.5);
      b.opt.step();
      b.sched.step();
    }
    b.params.forEach((p, i) => { expectSameBits(theirs[i], p.data, `params[${i}]`); expectSameBits(a.params[i].data, p.data, `store ${i}`); });
    expect(a.opt.paramGroups[0].lr).toBe(b.opt.paramGroups[0].lr);
    a.store.dispose();
    b.store.dispose();
  });

  it('stepIfFinite skips a step with a non-finite gradient (nothing changes, the scheduler included); clipGradValue clamps', async () => {
    const store = await ParameterStore.create({ backend });
    const w = store.parameter('w', [1, 2, 3]);
    const opt = new SGD([w], { lr: 1 });
    const sched = new StepLR(opt, { stepSize: 1, gamma: 0.5 });
    const out = [new Float32Array(3)];
    expect(stepArrays(opt, [new Float32Array([1, Infinity, 0])], out, { stepIfFinite: true, scheduler: sched })).toBe(false);
    expect(Array.from(w.data)).toEqual([1, 2, 3]);
    expect(Array.from(out[0])).toEqual([1, 2, 3]);
    expect(opt.skippedSteps).toBe(1);
    expect(opt.paramGroups[0].lr).toBe(1);
    expect(stepArrays(opt, [new Float32Array([5, -5, 0.5])], out, { clipGradValue: 1, stepIfFinite: true, scheduler: sched })).toBe(true);
    expect(Array.from(out[0])).toEqual([0, 3, 2.5]);
    expect(opt.paramGroups[0].lr).toBe(0.5);
    // A ReduceLROnPlateau needs a metric: it is left alone.
    const plateau = new ReduceLROnPlateau(opt);
    stepArrays(opt, [new Float32Array(3)], undefined, { scheduler: plateau });
    expect(plateau.lastEpoch).toBe(0);
    store.dispose();
  });

  it('refuses bad input naming it, before anything is copied', async () => {
    const store = await ParameterStore.create({ backend });
    const w = store.parameter('w', [1, 2, 3]);
    const b = store.parameter('b', [4]);
    const opt = new SGD([w, b], { lr: 1 });
    const before = () => [Array.from(w.data), Array.from(w.grad), Array.from(b.data), Array.from(b.grad)];
    const snapshot = before();
    const g = [new Float32Array([1, 1, 1]), new Float32Array([1])];
    expect(() => stepArrays(opt, [g[0]])).toThrow(/grads holds 1 arrays, but the optimizer has 2 parameters/);
    expect(() => stepArrays(opt, [g[0], new Float32Array(2)])).toThrow(/grads\[1\] has 2 elements, but parameter 1 is Parameter\("b", 1\) of 1; nothing was changed/);
    expect(() => stepArrays(opt, [g[0], [1] as unknown as Float32Array])).toThrow(/grads\[1\] must be a Float32Array, got an array/);
    expect(() => stepArrays(opt, g, [new Float32Array(3), new Float64Array(1) as unknown as Float32Array])).toThrow(/params\[1\] must be a Float32Array, got a Float64Array/);
    expect(() => stepArrays(opt, g, undefined, { clipGradNorm: -1 })).toThrow(/clipGradNorm: -1/);
    expect(() => stepArrays(opt, g, undefined, { clipGrad: 1 } as never)).toThrow(/unknown option "clipGrad"/);
    expect(() => stepArrays(opt, g, undefined, { scheduler: new StepLR(new SGD([w], { lr: 1 }), { stepSize: 1 }) })).toThrow(/another optimizer/);
    expect(() => stepArrays({} as never, g)).toThrow(/a simdopt optimizer/);
    expect(before()).toEqual(snapshot);
    store.dispose();
    expect(() => stepArrays(opt, g)).toThrow(/disposed/);
  });
});
