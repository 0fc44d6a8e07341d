// Views stay valid for the life of the store: no segment ever moves, and where the memory can
// grow without detaching (every store in Node) an array taken once keeps reading and writing
// exactly its own segment through everything that allocates. Where only a detaching memory
// exists (a custom, non-shared kernel module), stale arrays are empty, never aliased.
import { describe, expect, it } from 'vitest';
import { Adam, ParameterStore, SGD, kernelWasmBytes, loadCheckpoint, saveCheckpoint, type Parameter } from '../src/index.js';
import { expectSameBits } from './helpers.js';

type Store = Awaited<ReturnType<typeof ParameterStore.create>>;

/** Every array a training loop might cache: data, grad and each optimizer state buffer. */
function cacheViews(params: Parameter[], opts: { state(p: Parameter): Record<string, unknown> }[]) {
  const views: { label: string; view: Float32Array; live: () => Float32Array }[] = [];
  for (const p of params) {
    views.push({ label: `${p.name}.data`, view: p.data, live: () => p.data });
    views.push({ label: `${p.name}.grad`, view: p.grad, live: () => p.grad });
    for (const opt of opts) {
      let state: Record<string, unknown>;
      try { state = opt.state(p); } catch { continue; }
      for (const [k, v] of Object.entries(state)) if (v instanceof Float32Array) views.push({ label: `${p.name}.${k}`, view: v, live: () => opt.state(p)[k] as Float32Array });
    }
  }
  return views;
}

/** Writes a distinct pattern through each cached view and checks every live view holds exactly its own. */
function checkOwnSegments(all: ReturnType<typeof cacheViews>): void {
  const views = all.filter((v, i) => all.findIndex((w) => w.label === v.label) === i);
  views.forEach((v, i) => v.view.fill(1000 + i));
  views.forEach((v, i) => {
    expect(v.view.length, v.label).toBe(v.live().length);
    expect(v.view.byteOffset, v.label).toBe(v.live().byteOffset);
    expect(Array.from(v.live()).every((x) => x === 1000 + i), `${v.label}: live view holds what the cached view wrote`).toBe(true);
  });
}

async function allocateEverything(store: Store, a: Parameter, b: Parameter, opt: Adam) {
  const sgd = new SGD([a], { lr: 0.1 }); // no momentum: no buffer yet
  for (let i = 0; i < 30; i++) store.parameter(`filler${i}`, 400_000 + i); // several new blocks (48 MiB and more), memory growth
  const c = store.parameter('c', { shape: [300, 7] });
  opt.addParamGroup({ params: [c], lr: 0.01 });
  sgd.paramGroups[0].momentum = 0.9; // a buffer an option switches on later: allocated at the step
  a.grad.fill(0.5);
  sgd.step();
  // A state dict that switches amsgrad on allocates maxExpAvgSq.
  const sd = opt.stateDict();
  sd.paramGroups[0].amsgrad = true;
  opt.loadStateDict(sd);
  // A checkpoint saved with momentum on, loaded into a fresh SGD over the same store, allocates.
  const other = new SGD([b], { lr: 0.1, momentum: 0.5 });
  b.grad.fill(0.25);
  other.step();
  const bytes = saveCheckpoint({ store, optimizer: other });
  const fresh = new SGD([b], { lr: 0.1 });
  loadCheckpoint(bytes, { store, optimizer: fresh });
  return { sgd, other, fresh };
}

describe('views stay valid for the life of the store', () => {
  for (const backend of ['wasm', 'js'] as const) {
    for (const threads of backend === 'wasm' ? [1, 2, 3] : [1]) {
      it(`${backend}, ${threads} thread(s): cached data, grad and state views keep their own segments through every allocation`, async () => {
        const store = await ParameterStore.create({ backend, threads });
        expect(store.stableViews).toBe(true);
        const a = store.parameter('a', 40_000);
        const b = store.parameter('b', 40_000);
        const opt = new Adam([a, b], { lr: 0.1 });
        a.grad.fill(1);
        opt.step();
        const views = cacheViews([a, b], [opt]);
        const addresses = [a.dataAddress, a.gradAddress, b.dataAddress, b.gradAddress];
        const bytesBefore = store.byteLength;
        const { sgd, other } = await allocateEverything(store, a, b, opt);
        expect(store.byteLength).toBeGreaterThan(bytesBefore); // the memory did grow
        expect([a.dataAddress, a.gradAddress, b.dataAddress, b.gradAddress]).toEqual(addresses);
        // New views cached after the allocations, too, must not overlap the old ones.
        const more = cacheViews(store.parameters.filter((p) => p.name === 'c'), [opt, sgd, other]);
        checkOwnSegments([...views, ...more, ...cacheViews([a], [sgd]), ...cacheViews([b], [other])]);
        store.dispose();
      });
    }
  }

  it("the report's example: a gradient cached before another registration never writes into the other parameter", async () => {
    for (const threads of [1, 2]) {
      const store = await ParameterStore.create({ backend: 'wasm', threads });
      const a = store.parameter('a', 40000); a.data.fill(1);
      const g = a.grad;
      const b = store.parameter('b', 40000); b.data.fill(2);
      new Adam([a, b], { lr: 0.1 });
      g.fill(7);
      expect(b.data.every((x) => x === 2), `threads ${threads}: b untouched`).toBe(true);
      expect(a.grad.every((x) => x === 7), `threads ${threads}: the write reached a's gradient`).toBe(true);
      store.dispose();
    }
  });

  it('where only a detaching memory exists (a custom non-shared module), stableViews is false and stale views are empty, never aliased', async () => {
    const store = await ParameterStore.create({ backend: 'wasm', wasm: kernelWasmBytes() });
    expect(store.stableViews).toBe(false);
    const a = store.parameter('a', 1000);
    const g = a.grad;
    const address = a.gradAddress;
    for (let i = 0; i < 20; i++) store.parameter(`big${i}`, 50_000); // the memory grows: the old buffer detaches
    expect(g.length).toBe(0);
    g[0] = 7; // a write into a detached array goes nowhere
    expect(a.gradAddress).toBe(address);
    expect(store.parameters.every((p) => p.grad.every((x) => x === 0))).toBe(true);
    a.grad.fill(3); // a fresh view reaches the segment
    expectSameBits(a.grad, new Float32Array(1000).fill(3), 'a.grad');
  });
});
