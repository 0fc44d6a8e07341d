// The MNIST main job: the data split, the network's gradients (finite differences), and a
// shortened run of the whole protocol (few digits, one epoch, one seed) whose report is written,
// whose numbers are all finite, and whose 1Cycle peak is the LR range test's.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ParameterStore } from '../src/index.js';
import { BatchMLP } from '../src/demo/mnist-mlp.js';
import { MNIST_PIXELS, mnistSplit } from '../src/demo/mnist.js';
import { MNIST_SCHEDULES, SWEEP_FACTORS, runMnist, type MnistResult } from '../src/demo/mnist-run.js';
import { mnistSummary, mnistTable, oneCycleVersus, renderMnistReport } from '../src/demo/mnist-report.js';

describe('MNIST data', () => {
  it('a seeded split: the same digits every time, train and test disjoint, every class present', () => {
    const a = mnistSplit(300, 100), b = mnistSplit(300, 100);
    expect(a.train.x).toEqual(b.train.x);
    expect(a.test.y).toEqual(b.test.y);
    const key = (s: { x: Float32Array }, i: number) => Array.from(s.x.subarray(i * MNIST_PIXELS, (i + 1) * MNIST_PIXELS)).join();
    const train = new Set(Array.from({ length: 300 }, (_, i) => key(a.train, i)));
    expect(Array.from({ length: 100 }, (_, i) => key(a.test, i)).filter((k) => train.has(k))).toEqual([]);
    expect(new Set(a.train.y).size).toBe(10);
    expect(a.train.x.every((v) => v >= 0 && v <= 1)).toBe(true);
    expect(() => mnistSplit(9000, 2000)).toThrow(/at most 10000/);
  });
});

describe('BatchMLP', () => {
  it('backward pass matches central finite differences on every layer', async () => {
    const store = await ParameterStore.create({ backend: 'js' });
    const model = new BatchMLP(store, [MNIST_PIXELS, 12, 10], 5);
    const { train } = mnistSplit(16, 10);
    const order = Array.from({ length: 16 }, (_, i) => i);
    model.lossAndGrad(train, order, 0, 16);
    let checked = 0;
    for (const p of model.parameters) {
      const analytic = p.grad.slice();
      // the biggest gradient entries (most pixels are blank, so most first-layer entries are 0)
      const idx = Array.from(analytic.keys()).sort((i, j) => Math.abs(analytic[j]) - Math.abs(analytic[i])).slice(0, 3);
      for (const i of idx) {
        const old = p.data[i], h = 1e-3; // small: a ReLU kink lies within 1e-2 of one bias
        p.data[i] = old + h; const up = model.lossAndGrad(train, order, 0, 16);
        p.data[i] = old - h; const down = model.lossAndGrad(train, order, 0, 16);
        p.data[i] = old;
        const numeric = (up - down) / (2 * h);
        expect(Math.abs(numeric - analytic[i])).toBeLessThan(1e-4 + 2e-2 * Math.abs(numeric));
        checked++;
      }
    }
    expect(checked).toBe(12);
    const ev = model.evaluate(train, 5); // batches of 5: 3 full, 1 partial
    expect(ev.accuracy).toBeGreaterThanOrEqual(0);
    expect(Number.isFinite(ev.loss)).toBe(true);
    store.dispose();
  });
});

describe('the shortened job', () => {
  let result: MnistResult;
  it('runs the protocol: range test, sweep, every optimizer x schedule', async () => {
    const progress: number[] = [];
    result = await runMnist({ train: 320, test: 100, hidden: [16], batch: 32, epochs: 1, seeds: 1, rangeIters: 24, target: 0.5, backend: 'js', onProgress: (done, total) => progress.push(done / total) });
    expect(result.runs.length).toBe(3 * MNIST_SCHEDULES.length);
    expect(result.itersPerEpoch).toBe(10);
    expect(progress.at(-1)).toBe(1);
    for (const r of result.runs) {
      for (const x of [r.baseLr, r.peakLr, r.finalAccuracy, r.finalTestLoss, r.ms, ...r.losses, ...r.lrs, ...r.evals.flatMap((e) => [e.iteration, e.accuracy, e.loss])]) {
        expect(Number.isFinite(x), `${r.label} / ${r.schedule}`).toBe(true);
      }
      expect(r.losses.length).toBe(10);
      expect(r.evals.at(-1)!.iteration).toBe(10);
      for (const m of r.momenta) expect(m === null || Number.isFinite(m)).toBe(true);
    }
    for (const row of mnistSummary(result)) for (const x of [row.accuracy.mean, row.accuracy.sd, row.lastEpochLoss, row.epochsBound]) expect(Number.isFinite(x)).toBe(true);
  }, 60_000);

  it("1Cycle's peak lr came from the range test; the baselines' lr from the sweep", () => {
    for (const choice of result.choices) {
      const { lrs, smoothed, suggestion } = choice.rangeTest;
      expect(lrs.length).toBeGreaterThan(2);
      const lowest = smoothed.indexOf(Math.min(...smoothed));
      expect(choice.peakLr).toBe(suggestion.minDividedBy10);
      expect(choice.peakLr).toBe(lrs[lowest] / 10);
      const one = result.runs.find((r) => r.optimizer === choice.optimizer && r.schedule === 'onecycle')!;
      expect(one.baseLr).toBe(choice.peakLr);
      expect(one.peakLr).toBeCloseTo(choice.peakLr, 6); // the schedule reached its peak
      expect(one.lrs[0]).toBeCloseTo(choice.peakLr / 25, 9);
      expect(choice.sweep.map((s) => s.lr)).toEqual(SWEEP_FACTORS.map((f) => Number((choice.peakLr * f).toPrecision(3))));
      expect(choice.sweep.map((s) => s.lr)).toContain(choice.constantLr);
      for (const s of ['constant', 'step', 'cosine']) expect(result.runs.find((r) => r.optimizer === choice.optimizer && r.schedule === s)!.baseLr).toBe(choice.constantLr);
    }
    const momentum = result.runs.find((r) => r.optimizer === 'momentum' && r.schedule === 'onecycle')!;
    expect(momentum.momenta[0]).toBeCloseTo(0.95, 12);
    const step = result.runs.find((r) => r.optimizer === 'adam' && r.schedule === 'step')!;
    expect(step.lrs[9]).toBeCloseTo(step.baseLr / 100, 9); // x0.1 at 50% and 75%
  });

  it('reuses given lrs (no range test, no sweep) and passes optimizer options on (the dtype comparison)', async () => {
    const small = { train: 320, test: 100, hidden: [16], batch: 32, epochs: 1, seeds: 1, target: 0.5, backend: 'js' as const, optimizers: ['adam'], schedules: ['onecycle' as const] };
    const fractions: number[] = [];
    const again = await runMnist({ ...small, lrChoices: result.choices, onProgress: (done, total) => fractions.push(total) });
    expect(fractions.every((t) => t === 10)).toBe(true); // the one run's 10 iterations, nothing else
    expect(again.choices[0]).toBe(result.choices.find((c) => c.optimizer === 'adam'));
    const same = result.runs.find((r) => r.optimizer === 'adam' && r.schedule === 'onecycle')!;
    expect(again.runs[0].losses).toEqual(same.losses);
    const int8 = await runMnist({ ...small, lrChoices: result.choices, optimizerOptions: { stateDtype: 'int8' } });
    expect(int8.runs[0].losses.slice(0, 2)).toEqual(same.losses.slice(0, 2)); // the first step's state starts exact
    expect(int8.runs[0].losses).not.toEqual(same.losses);
    await expect(runMnist({ ...small, lrChoices: result.choices, optimizerOptions: { stateDtype: 'float16' } })).rejects.toThrow(/stateDtype/);
  }, 60_000);

  it('writes the report: set-up, headline, tables, range tests with the peak marked, curves', () => {
    const html = renderMnistReport(result, { date: '2026-11-25', engine: 'Node test' });
    const path = join(mkdtempSync(join(tmpdir(), 'simdopt-mnist-')), 'report.html');
    writeFileSync(path, html);
    const written = readFileSync(path, 'utf8');
    expect(written.startsWith('<!doctype html>')).toBe(true);
    for (const s of ['Set-up', 'Is 1Cycle faster?', 'Node test', '2026-11-25', 'LR range test', '1Cycle peak', 'test accuracy', 'learning rate', 'momentum']) expect(written).toContain(s);
    expect((written.match(/<svg /g) ?? []).length).toBe(3 * 5); // per optimizer: range test, accuracy, loss, lr, momentum
    expect(written).not.toMatch(/<svg[^>]*>(?:(?!<\/svg>)[^])*<svg/); // no nested <svg>
    expect(written).not.toMatch(/<(script|link|img)[^>]+(src|href)=/);
    expect(written).not.toMatch(/NaN|undefined/);
    expect(mnistTable(result).split('\n').length).toBe(2 + 12);
    expect(oneCycleVersus(result).map((v) => v.speedups.length)).toEqual([3, 3, 3]);
  });
});
