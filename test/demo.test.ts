// The demo: the MLP's gradients (finite differences), the runs, the 1Cycle arithmetic and the
// report's contents.
import { describe, expect, it } from 'vitest';
import { ParameterStore } from '../src/index.js';
import { MLP } from '../src/demo/mlp.js';
import { renderReport, summaryTable } from '../src/demo/report.js';
import { DEMO_LAYERS, oneCycleSpeedup, runDemo, type DemoResult } from '../src/demo/run.js';
import { spirals } from '../src/demo/spirals.js';

describe('MLP', () => {
  it('backward pass matches central finite differences on every layer', async () => {
    const store = await ParameterStore.create({ backend: 'js' });
    const model = new MLP(store, [2, 8, 6, 3], 3);
    const data = spirals(40);
    data.y.forEach((_, i) => { data.y[i] = i % 3; }); // three classes
    model.lossAndGrad(data);
    let checked = 0;
    for (const p of model.parameters) {
      const analytic = p.grad.slice();
      for (const i of [0, Math.floor(p.size / 2), p.size - 1]) {
        const old = p.data[i], h = 1e-2;
        p.data[i] = old + h; const up = model.lossAndGrad(data).loss;
        p.data[i] = old - h; const down = model.lossAndGrad(data).loss;
        p.data[i] = old;
        const numeric = (up - down) / (2 * h);
        expect(Math.abs(numeric - analytic[i])).toBeLessThan(1e-4 + 1e-2 * Math.abs(numeric));
        checked++;
      }
    }
    expect(checked).toBe(18);
  });

  it('the data set is deterministic and balanced', () => {
    const a = spirals(200), b = spirals(200);
    expect(Array.from(a.x)).toEqual(Array.from(b.x));
    expect(a.y.reduce((s, v) => s + v, 0)).toBe(100);
  });
});

describe('runDemo and the report', () => {
  let result: DemoResult;
  it('trains every requested optimizer x schedule and records curves', async () => {
    result = await runDemo({ optimizers: ['momentum', 'adam'], steps: 150, target: 0.4, backend: 'js' });
    expect(result.runs.length).toBe(8);
    for (const r of result.runs) {
      expect(r.losses.length).toBe(150);
      expect(r.lrs.length).toBe(150);
      expect(r.finalLoss).toBeLessThan(r.losses[0]); // it learned something
    }
    const oc = result.runs.find((r) => r.optimizer === 'adam' && r.schedule === 'onecycle')!;
    expect(oc.lrs[0]).toBeCloseTo((0.01 * 3) / 25, 12);
    expect(Math.max(...oc.lrs)).toBeCloseTo(0.03, 3);
    expect(oc.momenta[0]).toBeCloseTo(0.95, 12);
    expect(result.layers).toEqual(DEMO_LAYERS);
    await expect(runDemo({ optimizers: ['nope'] })).rejects.toThrow(/unknown optimizer "nope"/);
  }, 120_000);

  it('the 1Cycle ratio: steps to target of the other schedule over 1Cycle; not reached counts as all steps', () => {
    const run = (optimizer: string, schedule: string, stepsToTarget: number | null) => ({ optimizer, schedule, stepsToTarget }) as never;
    const fake = { steps: 100, runs: [run('a', 'onecycle', 10), run('a', 'constant', 30), run('a', 'exponential', null),
      run('b', 'onecycle', 50), run('b', 'constant', 25), run('b', 'exponential', 50),
      run('c', 'onecycle', null), run('c', 'constant', null), run('c', 'exponential', 40)] } as unknown as DemoResult;
    const s = oneCycleSpeedup(fake);
    expect(s.perOptimizer).toEqual([
      { optimizer: 'a', vsConstant: 3, vsExponential: 10 }, { optimizer: 'b', vsConstant: 0.5, vsExponential: 1 },
      { optimizer: 'c', vsConstant: null, vsExponential: 0.4 }, // neither reached: no ratio
    ]);
    expect(s.medianVsConstant).toBe(1.75);
    expect(s.medianVsExponential).toBe(1);
  });

  it('the report is one self-contained document with the tables and charts', () => {
    const html = renderReport(result, { date: '2026-11-24', engine: 'Node' });
    expect(html.startsWith('<!doctype html>')).toBe(true);
    expect(html).toContain('Does 1Cycle converge faster?');
    expect(html).toMatch(/<table class="t1">[^]*<table class="t2">/); // the 1Cycle table, then all runs
    expect((html.match(/<svg /g) ?? []).length).toBe(2 + 2); // a loss chart per optimizer, lr and momentum
    expect(html).not.toMatch(/<(script|link|img)[^>]+(src|href)=/); // nothing loaded from elsewhere
    for (const r of result.runs) expect(html).toContain(r.label);
    expect(summaryTable(result).split('\n').length).toBe(2 + 8);
  });
});
