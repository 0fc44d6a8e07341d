// The schedules PyTorch 1.13 does not have, against float64 transcriptions of their sources
// (Math.cos, Math.sqrt and ** standing in for Python's math): Hugging Face's lr lambdas from
// transformers/src/transformers/optimization.py (applied by torch's LambdaLR as
// initial_lr * lambda(step)) and optax's schedules from optax/schedules/_schedule.py and
// optax/schedules/_join.py (optax v0.2.8 and later; optax computes in float32 by default, the
// transcription in float64). Each scheduler, on every group, must match at every step to the
// schedule tolerance of the reference fixtures: 1e-9 relative plus 1e-15 absolute.
import { describe, expect, it } from 'vitest';
import {
  ConstantWithWarmupLR, CosineWithMinLR, InverseSqrtLR, LRScheduler, ParameterStore, PiecewiseInterpolateLR, SGD,
  WarmupCosineRestartsLR, WarmupStableDecayLR, piecewiseInterpolateSchedule,
} from '../src/index.js';

type Opt = ConstructorParameters<typeof ConstantWithWarmupLR>[0];
type Lambda = (step: number) => number;

// ---- Hugging Face, transformers/src/transformers/optimization.py --------------------------------

/** _get_constant_schedule_with_warmup_lr_lambda */
const hfConstantWithWarmup = (numWarmupSteps: number): Lambda => (step) =>
  (step < numWarmupSteps ? step / Math.max(1.0, numWarmupSteps) : 1.0);

/** get_inverse_sqrt_schedule (timescale = num_warmup_steps or 10_000) and _get_inverse_sqrt_schedule_lr_lambda */
function hfInverseSqrt(numWarmupSteps: number, timescale?: number): Lambda {
  const ts = timescale ?? (numWarmupSteps || 10_000);
  return (step) => {
    if (step < numWarmupSteps) return step / Math.max(1, numWarmupSteps);
    const shift = ts - numWarmupSteps;
    return 1.0 / Math.sqrt((step + shift) / ts);
  };
}

/** get_wsd_schedule (num_stable_steps from num_training_steps when not given) and _get_wsd_scheduler_lambda */
function hfWsd(o: { numWarmupSteps: number; numDecaySteps: number; numTrainingSteps?: number; numStableSteps?: number; warmupType?: string; decayType?: string; minLrRatio?: number; numCycles?: number }): Lambda {
  const { numWarmupSteps: w, numDecaySteps: d, warmupType = 'linear', decayType = 'cosine', minLrRatio = 0, numCycles = 0.5 } = o;
  const s = o.numStableSteps ?? o.numTrainingSteps! - w - d;
  return (step) => {
    if (step < w) {
      const progress = step / Math.max(1, w);
      let factor = 0;
      if (warmupType === 'linear') factor = progress;
      else if (warmupType === 'cosine') factor = 0.5 * (1.0 - Math.cos(Math.PI * progress));
      else if (warmupType === '1-sqrt') factor = 1.0 - Math.sqrt(1.0 - progress);
      factor = factor * (1.0 - minLrRatio) + minLrRatio;
      return Math.max(0.0, factor);
    }
    if (step < w + s) return 1.0;
    if (step < w + s + d) {
      const progress = (step - w - s) / Math.max(1, d);
      let factor = 0;
      if (decayType === 'linear') factor = 1.0 - progress;
      else if (decayType === 'cosine') factor = 0.5 * (1.0 + Math.cos(Math.PI * numCycles * 2.0 * progress));
      else if (decayType === '1-sqrt') factor = 1.0 - Math.sqrt(progress);
      factor = factor * (1.0 - minLrRatio) + minLrRatio;
      return Math.max(0.0, factor);
    }
    return minLrRatio;
  };
}

/**
 * get_cosine_with_min_lr_schedule_with_warmup (min_lr_rate = min_lr / optimizer.defaults["lr"])
 * and _get_cosine_schedule_with_warmup_lr_lambda with its min_lr_rate.
 */
function hfCosineWithMinLr(o: { numWarmupSteps: number; numTrainingSteps: number; numCycles?: number; minLr?: number; minLrRate?: number }, defaultLr: number): Lambda {
  const { numWarmupSteps: w, numTrainingSteps: n, numCycles = 0.5 } = o;
  const minLrRate = o.minLr !== undefined ? o.minLr / defaultLr : o.minLrRate!;
  return (step) => {
    if (step < w) return step / Math.max(1, w);
    const progress = (step - w) / Math.max(1, n - w);
    let factor = 0.5 * (1.0 + Math.cos(Math.PI * numCycles * 2.0 * progress));
    factor = factor * (1 - minLrRate) + minLrRate;
    return Math.max(0, factor);
  };
}

// ---- optax, optax/schedules/_schedule.py and _join.py -------------------------------------------

/** piecewise_interpolate_schedule (with _linear_interpolate / _cosine_interpolate) */
function optaxPiecewiseInterpolate(interpolateType: 'linear' | 'cosine', initValue: number, boundariesAndScales: Record<number, number>): Lambda {
  const interpolate = interpolateType === 'linear'
    ? (start: number, end: number, pct: number) => (end - start) * pct + start
    : (start: number, end: number, pct: number) => end + ((start - end) / 2.0) * (Math.cos(Math.PI * pct) + 1);
  const items = Object.entries(boundariesAndScales).map(([b, s]) => [Number(b), s]).sort((a, b) => a[0] - b[0]);
  const bounds = [0, ...items.map(([b]) => b)];
  const values = [initValue];
  for (const [, s] of items) values.push(values[values.length - 1] * s); // cumprod
  return (count) => {
    let sum = 0; // indicator.dot(interp_vals)
    for (let k = 0; k + 1 < bounds.length; k++) {
      const indicator = bounds[k] <= count && count < bounds[k + 1];
      const pct = (count - bounds[k]) / Math.max(bounds[k + 1] - bounds[k], 1);
      if (indicator) sum += interpolate(values[k], values[k + 1], pct);
    }
    return sum + (bounds[bounds.length - 1] <= count ? values[values.length - 1] : 0);
  };
}

/** polynomial_schedule (linear_schedule is power 1), transition_begin = 0 */
function optaxPolynomial(initValue: number, endValue: number, power: number, transitionSteps: number): Lambda {
  if (transitionSteps <= 0) return () => initValue;
  return (count) => {
    const c = Math.min(Math.max(count, 0), transitionSteps);
    const frac = 1 - c / transitionSteps;
    return (initValue - endValue) * frac ** power + endValue;
  };
}

/** cosine_decay_schedule */
function optaxCosineDecay(initValue: number, decaySteps: number, alpha: number, exponent: number): Lambda {
  if (!(decaySteps > 0)) throw new Error('The cosine_decay_schedule requires positive decay_steps');
  return (count) => {
    const c = Math.min(count, decaySteps);
    const cosineDecay = 0.5 * (1 + Math.cos((Math.PI * c) / decaySteps));
    const decayed = (1 - alpha) * cosineDecay ** exponent + alpha;
    return initValue * decayed;
  };
}

/** join_schedules */
function optaxJoin(schedules: Lambda[], boundaries: number[]): Lambda {
  return (step) => {
    let output = schedules[0](step);
    boundaries.forEach((boundary, i) => { output = step < boundary ? output : schedules[i + 1](step - boundary); });
    return output;
  };
}

interface OptaxCycle { initValue: number; peakValue: number; warmupSteps: number; decaySteps: number; endValue?: number; exponent?: number }

/** warmup_cosine_decay_schedule */
function optaxWarmupCosineDecay({ initValue, peakValue, warmupSteps, decaySteps, endValue = 0, exponent = 1 }: OptaxCycle): Lambda {
  const alpha = peakValue === 0.0 ? 0.0 : endValue / peakValue;
  return optaxJoin([optaxPolynomial(initValue, peakValue, 1, warmupSteps), optaxCosineDecay(peakValue, decaySteps - warmupSteps, alpha, exponent)], [warmupSteps]);
}

/** sgdr_schedule */
function optaxSgdr(cosineKwargs: OptaxCycle[]): Lambda {
  const boundaries: number[] = [], schedules: Lambda[] = [];
  let step = 0;
  for (const kwargs of cosineKwargs) {
    schedules.push(optaxWarmupCosineDecay(kwargs));
    boundaries.push(step + kwargs.decaySteps);
    step += kwargs.decaySteps;
  }
  return optaxJoin(schedules, boundaries.slice(0, -1));
}

// ---- the comparison ------------------------------------------------------------------------------

const RTOL = 1e-9, ATOL = 1e-15;
const GROUP_LRS = [0.1, 0.03];

async function sgd(lrs = GROUP_LRS): Promise<Opt> {
  const store = await ParameterStore.create({ backend: 'js' });
  return new SGD(lrs.map((lr, i) => ({ params: [store.parameter(`w${i}`, 3)], lr })), { lr: lrs[0], momentum: 0.9 }) as unknown as Opt;
}

/** The worst |ours - ref| / (RTOL |ref| + ATOL) of each class, over every case (reported at the end; must be <= 1). */
const worst = new Map<string, number>();

/**
 * Builds the scheduler on two groups (lr 0.1 and 0.03), steps it `steps` times and checks each
 * group's lr against `reference(group lr)` at every step.
 */
async function expectMatches(make: (opt: Opt) => LRScheduler, reference: (baseLr: number) => Lambda, steps = 120): Promise<void> {
  const opt = await sgd();
  const sched = make(opt);
  const refs = GROUP_LRS.map(reference);
  for (let t = 0; t <= steps; t++) {
    opt.paramGroups.forEach((g, i) => {
      const ref = refs[i](t), ours = g.lr;
      const ratio = Math.abs(ours - ref) / (RTOL * Math.abs(ref) + ATOL);
      worst.set(sched.name, Math.max(worst.get(sched.name) ?? 0, ratio));
      if (!(ratio <= 1)) expect.fail(`${sched.name} group ${i} step ${t}: lr ${ours}, source ${ref}`);
    });
    sched.step();
  }
}

/** Hugging Face's schedules are LambdaLR: initial_lr * lr_lambda(step). */
const lambdaLR = (lambda: Lambda) => (base: number): Lambda => (t) => base * lambda(t);

describe('Hugging Face schedules (transformers/optimization.py)', () => {
  for (const w of [0, 1, 10]) {
    it(`ConstantWithWarmupLR: get_constant_schedule_with_warmup, warmup ${w}`, async () => {
      await expectMatches((o) => new ConstantWithWarmupLR(o, { warmupSteps: w }), lambdaLR(hfConstantWithWarmup(w)), 40);
    });
  }

  for (const [w, ts] of [[0, undefined], [10, undefined], [10, 3], [1, 1], [25, 100]] as const) {
    it(`InverseSqrtLR: get_inverse_sqrt_schedule, warmup ${w}, timescale ${ts ?? 'default'}`, async () => {
      await expectMatches((o) => new InverseSqrtLR(o, { warmupSteps: w, ...(ts === undefined ? {} : { timescale: ts }) }), lambdaLR(hfInverseSqrt(w, ts)), 200);
    });
  }

  const shapes = ['linear', 'cosine', '1-sqrt'] as const;
  for (const warmupType of shapes) {
    for (const decayType of shapes) {
      it(`WarmupStableDecayLR: get_wsd_schedule, ${warmupType} warm-up, ${decayType} decay`, async () => {
        await expectMatches((o) => new WarmupStableDecayLR(o, { warmupSteps: 10, decaySteps: 30, totalSteps: 70, warmupType, decayType, minLrRatio: 0.1 }),
          lambdaLR(hfWsd({ numWarmupSteps: 10, numDecaySteps: 30, numTrainingSteps: 70, warmupType, decayType, minLrRatio: 0.1 })), 100);
      });
    }
  }
  it('WarmupStableDecayLR: stableSteps instead of totalSteps, no warm-up, a 1.5-wave cosine, minLrRatio 0', async () => {
    await expectMatches((o) => new WarmupStableDecayLR(o, { warmupSteps: 0, decaySteps: 40, stableSteps: 15, numCycles: 1.5 }),
      lambdaLR(hfWsd({ numWarmupSteps: 0, numDecaySteps: 40, numStableSteps: 15, numCycles: 1.5 })), 80);
  });
  it('WarmupStableDecayLR: no decay steps, no stable steps', async () => {
    await expectMatches((o) => new WarmupStableDecayLR(o, { warmupSteps: 5, decaySteps: 0, totalSteps: 5, minLrRatio: 0.25 }),
      lambdaLR(hfWsd({ numWarmupSteps: 5, numDecaySteps: 0, numTrainingSteps: 5, minLrRatio: 0.25 })), 20);
  });

  const cosineCases = [
    { numWarmupSteps: 10, numTrainingSteps: 100, minLrRate: 0.1 },
    { numWarmupSteps: 0, numTrainingSteps: 60, minLrRate: 0 },
    { numWarmupSteps: 7, numTrainingSteps: 50, numCycles: 1.5, minLrRate: 0.05 },
    { numWarmupSteps: 20, numTrainingSteps: 20, minLrRate: 0.3 },
  ];
  for (const c of cosineCases) {
    it(`CosineWithMinLR: get_cosine_with_min_lr_schedule_with_warmup ${JSON.stringify(c)} (past totalSteps too)`, async () => {
      await expectMatches((o) => new CosineWithMinLR(o, { warmupSteps: c.numWarmupSteps, totalSteps: c.numTrainingSteps, numCycles: c.numCycles, minLrRate: c.minLrRate }),
        lambdaLR(hfCosineWithMinLr(c, 0.1)), 140);
    });
  }
  it('CosineWithMinLR: minLr, as Hugging Face on one group (min_lr / the default lr); each group reaches it on several', async () => {
    const c = { numWarmupSteps: 5, numTrainingSteps: 80, minLr: 0.002 };
    const opt = await sgd([0.1]);
    const one = new CosineWithMinLR(opt, { warmupSteps: 5, totalSteps: 80, minLr: 0.002 });
    const ref = lambdaLR(hfCosineWithMinLr(c, 0.1))(0.1);
    for (let t = 0; t <= 100; t++) {
      expect(Math.abs(opt.paramGroups[0].lr - ref(t))).toBeLessThanOrEqual(RTOL * Math.abs(ref(t)) + ATOL);
      one.step();
    }
    // Per group: Hugging Face's formula with each group's own lr as the default.
    await expectMatches((o) => new CosineWithMinLR(o, { warmupSteps: 5, totalSteps: 80, minLr: 0.002 }), (base) => lambdaLR(hfCosineWithMinLr(c, base))(base), 100);
    const two = await sgd();
    const s = new CosineWithMinLR(two, { warmupSteps: 5, totalSteps: 80, minLr: [0.002, 0.001] });
    for (let t = 0; t < 80; t++) s.step();
    expect(two.paramGroups.map((g) => g.lr)).toEqual([expect.closeTo(0.002, 15), expect.closeTo(0.001, 15)]);
  });
});

describe('optax schedules (optax/schedules/_schedule.py)', () => {
  it("piecewise_interpolate_schedule's documented example: init 1, {4: 0.1, 8: 0.01}, linear", () => {
    const s = piecewiseInterpolateSchedule({ baseLr: 1, boundaries: [4, 8], scales: [0.1, 0.01] });
    expect([0, 2, 4, 6, 8, 10].map((t) => Number(s(t).toFixed(6)))).toEqual([1, 0.55, 0.1, 0.0505, 0.001, 0.001]);
  });

  const piecewise: [string, 'linear' | 'cosine', Record<number, number>][] = [
    ['two boundaries', 'linear', { 30: 0.1, 70: 0.5 }],
    ['two boundaries', 'cosine', { 30: 0.1, 70: 0.5 }],
    ['a boundary at 0, adjacent boundaries, a zero scale', 'cosine', { 0: 2, 10: 0.5, 11: 3, 50: 0, 60: 4 }],
    ['a warm-up: x0.01 at step 0, x100 at step 20', 'linear', { 0: 0.01, 20: 100 }],
    ['no boundaries', 'linear', {}],
  ];
  for (const [label, kind, bs] of piecewise) {
    it(`PiecewiseInterpolateLR: ${kind}, ${label}`, async () => {
      const keys = Object.keys(bs).map(Number).sort((a, b) => a - b);
      await expectMatches((o) => new PiecewiseInterpolateLR(o, { interpolateType: kind, boundaries: keys, scales: keys.map((k) => bs[k]) }),
        (base) => optaxPiecewiseInterpolate(kind, base, bs), 100);
    });
  }

  const sgdr: [string, { cycleSteps: number[]; peakFactors?: number[]; warmupSteps?: number; startFactor?: number; endFactor?: number; exponent?: number }][] = [
    ['three cycles with warm-up and falling peaks', { cycleSteps: [20, 30, 40], peakFactors: [1, 0.5, 0.25], warmupSteps: 5, startFactor: 0.01, endFactor: 0.001 }],
    ['no warm-up, equal peaks (PyTorch-style SGDR)', { cycleSteps: [10, 10, 10, 10] }],
    ['exponent 2, one cycle, held past the end', { cycleSteps: [50], warmupSteps: 10, exponent: 2, endFactor: 0.1 }],
    ['a zero peak (alpha 0) and exponent 0.5', { cycleSteps: [15, 15, 25], peakFactors: [1, 0, 2], warmupSteps: 1, endFactor: 0.05, exponent: 0.5 }],
  ];
  for (const [label, c] of sgdr) {
    it(`WarmupCosineRestartsLR: sgdr_schedule of warmup_cosine_decay_schedule, ${label}`, async () => {
      const reference = (base: number) => optaxSgdr(c.cycleSteps.map((n, k) => ({
        initValue: base * (c.startFactor ?? 0), peakValue: base * (c.peakFactors?.[k] ?? 1), warmupSteps: c.warmupSteps ?? 0, decaySteps: n,
        endValue: base * (c.endFactor ?? 0), exponent: c.exponent ?? 1,
      })));
      await expectMatches((o) => new WarmupCosineRestartsLR(o, c), reference, 120);
    });
  }
});

it('worst error of each schedule as a fraction of the tolerance', () => {
  expect([...worst.keys()].sort()).toEqual(['ConstantWithWarmupLR', 'CosineWithMinLR', 'InverseSqrtLR', 'PiecewiseInterpolateLR', 'WarmupCosineRestartsLR', 'WarmupStableDecayLR']);
  for (const [name, ratio] of worst) expect(ratio, name).toBeLessThanOrEqual(1);
  if (process.env.SIMDOPT_REPORT_TOLERANCE) console.log(Object.fromEntries(worst));
});
