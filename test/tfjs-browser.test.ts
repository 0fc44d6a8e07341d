// simdopt/tfjs in headless Chromium (Debian's, driven by puppeteer-core): a page bundled with
// esbuild from @tensorflow/tfjs, tfjs-backend-wasm and the built package runs
// test/tfjs/program.mjs on TF.js's cpu and wasm backends, and so does Node; in both, the
// adapter's Adam tracks tf.train.adam through model.fit, leaves no tensor behind and resumes
// exactly through getWeights/setWeights, and the page's losses equal Node's. Needs
// `npm run build` (npm test does it).
import { copyFileSync, mkdtempSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { installedBrowsers, launch, resultOf, serve } from './cross-engine/browsers.js';
import { tf } from './tfjs/common.js';
// @ts-expect-error: plain JavaScript shared with the page
import { run } from './tfjs/program.mjs';

interface BackendResult {
  ours: number[]; theirs: number[]; tensorsAdded: number; resumedSame: boolean;
  instanceOfOptimizer: boolean; simdoptBackend: string; registered: boolean;
}
type Result = Record<'cpu' | 'wasm', BackendResult>;

const root = fileURLToPath(new URL('..', import.meta.url));

function check(result: Result, where: string): void {
  for (const backend of ['cpu', 'wasm'] as const) {
    const r = result[backend];
    const label = `${where}, TF.js ${backend}`;
    expect(r.ours.length, label).toBe(30);
    const rel = Math.max(...r.ours.map((x, i) => Math.abs(x - r.theirs[i]) / r.theirs[i]));
    expect(rel, `${label}: losses against tf.train.adam`).toBeLessThan(1e-4);
    expect(r.ours[29], label).toBeLessThan(r.ours[0] / 2);
    expect(r.tensorsAdded, `${label}: tensors left by training`).toBe(4); // the model's four variables, nothing of the optimizer's
    expect(r.resumedSame, `${label}: getWeights/setWeights resume`).toBe(true);
    expect(r.instanceOfOptimizer && r.registered, label).toBe(true);
    expect(r.simdoptBackend, label).toBe('wasm');
  }
}

describe('simdopt/tfjs in Chromium', () => {
  const installed = installedBrowsers().includes('chromium');
  let dir = '';
  let served: Awaited<ReturnType<typeof serve>> | undefined;
  let node: Result | undefined;

  beforeAll(async () => {
    node = await run(tf, await import('../dist/index.js'), await import('../dist/tfjs/index.js')) as Result;
    if (!installed) return;
    dir = mkdtempSync(join(tmpdir(), 'simdopt-tfjs-page-'));
    await build({ entryPoints: [join(root, 'test/tfjs/entry.mjs')], bundle: true, format: 'esm', outfile: join(dir, 'bundle.js'), absWorkingDir: root, logLevel: 'silent' });
    // tfjs-backend-wasm fetches its binaries next to the page (setWasmPaths in the entry).
    const wasmDir = dirname(createRequire(import.meta.url).resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm'));
    for (const f of ['tfjs-backend-wasm.wasm', 'tfjs-backend-wasm-simd.wasm', 'tfjs-backend-wasm-threaded-simd.wasm']) copyFileSync(join(wasmDir, f), join(dir, f));
    writeFileSync(join(dir, 'index.html'), '<!doctype html><meta charset="utf-8"><title>simdopt/tfjs</title><script type="module" src="./bundle.js"></script>');
    served = await serve(dir);
  }, 120_000);

  afterAll(() => served?.server.close());

  it('Node: the program the page runs', () => {
    check(node!, 'Node');
  });

  it.skipIf(!installed)('Chromium (headless): the same checks, and the same losses as Node', async () => {
    const browser = await launch('chromium');
    try {
      const { result } = (await resultOf(browser, `${served!.url}/index.html`)) as { result: Result & { error?: string } };
      if (result.error) throw new Error(result.error);
      check(result, 'Chromium');
      const report: string[] = [];
      for (const backend of ['cpu', 'wasm'] as const) {
        const rel = Math.max(...result[backend].ours.map((x, i) => Math.abs(x - node![backend].ours[i]) / node![backend].ours[i]));
        report.push(`${backend} ${rel.toExponential(1)} (tensors added ${result[backend].tensorsAdded})`);
        expect(rel, `TF.js ${backend}: Chromium's losses against Node's`).toBeLessThan(1e-6);
      }
      console.log(`simdopt/tfjs, Chromium against Node, largest relative difference of the losses: ${report.join(', ')}`);
    } finally {
      await browser.close();
    }
  }, 120_000);
});
