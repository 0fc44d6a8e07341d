// Shaped parameters: `{ shape }` registers a tensor; shapes travel in state dicts and
// checkpoints, and loading into parameters of another shape is refused.
import { describe, expect, it } from 'vitest';
import { Adam, ParameterStore, crc32, loadCheckpoint, saveCheckpoint } from '../src/index.js';

async function model(shape: number[]) {
  const store = await ParameterStore.create({ backend: 'js' });
  const w = store.parameter('w', { shape });
  const b = store.parameter('b', 4);
  const opt = new Adam([w, b], { lr: 0.1 });
  w.grad.fill(0.5); b.grad.fill(1);
  opt.step();
  return { store, w, b, opt };
}

describe('shaped parameters', () => {
  it('size is the product of the shape; flat parameters have shape [size]; values may come along', async () => {
    const store = await ParameterStore.create({ backend: 'wasm' });
    const w = store.parameter('w', { shape: [3, 4] });
    expect(w.size).toBe(12);
    expect(w.shape).toEqual([3, 4]);
    expect(Object.isFrozen(w.shape)).toBe(true);
    expect(String(w)).toBe('Parameter("w", [3, 4])');
    expect(store.parameter('b', 5).shape).toEqual([5]);
    expect(store.parameter('c', [1, 2, 3]).shape).toEqual([3]);
    const v = store.parameter('v', { shape: [2, 2], values: [1, 2, 3, 4] });
    expect(Array.from(v.data)).toEqual([1, 2, 3, 4]);
    expect(store.parameter('s', { shape: [0, 5] }).size).toBe(0);
  });

  it('state dicts carry the shapes; a state dict of other shapes is refused with both shapes named', async () => {
    const a = await model([3, 4]);
    const sd = a.opt.stateDict();
    expect(sd.paramShapes).toEqual([[3, 4], [4]]);
    const other = await model([4, 3]);
    expect(() => other.opt.loadStateDict(sd)).toThrow('Adam.loadStateDict: parameter 0 ("w") has shape [3, 4] in the state, but [4, 3] here; nothing was changed');
    const same = await model([3, 4]);
    same.opt.loadStateDict(sd);
    // A state dict saved before shapes existed (no paramShapes) still loads: sizes are checked.
    const { paramShapes: _, ...old } = sd;
    other.opt.loadStateDict(old);
  });

  it('checkpoints carry the shapes; a checkpoint of other shapes is refused; one without shapes loads', async () => {
    const a = await model([3, 4]);
    const bytes = saveCheckpoint({ store: a.store, optimizer: a.opt });
    const other = await model([4, 3]);
    expect(() => loadCheckpoint(bytes, { store: other.store, optimizer: other.opt }))
      .toThrow('loadCheckpoint: the checkpoint holds parameters w[3×4], b[4], the store has w[4×3], b[4]; nothing was changed');
    // Strip the shapes from the header (as checkpoints written before shapes existed), CRC recomputed.
    const view = new DataView(bytes.buffer);
    const length = view.getUint32(12, true);
    const header = JSON.parse(new TextDecoder().decode(bytes.subarray(16, 16 + length)));
    for (const p of header.params) delete p.shape;
    delete header.optimizer.paramShapes;
    const json = new TextEncoder().encode(JSON.stringify(header));
    const padded = Math.ceil(json.length / 4) * 4, oldPadded = Math.ceil(length / 4) * 4;
    const out = new Uint8Array(16 + padded + bytes.length - 16 - oldPadded);
    out.set(bytes.subarray(0, 16)); out.set(json, 16); out.fill(0x20, 16 + json.length, 16 + padded);
    out.set(bytes.subarray(16 + oldPadded), 16 + padded);
    const ov = new DataView(out.buffer);
    ov.setUint32(12, json.length, true);
    ov.setUint32(out.length - 4, crc32(out.subarray(0, out.length - 4)), true);
    loadCheckpoint(out, { store: other.store, optimizer: other.opt });
    expect(Array.from(other.w.data)).toEqual(Array.from(a.w.data));
  });
});
