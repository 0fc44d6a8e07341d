// The demo's self-contained HTML report: summary table, the 1Cycle comparison, loss curves,
// and the lr / momentum curves of each schedule.
import { DEMO_SCHEDULES, EXPONENTIAL_END, ONECYCLE_PEAK, SWEEP_DECADES, SWEEP_STEPS, oneCycleSpeedup, type DemoResult } from './run.js';
import { esc, lineChart } from './svg.js';

const ratio = (x: number | null) => (x === null ? 'neither reached' : `${x.toFixed(2)}×`);

/** The result as a Markdown-style table (also printed by the CLI). */
export function summaryTable(result: DemoResult): string {
  const rows = ['| optimizer | schedule | base lr | final loss | accuracy | steps to loss < ' + result.target + ' | time (ms) |', '|---|---|---:|---:|---:|---:|---:|'];
  for (const r of result.runs) {
    rows.push(`| ${r.label} | ${r.schedule} | ${r.baseLr} | ${r.finalLoss.toFixed(4)} | ${(100 * r.accuracy).toFixed(1)}% | ${r.stepsToTarget ?? `> ${result.steps}`} | ${r.ms.toFixed(0)} |`);
  }
  return rows.join('\n');
}

/** The 1Cycle comparison as text lines. */
export function oneCycleSummary(result: DemoResult): string {
  const s = oneCycleSpeedup(result);
  const lines = ['| optimizer | constant ÷ 1Cycle | exponential ÷ 1Cycle |', '|---|---:|---:|'];
  for (const p of s.perOptimizer) lines.push(`| ${p.optimizer} | ${ratio(p.vsConstant)} | ${ratio(p.vsExponential)} |`);
  lines.push(`| median | ${ratio(s.medianVsConstant)} | ${ratio(s.medianVsExponential)} |`);
  return lines.join('\n');
}

/** A Markdown table (as {@link summaryTable} writes them) as an HTML table; `textColumns` columns are left-aligned. */
export function mdTableToHtml(md: string, textColumns = 1): string {
  const [head, , ...body] = md.split('\n');
  const cells = (line: string) => line.split('|').slice(1, -1).map((c) => esc(c.trim()));
  return `<table class="t${textColumns}"><thead><tr>${cells(head).map((c) => `<th>${c}</th>`).join('')}</tr></thead><tbody>${
    body.map((l) => `<tr>${cells(l).map((c) => `<td>${c}</td>`).join('')}</tr>`).join('')}</tbody></table>`;
}

/** Renders the report (a complete HTML document, no external resources). */
export function renderReport(result: DemoResult, meta: { date: string; engine: string }): string {
  const optimizers = [...new Set(result.runs.map((r) => r.optimizer))];
  const schedules = [...new Set(result.runs.map((r) => r.schedule))];
  const s = oneCycleSpeedup(result);
  const decades = Array.from({ length: SWEEP_DECADES }, (_, k) => `×${10 ** k}`).join(', ');
  const lossCharts = optimizers.map((o) => {
    const runs = result.runs.filter((r) => r.optimizer === o);
    return lineChart(runs.map((r) => ({ name: r.schedule, values: r.losses })), {
      title: `${runs[0].label}: training loss`, xLabel: 'step', yLabel: 'loss (log)', logY: true, width: 560, height: 320,
    });
  });
  const first = optimizers[0];
  const lrChart = lineChart(schedules.map((sc) => {
    const r = result.runs.find((x) => x.optimizer === first && x.schedule === sc)!;
    return { name: sc, values: r.lrs.map((v) => v / r.baseLr) };
  }), { title: 'learning rate ÷ base lr, by schedule', xLabel: 'step', yLabel: 'lr / base', width: 560, height: 320 });
  const momentumOwner = optimizers.find((o) => result.runs.some((r) => r.optimizer === o && r.schedule === 'onecycle' && r.momenta.some((m) => m !== null && m > 0))) ?? first;
  const momentumChart = lineChart(schedules.map((sc) => {
    const r = result.runs.find((x) => x.optimizer === momentumOwner && x.schedule === sc)!;
    return { name: sc, values: r.momenta };
  }), { title: `momentum (${momentumOwner}: momentum or β1), by schedule`, xLabel: 'step', yLabel: 'momentum', width: 560, height: 320 });
  const verdict = s.medianVsConstant === null ? '' : s.medianVsConstant >= 1
    ? `Across these optimizers, 1Cycle reached the target a median <b>${s.medianVsConstant.toFixed(2)}×</b> faster than a constant learning rate and <b>${(s.medianVsExponential ?? NaN).toFixed(2)}×</b> faster than exponential decay.`
    : `Across these optimizers, 1Cycle was <b>slower</b> than a constant learning rate (median ratio ${s.medianVsConstant.toFixed(2)}×) and ${(s.medianVsExponential ?? NaN).toFixed(2)}× exponential decay.`;
  return reportPage('simdopt: optimizers and schedules on two spirals', `<h1>Optimizers and learning-rate schedules on two spirals</h1>
<p class="note">A ${result.layers.join('–')} tanh MLP (forward and backward in JavaScript, weights in a simdopt store on the
<b>${esc(result.backend)}</b> backend) trained full-batch on ${result.samples} points of two interleaved spirals for
${result.steps} steps, once per optimizer of the registry and per schedule. Each optimizer's base lr (in the table of all
runs) is the smallest of its registry lr ${decades} at which a ${SWEEP_STEPS}-step 1Cycle run halves the loss;
exponential decay ends at ${EXPONENTIAL_END}× base; cosine anneals to 0; 1Cycle peaks at ${ONECYCLE_PEAK}× base
(starting at peak/25), cycling momentum (or β1) between 0.95 and 0.85 where the optimizer has one.
Target: loss &lt; ${result.target}. ${esc(meta.engine)}, ${esc(meta.date)}.</p>
<h2 id="onecycle">Does 1Cycle converge faster?</h2>
<p class="note">Steps to reach the target, as a ratio (higher means 1Cycle was faster; a run that never reached the target
counts as ${result.steps} steps, so its ratio is a bound). ${verdict}</p>
${mdTableToHtml(oneCycleSummary(result))}
<h2 id="loss">Loss curves</h2>
<div class="charts">${lossCharts.join('\n')}</div>
<h2 id="schedules">Schedules</h2>
<div class="charts">${lrChart}\n${momentumChart}</div>
<p class="note">Schedules: ${DEMO_SCHEDULES.join(', ')}.</p>
<h2 id="summary">All runs</h2>
${mdTableToHtml(summaryTable(result), 2)}
`);
}

/** A complete HTML document around `body`, with the reports' style sheet; no external resources. */
export function reportPage(title: string, body: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${esc(title)}</title>
<style>
body { font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 1180px; color: #222; }
table { border-collapse: collapse; margin: 1rem 0; font-size: 14px; }
th, td { border: 1px solid #ddd; padding: 4px 10px; text-align: right; }
th:first-child, td:first-child, .t2 th:nth-child(2), .t2 td:nth-child(2) { text-align: left; }
.charts { display: flex; flex-wrap: wrap; gap: 12px; }
.note { color: #444; font-size: 14px; max-width: 1000px; }
.headline { font-size: 16px; max-width: 1000px; }
</style></head><body>
${body}</body></html>
`;
}
