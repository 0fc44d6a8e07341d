// The registry's facts are read from the classes, not restated: check what optimizerInfo reads
// for a few entries against the classes' documented state, and that every entry builds, steps
// and reports a kernel that the module exports.
import { describe, expect, it } from 'vitest';
import { OPTIMIZERS, ParameterStore, createOptimizer, optimizerEntry, optimizerInfo } from '../src/index.js';
import { KERNEL_NAMES } from '../src/kernels/index.js';

describe('optimizerInfo reads each entry from its class', () => {
  it('Adam: two float32 buffers, 7 words moved and 4 held per parameter, the adam kernel', async () => {
    const info = await optimizerInfo(optimizerEntry('adam'));
    expect(info.className).toBe('Adam');
    expect(info.stateBuffers).toEqual([{ name: 'expAvg', dtype: 'float32' }, { name: 'expAvgSq', dtype: 'float32' }]);
    expect(info.bytesPerParameter).toBe(7 * 4);
    expect(info.bytesHeldPerParameter).toBe(4 * 4);
    expect(info.kernel).toBe('adam');
    expect(info.defaults).toMatchObject({ lr: 1e-3, betas: [0.9, 0.999], eps: 1e-8, amsgrad: false });
    expect(info.optionNames).toEqual(['lr', 'betas', 'eps', 'weightDecay', 'amsgrad', 'maximize', 'cautious', 'decoupledWeightDecay', 'stateDtype', 'stochasticRounding', 'stateSeed']);
  });

  it('Adam with bfloat16 and int8 state: the bytes each moves and holds per parameter, int8 scales included', async () => {
    const bf16 = await optimizerInfo(optimizerEntry('adam'), { stateDtype: 'bfloat16' });
    expect(bf16.stateBuffers).toEqual([{ name: 'expAvg', dtype: 'bfloat16' }, { name: 'expAvgSq', dtype: 'bfloat16' }]);
    expect([bf16.bytesPerParameter, bf16.bytesHeldPerParameter]).toEqual([3 * 4 + 2 * 2 * 2, 2 * 4 + 2 * 2]);
    const int8 = await optimizerInfo(optimizerEntry('adam'), { stateDtype: 'int8' });
    expect([int8.bytesPerParameter, int8.bytesHeldPerParameter]).toEqual([3 * 4 + 2 * 2 * (1 + 4 / 256), 2 * 4 + 2 * (1 + 4 / 256)]);
    expect(int8.kernel).toBe('adam_int8');
  });

  it('plain SGD holds no state; momentum and NAG hold a momentum buffer; ADOPT, Adan and AdEMAMix run their own kernels', async () => {
    expect((await optimizerInfo(optimizerEntry('sgd'))).stateBuffers).toEqual([]);
    expect((await optimizerInfo(optimizerEntry('sgd'))).bytesPerParameter).toBe(3 * 4);
    expect((await optimizerInfo(optimizerEntry('nag'))).stateBuffers.map((b) => b.name)).toEqual(['momentumBuffer']);
    expect((await optimizerInfo(optimizerEntry('nag'))).defaults).toMatchObject({ momentum: 0.9, nesterov: true });
    expect((await optimizerInfo(optimizerEntry('adopt'))).kernel).toBe('adopt');
    const adan = await optimizerInfo(optimizerEntry('adan'));
    expect(adan.kernel).toBe('adan');
    expect(adan.stateBuffers.map((b) => b.name)).toEqual(['expAvg', 'expAvgDiff', 'expAvgSq', 'prevGrad']);
    expect(adan.bytesPerParameter).toBe(3 * 4 + 2 * 4 * 4);
    const ademamix = await optimizerInfo(optimizerEntry('ademamix'));
    expect(ademamix.kernel).toBe('ademamix');
    expect(ademamix.stateBuffers.map((b) => b.name)).toEqual(['expAvgFast', 'expAvgSlow', 'expAvgSq']);
  });

  it('LAMB and LARS take the state options (their moments and trace), Prodigy does not (its p0 stays float32)', async () => {
    const lamb = await optimizerInfo(optimizerEntry('lamb'), { stateDtype: 'int8' });
    expect([lamb.kernel, lamb.stateBuffers]).toEqual(['lamb_int8', [{ name: 'expAvg', dtype: 'int8' }, { name: 'expAvgSq', dtype: 'int8' }]]);
    const lars = await optimizerInfo(optimizerEntry('lars'), { stateDtype: 'bfloat16' });
    expect([lars.kernel, lars.stateBuffers]).toEqual(['lars_bf16', [{ name: 'momentumBuffer', dtype: 'bfloat16' }]]);
    const prodigy = await optimizerInfo(optimizerEntry('prodigy'));
    expect(prodigy.optionNames).not.toContain('stateDtype');
    expect(prodigy.stateBuffers.map((b) => b.name)).toEqual(['s', 'p0', 'expAvg', 'expAvgSq']);
    await expect(optimizerInfo(optimizerEntry('prodigy'), { stateDtype: 'int8' })).rejects.toThrow(/Prodigy: unknown option "stateDtype"/);
  });

  it('Adafactor: the factors of the 2×2 probe, one float per parameter between them; reductions are not "the kernel"', async () => {
    const info = await optimizerInfo(optimizerEntry('adafactor'));
    expect(info.stateBuffers).toEqual([{ name: 'rowVar', dtype: 'float32' }, { name: 'colVar', dtype: 'float32' }]);
    expect(info.bytesHeldPerParameter).toBe(2 * 4 + 4); // (2 + 2) factor values over 4 parameters
    expect(info.bytesPerParameter).toBe(3 * 4 + 2 * 4);
    expect(info.kernel).toBe('rowMeanSquares');
    expect(info.defaults).toEqual({ lr: 1e-2, beta2Decay: -0.8, eps: [null, 1e-3], d: 1, weightDecay: 0, maximize: false });
  });

  for (const entry of OPTIMIZERS) {
    it(`${entry.key}: builds, steps, and names an exported kernel`, async () => {
      const info = await optimizerInfo(entry);
      expect(KERNEL_NAMES).toContain(info.kernel);
      expect(info.defaults.lr).toBe(entry.lr);
      for (const [k, v] of Object.entries(entry.options)) expect(info.defaults[k]).toEqual(v);
      const store = await ParameterStore.create({ backend: 'wasm' });
      const p = store.parameter('w', [1, 2, 3]);
      const opt = createOptimizer(entry, [p], { lr: entry.lr * 2 });
      expect(opt.paramGroups[0].lr).toBe(entry.lr * 2);
      p.grad.set([0.1, -0.2, 0.3]);
      // L-BFGS steps with a closure (here: of |p|^2 / 2).
      const closure = entry.closure ? () => { p.grad.set(p.data); return p.data.reduce((l, x) => l + x * x / 2, 0); } : undefined;
      opt.step(closure);
      opt.step(closure);
      expect(Array.from(p.data)).not.toEqual([1, 2, 3]);
      // The entry's flags say what the class is: a step that needs a closure, train and eval modes.
      expect(entry.closure === true, 'closure').toBe(opt.spec.closure === true);
      expect(entry.modes === true, 'modes').toBe(typeof (opt as unknown as { eval?: unknown }).eval === 'function');
      if (entry.closure) expect(() => opt.step()).toThrow(/a closure is required/);
    });
  }

  it('an unknown key names the known ones', () => {
    expect(() => optimizerEntry('adamm')).toThrow(/unknown optimizer "adamm" \(known: sgd, momentum, nag, .*adopt, adan, ademamix, rprop, asgd, lamb, lars, prodigy, muon, adafactor\)/);
  });
});
