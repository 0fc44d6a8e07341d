// Feature detection: without WebAssembly (or without SIMD), 'auto' falls back to the js
// backend with the same results; 'wasm' asked explicitly fails with a clear error.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Adam, ParameterStore, wasmSimdSupported } from '../src/index.js';

afterEach(() => {
  vi.unstubAllGlobals();
});

async function adamBits(backend: 'auto' | 'js'): Promise<{ backend: string; bits: number[] }> {
  const store = await ParameterStore.create({ backend });
  const w = store.parameter('w', [0.5, -1, 2, 3e-40, 7]);
  const opt = new Adam([w], { lr: 0.1, amsgrad: true });
  for (let s = 0; s < 5; s++) {
    w.grad.set([0.1, -0.2, 0.3, 1e-20, -5]);
    opt.step();
  }
  return { backend: store.backend, bits: Array.from(new Uint32Array(w.data.slice().buffer)) };
}

describe('feature detection and fallback', () => {
  it('without WebAssembly: auto picks js with the same bits as wasm; wasm fails clearly', async () => {
    const withWasm = await adamBits('auto');
    expect(withWasm.backend).toBe('wasm');
    vi.stubGlobal('WebAssembly', undefined);
    expect(wasmSimdSupported()).toBe(false);
    const fallback = await adamBits('auto');
    expect(fallback.backend).toBe('js');
    expect(fallback.bits).toEqual(withWasm.bits);
    await expect(ParameterStore.create({ backend: 'wasm' })).rejects.toThrow("backend 'wasm' was asked for, but this engine has no WebAssembly");
  });

  it('without SIMD (the engine rejects the module): auto picks js; wasm fails clearly', async () => {
    const real = WebAssembly;
    vi.stubGlobal('WebAssembly', { ...real, validate: () => false, Module: real.Module, Memory: real.Memory });
    expect(wasmSimdSupported()).toBe(false);
    expect((await ParameterStore.create()).backend).toBe('js');
    await expect(ParameterStore.create({ backend: 'wasm' })).rejects.toThrow(/does not support WebAssembly SIMD \(128-bit\); use backend 'auto' or 'js'/);
  });

  it('a plain Node process with WebAssembly deleted imports the package and trains on js', () => {
    const root = fileURLToPath(new URL('..', import.meta.url));
    const script = `
      delete globalThis.WebAssembly;
      const { ParameterStore, SGD } = await import('simdopt');
      const store = await ParameterStore.create();
      const w = store.parameter('w', [1, 2]);
      const opt = new SGD([w], { lr: 0.5 });
      w.grad.set([1, 1]);
      opt.step();
      console.log(store.backend, Array.from(w.data).join(','));`;
    const run = spawnSync(process.execPath, ['--input-type=module', '-e', script], { cwd: root, encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: '' } });
    expect(run.stderr).toBe('');
    expect(run.stdout.trim()).toBe('js 0.5,1.5');
  });
});
