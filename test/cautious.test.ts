// The cautious optimizers (Liang et al., 2024; github.com/kyleliang919/C-Optim) and Adam's
// decoupledWeightDecay:
//   - a float64 transcription of the reference's step (c_adamw.py's mask on PyTorch's Adam and
//     AdamW, c_lion.py's Lion with the clamped mean, Adamax likewise), to the reference tolerance;
//   - a step whose signs all agree is the ordinary step, bit for bit; one where k of n agree moves
//     only those k, by n/k times the ordinary update;
//   - Adam({ decoupledWeightDecay: true }) is AdamW, bit for bit;
//   - state saved before the options existed loads, with them off.
// wasm ≡ js and every thread count: the registry's cautious cases run through
// test/parity.test.ts, test/threads.test.ts and test/golden.test.ts.
import { describe, expect, it } from 'vitest';
import { Adam, Adamax, AdamW, Lion, NAdam, ParameterStore, RAdam, type Parameter } from '../src/index.js';
import { cautiousScale } from '../src/optim/cautious.js';
import type { AnyOptimizer } from '../src/optim/optimizer.js';
import { BACKENDS, expectSameBits, prng } from './helpers.js';

/** The PyTorch reference tolerance (test/reference.test.ts): |ours - ref| <= 2e-4 |ref| + 1e-5. */
const REL_TOL = 2e-4, ABS_TOL = 1e-5;

const SIZES = [13, 30];
const STEPS = 25;

/** Gradients as the PyTorch fixtures make them: zeros every 7th element, 1e-20 at i % 11 == 3. */
function gradients(seed: number): number[][][] {
  const rand = prng(seed);
  return Array.from({ length: STEPS }, (_, s) => SIZES.map((n) => Array.from({ length: n }, (_, i) =>
    (i % 7 === 0 ? 0 : i % 11 === 3 ? Math.fround(1e-20) : Math.fround((rand() * 2 - 1) * 0.5 * (1 + Math.sin(s)))))));
}

/** Elements with a nonzero gradient the reference's mask held back, over all runs so far. */
let heldBack = 0;

/** The reference's mask of one tensor: (a*g > 0) / max(mean, 1e-3) (c_adamw.py: mask.div_(mask.mean().clamp_(min=1e-3))). */
function cautiousMask(a: Float64Array, g: Float64Array): Float64Array {
  const mask = a.map((x, i) => (x * g[i] > 0 ? 1 : 0));
  heldBack += mask.filter((x, i) => x === 0 && g[i] !== 0).length;
  const mean = mask.reduce((s, x) => s + x, 0) / mask.length;
  return mask.map((x) => x / Math.max(mean, 1e-3));
}

interface RefOptions { lr: number; betas: [number, number]; eps: number; weightDecay: number; amsgrad?: boolean; maximize: boolean; decoupled?: boolean }

/**
 * PyTorch's _single_tensor_adam (torch/optim/adam.py; decoupled: AdamW) in float64, with the
 * reference's cautious mask on exp_avg (c_adamw.py, AdamW.step): norm_grad = (exp_avg * mask) / denom.
 */
function referenceAdam(o: RefOptions) {
  const state = SIZES.map((n) => ({ m: new Float64Array(n), v: new Float64Array(n), vmax: new Float64Array(n) }));
  return (t: number, p: Float64Array, grad: Float64Array, k: number) => {
    const [b1, b2] = o.betas;
    const { m, v, vmax } = state[k];
    const g = grad.map((x, i) => (o.maximize ? -x : x) + (o.weightDecay !== 0 && !o.decoupled ? o.weightDecay * p[i] : 0));
    if (o.decoupled) for (let i = 0; i < p.length; i++) p[i] *= 1 - o.lr * o.weightDecay;
    for (let i = 0; i < p.length; i++) {
      m[i] = b1 * m[i] + (1 - b1) * g[i];
      v[i] = b2 * v[i] + (1 - b2) * g[i] * g[i];
      vmax[i] = Math.max(vmax[i], v[i]);
    }
    const stepSize = o.lr / (1 - b1 ** t), bc2Sqrt = Math.sqrt(1 - b2 ** t);
    const mask = cautiousMask(m, g);
    for (let i = 0; i < p.length; i++) p[i] -= stepSize * (m[i] * mask[i]) / (Math.sqrt(o.amsgrad ? vmax[i] : v[i]) / bc2Sqrt + o.eps);
  };
}

/** c_lion.py's update_fn in float64, with the clamped mean (see Lion's doc comment). */
function referenceLion(o: RefOptions) {
  const state = SIZES.map((n) => new Float64Array(n));
  return (_t: number, p: Float64Array, grad: Float64Array, k: number) => {
    const [b1, b2] = o.betas;
    const m = state[k];
    const g = grad.map((x) => (o.maximize ? -x : x));
    for (let i = 0; i < p.length; i++) p[i] *= 1 - o.lr * o.weightDecay;
    const update = m.map((x, i) => Math.sign(b1 * x + (1 - b1) * g[i]));
    const mask = cautiousMask(update, g);
    for (let i = 0; i < p.length; i++) p[i] -= o.lr * update[i] * mask[i];
    for (let i = 0; i < p.length; i++) m[i] = b2 * m[i] + (1 - b2) * g[i];
  };
}

/** PyTorch's _single_tensor_adamax in float64, the mask on exp_avg as for Adam. */
function referenceAdamax(o: RefOptions) {
  const state = SIZES.map((n) => ({ m: new Float64Array(n), u: new Float64Array(n) }));
  return (t: number, p: Float64Array, grad: Float64Array, k: number) => {
    const [b1, b2] = o.betas;
    const { m, u } = state[k];
    const g = grad.map((x, i) => (o.maximize ? -x : x) + o.weightDecay * p[i]);
    for (let i = 0; i < p.length; i++) {
      m[i] = b1 * m[i] + (1 - b1) * g[i];
      u[i] = Math.max(b2 * u[i], Math.abs(g[i]) + o.eps);
    }
    const mask = cautiousMask(m, g);
    const clr = o.lr / (1 - b1 ** t);
    for (let i = 0; i < p.length; i++) p[i] -= clr * (m[i] * mask[i]) / u[i];
  };
}

/**
 * PyTorch 2.x's _single_tensor_nadam (torch/optim/nadam.py, L2 weight decay) in float64; the
 * mask on the whole update u (its two terms over the denominator), as this library applies it
 * to every Adam variant: the reference's exp_avg has the sign of Adam's u, NAdam's u mixes g in.
 */
function referenceNAdam(o: RefOptions & { momentumDecay: number }) {
  const state = SIZES.map((n) => ({ m: new Float64Array(n), v: new Float64Array(n), muProduct: 1 }));
  return (t: number, p: Float64Array, grad: Float64Array, k: number) => {
    const [b1, b2] = o.betas;
    const st = state[k];
    const g = grad.map((x, i) => (o.maximize ? -x : x) + o.weightDecay * p[i]);
    const mu = b1 * (1 - 0.5 * 0.96 ** (t * o.momentumDecay));
    const muNext = b1 * (1 - 0.5 * 0.96 ** ((t + 1) * o.momentumDecay));
    st.muProduct *= mu;
    const u = new Float64Array(p.length);
    for (let i = 0; i < p.length; i++) {
      st.m[i] = b1 * st.m[i] + (1 - b1) * g[i];
      st.v[i] = b2 * st.v[i] + (1 - b2) * g[i] * g[i];
      const denom = Math.sqrt(st.v[i] / (1 - b2 ** t)) + o.eps;
      u[i] = (o.lr * (1 - mu) / (1 - st.muProduct)) * g[i] / denom + (o.lr * muNext / (1 - st.muProduct * muNext)) * st.m[i] / denom;
    }
    const mask = cautiousMask(u, g);
    for (let i = 0; i < p.length; i++) p[i] -= u[i] * mask[i];
  };
}

/** PyTorch 2.x's _single_tensor_radam (torch/optim/radam.py, L2 weight decay) in float64, the mask on its update. */
function referenceRAdam(o: RefOptions) {
  const state = SIZES.map((n) => ({ m: new Float64Array(n), v: new Float64Array(n) }));
  return (t: number, p: Float64Array, grad: Float64Array, k: number) => {
    const [b1, b2] = o.betas;
    const { m, v } = state[k];
    const g = grad.map((x, i) => (o.maximize ? -x : x) + o.weightDecay * p[i]);
    const rhoInf = 2 / (1 - b2) - 1;
    const rhoT = rhoInf - (2 * t * b2 ** t) / (1 - b2 ** t);
    const u = new Float64Array(p.length);
    for (let i = 0; i < p.length; i++) {
      m[i] = b1 * m[i] + (1 - b1) * g[i];
      v[i] = b2 * v[i] + (1 - b2) * g[i] * g[i];
      const corrected = m[i] / (1 - b1 ** t);
      if (rhoT > 5) {
        const rect = Math.sqrt(((rhoT - 4) * (rhoT - 2) * rhoInf) / ((rhoInf - 4) * (rhoInf - 2) * rhoT));
        u[i] = o.lr * corrected * rect * (Math.sqrt(1 - b2 ** t) / (Math.sqrt(v[i]) + o.eps));
      } else {
        u[i] = o.lr * corrected;
      }
    }
    const mask = cautiousMask(u, g);
    for (let i = 0; i < p.length; i++) p[i] -= u[i] * mask[i];
  };
}

type Make = (params: Parameter[]) => AnyOptimizer;
/** Each case: the optimizer, and a factory of its reference (a fresh state per run). */
const CASES: { name: string; make: Make; reference: () => (t: number, p: Float64Array, g: Float64Array, k: number) => void }[] = [
  {
    name: 'Adam',
    make: (p) => new Adam(p, { lr: 0.01, cautious: true }),
    reference: () => referenceAdam({ lr: 0.01, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0, maximize: false }),
  },
  {
    name: 'Adam, L2, amsgrad, maximize',
    make: (p) => new Adam(p, { lr: 0.01, weightDecay: 0.05, amsgrad: true, maximize: true, cautious: true }),
    reference: () => referenceAdam({ lr: 0.01, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0.05, amsgrad: true, maximize: true }),
  },
  {
    name: 'AdamW (C-AdamW)',
    make: (p) => new AdamW(p, { lr: 0.01, weightDecay: 0.1, betas: [0.8, 0.99], cautious: true }),
    reference: () => referenceAdam({ lr: 0.01, betas: [0.8, 0.99], eps: 1e-8, weightDecay: 0.1, maximize: false, decoupled: true }),
  },
  {
    name: 'Adam, decoupledWeightDecay',
    make: (p) => new Adam(p, { lr: 0.01, weightDecay: 0.1, decoupledWeightDecay: true, cautious: true }),
    reference: () => referenceAdam({ lr: 0.01, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0.1, maximize: false, decoupled: true }),
  },
  {
    name: 'Lion (C-Lion)',
    make: (p) => new Lion(p, { lr: 1e-3, betas: [0.95, 0.98], cautious: true }),
    reference: () => referenceLion({ lr: 1e-3, betas: [0.95, 0.98], eps: 0, weightDecay: 0, maximize: false }),
  },
  {
    name: 'Lion, weight decay, maximize',
    make: (p) => new Lion(p, { lr: 1e-3, weightDecay: 0.5, maximize: true, cautious: true }),
    reference: () => referenceLion({ lr: 1e-3, betas: [0.9, 0.99], eps: 0, weightDecay: 0.5, maximize: true }),
  },
  {
    name: 'NAdam, weight decay',
    make: (p) => new NAdam(p, { lr: 0.01, weightDecay: 0.05, cautious: true }),
    reference: () => referenceNAdam({ lr: 0.01, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0.05, maximize: false, momentumDecay: 4e-3 }),
  },
  {
    name: 'RAdam (plain, then rectified steps), maximize',
    make: (p) => new RAdam(p, { lr: 0.01, betas: [0.9, 0.99], maximize: true, cautious: true }),
    reference: () => referenceRAdam({ lr: 0.01, betas: [0.9, 0.99], eps: 1e-8, weightDecay: 0, maximize: true }),
  },
  {
    name: 'Adamax, weight decay',
    make: (p) => new Adamax(p, { lr: 0.01, weightDecay: 0.05, cautious: true }),
    reference: () => referenceAdamax({ lr: 0.01, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0.05, maximize: false }),
  },
];

describe('cautious optimizers against a float64 transcription of the reference', () => {
  for (const backend of BACKENDS) {
    for (const c of CASES) {
      it(`${c.name} (${backend}): every element of every step within the reference tolerance; the mask did mask`, async () => {
        const store = await ParameterStore.create({ backend });
        const rand = prng(99);
        const init = SIZES.map((n) => Array.from({ length: n }, () => Math.fround(rand() * 2 - 1)));
        const params = init.map((v, k) => store.parameter(`p${k}`, v));
        const ref = init.map((v) => Float64Array.from(v));
        const opt = c.make(params);
        const reference = c.reference();
        const grads = gradients(5);
        let worst = 0;
        const held = heldBack;
        for (let s = 0; s < STEPS; s++) {
          params.forEach((p, k) => {
            p.grad.set(grads[s][k]);
            reference(s + 1, ref[k], Float64Array.from(grads[s][k]), k);
          });
          opt.step();
          params.forEach((p, k) => {
            for (let i = 0; i < p.size; i++) {
              const err = Math.abs(p.data[i] - ref[k][i]);
              const bound = REL_TOL * Math.abs(ref[k][i]) + ABS_TOL;
              worst = Math.max(worst, err / bound);
              if (!(err <= bound)) expect.fail(`step ${s}, tensor ${k}, element ${i}: ours ${p.data[i]}, reference ${ref[k][i]}`);
            }
          });
        }
        expect(worst).toBeLessThan(1);
        console.log(`cautious ${c.name} (${backend}): worst |ours - ref| = ${worst.toFixed(4)} of the tolerance`);
        expect(heldBack - held, 'the mask never held back an element with a gradient: the test proves little').toBeGreaterThan(20);
      });
    }
  }
});

/** Runs `make` over fresh parameters for `steps` steps of `grads(s)` and returns the parameters. */
async function run(backend: 'wasm' | 'js', make: Make, init: number[], grads: (s: number) => number[], steps: number) {
  const store = await ParameterStore.create({ backend });
  const p = store.parameter('w', init);
  const opt = make([p]);
  for (let s = 0; s < steps; s++) {
    p.grad.set(grads(s));
    opt.step();
  }
  return { p, opt };
}

describe('what the mask does', () => {
  const init = Array.from({ length: 37 }, (_, i) => Math.fround(Math.sin(i + 1)));
  // Every gradient positive and steady: every update agrees with its gradient, so the scale is 1.
  const agreeing = (s: number) => init.map((_, i) => Math.fround(0.1 + 0.01 * ((i * 7 + s) % 13)));
  const plain: [string, Make, Make][] = [
    ['Adam', (p) => new Adam(p, { lr: 0.01, amsgrad: true }), (p) => new Adam(p, { lr: 0.01, amsgrad: true, cautious: true })],
    ['AdamW', (p) => new AdamW(p, { lr: 0.01 }), (p) => new AdamW(p, { lr: 0.01, cautious: true })],
    ['Lion', (p) => new Lion(p, { lr: 1e-3, weightDecay: 0.1 }), (p) => new Lion(p, { lr: 1e-3, weightDecay: 0.1, cautious: true })],
    ['Adamax', (p) => new Adamax(p, { weightDecay: 0.01 }), (p) => new Adamax(p, { weightDecay: 0.01, cautious: true })],
    ['NAdam', (p) => new NAdam(p, { lr: 0.01, decoupledWeightDecay: true, weightDecay: 0.01 }), (p) => new NAdam(p, { lr: 0.01, decoupledWeightDecay: true, weightDecay: 0.01, cautious: true })],
    ['RAdam', (p) => new RAdam(p, { lr: 0.01, betas: [0.9, 0.9] }), (p) => new RAdam(p, { lr: 0.01, betas: [0.9, 0.9], cautious: true })],
  ];
  for (const backend of BACKENDS) {
    for (const [name, ordinary, cautious] of plain) {
      it(`${name} (${backend}): when every sign agrees, the cautious step is the ordinary one, bit for bit`, async () => {
        const a = await run(backend, ordinary, init, agreeing, 6);
        const b = await run(backend, cautious, init, agreeing, 6);
        expectSameBits(b.p.data, a.p.data, `${name}: parameters`);
        for (const [k, v] of Object.entries(a.opt.state(a.p))) if (v instanceof Float32Array) expectSameBits(b.opt.state(b.p)[k] as Float32Array, v, `${name}: ${k}`);
      });
    }

    it(`Adam (${backend}): where k of n agree, only those k move, by f32(n/k) times the ordinary update`, async () => {
      // Step 1 sets m = 0.1 g1. Step 2's gradient is -g1/2 on the elements i % 3 == 0 (m stays of
      // g1's sign: 0.09 g1 - 0.05 g1 = 0.04 g1, against the new gradient) and g1 elsewhere.
      const g1 = init.map((_, i) => Math.fround(i % 2 ? 0.5 : -0.25));
      const g2 = g1.map((g, i) => (i % 3 === 0 ? Math.fround(-g / 2) : g));
      const grads = (s: number) => (s === 0 ? g1 : g2);
      const a = await run(backend, (p) => new Adam(p, { lr: 0.01 }), init, grads, 1);
      const b = await run(backend, (p) => new Adam(p, { lr: 0.01, cautious: true }), init, grads, 1);
      expectSameBits(b.p.data, a.p.data, 'step 1 (all agree)');
      const after1 = a.p.data.slice();
      for (const x of [a, b]) { x.p.grad.set(g2); x.opt.step(); }
      const n = init.length, k = init.filter((_, i) => i % 3 !== 0).length;
      const scale = cautiousScale(k, n);
      expect(scale).toBe(Math.fround(n / k));
      for (let i = 0; i < n; i++) {
        if (i % 3 === 0) {
          expect(b.p.data[i], `element ${i} disagrees: it stays`).toBe(after1[i]);
        } else {
          const ordinary = after1[i] - a.p.data[i], cautious = after1[i] - b.p.data[i];
          expect(Math.abs(cautious - scale * ordinary), `element ${i}`).toBeLessThanOrEqual(2e-6 * Math.abs(cautious) + 1e-9);
        }
      }
      // The state advanced as without the mask.
      expectSameBits(b.opt.state(b.p).expAvg, a.opt.state(a.p).expAvg, 'expAvg');
    });
  }

  it('the scale: f32(1 / max(agree / n, 1e-3)), so none agreeing (or n > 1000 with one) is 1000 times the masked update, which is 0', () => {
    expect(cautiousScale(10, 10)).toBe(1);
    expect(cautiousScale(1, 3)).toBe(3);
    expect(cautiousScale(2, 3)).toBe(Math.fround(1.5));
    expect(cautiousScale(0, 7)).toBe(1000);
    expect(cautiousScale(1, 1e6)).toBe(1000);
  });
});

describe('Adam decoupledWeightDecay', () => {
  for (const backend of BACKENDS) {
    for (const extra of [{}, { amsgrad: true, maximize: true }, { cautious: true }]) {
      it(`(${backend}) Adam({ decoupledWeightDecay: true, ...${JSON.stringify(extra)} }) is AdamW, bit for bit`, async () => {
        const rand = prng(3);
        const init = Array.from({ length: 41 }, () => Math.fround(rand() * 4 - 2));
        const grads = Array.from({ length: 8 }, () => init.map(() => Math.fround(rand() * 2 - 1)));
        const a = await run(backend, (p) => new AdamW(p, { lr: 0.02, weightDecay: 0.3, ...extra }), init, (s) => grads[s], 8);
        const b = await run(backend, (p) => new Adam(p, { lr: 0.02, weightDecay: 0.3, decoupledWeightDecay: true, ...extra }), init, (s) => grads[s], 8);
        const c = await run(backend, (p) => new Adam(p, { lr: 0.02, weightDecay: 0.3, ...extra }), init, (s) => grads[s], 8);
        expectSameBits(b.p.data, a.p.data, 'parameters');
        expectSameBits(b.opt.state(b.p).expAvgSq, a.opt.state(a.p).expAvgSq, 'expAvgSq');
        expect(Array.from(c.p.data)).not.toEqual(Array.from(a.p.data)); // L2 is another step
      });
    }
  }

  it('AdamW takes no decoupledWeightDecay (it always decouples); Adam checks it is a boolean', async () => {
    const store = await ParameterStore.create({ backend: 'js' });
    const w = store.parameter('w', [1]);
    expect(() => new AdamW([w], { decoupledWeightDecay: false } as never)).toThrow(/AdamW: unknown option "decoupledWeightDecay" \(valid: lr, betas, eps, weightDecay, amsgrad, maximize, cautious, stateDtype, stochasticRounding, stateSeed\)/);
    expect(() => new Adam([w], { decoupledWeightDecay: 1 } as never)).toThrow(/Adam: decoupledWeightDecay must be a boolean, got 1 \(number\)/);
    expect(() => new Lion([w], { cautious: 'yes' } as never)).toThrow(/Lion: cautious must be a boolean, got "yes" \(string\)/);
  });
});

describe('state saved before cautious and decoupledWeightDecay existed', () => {
  for (const [name, make] of [
    ['Adam', (p: Parameter[]) => new Adam(p, { lr: 0.01 })], ['AdamW', (p: Parameter[]) => new AdamW(p, { lr: 0.01 })],
    ['Lion', (p: Parameter[]) => new Lion(p)], ['Adamax', (p: Parameter[]) => new Adamax(p)],
  ] as [string, Make][]) {
    it(`${name}: a state dict without the new options loads, with them off, and continues to the same bits`, async () => {
      const a = await run('wasm', make, [1, -2, 3], (s) => [0.5, -s, 0.25], 3);
      const sd = a.opt.stateDict();
      for (const g of sd.paramGroups) {
        expect(g.cautious).toBe(false);
        delete g.cautious;
        delete g.decoupledWeightDecay;
      }
      const b = await run('wasm', make, [0, 0, 0], () => [0, 0, 0], 0);
      (b.opt.paramGroups[0] as Record<string, unknown>).cautious = true;
      b.opt.loadStateDict(sd);
      expect(b.opt.paramGroups[0].cautious).toBe(false);
      if (name === 'Adam') expect(b.opt.paramGroups[0].decoupledWeightDecay).toBe(false);
      b.p.data.set(a.p.data);
      for (const x of [a, b]) { x.p.grad.set([0.1, 0.2, -0.3]); x.opt.step(); }
      expectSameBits(b.p.data, a.p.data, 'after one more step');
    });
  }

  it('an option that is not new is still required', async () => {
    const a = await run('js', (p) => new Adam(p), [1], () => [1], 1);
    const sd = a.opt.stateDict();
    delete sd.paramGroups[0].amsgrad;
    expect(() => a.opt.loadStateDict(sd)).toThrow(/param group 0 lacks amsgrad; nothing was changed/);
  });
});
