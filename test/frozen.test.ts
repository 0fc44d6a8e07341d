// Frozen parameters (`p.requiresGrad = false`), for every optimizer case of the registry: while
// frozen a parameter's values and state (buffers and step count) stay bit for bit as they were,
// whatever its gradient holds; the other parameters step exactly as if nothing were frozen; once
// unfrozen a parameter continues exactly as PyTorch's would, from its own state and step count
// (as a lone optimizer stepped only on the steps it took); state dicts carry the differing step
// counts across backends. Then clipping, norms and the finite check leave frozen gradients out.
import { describe, expect, it } from 'vitest';
import {
  Adam, ParameterStore, SGD, clipGradNorm, clipGradValue, gradNorm, gradsAreFinite, type BackendName, type Parameter,
} from '../src/index.js';
import { expectSameBits, fillMixed, prng } from './helpers.js';
import { OPTIMIZER_CASES, caseShape, optimizerClass, type AnyOptimizer, type OptimizerCase } from './registry.js';

const SIZES = [13, 30, 5, 8, 21];
const STEPS = 12;
/** Steps [from, to) during which a parameter is frozen: p1 in the middle of the first group (it splits a run), p3 from the start, p4 (the second group alone). */
const FROZEN: Record<number, [number, number]> = { 1: [3, 8], 3: [0, 6], 4: [2, 5] };
const GROUP_OF = [0, 0, 0, 0, 1];
const SECOND_GROUP = { lr: 0.003 };

const frozenAt = (i: number, s: number) => FROZEN[i] !== undefined && s >= FROZEN[i][0] && s < FROZEN[i][1];

function initial(c: OptimizerCase, i: number): { shape: number[]; values: Float32Array } {
  return { shape: caseShape(c, SIZES[i], i), values: fillMixed(new Float32Array(SIZES[i]), prng(100 + i), 1, 0) };
}

function gradient(i: number, s: number): Float32Array {
  return fillMixed(new Float32Array(SIZES[i]), prng(1000 * s + i), 1, 0);
}

async function world(backend: BackendName, c: OptimizerCase) {
  const store = await ParameterStore.create({ backend });
  const params = SIZES.map((_, i) => store.parameter(`p${i}`, initial(c, i)));
  const opt = optimizerClass(c.torch)!.create([{ params: params.slice(0, 4) }, { params: params.slice(4), ...SECOND_GROUP }] as never, c.options);
  return { store, params, opt };
}

/** A parameter's values and every piece of its state, as one comparable object. */
function capture(opt: AnyOptimizer, p: Parameter): { data: Float32Array; state: Record<string, unknown> } {
  const state = Object.fromEntries(Object.entries(opt.state(p)).map(([k, v]) => [k, v instanceof Float32Array ? v.slice() : v]));
  return { data: p.data.slice(), state };
}

/** `a` holds what `b` holds; `subset`: `a` may hold more state (a group's buffers another kind of parameter uses: Muon's). */
function expectSame(a: ReturnType<typeof capture>, b: ReturnType<typeof capture>, label: string, subset = false): void {
  expectSameBits(a.data, b.data, `${label}: values`);
  if (!subset) expect(Object.keys(a.state).sort(), `${label}: state keys`).toEqual(Object.keys(b.state).sort());
  for (const [k, v] of Object.entries(b.state)) {
    if (v instanceof Float32Array) expectSameBits(a.state[k] as Float32Array, v, `${label}: ${k}`);
    else expect(a.state[k], `${label}: ${k}`).toBe(v);
  }
}

// L-BFGS is left out: it keeps one state over all its parameters (no per-parameter step counts
// or buffers to leave alone) and takes one param group; test/lbfgs.test.ts checks its frozen
// parameters (a zero gradient, values unchanged).
const PER_PARAMETER = OPTIMIZER_CASES.filter((c) => !optimizerClass(c.torch)!.closure);

describe('frozen parameters, every optimizer case', () => {
  for (const c of PER_PARAMETER) {
    it(`${c.name}: frozen ones unchanged bit for bit, the others as if none were, unfrozen ones continue from their own state`, async () => {
      const run = await world('wasm', c);
      const plain = await world('wasm', c); // nothing frozen
      const held = new Map<number, ReturnType<typeof capture>>();
      for (let s = 0; s < STEPS; s++) {
        run.params.forEach((p, i) => {
          const freeze = frozenAt(i, s);
          if (freeze && !p.requiresGrad) return;
          if (freeze) held.set(i, capture(run.opt, p));
          p.requiresGrad = !freeze;
        });
        run.params.forEach((p, i) => p.grad.set(gradient(i, s)));
        plain.params.forEach((p, i) => p.grad.set(gradient(i, s)));
        run.opt.step();
        plain.opt.step();
        for (const [i, before] of held) {
          if (frozenAt(i, s)) expectSame(capture(run.opt, run.params[i]), before, `${c.name}: p${i} frozen at step ${s}`);
        }
      }
      // Never frozen: as in the run where nothing was (unless the step couples the parameters:
      // Prodigy's tests compare its frozen parameters with its reference instead).
      if (!c.coupled) for (const i of [0, 2]) expectSame(capture(run.opt, run.params[i]), capture(plain.opt, plain.params[i]), `${c.name}: p${i}`);
      // Frozen for a while: as a lone optimizer over that parameter, stepped only when it was not.
      for (const i of c.coupled ? [] : [1, 3, 4]) {
        const store = await ParameterStore.create({ backend: 'wasm' });
        const p = store.parameter(`p${i}`, initial(c, i));
        const lone = optimizerClass(c.torch)!.create([{ params: [p], ...(GROUP_OF[i] === 1 ? SECOND_GROUP : {}) }] as never, c.options);
        for (let s = 0; s < STEPS; s++) {
          if (frozenAt(i, s)) continue;
          p.grad.set(gradient(i, s));
          lone.step();
        }
        expect(lone.state(p).step).toBe(STEPS - (FROZEN[i][1] - FROZEN[i][0]));
        if (c.options.stochasticRounding === true) {
          // Stochastic rounding draws from each element's position in its group's state buffers
          // (and the group's index), which a lone optimizer over the parameter does not share: its
          // rounding differs in the last bits, so only the values' closeness can be compared: within
          // half an Adam-like step at these learning rates (1e-3 and up), so a step taken or missed
          // would show.
          const a = run.params[i].data, b = p.data;
          for (let k = 0; k < b.length; k++) expect(Math.abs(a[k] - b[k]), `${c.name}: p${i}[${k}] after unfreezing`).toBeLessThanOrEqual(1e-3 * Math.abs(b[k]) + 5e-4);
        } else {
          expectSame(capture(run.opt, run.params[i]), capture(lone, p), `${c.name}: p${i} after unfreezing`, c.matrices !== undefined);
        }
      }
      // The differing step counts survive a state dict, into the other backend; with p1 frozen
      // again both continue alike.
      const sd = structuredClone(run.opt.stateDict());
      expect(SIZES.map((_, i) => sd.state[i].step)).toEqual([12, 7, 12, 6, 9]);
      const other = await world('js', c);
      other.opt.loadStateDict(sd);
      other.params.forEach((p, i) => p.data.set(run.params[i].data));
      for (const w of [run, other]) w.params[1].requiresGrad = false;
      for (let s = STEPS; s < STEPS + 3; s++) {
        for (const w of [run, other]) {
          w.params.forEach((p, i) => p.grad.set(gradient(i, s)));
          w.opt.step();
        }
      }
      run.params.forEach((p, i) => expectSame(capture(other.opt, other.params[i]), capture(run.opt, p), `${c.name}: p${i} after the state dict`));
      for (const w of [run, plain, other]) w.store.dispose();
    });
  }
});

describe('frozen parameters: the rest of the library', () => {
  async function three() {
    const store = await ParameterStore.create({ backend: 'wasm' });
    const [a, b, c] = [[3, 4], [100, -100, 7], [0.5, -0.25]].map((v, i) => store.parameter(`p${i}`, v));
    a.grad.set([3, 4]); b.grad.set([1e3, NaN, 2]); c.grad.set([0, 12]);
    return { store, a, b, c };
  }

  it('clipGradNorm, clipGradValue, gradNorm and gradsAreFinite leave a frozen gradient out, as PyTorch leaves out a None grad', async () => {
    const { a, b, c } = await three();
    b.requiresGrad = false;
    const bGrad = b.grad.slice();
    expect(gradNorm([a, b, c])).toBe(gradNorm([a, c]));
    expect(gradNorm([a, b, c])).toBe(13);
    expect(gradNorm([a, b, c], Infinity)).toBe(12);
    expect(gradsAreFinite([a, b, c])).toBe(true);
    expect(clipGradNorm([a, b, c], 6.5)).toBe(13);
    clipGradValue([a, b, c], 1);
    expectSameBits(b.grad, bGrad, 'frozen gradient');
    expect(Array.from(a.grad)).toEqual([1, 1]);
    b.requiresGrad = true;
    expect(gradsAreFinite([a, b, c])).toBe(false);
    expect(gradNorm([b])).toBeNaN();
  });

  it('stepIfFinite ignores a frozen parameter\'s NaN gradient; a group frozen whole does not step (its step count stays)', async () => {
    const { store, a, b, c } = await three();
    const opt = new Adam([{ params: [a, b] }, { params: [c] }], { lr: 0.1 });
    b.requiresGrad = false;
    expect(opt.stepIfFinite()).toBe(true);
    expect([opt.state(a).step, opt.state(b).step, opt.state(c).step]).toEqual([1, 0, 1]);
    c.requiresGrad = false;
    const before = store.dump();
    a.requiresGrad = false;
    opt.step();
    expect([opt.state(a).step, opt.state(b).step, opt.state(c).step]).toEqual([1, 0, 1]);
    expectSameBits(store.dump(), before, 'the whole arena');
    a.requiresGrad = true;
    b.requiresGrad = true;
    expect(opt.stepIfFinite()).toBe(false);
    expect(opt.skippedSteps).toBe(1);
  });

  it('a group whose parameters agree again steps as one (the books collapse)', async () => {
    const store = await ParameterStore.create({ backend: 'js' });
    const [a, b] = [store.parameter('a', [1, 2]), store.parameter('b', [3])];
    const opt = new SGD([a, b], { lr: 0.5, momentum: 0.5 });
    a.grad.set([1, 1]); b.grad.set([1]);
    b.requiresGrad = false;
    opt.step();
    b.requiresGrad = true;
    a.requiresGrad = false;
    opt.step();
    a.requiresGrad = true;
    expect([opt.state(a).step, opt.state(b).step]).toEqual([1, 1]);
    expect(opt.stateDict().state[1].momentumBuffer).toEqual(new Float32Array([1]));
    opt.step();
    expect([opt.state(a).step, opt.state(b).step]).toEqual([2, 2]);
    expect(Array.from(a.data)).toEqual([-0.25, 0.75]);
    expect(Array.from(b.data)).toEqual([1.75]);
  });

  it('requiresGrad takes booleans only', async () => {
    const { a } = await three();
    expect(() => { (a as { requiresGrad: unknown }).requiresGrad = 0; }).toThrow(/Parameter "p0": requiresGrad must be a boolean, got 0 \(number\)/);
    expect(a.requiresGrad).toBe(true);
  });
});
