// The MNIST job's numbers and report: per (optimizer, schedule) the mean and spread over seeds
// of the epochs to the target accuracy and of the accuracy at the budget, 1Cycle's speed-up
// over each baseline, and a self-contained HTML page with the range tests and the curves.
import { mdTableToHtml, reportPage } from './report.js';
import { SWEEP_FACTORS, type MnistResult, type MnistRun, type MnistSchedule } from './mnist-run.js';
import { esc, lineChart, rangeTestChart } from './svg.js';

/** Mean and sample standard deviation (0 for one value). */
function stats(xs: readonly number[]): { mean: number; sd: number } {
  const mean = xs.reduce((s, x) => s + x, 0) / xs.length;
  const sd = xs.length > 1 ? Math.sqrt(xs.reduce((s, x) => s + (x - mean) ** 2, 0) / (xs.length - 1)) : 0;
  return { mean, sd };
}

/** The seeds of one (optimizer, schedule), summarised. */
export interface MnistSummaryRow {
  optimizer: string;
  label: string;
  schedule: MnistSchedule;
  baseLr: number;
  peakLr: number;
  seeds: number;
  /** Seeds whose run reached the target accuracy. */
  reached: number;
  /** Epochs to the target over the seeds that reached it; null when none did. */
  epochsToTarget: { mean: number; sd: number } | null;
  /** Iterations to the target, mean over the seeds that reached it. */
  itersToTarget: number | null;
  /** Mean epochs to the target counting a seed that never reached it as the whole budget (then a lower bound). */
  epochsBound: number;
  /** Test accuracy at the end of the budget. */
  accuracy: { mean: number; sd: number };
  /** Mean training loss over the last epoch, mean over seeds. */
  lastEpochLoss: number;
  /** Seeds whose run diverged. */
  diverged: number;
}

/** One row per (optimizer, schedule), in the order run. */
export function mnistSummary(result: MnistResult): MnistSummaryRow[] {
  const ipe = result.itersPerEpoch, budget = result.config.epochs;
  const groups = new Map<string, MnistRun[]>();
  for (const r of result.runs) {
    const key = `${r.optimizer}/${r.schedule}`;
    groups.set(key, [...(groups.get(key) ?? []), r]);
  }
  return [...groups.values()].map((runs) => {
    const hit = runs.filter((r) => r.itersToTarget !== null).map((r) => r.itersToTarget!);
    const tail = runs.map((r) => stats(r.losses.slice(-ipe)).mean);
    return {
      optimizer: runs[0].optimizer, label: runs[0].label, schedule: runs[0].schedule,
      baseLr: runs[0].baseLr, peakLr: Math.max(...runs.map((r) => r.peakLr)), seeds: runs.length, reached: hit.length,
      epochsToTarget: hit.length ? stats(hit.map((i) => i / ipe)) : null,
      itersToTarget: hit.length ? stats(hit).mean : null,
      epochsBound: stats(runs.map((r) => (r.itersToTarget ?? budget * ipe) / ipe)).mean,
      accuracy: stats(runs.map((r) => r.finalAccuracy)),
      lastEpochLoss: stats(tail.filter(Number.isFinite)).mean,
      diverged: runs.filter((r) => r.diverged).length,
    };
  });
}

/** 1Cycle against one baseline: the ratio of mean epochs to target (> 1: 1Cycle faster), and whether it is only a bound. */
export interface Speedup {
  schedule: MnistSchedule;
  /** Baseline epochs ÷ 1Cycle epochs; null when neither reached the target. */
  ratio: number | null;
  /**
   * 'at least' when the baseline missed the target in some seed (counted as the whole budget),
   * 'at most' when 1Cycle did, 'unknown' when both did (the ratio then says little).
   */
  bound?: 'at least' | 'at most' | 'unknown';
  /** 1Cycle's accuracy at the budget minus the baseline's (mean over seeds). */
  accuracyGain: number;
}

/** Per optimizer, 1Cycle against every other schedule run. */
export function oneCycleVersus(result: MnistResult): { optimizer: string; label: string; speedups: Speedup[] }[] {
  const rows = mnistSummary(result);
  return [...new Set(rows.map((r) => r.optimizer))].flatMap((o) => {
    const mine = rows.filter((r) => r.optimizer === o), one = mine.find((r) => r.schedule === 'onecycle');
    if (!one) return [];
    const speedups = mine.filter((r) => r !== one).map((b): Speedup => {
      const none = one.reached === 0 && b.reached === 0;
      const missed = [b.reached < b.seeds, one.reached < one.seeds];
      const bound = missed[0] && missed[1] ? 'unknown' : missed[0] ? 'at least' : missed[1] ? 'at most' : undefined;
      return { schedule: b.schedule, ratio: none ? null : b.epochsBound / one.epochsBound, ...(bound && !none ? { bound } : {}), accuracyGain: one.accuracy.mean - b.accuracy.mean };
    });
    return [{ optimizer: o, label: one.label, speedups }];
  });
}

const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
const pm = (s: { mean: number; sd: number }, f: (x: number) => string, n: number) => (n > 1 ? `${f(s.mean)} ± ${f(s.sd)}` : f(s.mean));
const lr = (x: number) => String(Number(x.toPrecision(3)));
const ratioText = (s: Speedup) => (s.ratio === null ? 'neither reached'
  : s.bound === 'unknown' ? `? (both missed in some seeds)` : `${s.bound === 'at least' ? '≥ ' : s.bound === 'at most' ? '≤ ' : ''}${s.ratio.toFixed(2)}×`);

/** The summary as a Markdown table (also printed by the CLI). */
export function mnistTable(result: MnistResult): string {
  const c = result.config, t = pct(c.target);
  const rows = [`| optimizer | schedule | lr (base) | peak lr | epochs to ${t} | iterations to ${t} | test accuracy at ${c.epochs} epochs | last-epoch train loss | diverged |`,
    '|---|---|---:|---:|---:|---:|---:|---:|---:|'];
  for (const r of mnistSummary(result)) {
    const reached = r.epochsToTarget === null ? `not reached (0/${r.seeds})` : `${pm(r.epochsToTarget, (x) => x.toFixed(2), r.reached)}${r.reached < r.seeds ? ` (${r.reached}/${r.seeds})` : ''}`;
    rows.push(`| ${r.label} | ${r.schedule} | ${lr(r.baseLr)} | ${lr(r.peakLr)} | ${reached} | ${r.itersToTarget === null ? '-' : r.itersToTarget.toFixed(0)} | ${pm(r.accuracy, pct, r.seeds)} | ${r.lastEpochLoss.toFixed(4)} | ${r.diverged ? `${r.diverged}/${r.seeds} diverged` : 'no'} |`);
  }
  return rows.join('\n');
}

/** 1Cycle's speed-up over each baseline as a Markdown table. */
export function mnistSpeedupTable(result: MnistResult): string {
  const versus = oneCycleVersus(result);
  const schedules = [...new Set(versus.flatMap((v) => v.speedups.map((s) => s.schedule)))];
  const rows = [`| optimizer | ${schedules.map((s) => `${s} ÷ 1Cycle`).join(' | ')} |`, `|---|${schedules.map(() => '---:').join('|')}|`];
  for (const v of versus) rows.push(`| ${v.label} | ${schedules.map((s) => { const x = v.speedups.find((y) => y.schedule === s); return x ? ratioText(x) : '-'; }).join(' | ')} |`);
  return rows.join('\n');
}

/** What the job found, per optimizer, in plain words: 1Cycle against the fastest other schedule. */
export function mnistHeadline(result: MnistResult): string {
  const c = result.config, rows = mnistSummary(result), t = pct(c.target);
  const parts = oneCycleVersus(result).map((v) => {
    const one = rows.find((r) => r.optimizer === v.optimizer && r.schedule === 'onecycle')!;
    const best = rows.filter((r) => r.optimizer === v.optimizer && r.schedule !== 'onecycle').sort((a, b) => a.epochsBound - b.epochsBound || b.accuracy.mean - a.accuracy.mean)[0];
    if (!best) return `${v.label}: 1Cycle reached ${pct(one.accuracy.mean)}`;
    const s = v.speedups.find((x) => x.schedule === best.schedule)!;
    const when = (r: MnistSummaryRow) => (r.epochsToTarget === null ? 'never'
      : `in ${r.epochsToTarget.mean.toFixed(2)} epochs${r.reached < r.seeds ? ` in ${r.reached} of ${r.seeds} seeds` : ''}`);
    return `${v.label}: 1Cycle reached ${t} ${when(one)}, the best other schedule (${best.schedule}) ${when(best)}: ${ratioText(s)}; ` +
      `at ${c.epochs} epochs 1Cycle ${pct(one.accuracy.mean)} against ${pct(best.accuracy.mean)}`;
  });
  return `${parts.join('. ')}.`;
}

/** A training loss curve: mean over seeds of the mini-batch loss, averaged over windows of `w` iterations. */
function windowed(runs: readonly MnistRun[], w: number, ipe: number): { values: number[]; x: number[] } {
  const n = Math.min(...runs.map((r) => r.losses.length));
  const values: number[] = [], x: number[] = [];
  for (let s = 0; s + w <= n; s += w) {
    values.push(stats(runs.map((r) => stats(r.losses.slice(s, s + w)).mean)).mean);
    x.push((s + w) / ipe);
  }
  return { values, x };
}

/** Renders the report (a complete HTML document, no external resources). */
export function renderMnistReport(result: MnistResult, meta: { date: string; engine: string }): string {
  const c = result.config, ipe = result.itersPerEpoch, rows = mnistSummary(result);
  const byOpt = (o: string) => result.runs.filter((r) => r.optimizer === o);
  const size = { width: 560, height: 300 };
  const sections = result.choices.map((choice) => {
    const runs = byOpt(choice.optimizer), schedules = [...new Set(runs.map((r) => r.schedule))];
    const of = (s: MnistSchedule) => runs.filter((r) => r.schedule === s);
    const marked = (s: MnistSchedule) => `${s}${of(s).some((r) => r.diverged) ? ' (diverged)' : ''}`;
    const range = rangeTestChart(choice.rangeTest, {
      title: `${choice.label}: LR range test`, ...size,
      markers: [{ x: choice.peakLr, label: `1Cycle peak ${lr(choice.peakLr)} (min/10)`, color: '#d62728' }, { x: choice.constantLr, label: `constant lr ${lr(choice.constantLr)} (sweep)`, color: '#2ca02c' }],
    });
    const accuracy = lineChart([
      ...schedules.map((s) => {
        const evals = of(s).map((r) => r.evals);
        const k = Math.min(...evals.map((e) => e.length));
        return { name: marked(s), x: evals[0].slice(0, k).map((e) => e.iteration / ipe), values: Array.from({ length: k }, (_, i) => stats(evals.map((e) => e[i].accuracy)).mean) };
      }),
      { name: `target ${pct(c.target)}`, x: [0, c.epochs], values: [c.target, c.target], color: '#999', dashed: true },
    ], { title: `${choice.label}: test accuracy (mean of ${c.seeds} seed${c.seeds > 1 ? 's' : ''})`, xLabel: 'epoch', yLabel: 'test accuracy', ...size });
    const loss = lineChart(schedules.map((s) => ({ name: marked(s), ...windowed(of(s), Math.max(1, Math.round(ipe / 8)), ipe) })),
      { title: `${choice.label}: training loss (mean of ${c.seeds} seed${c.seeds > 1 ? 's' : ''})`, xLabel: 'epoch', yLabel: 'loss (log)', logY: true, ...size });
    const first = (s: MnistSchedule) => of(s)[0];
    const x = (r: MnistRun) => r.lrs.map((_, i) => i / ipe);
    const lrs = lineChart(schedules.map((s) => ({ name: s, values: first(s).lrs, x: x(first(s)) })),
      { title: `${choice.label}: lr (1Cycle peak ${lr(choice.peakLr)}, others from ${lr(choice.constantLr)})`, xLabel: 'epoch', yLabel: 'lr', ...size });
    const momentum = first(schedules[0]).momenta.some((m) => m !== null)
      ? lineChart(schedules.map((s) => ({ name: s, values: first(s).momenta, x: x(first(s)) })), { title: `${choice.label}: momentum (β1 for the Adam family)`, xLabel: 'epoch', yLabel: 'momentum', ...size })
      : '';
    const sweep = choice.sweep.map((s) => `${lr(s.lr)}: ${Number.isFinite(s.loss) ? s.loss.toFixed(4) : 'diverged'}`).join(', ');
    return `<h3 id="${esc(choice.optimizer)}">${esc(choice.label)}</h3>
<p class="note">LR range test: ${choice.rangeTest.lrs.length} iterations${choice.rangeTest.stoppedEarly ? ` (stopped: ${esc(choice.rangeTest.stopMessage ?? '')})` : ''}; lowest smoothed loss at lr ${lr(choice.peakLr * 10)}, so 1Cycle peaks at <b>${lr(choice.peakLr)}</b>.
Constant-lr sweep (${c.sweepEpochs} epoch${c.sweepEpochs > 1 ? 's' : ''} each, mean training loss over its second half): ${esc(sweep)}; the baselines start from <b>${lr(choice.constantLr)}</b>.</p>
<div class="charts">${[range, accuracy, loss, lrs, momentum].filter(Boolean).join('\n')}</div>`;
  });
  const runRows = ['| optimizer | schedule | seed | base lr | peak lr | iterations to target | test accuracy | diverged | time (ms) |', '|---|---|---:|---:|---:|---:|---:|---:|---:|',
    ...result.runs.map((r) => `| ${r.label} | ${r.schedule} | ${r.seed} | ${lr(r.baseLr)} | ${lr(r.peakLr)} | ${r.itersToTarget ?? '-'} | ${pct(r.finalAccuracy)} | ${r.diverged ? 'diverged' : 'no'} | ${r.ms.toFixed(0)} |`)].join('\n');
  const diverged = rows.filter((r) => r.diverged > 0);
  return reportPage('simdopt: 1Cycle and the LR range test on MNIST digits', `<h1>1Cycle and the LR range test on MNIST digits</h1>
<p class="note"><b>Set-up.</b> ${c.train.toLocaleString('en')} training and ${c.test.toLocaleString('en')} test digits of the <code>mnist</code> package (real MNIST digits,
a fixed split from a seed); a ${c.layers.join('–')} ReLU MLP (forward and backward passes in this project, weights in a simdopt store on the
<b>${esc(result.backend)}</b> backend, ${result.threads} thread${result.threads > 1 ? 's' : ''}); softmax cross-entropy; mini-batches of ${c.batch}
(${ipe} iterations per epoch); every run ${c.epochs} epochs (${c.epochs * ipe} iterations), the test set evaluated ${c.evalsPerEpoch}× per epoch; ${c.seeds} seed${c.seeds > 1 ? 's' : ''} (initial weights and batch order) per optimizer and schedule.
<b>Protocol</b> (after Smith &amp; Topin, 2017, and fast.ai): per optimizer, an LR range test (${c.rangeIters} mini-batches, lr swept geometrically) whose lowest smoothed loss, divided by 10, is 1Cycle's peak;
1Cycle (PyTorch's OneCycleLR: warm-up over 30% from peak/25, cosine annealing to peak/25/10⁴, momentum or β1 cycled 0.95 → 0.85 → 0.95);
a constant lr, the best of a start-up sweep (1Cycle's peak × ${SWEEP_FACTORS.map((f) => (f >= 1 ? f : `1/${Math.round(1 / f)}`)).join(', ')}, ${c.sweepEpochs}-epoch runs, lowest training loss);
step decay from that lr (×0.1 at 50% and 75% of the budget, the paper's piecewise-constant baseline); cosine annealing from it to 0.
Target: ${pct(c.target)} test accuracy. ${esc(meta.engine)}, ${esc(meta.date)}.</p>
<h2 id="headline">Is 1Cycle faster?</h2>
<p class="headline">${esc(mnistHeadline(result))}</p>
<p class="note">Epochs to the target, baseline ÷ 1Cycle (higher: 1Cycle faster). A seed that never reached the target counts as the whole budget, so a ratio marked ≥ or ≤ is a bound.
The paper: ResNet-56 on CIFAR-10 reached 92.4% in 10,000 iterations with 1Cycle where the piecewise-constant baseline needed about 80,000 for 91.2%;
an independent MNIST/LeNet reproduction: 12 epochs against 85.</p>
${mdTableToHtml(mnistSpeedupTable(result))}
${diverged.length ? `<p class="note"><b>Diverged:</b> ${diverged.map((r) => `${esc(r.label)} / ${r.schedule} (${r.diverged}/${r.seeds} seeds)`).join(', ')}: the training loss became non-finite or rose above 3× its start.</p>` : '<p class="note">No run diverged.</p>'}
<h2 id="summary">All schedules</h2>
${mdTableToHtml(mnistTable(result), 2)}
<h2 id="curves">Range tests and curves</h2>
${sections.join('\n')}
<h2 id="runs">Every run</h2>
<details><summary>${result.runs.length} runs: base and peak lr, iterations to the target, accuracy</summary>
${mdTableToHtml(runRows, 2)}
</details>
`);
}
