// The arena: layout, padding, growth and relocation, live views, one kernel call per group.
import { describe, expect, it, vi } from 'vitest';
import { Adadelta, Adagrad, Adam, Adamax, NAdam, ParameterStore, RAdam, RMSprop, SGD, kernelWasmBytes, paddedSize, wasmSimdSupported } from '../src/index.js';
import { BACKENDS, expectSameBits, fillMixed, prng } from './helpers.js';

describe('backend selection', () => {
  it("'auto' picks wasm on an engine with WebAssembly SIMD (Node)", async () => {
    expect(wasmSimdSupported()).toBe(true);
    expect((await ParameterStore.create()).backend).toBe('wasm');
    expect((await ParameterStore.create({ backend: 'auto' })).backend).toBe('wasm');
  });
  it('honours an explicit backend', async () => {
    expect((await ParameterStore.create({ backend: 'js' })).backend).toBe('js');
    expect((await ParameterStore.create({ backend: 'wasm' })).backend).toBe('wasm');
    expect((await ParameterStore.create({ backend: 'js' })).memory).toBeUndefined();
    expect((await ParameterStore.create({ backend: 'wasm' })).memory).toBeInstanceOf(WebAssembly.Memory);
  });
  it('the initialiser accepts the kernel module compiled, or as bytes; bad bytes fail clearly', async () => {
    const bytes = kernelWasmBytes();
    const fromBytes = await ParameterStore.create({ backend: 'wasm', wasm: bytes.slice() });
    const fromModule = await ParameterStore.create({ wasm: await WebAssembly.compile(bytes.slice()) });
    for (const store of [fromBytes, fromModule]) {
      expect(store.backend).toBe('wasm');
      const w = store.parameter('w', [1]);
      w.grad[0] = 1;
      new SGD([w], { lr: 0.5 }).step();
      expect(w.data[0]).toBe(0.5);
    }
    await expect(ParameterStore.create({ backend: 'wasm', wasm: new Uint8Array([0, 97, 115, 109]) })).rejects.toThrow(WebAssembly.CompileError);
  });

  it('rejects an unknown backend or option', async () => {
    await expect(ParameterStore.create({ backend: 'gpu' as never })).rejects.toThrow(/Invalid backend: "gpu"/);
    await expect(ParameterStore.create({ backnd: 'js' } as never)).rejects.toThrow(/unknown option "backnd"/);
  });
});

for (const backend of BACKENDS) {
  describe(`arena (${backend})`, () => {
    it('lays segments out in registration order within a block, 16-byte aligned, padded to whole vectors', async () => {
      const store = await ParameterStore.create({ backend });
      const sizes = [0, 1, 2, 3, 4, 5, 13, 30, 64, 1];
      const params = sizes.map((n, i) => store.parameter(`p${i}`, n));
      let data = params[0].dataAddress, grad = params[0].gradAddress;
      params.forEach((p, i) => {
        expect(p.size).toBe(sizes[i]);
        expect(p.shape).toEqual([sizes[i]]);
        expect(p.index).toBe(i);
        expect(p.paddedSize).toBe(paddedSize(sizes[i]));
        expect(p.paddedSize % 4).toBe(0);
        expect(p.dataAddress).toBe(data);
        expect(p.gradAddress).toBe(grad);
        data += p.paddedSize * 4;
        grad += p.paddedSize * 4;
        expect(p.dataAddress % 16).toBe(0);
        expect(p.gradAddress % 16).toBe(0);
        expect(p.data.length).toBe(sizes[i]);
        expect(p.grad.length).toBe(sizes[i]);
        if (backend === 'wasm') { // one memory: a view's offset is its address
          expect(p.data.byteOffset).toBe(p.dataAddress);
          expect(p.grad.byteOffset).toBe(p.gradAddress);
        }
      });
      expect(store.parameters).toEqual(params);
      expect(store.get('p6')).toBe(params[6]);
      expect(store.get('nope')).toBeUndefined();
    });

    it('initialises from values, zero grads, and keeps padding zero through steps', async () => {
      const store = await ParameterStore.create({ backend });
      const w = store.parameter('w', [1, 2, 3, 4, 5]);
      const b = store.parameter('b', [7]);
      expect(Array.from(w.data)).toEqual([1, 2, 3, 4, 5]);
      expect(Array.from(w.grad)).toEqual([0, 0, 0, 0, 0]);
      const opt = new Adam([w, b], { lr: 0.1, weightDecay: 0.1 });
      for (let s = 0; s < 5; s++) {
        w.grad.fill(0.3);
        b.grad.fill(-0.2);
        opt.step();
      }
      const heap = store.dump();
      for (const p of [w, b]) {
        for (let i = p.size; i < p.paddedSize; i++) {
          expect(heap[p.dataAddress / 4 + i]).toBe(0);
          expect(heap[p.gradAddress / 4 + i]).toBe(0);
        }
      }
      expect(w.data[0]).not.toBe(1);
    });

    it('a block that fills up starts a new one: no segment moves, a view taken before still covers its own segment', async () => {
      const store = await ParameterStore.create({ backend });
      expect(store.stableViews).toBe(true); // resizable ArrayBuffer (js) or shared memory (wasm) in Node
      const a = store.parameter('a', 10);
      const g = a.grad;
      const before = [a.dataAddress, a.gradAddress];
      const b = store.parameter('b', 20_000); // more than the first block holds: a new block
      expect([a.dataAddress, a.gradAddress]).toEqual(before);
      expect(b.dataAddress).toBeGreaterThan(a.gradAddress);
      g.fill(7);
      expect(Array.from(a.grad)).toEqual(new Array(10).fill(7));
      expect(b.data.every((x) => x === 0)).toBe(true);
      expect(b.grad.every((x) => x === 0)).toBe(true);
    });

    it('initial values that are a view over the same arena survive the relocation they cause', async () => {
      const store = await ParameterStore.create({ backend });
      const a = store.parameter('a', Array.from({ length: 8000 }, (_, i) => i));
      const b = store.parameter('b', a.data); // growing detaches a.data: the values were copied first
      expect(b.data[7999]).toBe(7999);
      expect(a.data[123]).toBe(123);
    });

    it('bad initial values leave nothing registered', async () => {
      const store = await ParameterStore.create({ backend });
      expect(() => store.parameter('x', { length: -1 } as never)).toThrow(/invalid initial values length: -1/);
      expect(store.get('x')).toBeUndefined();
      expect(store.parameter('x', 3).size).toBe(3);
    });

    it('eps too small for float32 (1e-50): padding stays zero as with eps = 0', async () => {
      const store = await ParameterStore.create({ backend });
      const a = store.parameter('a', [1, 2, 3]);
      const opt = new Adam([a], { eps: 1e-50, weightDecay: 0.1 });
      a.grad.set([0.1, 0.2, 0.3]);
      opt.step();
      opt.step();
      const heap = store.dump();
      expect(heap[a.dataAddress / 4 + 3]).toBe(0);
      for (const v of Object.values(opt.state(a))) {
        if (v instanceof Float32Array) expect(new Float32Array(v.buffer, v.byteOffset, 4)[3]).toBe(0); // the padding after it
      }
    });

    it('eps = 0: padding stays zero although 0/0 is NaN there (every optimizer with an eps)', async () => {
      const store = await ParameterStore.create({ backend });
      const w = store.parameter('w', [1, 2, 3, 4, 5]); // 3 padding elements
      const opts = [
        new Adam([w], { lr: 0.1, eps: 0 }),
      ];
      const others = [
        (p: typeof w) => new Adagrad([p], { eps: 0 }), (p: typeof w) => new RMSprop([p], { eps: 0, centered: true, momentum: 0.5 }),
        (p: typeof w) => new Adamax([p], { eps: 0 }), (p: typeof w) => new NAdam([p], { eps: 0 }),
        (p: typeof w) => new RAdam([p], { eps: 0, betas: [0.9, 0.9] }), (p: typeof w) => new Adadelta([p], { eps: 0 }),
      ];
      others.forEach((make, i) => opts.push(make(store.parameter(`q${i}`, [1, 2, 3, 4, 5])) as never));
      for (let s = 0; s < 8; s++) {
        for (const p of store.parameters) p.grad.set([0.5, -0.5, 0.25, 1, 2]);
        for (const o of opts) o.step();
      }
      const heap = store.dump();
      for (const [i, p] of store.parameters.entries()) {
        const data = p.dataAddress / 4;
        expect(Array.from(heap.subarray(data + p.size, data + p.paddedSize)), `param ${i}`).toEqual([0, 0, 0]);
        expect(Number.isFinite(p.data[0]), `param ${i} moved to a finite value`).toBe(true);
        const state = opts[i].state(p);
        for (const [key, view] of Object.entries(state)) {
          if (!(view instanceof Float32Array)) continue;
          const padded = new Float32Array(view.buffer, view.byteOffset, p.paddedSize);
          expect(Array.from(padded.subarray(p.size)), `param ${i} ${key}`).toEqual([0, 0, 0]);
        }
      }
    });

    it('growth: getters and views taken before both stay live (stable views), never written elsewhere', async () => {
      const store = await ParameterStore.create({ backend });
      const w = store.parameter('w', 10);
      const oldData = w.data, oldGrad = w.grad;
      w.data.fill(3);
      const before = store.byteLength;
      // Enough to relocate the regions several times and grow the memory.
      for (let i = 0; i < 40; i++) store.parameter(`big${i}`, 50_000);
      expect(store.byteLength).toBeGreaterThan(before);
      expect(oldData).toEqual(w.data); // the memory grew without detaching: the old views are the parameter's
      expect(oldGrad.byteOffset).toBe(w.grad.byteOffset);
      expect(Array.from(w.data)).toEqual(new Array(10).fill(3)); // values survived the moves
      w.data[2] = 42; // writing through the getter reaches the arena
      w.grad[2] = 1;
      expect(w.data[2]).toBe(42);
      const opt = new SGD([w], { lr: 1 });
      opt.step();
      expect(w.data[2]).toBe(41);
      expect(w.data[3]).toBe(3);
    });

    it('growth after an optimizer exists preserves parameters, gradients and state', async () => {
      const rand = prng(11);
      const init = fillMixed(new Float32Array(300), rand, 1, 0);
      const grads = Array.from({ length: 6 }, () => fillMixed(new Float32Array(300), rand, 1, 0));
      // Uninterrupted run.
      const a = await ParameterStore.create({ backend });
      const pa = a.parameter('w', init);
      const oa = new Adam([pa], { lr: 0.01, amsgrad: true });
      // Same run, with big parameters added between steps (forcing moves of every region).
      const b = await ParameterStore.create({ backend });
      const pb = b.parameter('w', init);
      const ob = new Adam([pb], { lr: 0.01, amsgrad: true });
      grads.forEach((g, s) => {
        pa.grad.set(g);
        oa.step();
        pb.grad.set(g);
        if (s === 3) b.parameter(`extra${s}`, 200_000);
        ob.step();
        b.parameter(`more${s}`, 1000 * (s + 1));
      });
      expectSameBits(pb.data, pa.data, 'data');
      expectSameBits(pb.grad, pa.grad, 'grad');
      for (const key of ['expAvg', 'expAvgSq', 'maxExpAvgSq']) {
        expectSameBits(ob.state(pb)[key] as Float32Array, oa.state(pa)[key] as Float32Array, key);
      }
    });

    it('one kernel call per param group when its parameters are registered back to back', async () => {
      const store = await ParameterStore.create({ backend });
      const ps = Array.from({ length: 100 }, (_, i) => store.parameter(`t${i}`, 10 + (i % 7)));
      const opt = new Adam([{ params: ps.slice(0, 60) }, { params: ps.slice(60), lr: 0.1 }]);
      const spy = vi.spyOn(store.kernels, 'adam');
      opt.step();
      expect(spy).toHaveBeenCalledTimes(2);
      expect(spy.mock.calls[0][1]).toBe(ps.slice(0, 60).reduce((n, p) => n + p.paddedSize, 0));
    });

    it('a group of non-adjacent parameters steps correctly (one call per adjacent run)', async () => {
      const rand = prng(5);
      const vals = [13, 8, 30].map((n) => fillMixed(new Float32Array(n), rand, 1, 0));
      const grad = [13, 8, 30].map((n) => fillMixed(new Float32Array(n), rand, 1, 0));
      const s1 = await ParameterStore.create({ backend });
      const [a1, b1, c1] = vals.map((v, i) => s1.parameter(`p${i}`, v));
      const o1 = new SGD([{ params: [c1, a1], lr: 0.1, momentum: 0.9 }, { params: [b1], lr: 0.5 }], { lr: 0.01 });
      const spy = vi.spyOn(s1.kernels, 'sgd');
      const s2 = await ParameterStore.create({ backend });
      const [a2, b2, c2] = vals.map((v, i) => s2.parameter(`p${i}`, v));
      const oa = new SGD([a2], { lr: 0.1, momentum: 0.9 });
      const ob = new SGD([b2], { lr: 0.5 });
      const oc = new SGD([c2], { lr: 0.1, momentum: 0.9 });
      for (let s = 0; s < 3; s++) {
        [a1, b1, c1].forEach((p, i) => p.grad.set(grad[i]));
        [a2, b2, c2].forEach((p, i) => p.grad.set(grad[i]));
        o1.step();
        oa.step(); ob.step(); oc.step();
      }
      expect(spy).toHaveBeenCalledTimes(3 * 3);
      expectSameBits(a1.data, a2.data, 'a');
      expectSameBits(b1.data, b2.data, 'b');
      expectSameBits(c1.data, c2.data, 'c');
      expectSameBits(o1.state(c1).momentumBuffer as Float32Array, oc.state(c2).momentumBuffer as Float32Array, 'c buffer');
    });

    it('zeroGrad clears the gradients (store-wide and per optimizer)', async () => {
      const store = await ParameterStore.create({ backend });
      const a = store.parameter('a', 5), b = store.parameter('b', 7);
      a.grad.fill(1); b.grad.fill(2);
      const opt = new SGD([a], { lr: 0.1 });
      opt.zeroGrad();
      expect(Array.from(a.grad)).toEqual([0, 0, 0, 0, 0]);
      expect(b.grad[0]).toBe(2);
      store.zeroGrad();
      expect(b.grad.every((x) => x === 0)).toBe(true);
      b.grad.fill(3);
      b.zeroGrad();
      expect(b.grad.every((x) => x === 0)).toBe(true);
    });

    it('paramGroups are live: a written lr takes effect at the next step', async () => {
      const store = await ParameterStore.create({ backend });
      const w = store.parameter('w', [1]);
      const opt = new SGD([w], { lr: 0.25 });
      w.grad[0] = 1;
      opt.step();
      expect(w.data[0]).toBe(0.75);
      opt.paramGroups[0].lr = 0.5;
      opt.step();
      expect(w.data[0]).toBe(0.25);
      // momentum switched on later: the buffer appears, starting as a copy of g
      opt.paramGroups[0].momentum = 0.5;
      opt.step();
      expect(opt.state(w).momentumBuffer).toEqual(new Float32Array([1]));
      expect(w.data[0]).toBe(-0.25);
    });

    it('step(closure) evaluates the closure first and returns its loss', async () => {
      const store = await ParameterStore.create({ backend });
      const w = store.parameter('w', [2]);
      const opt = new SGD([w], { lr: 0.25 });
      const loss = opt.step(() => {
        w.grad[0] = 2 * w.data[0];
        return w.data[0] ** 2;
      });
      expect(loss).toBe(4);
      expect(w.data[0]).toBe(1);
    });
  });
}
