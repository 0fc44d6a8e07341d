// HyperparameterScheduler: any numeric hyperparameter following a schedule (optax's
// inject_hyperparams): what it writes and when, that the optimizer's steps use it, the keys it
// takes and refuses, values the optimizer refuses, state save / resume, and composition with
// learning-rate schedulers (side by side, in a ChainedScheduler, through a checkpoint).
import { describe, expect, it } from 'vitest';
import {
  Adam, AdamW, ChainedScheduler, ExponentialLR, HyperparameterScheduler, LRScheduler, OPTIMIZERS, OneCycleLR, ParameterStore,
  SGD, SequentialLR, StepLR, WarmupCosineLR, cosineSchedule, createOptimizer, linearSchedule, loadCheckpoint, saveCheckpoint,
  type HyperparameterState,
} from '../src/index.js';

type Opt = ConstructorParameters<typeof StepLR>[0];
type Group = Record<string, unknown>;

/** A store with one 3×4 parameter and a deterministic gradient per step. */
async function setup(values = [0.5, -1, 2, 0.25, -0.75, 1.5, 0, 3, -2, 1, 0.1, -0.3]) {
  const store = await ParameterStore.create({ backend: 'js' });
  const w = store.parameter('w', { shape: [3, 4], values });
  const grad = (t: number) => w.grad.set(values.map((_, i) => Math.sin(1 + i + 3 * t)));
  return { store, w, grad };
}

const groups = (opt: { paramGroups: readonly object[] }) => opt.paramGroups as unknown as Group[];
const hyper = (opt: { paramGroups: readonly object[] }) => groups(opt).map(({ params: _, ...rest }) => rest);

describe('HyperparameterScheduler writes schedule(t) for the optimizer step t', () => {
  it('weightDecay of AdamW: the same parameters, bit for bit, as writing the group by hand before each step', async () => {
    const wd = cosineSchedule({ baseLr: 0.1, tMax: 20 });
    const a = await setup(), b = await setup();
    const optA = new AdamW([a.w], { lr: 0.01 }), optB = new AdamW([b.w], { lr: 0.01 });
    const sched = new HyperparameterScheduler(optA, { key: 'weightDecay', schedule: wd });
    expect(optA.paramGroups[0].weightDecay).toBe(wd(0));
    for (let t = 0; t < 25; t++) {
      expect(optA.paramGroups[0].weightDecay).toBe(wd(t));
      optB.paramGroups[0].weightDecay = wd(t);
      a.grad(t); b.grad(t);
      optA.step(); optB.step();
      sched.step();
    }
    expect([...a.w.data]).toEqual([...b.w.data]);
    expect(sched.lastEpoch).toBe(25);
    expect(sched.getLastValues()).toEqual([wd(25)]);
    expect(sched.valueAt(3, 0)).toBe(wd(3));
  });

  it("betas.0 of Adam: betas[0] follows, betas[1] stays, and the group's array is replaced, never mutated", async () => {
    const { w } = await setup();
    const opt = new Adam([w], { betas: [0.9, 0.99] });
    const before = opt.paramGroups[0].betas;
    const sched = new HyperparameterScheduler(opt, { key: 'betas.0', schedule: (t) => 0.8 + 0.01 * t });
    expect(opt.paramGroups[0].betas).toEqual([0.8, 0.99]);
    expect(before).toEqual([0.9, 0.99]);
    sched.step();
    sched.step();
    expect(opt.paramGroups[0].betas).toEqual([0.8 + 0.02, 0.99]);
    opt.step();
    const b1 = new HyperparameterScheduler(opt, { key: 'betas.1', schedule: () => 0.95 });
    expect(opt.paramGroups[0].betas).toEqual([0.8 + 0.02, 0.95]);
    expect(b1.key).toBe('betas.1');
  });

  it('momentum of SGD from 0: the momentum buffer appears at the first step that needs it', async () => {
    const { w, grad } = await setup();
    const opt = new SGD([w], { lr: 0.1 });
    const sched = new HyperparameterScheduler(opt, { key: 'momentum', schedule: (t) => (t < 2 ? 0 : 0.9) });
    for (let t = 0; t < 4; t++) { grad(t); opt.step(); sched.step(); }
    expect(opt.paramGroups[0].momentum).toBe(0.9);
    expect(opt.state(w).momentumBuffer).toBeInstanceOf(Float32Array);
  });

  it('one schedule per param group', async () => {
    const store = await ParameterStore.create({ backend: 'js' });
    const opt = new AdamW([{ params: [store.parameter('a', 2)] }, { params: [store.parameter('b', 2)], weightDecay: 0 }]);
    const sched = new HyperparameterScheduler(opt, { key: 'weightDecay', schedule: [(t) => 0.1 / (1 + t), () => 0] });
    sched.step();
    expect(groups(opt).map((g) => g.weightDecay)).toEqual([0.05, 0]);
    expect(() => new HyperparameterScheduler(opt, { key: 'weightDecay', schedule: [() => 0] }))
      .toThrow('HyperparameterScheduler: invalid schedule: [a function] (must be a single value or an array of 2, one per param group)');
  });

  it('every numeric hyperparameter of every optimizer of the registry can be scheduled (here: held at its value)', async () => {
    let keys = 0;
    for (const entry of OPTIMIZERS) {
      const { w, grad } = await setup();
      const opt = createOptimizer(entry, [w]);
      const g = groups(opt)[0];
      const numeric = Object.entries(g).flatMap(([k, v]) => (k === 'lr' || k === 'params' ? []
        // (a schedule's values are finite: Prodigy's default growthRate, Infinity, is no value to hold)
        : typeof v === 'number' ? (Number.isFinite(v) ? [k] : []) : Array.isArray(v) && v.every((x) => typeof x === 'number') ? v.map((_, i) => `${k}.${i}`) : []));
      expect(numeric.length, entry.key).toBeGreaterThan(0);
      for (const key of numeric) {
        const [name, i] = key.split('.');
        const value = i === undefined ? (g[name] as number) : (g[name] as number[])[Number(i)];
        const sched = new HyperparameterScheduler(opt, { key, schedule: () => value });
        grad(0);
        opt.step(entry.closure ? () => { grad(0); return 0; } : undefined); // L-BFGS: a closure writes the gradient
        sched.step();
        keys++;
      }
    }
    expect(keys).toBeGreaterThan(40);
  });
});

describe('keys and options it refuses, with the keys it takes', () => {
  const ADAM_KEYS = 'betas.0, betas.1, eps, weightDecay';
  const cases: [string, Record<string, unknown>, string][] = [
    ['an unknown key', { key: 'wd', schedule: () => 0 }, `HyperparameterScheduler: invalid key: "wd" (must be a numeric hyperparameter of Adam: ${ADAM_KEYS})`],
    ['lr', { key: 'lr', schedule: () => 0 }, `HyperparameterScheduler: invalid key: "lr" (must be a numeric hyperparameter of Adam other than lr, which learning-rate schedulers write (LambdaLR takes any function): ${ADAM_KEYS})`],
    ['initialLr', { key: 'initialLr', schedule: () => 0 }, `HyperparameterScheduler: invalid key: "initialLr" (must be a numeric hyperparameter of Adam (initialLr is recorded by learning-rate schedulers): ${ADAM_KEYS})`],
    ['a boolean', { key: 'amsgrad', schedule: () => 1 }, `HyperparameterScheduler: invalid key: "amsgrad" (must be a numeric hyperparameter of Adam; amsgrad holds false: ${ADAM_KEYS})`],
    ['an array without an index', { key: 'betas', schedule: () => 0.9 }, `HyperparameterScheduler: invalid key: "betas" (must be a numeric hyperparameter of Adam; betas is an array: name an element, 'betas.0' or 'betas.1': ${ADAM_KEYS})`],
    ['an index past the end', { key: 'betas.2', schedule: () => 0.9 }, `HyperparameterScheduler: invalid key: "betas.2" (must be a numeric hyperparameter of Adam; betas has 2 elements: ${ADAM_KEYS})`],
    ['an index into a number', { key: 'eps.0', schedule: () => 0.9 }, `HyperparameterScheduler: invalid key: "eps.0" (must be a numeric hyperparameter of Adam; eps holds 1e-8: ${ADAM_KEYS})`],
    ['a malformed key', { key: 'betas[0]', schedule: () => 0.9 }, `HyperparameterScheduler: invalid key: "betas[0]" (must be a numeric hyperparameter of Adam: ${ADAM_KEYS})`],
    ['a key that is no string', { key: 3, schedule: () => 0 }, "HyperparameterScheduler: key must be a string naming a hyperparameter ('weightDecay', 'betas.0'), got 3 (number)"],
    ['no key', { schedule: () => 0 }, 'HyperparameterScheduler: option key is required'],
    ['no schedule', { key: 'eps' }, 'HyperparameterScheduler: option schedule is required'],
    ['a schedule that is no function', { key: 'eps', schedule: 0.1 }, 'HyperparameterScheduler: schedule must be a function of the step (or an array of one per param group), got 0.1 (number)'],
    ['an unknown option', { key: 'eps', schedule: () => 1e-8, keys: [] }, 'HyperparameterScheduler: unknown option "keys" (valid: key, schedule)'],
  ];
  for (const [label, options, message] of cases) {
    it(label, async () => {
      const { w } = await setup();
      const opt = new Adam([w]);
      const before = JSON.stringify(hyper(opt));
      expect(() => new HyperparameterScheduler(opt, options as never)).toThrow(message);
      expect(JSON.stringify(hyper(opt))).toBe(before);
    });
  }

  it('a key some group does not hold as a number is named with its group', async () => {
    const store = await ParameterStore.create({ backend: 'js' });
    const opt = new SGD([{ params: [store.parameter('a', 2)] }, { params: [store.parameter('b', 2)] }], { lr: 0.1 });
    (opt.paramGroups[1] as unknown as Group).momentum = [0.9];
    expect(() => new HyperparameterScheduler(opt, { key: 'momentum', schedule: () => 0.5 }))
      .toThrow(/invalid key: "momentum" \(must be a numeric hyperparameter of SGD; momentum is an array in param group 1: name an element, 'momentum.0'/);
  });
});

describe('values the optimizer refuses', () => {
  it("are refused at the step that produces them, with the optimizer's message; nothing changes", async () => {
    const { w, grad } = await setup();
    const opt = new AdamW([w], { lr: 0.01 });
    const sched = new HyperparameterScheduler(opt, { key: 'weightDecay', schedule: (t) => (2 - t) / 100 });
    sched.step();
    expect(opt.paramGroups[0].weightDecay).toBe(0.01);
    sched.step(); // 0
    expect(() => sched.step()).toThrow(new RangeError('HyperparameterScheduler: weightDecay = -0.01 at step 3 is refused by the optimizer: AdamW: invalid weight decay value (weightDecay): -0.01 (must be >= 0)'));
    expect(sched.lastEpoch).toBe(2);
    expect(opt.paramGroups[0].weightDecay).toBe(0);
    expect(sched.getLastValues()).toEqual([0]);
    grad(0);
    expect(() => opt.step()).not.toThrow();
  });

  it('betas.0 at 1, at construction: the optimizer names the beta; nothing is written', async () => {
    const { w } = await setup();
    const opt = new Adam([w]);
    expect(() => new HyperparameterScheduler(opt, { key: 'betas.0', schedule: () => 1 }))
      .toThrow('HyperparameterScheduler: betas.0 = 1 at step 0 is refused by the optimizer: Adam: invalid beta parameter at index 0: 1 (must be in [0, 1))');
    expect(opt.paramGroups[0].betas).toEqual([0.9, 0.999]);
  });

  it("in a group of several, the optimizer's message names the group", async () => {
    const store = await ParameterStore.create({ backend: 'js' });
    const opt = new SGD([{ params: [store.parameter('a', 2)] }, { params: [store.parameter('b', 2)], nesterov: true, momentum: 0.9 }], { lr: 0.1 });
    expect(() => new HyperparameterScheduler(opt, { key: 'momentum', schedule: () => 0 }))
      .toThrow(/momentum = 0 at step 0 is refused by the optimizer: SGD: param group 1: /);
    expect(groups(opt).map((g) => g.momentum)).toEqual([0, 0.9]);
  });

  it('a schedule returning NaN or no number', async () => {
    const { w } = await setup();
    const opt = new Adam([w]);
    const s = new HyperparameterScheduler(opt, { key: 'eps', schedule: (t) => (t === 2 ? NaN : t === 3 ? ('1e-8' as never) : 1e-8) });
    s.step();
    expect(() => s.step()).toThrow('HyperparameterScheduler: invalid schedule(2): NaN (must be finite)');
    expect(s.lastEpoch).toBe(1);
  });
});

describe('state', () => {
  const wd = linearSchedule({ baseLr: 0.1, startFactor: 0.1, totalIters: 30 });

  it('stateDict / loadStateDict resume the same values', async () => {
    const ref = new AdamW([(await setup()).w]);
    const r = new HyperparameterScheduler(ref, { key: 'weightDecay', schedule: wd });
    const seq: unknown[] = [];
    for (let t = 0; t < 20; t++) { seq.push(ref.paramGroups[0].weightDecay); r.step(); }
    const a = new AdamW([(await setup()).w]);
    const s1 = new HyperparameterScheduler(a, { key: 'weightDecay', schedule: wd });
    for (let t = 0; t < 7; t++) s1.step();
    const saved = JSON.parse(JSON.stringify(s1.stateDict())) as HyperparameterState;
    expect(saved).toEqual({ format: 'simdopt-scheduler', version: 1, type: 'HyperparameterScheduler', options: { key: 'weightDecay' }, lastEpoch: 7, lastValues: [wd(7)] });
    const b = new AdamW([(await setup()).w]);
    const s2 = new HyperparameterScheduler(b, { key: 'weightDecay', schedule: wd });
    s2.loadStateDict(saved);
    for (let t = 7; t < 20; t++) { expect(b.paramGroups[0].weightDecay).toBe(seq[t]); s2.step(); }
  });

  it('a state it cannot take is refused with nothing changed', async () => {
    const opt = new AdamW([(await setup()).w]);
    const s = new HyperparameterScheduler(opt, { key: 'weightDecay', schedule: wd });
    const sd = s.stateDict();
    const step = new StepLR(opt, { stepSize: 2 });
    const before = JSON.stringify(hyper(opt));
    expect(() => s.loadStateDict({ ...sd, lastValues: [-1] }))
      .toThrow('HyperparameterScheduler.loadStateDict: weightDecay = -1 in the state is refused by the optimizer: AdamW: invalid weight decay value (weightDecay): -1 (must be >= 0); nothing was changed');
    expect(() => s.loadStateDict({ ...sd, lastValues: [Infinity] })).toThrow('invalid lastValues[0]: Infinity (must be a finite number)');
    expect(() => s.loadStateDict({ ...sd, lastValues: [] })).toThrow('invalid lastValues: [] (must be an array of 1, one per param group)');
    expect(() => s.loadStateDict({ ...sd, options: { key: 'eps' } })).toThrow('the state was saved with options {"key":"eps"}; this scheduler has {"key":"weightDecay"}');
    expect(() => s.loadStateDict(step.stateDict() as never)).toThrow('the state was saved from "StepLR", not HyperparameterScheduler');
    expect(JSON.stringify(hyper(opt))).toBe(before);
    expect(s.lastEpoch).toBe(0);
  });
});

describe('composition with learning-rate schedulers', () => {
  it('side by side: each writes its own keys (1Cycle on the lr, a schedule on betas.0)', async () => {
    const { w } = await setup();
    const opt = new Adam([w]);
    const lr = new OneCycleLR(opt, { maxLr: 0.01, totalSteps: 20, cycleMomentum: false });
    const b1 = new HyperparameterScheduler(opt, { key: 'betas.0', schedule: (t) => 0.85 + 0.005 * t });
    const alone = new Adam([(await setup()).w]);
    const ref = new OneCycleLR(alone, { maxLr: 0.01, totalSteps: 20, cycleMomentum: false });
    for (let t = 0; t < 20; t++) {
      expect(opt.paramGroups[0].lr).toBe(alone.paramGroups[0].lr);
      expect(opt.paramGroups[0].betas).toEqual([0.85 + 0.005 * t, 0.999]);
      lr.step(); b1.step(); ref.step();
    }
    expect(() => b1.lrAt(0, 0)).toThrow('HyperparameterScheduler: it schedules betas.0, not the lr; read valueAt(t, group)');
    expect(() => b1.getLastLr()).toThrow('HyperparameterScheduler: it schedules betas.0, not the lr; read getLastValues()');
    expect(b1).toBeInstanceOf(LRScheduler);
  });

  it('in a ChainedScheduler: one step, one state, one checkpoint; the lr is the lr schedulers\' alone', async () => {
    const build = (opt: AdamW) => new ChainedScheduler(opt, {
      schedulers: [
        new WarmupCosineLR(opt, { warmupSteps: 3, totalSteps: 30 }),
        new HyperparameterScheduler(opt, { key: 'weightDecay', schedule: cosineSchedule({ baseLr: 0.05, tMax: 30 }) }),
        new ExponentialLR(opt, { gamma: 0.97 }),
        new HyperparameterScheduler(opt, { key: 'betas.0', schedule: (t) => Math.min(0.95, 0.85 + t / 100) }),
      ],
    });
    const trace = (opt: AdamW) => { const g = opt.paramGroups[0]; return [g.lr, g.weightDecay, g.betas[0], g.betas[1]]; };
    const ref = await setup();
    const refOpt = new AdamW([ref.w], { lr: 0.01 });
    const refSched = build(refOpt);
    const lrOnly = new AdamW([(await setup()).w], { lr: 0.01 });
    const lrOnlySched = new ChainedScheduler(lrOnly, { schedulers: [new WarmupCosineLR(lrOnly, { warmupSteps: 3, totalSteps: 30 }), new ExponentialLR(lrOnly, { gamma: 0.97 })] });
    const seq: number[][] = [];
    for (let t = 0; t < 30; t++) {
      seq.push(trace(refOpt));
      expect(refOpt.paramGroups[0].lr).toBe(lrOnly.paramGroups[0].lr);
      expect(refOpt.paramGroups[0].weightDecay).toBe(cosineSchedule({ baseLr: 0.05, tMax: 30 })(t));
      ref.grad(t); refOpt.step(); refSched.step(); lrOnlySched.step();
    }
    // Train 12 steps, checkpoint, restore into a fresh run, continue: the same values and parameters.
    const a = await setup();
    const optA = new AdamW([a.w], { lr: 0.01 });
    const schedA = build(optA);
    for (let t = 0; t < 12; t++) { a.grad(t); optA.step(); schedA.step(); }
    const bytes = saveCheckpoint({ store: a.store, optimizer: optA, scheduler: schedA });
    const b = await setup([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    const optB = new AdamW([b.w], { lr: 0.01 });
    const schedB = build(optB);
    loadCheckpoint(bytes, { store: b.store, optimizer: optB, scheduler: schedB });
    for (let t = 12; t < 30; t++) {
      expect(trace(optB)).toEqual(seq[t]);
      b.grad(t); optB.step(); schedB.step();
      a.grad(t); optA.step(); schedA.step();
    }
    expect([...b.w.data]).toEqual([...a.w.data]);
    // A HyperparameterScheduler alone goes through a checkpoint too.
    const wd = new HyperparameterScheduler(optB, { key: 'eps', schedule: () => 1e-6 });
    const bytes2 = saveCheckpoint({ store: b.store, optimizer: optB, scheduler: wd });
    loadCheckpoint(bytes2, { store: b.store, optimizer: optB, scheduler: wd });
  });

  it('a chained hyperparameter value the optimizer refuses stops the whole step before anything is written', async () => {
    const { w } = await setup();
    const opt = new AdamW([w], { lr: 0.01 });
    const sched = new ChainedScheduler(opt, {
      schedulers: [new ExponentialLR(opt, { gamma: 0.5 }), new HyperparameterScheduler(opt, { key: 'weightDecay', schedule: (t) => 0.01 - 0.02 * t })],
    });
    const before = JSON.stringify(hyper(opt));
    expect(() => sched.step()).toThrow(/weightDecay = -0\.01 at step 1 is refused by the optimizer/);
    expect(JSON.stringify(hyper(opt))).toBe(before);
    expect(sched.lastEpoch).toBe(0);
  });

  it('a ChainedScheduler of hyperparameter schedules alone holds the lr where it was', async () => {
    const { w } = await setup();
    const opt = new SGD([w], { lr: 0.05, momentum: 0.5 });
    const sched = new ChainedScheduler(opt, { schedulers: [new HyperparameterScheduler(opt, { key: 'momentum', schedule: (t) => 0.5 + 0.1 * t })] });
    sched.step(); sched.step();
    expect([opt.paramGroups[0].lr, opt.paramGroups[0].momentum]).toEqual([0.05, 0.5 + 0.1 * 2]);
  });

  it('an optimizer that gained a param group is refused at the next step', async () => {
    const { store, w } = await setup();
    const opt = new Adam([w]);
    const sched = new HyperparameterScheduler(opt, { key: 'eps', schedule: () => 1e-6 });
    opt.addParamGroup({ params: [store.parameter('b', 2)] });
    expect(() => sched.step()).toThrow('HyperparameterScheduler: the optimizer has 2 param groups, but the scheduler was built for 1');
  });

  it('SequentialLR refuses one (it has no lr to hand over)', async () => {
    const { w } = await setup();
    const opt = new Adam([w]) as unknown as Opt;
    const h = new HyperparameterScheduler(opt, { key: 'eps', schedule: () => 1e-8 });
    expect(() => new SequentialLR(opt, { schedulers: [new StepLR(opt, { stepSize: 2 }), h as never], milestones: [3] }))
      .toThrow('SequentialLR: schedulers[1] must be a learning-rate scheduler (chain a HyperparameterScheduler with ChainedScheduler, or step it on its own), got a HyperparameterScheduler');
  });
});
