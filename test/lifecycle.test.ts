// Disposal, and memory staying flat over a long run.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { Adam, ParameterStore, clipGradNorm, saveCheckpoint } from '../src/index.js';
import { BACKENDS } from './helpers.js';

for (const backend of BACKENDS) {
  describe(`dispose (${backend})`, () => {
    it('every later use of the store, its parameters or its optimizer throws a clear error', async () => {
      const store = await ParameterStore.create({ backend });
      const w = store.parameter('w', 4);
      const opt = new Adam([w]);
      store.dispose();
      expect(store.disposed).toBe(true);
      expect(() => w.data).toThrow(/This ParameterStore was disposed/);
      expect(() => w.grad).toThrow(/disposed/);
      expect(() => store.parameter('x', 2)).toThrow(/disposed/);
      expect(() => opt.step()).toThrow(/Adam: its ParameterStore was disposed/);
      expect(() => opt.zeroGrad()).toThrow(/disposed/);
      expect(() => opt.stateDict()).toThrow(/disposed/);
      expect(() => clipGradNorm([w], 1)).toThrow(/disposed/);
      expect(() => saveCheckpoint({ store })).toThrow(/disposed/);
      expect(() => store.byteLength).toThrow(/disposed/);
      expect(() => new Adam([w])).toThrow(/disposed/);
      store.dispose(); // idempotent
    });
  });
}

describe('a long run keeps memory flat', () => {
  it('100,000 Adam steps with clipping on a small model: arena unchanged, JS heap growth under 2 MB (both backends)', () => {
    const root = fileURLToPath(new URL('..', import.meta.url));
    const script = `
      import { ParameterStore, Adam, clipGradNorm } from 'simdopt';
      const out = {};
      for (const backend of ['wasm', 'js']) {
        const store = await ParameterStore.create({ backend });
        const w = store.parameter('w', 256), b = store.parameter('b', 16);
        const opt = new Adam([w, b], { lr: 1e-3 });
        const run = (n) => { for (let i = 0; i < n; i++) { w.grad.fill(0.01); b.grad.fill(-0.01); clipGradNorm([w, b], 1); opt.step(); } };
        run(2000);
        globalThis.gc(); globalThis.gc();
        const bytes = store.byteLength, heap = process.memoryUsage().heapUsed;
        run(100000);
        globalThis.gc(); globalThis.gc();
        out[backend] = { arena: store.byteLength - bytes, heap: process.memoryUsage().heapUsed - heap };
        store.dispose();
      }
      console.log(JSON.stringify(out));`;
    const run = spawnSync(process.execPath, ['--expose-gc', '--input-type=module', '-e', script], { cwd: root, encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: '' } });
    expect(run.stderr).toBe('');
    const out = JSON.parse(run.stdout) as Record<string, { arena: number; heap: number }>;
    for (const b of ['wasm', 'js']) {
      expect(out[b].arena).toBe(0);
      expect(out[b].heap).toBeLessThan(2 * 2 ** 20);
    }
  }, 120_000);
});
