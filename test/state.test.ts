// Saved state: stateDict/loadStateDict and binary checkpoints resume exactly (every optimizer,
// across backends), and every invalid input is refused with nothing changed.
import { describe, expect, it } from 'vitest';
import {
  Adam, OneCycleLR, ParameterStore, SGD, StepLR, crc32, loadCheckpoint, saveCheckpoint, type BackendName,
  type OptimizerStateDict, type Parameter,
} from '../src/index.js';
import { expectSameBits, fillMixed, prng } from './helpers.js';
import { OPTIMIZER_CASES, caseShape, groupsFor, optimizerClass, type AnyOptimizer } from './registry.js';

const SIZES = [13, 30, 5];

async function world(backend: BackendName, c: (typeof OPTIMIZER_CASES)[number], seed = 1) {
  const store = await ParameterStore.create({ backend });
  const rand = prng(seed);
  const params = SIZES.map((n, i) => store.parameter(`p${i}`, { shape: caseShape(c, n, i), values: fillMixed(new Float32Array(n), rand, 1, 0) }));
  // two groups, to exercise group bookkeeping (one for a class that takes one: L-BFGS)
  const cls = optimizerClass(c.torch)!;
  const groups = groupsFor(cls, [{ params: params.slice(0, 2) }, { params: params.slice(2), lr: 0.003 }]);
  const opt = cls.create(groups as never, c.options);
  return { store, params, opt };
}

function feed(params: Parameter[], s: number): void {
  const rand = prng(1000 + s);
  for (const p of params) p.grad.set(fillMixed(new Float32Array(p.size), rand, 1, 0));
}

function sameState(a: AnyOptimizer, pa: Parameter[], b: AnyOptimizer, pb: Parameter[], label: string): void {
  pa.forEach((p, i) => {
    expectSameBits(pb[i].data, p.data, `${label}: ${p.name}`);
    const sa = a.state(p), sb = b.state(pb[i]);
    expect(Object.keys(sb).sort()).toEqual(Object.keys(sa).sort());
    for (const [k, v] of Object.entries(sa)) {
      if (v instanceof Float32Array) expectSameBits(sb[k] as Float32Array, v, `${label}: ${p.name}.${k}`);
      else expect(sb[k]).toBe(v);
    }
  });
}

function schedulerFor(opt: AnyOptimizer) {
  const d = opt.defaults as Record<string, unknown>;
  return 'momentum' in d || 'betas' in d
    ? new OneCycleLR(opt as never, { maxLr: 0.01, totalSteps: 20 })
    : new StepLR(opt as never, { stepSize: 3, gamma: 0.5 });
}

describe('resuming is exact for every optimizer: save at step k, load into a fresh store (either backend), continue', () => {
  for (const c of OPTIMIZER_CASES) {
    for (const [from, to] of [['wasm', 'js'], ['js', 'wasm'], ['wasm', 'wasm']] as const) {
      it(`${c.name}: checkpoint ${from} -> ${to}`, async () => {
        const K = 4, N = 9;
        const ref = await world(from, c);
        const refSched = schedulerFor(ref.opt);
        const run = await world(from, c);
        const runSched = schedulerFor(run.opt);
        let bytes: Uint8Array | undefined;
        for (let s = 0; s < N; s++) {
          feed(ref.params, s); ref.opt.step(); refSched.step();
          if (s < K) { feed(run.params, s); run.opt.step(); runSched.step(); }
          if (s === K - 1) bytes = saveCheckpoint({ store: run.store, optimizer: run.opt, scheduler: runSched });
        }
        const fresh = await world(to, c, 99); // different initial values: all must come from the checkpoint
        const freshSched = schedulerFor(fresh.opt);
        loadCheckpoint(bytes!, { store: fresh.store, optimizer: fresh.opt, scheduler: freshSched });
        for (let s = K; s < N; s++) { feed(fresh.params, s); fresh.opt.step(); freshSched.step(); }
        sameState(ref.opt, ref.params, fresh.opt, fresh.params, c.name);
        expect(fresh.opt.paramGroups.map((g) => g.lr)).toEqual(ref.opt.paramGroups.map((g) => g.lr));
      });
    }

    it(`${c.name}: stateDict survives structuredClone and resumes`, async () => {
      const a = await world('wasm', c), b = await world('js', c, 5);
      for (let s = 0; s < 3; s++) { feed(a.params, s); a.opt.step(); }
      const sd = structuredClone(a.opt.stateDict());
      expect(sd.format).toBe('simdopt-optimizer');
      expect(sd.optimizer).toBe(c.torch);
      expect(sd.paramNames).toEqual(['p0', 'p1', 'p2']);
      b.params.forEach((p, i) => p.data.set(a.params[i].data));
      b.opt.loadStateDict(sd);
      for (let s = 3; s < 6; s++) { feed(a.params, s); a.opt.step(); feed(b.params, s); b.opt.step(); }
      sameState(a.opt, a.params, b.opt, b.params, c.name);
    });
  }
});

async function adamWorld() {
  const store = await ParameterStore.create({ backend: 'wasm' });
  const w = store.parameter('w', [1, 2, 3]), b = store.parameter('b', [4]);
  const opt = new Adam([{ params: [w] }, { params: [b], lr: 0.5 }], { lr: 0.1 });
  w.grad.set([0.1, 0.2, 0.3]); b.grad.set([1]);
  opt.step();
  return { store, w, b, opt };
}

function snapshot(x: { store: ParameterStore; opt: AnyOptimizer | Adam }) {
  return { heap: x.store.dump(), groups: JSON.stringify(x.opt.paramGroups.map(({ params: _, ...r }) => r)), bytes: x.store.byteLength };
}

describe('invalid optimizer state dicts are refused, nothing changed', () => {
  const mutations: [string, (sd: OptimizerStateDict) => unknown, RegExp][] = [
    ['not an object', () => 42, /expected a state dict object, got 42/],
    ['wrong format', (sd) => ({ ...sd, format: 'torch' }), /not an optimizer state dict/],
    ['future version', (sd) => ({ ...sd, version: 3 }), /unsupported state dict version 3 \(this library reads versions 1 and 2\)/],
    ['other kernel build', (sd) => ({ ...sd, kernelHash: 'abc' }), /saved by kernel build abc…, this is .*ignoreKernelHash/],
    ['another optimizer', (sd) => ({ ...sd, optimizer: 'SGD' }), /the state was saved from "SGD", not Adam/],
    ['fewer parameters', (sd) => ({ ...sd, paramNames: ['w'], paramSizes: [3] }), /holds 1 parameters \("w"\), this optimizer has 2 \(w, b\)/],
    ['other sizes', (sd) => ({ ...sd, paramSizes: [4, 1] }), /parameter 0 is "w" of size 4 in the state, but "w" of size 3 here/],
    ['other names', (sd) => ({ ...sd, paramNames: ['weight', 'b'] }), /parameter 0 is "weight" of size 3/],
    ['group count', (sd) => ({ ...sd, paramGroups: sd.paramGroups.slice(0, 1) }), /the state has 1 param groups, this optimizer has 2/],
    ['group params', (sd) => ({ ...sd, paramGroups: [{ ...sd.paramGroups[0], params: [1] }, sd.paramGroups[1]] }), /param group 0 lists parameters \[1\], expected \[0\]/],
    ['non-finite lr', (sd) => ({ ...sd, paramGroups: [{ ...sd.paramGroups[0], lr: Infinity }, sd.paramGroups[1]] }), /param group 0: invalid learning rate \(lr\): Infinity/],
    ['missing hyperparameter', (sd) => ({ ...sd, paramGroups: [sd.paramGroups[0], { ...sd.paramGroups[1], eps: undefined }] }), /param group 1 lacks eps|epsilon value \(eps\) must be a number/],
    ['unknown state key', (sd) => ({ ...sd, state: { ...sd.state, 0: { ...sd.state[0], momentumBuffer: new Float32Array(3) } } }), /unknown state "momentumBuffer" for parameter 0 \("w"\); Adam keeps expAvg, expAvgSq, maxExpAvgSq/],
    ['short buffer', (sd) => ({ ...sd, state: { ...sd.state, 0: { ...sd.state[0], expAvg: new Float32Array(2) } } }), /state expAvg of parameter 0 \("w"\) has length 2, expected 3/],
    ['missing entry', (sd) => ({ ...sd, state: { 0: sd.state[0] } }), /no state for parameter 1 \("b"\)/],
    ['bad step', (sd) => ({ ...sd, state: { ...sd.state, 1: { ...sd.state[1], step: -1 } } }), /invalid step -1 for parameter 1/],
  ];
  for (const [label, mutate, message] of mutations) {
    it(label, async () => {
      const x = await adamWorld();
      const sd = x.opt.stateDict();
      const before = snapshot(x);
      expect(() => x.opt.loadStateDict(mutate(structuredClone(sd)) as OptimizerStateDict)).toThrow(message);
      expect(snapshot(x)).toEqual(before);
    });
  }

  it('a value that cannot be copied (a function in a group) is refused before anything changes', async () => {
    const x = await adamWorld();
    const sd = x.opt.stateDict();
    const bad = { ...sd, paramGroups: [{ ...sd.paramGroups[0], lr: 0.5, zz: () => 1 }, sd.paramGroups[1]] };
    const before = snapshot(x);
    expect(() => x.opt.loadStateDict(bad as never)).toThrow(/cannot be read as plain data.*nothing was changed/);
    expect(snapshot(x)).toEqual(before);
  });

  it('ignoreKernelHash loads state of another kernel build', async () => {
    const x = await adamWorld();
    const sd = { ...x.opt.stateDict(), kernelHash: 'other' };
    expect(() => x.opt.loadStateDict(sd, { ignoreKernelHash: true })).not.toThrow();
  });

  it('a state dict from SGD into Adam', async () => {
    const x = await adamWorld();
    const sgd = new SGD([x.w, x.b], { lr: 0.1, momentum: 0.9 });
    sgd.step();
    expect(() => x.opt.loadStateDict(sgd.stateDict())).toThrow(/saved from "SGD", not Adam/);
  });

  it('SGD momentum buffer before the first step is left out and comes back unused', async () => {
    const store = await ParameterStore.create({ backend: 'js' });
    const w = store.parameter('w', [1]);
    const opt = new SGD([w], { lr: 0.5, momentum: 0.5 });
    const sd = opt.stateDict();
    expect(Object.keys(sd.state[0])).toEqual(['step']);
    opt.loadStateDict(sd);
    w.grad[0] = 1;
    opt.step(); // buf = g (first step)
    expect(opt.state(w).momentumBuffer).toEqual(new Float32Array([1]));
  });
});

describe('checkpoints refuse bad bytes and mismatches, nothing changed', () => {
  it('truncated, altered or foreign bytes fail the checksum or the format check', async () => {
    const x = await adamWorld();
    const bytes = saveCheckpoint({ store: x.store, optimizer: x.opt });
    const before = snapshot(x);
    expect(() => loadCheckpoint(bytes.subarray(0, bytes.length - 1), { store: x.store, optimizer: x.opt })).toThrow(/checksum mismatch: the checkpoint is truncated or altered; nothing was changed/);
    for (const at of [0, 9, 20, bytes.length - 20, bytes.length - 1]) {
      const bad = bytes.slice();
      bad[at] ^= 0x10;
      expect(() => loadCheckpoint(bad, { store: x.store, optimizer: x.opt }), `byte ${at}`).toThrow(/checksum mismatch/);
    }
    expect(() => loadCheckpoint(new Uint8Array(10), { store: x.store })).toThrow(/10 bytes is too short/);
    expect(() => loadCheckpoint('x' as never, { store: x.store })).toThrow(/expected the checkpoint as a Uint8Array/);
    expect(snapshot(x)).toEqual(before);
  });

  it('a header whose blocks do not match the parameters (with a valid checksum) changes nothing', async () => {
    const x = await adamWorld();
    const bytes = saveCheckpoint({ store: x.store, optimizer: x.opt });
    const view = new DataView(bytes.buffer);
    const length = view.getUint32(12, true);
    const header = JSON.parse(new TextDecoder().decode(bytes.subarray(16, 16 + length)));
    header.blocks[0].size = 2; // w has 3 values: give it 2 and b 2
    header.blocks[1].size = 2;
    const json = new TextEncoder().encode(JSON.stringify(header));
    const padded = Math.ceil(json.length / 4) * 4, oldPadded = Math.ceil(length / 4) * 4;
    const out = new Uint8Array(16 + padded + (bytes.length - 16 - oldPadded));
    out.set(bytes.subarray(0, 16));
    out.set(json, 16);
    out.fill(0x20, 16 + json.length, 16 + padded);
    out.set(bytes.subarray(16 + oldPadded), 16 + padded);
    const ov = new DataView(out.buffer);
    ov.setUint32(12, json.length, true);
    ov.setUint32(out.length - 4, crc32(out.subarray(0, out.length - 4)), true);
    const before = snapshot(x);
    expect(() => loadCheckpoint(out, { store: x.store, optimizer: x.opt })).toThrow(/a parameter block does not match its parameter's size; nothing was changed/);
    expect(snapshot(x)).toEqual(before);
  });

  it('a checkpoint for a different set of parameters', async () => {
    const x = await adamWorld();
    const bytes = saveCheckpoint({ store: x.store, optimizer: x.opt });
    const other = await ParameterStore.create({ backend: 'wasm' });
    other.parameter('w', 3);
    other.parameter('bias', 1);
    expect(() => loadCheckpoint(bytes, { store: other })).toThrow(/the checkpoint holds parameters w\[3\], b\[1\], the store has w\[3\], bias\[1\]/);
  });

  it('parts that do not match what was saved', async () => {
    const x = await adamWorld();
    const withOpt = saveCheckpoint({ store: x.store, optimizer: x.opt });
    const plain = saveCheckpoint({ store: x.store });
    const sched = new StepLR(x.opt as never, { stepSize: 2 });
    const sgd = new SGD([x.w, x.b], { lr: 0.1 });
    const before = snapshot(x);
    expect(() => loadCheckpoint(withOpt, { store: x.store })).toThrow(/holds optimizer state: pass the optimizer/);
    expect(() => loadCheckpoint(plain, { store: x.store, optimizer: x.opt })).toThrow(/holds no optimizer state/);
    expect(() => loadCheckpoint(withOpt, { store: x.store, optimizer: x.opt, scheduler: sched })).toThrow(/holds no scheduler state/);
    expect(() => loadCheckpoint(withOpt, { store: x.store, optimizer: sgd })).toThrow(/loadCheckpoint: SGD.loadStateDict: the state was saved from "Adam", not SGD/);
    expect(snapshot(x)).toEqual(before);
  });

  it('a plain parameters checkpoint round-trips between backends', async () => {
    const a = await ParameterStore.create({ backend: 'wasm' });
    a.parameter('w', [1.5, -2, 3e-40, Infinity, NaN]);
    const b = await ParameterStore.create({ backend: 'js' });
    b.parameter('w', 5);
    loadCheckpoint(saveCheckpoint({ store: a }), { store: b });
    expectSameBits(b.parameters[0].data, a.parameters[0].data, 'w');
  });
});
