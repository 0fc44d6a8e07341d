// The test registry (test/registry.ts) against the library's: every optimizer class of
// src/registry.ts has a class entry and at least one case, and every case names a class.
import { describe, expect, it } from 'vitest';
import { OPTIMIZERS } from '../src/index.js';
import { OPTIMIZER_CASES, OPTIMIZER_CLASSES, optimizerClass } from './registry.js';

describe('test registry', () => {
  it('has every class of the registry once, and at least one case for each', () => {
    const classes = new Set(OPTIMIZERS.map((e) => e.optimizer));
    expect(OPTIMIZER_CLASSES.length).toBe(classes.size);
    const withCases = new Set(OPTIMIZER_CASES.map((c) => c.torch));
    expect(OPTIMIZER_CLASSES.map((c) => c.torch).filter((t) => !withCases.has(t)), 'classes with no case in OPTIMIZER_CASES').toEqual([]);
  });

  it('every case names a class of the registry; case names are unique', () => {
    for (const c of OPTIMIZER_CASES) expect(optimizerClass(c.torch), c.name).toBeDefined();
    expect(new Set(OPTIMIZER_CASES.map((c) => c.name)).size).toBe(OPTIMIZER_CASES.length);
  });

  it('reads each class from the registry: PyTorch name, declared state buffers, where momentum lives', () => {
    expect(optimizerClass('SGD')).toMatchObject({ stateKeys: ['momentumBuffer'], momentumKey: 'momentum' });
    expect(optimizerClass('Adam')).toMatchObject({ stateKeys: ['expAvg', 'expAvgSq', 'maxExpAvgSq'], momentumKey: 'betas' });
    expect(optimizerClass('Adagrad')?.momentumKey).toBeUndefined();
    expect(optimizerClass('ADOPT')?.stateKeys).toEqual(['expAvg', 'expAvgSq']); // not in PyTorch: the class's own name
    // L-BFGS: PyTorch's name, a step that needs a closure, its history as families of slots.
    expect(optimizerClass('LBFGS')).toMatchObject({ stateKeys: ['direction', 'prevFlatGrad', 'oldDirs', 'oldStps'], closure: true, modes: false });
    expect(optimizerClass('ScheduleFreeAdamW')).toMatchObject({ stateKeys: ['z', 'expAvgSq', 'expAvg'], closure: false, modes: true, momentumKey: undefined });
    expect(optimizerClass('ScheduleFreeSGD')).toMatchObject({ stateKeys: ['z'], modes: true });
    expect(optimizerClass('Adan')).toMatchObject({ stateKeys: ['expAvg', 'expAvgDiff', 'expAvgSq', 'prevGrad'], momentumKey: 'betas' });
    expect(optimizerClass('AdEMAMix')).toMatchObject({ stateKeys: ['expAvgFast', 'expAvgSlow', 'expAvgSq'], momentumKey: 'betas' });
  });
});
