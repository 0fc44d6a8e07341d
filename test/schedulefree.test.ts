// Schedule-Free AdamW and SGD have no PyTorch class: check them against a float64 transcription
// of the authors' implementation (github.com/facebookresearch/schedule_free,
// schedulefree/adamw_schedulefree.py and sgd_schedulefree.py, the per-tensor path of step,
// train and eval) over 25 steps on two tensors with a switch to eval mode and back on the way,
// on both backends, within the reference README's tolerance (|ours - ref| <= 2e-4 |ref| + 1e-5);
// then a first step by hand, the train/eval switch, resuming from state dicts and checkpoints in
// either mode, and what they refuse.
import { describe, expect, it } from 'vitest';
import {
  ParameterStore, ScheduleFreeAdamW, ScheduleFreeSGD, createOptimizer, inEvalMode, loadCheckpoint, optimizerEntry, saveCheckpoint,
  type BackendName, type Parameter, type ScheduleFreeAdamWOptions, type ScheduleFreeSGDOptions,
} from '../src/index.js';
import { BACKENDS, expectSameBits, prng } from './helpers.js';

const REL_TOL = 2e-4, ABS_TOL = 1e-5;

/** torch.lerp in float64: start + w (end - start) for |w| < 0.5, end - (end - start)(1 - w) otherwise. */
const lerp = (start: number, end: number, w: number) => (Math.abs(w) < 0.5 ? start + w * (end - start) : end - (end - start) * (1 - w));

interface RefOptions {
  adam: boolean; lr: number; beta1: number; beta2: number; eps: number; weightDecay: number; warmupSteps: number; r: number;
  weightLrPower: number; innerMomentum: number;
}

/**
 * The reference's optimizer in float64, per tensor (its non-foreach branch): the group's k,
 * weight_sum, lr_max and train_mode, and per tensor y (the parameters), z, exp_avg_sq, exp_avg.
 */
class Reference {
  k = 0; weightSum = 0; lrMax = -1; trainMode = false;
  z: Float64Array[] | undefined;
  readonly v: Float64Array[];
  readonly m: Float64Array[];

  constructor(readonly o: RefOptions, readonly y: Float64Array[]) {
    this.v = y.map((t) => new Float64Array(t.length));
    this.m = y.map((t) => new Float64Array(t.length));
  }

  /** eval(): p.lerp_(z, 1 - 1/beta1) when in train mode. */
  eval(): void {
    if (this.trainMode && this.z) this.y.forEach((t, k) => t.forEach((x, i) => { t[i] = lerp(x, this.z![k][i], 1 - 1 / this.o.beta1); }));
    this.trainMode = false;
  }

  /** train(): p.lerp_(z, 1 - beta1) when in eval mode. */
  train(): void {
    if (!this.trainMode && this.z) this.y.forEach((t, k) => t.forEach((x, i) => { t[i] = lerp(x, this.z![k][i], 1 - this.o.beta1); }));
    this.trainMode = true;
  }

  step(grads: Float32Array[]): void {
    const o = this.o, k = this.k;
    if (!this.trainMode) throw new Error('not in train mode');
    const sched = k < o.warmupSteps ? (k + 1) / o.warmupSteps : 1.0;
    const biasCorrection2 = 1 - o.beta2 ** (k + 1);
    const biasCorrection1 = 1 - o.innerMomentum ** (k + 1);
    const lr = o.lr * sched;
    const lrMax = this.lrMax = Math.max(lr, this.lrMax);
    const weight = ((k + 1) ** o.r) * (lrMax ** o.weightLrPower);
    const weightSum = this.weightSum = this.weightSum + weight;
    const ckp1 = weightSum === 0 ? 0 : weight / weightSum;
    this.z ??= this.y.map((t) => Float64Array.from(t)); // state['z'] = torch.clone(p)
    this.y.forEach((y, t) => {
      const z = this.z![t], v = this.v[t], m = this.m[t], g = grads[t];
      for (let i = 0; i < y.length; i++) {
        let gn = g[i];
        if (o.adam) {
          v[i] = v[i] * o.beta2 + (1 - o.beta2) * g[i] * g[i];
          const denom = Math.sqrt(v[i] / biasCorrection2) + o.eps;
          if (o.innerMomentum !== 0) {
            m[i] = m[i] * o.innerMomentum + (1 - o.innerMomentum) * g[i];
            gn = m[i] / biasCorrection1 / denom;
          } else {
            gn = g[i] / denom;
          }
        }
        if (o.weightDecay !== 0) gn += o.weightDecay * y[i]; // weight decay calculated at y
        y[i] = lerp(y[i], z[i], ckp1);
        y[i] += lr * (o.beta1 * (1 - ckp1) - 1) * gn;
        z[i] -= lr * gn;
      }
    });
    this.k = k + 1;
  }
}

const ADAMW: RefOptions = { adam: true, lr: 0.0025, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0, warmupSteps: 0, r: 0, weightLrPower: 2, innerMomentum: 0 };
const SGD_REF: RefOptions = { ...ADAMW, adam: false, lr: 1.0, beta2: 0, eps: 0 };

type Config = { name: string; make: (p: Parameter[]) => ScheduleFreeAdamW | ScheduleFreeSGD; ref: RefOptions };
const adamw = (o: Partial<ScheduleFreeAdamWOptions>): Config => ({
  name: `ScheduleFreeAdamW ${JSON.stringify(o)}`, make: (p) => new ScheduleFreeAdamW(p, o),
  ref: { ...ADAMW, ...o, beta1: o.betas?.[0] ?? 0.9, beta2: o.betas?.[1] ?? 0.999 },
});
const sgd = (o: Partial<ScheduleFreeSGDOptions>): Config => ({
  name: `ScheduleFreeSGD ${JSON.stringify(o)}`, make: (p) => new ScheduleFreeSGD(p, o), ref: { ...SGD_REF, ...o, beta1: o.momentum ?? 0.9 },
});

const CONFIGS: Config[] = [
  adamw({}),
  adamw({ lr: 0.01, warmupSteps: 5, weightDecay: 0.05 }),
  adamw({ lr: 0.005, innerMomentum: 0.9, r: 1, weightLrPower: 1 }),
  adamw({ lr: 0.02, betas: [0.5, 0.99], eps: 1e-3 }),
  adamw({ lr: 0.01, innerMomentum: 0.5, weightDecay: 0.01, warmupSteps: 30, r: 0.5 }),
  sgd({}),
  sgd({ lr: 0.1, momentum: 0.5, warmupSteps: 3, weightDecay: 0.01 }),
  sgd({ lr: 0.05, r: 0.5, weightLrPower: 0 }),
  sgd({ lr: 0.3, momentum: 0.98, warmupSteps: 10, weightLrPower: 3 }),
];

for (const backend of BACKENDS) {
  describe(`schedule-free against a float64 transcription of the reference (${backend})`, () => {
    CONFIGS.forEach((config, ci) => {
      it(config.name, async () => {
        const rand = prng(700 + ci);
        const sizes = [13, 30];
        const store = await ParameterStore.create({ backend });
        const init = sizes.map((n) => Float32Array.from({ length: n }, () => rand() * 2 - 1));
        const params = init.map((v, k) => store.parameter(`p${k}`, v));
        const ref = new Reference(config.ref, init.map((v) => Float64Array.from(v)));
        const opt = config.make(params);
        opt.train();
        ref.train();
        let worst = 0;
        const compare = (label: string) => {
          params.forEach((p, k) => {
            const check = (ours: Float32Array, theirs: Float64Array, what: string) => {
              for (let i = 0; i < theirs.length; i++) {
                const err = Math.abs(ours[i] - theirs[i]), bound = REL_TOL * Math.abs(theirs[i]) + ABS_TOL;
                worst = Math.max(worst, err / bound);
                if (!(err <= bound)) expect.fail(`${label}, tensor ${k}, ${what}[${i}]: ours ${ours[i]}, float64 ${theirs[i]}`);
              }
            };
            check(p.data, ref.y[k], 'p');
            const st = opt.state(p);
            check(st.z, ref.z![k], 'z');
            if (config.ref.adam) check(st.expAvgSq!, ref.v[k], 'expAvgSq');
            if (config.ref.innerMomentum !== 0) check(st.expAvg!, ref.m[k], 'expAvg');
          });
        };
        for (let s = 0; s < 25; s++) {
          // exact zeros every 7th element, as the PyTorch reference data has
          const grads = sizes.map((n) => Float32Array.from({ length: n }, (_, i) => (i % 7 === 0 ? 0 : (rand() * 2 - 1) * (1 + s % 3))));
          params.forEach((p, k) => p.grad.set(grads[k]));
          opt.step();
          ref.step(grads);
          compare(`step ${s}`);
          if (s === 9 || s === 17) {
            opt.eval();
            ref.eval();
            compare(`step ${s}, eval mode`);
            opt.train();
            ref.train();
            compare(`step ${s}, back in train mode`);
          }
        }
        opt.eval();
        ref.eval();
        compare('the end, eval mode');
        const st = opt.state(params[0]);
        expect(st.step).toBe(ref.k);
        expect(st.lrMax).toBe(ref.lrMax);
        expect(Math.abs(st.weightSum! - ref.weightSum)).toBeLessThanOrEqual(1e-12 * ref.weightSum);
        expect(st.trainMode).toBe(0);
        expect(worst).toBeLessThan(0.5);
      });
    });
  });
}

describe('schedule-free by hand', () => {
  it('SGD, first step: c = weight / weight_sum = 1, so y = z = p - lr g; second: c = 1/2', async () => {
    const store = await ParameterStore.create({ backend: 'wasm' });
    const p = store.parameter('p', [1, -2]);
    const opt = new ScheduleFreeSGD([p], { lr: 0.5, momentum: 0.8 });
    opt.train();
    const f = Math.fround;
    p.grad.set([0.25, 1]);
    opt.step();
    // y.lerp_(z, 1) = z (weight 1 >= 0.5: z - (z - y) * 0); y += 0.5 (0.8 (1 - 1) - 1) g; z -= 0.5 g
    expect(Array.from(p.data)).toEqual([f(1 - f(0.5 * 0.25)), f(-2 - 0.5)]);
    expect(Array.from(opt.state(p).z)).toEqual(Array.from(p.data));
    expect(opt.state(p)).toMatchObject({ step: 1, weightSum: 0.25, lrMax: 0.5, trainMode: 1 });
    // Second: weight_sum = 0.5, c = 1/2: y = (y + z)/2 + 0.5 (0.8/2 - 1) g = y - 0.3 g; z = z - 0.5 g
    const y = p.data.slice(), z = opt.state(p).z.slice();
    p.grad.set([1, 0]);
    opt.step();
    expect(p.data[0]).toBe(f(f(y[0] + f(0.5 * f(z[0] - y[0]))) + f(f(0.5 * (0.8 * 0.5 - 1)) * 1)));
    expect(opt.state(p).z[0]).toBe(f(z[0] - 0.5));
    expect(p.data[1]).toBe(y[1]);
    // eval: x = lerp(y, z, 1 - 1/0.8) = y - 0.25 (z - y)
    const y2 = p.data.slice(), z2 = opt.state(p).z.slice();
    opt.eval();
    expect(p.data[0]).toBe(f(y2[0] + f(f(1 - 1 / 0.8) * f(z2[0] - y2[0]))));
  });

  it('warmup scales lr by (k+1)/warmupSteps, and lr_max^2 weighs the average: the warmup steps weigh less', async () => {
    const store = await ParameterStore.create({ backend: 'js' });
    const p = store.parameter('p', [0]);
    const opt = new ScheduleFreeSGD([p], { lr: 1, warmupSteps: 4 });
    opt.train();
    const sums: number[] = [];
    for (let s = 0; s < 6; s++) { p.grad.set([1]); opt.step(); sums.push(opt.state(p).weightSum!); }
    // weights (1/4)^2, (2/4)^2, (3/4)^2, 1, 1, 1
    expect(sums).toEqual([0.0625, 0.3125, 0.875, 1.875, 2.875, 3.875]);
    expect(opt.state(p).lrMax).toBe(1);
  });
});

describe('train and eval modes', () => {
  it('a new optimizer is in eval mode, and step() there throws, changing nothing (as the reference)', async () => {
    const store = await ParameterStore.create({ backend: 'wasm' });
    const p = store.parameter('p', [1, 2, 3]);
    for (const opt of [new ScheduleFreeAdamW([p]), new ScheduleFreeSGD([p])]) {
      expect(opt.trainMode).toBe(false);
      p.grad.set([1, 1, 1]);
      const heap = store.dump();
      expect(() => opt.step()).toThrow(`${opt.spec.name}: the optimizer was not in train mode when step() was called: call opt.train() before training steps and opt.eval() before evaluating or saving the model`);
      expectSameBits(store.dump(), heap, 'nothing changed');
      // Before the first step there is no z: the switches only set the mode.
      opt.train();
      opt.eval();
      opt.train();
      expectSameBits(store.dump(), heap, 'no z, nothing moved');
      expect(opt.trainMode).toBe(true);
    }
  });

  it('switching twice the same way changes nothing; eval then train comes back to y within rounding; a group added later takes the mode', async () => {
    const store = await ParameterStore.create({ backend: 'wasm' });
    const p = store.parameter('p', Float32Array.from({ length: 9 }, (_, i) => i - 4));
    const opt = new ScheduleFreeAdamW([p], { lr: 0.1, betas: [0.5, 0.99] }); // 1 - 1/0.5 = -1: the lerp from the end
    opt.train();
    for (let s = 0; s < 3; s++) { p.grad.set(p.data); opt.step(); }
    const y = p.data.slice();
    opt.train();
    expectSameBits(p.data, y, 'train() in train mode');
    opt.eval();
    const x = p.data.slice();
    opt.eval();
    expectSameBits(p.data, x, 'eval() in eval mode');
    expect(Array.from(x)).not.toEqual(Array.from(y));
    opt.train();
    p.data.forEach((v, i) => expect(Math.abs(v - y[i])).toBeLessThanOrEqual(1e-6 * Math.abs(y[i]) + 1e-7));
    opt.eval();
    const q = store.parameter('q', [1]);
    opt.addParamGroup({ params: [q] });
    expect(opt.state(q).trainMode).toBe(0);
    expect(() => opt.step()).toThrow(/not in train mode/);
    opt.train();
    expect(opt.state(q).trainMode).toBe(1);
  });

  it('createOptimizer returns them in train mode; inEvalMode evaluates at x and comes back', async () => {
    const store = await ParameterStore.create({ backend: 'wasm' });
    const p = store.parameter('p', [1, 2]);
    const opt = createOptimizer(optimizerEntry('schedulefree-sgd'), [p], { lr: 0.1 }) as ScheduleFreeSGD;
    expect(opt.trainMode).toBe(true);
    for (let s = 0; s < 3; s++) { p.grad.set(p.data); opt.step(); }
    const y = p.data.slice();
    const seen = inEvalMode(opt, () => { expect(opt.trainMode).toBe(false); return p.data.slice(); });
    expect(Array.from(seen)).not.toEqual(Array.from(y));
    expect(opt.trainMode).toBe(true);
    p.data.forEach((v, i) => expect(Math.abs(v - y[i])).toBeLessThan(1e-6));
  });
});

describe('schedule-free: resuming is exact (k, weight_sum, lr_max and the mode in the state)', () => {
  async function world(backend: BackendName, adam: boolean, seed = 1) {
    const store = await ParameterStore.create({ backend });
    const rand = prng(seed);
    const params = [13, 30].map((n, i) => store.parameter(`p${i}`, Float32Array.from({ length: n }, () => rand() * 2 - 1)));
    const opt = adam ? new ScheduleFreeAdamW([{ params: [params[0]] }, { params: [params[1]], lr: 0.001 }], { warmupSteps: 3, innerMomentum: 0.9, weightDecay: 0.01 })
      : new ScheduleFreeSGD([{ params: [params[0]] }, { params: [params[1]], lr: 0.2 }], { warmupSteps: 3, r: 0.5, weightDecay: 0.01 });
    return { store, params, opt };
  }
  const feed = (params: Parameter[], s: number) => params.forEach((p, i) => { const r = prng(50 * s + i); p.grad.set(Float32Array.from({ length: p.size }, () => r() - 0.5)); });

  for (const adam of [true, false]) {
    for (const mode of ['train', 'eval'] as const) {
      it(`${adam ? 'AdamW' : 'SGD'}: a checkpoint saved in ${mode} mode at step 4 resumes on the other backend exactly`, async () => {
        const ref = await world('wasm', adam), run = await world('wasm', adam);
        ref.opt.train();
        run.opt.train();
        for (let s = 0; s < 8; s++) { feed(ref.params, s); ref.opt.step(); }
        for (let s = 0; s < 4; s++) { feed(run.params, s); run.opt.step(); }
        if (mode === 'eval') run.opt.eval(); // the parameters hold x, as the reference saves them
        const bytes = saveCheckpoint({ store: run.store, optimizer: run.opt });
        const sd = structuredClone(run.opt.stateDict());
        expect(sd.state[0]).toMatchObject({ step: 4, trainMode: mode === 'train' ? 1 : 0, lrMax: adam ? 0.0025 : 1 });
        expect(sd.state[1].weightSum).toBeGreaterThan(0);
        const fresh = await world('js', adam, 7);
        fresh.opt.train();
        loadCheckpoint(bytes, { store: fresh.store, optimizer: fresh.opt });
        expect(fresh.opt.trainMode).toBe(mode === 'train');
        // Both go on from the saved state alike (back to train mode first when saved in eval mode).
        for (const w of [run, fresh]) {
          if (mode === 'eval') w.opt.train();
          for (let s = 4; s < 8; s++) { feed(w.params, s); w.opt.step(); }
        }
        // Saved in train mode, the run is the one that never stopped.
        for (const other of mode === 'train' ? [run, ref] : [run]) {
          other.params.forEach((p, i) => {
            expectSameBits(fresh.params[i].data, p.data, `p${i}`);
            const a = other.opt.state(p), b = fresh.opt.state(fresh.params[i]);
            expect(Object.keys(b).sort()).toEqual(Object.keys(a).sort());
            for (const [k, v] of Object.entries(a)) {
              if (v instanceof Float32Array) expectSameBits(b[k] as Float32Array, v, `p${i}.${k}`);
              else expect(b[k], k).toBe(v);
            }
          });
        }
      });
    }
  }
});

describe('schedule-free refuses, with a message', () => {
  it('beta1 or momentum out of (0, 1), a fractional warmup, negative powers', async () => {
    const store = await ParameterStore.create({ backend: 'js' });
    const p = store.parameter('p', [1]);
    expect(() => new ScheduleFreeAdamW([p], { betas: [0, 0.999] })).toThrow('ScheduleFreeAdamW: invalid beta parameter at index 0: 0 (schedule-free needs beta1 > 0: eval() interpolates with weight 1 - 1/beta1)');
    expect(() => new ScheduleFreeAdamW([p], { betas: [0.9, 1] })).toThrow('ScheduleFreeAdamW: invalid beta parameter at index 1: 1 (must be in [0, 1))');
    expect(() => new ScheduleFreeSGD([p], { momentum: 0 })).toThrow('ScheduleFreeSGD: invalid momentum: 0 (must be in (0, 1))');
    expect(() => new ScheduleFreeSGD([p], { momentum: 1 })).toThrow('ScheduleFreeSGD: invalid momentum: 1 (must be in (0, 1))');
    expect(() => new ScheduleFreeSGD([p], { warmupSteps: 2.5 })).toThrow('ScheduleFreeSGD: invalid warmupSteps: 2.5 (must be a whole number >= 0)');
    expect(() => new ScheduleFreeAdamW([p], { innerMomentum: 1 })).toThrow('ScheduleFreeAdamW: invalid innerMomentum: 1 (must be in [0, 1))');
    expect(() => new ScheduleFreeAdamW([p], { weightLrPower: -1 })).toThrow('ScheduleFreeAdamW: invalid weightLrPower: -1 (must be >= 0)');
    expect(new ScheduleFreeAdamW([p]).defaults).toEqual({ lr: 0.0025, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0, warmupSteps: 0, r: 0, weightLrPower: 2, innerMomentum: 0 });
    expect(new ScheduleFreeSGD([p]).defaults).toEqual({ lr: 1, momentum: 0.9, weightDecay: 0, warmupSteps: 0, r: 0, weightLrPower: 2 });
  });

  it('a state dict whose scalars are not numbers (a non-finite one, which a run with NaN gradients can leave, loads as saved)', async () => {
    const store = await ParameterStore.create({ backend: 'js' });
    const p = store.parameter('p', [1]);
    const opt = new ScheduleFreeSGD([p]);
    const sd = opt.stateDict();
    (sd.state[0] as Record<string, unknown>).weightSum = '1';
    expect(() => opt.loadStateDict(sd)).toThrow('ScheduleFreeSGD.loadStateDict: state weightSum of parameter 0 ("p") is "1", not a number; nothing was changed');
    sd.state[0].weightSum = NaN;
    opt.loadStateDict(sd);
    expect(opt.stateDict().state[0].weightSum).toBeNaN();
  });

  it('float32 state only: no state options, and a state dict holding bfloat16 or int8 state is refused', async () => {
    const store = await ParameterStore.create({ backend: 'js' });
    const p = store.parameter('p', [4]);
    expect(() => new ScheduleFreeAdamW([p], { stateDtype: 'int8' } as never)).toThrow(/ScheduleFreeAdamW: unknown option "stateDtype"/);
    expect(() => new ScheduleFreeSGD([p], { stateDtype: 'bfloat16' } as never)).toThrow(/ScheduleFreeSGD: unknown option "stateDtype"/);
    const opt = new ScheduleFreeAdamW([p]);
    opt.train();
    p.grad.fill(0.5);
    opt.step();
    const good = opt.stateDict();
    const sd = structuredClone(good);
    sd.state[0].z = { dtype: 'bfloat16', data: new Uint16Array(4) };
    expect(() => opt.loadStateDict(sd)).toThrow(/ScheduleFreeAdamW.loadStateDict: state z of parameter 0 \("p"\) is .*not a Float32Array/);
    const sd2 = structuredClone(good);
    sd2.state[0].expAvgSq = { dtype: 'int8', data: new Uint8Array(4), scales: new Float32Array(1), blockSize: 256 };
    expect(() => opt.loadStateDict(sd2)).toThrow(/state expAvgSq of parameter 0 \("p"\) is .*not a Float32Array/);
    opt.loadStateDict(good);
  });
});
