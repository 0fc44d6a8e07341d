// Every way state enters the library either loads exactly or is refused with a clear message
// and nothing changed: checkpoint bytes in every container (real files included), hostile
// state dicts, the JSON form, live hyperparameters, parameter lists, unallocated buffers.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  Adam, OneCycleLR, ParameterStore, SGD, loadCheckpoint, saveCheckpoint, stateDictFromJSON, stateDictToJSON,
  type OptimizerStateDict,
} from '../src/index.js';
import { expectSameBits, fillMixed, prng, SPECIAL_VALUES } from './helpers.js';
import { OPTIMIZER_CASES, caseShape, groupsFor, optimizerClass } from './registry.js';
import { fingerprint, fuzzWorld, partsOf } from './fuzz/checkpoint-fuzz.js';

const dir = mkdtempSync(join(tmpdir(), 'simdopt-ckpt-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A trained model of 100,000 parameters with Adam and a scheduler, and a fresh one to load into. */
async function bigPair() {
  const make = async (seed: number, steps: number) => {
    const store = await ParameterStore.create({ backend: 'wasm' });
    const rand = prng(seed);
    const w = store.parameter('w', fillMixed(new Float32Array(99_997), rand, 1, 0));
    const b = store.parameter('b', fillMixed(new Float32Array(3), rand, 1, 0));
    const opt = new Adam([w, b], { lr: 0.01 });
    const sched = new OneCycleLR(opt, { maxLr: 0.01, totalSteps: 20 });
    for (let s = 0; s < steps; s++) {
      w.grad.set(fillMixed(new Float32Array(w.size), rand, 1, 0)); b.grad.set([0.1, -0.2, 0.3]);
      opt.step(); sched.step();
    }
    return { store, w, b, opt, sched };
  };
  return { saved: await make(1, 3), fresh: await make(2, 1) };
}

describe('loadCheckpoint reads every byte container exactly', () => {
  it('a file written with writeFileSync and read back with readFileSync (a pooled Buffer view) loads exactly', async () => {
    const { saved, fresh } = await bigPair();
    const file = join(dir, 'big.ckpt');
    writeFileSync(file, saveCheckpoint({ store: saved.store, optimizer: saved.opt, scheduler: saved.sched }));
    const buffer = readFileSync(file);
    loadCheckpoint(buffer, { store: fresh.store, optimizer: fresh.opt, scheduler: fresh.sched });
    expectSameBits(fresh.w.data, saved.w.data, 'w');
    expectSameBits(fresh.b.data, saved.b.data, 'b');
    expectSameBits(fresh.opt.state(fresh.w).expAvgSq as Float32Array, saved.opt.state(saved.w).expAvgSq as Float32Array, 'expAvgSq');
    expect(fresh.sched.stateDict()).toEqual(saved.sched.stateDict());
  });

  it('small pooled Buffers, Buffer.from, subarrays at offsets 1, 3 and 8, ArrayBuffers and DataViews all load the same bits', async () => {
    const source = await fuzzWorld('wasm', 1, 4);
    const bytes = saveCheckpoint(partsOf(source));
    const file = join(dir, 'small.ckpt');
    writeFileSync(file, bytes);
    const offsetCopy = (offset: number) => {
      const backing = new Uint8Array(bytes.length + offset + 5).fill(0xcd);
      backing.set(bytes, offset);
      return backing.subarray(offset, offset + bytes.length);
    };
    // A small Buffer.from lives in Node's shared pool, at some offset, next to other Buffers.
    const neighbours = [Buffer.from('abc'), Buffer.from(bytes), Buffer.from([1, 2, 3, 4, 5])];
    const arrayBuffer = bytes.slice().buffer;
    const containers: [string, unknown][] = [
      ['readFileSync', readFileSync(file)],
      ['pooled Buffer.from', neighbours[1]],
      ['Buffer.concat', Buffer.concat([Buffer.from(bytes)])],
      ['subarray at 1', offsetCopy(1)],
      ['subarray at 3', offsetCopy(3)],
      ['subarray at 8', offsetCopy(8)],
      ['Buffer over an offset ArrayBuffer', Buffer.from(offsetCopy(3).buffer, 3, bytes.length)],
      ['ArrayBuffer', arrayBuffer],
      ['DataView at 5', new DataView(offsetCopy(5).buffer, 5, bytes.length)],
      ['Blob.arrayBuffer()', await new Blob([bytes as BlobPart]).arrayBuffer()],
    ];
    expect(neighbours[1].byteOffset).toBeGreaterThan(0); // the case that used to read the wrong bytes
    for (const [label, container] of containers) {
      const target = await fuzzWorld('js', 2, 6);
      loadCheckpoint(container as Uint8Array, partsOf(target));
      expect(fingerprint(target, false), label).toBe(fingerprintWithGrads(source, target));
    }
  });

  it('anything else is a TypeError naming what it got, nothing changed', async () => {
    const target = await fuzzWorld('wasm', 2, 6);
    const before = fingerprint(target);
    const parts = { store: target.store, optimizer: target.opt, scheduler: target.sched };
    for (const [bad, name] of [[new Float32Array(8), 'a Float32Array'], [new Uint16Array(40), 'a Uint16Array'], [[1, 2, 3], 'an array'], ['bytes', 'the string "bytes"'], [null, 'null'], [undefined, 'undefined'], [{ length: 30 }, 'an Object']] as const) {
      expect(() => loadCheckpoint(bad as never, parts), name).toThrow(TypeError);
      expect(() => loadCheckpoint(bad as never, parts), name).toThrow(new RegExp(`expected the checkpoint as a Uint8Array .*, got ${name}`));
    }
    expect(fingerprint(target)).toBe(before);
  });
});

/** `source`'s saved state as the target would hold it after a load: the target keeps its own gradients. */
function fingerprintWithGrads(source: Awaited<ReturnType<typeof fuzzWorld>>, target: Awaited<ReturnType<typeof fuzzWorld>>): string {
  const grads = source.params.map((p) => p.grad.slice());
  source.params.forEach((p, i) => p.grad.set(target.params[i].grad));
  const f = fingerprint(source, false);
  source.params.forEach((p, i) => p.grad.set(grads[i]));
  return f;
}

async function adamWorld() {
  const store = await ParameterStore.create({ backend: 'wasm' });
  const w = store.parameter('w', [1, 2, 3]), b = store.parameter('b', [4]);
  const opt = new Adam([{ params: [w] }, { params: [b], lr: 0.5 }], { lr: 0.1, amsgrad: true });
  w.grad.set([0.1, 0.2, 0.3]); b.grad.set([1]);
  opt.step();
  return { store, w, b, opt };
}

const everything = (x: Awaited<ReturnType<typeof adamWorld>>) =>
  stateDictToJSON({ heap: x.store.dump(), sd: x.opt.stateDict(), groups: x.opt.paramGroups.map(({ params: _, ...r }) => r), bytes: x.store.byteLength });

describe('loadStateDict refuses hostile state dicts with a message, nothing changed', () => {
  const withState = (sd: OptimizerStateDict, value: unknown) => ({ ...sd, state: { ...sd.state, 0: { ...sd.state[0], expAvg: value } } });
  const cases: [string, (sd: OptimizerStateDict) => unknown, RegExp][] = [
    ['a Float64Array buffer', (sd) => withState(sd, new Float64Array(3)), /state expAvg of parameter 0 \("w"\) is a Float64Array; state buffers are Float32Arrays/],
    ['an Int32Array buffer', (sd) => withState(sd, new Int32Array(3)), /state expAvg of parameter 0 \("w"\) is an Int32Array/],
    ['a plain array holding a NaN string', (sd) => withState(sd, [1, 'NaN', 3]), /state expAvg of parameter 0 \("w"\) holds "NaN" \(string\) at index 1, not a number/],
    // eslint-disable-next-line no-sparse-arrays
    ['a plain array with a hole', (sd) => withState(sd, [1, , 3]), /state expAvg of parameter 0 \("w"\) has a hole at index 1/],
    ['an object whose length lies', (sd) => withState(sd, { length: 3, 0: 1, 1: 2, 2: 3 }), /state expAvg of parameter 0 \("w"\) is an Object, not a Float32Array of length 3/],
    ['a Float32Array subclass whose length lies', (sd) => {
      class Liar extends Float32Array { override get length() { return 3; } }
      return withState(sd, new Liar(2));
    }, /state expAvg of parameter 0 \("w"\) has length 2, expected 3/],
    ['a getter that throws', (sd) => {
      const s = { ...sd };
      Object.defineProperty(s, 'paramGroups', { enumerable: true, get() { throw new Error('boom'); } });
      return s;
    }, /the state dict cannot be read as plain data \(boom\)/],
    ['a proxy', (sd) => new Proxy(sd, {}), /the state dict cannot be read as plain data/],
    ['__proto__ in a param group, from JSON.parse', (sd) => {
      const text = JSON.stringify({ ...sd, state: {} }).replace('"lr":0.1', '"lr":0.1,"__proto__":{"lr":9}');
      return { ...JSON.parse(text), state: sd.state };
    }, /param group 0: unknown hyperparameter "__proto__" in the param group/],
    ['constructor in a param group', (sd) => ({ ...sd, paramGroups: [{ ...sd.paramGroups[0], constructor: 1 }, sd.paramGroups[1]] }), /unknown hyperparameter "constructor"/],
    ['__proto__ in the state, from JSON.parse', (sd) => ({ ...sd, state: { ...sd.state, ...JSON.parse('{"__proto__": {"step": 1}}') } }), /state holds entries for no parameter of this optimizer: "__proto__"/],
    ['__proto__ in a state entry', (sd) => ({ ...sd, state: { ...sd.state, 0: { ...sd.state[0], ...JSON.parse('{"__proto__": [1,2,3]}') } } }), /unknown state "__proto__" for parameter 0/],
    ['a state entry for a parameter that does not exist', (sd) => ({ ...sd, state: { ...sd.state, 7: sd.state[0] } }), /state holds entries for no parameter of this optimizer: "7"/],
    ['a step that is not a safe integer', (sd) => ({ ...sd, state: { 0: { ...sd.state[0], step: 2 ** 60 }, 1: sd.state[1] } }), /invalid step 1152921504606847000 for parameter 0/],
    ['a negative initialLr', (sd) => ({ ...sd, paramGroups: [{ ...sd.paramGroups[0], initialLr: -1 }, sd.paramGroups[1]] }), /initialLr \(recorded by a scheduler\) must be a finite number >= 0, got -1/],
  ];
  for (const [label, mutate, message] of cases) {
    it(label, async () => {
      const x = await adamWorld();
      const sd = x.opt.stateDict();
      const before = everything(x);
      expect(() => x.opt.loadStateDict(mutate(sd) as OptimizerStateDict)).toThrow(message);
      expect(() => x.opt.loadStateDict(mutate(sd) as OptimizerStateDict)).toThrow(/; nothing was changed$/);
      expect(everything(x)).toBe(before);
      expect(Object.getPrototypeOf(x.opt.paramGroups[0])).toBe(Object.prototype);
    });
  }

  it('plain number arrays load (rounded to float32)', async () => {
    const x = await adamWorld();
    const sd = x.opt.stateDict();
    x.opt.loadStateDict({ ...sd, state: { ...sd.state, 0: { ...sd.state[0], expAvg: [0.1, -0, NaN] } } } as never);
    expectSameBits(x.opt.state(x.w).expAvg as Float32Array, new Float32Array([0.1, -0, NaN]), 'expAvg');
  });

  it('a state dict changed after it was passed in cannot change what was checked (one copy is validated and applied)', async () => {
    const x = await adamWorld();
    const sd = x.opt.stateDict();
    let reads = 0;
    const sneaky = { ...sd };
    Object.defineProperty(sneaky, 'state', { enumerable: true, get() { reads++; return reads === 1 ? sd.state : {}; } });
    x.opt.loadStateDict(sneaky as never);
    expect(reads).toBe(1);
  });
});

describe('stateDictToJSON / stateDictFromJSON round-trip every float32 exactly', () => {
  const specials = new Float32Array([...SPECIAL_VALUES, -0, NaN]);
  // A NaN with a payload of its own: kept bit for bit too.
  new Uint32Array(specials.buffer)[specials.length - 1] = 0x7fc12345;

  for (const c of OPTIMIZER_CASES) {
    it(`${c.name}: stateDict -> JSON -> loadStateDict continues bit for bit; NaN, -0 and Inf kept`, async () => {
      const make = async (seed: number) => {
        const store = await ParameterStore.create({ backend: 'js' });
        const rand = prng(seed);
        const params = [5, 30].map((n, i) => store.parameter(`p${i}`, { shape: caseShape(c, n, i), values: fillMixed(new Float32Array(n), rand, 1, 0) }));
        const cls = optimizerClass(c.torch)!;
        return { store, params, opt: cls.create(groupsFor(cls, [{ params: [params[0]] }, { params: [params[1]], lr: 0.003 }]) as never, c.options) };
      };
      const a = await make(1), b = await make(9);
      const rand = prng(3);
      for (let s = 0; s < 3; s++) { for (const p of a.params) p.grad.set(fillMixed(new Float32Array(p.size), rand, 1, 0)); a.opt.step(); }
      const sd = a.opt.stateDict();
      // Plant special values in every buffer, so the JSON has to carry them: float32 values, and
      // low-precision state's raw bits (bfloat16 NaN, ±Infinity, ±0, subnormal; int8 codes and scales).
      const bf16Specials = [0x7fc1, 0xff80, 0x7f80, 0x8000, 0x0000, 0x0001, 0x3f80];
      for (const entry of Object.values(sd.state)) {
        for (const v of Object.values(entry)) {
          if (v instanceof Float32Array) v.set(specials.subarray(0, Math.min(v.length, specials.length)));
          else if (typeof v === 'object' && v.data instanceof Uint16Array) v.data.set(bf16Specials.slice(0, v.data.length));
          else if (typeof v === 'object') {
            v.data.set([255, 128, 0, 127, 1].slice(0, v.data.length));
            v.scales!.set(specials.subarray(0, Math.min(v.scales!.length, specials.length)));
          }
        }
      }
      const text = stateDictToJSON(sd);
      expect(() => JSON.parse(text)).not.toThrow();
      const back = stateDictFromJSON<OptimizerStateDict>(text);
      for (const [i, entry] of Object.entries(sd.state)) {
        for (const [k, v] of Object.entries(entry)) {
          if (v instanceof Float32Array) {
            const u = back.state[Number(i)][k] as Float32Array;
            expect(Array.from(new Uint32Array(u.buffer, u.byteOffset, u.length))).toEqual(Array.from(new Uint32Array(v.buffer, v.byteOffset, v.length)));
          } else if (typeof v === 'object') {
            expect(back.state[Number(i)][k]).toEqual(v); // the same dtype, the same data and scales
          } else expect(back.state[Number(i)][k]).toBe(v);
        }
      }
      b.opt.loadStateDict(back);
      expect(stateDictToJSON(b.opt.stateDict())).toBe(text);
    });
  }

  it('numbers JSON cannot write survive; malformed encodings and other typed arrays are refused', () => {
    const text = stateDictToJSON({ a: NaN, b: -0, c: Infinity, d: -Infinity, e: [1, -0] });
    const back = stateDictFromJSON<Record<string, unknown>>(text);
    expect(Number.isNaN(back.a)).toBe(true);
    expect(Object.is(back.b, -0)).toBe(true);
    expect(back.c).toBe(Infinity);
    expect(back.d).toBe(-Infinity);
    expect(Object.is((back.e as number[])[1], -0)).toBe(true);
    expect(() => stateDictToJSON({ x: new Float64Array(2) })).toThrow(/"x" is a Float64Array; only Float32Arrays \(and the Uint16Arrays and Uint8Arrays of low-precision state\) are written exactly/);
    expect(() => stateDictFromJSON('{"x":{"$float32":"AAA"}}')).toThrow(/invalid base64/);
    expect(() => stateDictFromJSON('{"x":{"$float32":"AAAAAAA="}}')).toThrow(/not a whole number of float32 values/);
    expect(() => stateDictFromJSON('{"x":{"$number":"1e400"}}')).toThrow(/unknown number "1e400"/);
    expect(() => stateDictFromJSON('{"x":{"$number":"NaN","y":1}}')).toThrow(/exactly one key/);
    expect(() => stateDictFromJSON(42 as never)).toThrow(/expected a JSON string/);
  });

  it('JSON.stringify of a state dict (typed arrays lost) is still refused with a message', async () => {
    const x = await adamWorld();
    const sd = JSON.parse(JSON.stringify(x.opt.stateDict())) as OptimizerStateDict;
    expect(() => x.opt.loadStateDict(sd)).toThrow(/state expAvg of parameter 0 \("w"\) is an Object, not a Float32Array of length 3/);
  });
});

describe('live hyperparameters: an unknown key written into a param group is refused at the next step', () => {
  it('group.lrr = 0.5 throws at step(), names the key, lists the valid ones, and changes nothing', async () => {
    const x = await adamWorld();
    (x.opt.paramGroups[1] as unknown as Record<string, unknown>).lrr = 0.5;
    const before = everything(x);
    expect(() => x.opt.step()).toThrow('Adam: param group 1: unknown hyperparameter "lrr" in the param group (valid: lr, betas, eps, weightDecay, amsgrad, maximize, cautious, decoupledWeightDecay, stateDtype, stochasticRounding, stateSeed; and initialLr, maxLr, which schedulers record)');
    expect(everything(x)).toBe(before);
    delete (x.opt.paramGroups[1] as unknown as Record<string, unknown>).lrr;
    expect(() => x.opt.step()).not.toThrow();
  });

  it('a single group is named by the optimizer; keys schedulers record are accepted', async () => {
    const store = await ParameterStore.create({ backend: 'js' });
    const w = store.parameter('w', [1]);
    const opt = new SGD([w], { lr: 0.1, momentum: 0.9 });
    new OneCycleLR(opt, { maxLr: 0.1, totalSteps: 10 });
    expect(Object.keys(opt.paramGroups[0])).toEqual(expect.arrayContaining(['initialLr', 'maxLr']));
    expect(() => opt.step()).not.toThrow();
    (opt.paramGroups[0] as unknown as Record<string, unknown>).momentun = 0.5;
    expect(() => opt.step()).toThrow(/^SGD: unknown hyperparameter "momentun" in the param group \(valid: lr, momentum,/);
  });
});

describe('messages that point at the mistake', () => {
  it('parameters passed as Float32Arrays, param groups given a Parameter, mixed lists', async () => {
    const store = await ParameterStore.create({ backend: 'js' });
    const w = store.parameter('w', 3), b = store.parameter('b', 1);
    expect(() => new Adam([w.data] as never)).toThrow(/^Adam: params\[0\] is a Float32Array, not a Parameter or a param group/);
    expect(() => new Adam([w, b.grad] as never)).toThrow(/^Adam: params\[1\] is a Float32Array, not a Parameter or a param group/);
    expect(() => new Adam([{ params: w }] as never)).toThrow(/^Adam: param group 0: params must be a non-empty array of Parameters, got Parameter\("w", 3\)/);
    expect(() => new Adam([{ params: [w] }, { params: b }] as never)).toThrow(/^Adam: param group 1: params must be a non-empty array of Parameters, got Parameter\("b", 1\)/);
    expect(() => new Adam([w, { params: [b] }] as never)).toThrow(/^Adam: params mixes Parameters and param groups/);
    expect(() => new Adam([3] as never)).toThrow(/^Adam: params\[0\] is the number 3, not a Parameter or a param group/);
    expect(() => new Adam([{ params: [w.data] }] as never)).toThrow(/^Adam: param group 0: params\[0\] is a Float32Array, not a Parameter/);
  });
});

describe('no address 0 by accident', () => {
  it('a step that needs a state buffer that was never allocated throws and writes nothing', async () => {
    for (const backend of ['wasm', 'js'] as const) {
      const store = await ParameterStore.create({ backend });
      const w = store.parameter('w', [1, 2, 3, 4]);
      // An optimizer whose buffer list forgets a buffer its kernel reads.
      class Forgetful extends Adam {
        protected override stateBuffers(): readonly string[] { return ['expAvg']; }
      }
      const opt = new Forgetful([w], { lr: 0.1 });
      w.grad.set([1, 1, 1, 1]);
      const before = store.dump();
      expect(() => opt.step()).toThrow(/Adam: internal error: state buffer "expAvgSq" is needed by this step but was never allocated \(allocated: expAvg\)/);
      expectSameBits(store.dump(), before, `${backend}: arena`);
    }
  });
});
