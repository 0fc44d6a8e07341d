// Schedulers beyond the PyTorch reference file: boundary cases of 1Cycle against a direct
// transcription of PyTorch's OneCycleLR.get_lr, past-the-end behaviour, per-group arrays,
// composition, invalid options, state save/resume, the pure schedule functions, the schedule
// table they all come from, and ReduceLROnPlateau as an LRScheduler.
import { describe, expect, it } from 'vitest';
import { SCHEDULER_CLASSES } from '../src/schedules/schedulers.js';
import { SCHEDULES, buildSchedule, type ScheduleName } from '../src/schedules/table.js';
import {
  Adagrad, Adam, Adan, AdEMAMix, ChainedScheduler, ConstantLR, CosineAnnealingLR, CosineAnnealingWarmRestarts, CyclicLR, ExponentialLR,
  LambdaLR, LinearLR, MultiStepLR, OneCycleLR, ParameterStore, PolynomialLR, ReduceLROnPlateau, SGD, SequentialLR, StepLR,
  WarmupCosineLR, cosineSchedule, loadCheckpoint, oneCycleSchedule, readMomentum, saveCheckpoint, stepSchedule, warmupCosineSchedule,
  LRScheduler, type PlateauState, MultiplicativeLR, SWALR, ConstantWithWarmupLR, InverseSqrtLR, WarmupStableDecayLR, CosineWithMinLR,
  PiecewiseInterpolateLR, WarmupCosineRestartsLR, HyperparameterScheduler, swaSchedule, constantWithWarmupSchedule, inverseSqrtSchedule,
  warmupStableDecaySchedule, cosineWithMinLrSchedule, piecewiseInterpolateSchedule, warmupCosineRestartsSchedule,
} from '../src/index.js';

type Opt = ConstructorParameters<typeof StepLR>[0];

async function sgd(groups = 1, lr = 0.1): Promise<Opt> {
  const store = await ParameterStore.create({ backend: 'js' });
  const params = Array.from({ length: groups }, (_, i) => store.parameter(`w${i}`, 3));
  return new SGD(params.map((p) => ({ params: [p] })), { lr, momentum: 0.9 }) as unknown as Opt;
}

/** PyTorch's OneCycleLR.get_lr, transcribed (Math.cos; raises past total_steps). */
function torchOneCycle(t: number, o: { maxLr: number; total: number; pct: number; cos: boolean; three: boolean; div: number; final: number; baseM: number; maxM: number }) {
  if (t > o.total) throw new Error('past the end');
  const initial = o.maxLr / o.div, min = initial / o.final;
  const phases = o.three
    ? [[o.pct * o.total - 1, initial, o.maxLr, o.maxM, o.baseM], [2 * o.pct * o.total - 2, o.maxLr, initial, o.baseM, o.maxM], [o.total - 1, initial, min, o.maxM, o.maxM]]
    : [[o.pct * o.total - 1, initial, o.maxLr, o.maxM, o.baseM], [o.total - 1, o.maxLr, min, o.baseM, o.maxM]];
  const anneal = (a: number, b: number, pct: number) => (o.cos ? b + ((a - b) / 2) * (Math.cos(Math.PI * pct) + 1) : (b - a) * pct + a);
  let start = 0;
  for (let i = 0; i < phases.length; i++) {
    const [end, l0, l1, m0, m1] = phases[i];
    if (t <= end || i === phases.length - 1) {
      const pct = (t - start) / (end - start);
      return { lr: anneal(l0, l1, pct), m: anneal(m0, m1, pct) };
    }
    start = end;
  }
  throw new Error('unreachable');
}

describe('OneCycleLR', () => {
  for (const [Ctor, defaults] of [[Adan, [0.98, 0.92, 0.99]], [AdEMAMix, [0.9, 0.999, 0.9999]]] as const) {
    it(`cycles betas[0] of ${Ctor.name} and keeps betas[1] and betas[2]`, async () => {
      const store = await ParameterStore.create({ backend: 'js' });
      const w = store.parameter('w', [1, -1]);
      const opt = new Ctor([w]);
      const sched = new OneCycleLR(opt, { maxLr: 0.01, totalSteps: 10, baseMomentum: 0.5, maxMomentum: 0.8 });
      const seen = new Set<number>();
      for (let s = 0; s < 10; s++) {
        w.grad.set([0.5, -0.25]);
        opt.step();
        sched.step();
        const b = opt.paramGroups[0].betas;
        expect(b.slice(1)).toEqual(defaults.slice(1));
        seen.add(b[0]);
      }
      expect(seen.size).toBeGreaterThan(5);
    });
  }

  it('matches PyTorch at every step for totalSteps 1..12 and 100, pctStart extremes, both strategies, two and three phases', () => {
    let compared = 0;
    for (const total of [1, 2, 3, 4, 5, 7, 12, 100]) {
      for (const pct of [0, 0.01, 0.25, 0.3, 0.5, 0.99, 1]) {
        for (const cos of [true, false]) {
          for (const three of [false, true]) {
            const o = { maxLr: 0.5, total, pct, cos, three, div: 25, final: 1e4, baseM: 0.85, maxM: 0.95 };
            const s = oneCycleSchedule({ maxLr: 0.5, totalSteps: total, pctStart: pct, annealStrategy: cos ? 'cos' : 'linear', threePhase: three });
            for (let t = 0; t < total; t++) {
              const ours = { lr: s.lr(t), m: s.momentum(t) };
              expect(Number.isFinite(ours.lr) && Number.isFinite(ours.m), `finite at T=${total} pct=${pct} t=${t}`).toBe(true);
              const ref = torchOneCycle(t, o);
              if (!Number.isFinite(ref.lr)) continue; // PyTorch divides 0 by 0 in degenerate phases
              expect(ours.lr).toBeCloseTo(ref.lr, 12);
              expect(ours.m).toBeCloseTo(ref.m, 12);
              compared++;
            }
          }
        }
      }
    }
    expect(compared).toBeGreaterThan(1500);
  });

  it('starts at maxLr/divFactor with maxMomentum, peaks at maxLr with baseMomentum, ends at the minimum', () => {
    const s = oneCycleSchedule({ maxLr: 1, totalSteps: 100, pctStart: 0.3 });
    expect(s.lr(0)).toBeCloseTo(1 / 25, 15);
    expect(s.momentum(0)).toBeCloseTo(0.95, 15);
    expect(s.lr(29)).toBeCloseTo(1, 15); // phase end: pctStart*T - 1
    expect(s.momentum(29)).toBeCloseTo(0.85, 15);
    expect(s.lr(99)).toBeCloseTo(1 / 25 / 1e4, 15);
    expect(s.momentum(99)).toBeCloseTo(0.95, 15);
  });

  it('past the end: holds the final lr and momentum, never throws, and says it is finished', async () => {
    const opt = await sgd();
    const sched = new OneCycleLR(opt, { maxLr: 0.1, totalSteps: 10 });
    const g = opt.paramGroups[0] as unknown as Record<string, number>;
    for (let i = 0; i < 9; i++) {
      expect(sched.finished).toBe(false);
      sched.step();
    }
    expect(sched.finished).toBe(true);
    const last = g.lr;
    expect(last).toBeCloseTo(0.1 / 25 / 1e4, 15);
    for (let i = 0; i < 25; i++) sched.step(); // PyTorch raises at the 11th step
    expect(g.lr).toBe(last);
    expect(g.momentum).toBe(0.95);
    expect(sched.lastEpoch).toBe(34);
  });

  it('totalSteps from epochs × stepsPerEpoch; per-group maxLr and momenta; Adam gets betas[0]', async () => {
    const store = await ParameterStore.create({ backend: 'js' });
    const a = store.parameter('a', 2), b = store.parameter('b', 2);
    const opt = new Adam([{ params: [a] }, { params: [b] }]) as unknown as Opt;
    const sched = new OneCycleLR(opt, { maxLr: [0.1, 0.01], epochs: 4, stepsPerEpoch: 5, baseMomentum: [0.8, 0.7], maxMomentum: [0.9, 0.95] });
    expect(sched.totalSteps).toBe(20);
    const [g0, g1] = opt.paramGroups as unknown as Record<string, unknown>[];
    expect(g0.lr).toBeCloseTo(0.004, 15);
    expect(g1.lr).toBeCloseTo(0.0004, 15);
    expect(g0.betas).toEqual([0.9, 0.999]);
    expect(g1.betas).toEqual([0.95, 0.999]);
    for (let i = 0; i < 5; i++) sched.step(); // step 5 = pctStart*T - 1: the peak
    expect(g0.lr).toBeCloseTo(0.1, 12);
    expect(g1.lr).toBeCloseTo(0.01, 12);
    expect((g0.betas as number[])[0]).toBeCloseTo(0.8, 12);
    expect((g1.betas as number[])[0]).toBeCloseTo(0.7, 12);
    expect(sched.getLastLr().length).toBe(2);
  });

  it('cycleMomentum: false leaves momentum alone', async () => {
    const opt = await sgd();
    new OneCycleLR(opt, { maxLr: 0.1, totalSteps: 10, cycleMomentum: false }).step();
    expect(readMomentum(opt.paramGroups[0] as never)).toBe(0.9);
  });
});

describe('invalid scheduler options throw clear errors and change nothing', () => {
  const cases: [string, (opt: Opt) => unknown, RegExp][] = [
    ['OneCycle without total', (o) => new OneCycleLR(o, { maxLr: 0.1 }), /OneCycleLR: option totalSteps is required, or both epochs and stepsPerEpoch/],
    ['OneCycle totalSteps 0', (o) => new OneCycleLR(o, { maxLr: 0.1, totalSteps: 0 }), /OneCycleLR: invalid totalSteps: 0 \(must be a whole number >= 1\)/],
    ['OneCycle fractional totalSteps', (o) => new OneCycleLR(o, { maxLr: 0.1, totalSteps: 10.5 }), /invalid totalSteps: 10.5/],
    ['OneCycle pctStart above 1', (o) => new OneCycleLR(o, { maxLr: 0.1, totalSteps: 10, pctStart: 1.5 }), /OneCycleLR: invalid pctStart: 1.5 \(must be in \[0, 1\]\)/],
    ['OneCycle bad strategy', (o) => new OneCycleLR(o, { maxLr: 0.1, totalSteps: 10, annealStrategy: 'exp' as never }), /invalid annealStrategy: "exp"/],
    ['OneCycle negative maxLr', (o) => new OneCycleLR(o, { maxLr: -1, totalSteps: 10 }), /invalid maxLr: -1/],
    ['OneCycle maxLr array of wrong length', (o) => new OneCycleLR(o, { maxLr: [0.1, 0.2], totalSteps: 10 }), /OneCycleLR: invalid maxLr: \[0.1, 0.2\] \(must be a single value or an array of 1, one per param group\)/],
    ['OneCycle divFactor 0', (o) => new OneCycleLR(o, { maxLr: 0.1, totalSteps: 10, divFactor: 0 }), /invalid divFactor: 0/],
    ['OneCycle unknown option', (o) => new OneCycleLR(o, { maxLr: 0.1, totalSteps: 10, max_lr: 1 } as never), /OneCycleLR: unknown option "max_lr"/],
    ['Cyclic bad mode', (o) => new CyclicLR(o, { baseLr: 0.01, maxLr: 0.1, mode: 'square' as never }), /CyclicLR: invalid mode: "square"/],
    ['Cyclic zero step size', (o) => new CyclicLR(o, { baseLr: 0.01, maxLr: 0.1, stepSizeUp: 0 }), /invalid stepSizeUp: 0/],
    ['StepLR stepSize 0', (o) => new StepLR(o, { stepSize: 0 }), /StepLR: invalid stepSize: 0/],
    ['StepLR NaN gamma', (o) => new StepLR(o, { stepSize: 2, gamma: NaN }), /StepLR: invalid gamma: NaN/],
    ['MultiStep not an array', (o) => new MultiStepLR(o, { milestones: 3 as never }), /MultiStepLR: milestones must be an array of whole numbers, got 3 \(number\)/],
    ['ConstantLR factor > 1', (o) => new ConstantLR(o, { factor: 2 }), /ConstantLR: invalid factor: 2/],
    ['LinearLR startFactor 0', (o) => new LinearLR(o, { startFactor: 0 }), /LinearLR: invalid startFactor: 0 \(must be in \(0, 1\]\)/],
    ['Cosine tMax 0', (o) => new CosineAnnealingLR(o, { tMax: 0 }), /invalid tMax: 0/],
    ['WarmRestarts tMult 0.5', (o) => new CosineAnnealingWarmRestarts(o, { t0: 10, tMult: 0.5 }), /invalid tMult: 0.5/],
    ['Polynomial negative power', (o) => new PolynomialLR(o, { power: -1 }), /invalid power: -1/],
    ['WarmupCosine total <= warmup', (o) => new WarmupCosineLR(o, { warmupSteps: 10, totalSteps: 10 }), /WarmupCosineLR: invalid totalSteps: 10 \(must be greater than warmupSteps, 10\)/],
    ['Lambda not a function', (o) => new LambdaLR(o, { lrLambda: 3 as never }), /LambdaLR: lrLambda must be a function, got 3 \(number\)/],
    ['Plateau factor 1', (o) => new ReduceLROnPlateau(o, { factor: 1 }), /ReduceLROnPlateau: invalid factor: 1/],
    ['Plateau bad mode', (o) => new ReduceLROnPlateau(o, { mode: 'up' as never }), /invalid mode: "up"/],
    ['Sequential milestones count', (o) => new SequentialLR(o, { schedulers: [new ConstantLR(o), new ExponentialLR(o, { gamma: 0.9 })], milestones: [] }), /SequentialLR: invalid milestones/],
    ['not an optimizer', () => new StepLR({} as never, { stepSize: 1 }), /StepLR: the first argument must be an optimizer/],
    ['Multiplicative not a function', (o) => new MultiplicativeLR(o, { lrLambda: 0.95 as never }), /^MultiplicativeLR: lrLambda must be a function, got 0.95 \(number\)$/],
    ['Multiplicative lambdas of wrong length', (o) => new MultiplicativeLR(o, { lrLambda: [() => 1, () => 1] }), /MultiplicativeLR: invalid lrLambda: \[a function, a function\] \(must be a single value or an array of 1, one per param group\)/],
    ['SWALR without swaLr', (o) => new SWALR(o, {} as never), /^SWALR: option swaLr is required$/],
    ['SWALR negative swaLr', (o) => new SWALR(o, { swaLr: -0.1 }), /^SWALR: invalid swaLr: -0.1 \(must be >= 0\)$/],
    ['SWALR fractional annealEpochs', (o) => new SWALR(o, { swaLr: 0.05, annealEpochs: 2.5 }), /^SWALR: invalid annealEpochs: 2.5 \(must be a whole number >= 0\)$/],
    ['SWALR bad strategy', (o) => new SWALR(o, { swaLr: 0.05, annealStrategy: 'exp' as never }), /^SWALR: invalid annealStrategy: "exp" \(must be "cos" or "linear"\)$/],
    ['SWALR PyTorch spelling', (o) => new SWALR(o, { swa_lr: 0.05 } as never), /^SWALR: unknown option "swa_lr" \(valid: swaLr, annealEpochs, annealStrategy\)$/],
    ['ConstantWithWarmup negative warmup', (o) => new ConstantWithWarmupLR(o, { warmupSteps: -1 }), /^ConstantWithWarmupLR: invalid warmupSteps: -1 \(must be a whole number >= 0\)$/],
    ['InverseSqrt timescale 0', (o) => new InverseSqrtLR(o, { warmupSteps: 10, timescale: 0 }), /^InverseSqrtLR: invalid timescale: 0 \(must be > 0\)$/],
    ['InverseSqrt without warmupSteps', (o) => new InverseSqrtLR(o, {} as never), /^InverseSqrtLR: option warmupSteps is required$/],
    ['WSD without totalSteps or stableSteps', (o) => new WarmupStableDecayLR(o, { warmupSteps: 5, decaySteps: 5 }), /^WarmupStableDecayLR: option stableSteps is required, or totalSteps$/],
    ['WSD totalSteps below warmup + decay', (o) => new WarmupStableDecayLR(o, { warmupSteps: 5, decaySteps: 10, totalSteps: 12 }), /^WarmupStableDecayLR: invalid totalSteps: 12 \(must be at least warmupSteps \+ decaySteps, 15\)$/],
    ['WSD totalSteps and stableSteps disagree', (o) => new WarmupStableDecayLR(o, { warmupSteps: 5, decaySteps: 10, totalSteps: 40, stableSteps: 20 }), /^WarmupStableDecayLR: invalid totalSteps: 40 \(must be warmupSteps \+ stableSteps \+ decaySteps, 35, when stableSteps is given too\)$/],
    ['WSD bad decay type', (o) => new WarmupStableDecayLR(o, { warmupSteps: 5, decaySteps: 10, stableSteps: 1, decayType: 'exp' as never }), /^WarmupStableDecayLR: invalid decayType: "exp" \(must be "linear", "cosine" or "1-sqrt"\)$/],
    ['WSD minLrRatio above 1', (o) => new WarmupStableDecayLR(o, { warmupSteps: 5, decaySteps: 10, stableSteps: 1, minLrRatio: 1.5 }), /invalid minLrRatio: 1.5 \(must be in \[0, 1\]\)/],
    ['CosineWithMinLR without a minimum', (o) => new CosineWithMinLR(o, { warmupSteps: 5, totalSteps: 50 }), /^CosineWithMinLR: option minLr is required, or minLrRate$/],
    ['CosineWithMinLR with both minima', (o) => new CosineWithMinLR(o, { warmupSteps: 5, totalSteps: 50, minLr: 0.01, minLrRate: 0.1 }), /^CosineWithMinLR: invalid minLrRate: 0.1 \(must be left out when minLr is given \(give one of them\)\)$/],
    ['CosineWithMinLR totalSteps below warmupSteps', (o) => new CosineWithMinLR(o, { warmupSteps: 50, totalSteps: 40, minLrRate: 0 }), /^CosineWithMinLR: invalid totalSteps: 40 \(must be at least warmupSteps, 50\)$/],
    ['CosineWithMinLR minLrRate above 1', (o) => new CosineWithMinLR(o, { warmupSteps: 5, totalSteps: 50, minLrRate: 2 }), /invalid minLrRate: 2 \(must be in \[0, 1\]\)/],
    ['Piecewise scales of another length', (o) => new PiecewiseInterpolateLR(o, { boundaries: [10, 20], scales: [0.1] }), /^PiecewiseInterpolateLR: invalid scales: \[0.1\] \(must be an array of 2, one per boundary\)$/],
    ['Piecewise boundaries not increasing', (o) => new PiecewiseInterpolateLR(o, { boundaries: [20, 10], scales: [0.1, 0.1] }), /^PiecewiseInterpolateLR: invalid boundaries: \[20, 10\] \(must be increasing\)$/],
    ['Piecewise negative scale', (o) => new PiecewiseInterpolateLR(o, { boundaries: [20], scales: [-1] }), /^PiecewiseInterpolateLR: invalid scales\[0\]: -1 \(must be >= 0\)$/],
    ['Piecewise bad interpolation', (o) => new PiecewiseInterpolateLR(o, { interpolateType: 'step' as never }), /invalid interpolateType: "step" \(must be "linear" or "cosine"\)/],
    ['Restarts without cycles', (o) => new WarmupCosineRestartsLR(o, { cycleSteps: [] }), /^WarmupCosineRestartsLR: invalid cycleSteps: \[\] \(must be a non-empty array of whole numbers\)$/],
    ['Restarts a cycle no longer than the warm-up', (o) => new WarmupCosineRestartsLR(o, { cycleSteps: [20, 5], warmupSteps: 5 }), /^WarmupCosineRestartsLR: invalid cycleSteps\[1\]: 5 \(must be greater than warmupSteps, 5\)$/],
    ['Restarts peaks of another length', (o) => new WarmupCosineRestartsLR(o, { cycleSteps: [20, 30], peakFactors: [1] }), /^WarmupCosineRestartsLR: invalid peakFactors: \[1\] \(must be an array of 2, one per cycle\)$/],
    ['Restarts fractional cycle', (o) => new WarmupCosineRestartsLR(o, { cycleSteps: [20.5] }), /invalid cycleSteps\[0\]: 20.5 \(must be a whole number >= 1\)/],
  ];
  for (const [label, make, message] of cases) {
    it(label, async () => {
      const opt = await sgd();
      const before = JSON.stringify(opt.paramGroups.map(({ params: _, ...rest }) => rest));
      expect(() => make(opt)).toThrow(message);
      if (!label.startsWith('Sequential')) expect(JSON.stringify(opt.paramGroups.map(({ params: _, ...rest }) => rest))).toBe(before);
    });
  }

  it('cycling momentum on an optimizer without it', async () => {
    const store = await ParameterStore.create({ backend: 'js' });
    const opt = new Adagrad([store.parameter('w', 2)]) as unknown as Opt;
    expect(() => new OneCycleLR(opt, { maxLr: 0.1, totalSteps: 5 })).toThrow(/OneCycleLR: cycleMomentum needs an optimizer with momentum or betas; Adagrad has neither/);
    expect(() => new OneCycleLR(opt, { maxLr: 0.1, totalSteps: 5, cycleMomentum: false })).not.toThrow();
  });

  it('a scheduler whose optimizer gained a param group', async () => {
    const store = await ParameterStore.create({ backend: 'js' });
    const opt = new SGD([store.parameter('a', 2)], { lr: 0.1 }) as unknown as Opt;
    const sched = new StepLR(opt, { stepSize: 2 });
    opt.addParamGroup({ params: [store.parameter('b', 2)] } as never);
    expect(() => sched.step()).toThrow(/StepLR: the optimizer has 2 param groups, but the scheduler was built for 1/);
  });
});

describe('composition', () => {
  it('WarmupCosineLR equals SequentialLR([LinearLR, CosineAnnealingLR]) up to totalSteps, then holds etaMin', async () => {
    const a = await sgd(), b = await sgd();
    const warm = new WarmupCosineLR(a, { warmupSteps: 10, totalSteps: 50, warmupStartFactor: 0.1, etaMin: 0.001 });
    const seq = new SequentialLR(b, {
      schedulers: [new LinearLR(b, { startFactor: 0.1, totalIters: 10 }), new CosineAnnealingLR(b, { tMax: 40, etaMin: 0.001 })],
      milestones: [10],
    });
    for (let t = 0; t <= 50; t++) {
      expect(a.paramGroups[0].lr).toBeCloseTo(b.paramGroups[0].lr, 14);
      warm.step();
      seq.step();
    }
    for (let t = 0; t < 20; t++) warm.step();
    expect(a.paramGroups[0].lr).toBeCloseTo(0.001, 15);
  });

  it('ChainedScheduler multiplies the factors: ConstantLR(0.1, 2) then ExponentialLR(0.9)', async () => {
    const opt = await sgd(1, 1);
    const sched = new ChainedScheduler(opt, { schedulers: [new ConstantLR(opt, { factor: 0.1, totalIters: 2 }), new ExponentialLR(opt, { gamma: 0.9 })] });
    // PyTorch's documented example: 0.1, 0.09, 0.81, 0.729, ...
    const expected = [0.1, 0.09, 0.81, 0.729, 0.6561];
    for (const e of expected) {
      expect(opt.paramGroups[0].lr).toBeCloseTo(e, 14);
      sched.step();
    }
  });

  it('pure schedules need no optimizer', () => {
    const s = stepSchedule({ baseLr: 1, stepSize: 3, gamma: 0.5 });
    expect([0, 1, 2, 3, 5, 6].map(s)).toEqual([1, 1, 1, 0.5, 0.5, 0.25]);
    const c = cosineSchedule({ baseLr: 1, tMax: 4 });
    expect([0, 2, 4].map(c)).toEqual([1, 0.5, 0]);
    const w = warmupCosineSchedule({ baseLr: 2, warmupSteps: 4, totalSteps: 8 });
    expect([0, 1, 4, 8, 100].map(w)).toEqual([0, 0.5, 2, 0, 0]);
    expect(() => s(-1)).toThrow(/StepLR: invalid step: -1 \(must be a whole number >= 0\)/);
    expect(() => s(1.5)).toThrow(/StepLR: invalid step: 1.5 \(must be a whole number >= 0\)/);
  });
});

describe('state: stateDict / loadStateDict resumes the same sequence', () => {
  const builders: [string, (opt: Opt) => LRScheduler][] = [
    ['StepLR', (o) => new StepLR(o, { stepSize: 3, gamma: 0.5 })],
    ['MultiStepLR', (o) => new MultiStepLR(o, { milestones: [2, 5, 5, 9] })],
    ['ConstantLR', (o) => new ConstantLR(o, { factor: 0.5, totalIters: 4 })],
    ['LinearLR', (o) => new LinearLR(o, { startFactor: 0.2, totalIters: 6 })],
    ['ExponentialLR', (o) => new ExponentialLR(o, { gamma: 0.9 })],
    ['PolynomialLR', (o) => new PolynomialLR(o, { totalIters: 8, power: 1.5 })],
    ['CosineAnnealingLR', (o) => new CosineAnnealingLR(o, { tMax: 7, etaMin: 0.01 })],
    ['CosineAnnealingWarmRestarts', (o) => new CosineAnnealingWarmRestarts(o, { t0: 3, tMult: 2 })],
    ['WarmupCosineLR', (o) => new WarmupCosineLR(o, { warmupSteps: 3, totalSteps: 12 })],
    ['LambdaLR', (o) => new LambdaLR(o, { lrLambda: (t) => 1 / (1 + t) })],
    ['CyclicLR', (o) => new CyclicLR(o, { baseLr: 0.01, maxLr: 0.1, stepSizeUp: 3, mode: 'triangular2' })],
    ['OneCycleLR', (o) => new OneCycleLR(o, { maxLr: 0.2, totalSteps: 15, threePhase: true })],
    ['SequentialLR', (o) => new SequentialLR(o, { schedulers: [new LinearLR(o, { totalIters: 3 }), new ExponentialLR(o, { gamma: 0.8 })], milestones: [3] })],
    ['ChainedScheduler', (o) => new ChainedScheduler(o, { schedulers: [new StepLR(o, { stepSize: 2 }), new CyclicLR(o, { baseLr: 0.01, maxLr: 0.1, stepSizeUp: 2 })] })],
    ['MultiplicativeLR', (o) => new MultiplicativeLR(o, { lrLambda: [(t) => 1 - 0.01 * t, () => 0.9] })],
    ['SWALR', (o) => new SWALR(o, { swaLr: [0.02, 0.05], annealEpochs: 10 })],
    ['ConstantWithWarmupLR', (o) => new ConstantWithWarmupLR(o, { warmupSteps: 9 })],
    ['InverseSqrtLR', (o) => new InverseSqrtLR(o, { warmupSteps: 4 })],
    ['WarmupStableDecayLR', (o) => new WarmupStableDecayLR(o, { warmupSteps: 3, decaySteps: 8, stableSteps: 4, decayType: 'linear' })],
    ['CosineWithMinLR', (o) => new CosineWithMinLR(o, { warmupSteps: 3, totalSteps: 15, minLr: [0.01, 0.02] })],
    ['PiecewiseInterpolateLR', (o) => new PiecewiseInterpolateLR(o, { boundaries: [5, 12], scales: [0.5, 0.2], interpolateType: 'cosine' })],
    ['WarmupCosineRestartsLR', (o) => new WarmupCosineRestartsLR(o, { cycleSteps: [6, 8, 10], peakFactors: [1, 0.7, 0.4], warmupSteps: 2 })],
    ['ChainedScheduler with a HyperparameterScheduler on momentum', (o) => new ChainedScheduler(o, {
      schedulers: [new ExponentialLR(o, { gamma: 0.9 }), new HyperparameterScheduler(o, { key: 'momentum', schedule: (t) => 0.9 - 0.01 * t })],
    })],
  ];
  for (const [name, build] of builders) {
    it(name, async () => {
      const reference = await sgd(2);
      const refSched = build(reference);
      const seq: number[][] = [];
      for (let t = 0; t < 20; t++) {
        seq.push(reference.paramGroups.flatMap((g) => [g.lr, readMomentum(g as never)!]));
        refSched.step();
      }
      // Run 7 steps, save, load into a fresh optimizer and scheduler, continue.
      const first = await sgd(2);
      const s1 = build(first);
      for (let t = 0; t < 7; t++) s1.step();
      const saved = structuredClone(s1.stateDict());
      const second = await sgd(2);
      const s2 = build(second);
      s2.loadStateDict(JSON.parse(JSON.stringify(saved)));
      expect(s2.lastEpoch).toBe(7);
      for (let t = 7; t < 20; t++) {
        expect(second.paramGroups.flatMap((g) => [g.lr, readMomentum(g as never)!])).toEqual(seq[t]);
        s2.step();
      }
    });
  }

  it('loading into an optimizer with another lr continues the saved sequence (schedules rebuilt from the saved base)', async () => {
    const a = await sgd(1, 0.1);
    const s1 = new StepLR(a, { stepSize: 3, gamma: 0.5 });
    for (let t = 0; t < 5; t++) s1.step();
    const b = await sgd(1, 1.0);
    const s2 = new StepLR(b, { stepSize: 3, gamma: 0.5 });
    s2.loadStateDict(s1.stateDict());
    for (let t = 0; t < 4; t++) {
      expect(b.paramGroups[0].lr).toBe(a.paramGroups[0].lr);
      s1.step();
      s2.step();
    }
  });

  it('ReduceLROnPlateau in max mode keeps an infinite best through JSON', async () => {
    const opt = await sgd();
    const r = new ReduceLROnPlateau(opt, { mode: 'max' });
    r.step(Infinity);
    const copy = new ReduceLROnPlateau(await sgd(), { mode: 'max' });
    copy.loadStateDict(JSON.parse(JSON.stringify(r.stateDict())));
    expect(copy.best).toBe(Infinity);
  });

  it('ReduceLROnPlateau', async () => {
    const metrics = [5, 4, 4, 4, 4, 4, 3.9, 3.9, 3.9, 3.9, 3.9, 3.9, 3.9, 3, 3, 3, 3, 3, 3, 3];
    const ref = await sgd();
    const r = new ReduceLROnPlateau(ref, { patience: 2, cooldown: 1, factor: 0.5 });
    const lrs: number[] = [];
    for (const m of metrics) { r.step(m); lrs.push(ref.paramGroups[0].lr); }
    expect(Math.min(...lrs)).toBeLessThan(0.1); // it did reduce
    const a = await sgd();
    const s1 = new ReduceLROnPlateau(a, { patience: 2, cooldown: 1, factor: 0.5 });
    metrics.slice(0, 9).forEach((m) => s1.step(m));
    const b = await sgd();
    const s2 = new ReduceLROnPlateau(b, { patience: 2, cooldown: 1, factor: 0.5 });
    s2.loadStateDict(structuredClone(s1.stateDict()));
    metrics.slice(9).forEach((m, i) => { s2.step(m); expect(b.paramGroups[0].lr).toBe(lrs[9 + i]); });
  });

  it('a state from another class, other options, or a bad version is rejected and changes nothing', async () => {
    const opt = await sgd();
    const step = new StepLR(opt, { stepSize: 3 });
    step.step();
    const sd = step.stateDict();
    const other = new ExponentialLR(await sgd(), { gamma: 0.5 });
    expect(() => other.loadStateDict(sd)).toThrow(/^ExponentialLR.loadStateDict: the state was saved from "StepLR", not ExponentialLR; nothing was changed$/);
    const differentOptions = new StepLR(await sgd(), { stepSize: 4 });
    expect(() => differentOptions.loadStateDict(sd)).toThrow(/the state was saved with options \{"stepSize":3\}; this scheduler has \{"stepSize":4\}/);
    const same = new StepLR(await sgd(), { stepSize: 3 });
    expect(() => same.loadStateDict({ ...sd, version: 2 as 1 })).toThrow(/unsupported state dict version 2/);
    expect(() => same.loadStateDict({ ...sd, lastLrs: [NaN] })).toThrow(/invalid lastLrs\[0\]: NaN \(must be a finite number >= 0\)/);
    expect(() => same.loadStateDict({ ...sd, lastLrs: [1, 2] })).toThrow(/invalid lastLrs: \[1, 2\] \(must be an array of 1, one per param group\)/);
    expect(same.lastEpoch).toBe(0);
    expect(same.optimizer.paramGroups[0].lr).toBe(0.1);
  });
});

describe('the schedule table', () => {
  // One case per entry (a new entry without a case fails the first test).
  const CASES: Record<ScheduleName, Record<string, unknown>> = {
    OneCycleLR: { maxLr: 0.3, totalSteps: 40, threePhase: true, annealStrategy: 'linear' },
    CyclicLR: { baseLr: 0.01, maxLr: 0.2, stepSizeUp: 5, stepSizeDown: 3, mode: 'exp_range', gamma: 0.97 },
    StepLR: { stepSize: 4, gamma: 0.7 },
    MultiStepLR: { milestones: [9, 3, 3], gamma: 0.5 },
    ConstantLR: { factor: 0.25, totalIters: 6 },
    LinearLR: { startFactor: 0.05, endFactor: 0.8, totalIters: 20 },
    ExponentialLR: { gamma: 0.93 },
    PolynomialLR: { totalIters: 30, power: 0.5 },
    CosineAnnealingLR: { tMax: 17, etaMin: 0.002 },
    CosineAnnealingWarmRestarts: { t0: 4, tMult: 2, etaMin: 0.001 },
    WarmupCosineLR: { warmupSteps: 5, totalSteps: 30, warmupStartFactor: 0.1 },
    LambdaLR: { lrLambda: (t: number) => 1 / (1 + 0.1 * t) },
    MultiplicativeLR: { lrLambda: (t: number) => (t % 7 === 0 ? 0.5 : 0.98) },
    SWALR: { swaLr: 0.02, annealEpochs: 12, annealStrategy: 'linear' },
    ConstantWithWarmupLR: { warmupSteps: 9 },
    InverseSqrtLR: { warmupSteps: 6, timescale: 10 },
    WarmupStableDecayLR: { warmupSteps: 8, decaySteps: 20, totalSteps: 45, warmupType: 'cosine', decayType: '1-sqrt', minLrRatio: 0.1 },
    CosineWithMinLR: { warmupSteps: 5, totalSteps: 50, minLr: 0.003, numCycles: 0.75 },
    PiecewiseInterpolateLR: { interpolateType: 'cosine', boundaries: [4, 20, 21, 40], scales: [2, 0.5, 0.1, 3] },
    WarmupCosineRestartsLR: { cycleSteps: [10, 15, 20], peakFactors: [1, 0.6, 0.3], warmupSteps: 3, startFactor: 0.1, endFactor: 0.01, exponent: 2 },
  };

  it('every entry has its scheduler class and a test case', () => {
    expect(Object.keys(SCHEDULER_CLASSES)).toEqual(Object.keys(SCHEDULES));
    expect(Object.keys(CASES).sort()).toEqual(Object.keys(SCHEDULES).sort());
  });

  for (const name of Object.keys(SCHEDULES) as ScheduleName[]) {
    it(`${name}: the class writes exactly what the pure schedule of its entry computes`, async () => {
      const opt = await sgd(1, 0.1);
      const sched = new SCHEDULER_CLASSES[name](opt, CASES[name] as never);
      expect(sched).toBeInstanceOf(LRScheduler);
      expect(sched.name).toBe(name);
      const pure = buildSchedule(name, { baseLr: 0.1, ...CASES[name] }); // CyclicLR has its own baseLr
      for (let t = 0; t < 60; t++) {
        expect(Object.is(opt.paramGroups[0].lr, pure.lr(t)), `${name} lr at step ${t}`).toBe(true);
        if (pure.momentum) expect(Object.is(readMomentum(opt.paramGroups[0] as never), pure.momentum(t)), `${name} momentum at step ${t}`).toBe(true);
        sched.step();
      }
    });
  }

  it('resolves defaults in order: stepSizeDown defaults to stepSizeUp; totalSteps to epochs × stepsPerEpoch', () => {
    expect(buildSchedule('CyclicLR', { baseLr: 0, maxLr: 1, stepSizeUp: 7 }).options.stepSizeDown).toBe(7);
    expect(buildSchedule('OneCycleLR', { maxLr: 1, epochs: 3, stepsPerEpoch: 4 }).options.totalSteps).toBe(12);
  });
});

describe('ReduceLROnPlateau is an LRScheduler with its own protocol', () => {
  it('is an LRScheduler; it has no schedule to evaluate and cannot be composed', async () => {
    const opt = await sgd();
    const r = new ReduceLROnPlateau(opt);
    expect(r).toBeInstanceOf(LRScheduler);
    expect(r.getLastLr()).toEqual([0.1]);
    expect(() => r.lrAt(0, 0)).toThrow(/ReduceLROnPlateau: the lr at a step depends on the metrics seen/);
    expect(() => new SequentialLR(opt, { schedulers: [r as never, new ExponentialLR(opt, { gamma: 0.9 })], milestones: [2] }))
      .toThrow('SequentialLR: schedulers[0] must be a scheduler with a schedule (ReduceLROnPlateau cannot be composed), got a ReduceLROnPlateau');
  });

  it('keeps its state dict format: best as a string when infinite; a state saved before loads', async () => {
    const r = new ReduceLROnPlateau(await sgd(), { mode: 'max', patience: 1 });
    r.step(1);
    expect(Object.keys(r.stateDict())).toEqual(['format', 'version', 'type', 'options', 'lastEpoch', 'best', 'numBadEpochs', 'cooldownCounter', 'lastLrs']);
    const saved: PlateauState = { format: 'simdopt-scheduler', version: 1, type: 'ReduceLROnPlateau', options: { mode: 'max', patience: 1 }, lastEpoch: 4, best: 'Infinity', numBadEpochs: 1, cooldownCounter: 0, lastLrs: [0.05] };
    const opt = await sgd();
    const s = new ReduceLROnPlateau(opt, { mode: 'max', patience: 1 });
    s.loadStateDict(saved);
    expect([s.best, s.lastEpoch, s.numBadEpochs, opt.paramGroups[0].lr]).toEqual([Infinity, 4, 1, 0.05]);
    expect(s.stateDict()).toEqual(saved);
    expect(() => s.loadStateDict({ ...saved, best: 'NaN' as never })).toThrow(`ReduceLROnPlateau.loadStateDict: invalid best: "NaN" (must be a finite number, 'Infinity' or '-Infinity'); nothing was changed`);
  });

  it('a state dict saved before of an LRScheduler loads', async () => {
    const opt = await sgd();
    const s = new StepLR(opt, { stepSize: 3, gamma: 0.5 });
    s.loadStateDict({ format: 'simdopt-scheduler', version: 1, type: 'StepLR', options: { stepSize: 3, gamma: 0.5 }, lastEpoch: 5, baseLrs: [0.1], lastLrs: [0.05], lastMomenta: [null] });
    expect([s.lastEpoch, opt.paramGroups[0].lr]).toEqual([5, 0.05]);
    s.step();
    expect(opt.paramGroups[0].lr).toBe(0.025);
  });

  it('goes through a checkpoint like any scheduler, and a mismatch is refused with nothing changed', async () => {
    const store = await ParameterStore.create({ backend: 'js' });
    const w = store.parameter('w', 3);
    const opt = new SGD([w], { lr: 0.1, momentum: 0.9 });
    const r = new ReduceLROnPlateau(opt, { patience: 0, factor: 0.5 });
    [3, 3, 3].forEach((m) => r.step(m));
    const bytes = saveCheckpoint({ store, optimizer: opt, scheduler: r });
    const store2 = await ParameterStore.create({ backend: 'js' });
    const opt2 = new SGD([store2.parameter('w', 3)], { lr: 0.1, momentum: 0.9 });
    const r2 = new ReduceLROnPlateau(opt2, { patience: 0, factor: 0.5 });
    loadCheckpoint(bytes, { store: store2, optimizer: opt2, scheduler: r2 });
    expect(r2.stateDict()).toEqual(r.stateDict());
    r.step(3); r2.step(3);
    expect(opt2.paramGroups[0].lr).toBe(opt.paramGroups[0].lr);
    const store3 = await ParameterStore.create({ backend: 'js' });
    const opt3 = new SGD([store3.parameter('w', 3)], { lr: 0.1, momentum: 0.9 });
    const other = saveCheckpoint({ store: store3, optimizer: opt3, scheduler: new StepLR(opt3, { stepSize: 2 }) });
    const before = r2.stateDict();
    expect(() => loadCheckpoint(other, { store: store2, optimizer: opt2, scheduler: r2 }))
      .toThrow(/^loadCheckpoint: ReduceLROnPlateau\.loadStateDict: the state was saved from "StepLR", not ReduceLROnPlateau; nothing was changed$/);
    expect(r2.stateDict()).toEqual(before);
  });
});

describe('MultiplicativeLR and SWALR (PyTorch; the reference file has their sequences)', () => {
  it('MultiplicativeLR starts from the lr the group holds, multiplies in step order, and recomputes when asked for an earlier step', async () => {
    const opt = await sgd(1, 0.1);
    opt.paramGroups[0].lr = 0.05; // another scheduler or the user left it here; initialLr is unset
    const f = (t: number) => 1 - 1 / (t + 2);
    const sched = new MultiplicativeLR(opt, { lrLambda: f });
    let lr = 0.05;
    for (let t = 1; t <= 30; t++) {
      sched.step();
      lr *= f(t);
      expect(opt.paramGroups[0].lr).toBe(lr);
    }
    expect(sched.lrAt(3, 0)).toBe(0.05 * f(1) * f(2) * f(3));
    expect(sched.lrAt(30, 0)).toBe(lr);
  });

  it('MultiplicativeLR: a lambda returning NaN is refused, and the step count and lr stay', async () => {
    const opt = await sgd();
    const sched = new MultiplicativeLR(opt, { lrLambda: (t) => (t === 3 ? NaN : 0.5) });
    sched.step(); sched.step();
    expect(() => sched.step()).toThrow('MultiplicativeLR: invalid lrLambda(3): NaN (must be finite)');
    expect([sched.lastEpoch, opt.paramGroups[0].lr]).toEqual([2, 0.025]);
  });

  it('SWALR: per-group swaLr, any optimizer (Adagrad has no momentum), annealEpochs 0 switches at once', async () => {
    const store = await ParameterStore.create({ backend: 'js' });
    const opt = new Adagrad([{ params: [store.parameter('a', 2)], lr: 0.1 }, { params: [store.parameter('b', 2)], lr: 0.2 }]) as unknown as Opt;
    const sched = new SWALR(opt, { swaLr: [0.01, 0.02], annealEpochs: 4, annealStrategy: 'linear' });
    const lrs = () => opt.paramGroups.map((g) => g.lr);
    expect(lrs()).toEqual([0.1, 0.2]);
    sched.step(); sched.step();
    expect(lrs()).toEqual([0.01 * 0.5 + 0.1 * 0.5, 0.02 * 0.5 + 0.2 * 0.5]);
    for (let t = 0; t < 5; t++) sched.step();
    expect(lrs()).toEqual([0.01, 0.02]);
    const now = await sgd(1, 0.3);
    new SWALR(now, { swaLr: 0.05, annealEpochs: 0 });
    expect(now.paramGroups[0].lr).toBe(0.05);
    expect(swaSchedule({ baseLr: 1, swaLr: 0.5, annealEpochs: 0 })(0)).toBe(0.5);
    expect(swaSchedule({ baseLr: 1, swaLr: 0, annealEpochs: 2 })(1)).toBeCloseTo(0.5, 15);
  });

  it("SWALR anneals from the lr another scheduler left when it takes its first step; loading leaves the group's initialLr alone", async () => {
    const opt = await sgd(1, 0.1);
    const cosine = new CosineAnnealingLR(opt, { tMax: 20 });
    const swa = new SWALR(opt, { swaLr: 0.01, annealEpochs: 4, annealStrategy: 'linear' });
    for (let t = 0; t < 10; t++) cosine.step();
    const start = opt.paramGroups[0].lr;
    expect(start).toBeCloseTo(0.05, 15);
    swa.step();
    expect(opt.paramGroups[0].lr).toBe(0.01 * 0.25 + start * 0.75);
    expect(swa.baseLrs).toEqual([start]);
    const group = opt.paramGroups[0] as unknown as Record<string, number>;
    expect(group.initialLr).toBe(0.1);
    const other = await sgd(1, 0.1);
    const swa2 = new SWALR(other, { swaLr: 0.01, annealEpochs: 4, annealStrategy: 'linear' });
    swa2.loadStateDict(swa.stateDict());
    expect((other.paramGroups[0] as unknown as Record<string, number>).initialLr).toBe(0.1);
    swa.step(); swa2.step();
    expect(other.paramGroups[0].lr).toBe(opt.paramGroups[0].lr);
  });
});

describe('the Hugging Face and optax schedules at their edges (the transcription tests hold the sequences)', () => {
  it('step 0 and warm-up 0', () => {
    expect(constantWithWarmupSchedule({ baseLr: 0.1, warmupSteps: 0 })(0)).toBe(0.1);
    expect(constantWithWarmupSchedule({ baseLr: 0.1, warmupSteps: 4 })(0)).toBe(0);
    expect(constantWithWarmupSchedule({ baseLr: 0.1, warmupSteps: 4 })(2)).toBe(0.05);
    expect(inverseSqrtSchedule({ baseLr: 0.1, warmupSteps: 0 })(0)).toBe(0.1); // timescale 10000
    expect(inverseSqrtSchedule({ baseLr: 1, warmupSteps: 0 })(30_000)).toBe(0.5);
    expect(inverseSqrtSchedule({ baseLr: 1, warmupSteps: 4 })(4)).toBe(1);
    expect(inverseSqrtSchedule({ baseLr: 1, warmupSteps: 4 })(16)).toBe(0.5);
    expect(cosineWithMinLrSchedule({ baseLr: 0.1, warmupSteps: 0, totalSteps: 10, minLrRate: 0.1 })(0)).toBe(0.1);
    expect(warmupCosineRestartsSchedule({ baseLr: 0.1, cycleSteps: [4, 4] })(4)).toBe(0.1);
  });

  it('boundaries: the end of a warm-up, of the stable phase, of the decay, and past the end', () => {
    const wsd = warmupStableDecaySchedule({ baseLr: 1, warmupSteps: 4, decaySteps: 4, stableSteps: 2, minLrRatio: 0.2, decayType: 'linear' });
    expect([0, 2, 4, 5, 6, 8, 9, 10, 1000].map((t) => Number(wsd(t).toFixed(12)))).toEqual([0.2, 0.6, 1, 1, 1, 0.6, 0.4, 0.2, 0.2]);
    const cos = cosineWithMinLrSchedule({ baseLr: 1, warmupSteps: 2, totalSteps: 6, minLrRate: 0.25 });
    expect([0, 1, 2, 4, 6].map(cos)).toEqual([0, 0.5, 1, 0.625, 0.25]);
    expect(cos(10)).toBeCloseTo(1, 15); // as Hugging Face: the cosine goes on past totalSteps
    const pw = piecewiseInterpolateSchedule({ baseLr: 1, boundaries: [0, 4], scales: [0.5, 0.5], interpolateType: 'linear' });
    expect([0, 2, 4, 100].map(pw)).toEqual([0.5, 0.375, 0.25, 0.25]);
    expect(piecewiseInterpolateSchedule({ baseLr: 0.3 })(7)).toBe(0.3);
    const sgdr = warmupCosineRestartsSchedule({ baseLr: 1, cycleSteps: [6, 6], peakFactors: [1, 0.5], warmupSteps: 2, startFactor: 0.1, endFactor: 0.1 });
    expect([0, 1, 2, 6, 7, 8, 12, 50].map((t) => Number(sgdr(t).toFixed(12)))).toEqual([0.1, 0.55, 1, 0.1, 0.3, 0.5, 0.1, 0.1]);
  });
});
