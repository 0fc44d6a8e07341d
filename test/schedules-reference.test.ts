// Every case of test/fixtures/reference/schedules.json (PyTorch 1.13, written by
// scripts/reference/generate.py): the learning rate and the momentum (betas[0] for Adam) in
// effect for each optimizer step match to 1e-9 relative. MultiplicativeLR's lambdas are named in
// the fixture (LR_LAMBDAS here and in the script); 'swa-switch' is SWALR as
// torch.optim.swa_utils documents it, built beside another scheduler and stepped after it.
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  Adam, ConstantLR, CosineAnnealingLR, CosineAnnealingWarmRestarts, CyclicLR, ExponentialLR, LinearLR, MultiStepLR,
  MultiplicativeLR, OneCycleLR, ParameterStore, PolynomialLR, ReduceLROnPlateau, SGD, SWALR, SequentialLR, StepLR, readMomentum,
  type LRScheduler,
} from '../src/index.js';

interface ScheduleCase {
  name: string;
  optimizer: 'SGD' | 'Adam';
  baseLr: number;
  options: Record<string, unknown>;
  lr: number[];
  momentum?: number[];
  metrics?: number[];
}

// The fixture is part of the repository: a missing one fails the suite, it does not skip it.
const file = fileURLToPath(new URL('./fixtures/reference/schedules.json', import.meta.url));
const found = existsSync(file);
const cases = (found ? JSON.parse(readFileSync(file, 'utf8')).cases : []) as ScheduleCase[];

/** PyTorch keyword (`T_max`, `step_size_up`) to this library's option name (`tMax`, `stepSizeUp`). */
function camel(key: string): string {
  const c = key.replace(/_(\w)/g, (_, ch: string) => ch.toUpperCase());
  return c[0].toLowerCase() + c.slice(1);
}
const opts = (o: Record<string, unknown>) => Object.fromEntries(Object.entries(o).map(([k, v]) => [camel(k), v]));

type Opt = ConstructorParameters<typeof StepLR>[0];

/** MultiplicativeLR's lr_lambda by the name a case gives (generate.py's LR_LAMBDAS). */
const LR_LAMBDAS: Record<string, (t: number) => number> = {
  'constant-0.95': () => 0.95,
  'step-dependent': (t) => (t % 10 === 0 ? 0.5 : 1.0 - 0.002 * t),
};

const BUILD: Record<string, (opt: Opt, o: Record<string, unknown>) => LRScheduler | { step(): void }> = {
  onecycle: (opt, o) => new OneCycleLR(opt, o as never),
  cyclic: (opt, o) => new CyclicLR(opt, o as never),
  exponential: (opt, o) => new ExponentialLR(opt, o as never),
  step: (opt, o) => new StepLR(opt, o as never),
  multistep: (opt, o) => new MultiStepLR(opt, o as never),
  cosine: (opt, o) => new CosineAnnealingLR(opt, o as never),
  'cosine-warm-restarts': (opt, o) => new CosineAnnealingWarmRestarts(opt, o as never),
  linear: (opt, o) => new LinearLR(opt, o as never),
  polynomial: (opt, o) => new PolynomialLR(opt, o as never),
  constant: (opt, o) => new ConstantLR(opt, o as never),
  sequential: (opt, o) => new SequentialLR(opt, {
    schedulers: (o.schedulers as [string, Record<string, unknown>][]).map(([kind, so]) => BUILD[kind](opt, opts(so)) as LRScheduler),
    milestones: o.milestones as number[],
  }),
  multiplicative: (opt, o) => new MultiplicativeLR(opt, { lrLambda: LR_LAMBDAS[o.lrLambda as string] }),
  swa: (opt, o) => new SWALR(opt, o as never),
  // Both built at the start; the first stepped after optimizer steps 0 .. swaStart - 1, SWALR after the later ones.
  'swa-switch': (opt, o) => {
    const [kind, bo] = o.before as [string, Record<string, unknown>];
    const before = BUILD[kind](opt, opts(bo)), swa = new SWALR(opt, opts(o.swa as Record<string, unknown>) as never);
    let count = 0;
    return { step: () => { (count++ >= (o.swaStart as number) ? swa : before).step(); } };
  },
};

function close(actual: number, expected: number): boolean {
  return Math.abs(actual - expected) <= 1e-9 * Math.abs(expected) + 1e-15;
}

describe('PyTorch reference schedules', () => {
  it('has its fixture', () => {
    expect(found, `missing ${file}: regenerate it with python3 scripts/reference/generate.py`).toBe(true);
    expect(cases.length).toBeGreaterThan(0);
  });

  it('covers every scheduler family of the file', () => {
    const families = new Set(cases.map((c) => c.name.split('/')[0]));
    for (const f of families) expect(f === 'reduce-on-plateau' || f in BUILD, f).toBe(true);
    expect(families.size).toBeGreaterThanOrEqual(12);
  });

  for (const c of cases) {
    it(c.name, async () => {
      const store = await ParameterStore.create({ backend: 'js' });
      const w = store.parameter('w', 4);
      const opt = (c.optimizer === 'SGD' ? new SGD([w], { lr: c.baseLr, momentum: 0.9 }) : new Adam([w], { lr: c.baseLr })) as unknown as Opt;
      const family = c.name.split('/')[0];
      const plateau = family === 'reduce-on-plateau' ? new ReduceLROnPlateau(opt, opts(c.options) as never) : undefined;
      const sched = plateau ? undefined : BUILD[family](opt, opts(c.options));
      const group = opt.paramGroups[0] as unknown as Record<string, unknown>;
      for (let i = 0; i < c.lr.length; i++) {
        const lr = group.lr as number;
        if (!close(lr, c.lr[i])) expect.fail(`step ${i}: lr ${lr}, PyTorch ${c.lr[i]}`);
        if (c.momentum) {
          const m = readMomentum(group)!;
          if (!close(m, c.momentum[i])) expect.fail(`step ${i}: momentum ${m}, PyTorch ${c.momentum[i]}`);
        }
        opt.step();
        if (plateau) plateau.step(c.metrics![i]);
        else sched!.step();
      }
    });
  }
});
