// The same program gives the same bits in every engine: a deterministic training program
// (test/cross-engine/program.mjs: every optimizer, 1Cycle and other schedules, clipping, 300
// steps, both backends) runs in Node, Deno and Bun (their npm packages) and in headless
// Chromium and Firefox ESR (Debian's, driven by puppeteer-core; Firefox over WebDriver
// BiDi), and every hash must be identical. Needs `npm run build` (npm test does it).
import { OPTIMIZERS } from '../src/registry.js';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { installedBrowsers, launch, resultOf, serve, type BrowserName } from './cross-engine/browsers.js';

interface Result { wasm: string[]; js: string[]; scalars: string; same: boolean; hash: string; native: string }

const root = fileURLToPath(new URL('..', import.meta.url));
const entry = 'test/cross-engine/entry.mjs';
const results = new Map<string, Result>();

function runCli(name: string, command: string, args: string[]): Result {
  const run = spawnSync(command, args, { cwd: root, encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: '', NO_COLOR: '1' }, timeout: 120_000 });
  if (run.status !== 0) throw new Error(`${name} failed (${run.status}): ${run.stderr}`);
  return JSON.parse(run.stdout.trim().split('\n').pop()!) as Result;
}

function version(command: string, args: string[]): string {
  return spawnSync(command, args, { encoding: 'utf8' }).stdout.trim().split('\n')[0];
}

describe('cross-engine determinism', () => {
  let server: Awaited<ReturnType<typeof serve>> | undefined;
  beforeAll(async () => { server = await serve(root); });
  afterAll(() => {
    server?.server.close();
    const summary = [...results].map(([engine, r]) => `${engine}: ${r.hash} (Math.pow/cos/exp: ${r.native})`).join('\n  ');
    if (summary) console.log(`cross-engine hashes:\n  ${summary}`);
  });

  it('Node', () => {
    const r = runCli('node', process.execPath, [entry]);
    results.set(`Node ${process.version}`, r);
    expect(r.same).toBe(true);
    // Every registry entry, and runs with bfloat16 and int8 state.
    const names = r.wasm.map((h) => h.split(':')[0]);
    expect(names.slice(0, OPTIMIZERS.length)).toEqual(OPTIMIZERS.map((e) => e.key));
    expect(names.some((x) => x.includes('int8')) && names.some((x) => x.includes('bf16'))).toBe(true);
  });

  it('Deno (npm package)', () => {
    const deno = `${root}/node_modules/.bin/deno`;
    results.set(version(deno, ['--version']), runCli('deno', deno, ['run', '--allow-read', entry]));
  });

  it('Bun (npm package)', () => {
    const bun = `${root}/node_modules/.bin/bun`;
    results.set(`Bun ${version(bun, ['--version'])}`, runCli('bun', bun, [entry]));
  });

  const browsers: BrowserName[] = ['chromium', 'firefox'];
  const installed = installedBrowsers();
  if (installed.length < browsers.length) {
    console.warn(`cross-engine: ${browsers.filter((b) => !installed.includes(b)).join(', ')} not installed ` +
      '(apt-get install chromium firefox-esr; .ci/run does): those engines are not checked here');
  }
  for (const b of browsers) {
    it.skipIf(!installed.includes(b))(`${b} (headless)`, async () => {
      const browser = await launch(b);
      try {
        const { result, userAgent } = (await resultOf(browser, `${server!.url}/test/cross-engine/page.html`)) as { result: Result & { error?: string }; userAgent: string };
        if (result.error) throw new Error(result.error);
        results.set(`${b} (${userAgent})`, result);
      } finally {
        await browser.close();
      }
    }, 180_000);
  }

  it('every engine gave the same bits, on both backends', () => {
    expect(results.size).toBeGreaterThanOrEqual(3);
    const hashes = new Set([...results.values()].map((r) => r.hash));
    const detail = [...results].map(([e, r]) => `${e}: ${r.hash} scalars ${r.scalars} same-backends ${r.same}`).join('; ');
    expect(hashes.size, detail).toBe(1);
    for (const r of results.values()) expect(r.same).toBe(true);
  });
});
