// LAMB against a float64 transcription of optax.lamb (optax/_src/alias.py: scale_by_adam,
// add_decayed_weights, scale_by_trust_ratio, scale_by_learning_rate; the transformations in
// optax/_src/transform.py and optax/transforms/_adding.py), within the reference README's
// tolerance, on both backends; hand-derived first steps; the zero-norm cases; a weight-decay mask
// as a param group; checks; exact resume; bfloat16 and int8 moments.
import { describe, expect, it } from 'vitest';
import { LAMB, ParameterStore, type LAMBOptions, type Parameter } from '../src/index.js';
import { BACKENDS, expectCheckpointResume, prng } from './helpers.js';
import { expectFloat32Shadow } from './float32-shadow.js';

const DEFAULTS: LAMBOptions = { lr: 1e-3, betas: [0.9, 0.999], eps: 1e-6, epsRoot: 0, weightDecay: 0, stateDtype: 'float32', stochasticRounding: false, stateSeed: 0 };

/**
 * One tensor's optax.lamb step in float64 (`t` counts this step, from 1):
 *   mu = (1 - b1) g + b1 mu;  nu = (1 - b2) g² + b2 nu              (update_moment, update_moment_per_elem_norm)
 *   u = (mu / (1 - b1^t)) / (sqrt(nu / (1 - b2^t) + eps_root) + eps) (bias_correction, scale_by_adam)
 *   u = u + weight_decay p                                             (add_decayed_weights)
 *   r = ‖p‖ / ‖u‖, or 1 when either norm is 0                          (scale_by_trust_ratio: trust_coefficient 1, eps 0)
 *   p = p + (-lr) (u r)                                                (scale_by_learning_rate, apply_updates)
 */
function lamb64(p: Float64Array, mu: Float64Array, nu: Float64Array, g: Float32Array, t: number, o: LAMBOptions): void {
  const [b1, b2] = o.betas;
  const u = new Float64Array(p.length);
  for (let i = 0; i < p.length; i++) {
    mu[i] = (1 - b1) * g[i] + b1 * mu[i];
    nu[i] = (1 - b2) * g[i] ** 2 + b2 * nu[i];
    u[i] = (mu[i] / (1 - b1 ** t)) / (Math.sqrt(nu[i] / (1 - b2 ** t) + o.epsRoot) + o.eps) + o.weightDecay * p[i];
  }
  const pn = Math.hypot(...p), un = Math.hypot(...u);
  const r = pn === 0 || un === 0 ? 1 : pn / un;
  for (let i = 0; i < p.length; i++) p[i] += -o.lr * (u[i] * r);
}

const CONFIGS: Partial<LAMBOptions>[] = [
  {},
  { lr: 1e-2, weightDecay: 0.01 },
  { lr: 3e-3, betas: [0.5, 0.99], eps: 1e-3, weightDecay: 0.1 },
  { lr: 1e-2, eps: 0, epsRoot: 1e-6 },
];

for (const backend of BACKENDS) {
  describe(`LAMB against a float64 transcription of optax.lamb (${backend})`, () => {
    CONFIGS.forEach((partial, ci) => {
      it(`config ${ci}: ${JSON.stringify(partial)}; a second group without weight decay (the mask)`, async () => {
        const o = { ...DEFAULTS, ...partial };
        const rand = prng(500 + ci);
        const sizes = [13, 30, 9];
        const store = await ParameterStore.create({ backend });
        const init = sizes.map((n) => Float32Array.from({ length: n }, () => rand() * 2 - 1));
        const params = init.map((v, k) => store.parameter(`p${k}`, v));
        // Tensor 2 is masked out of the weight decay: its own group.
        const opt = new LAMB([{ params: params.slice(0, 2) }, { params: [params[2]], weightDecay: 0 }], partial);
        const ref = init.map((v) => Float64Array.from(v));
        const mu = sizes.map((n) => new Float64Array(n)), nu = sizes.map((n) => new Float64Array(n));
        for (let s = 0; s < 25; s++) {
          // exact zeros every 7th element, as the PyTorch reference data has
          const grads = sizes.map((n) => Float32Array.from({ length: n }, (_, i) => (i % 7 === 0 ? 0 : (rand() * 2 - 1) * (1 + s % 3))));
          params.forEach((p, k) => p.grad.set(grads[k]));
          opt.step();
          ref.forEach((r, k) => lamb64(r, mu[k], nu[k], grads[k], s + 1, k === 2 ? { ...o, weightDecay: 0 } : o));
          params.forEach((p, k) => {
            for (let i = 0; i < p.size; i++) {
              const bound = 2e-4 * Math.abs(ref[k][i]) + 1e-5;
              const err = Math.abs(p.data[i] - ref[k][i]);
              if (!(err <= bound)) expect.fail(`step ${s}, tensor ${k}, element ${i}: ${p.data[i]} vs float64 ${ref[k][i]}`);
            }
            const st = opt.state(p);
            for (let i = 0; i < p.size; i++) {
              if (!(Math.abs(st.expAvgSq[i] - nu[k][i]) <= 2e-4 * nu[k][i] + 1e-12)) expect.fail(`step ${s}: expAvgSq[${i}] ${st.expAvgSq[i]} vs ${nu[k][i]}`);
            }
          });
        }
        // The parameters really moved (by far more than the tolerance).
        expect(Math.max(...params.map((p, k) => Math.max(...p.data.map((x, i) => Math.abs(x - init[k][i])))))).toBeGreaterThan(0.01);
        expect(opt.state(params[0]).step).toBe(25);
        store.dispose();
      });
    });
  });
}

describe('LAMB by hand', () => {
  for (const backend of BACKENDS) {
    it(`${backend}: betas 0.5, eps 0: u = sign(g); r = ‖p‖/‖u‖ = 5/2; p -= lr r u`, async () => {
      const store = await ParameterStore.create({ backend });
      const w = store.parameter('w', [1, 2, 2, 4]);
      const opt = new LAMB([w], { lr: 0.5, betas: [0.5, 0.5], eps: 0 });
      w.grad.set([3, -0.25, 0.5, -8]);
      opt.step();
      // m = 0.5 g, m / (1 - 0.5) = g; v = 0.5 g², v / (1 - 0.5) = g²; u = g / |g| = [1, -1, 1, -1]
      // ‖p‖ = sqrt(1 + 4 + 4 + 16) = 5, ‖u‖ = 2: r = 2.5; p += -0.5 (u 2.5) = -1.25 u
      expect(Array.from(w.data)).toEqual([-0.25, 3.25, 0.75, 5.25]);
      expect(Array.from(opt.state(w).expAvg)).toEqual([1.5, -0.125, 0.25, -4]);
      expect(Array.from(opt.state(w).expAvgSq)).toEqual([4.5, 0.03125, 0.125, 32]);
      // Step 2, gradient 0: m = m/2, mhat = (m/2)/(1 - 0.25) = [1, -1/12, 1/6, -8/3]·..., by the formula in float32:
      w.grad.fill(0);
      opt.step();
      const f = Math.fround;
      const m = [0.75, -0.0625, 0.125, -2], v = [2.25, 0.015625, 0.0625, 16];
      const u = m.map((mi, i) => f(f(mi / 0.75) / f(Math.sqrt(f(f(v[i] / 0.75) + 0)) + 0)));
      const pn = Math.hypot(-0.25, 3.25, 0.75, 5.25), un = Math.hypot(...u);
      const r = f(pn / un);
      expect(Array.from(w.data)).toEqual([-0.25, 3.25, 0.75, 5.25].map((p, i) => f(p + f(f(-0.5) * f(u[i] * r)))));
      store.dispose();
    });

    it(`${backend}: the trust ratio is 1 when the parameter or the update is all zeros (optax's zero-norm case)`, async () => {
      const store = await ParameterStore.create({ backend });
      const zero = store.parameter('zero', 4), still = store.parameter('still', [1, -2, 3, 4]);
      const opt = new LAMB([zero, still], { lr: 0.5, betas: [0.5, 0.5], eps: 0.25 });
      zero.grad.set([2, -2, 2, -2]);
      opt.step();
      // u = 2/(2 + 0.25) = 8/9 per element, r = 1 (‖p‖ = 0): p = -0.5 u
      const f = Math.fround;
      expect(Array.from(zero.data)).toEqual([-1, 1, -1, 1].map((s) => s * f(f(0.5) * f(2 / 2.25))));
      // A zero gradient and no weight decay: u = 0, r = 1, nothing moves.
      expect(Array.from(still.data)).toEqual([1, -2, 3, 4]);
      store.dispose();
    });
  }

  it('weight decay is added to the update before the trust ratio: with a zero gradient u = wd·p, r = 1/wd, and p shrinks by lr·p', async () => {
    const store = await ParameterStore.create({ backend: 'js' });
    const w = store.parameter('w', [3, 4]);
    const opt = new LAMB([w], { lr: 0.1, weightDecay: 0.5 });
    opt.step();
    // u = 0 + 0.5 p; ‖p‖ / ‖u‖ = 2; p -= 0.1 · (0.5 p · 2) = 0.1 p
    const f = Math.fround;
    expect(Array.from(w.data)).toEqual([3, 4].map((p) => f(p + f(f(-0.1) * f(f(f(0.5) * p) * 2)))));
  });

  it('validates its options, naming option and value', async () => {
    const store = await ParameterStore.create({ backend: 'js' });
    const w = store.parameter('w', 2);
    expect(() => new LAMB([w], { betas: [0.9, 1] })).toThrow(/LAMB: invalid beta parameter at index 1: 1/);
    expect(() => new LAMB([w], { epsRoot: -1 })).toThrow(/LAMB: invalid epsilon value inside the root \(epsRoot\): -1/);
    expect(() => new LAMB([w], { weightDecay: NaN })).toThrow(/LAMB: invalid weight decay value \(weightDecay\): NaN/);
    expect(() => new LAMB([w], { trustCoefficient: 1 } as never)).toThrow(/LAMB: unknown option "trustCoefficient"/);
    expect(new LAMB([w]).defaults).toEqual(DEFAULTS);
  });

  it('resumes exactly from a checkpoint, across backends', async () => {
    const state = await expectCheckpointResume((w) => new LAMB([w], { lr: 0.01, weightDecay: 0.01 }), 60, 'expAvgSq');
    expect(state.step).toBe(6);
  });
});

describe('LAMB with bfloat16 and int8 moments', () => {
  // Parameters over several int8 blocks, of size 0, smaller than a block, and over two norm
  // chunks (NORM_CHUNK = 65536), in two groups: an int8 group steps one parameter per kernel call.
  const sizes = [300, 0, 5, 70_000];
  const make = (p: Parameter[], so: Record<string, unknown>) => new LAMB([{ params: p.slice(0, 3), weightDecay: 0.05 }, { params: [p[3]] }], { lr: 0.01, ...so });
  for (const backend of BACKENDS) {
    for (const so of [{ stateDtype: 'int8' as const }, { stateDtype: 'bfloat16' as const }, { stateDtype: 'bfloat16' as const, stochasticRounding: true }]) {
      it(`${backend}, ${JSON.stringify(so)}: each step is the float32 step from the dequantised moments (update scratch and norms included), its moments rounded`, async () => {
        await expectFloat32Shadow(backend, sizes, make, so, 4, 71);
      });
    }
  }
});
