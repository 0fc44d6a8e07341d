// wasm ≡ js through the whole stack (store, optimizer, scalars, kernels): for every case of
// the registry, after several steps the parameters and every state buffer hold identical
// float32 bits on both backends. fast-check generates the values (ordinary, subnormal,
// signed zeros, infinities, NaN, extreme magnitudes) and the learning rate; parameters of
// every length 0..67 share one store, and one parameter has 100,003 elements.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ParameterStore, type Parameter } from '../src/index.js';
import { SPECIAL_VALUES, expectSameBits, fillMixed, prng } from './helpers.js';
import { OPTIMIZER_CASES, caseShape, optimizerClass, type AnyOptimizer, type OptimizerCase } from './registry.js';

const SIZES = Array.from({ length: 68 }, (_, n) => n);
const TOTAL = SIZES.reduce((a, b) => a + b, 0);
const STEPS = 4;
const LARGE = 100_003;

const f = Math.fround;
const value = fc.oneof(
  { arbitrary: fc.float({ min: f(-4), max: f(4), noNaN: true }), weight: 10 },
  { arbitrary: fc.float(), weight: 2 },
  { arbitrary: fc.float({ min: f(-1.1754942e-38), max: f(1.1754942e-38), noNaN: true }), weight: 1 },
  { arbitrary: fc.constantFrom(...SPECIAL_VALUES), weight: 1 },
);
const vector = (n: number) => fc.array(value, { minLength: n, maxLength: n }).map((a) => Float32Array.from(a));

async function build(backend: 'wasm' | 'js', c: OptimizerCase, sizes: readonly number[], init: Float32Array, options: Record<string, unknown>) {
  const store = await ParameterStore.create({ backend });
  let at = 0;
  const params = sizes.map((n, i) => {
    const p = store.parameter(`p${i}`, { shape: caseShape(c, n, i), values: init.subarray(at, at + n) });
    at += n;
    return p;
  });
  const opt = optimizerClass(c.torch)!.create(params, { ...c.options, ...options });
  return { store, params, opt };
}

function feed(params: Parameter[], grads: Float32Array): void {
  let at = 0;
  for (const p of params) {
    p.grad.set(grads.subarray(at, at + p.size));
    at += p.size;
  }
}

function compare(label: string, a: { params: Parameter[]; opt: AnyOptimizer }, b: { params: Parameter[]; opt: AnyOptimizer }): void {
  a.params.forEach((p, i) => {
    const q = b.params[i];
    expectSameBits(p.data, q.data, `${label}: ${p.name}.data`);
    expectSameBits(p.grad, q.grad, `${label}: ${p.name}.grad`);
    const sa = a.opt.state(p), sb = b.opt.state(q);
    expect(Object.keys(sa).sort(), `${label}: state keys of ${p.name}`).toEqual(Object.keys(sb).sort());
    expect(sa.step).toBe(sb.step);
    for (const key of Object.keys(sa)) {
      if (key !== 'step') expectSameBits(sa[key] as Float32Array, sb[key] as Float32Array, `${label}: ${p.name}.${key}`);
    }
  });
}

describe('parity: wasm and js give identical bits, parameters and all state', () => {
  for (const c of OPTIMIZER_CASES) {
    it(`${c.name}: lengths 0..67, generated values and lr`, async () => {
      await fc.assert(
        fc.asyncProperty(vector(TOTAL), fc.array(vector(TOTAL), { minLength: STEPS, maxLength: STEPS }),
          fc.double({ min: 0, max: 1, noNaN: true }), async (init, grads, lr) => {
            const options = { lr };
            const w = await build('wasm', c, SIZES, init, options);
            const j = await build('js', c, SIZES, init, options);
            for (const g of grads) {
              feed(w.params, g);
              feed(j.params, g);
              w.opt.step();
              j.opt.step();
            }
            compare(c.name, w, j);
          }),
        { numRuns: 8 },
      );
    });

    it(`${c.name}: one parameter of ${LARGE} elements`, async () => {
      const rand = prng(0x5eed + c.name.length);
      const init = fillMixed(new Float32Array(LARGE), rand, 3);
      const w = await build('wasm', c, [LARGE], init, {});
      const j = await build('js', c, [LARGE], init, {});
      const g = new Float32Array(LARGE);
      for (let s = 0; s < 3; s++) {
        fillMixed(g, rand, 1);
        feed(w.params, g);
        feed(j.params, g);
        w.opt.step();
        j.opt.step();
      }
      compare(c.name, w, j);
      // The update really ran: most finite parameters moved.
      const before = init, after = w.params[0].data;
      let moved = 0, finite = 0;
      for (let i = 0; i < LARGE; i++) {
        if (Number.isFinite(before[i]) && Math.abs(before[i]) < 10) {
          finite++;
          if (after[i] !== before[i]) moved++;
        }
      }
      expect(moved / finite).toBeGreaterThan(0.5);
    });
  }
});
