// Builds the kernel module (and its embedded copy) when a test run starts without it,
// e.g. `npx vitest` on a fresh clone.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

export default function setup(): void {
  if (existsSync(new URL('../../src/generated/kernels-wasm.ts', import.meta.url))) return;
  const run = spawnSync(process.execPath, [new URL('../../scripts/build-wasm.mjs', import.meta.url).pathname], { stdio: 'inherit' });
  if (run.status !== 0) throw new Error('building the kernel module failed');
}
