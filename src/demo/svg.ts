// Minimal self-contained SVG line charts (no dependencies), for the report and the CLI plots.

/** One line of a chart. */
export interface Series {
  name: string;
  values: readonly (number | null)[];
  /** x of each value; default 0, 1, 2, ... */
  x?: readonly number[];
  color?: string;
  dashed?: boolean;
}

export interface ChartOptions {
  title: string;
  xLabel?: string;
  yLabel?: string;
  logX?: boolean;
  logY?: boolean;
  width?: number;
  height?: number;
  /** Vertical marker lines (e.g. a suggested lr). */
  markers?: { x: number; label: string }[];
}

export const PALETTE = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#17becf', '#7f7f7f', '#bcbd22'];

/** Escapes text for HTML and SVG. */
export const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

function ticks(lo: number, hi: number, log: boolean): number[] {
  if (log) {
    const out: number[] = [];
    for (let e = Math.floor(Math.log10(lo)); e <= Math.ceil(Math.log10(hi)); e++) out.push(10 ** e);
    return out.filter((t) => t >= lo * 0.999 && t <= hi * 1.001);
  }
  const span = hi - lo || 1;
  const step = 10 ** Math.floor(Math.log10(span / 4));
  const unit = [1, 2, 5, 10].map((m) => m * step).find((u) => span / u <= 6) ?? step * 10;
  const out: number[] = [];
  for (let t = Math.ceil(lo / unit) * unit; t <= hi + unit * 1e-9; t += unit) out.push(Number(t.toPrecision(12)));
  return out;
}

const fmt = (v: number) => (Math.abs(v) >= 1e4 || (Math.abs(v) < 1e-3 && v !== 0) ? v.toExponential(0) : String(Number(v.toPrecision(3))));

/** Renders a line chart as a standalone `<svg>` element (string). */
export function lineChart(series: readonly Series[], o: ChartOptions): string {
  const W = o.width ?? 640, H = o.height ?? 360, m = { l: 64, r: 150, t: 32, b: 44 };
  const pw = W - m.l - m.r, ph = H - m.t - m.b;
  const tx = (v: number) => (o.logX ? Math.log10(v) : v), ty = (v: number) => (o.logY ? Math.log10(v) : v);
  const pts = series.map((s) => s.values.map((v, i) => [s.x ? s.x[i] : i, v] as [number, number | null])
    .filter((p): p is [number, number] => p[1] !== null && Number.isFinite(p[1]) && (!o.logY || p[1] > 0) && (!o.logX || p[0] > 0)));
  const xs = pts.flat().map((p) => p[0]), ys = pts.flat().map((p) => p[1]);
  const x0 = Math.min(...xs, Infinity), x1 = Math.max(...xs, -Infinity);
  const y0 = Math.min(...ys, Infinity), y1 = Math.max(...ys, -Infinity);
  const [ax, bx] = [tx(x0), tx(x1 === x0 ? x0 + 1 : x1)];
  const [ay, by] = [ty(y0), ty(y1 === y0 ? y0 * 1.1 + 1e-12 : y1)];
  const sx = (v: number) => m.l + ((tx(v) - ax) / (bx - ax || 1)) * pw;
  const sy = (v: number) => m.t + ph - ((ty(v) - ay) / (by - ay || 1)) * ph;
  const parts: string[] = [];
  parts.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="system-ui, sans-serif" font-size="12">`);
  parts.push(`<rect width="${W}" height="${H}" fill="white"/>`);
  parts.push(`<text x="${m.l}" y="20" font-size="14" font-weight="600">${esc(o.title)}</text>`);
  if (xs.length) {
    for (const t of ticks(y0, y1 === y0 ? y0 * 1.1 + 1e-12 : y1, !!o.logY)) {
      parts.push(`<line x1="${m.l}" x2="${m.l + pw}" y1="${sy(t).toFixed(1)}" y2="${sy(t).toFixed(1)}" stroke="#eee"/>`);
      parts.push(`<text x="${m.l - 6}" y="${(sy(t) + 4).toFixed(1)}" text-anchor="end" fill="#555">${fmt(t)}</text>`);
    }
    for (const t of ticks(x0, x1 === x0 ? x0 + 1 : x1, !!o.logX)) {
      parts.push(`<line y1="${m.t}" y2="${m.t + ph}" x1="${sx(t).toFixed(1)}" x2="${sx(t).toFixed(1)}" stroke="#f3f3f3"/>`);
      parts.push(`<text y="${m.t + ph + 16}" x="${sx(t).toFixed(1)}" text-anchor="middle" fill="#555">${fmt(t)}</text>`);
    }
  }
  parts.push(`<rect x="${m.l}" y="${m.t}" width="${pw}" height="${ph}" fill="none" stroke="#999"/>`);
  pts.forEach((p, k) => {
    if (p.length === 0) return;
    const s = series[k];
    const color = s.color ?? PALETTE[k % PALETTE.length];
    const d = p.map(([x, y], i) => `${i ? 'L' : 'M'}${sx(x).toFixed(1)},${sy(y).toFixed(1)}`).join('');
    parts.push(`<path d="${d}" fill="none" stroke="${color}" stroke-width="1.6"${s.dashed ? ' stroke-dasharray="5 3"' : ''}><title>${esc(s.name)}</title></path>`);
    parts.push(`<line x1="${m.l + pw + 12}" x2="${m.l + pw + 32}" y1="${m.t + 8 + 18 * k}" y2="${m.t + 8 + 18 * k}" stroke="${color}" stroke-width="2"${s.dashed ? ' stroke-dasharray="5 3"' : ''}/>`);
    parts.push(`<text x="${m.l + pw + 38}" y="${m.t + 12 + 18 * k}">${esc(s.name)}</text>`);
  });
  for (const mk of o.markers ?? []) {
    if (!(mk.x >= x0 && mk.x <= x1)) continue;
    parts.push(`<line x1="${sx(mk.x).toFixed(1)}" x2="${sx(mk.x).toFixed(1)}" y1="${m.t}" y2="${m.t + ph}" stroke="#444" stroke-dasharray="3 3"/>`);
    parts.push(`<text x="${(sx(mk.x) + 4).toFixed(1)}" y="${m.t + 14}" fill="#444">${esc(mk.label)}</text>`);
  }
  if (o.xLabel) parts.push(`<text x="${m.l + pw / 2}" y="${H - 8}" text-anchor="middle">${esc(o.xLabel)}</text>`);
  if (o.yLabel) parts.push(`<text transform="translate(14 ${m.t + ph / 2}) rotate(-90)" text-anchor="middle">${esc(o.yLabel)}</text>`);
  parts.push('</svg>');
  return parts.join('\n');
}

/** Grouped horizontal bars (e.g. Mparam/s per optimizer and implementation), optionally on a log scale. */
export function barChart(groups: readonly { label: string; bars: readonly { name: string; value: number }[] }[], o: { title: string; unit: string; log?: boolean; width?: number }): string {
  const names = [...new Set(groups.flatMap((g) => g.bars.map((b) => b.name)))];
  const W = o.width ?? 760, barH = 9, gap = 10, left = 110, right = 60, top = 40;
  const H = top + groups.length * (names.length * barH + gap) + 40;
  const values = groups.flatMap((g) => g.bars.map((b) => b.value)).filter((v) => v > 0 && Number.isFinite(v));
  const max = Math.max(...values, 1), min = o.log ? Math.min(...values, max) / 2 : 0;
  const scale = (v: number) => (o.log ? (Math.log10(Math.max(v, min)) - Math.log10(min)) / (Math.log10(max) - Math.log10(min) || 1) : v / max) * (W - left - right);
  const parts = [`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="system-ui, sans-serif" font-size="11">`,
    `<rect width="${W}" height="${H}" fill="white"/>`, `<text x="${left}" y="20" font-size="14" font-weight="600">${esc(o.title)}</text>`];
  names.forEach((n, k) => {
    parts.push(`<rect x="${left + k * 110}" y="${H - 22}" width="10" height="10" fill="${PALETTE[k % PALETTE.length]}"/><text x="${left + k * 110 + 14}" y="${H - 13}">${esc(n)}</text>`);
  });
  groups.forEach((g, gi) => {
    const y0 = top + gi * (names.length * barH + gap);
    parts.push(`<text x="${left - 6}" y="${y0 + (names.length * barH) / 2 + 4}" text-anchor="end">${esc(g.label)}</text>`);
    names.forEach((n, k) => {
      const b = g.bars.find((x) => x.name === n);
      if (!b || !(b.value > 0)) return;
      const w = scale(b.value);
      parts.push(`<rect x="${left}" y="${y0 + k * barH}" width="${w.toFixed(1)}" height="${barH - 1}" fill="${PALETTE[k % PALETTE.length]}"><title>${esc(`${g.label} ${n}: ${b.value.toFixed(1)} ${o.unit}`)}</title></rect>`);
      parts.push(`<text x="${(left + w + 3).toFixed(1)}" y="${y0 + k * barH + barH - 1}" fill="#444" font-size="9">${b.value >= 100 ? b.value.toFixed(0) : b.value.toPrecision(2)}</text>`);
    });
  });
  parts.push('</svg>');
  return parts.join('\n');
}
