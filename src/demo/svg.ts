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
  /**
   * The y range shown, `[low, high]`: values outside it are left out (the line breaks there)
   * instead of stretching the axis. Default: the range of the data.
   */
  yRange?: readonly [number, number];
  /** Vertical marker lines (e.g. a suggested lr), their labels stacked so they never overlap. */
  markers?: { x: number; label: string; color?: string }[];
}

export const PALETTE = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#17becf', '#7f7f7f', '#bcbd22'];

/** Escapes text for HTML and SVG. */
export const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/**
 * Tick values over [lo, hi]. On a log axis: the powers of ten, and where they are fewer than
 * three, 1-2-5 (then every whole multiple) of each decade, so a short range still has several
 * labels; over many decades, every other power.
 */
export function ticks(lo: number, hi: number, log: boolean): number[] {
  if (log) {
    const inside = (t: number) => t >= lo * 0.999 && t <= hi * 1.001;
    const e0 = Math.floor(Math.log10(lo)), e1 = Math.ceil(Math.log10(hi));
    for (const mantissas of [[1], [1, 2, 5], [1, 2, 3, 4, 5, 6, 7, 8, 9]]) {
      const out: number[] = [];
      for (let e = e0; e <= e1; e++) for (const m of mantissas) out.push(Number((m * 10 ** e).toPrecision(12)));
      const shown = out.filter(inside);
      if (shown.length > 8) return shown.filter((t) => Math.round(Math.log10(t)) % 2 === 0);
      if (shown.length >= 3) return shown;
    }
    return [lo, hi];
  }
  const span = hi - lo || 1;
  const step = 10 ** Math.floor(Math.log10(span / 4));
  const unit = [1, 2, 5, 10].map((m) => m * step).find((u) => span / u <= 6) ?? step * 10;
  const out: number[] = [];
  for (let t = Math.ceil(lo / unit) * unit; t <= hi + unit * 1e-9; t += unit) out.push(Number(t.toPrecision(12)));
  return out;
}

const fmt = (v: number) => (Math.abs(v) >= 1e4 || (Math.abs(v) < 1e-3 && v !== 0) ? v.toExponential(0) : String(Number(v.toPrecision(3))));

/** The opening tag of a standalone SVG image of `width` × `height`, on a white background. */
const svgOpen = (width: number, height: number, fontSize = 12) =>
  `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="DejaVu Sans, Arial, sans-serif" font-size="${fontSize}">\n<rect width="${width}" height="${height}" fill="white"/>`;

/** The elements of one line chart (no `<svg>` root), in a `width` × `height` box from the origin. */
function chartElements(series: readonly Series[], o: ChartOptions): string[] {
  const W = o.width ?? 640, H = o.height ?? 360, m = { l: 64, r: 150, t: 32, b: 44 };
  const pw = W - m.l - m.r, ph = H - m.t - m.b;
  const tx = (v: number) => (o.logX ? Math.log10(v) : v), ty = (v: number) => (o.logY ? Math.log10(v) : v);
  const [lowY, highY] = o.yRange ?? [-Infinity, Infinity];
  const shown = (x: number, y: number | null): y is number =>
    y !== null && Number.isFinite(y) && Number.isFinite(x) && (!o.logY || y > 0) && (!o.logX || x > 0);
  // each series as runs of consecutive points inside the y range
  const runs = series.map((s) => {
    const out: [number, number][][] = [[]];
    s.values.forEach((v, i) => {
      const x = s.x ? s.x[i] : i;
      if (shown(x, v) && v >= lowY && v <= highY) out.at(-1)!.push([x, v]);
      else if (out.at(-1)!.length) out.push([]);
    });
    return out.filter((r) => r.length);
  });
  const pts = runs.flat(2);
  const xs = pts.map((p) => p[0]), ys = pts.map((p) => p[1]);
  const x0 = Math.min(...xs, Infinity), x1 = Math.max(...xs, -Infinity);
  const y0 = Number.isFinite(lowY) && (!o.logY || lowY > 0) ? lowY : Math.min(...ys, Infinity);
  const y1 = Number.isFinite(highY) ? highY : Math.max(...ys, -Infinity);
  const xTop = x1 === x0 ? x0 + 1 : x1, yTop = y1 === y0 ? y0 * 1.1 + 1e-12 : y1;
  const [ax, bx] = [tx(x0), tx(xTop)], [ay, by] = [ty(y0), ty(yTop)];
  const sx = (v: number) => m.l + ((tx(v) - ax) / (bx - ax || 1)) * pw;
  const sy = (v: number) => m.t + ph - ((ty(v) - ay) / (by - ay || 1)) * ph;
  const parts: string[] = [];
  parts.push(`<text x="${m.l}" y="20" font-size="14" font-weight="bold">${esc(o.title)}</text>`);
  if (xs.length) {
    for (const t of ticks(y0, yTop, !!o.logY)) {
      parts.push(`<line x1="${m.l}" x2="${m.l + pw}" y1="${sy(t).toFixed(1)}" y2="${sy(t).toFixed(1)}" stroke="#eee"/>`);
      parts.push(`<text x="${m.l - 6}" y="${(sy(t) + 4).toFixed(1)}" text-anchor="end" fill="#555">${fmt(t)}</text>`);
    }
    for (const t of ticks(x0, xTop, !!o.logX)) {
      parts.push(`<line y1="${m.t}" y2="${m.t + ph}" x1="${sx(t).toFixed(1)}" x2="${sx(t).toFixed(1)}" stroke="#f3f3f3"/>`);
      parts.push(`<text y="${m.t + ph + 16}" x="${sx(t).toFixed(1)}" text-anchor="middle" fill="#555">${fmt(t)}</text>`);
    }
  }
  parts.push(`<rect x="${m.l}" y="${m.t}" width="${pw}" height="${ph}" fill="none" stroke="#999"/>`);
  runs.forEach((r, k) => {
    const s = series[k];
    const color = s.color ?? PALETTE[k % PALETTE.length], dash = s.dashed ? ' stroke-dasharray="5 3"' : '';
    if (r.length) {
      const d = r.map((run) => run.map(([x, y], i) => `${i ? 'L' : 'M'}${sx(x).toFixed(1)},${sy(y).toFixed(1)}`).join('')).join('');
      parts.push(`<path d="${d}" fill="none" stroke="${color}" stroke-width="1.6"${dash}><title>${esc(s.name)}</title></path>`);
    }
    parts.push(`<line x1="${m.l + pw + 12}" x2="${m.l + pw + 32}" y1="${m.t + 8 + 18 * k}" y2="${m.t + 8 + 18 * k}" stroke="${color}" stroke-width="2"${dash}/>`);
    parts.push(`<text x="${m.l + pw + 38}" y="${m.t + 12 + 18 * k}">${esc(s.name)}</text>`);
  });
  const markers = (o.markers ?? []).filter((mk) => mk.x >= x0 && mk.x <= x1).sort((a, b) => a.x - b.x);
  markers.forEach((mk, k) => {
    const x = sx(mk.x), color = mk.color ?? '#444';
    // one label per line, from the top down; anchored on the side with room
    const right = x + 8 * mk.label.length < m.l + pw;
    parts.push(`<line x1="${x.toFixed(1)}" x2="${x.toFixed(1)}" y1="${m.t}" y2="${m.t + ph}" stroke="${color}" stroke-dasharray="3 3"/>`);
    parts.push(`<text x="${(right ? x + 4 : x - 4).toFixed(1)}" y="${m.t + 14 + 15 * k}" fill="${color}"${right ? '' : ' text-anchor="end"'}>${esc(mk.label)}</text>`);
  });
  if (o.xLabel) parts.push(`<text x="${m.l + pw / 2}" y="${H - 8}" text-anchor="middle">${esc(o.xLabel)}</text>`);
  if (o.yLabel) parts.push(`<text transform="translate(14 ${m.t + ph / 2}) rotate(-90)" text-anchor="middle">${esc(o.yLabel)}</text>`);
  return parts;
}

/** Renders a line chart as a standalone SVG image (one `<svg>` root). */
export function lineChart(series: readonly Series[], o: ChartOptions): string {
  return [svgOpen(o.width ?? 640, o.height ?? 360), ...chartElements(series, o), '</svg>'].join('\n');
}

/** Several line charts stacked top to bottom in one standalone SVG image (groups, no nested `<svg>`). */
export function stackedCharts(charts: readonly { series: readonly Series[]; options: ChartOptions }[]): string {
  const width = Math.max(...charts.map((c) => c.options.width ?? 640));
  const parts: string[] = [];
  let y = 0;
  for (const c of charts) {
    parts.push(`<g transform="translate(0 ${y})">`, ...chartElements(c.series, c.options), '</g>');
    y += c.options.height ?? 360;
  }
  return [svgOpen(width, y), ...parts, '</svg>'].join('\n');
}

/**
 * The LR range test's plot: the loss and its smoothed curve against the lr (log axis), the y
 * axis clipped to the useful range (from the lowest loss to a little above the starting one,
 * so the diverged tail does not flatten the rest), with `markers` at the chosen lrs.
 */
export function rangeTestChart(r: { lrs: readonly number[]; losses: readonly number[]; smoothed: readonly number[] }, o: Omit<ChartOptions, 'logX' | 'yRange'>): string {
  const finite = [...r.losses, ...r.smoothed].filter(Number.isFinite);
  const low = Math.min(...finite), start = Math.max(r.losses[0] ?? low, r.smoothed[0] ?? low);
  const pad = Math.max(start - low, Math.abs(start) * 1e-3, 1e-12) * 0.1;
  return lineChart([
    { name: 'loss', values: r.losses, x: r.lrs, color: '#bbb' },
    { name: 'smoothed', values: r.smoothed, x: r.lrs },
  ], { xLabel: 'learning rate (log)', yLabel: 'loss', ...o, logX: true, yRange: [low - pad, start + pad] });
}

/** Grouped horizontal bars (e.g. Mparam/s per optimizer and implementation), optionally on a log scale. */
export function barChart(groups: readonly { label: string; bars: readonly { name: string; value: number }[] }[], o: { title: string; unit: string; log?: boolean; width?: number }): string {
  const names = [...new Set(groups.flatMap((g) => g.bars.map((b) => b.name)))];
  const W = o.width ?? 760, barH = 9, gap = 10, left = 110, right = 60, top = 40;
  const H = top + groups.length * (names.length * barH + gap) + 40;
  const values = groups.flatMap((g) => g.bars.map((b) => b.value)).filter((v) => v > 0 && Number.isFinite(v));
  const max = Math.max(...values, 1), min = o.log ? Math.min(...values, max) / 2 : 0;
  const scale = (v: number) => (o.log ? (Math.log10(Math.max(v, min)) - Math.log10(min)) / (Math.log10(max) - Math.log10(min) || 1) : v / max) * (W - left - right);
  const parts = [svgOpen(W, H, 11), `<text x="${left}" y="20" font-size="14" font-weight="bold">${esc(o.title)}</text>`];
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
