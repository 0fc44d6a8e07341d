// The API docs build from the doc comments (npm run docs) without warnings: every exported
// symbol is documented and resolves, every {@link} points somewhere.
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';

it('typedoc builds the API docs with no warnings', () => {
  const root = fileURLToPath(new URL('..', import.meta.url));
  const out = mkdtempSync(join(tmpdir(), 'simdopt-docs-'));
  const run = spawnSync(process.execPath, [join(root, 'node_modules/typedoc/bin/typedoc'), '--treatWarningsAsErrors', '--out', out], { cwd: root, encoding: 'utf8' });
  expect(run.status, run.stdout + run.stderr).toBe(0);
}, 120_000);
