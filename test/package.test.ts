// The built package (npm run build) works in plain Node with no TypeScript loader:
// `import { Adam } from 'simdopt'` resolves through package.json "exports" to dist/.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { kernelWasmBytes } from '../src/index.js';

const root = fileURLToPath(new URL('..', import.meta.url));

describe('built package', () => {
  it('dist holds the JS, the .d.ts and the .wasm (run `npm run build` first)', () => {
    for (const f of ['index.js', 'index.d.ts', 'simdopt.wasm', 'store.js', 'optim/adam.d.ts']) {
      expect(existsSync(`${root}/dist/${f}`), `dist/${f}`).toBe(true);
    }
    const pkg = JSON.parse(readFileSync(`${root}/package.json`, 'utf8'));
    expect(pkg.name).toBe('simdopt');
    expect(pkg.type).toBe('module');
    expect(pkg.exports['.']).toEqual({ types: './dist/index.d.ts', import: './dist/index.js' });
    // The shipped .wasm is the module the library embeds.
    expect(new Uint8Array(readFileSync(`${root}/dist/simdopt.wasm`))).toEqual(kernelWasmBytes());
  });

  it("plain node: import { Adam, ParameterStore } from 'simdopt' and step on both backends", () => {
    const script = `
      import { Adam, SGD, ParameterStore } from 'simdopt';
      const out = [];
      for (const backend of ['auto', 'js']) {
        const store = await ParameterStore.create({ backend });
        const w = store.parameter('w', [1, 2, 3]);
        const opt = new Adam([w], { lr: 0.1 });
        w.grad.set([1, -1, 0.5]);
        opt.step();
        out.push(store.backend, Array.from(w.data).join(','));
      }
      console.log(JSON.stringify(out));`;
    const run = spawnSync(process.execPath, ['--input-type=module', '-e', script], { cwd: root, encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: '' } });
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    const [b1, v1, b2, v2] = JSON.parse(run.stdout) as string[];
    expect([b1, b2]).toEqual(['wasm', 'js']);
    expect(v1).toBe(v2);
    expect(v1.split(',').map(Number)[0]).toBeCloseTo(0.9, 6);
  });

  it('examples/quickstart.mjs runs against the built package and finds both backends identical', () => {
    const run = spawnSync(process.execPath, ['examples/quickstart.mjs'], { cwd: root, encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: '' } });
    expect(run.status, run.stderr).toBe(0);
    expect(run.stdout).toContain('identical results: yes');
  }, 60_000);
});
