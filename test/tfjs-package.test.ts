// The TF.js adapter as a package subpath: `simdopt/tfjs` resolves through package.json
// "exports" to dist/tfjs, TF.js is an optional peer dependency that only the adapter imports
// (never the main entry), and the README's model.fit example runs in plain Node against the
// built package. Needs `npm run build` (npm test does it).
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('..', import.meta.url));
const EXAMPLE = 'examples/tfjs-fit.mjs';

/** Every module the file imports, directly or not, and every bare specifier met on the way. */
function importGraph(entry: string): { files: Set<string>; packages: Set<string> } {
  const files = new Set<string>(), packages = new Set<string>();
  const visit = (file: string) => {
    if (files.has(file)) return;
    files.add(file);
    const source = readFileSync(file, 'utf8');
    for (const m of source.matchAll(/(?:^|;|\n)\s*(?:import|export)\s[^'"]*?from\s*['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)|^\s*import\s*['"]([^'"]+)['"]/gm)) {
      const spec = m[1] ?? m[2] ?? m[3];
      if (spec.startsWith('.')) visit(join(dirname(file), spec));
      else packages.add(spec);
    }
  };
  visit(entry);
  return { files, packages };
}

describe('simdopt/tfjs as a package subpath', () => {
  it('is exported with types, with TF.js an optional peer that the main entry never imports', () => {
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
    expect(pkg.exports['./tfjs']).toEqual({ types: './dist/tfjs/index.d.ts', import: './dist/tfjs/index.js' });
    expect(pkg.peerDependencies['@tensorflow/tfjs-core']).toBeDefined();
    expect(pkg.peerDependenciesMeta['@tensorflow/tfjs-core']).toEqual({ optional: true });
    expect(pkg.dependencies ?? {}).toEqual({});
    for (const f of ['dist/tfjs/index.js', 'dist/tfjs/index.d.ts']) expect(existsSync(join(root, f)), f).toBe(true);
    const main = importGraph(join(root, 'dist/index.js'));
    expect(main.files.size).toBeGreaterThan(10);
    expect([...main.packages]).toEqual([]);
    const adapter = importGraph(join(root, 'dist/tfjs/index.js'));
    expect([...adapter.packages]).toEqual(['@tensorflow/tfjs-core']);
    // The registration runs at import: bundlers must keep the module even for a bare import.
    expect(pkg.sideEffects).toEqual(['./dist/tfjs/index.js']);
  });

  it('the README\'s model.fit example is examples/tfjs-fit.mjs, and it trains in plain Node', () => {
    const readme = readFileSync(join(root, 'README.md'), 'utf8');
    const example = readFileSync(join(root, EXAMPLE), 'utf8');
    expect(readme).toContain('```js\n' + example + '```');
    const run = spawnSync(process.execPath, [EXAMPLE], { cwd: root, encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: '' }, timeout: 60_000 });
    expect(run.status, run.stderr).toBe(0);
    const m = /loss ([\d.]+) -> ([\d.]+) in 320 steps \(simdopt (wasm|js) kernels, TF\.js cpu\)/.exec(run.stdout);
    expect(m, run.stdout).not.toBeNull();
    expect(Number(m![2])).toBeLessThan(Number(m![1]) / 5);
  }, 60_000);
});
