// Threads: every optimizer gives the same bits on 1, 2 and 3 threads (the calls are big enough
// to be split), and so do the clipping norm and the clipped gradients, averaged models, gradient
// accumulation and frozen parameters; without shared memory
// the store falls back to one thread and says why.
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  Adam, AveragedModel, GradientAccumulator, MIN_PARALLEL_ELEMENTS, ParameterStore, clipGradNorm, clipGradValue, type Parameter,
} from '../src/index.js';
import { expectSameBits, fillMixed, prng } from './helpers.js';
import { OPTIMIZER_CASES, caseShape, optimizerClass } from './registry.js';

const SIZES = [100_003, 7, 40_000];

async function world(threads: number, c: (typeof OPTIMIZER_CASES)[number]) {
  const store = await ParameterStore.create({ backend: 'wasm', threads });
  const rand = prng(42);
  const params = SIZES.map((n, i) => store.parameter(`p${i}`, { shape: caseShape(c, n, i), values: fillMixed(new Float32Array(n), rand, 1, 0.01) }));
  return { store, params, opt: optimizerClass(c.torch)!.create(params, c.options) };
}

function feed(params: Parameter[], s: number): void {
  const rand = prng(7 + s);
  for (const p of params) p.grad.set(fillMixed(new Float32Array(p.size), rand, 1, 0.01));
}

afterEach(() => vi.unstubAllGlobals());

describe('threads', () => {
  it('reports the threads in use', async () => {
    const store = await ParameterStore.create({ threads: 2 });
    expect(store.threads).toMatchObject({ requested: 2, active: 2 });
    expect(store.threads.note).toMatch(/2 threads over a shared WebAssembly.Memory/);
    expect(SIZES[0]).toBeGreaterThan(MIN_PARALLEL_ELEMENTS);
    store.dispose();
    expect((await ParameterStore.create()).threads).toEqual({ requested: 1, active: 1, note: 'one thread' });
    await expect(ParameterStore.create({ threads: 0 })).rejects.toThrow(/invalid threads: 0 \(expected a whole number from 1 to 64\)/);
    await expect(ParameterStore.create({ threads: 1.5 })).rejects.toThrow(/invalid threads: 1.5/);
  });

  for (const c of OPTIMIZER_CASES) {
    it(`${c.name}: identical bits on 1, 2 and 3 threads`, async () => {
      const worlds = await Promise.all([1, 2, 3].map((t) => world(t, c)));
      for (let s = 0; s < 3; s++) {
        for (const w of worlds) {
          feed(w.params, s);
          w.opt.step();
        }
      }
      const [one, ...rest] = worlds;
      for (const w of rest) {
        one.params.forEach((p, i) => {
          expectSameBits(w.params[i].data, p.data, `${c.name}: ${p.name} on ${w.store.threads.active} threads`);
          const a = one.opt.state(p), b = w.opt.state(w.params[i]);
          for (const [k, v] of Object.entries(a)) if (v instanceof Float32Array) expectSameBits(b[k] as Float32Array, v, `${c.name}: ${p.name}.${k}`);
        });
      }
      worlds.forEach((w) => w.store.dispose());
    }, 60_000);
  }

  it('the clipping norm and clipped gradients are identical across thread counts', async () => {
    const results: { norm: number; grads: Float32Array[] }[] = [];
    for (const threads of [1, 2, 3]) {
      const store = await ParameterStore.create({ threads });
      const params = SIZES.map((n, i) => store.parameter(`p${i}`, n));
      feed(params, 99);
      const norm = clipGradNorm(params, 1);
      clipGradValue(params, 1e-3);
      results.push({ norm, grads: params.map((p) => p.grad.slice()) });
      store.dispose();
    }
    for (const r of results.slice(1)) {
      expect(Object.is(r.norm, results[0].norm)).toBe(true);
      r.grads.forEach((g, i) => expectSameBits(g, results[0].grads[i], `grad ${i}`));
    }
  }, 60_000);

  it('averaged models (EMA, SWA, swapping), gradient accumulation and a frozen parameter give identical bits on 1, 2 and 3 threads', async () => {
    const results: Float32Array[][] = [];
    for (const threads of [1, 2, 3]) {
      const store = await ParameterStore.create({ backend: 'wasm', threads });
      const rand = prng(3);
      const params = SIZES.map((n, i) => store.parameter(`p${i}`, fillMixed(new Float32Array(n), rand, 1, 0.01)));
      const opt = new Adam(params, { lr: 0.01 });
      const acc = new GradientAccumulator(opt, { everyK: 2 });
      const ema = new AveragedModel(store, { mode: 'ema', decay: 0.9 });
      const swa = new AveragedModel([params[0], params[2]]);
      params[1].requiresGrad = false; // splits the run of the three parameters
      for (let s = 0; s < 7; s++) {
        if (s === 4) params[1].requiresGrad = true;
        feed(params, s);
        if (acc.step()) {
          ema.updateParameters();
          swa.updateParameters();
        }
      }
      ema.swapIn();
      results.push([...params.map((p) => p.data.slice()), ...params.map((p) => opt.state(p).expAvg.slice()), ...acc.stateDict().accumulated!,
        ...swa.stateDict().averages]);
      ema.swapOut();
      results[results.length - 1].push(...params.map((p) => p.data.slice()), ...ema.stateDict().averages);
      store.dispose();
    }
    for (const r of results.slice(1)) r.forEach((a, i) => expectSameBits(a, results[0][i], `array ${i} on ${results.indexOf(r) + 1} threads`));
  }, 60_000);

  it('without shared memory: one thread, with a note saying why; the same bits', async () => {
    vi.stubGlobal('SharedArrayBuffer', undefined);
    const store = await ParameterStore.create({ threads: 4 });
    expect(store.threads.active).toBe(1);
    expect(store.threads.note).toMatch(/one thread: SharedArrayBuffer is unavailable/);
    vi.unstubAllGlobals();
    const js = await ParameterStore.create({ backend: 'js', threads: 2 });
    expect(js.threads).toEqual({ requested: 2, active: 1, note: 'one thread: the js backend runs on the calling thread' });
  });
});

describe('threads in browsers (cross-origin isolated pages)', async () => {
  const { installedBrowsers, launch, resultOf, serve } = await import('./cross-engine/browsers.js');
  const { fileURLToPath } = await import('node:url');
  const root = fileURLToPath(new URL('..', import.meta.url));
  for (const b of installedBrowsers()) {
    it(`${b}: 2 threads (Web Workers over a shared memory) give the same bits as 1`, async () => {
      const { server, url } = await serve(root, { isolated: true });
      const browser = await launch(b);
      try {
        const { result } = (await resultOf(browser, `${url}/test/cross-engine/threads.html`)) as { result: { error?: string; isolated: boolean; one: { hash: number }; two: { hash: number; info: { active: number; note: string } } } };
        expect(result.error).toBeUndefined();
        expect(result.isolated).toBe(true);
        expect(result.two.info.active, result.two.info.note).toBe(2);
        expect(result.two.hash).toBe(result.one.hash);
      } finally {
        await browser.close();
        server.close();
      }
    }, 120_000);
  }
});
