// LARS against a float64 transcription of optax.lars (optax/_src/alias.py: add_decayed_weights,
// scale_by_trust_ratio under trust_ratio_mask, scale_by_learning_rate, trace; the
// transformations in optax/_src/transform.py, optax/transforms/_adding.py and
// optax/transforms/_accumulation.py), within the reference README's tolerance, on both backends;
// hand-derived steps; masks as param groups; checks; exact resume; a bfloat16 and int8 trace.
import { describe, expect, it } from 'vitest';
import { LARS, ParameterStore, type LARSOptions, type Parameter } from '../src/index.js';
import { BACKENDS, expectCheckpointResume, prng } from './helpers.js';
import { expectFloat32Shadow } from './float32-shadow.js';

const DEFAULTS: LARSOptions = { lr: 1, weightDecay: 0, trustCoefficient: 0.001, eps: 0, trustRatio: true, momentum: 0.9, nesterov: false, stateDtype: 'float32', stochasticRounding: false, stateSeed: 0 };

/**
 * One tensor's optax.lars step in float64:
 *   g = g + weight_decay p                                   (add_decayed_weights)
 *   r = trust_coefficient ‖p‖ / (‖g‖ + eps), 1 when either norm is 0, or when masked out
 *   u = -lr (g r)                                            (scale_by_trust_ratio, scale_by_learning_rate)
 *   t = u + momentum t;  u = nesterov ? u + momentum t : t   (trace)
 *   p = p + u                                                (apply_updates)
 */
function lars64(p: Float64Array, trace: Float64Array, grad: Float32Array, o: LARSOptions): void {
  const g = Float64Array.from(grad, (x, i) => x + o.weightDecay * p[i]);
  const pn = Math.hypot(...p), gn = Math.hypot(...g);
  const r = !o.trustRatio || pn === 0 || gn === 0 ? 1 : (o.trustCoefficient * pn) / (gn + o.eps);
  for (let i = 0; i < p.length; i++) {
    const u = -o.lr * (g[i] * r);
    trace[i] = u + o.momentum * trace[i];
    p[i] += o.nesterov ? u + o.momentum * trace[i] : trace[i];
  }
}

const CONFIGS: Partial<LARSOptions>[] = [
  {},
  { lr: 2, weightDecay: 1e-3, nesterov: true },
  { lr: 0.5, trustCoefficient: 0.02, eps: 1e-3, momentum: 0.5, weightDecay: 0.01 },
  { lr: 0.01, momentum: 0, trustCoefficient: 1 },
];

for (const backend of BACKENDS) {
  describe(`LARS against a float64 transcription of optax.lars (${backend})`, () => {
    CONFIGS.forEach((partial, ci) => {
      it(`config ${ci}: ${JSON.stringify(partial)}; a second group masked out of decay and trust ratio`, async () => {
        const o = { ...DEFAULTS, ...partial };
        const masked = { ...o, weightDecay: 0, trustRatio: false, lr: o.lr / 100 };
        const rand = prng(700 + ci);
        const sizes = [13, 30, 9];
        const store = await ParameterStore.create({ backend });
        const init = sizes.map((n) => Float32Array.from({ length: n }, () => rand() * 2 - 1));
        const params = init.map((v, k) => store.parameter(`p${k}`, v));
        const opt = new LARS([{ params: params.slice(0, 2) }, { params: [params[2]], weightDecay: 0, trustRatio: false, lr: masked.lr }], partial);
        const ref = init.map((v) => Float64Array.from(v));
        const trace = sizes.map((n) => new Float64Array(n));
        for (let s = 0; s < 25; s++) {
          const grads = sizes.map((n) => Float32Array.from({ length: n }, (_, i) => (i % 7 === 0 ? 0 : (rand() * 2 - 1) * (1 + s % 3))));
          params.forEach((p, k) => p.grad.set(grads[k]));
          opt.step();
          ref.forEach((r, k) => lars64(r, trace[k], grads[k], k === 2 ? masked : o));
          params.forEach((p, k) => {
            for (let i = 0; i < p.size; i++) {
              const bound = 2e-4 * Math.abs(ref[k][i]) + 1e-5;
              const err = Math.abs(p.data[i] - ref[k][i]);
              if (!(err <= bound)) expect.fail(`step ${s}, tensor ${k}, element ${i}: ${p.data[i]} vs float64 ${ref[k][i]}`);
            }
            const buf = opt.state(p).momentumBuffer;
            if (o.momentum === 0) expect(buf).toBeUndefined();
            else for (let i = 0; i < p.size; i++) if (!(Math.abs(buf![i] - trace[k][i]) <= 2e-4 * Math.abs(trace[k][i]) + 1e-7)) expect.fail(`step ${s}: trace[${i}] ${buf![i]} vs ${trace[k][i]}`);
          });
        }
        expect(Math.max(...params.map((p, k) => Math.max(...p.data.map((x, i) => Math.abs(x - init[k][i])))))).toBeGreaterThan(0.005);
        store.dispose();
      });
    });
  });
}

describe('LARS by hand', () => {
  for (const backend of BACKENDS) {
    it(`${backend}: r = tc ‖p‖/‖g‖ = 0.25·5/1; u = -lr g r; the trace starts at u; step 2 adds momentum·t`, async () => {
      const store = await ParameterStore.create({ backend });
      const w = store.parameter('w', [1, 2, 2, 4]);
      const opt = new LARS([w], { lr: 0.5, trustCoefficient: 0.25, momentum: 0.5 });
      w.grad.set([0.5, -0.5, 0.5, -0.5]);
      opt.step();
      // r = 0.25 · 5 / 1 = 1.25; u = -0.5 · (g · 1.25) = ∓0.3125; t = u
      expect(Array.from(opt.state(w).momentumBuffer!)).toEqual([-0.3125, 0.3125, -0.3125, 0.3125]);
      expect(Array.from(w.data)).toEqual([0.6875, 2.3125, 1.6875, 4.3125]);
      // step 2, g = [0, 0, 0, 1]: ‖g‖ = 1, r = 0.25 ‖p‖ (float32 of the float64 ratio); t = u + 0.5 t
      w.grad.set([0, 0, 0, 1]);
      opt.step();
      const f = Math.fround;
      const r = f(0.25 * Math.hypot(0.6875, 2.3125, 1.6875, 4.3125));
      const u = [0, 0, 0, 1].map((g) => f(f(-0.5) * f(g * r)));
      const t = u.map((x, i) => f(x + f(0.5 * [-0.3125, 0.3125, -0.3125, 0.3125][i])));
      expect(Array.from(opt.state(w).momentumBuffer!)).toEqual(t);
      expect(Array.from(w.data)).toEqual([0.6875, 2.3125, 1.6875, 4.3125].map((p, i) => f(p + t[i])));
      store.dispose();
    });

    it(`${backend}: Nesterov steps by u + momentum·t; weight decay joins the gradient before the norm`, async () => {
      const store = await ParameterStore.create({ backend });
      const w = store.parameter('w', [3, 4]);
      const opt = new LARS([w], { lr: 1, trustCoefficient: 0.5, momentum: 0.5, nesterov: true, weightDecay: 0.5 });
      w.grad.set([-1.5, -2]);
      opt.step();
      // g = [-1.5 + 1.5, -2 + 2] = 0: ‖g‖ = 0, r = 1, u = 0: nothing moves
      expect(Array.from(w.data)).toEqual([3, 4]);
      w.grad.set([0.5, 0]);
      opt.step();
      // g = [2, 2] (‖g‖ = 2√2), r = 0.5 · 5 / 2√2; u = -g r; t = u; step u + 0.5 t = 1.5 u
      const f = Math.fround;
      const r = f((0.5 * 5) / Math.hypot(2, 2));
      const u = f(f(-1) * f(2 * r));
      expect(Array.from(w.data)).toEqual([3, 4].map((p) => f(p + f(u + f(0.5 * u)))));
      store.dispose();
    });
  }

  it('trustRatio: false (optax\'s trust_ratio_mask) steps as SGD with the lr inside the trace', async () => {
    const store = await ParameterStore.create({ backend: 'js' });
    const w = store.parameter('w', [1, 2]);
    const opt = new LARS([w], { lr: 0.5, trustRatio: false, momentum: 0.5 });
    w.grad.set([1, -2]);
    opt.step();
    expect(Array.from(w.data)).toEqual([0.5, 3]);
    opt.paramGroups[0].lr = 0.25; // a schedule: the trace keeps the old lr's step
    opt.step();
    // t = -0.25 g + 0.5 (-0.5 g) = -0.5 g
    expect(Array.from(w.data)).toEqual([0, 4]);
  });

  it('validates its options, naming option and value', async () => {
    const store = await ParameterStore.create({ backend: 'js' });
    const w = store.parameter('w', 2);
    expect(() => new LARS([w], { trustCoefficient: -1 })).toThrow(/LARS: invalid trust coefficient \(trustCoefficient\): -1/);
    expect(() => new LARS([w], { momentum: Infinity })).toThrow(/LARS: invalid momentum value \(momentum\): Infinity/);
    expect(() => new LARS([w], { trustRatio: 'yes' as never })).toThrow(/LARS: trustRatio must be a boolean, got "yes" \(string\)/);
    expect(new LARS([w]).defaults).toEqual(DEFAULTS);
  });

  it('resumes exactly from a checkpoint, across backends', async () => {
    await expectCheckpointResume((w) => new LARS([w], { weightDecay: 1e-3, nesterov: true }), 80, 'momentumBuffer');
  });
});

describe('LARS with a bfloat16 or int8 trace', () => {
  // As LAMB's: several int8 blocks, size 0, under a block, two norm chunks; a group without the trust ratio.
  const sizes = [300, 0, 5, 70_000];
  const make = (p: Parameter[], so: Record<string, unknown>) =>
    new LARS([{ params: p.slice(0, 3), weightDecay: 0.01, nesterov: true }, { params: [p[3]], trustRatio: false }], { lr: 0.5, trustCoefficient: 0.02, ...so });
  for (const backend of BACKENDS) {
    for (const so of [{ stateDtype: 'int8' as const }, { stateDtype: 'bfloat16' as const, stochasticRounding: true }]) {
      it(`${backend}, ${JSON.stringify(so)}: each step is the float32 step from the dequantised trace (norms included), the trace rounded`, async () => {
        await expectFloat32Shadow(backend, sizes, make, so, 4, 73);
      });
    }
  }
});
