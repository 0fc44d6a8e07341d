// Checkpoints saved before checkpoints could hold an averaged model or a gradient accumulator
// (test/fixtures/checkpoint-v1.json: an Adam (amsgrad) run of two groups under OneCycleLR,
// saved after 3 steps, with and without the optimizer, and the parameters' bits after 2 more
// steps) still load, and resume to the same bits.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { Adam, AveragedModel, OneCycleLR, ParameterStore, loadCheckpoint } from '../src/index.js';

const fixture = JSON.parse(readFileSync(new URL('./fixtures/checkpoint-v1.json', import.meta.url), 'utf8')) as {
  kernelHash: string; full: string; plain: string; after5Steps: { w: number[]; b: number[] };
};
const bytes = (base64: string) => Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));

/** The world the fixture was saved from, with other initial values (all must come from the checkpoint). */
async function world(backend: 'wasm' | 'js') {
  const store = await ParameterStore.create({ backend });
  const w = store.parameter('w', { shape: [2, 3] });
  const b = store.parameter('b', 3);
  const opt = new Adam([{ params: [w] }, { params: [b], lr: 0.003, weightDecay: 0.01 }], { amsgrad: true });
  const sched = new OneCycleLR(opt, { maxLr: 0.01, totalSteps: 20 });
  const grads = (s: number) => { w.grad.set([1, -2, 0.5, s, -s / 3, 0.75].map((x) => x / (s + 1))); b.grad.set([s - 1, 0.5, -0.25]); };
  return { store, w, b, opt, sched, grads };
}

describe('checkpoints written before averaged models and accumulators could be saved', () => {
  for (const backend of ['wasm', 'js'] as const) {
    it(`${backend}: the optimizer's checkpoint loads (its kernel build named, as any other build's) and resumes to the recorded bits`, async () => {
      const x = await world(backend);
      const parts = { store: x.store, optimizer: x.opt, scheduler: x.sched };
      expect(() => loadCheckpoint(bytes(fixture.full), parts)).toThrow(new RegExp(`saved by kernel build ${fixture.kernelHash.slice(0, 12)}….*ignoreKernelHash`));
      expect(() => loadCheckpoint(bytes(fixture.full), { ...parts, averaged: new AveragedModel(x.store) })).toThrow(/the checkpoint holds no averaged model; nothing was changed/);
      loadCheckpoint(bytes(fixture.full), parts, { ignoreKernelHash: true });
      for (let s = 3; s < 5; s++) { x.grads(s); x.opt.step(); x.sched.step(); }
      expect(Array.from(new Uint32Array(x.w.data.slice().buffer))).toEqual(fixture.after5Steps.w);
      expect(Array.from(new Uint32Array(x.b.data.slice().buffer))).toEqual(fixture.after5Steps.b);
    });
  }

  it('the parameters-only checkpoint loads as it did: the same values as the full one', async () => {
    const x = await world('js'), y = await world('wasm');
    loadCheckpoint(bytes(fixture.plain), { store: x.store });
    loadCheckpoint(bytes(fixture.full), { store: y.store, optimizer: y.opt, scheduler: y.sched }, { ignoreKernelHash: true });
    expect(Array.from(x.w.data)).toEqual(Array.from(y.w.data));
    expect(Array.from(x.b.data)).toEqual(Array.from(y.b.data));
    expect(x.b.data[0]).not.toBe(0);
  });
});
