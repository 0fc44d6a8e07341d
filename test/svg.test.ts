// The charts of the report and the CLI: each one standalone SVG image (one root with xmlns, no
// nested <svg>, balanced tags), log axes with several tick labels, the range test's y axis
// clipped to the useful range, marker labels apart; rendered whole by ImageMagick where it is
// installed.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { lineChart, rangeTestChart, stackedCharts, ticks } from '../src/demo/svg.js';

/** Checks that `svg` is one well-formed standalone SVG element; returns its tags. */
function wellFormed(svg: string): string[] {
  expect(svg.trimStart().startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
  expect(svg.trimEnd().endsWith('</svg>')).toBe(true);
  expect((svg.match(/<svg[\s>]/g) ?? []).length).toBe(1);
  const stack: string[] = [], tags: string[] = [];
  for (const m of svg.matchAll(/<(\/?)([a-zA-Z]+)[^>]*?(\/?)>/g)) {
    const [, close, name, selfClosing] = m;
    tags.push(name);
    if (close) expect(stack.pop()).toBe(name);
    else if (!selfClosing) stack.push(name);
  }
  expect(stack).toEqual([]);
  return tags;
}

/** The tick labels along the y axis (right-aligned text left of the plot). */
const yLabels = (svg: string) => [...svg.matchAll(/<text x="58" y="[\d.]+" text-anchor="end" fill="#555">([^<]+)<\/text>/g)].map((m) => m[1]);

const imagemagick = (() => {
  const r = spawnSync('convert', ['-version'], { encoding: 'utf8' });
  return r.status === 0 && r.stdout.includes('ImageMagick');
})();

describe('charts', () => {
  it('log ticks: several labels over short and long ranges', () => {
    expect(ticks(0.02, 0.7, true)).toEqual([0.02, 0.05, 0.1, 0.2, 0.5]);
    expect(ticks(0.3, 0.7, true)).toEqual([0.3, 0.4, 0.5, 0.6, 0.7]);
    const wide = ticks(1e-7, 10, true);
    expect(wide.length).toBeGreaterThanOrEqual(3);
    expect(wide.length).toBeLessThanOrEqual(8);
    expect(ticks(0, 1, false)).toEqual([0, 0.2, 0.4, 0.6, 0.8, 1]);
  });

  it('a log-scale loss chart is one standalone image with several y labels', () => {
    const losses = Array.from({ length: 200 }, (_, i) => 0.7 * Math.exp(-i / 60));
    const svg = lineChart([{ name: 'adam', values: losses }], { title: 'Adam: training loss', logY: true });
    wellFormed(svg);
    expect(yLabels(svg).length).toBeGreaterThanOrEqual(3);
  });

  it('stacked charts are groups in one root, not nested <svg>', () => {
    const series = [{ name: 'lr', values: [1, 2, 3] }];
    const svg = stackedCharts([{ series, options: { title: 'a', height: 300 } }, { series, options: { title: 'b', height: 300 } }]);
    expect(wellFormed(svg).filter((t) => t === 'g').length).toBe(4); // two groups, opened and closed
    expect(svg).toMatch(/^<svg [^>]*height="600"/);
    expect(svg).toContain('<g transform="translate(0 300)">');
  });

  it("the range test's y axis spans the lowest loss to the start, not the diverged tail; marker labels apart", () => {
    const lrs = Array.from({ length: 60 }, (_, i) => 1e-5 * 10 ** (i / 10));
    const losses = lrs.map((lr) => (lr < 0.1 ? 2.3 - 0.3 * Math.log10(lr / 1e-5) : 2.3 + 50 * (lr - 0.1)));
    const markers = [{ x: 0.01, label: '1Cycle peak 0.01' }, { x: 0.012, label: 'constant lr 0.012' }];
    const svg = rangeTestChart({ lrs, losses, smoothed: losses }, { title: 'range', markers });
    wellFormed(svg);
    const ys = yLabels(svg).map(Number);
    expect(Math.max(...ys)).toBeLessThanOrEqual(2.6);
    expect(Math.min(...ys)).toBeGreaterThanOrEqual(0.9);
    const labelYs = markers.map((m) => Number(new RegExp(`y="([\\d.]+)"[^>]*>${m.label}<`).exec(svg)![1]));
    expect(Math.abs(labelYs[0] - labelYs[1])).toBeGreaterThanOrEqual(14);
    expect([...svg.matchAll(/<text y="[\d.]+" x="[\d.]+" text-anchor="middle"/g)].length).toBeGreaterThanOrEqual(3); // x labels
  });

  it.skipIf(!imagemagick)('ImageMagick renders a stacked chart whole', () => {
    const dir = mkdtempSync(join(tmpdir(), 'simdopt-svg-'));
    const series = (k: number) => [{ name: 'v', values: Array.from({ length: 50 }, (_, i) => Math.sin(i / 8 + k)) }];
    writeFileSync(join(dir, 'c.svg'), stackedCharts([{ series: series(0), options: { title: 'top', height: 300 } }, { series: series(1), options: { title: 'bottom', height: 300 } }]));
    const r = spawnSync('convert', [join(dir, 'c.svg'), join(dir, 'c.png')], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    const size = spawnSync('identify', ['-format', '%w %h', join(dir, 'c.png')], { encoding: 'utf8' }).stdout;
    expect(size).toBe('640 600');
    // the bottom chart is drawn: its half of the image is not blank
    const mean = spawnSync('convert', [join(dir, 'c.png'), '-crop', '640x300+0+300', '-colorspace', 'gray', '-format', '%[fx:mean]', 'info:'], { encoding: 'utf8' }).stdout;
    expect(Number(mean)).toBeLessThan(0.99);
  });
});
