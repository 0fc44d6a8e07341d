// AveragedModel: the EMA and SWA averages against transcriptions of PyTorch's formulas
// (torch/optim/swa_utils.py: get_ema_multi_avg_fn's lerp, with aten's two lerp branches, and
// get_swa_avg_fn's running mean), bit for bit in float32 on both backends (special values
// included) and within float32 rounding of float64; swapping in and out is exact; state dicts and
// checkpoints resume exactly; SWA with SWALR does what it is for; bad input is refused.
import { describe, expect, it } from 'vitest';
import {
  Adam, AveragedModel, ParameterStore, SGD, SWALR, loadCheckpoint, saveCheckpoint, type AveragedModelStateDict,
  type BackendName, type Parameter,
} from '../src/index.js';
import { BACKENDS, expectSameBits, fillMixed, prng } from './helpers.js';

const f = Math.fround;
const SIZES = [7, 33, 1, 12];

async function world(backend: BackendName, specials = 0) {
  const store = await ParameterStore.create({ backend });
  const rand = prng(5);
  const params = SIZES.map((n, i) => store.parameter(`p${i}`, fillMixed(new Float32Array(n), rand, 1, specials)));
  return { store, params };
}

/** Moves every parameter somewhere new (a random walk, with special values at `specials`). */
function move(params: Parameter[], s: number, specials = 0): void {
  const rand = prng(100 + s);
  for (const p of params) {
    const step = fillMixed(new Float32Array(p.size), rand, 0.3, specials);
    p.data.set(p.data.map((x, i) => (specials > 0 && i % 5 === s % 5 ? step[i] : f(x + step[i]))));
  }
}

/** PyTorch's update of one float32 element, each operation rounded to float32. */
function torchUpdate(mode: 'ema' | 'swa', decay: number, n: number, avg: number, p: number): number {
  if (n === 0) return p;
  if (mode === 'swa') return f(avg + f(f(p - avg) / f(n + 1))); // get_swa_avg_fn
  const w = f(1 - decay); // torch._foreach_lerp_(avg, p, 1 - decay): at::native::lerp in float32 opmath
  return Math.abs(w) < 0.5 ? f(avg + f(w * f(p - avg))) : f(p - f(f(p - avg) * f(1 - w)));
}

const MODES: { label: string; options: { mode: 'ema'; decay: number } | { mode: 'swa' } }[] = [
  { label: 'EMA, decay 0.999 (lerp from the start)', options: { mode: 'ema', decay: 0.999 } },
  { label: 'EMA, decay 0.3 (lerp from the end)', options: { mode: 'ema', decay: 0.3 } },
  { label: 'EMA, decay 0.5 (weight 0.5: from the end)', options: { mode: 'ema', decay: 0.5 } },
  { label: 'SWA', options: { mode: 'swa' } },
];

describe('AveragedModel: the averages are PyTorch\'s', () => {
  for (const { label, options } of MODES) {
    const decay = options.mode === 'ema' ? options.decay : 0;
    for (const backend of BACKENDS) {
      it(`${label}, ${backend}: bit for bit a float32 transcription (special values included), within float32 rounding of float64`, async () => {
        const exact = await world(backend, 0.05), plain = await world(backend);
        const models = [new AveragedModel(exact.store, options), new AveragedModel(plain.params, options)];
        const expected = [exact, plain].map((w) => w.params.map((p) => p.data.slice()));
        const f64 = plain.params.map((p) => Float64Array.from(p.data));
        const history = plain.params.map(() => [] as Float32Array[]);
        for (let s = 0; s < 30; s++) {
          move(exact.params, s, 0.05);
          move(plain.params, s);
          [exact, plain].forEach((w, k) => {
            models[k].updateParameters();
            w.params.forEach((p, i) => expected[k][i].forEach((a, j) => { expected[k][i][j] = torchUpdate(options.mode, decay, s, a, p.data[j]); }));
          });
          plain.params.forEach((p, i) => {
            history[i].push(p.data.slice());
            f64[i].forEach((a, j) => {
              const x = p.data[j];
              f64[i][j] = s === 0 ? x : options.mode === 'swa' ? a + (x - a) / (s + 1) : a + (1 - decay) * (x - a);
            });
          });
        }
        expect(models.map((m) => m.nAveraged)).toEqual([30, 30]);
        [exact, plain].forEach((w, k) => w.params.forEach((p, i) => expectSameBits(models[k].average(p), expected[k][i], `${label}: ${p.name}`)));
        plain.params.forEach((p, i) => {
          const ours = models[1].average(p);
          ours.forEach((x, j) => {
            expect(Math.abs(x - f64[i][j]), `${p.name}[${j}]`).toBeLessThanOrEqual(2e-6 * Math.abs(f64[i][j]) + 1e-6);
            // SWA: the arithmetic mean of the 30 values.
            if (options.mode === 'swa') expect(Math.abs(x - history[i].reduce((m, h) => m + h[j], 0) / 30)).toBeLessThan(1e-5);
          });
        });
      });
    }
  }

  it('the average starts as a copy of the parameters; the first update copies them, each later one averages; decay 0 follows, decay 1 holds', async () => {
    const store = await ParameterStore.create({ backend: 'js' });
    const p = store.parameter('p', [1, 2]);
    const ema = new AveragedModel([p], { mode: 'ema', decay: 0.5 });
    const follow = new AveragedModel([p], { mode: 'ema', decay: 0 });
    const hold = new AveragedModel([p], { mode: 'ema', decay: 1 });
    p.data.set([3, 4]);
    expect(Array.from(ema.average(p))).toEqual([1, 2]);
    for (const m of [ema, follow, hold]) m.updateParameters();
    expect(Array.from(ema.average(p))).toEqual([3, 4]);
    p.data.set([5, 8]);
    for (const m of [ema, follow, hold]) m.updateParameters();
    expect(Array.from(ema.average(p))).toEqual([4, 6]);
    expect(Array.from(follow.average(p))).toEqual([5, 8]);
    expect(Array.from(hold.average(p))).toEqual([3, 4]);
    const swa = new AveragedModel([p]);
    expect([swa.mode, swa.decay, ema.decay]).toEqual(['swa', undefined, 0.5]);
    for (const v of [[1, 1], [2, 4], [6, 7]]) { p.data.set(v); swa.updateParameters(); }
    expect(Array.from(swa.average(p))).toEqual([3, 4]);
  });
});

describe('AveragedModel: swapping the average in and out', () => {
  for (const backend of BACKENDS) {
    it(`${backend}: swapIn puts the average in place, swapOut puts every bit back (NaN payloads too)`, async () => {
      const { store, params } = await world(backend, 0.1);
      const bits = new Uint32Array(params[1].data.buffer, params[1].data.byteOffset, params[1].size);
      bits[0] = 0x7fc00123; // a quiet NaN with a payload
      bits[1] = 0xffa00001; // a signalling NaN
      const ema = new AveragedModel(store, { mode: 'ema', decay: 0.9 });
      ema.updateParameters();
      move(params, 1);
      ema.updateParameters();
      const own = params.map((p) => new Uint32Array(p.data.slice().buffer));
      const averages = params.map((p) => ema.average(p).slice());
      ema.swapIn();
      expect(ema.swappedIn).toBe(true);
      params.forEach((p, i) => expectSameBits(p.data, averages[i], p.name));
      ema.swapOut();
      params.forEach((p, i) => expect(new Uint32Array(p.data.slice().buffer), p.name).toEqual(own[i]));
      params.forEach((p, i) => expectSameBits(ema.average(p), averages[i], p.name));
      expect(ema.withAveraged(() => params[0].data.slice())).toEqual(averages[0]);
      expect(ema.swappedIn).toBe(false);
    });
  }

  it('withAveraged swaps back after a throw and after an async function settles; copyToParameters overwrites for good', async () => {
    const store = await ParameterStore.create({ backend: 'wasm' });
    const p = store.parameter('p', [1]);
    const swa = new AveragedModel(store);
    swa.updateParameters();
    p.data[0] = 3;
    swa.updateParameters();
    expect(() => swa.withAveraged(() => { throw new Error('boom'); })).toThrow('boom');
    expect([swa.swappedIn, p.data[0]]).toEqual([false, 3]);
    const pending = swa.withAveraged(async () => { await Promise.resolve(); return p.data[0]; });
    expect(swa.swappedIn).toBe(true);
    expect(await pending).toBe(2);
    expect([swa.swappedIn, p.data[0]]).toEqual([false, 3]);
    await expect(swa.withAveraged(async () => { throw new Error('later'); })).rejects.toThrow('later');
    expect(swa.swappedIn).toBe(false);
    swa.copyToParameters();
    expect([p.data[0], swa.average(p)[0]]).toEqual([2, 2]);
  });

  it('while swapped in, updates, a second swapIn, views, copies and state are refused', async () => {
    const store = await ParameterStore.create({ backend: 'js' });
    const p = store.parameter('p', [1]);
    const ema = new AveragedModel([p], { mode: 'ema' });
    expect(() => ema.swapOut()).toThrow('AveragedModel.swapOut: the average is not swapped in');
    ema.swapIn();
    for (const call of [() => ema.updateParameters(), () => ema.swapIn(), () => ema.average(p), () => ema.copyToParameters(), () => ema.stateDict()]) {
      expect(call).toThrow(/the average is swapped in \(the parameters hold it\); call swapOut\(\) first/);
    }
    expect(() => saveCheckpoint({ store, averaged: ema })).toThrow(/swapped in/);
    ema.swapOut();
    expect(() => ema.withAveraged(42 as never)).toThrow(/fn must be a function, got 42/);
  });
});

describe('AveragedModel: state dicts and checkpoints', () => {
  it('a state dict survives structuredClone and restores averages and nAveraged', async () => {
    const a = await world('wasm'), b = await world('js');
    const ema = new AveragedModel(a.store, { mode: 'ema', decay: 0.99 });
    for (let s = 0; s < 3; s++) { move(a.params, s); ema.updateParameters(); }
    const sd = structuredClone(ema.stateDict());
    expect(sd).toMatchObject({ format: 'simdopt-averaged-model', version: 1, mode: 'ema', decay: 0.99, nAveraged: 3, paramNames: ['p0', 'p1', 'p2', 'p3'] });
    const other = new AveragedModel(b.store, { mode: 'ema', decay: 0.99 });
    other.loadStateDict(sd);
    expect(other.nAveraged).toBe(3);
    a.params.forEach((p, i) => expectSameBits(other.average(b.params[i]), ema.average(p), p.name));
    other.loadStateDict({ ...sd, averages: sd.averages.map((x) => Array.from(x)) as never });
  });

  const refusals: [string, (sd: AveragedModelStateDict) => unknown, RegExp][] = [
    ['not an object', () => 'x', /expected a state dict object, got "x"/],
    ['another format', (sd) => ({ ...sd, format: 'simdopt-optimizer' }), /not an averaged model's state dict \(format "simdopt-optimizer"\)/],
    ['a future version', (sd) => ({ ...sd, version: 2 }), /unsupported state dict version 2/],
    ['another mode', (sd) => ({ ...sd, mode: 'swa', decay: undefined }), /saved with mode "swa", this model averages with mode "ema" with decay 0.99/],
    ['another decay', (sd) => ({ ...sd, decay: 0.9 }), /saved with mode "ema" with decay 0.9, this model averages with mode "ema" with decay 0.99/],
    ['a bad nAveraged', (sd) => ({ ...sd, nAveraged: -1 }), /invalid nAveraged -1/],
    ['other parameters', (sd) => ({ ...sd, paramNames: ['p0', 'q', 'p2', 'p3'] }), /parameter 1 is "q" of size 33/],
    ['another shape', (sd) => ({ ...sd, paramShapes: [[7], [3, 11], [1], [12]] }), /parameter 1 is "p1" of size 33 and shape \[3, 11\]/],
    ['a short average', (sd) => ({ ...sd, averages: [sd.averages[0], sd.averages[1].subarray(1), sd.averages[2], sd.averages[3]] }), /averages\[1\] \("p1"\) has length 32, expected 33/],
    ['a missing average', (sd) => ({ ...sd, averages: sd.averages.slice(1) }), /averages must be an array of 4 buffers, one per parameter, got 3/],
    ['an unknown key', (sd) => ({ ...sd, extra: 1 }), /unknown key "extra"/],
  ];
  for (const [label, mutate, message] of refusals) {
    it(`refused, nothing changed: ${label}`, async () => {
      const { store, params } = await world('js');
      const ema = new AveragedModel(store, { mode: 'ema', decay: 0.99 });
      ema.updateParameters();
      const sd = ema.stateDict();
      move(params, 1);
      ema.updateParameters();
      const before = [ema.nAveraged, ...params.map((p) => Array.from(ema.average(p)))];
      expect(() => ema.loadStateDict(mutate(structuredClone(sd)) as AveragedModelStateDict)).toThrow(new RegExp(`AveragedModel.loadStateDict: .*${message.source}.*; nothing was changed`));
      expect([ema.nAveraged, ...params.map((p) => Array.from(ema.average(p)))]).toEqual(before);
    });
  }

  for (const [from, to] of [['wasm', 'js'], ['js', 'wasm']] as const) {
    it(`a checkpoint with the averaged model resumes exactly, ${from} -> ${to}`, async () => {
      const make = async (backend: BackendName) => {
        const w = await world(backend);
        const opt = new Adam(w.params, { lr: 0.01 });
        return { ...w, opt, ema: new AveragedModel(w.params.slice(1), { mode: 'ema', decay: 0.9 }) };
      };
      const train = (w: Awaited<ReturnType<typeof make>>, s: number) => {
        const rand = prng(7 + s);
        for (const p of w.params) p.grad.set(fillMixed(new Float32Array(p.size), rand, 1, 0));
        w.opt.step();
        w.ema.updateParameters();
      };
      const ref = await make(from), run = await make(from);
      let bytes: Uint8Array | undefined;
      for (let s = 0; s < 8; s++) {
        train(ref, s);
        if (s < 4) train(run, s);
        if (s === 3) bytes = saveCheckpoint({ store: run.store, optimizer: run.opt, averaged: run.ema });
      }
      const fresh = await make(to);
      expect(() => loadCheckpoint(bytes!, { store: fresh.store, optimizer: fresh.opt })).toThrow(/holds an averaged model: pass it as averaged; nothing was changed/);
      expect(() => loadCheckpoint(saveCheckpoint({ store: run.store }), { store: fresh.store, averaged: fresh.ema })).toThrow(/holds no averaged model/);
      const swa = new AveragedModel(fresh.params.slice(1));
      expect(() => loadCheckpoint(bytes!, { store: fresh.store, optimizer: fresh.opt, averaged: swa })).toThrow(/loadCheckpoint: AveragedModel.loadStateDict: the state was saved with mode "ema"/);
      loadCheckpoint(bytes!, { store: fresh.store, optimizer: fresh.opt, averaged: fresh.ema });
      for (let s = 4; s < 8; s++) train(fresh, s);
      expect(fresh.ema.nAveraged).toBe(8);
      ref.params.forEach((p, i) => {
        expectSameBits(fresh.params[i].data, p.data, p.name);
        if (i > 0) expectSameBits(fresh.ema.average(fresh.params[i]), ref.ema.average(p), `average of ${p.name}`);
      });
    });
  }
});

describe('AveragedModel: use and misuse', () => {
  it('SWA with SWALR (PyTorch\'s recipe) averages the noise out of SGD\'s late iterates', async () => {
    const store = await ParameterStore.create({ backend: 'wasm' });
    const w = store.parameter('w', new Float32Array(64).fill(3));
    const opt = new SGD([w], { lr: 0.2 });
    const swa = new AveragedModel([w]);
    const swaSched = new SWALR(opt, { swaLr: 0.1, annealEpochs: 5 });
    const rand = prng(11);
    const norm = (x: Float32Array) => Math.hypot(...x);
    for (let epoch = 0; epoch < 200; epoch++) {
      // f(w) = |w|²/2 with noisy gradients: SGD ends up wandering around the optimum 0.
      w.grad.set(w.data.map((x) => x + 2 * (rand() - 0.5) * 2));
      opt.step();
      if (epoch >= 100) {
        swa.updateParameters();
        swaSched.step();
      }
    }
    expect(opt.paramGroups[0].lr).toBeCloseTo(0.1, 12);
    expect(swa.nAveraged).toBe(100);
    expect(norm(swa.average(w))).toBeLessThan(norm(w.data) / 2); // 0.85 against 2.2
  });

  it('bad arguments are refused with what is wrong', async () => {
    const store = await ParameterStore.create({ backend: 'js' });
    const other = await ParameterStore.create({ backend: 'js' });
    const p = store.parameter('p', 2), q = other.parameter('q', 2);
    const make = (params: unknown, options?: unknown) => () => new AveragedModel(params as never, options as never);
    expect(make([p], { mode: 'ema', decay: 1.5 })).toThrow(/AveragedModel: invalid decay: 1.5 \(must be in \[0, 1\]\)/);
    expect(make([p], { mode: 'ema', decay: NaN })).toThrow(/invalid decay: NaN/);
    expect(make([p], { mode: 'swa', decay: 0.9 })).toThrow(/decay 0.9 is an option of mode 'ema'/);
    expect(make([p], { mode: 'mean' })).toThrow(/invalid mode: "mean" \(must be "swa" or "ema"\)/);
    expect(make([p], { decay: 0.9, useBuffers: true })).toThrow(/unknown option "useBuffers" \(valid: mode, decay\)/);
    expect(make([p], 'ema')).toThrow(/options must be an object/);
    expect(make([])).toThrow(/there are no parameters to average/);
    expect(make([p, q])).toThrow(/parameter "q" belongs to another ParameterStore/);
    expect(make([p, p])).toThrow(/parameter "p" is listed twice/);
    expect(make([p.data])).toThrow(/params\[0\] is a Float32Array, not a Parameter/);
    expect(make(p)).toThrow(/params must be a ParameterStore or an array of Parameters, got Parameter\("p", 2\)/);
    const swa = new AveragedModel(store);
    expect(() => swa.average(q)).toThrow(/Parameter\("q", 2\) is not averaged by this model/);
    store.dispose();
    expect(() => swa.updateParameters()).toThrow(/AveragedModel.updateParameters: its ParameterStore was disposed/);
  });
});
