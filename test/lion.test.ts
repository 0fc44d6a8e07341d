// Lion has no PyTorch reference: check it against an independent float64 implementation of
// the paper's Algorithm 2 over 25 steps on two tensors (sizes 13 and 30), on both backends,
// with the reference README's tolerance (|ours - ref| <= 2e-4 |ref| + 1e-5).
import { describe, expect, it } from 'vitest';
import { Lion, ParameterStore } from '../src/index.js';
import { BACKENDS, prng } from './helpers.js';

/** Float64 Lion: p *= 1 - lr*wd; p -= lr*sign(b1*m + (1-b1)*g); m = b2*m + (1-b2)*g. */
function lion64(p: Float64Array, m: Float64Array, g: Float64Array, lr: number, b1: number, b2: number, wd: number, maximize: boolean) {
  for (let i = 0; i < p.length; i++) {
    const gi = maximize ? -g[i] : g[i];
    p[i] *= 1 - lr * wd;
    const c = b1 * m[i] + (1 - b1) * gi;
    p[i] -= lr * (c > 0 ? 1 : c < 0 ? -1 : 0);
    m[i] = b2 * m[i] + (1 - b2) * gi;
  }
}

const CONFIGS = [
  { lr: 1e-3, betas: [0.9, 0.99] as [number, number], weightDecay: 0, maximize: false },
  { lr: 3e-3, betas: [0.95, 0.98] as [number, number], weightDecay: 0.1, maximize: false },
  { lr: 1e-2, betas: [0.9, 0.99] as [number, number], weightDecay: 0.01, maximize: true },
];

for (const backend of BACKENDS) {
  describe(`Lion against a float64 implementation (${backend})`, () => {
    CONFIGS.forEach((cfg, ci) => {
      it(`config ${ci}: ${JSON.stringify(cfg)}`, async () => {
        const rand = prng(100 + ci);
        const sizes = [13, 30];
        const store = await ParameterStore.create({ backend });
        const init = sizes.map((n) => Float32Array.from({ length: n }, () => rand() * 2 - 1));
        const params = init.map((v, k) => store.parameter(`p${k}`, v));
        const ref = init.map((v) => Float64Array.from(v));
        const mom = sizes.map((n) => new Float64Array(n));
        const opt = new Lion(params, cfg);
        for (let s = 0; s < 25; s++) {
          // gradients with exact zeros every 7th element, as the PyTorch reference data has
          const grads = sizes.map((n) => Float32Array.from({ length: n }, (_, i) => (i % 7 === 0 ? 0 : rand() * 2 - 1)));
          params.forEach((p, k) => p.grad.set(grads[k]));
          opt.step();
          ref.forEach((r, k) => lion64(r, mom[k], Float64Array.from(grads[k]), cfg.lr, cfg.betas[0], cfg.betas[1], cfg.weightDecay, cfg.maximize));
          params.forEach((p, k) => {
            for (let i = 0; i < p.size; i++) {
              const bound = 2e-4 * Math.abs(ref[k][i]) + 1e-5;
              if (!(Math.abs(p.data[i] - ref[k][i]) <= bound)) {
                expect.fail(`step ${s}, tensor ${k}, element ${i}: ${p.data[i]} vs float64 ${ref[k][i]}`);
              }
            }
          });
        }
        // Lion moves every coordinate with a non-zero direction by exactly lr per step.
        expect(Math.abs(params[1].data[1] - init[1][1])).toBeGreaterThan(cfg.lr);
      });
    });
  });
}
