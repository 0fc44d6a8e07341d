// GradientAccumulator: the window's mean (or sum) against a float32 transcription of Keras's
// arithmetic (acc += g; then (g + acc) / k) bit for bit and the float64 mean within rounding;
// the k - 1 calls in between change nothing but the accumulator; for every optimizer case k
// micro-batches step exactly as the optimizer stepped with their mean, and everyK 1 exactly as
// the optimizer alone; stepIfFinite, clipping the mean, schedulers on real steps only, frozen
// parameters, exact resume mid-window through state dicts and checkpoints; bad input refused.
import { describe, expect, it } from 'vitest';
import {
  AveragedModel, GradientAccumulator, ParameterStore, SGD, StepLR, clipGradNorm, loadCheckpoint, saveCheckpoint,
  type BackendName, type GradientAccumulatorStateDict, type Parameter,
} from '../src/index.js';
import { expectSameBits, fillMixed, prng } from './helpers.js';
import { OPTIMIZER_CASES, caseShape, optimizerClass, type AnyOptimizer, type OptimizerCase } from './registry.js';

const f = Math.fround;
const SIZES = [13, 30, 5];

const gradient = (i: number, s: number, specials = 0) => fillMixed(new Float32Array(SIZES[i]), prng(1000 * s + i), 1, specials);

async function world(backend: BackendName, c: OptimizerCase = OPTIMIZER_CASES[0], seed = 1) {
  const store = await ParameterStore.create({ backend });
  const rand = prng(seed);
  const params = SIZES.map((n, i) => store.parameter(`p${i}`, { shape: caseShape(c, n, i), values: fillMixed(new Float32Array(n), rand, 1, 0) }));
  const opt = optimizerClass(c.torch)!.create([{ params: params.slice(0, 2) }, { params: params.slice(2), lr: 0.003 }] as never, c.options);
  return { store, params, opt };
}

/** Keras's window in float32: acc = g + acc for the first k - 1, then (g + acc) / k (or the sum). */
function kerasWindow(grads: Float32Array[], mean: boolean): Float32Array {
  const acc = new Float32Array(grads[0].length);
  grads.slice(0, -1).forEach((g) => acc.forEach((a, j) => { acc[j] = f(g[j] + a); }));
  const last = grads[grads.length - 1];
  return acc.map((a, j) => (mean ? f(f(last[j] + a) / grads.length) : f(last[j] + a)));
}

function feed(params: Parameter[], s: number, specials = 0): void {
  params.forEach((p, i) => p.grad.set(gradient(i, s, specials)));
}

/** Every bit of values and state, and the step counts. */
function everything(opt: AnyOptimizer, params: Parameter[]): string {
  return JSON.stringify(params.map((p) => [Array.from(new Uint32Array(p.data.slice().buffer)), Object.entries(opt.state(p)).map(([k, v]) => [k, v instanceof Float32Array ? Array.from(new Uint32Array(v.slice().buffer)) : v])]));
}

describe('GradientAccumulator: the window\'s mean is Keras\'s, the optimizer steps with it', () => {
  for (const mean of [true, false]) {
    it(`${mean ? 'mean' : 'sum'}: bit for bit a float32 transcription (special values included), within rounding of float64; the calls in between change nothing`, async () => {
      const { params, opt } = await world('wasm');
      const acc = new GradientAccumulator(opt, { everyK: 3, reduction: mean ? 'mean' : 'sum' });
      for (let window = 0; window < 3; window++) {
        const grads = [0, 1, 2].map((m) => params.map((_, i) => gradient(i, 3 * window + m, window === 1 ? 0.05 : 0)));
        for (let m = 0; m < 3; m++) {
          const before = everything(opt, params);
          params.forEach((p, i) => p.grad.set(grads[m][i]));
          const stepped = acc.step();
          expect(stepped).toBe(m === 2);
          if (m < 2) {
            expect(everything(opt, params)).toBe(before);
            expect(acc.miniStep).toBe(m + 1);
            params.forEach((p, i) => expectSameBits(p.grad, grads[m][i], 'the gradient is read, not changed'));
          }
        }
        params.forEach((p, i) => {
          expectSameBits(p.grad, kerasWindow(grads.map((g) => g[i]), mean), `window ${window}: ${p.name}`);
          if (window === 1) return;
          p.grad.forEach((x, j) => {
            const exact = grads.reduce((sum, g) => sum + g[i][j], 0) / (mean ? 3 : 1);
            expect(Math.abs(x - exact)).toBeLessThanOrEqual(4e-7 * Math.abs(exact) + 1e-7);
          });
        });
        expect(opt.state(params[0]).step).toBe(window + 1);
      }
    });
  }

  // A closure-driven optimizer (L-BFGS) computes its gradients inside its step: a
  // GradientAccumulator refuses it (tested below).
  for (const c of OPTIMIZER_CASES.filter((x) => !optimizerClass(x.torch)!.closure)) {
    it(`${c.name}: 3 micro-batches step as the optimizer with their mean; everyK 1 as the optimizer alone`, async () => {
      const a = await world('wasm', c), b = await world('wasm', c), one = await world('js', c), alone = await world('js', c);
      const acc = new GradientAccumulator(a.opt, { everyK: 3 });
      const passThrough = new GradientAccumulator(one.opt, { everyK: 1 });
      for (let window = 0; window < 3; window++) {
        for (let m = 0; m < 3; m++) {
          feed(a.params, 3 * window + m);
          acc.step();
        }
        b.params.forEach((p, i) => p.grad.set(kerasWindow([0, 1, 2].map((m) => gradient(i, 3 * window + m)), true)));
        b.opt.step();
        feed(one.params, window);
        expect(passThrough.step()).toBe(true);
        feed(alone.params, window);
        alone.opt.step();
      }
      expect(everything(a.opt, a.params)).toBe(everything(b.opt, b.params));
      expect(everything(one.opt, one.params)).toBe(everything(alone.opt, alone.params));
    });
  }
});

describe('GradientAccumulator: around the step', () => {
  it('stepIfFinite drops a window with a non-finite micro-batch (counted), and the next window steps', async () => {
    const a = await world('wasm'), b = await world('wasm');
    const acc = new GradientAccumulator(a.opt, { everyK: 2, stepIfFinite: true });
    const before = everything(a.opt, a.params);
    feed(a.params, 0);
    expect(acc.step()).toBe(false);
    feed(a.params, 1);
    a.params[1].grad[3] = Infinity;
    expect(acc.step()).toBe(false);
    expect([a.opt.skippedSteps, acc.miniStep]).toEqual([1, 0]);
    expect(everything(a.opt, a.params)).toBe(before);
    feed(a.params, 2);
    acc.step();
    feed(a.params, 3);
    expect(acc.step()).toBe(true);
    b.params.forEach((p, i) => p.grad.set(kerasWindow([gradient(i, 2), gradient(i, 3)], true)));
    b.opt.step();
    expect(everything(a.opt, a.params)).toBe(everything(b.opt, b.params));
  });

  it('clipping applies to the mean; the scheduler steps on real steps only', async () => {
    const a = await world('wasm'), b = await world('wasm');
    const sched = new StepLR(a.opt as SGD, { stepSize: 1, gamma: 0.5 });
    const acc = new GradientAccumulator(a.opt, { everyK: 3, clipGradNorm: 0.5, scheduler: sched });
    for (let s = 0; s < 6; s++) {
      feed(a.params, s);
      acc.step();
      expect(a.opt.paramGroups[0].lr).toBe(0.1 * 0.5 ** Math.floor((s + 1) / 3));
    }
    const bSched = new StepLR(b.opt as SGD, { stepSize: 1, gamma: 0.5 });
    for (let window = 0; window < 2; window++) {
      b.params.forEach((p, i) => p.grad.set(kerasWindow([0, 1, 2].map((m) => gradient(i, 3 * window + m)), true)));
      clipGradNorm(b.params, 0.5);
      b.opt.step();
      bSched.step();
    }
    expect(everything(a.opt, a.params)).toBe(everything(b.opt, b.params));
  });

  it('a frozen parameter is not accumulated, nor stepped; what it held when frozen is dropped at the window\'s end', async () => {
    const { params, opt } = await world('js');
    const acc = new GradientAccumulator(opt, { everyK: 3, reduction: 'sum' });
    const p1 = params[1].data.slice();
    feed(params, 0);
    acc.step();
    params[1].requiresGrad = false;
    feed(params, 1);
    acc.step();
    expect(acc.stateDict().accumulated![1]).toEqual(gradient(1, 0));
    expect(acc.stateDict().accumulated![0]).toEqual(kerasWindow([gradient(0, 0), gradient(0, 1)], false));
    feed(params, 2);
    expect(acc.step()).toBe(true);
    expectSameBits(params[1].data, p1, 'frozen values');
    expectSameBits(params[1].grad, gradient(1, 2), 'frozen gradient');
    expect([opt.state(params[0]).step, opt.state(params[1]).step]).toEqual([1, 0]);
    params[1].requiresGrad = true;
    feed(params, 3);
    acc.step();
    expect(acc.stateDict().accumulated![1]).toEqual(gradient(1, 3));
  });
});

describe('GradientAccumulator: saving mid-window', () => {
  it('a state dict mid-window survives structuredClone and resumes exactly on the other backend; reset drops the window', async () => {
    const a = await world('wasm'), b = await world('js', OPTIMIZER_CASES[0], 9);
    const accA = new GradientAccumulator(a.opt, { everyK: 3 }), accB = new GradientAccumulator(b.opt, { everyK: 3 });
    for (let s = 0; s < 5; s++) { feed(a.params, s); accA.step(); }
    const sd = structuredClone(accA.stateDict());
    expect(sd).toMatchObject({ format: 'simdopt-accumulator', version: 1, everyK: 3, reduction: 'mean', miniStep: 2 });
    accB.loadStateDict(sd);
    b.opt.loadStateDict(a.opt.stateDict());
    b.params.forEach((p, i) => p.data.set(a.params[i].data));
    for (let s = 5; s < 9; s++) for (const [w, acc] of [[a, accA], [b, accB]] as const) { feed(w.params, s); acc.step(); }
    expect(everything(b.opt, b.params)).toBe(everything(a.opt, a.params));
    expect(accA.miniStep).toBe(0);
    expect(accA.stateDict().accumulated).toBeUndefined();
    feed(a.params, 9);
    accA.step();
    accA.reset();
    expect([accA.miniStep, accA.stateDict().accumulated]).toEqual([0, undefined]);
  });

  for (const [from, to] of [['wasm', 'js'], ['js', 'wasm']] as const) {
    it(`a checkpoint mid-window (optimizer, scheduler, accumulator, EMA) resumes exactly, ${from} -> ${to}`, async () => {
      const make = async (backend: BackendName, seed: number) => {
        const w = await world(backend, OPTIMIZER_CASES.find((c) => c.name === 'adam/amsgrad')!, seed);
        const sched = new StepLR(w.opt as never, { stepSize: 2, gamma: 0.5 });
        const acc = new GradientAccumulator(w.opt, { everyK: 3, clipGradNorm: 1, scheduler: sched });
        return { ...w, sched, acc, ema: new AveragedModel(w.store, { mode: 'ema', decay: 0.8 }) };
      };
      const train = (w: Awaited<ReturnType<typeof make>>, s: number) => {
        feed(w.params, s);
        if (w.acc.step()) w.ema.updateParameters();
      };
      const ref = await make(from, 1), run = await make(from, 1);
      let bytes: Uint8Array | undefined;
      for (let s = 0; s < 14; s++) {
        train(ref, s);
        if (s < 7) train(run, s);
        if (s === 6) bytes = saveCheckpoint({ store: run.store, optimizer: run.opt, scheduler: run.sched, accumulator: run.acc, averaged: run.ema });
      }
      const fresh = await make(to, 2);
      const parts = { store: fresh.store, optimizer: fresh.opt, scheduler: fresh.sched, averaged: fresh.ema };
      expect(() => loadCheckpoint(bytes!, parts)).toThrow(/holds a gradient accumulator: pass it as accumulator; nothing was changed/);
      const other = new GradientAccumulator(fresh.opt, { everyK: 4 });
      expect(() => loadCheckpoint(bytes!, { ...parts, accumulator: other })).toThrow(/GradientAccumulator.loadStateDict: the state was saved with everyK 3 and reduction "mean", this accumulator has everyK 4/);
      loadCheckpoint(bytes!, { ...parts, accumulator: fresh.acc });
      expect(fresh.acc.miniStep).toBe(1);
      for (let s = 7; s < 14; s++) train(fresh, s);
      expect(everything(fresh.opt, fresh.params)).toBe(everything(ref.opt, ref.params));
      expect(fresh.sched.stateDict()).toEqual(ref.sched.stateDict());
      ref.params.forEach((p, i) => expectSameBits(fresh.ema.average(fresh.params[i]), ref.ema.average(p), `average of ${p.name}`));
    });
  }
});

describe('GradientAccumulator: bad input', () => {
  it('options are checked at construction', async () => {
    const { opt } = await world('js');
    const other = (await world('js')).opt;
    const make = (options: unknown) => () => new GradientAccumulator(opt, options as never);
    expect(make({})).toThrow(/GradientAccumulator: option everyK is required/);
    expect(make({ everyK: 0 })).toThrow(/invalid everyK: 0 \(must be a whole number >= 1\)/);
    expect(make({ everyK: 2.5 })).toThrow(/invalid everyK: 2.5/);
    expect(make({ everyK: '4' })).toThrow(/everyK must be a whole number, got "4" \(string\)/);
    expect(make({ everyK: 2, reduction: 'avg' })).toThrow(/invalid reduction: "avg" \(must be "mean" or "sum"\)/);
    expect(make({ everyK: 2, useGradMean: true })).toThrow(/unknown option "useGradMean" \(valid: everyK, reduction, clipGradNorm/);
    expect(make({ everyK: 2, clipGradNorm: -1 })).toThrow(/invalid clipGradNorm: -1/);
    expect(make({ everyK: 2, scheduler: new StepLR(other as never, { stepSize: 1 }) })).toThrow(/the scheduler belongs to another optimizer/);
    expect(make(null)).toThrow(/options must be an object with everyK/);
    expect(() => new GradientAccumulator({} as never, { everyK: 2 })).toThrow(/optimizer must be a simdopt optimizer/);
  });

  it('an optimizer that gained parameters since is refused', async () => {
    const { store, opt } = await world('js');
    const acc = new GradientAccumulator(opt, { everyK: 2 });
    opt.addParamGroup({ params: [store.parameter('late', 3)] });
    expect(() => acc.step()).toThrow(/GradientAccumulator.step: the optimizer has 4 parameters, 3 when this accumulator was built/);
  });

  const refusals: [string, (sd: GradientAccumulatorStateDict) => unknown, RegExp][] = [
    ['another format', (sd) => ({ ...sd, format: 'simdopt-averaged-model' }), /not a gradient accumulator's state dict/],
    ['another window', (sd) => ({ ...sd, everyK: 2 }), /saved with everyK 2 and reduction "mean", this accumulator has everyK 3/],
    ['another reduction', (sd) => ({ ...sd, reduction: 'sum' }), /reduction "sum"/],
    ['miniStep past the window', (sd) => ({ ...sd, miniStep: 3 }), /invalid miniStep 3 \(must be a whole number from 0 to 2\)/],
    ['sums at miniStep 0', (sd) => ({ ...sd, miniStep: 0 }), /accumulated sums are given at miniStep 0/],
    ['no sums mid-window', (sd) => ({ ...sd, accumulated: undefined }), /accumulated must be an array of 3 buffers, one per parameter, got undefined/],
    ['a short sum', (sd) => ({ ...sd, accumulated: [sd.accumulated![0], sd.accumulated![1].subarray(2), sd.accumulated![2]] }), /accumulated\[1\] \("p1"\) has length 28, expected 30/],
    ['a sum of the wrong type', (sd) => ({ ...sd, accumulated: [new Float64Array(13), sd.accumulated![1], sd.accumulated![2]] }), /accumulated\[0\] \("p0"\) is a Float64Array/],
    ['other parameters', (sd) => ({ ...sd, paramSizes: [13, 30, 6] }), /parameter 2 is "p2" of size 6/],
  ];
  for (const [label, mutate, message] of refusals) {
    it(`a state dict refused, nothing changed: ${label}`, async () => {
      const { params, opt } = await world('js');
      const acc = new GradientAccumulator(opt, { everyK: 3 });
      feed(params, 0);
      acc.step();
      const sd = acc.stateDict();
      acc.step();
      const before = JSON.stringify(acc.stateDict(), (_, v) => (v instanceof Float32Array ? Array.from(v) : v));
      expect(() => acc.loadStateDict(mutate(structuredClone(sd)) as GradientAccumulatorStateDict)).toThrow(new RegExp(`GradientAccumulator.loadStateDict: .*${message.source}.*; nothing was changed`));
      expect(JSON.stringify(acc.stateDict(), (_, v) => (v instanceof Float32Array ? Array.from(v) : v))).toBe(before);
    });
  }
});
