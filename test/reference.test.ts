// Every optimizer case of test/fixtures/reference/optimizers.json (PyTorch 1.13 float32
// trajectories, written by scripts/reference/generate.py) on both backends, within the
// tolerance its README states:
//     |ours - ref| <= 2e-4 * |ref| + 1e-5   for every element of every step.
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ParameterStore } from '../src/index.js';
import { BACKENDS } from './helpers.js';
import { fromTorchOptions, optimizerClass } from './registry.js';

interface ReferenceCase {
  name: string;
  optimizer: string;
  options: Record<string, unknown>;
  params0: number[][];
  grads: number[][][];
  params: number[][][];
  lrPerStep?: number[];
  momentumPerStep?: number[];
  /** ASGD: the averaged parameters (`ax`) after each step. */
  averaged?: number[][][];
}

// The fixture is part of the repository: a missing one fails the suite, it does not skip it.
const file = fileURLToPath(new URL('./fixtures/reference/optimizers.json', import.meta.url));
const found = existsSync(file);
const reference = (found ? JSON.parse(readFileSync(file, 'utf8')) : { cases: [] }) as { cases: ReferenceCase[] };

// Every case runs: a reference case of a class the library lacks fails the test below.
const cases = reference.cases;

export const REL_TOL = 2e-4;
export const ABS_TOL = 1e-5;

describe('PyTorch reference trajectories', () => {
  it('has its fixture', () => {
    expect(found, `missing ${file}: regenerate it with python3 scripts/reference/generate.py`).toBe(true);
    expect(cases.length).toBeGreaterThan(0);
  });

  it('covers every case of the reference file: every optimizer family, scheduled ones included', () => {
    const families = new Set(cases.map((c) => c.name.split('/')[0]));
    expect([...families].sort()).toEqual(['adadelta', 'adagrad', 'adam', 'adamax', 'adamw', 'asgd', 'nadam', 'radam', 'rmsprop', 'rprop', 'sgd']);
    const names = cases.map((c) => c.name);
    for (const n of ['sgd/scheduled', 'adam/scheduled', 'nadam/scheduled-lr', 'rprop/scheduled-lr', 'asgd/scheduled-lr']) expect(names).toContain(n);
    for (const c of cases) expect(c.averaged !== undefined, c.name).toBe(c.optimizer === 'ASGD');
    for (const c of cases) expect(optimizerClass(c.optimizer), c.optimizer).toBeDefined();
  });

  for (const backend of BACKENDS) {
    for (const c of cases) {
      it(`${c.name} (${backend})`, async () => {
        const store = await ParameterStore.create({ backend });
        const params = c.params0.map((values, k) => store.parameter(`p${k}`, values));
        const cls = optimizerClass(c.optimizer)!;
        const opt = cls.create(params, fromTorchOptions(c.options));
        let worst = 0;
        for (let s = 0; s < c.grads.length; s++) {
          const group = opt.paramGroups[0] as Record<string, unknown>;
          if (c.lrPerStep) group.lr = c.lrPerStep[s];
          if (c.momentumPerStep) {
            if (cls.momentumKey === 'momentum') group.momentum = c.momentumPerStep[s];
            else group.betas = [c.momentumPerStep[s], (group.betas as number[])[1]];
          }
          params.forEach((p, k) => p.grad.set(c.grads[s][k]));
          opt.step();
          const check = (what: string, ours: Float32Array, ref: number[], k: number) => {
            for (let i = 0; i < ref.length; i++) {
              const err = Math.abs(ours[i] - ref[i]);
              const bound = REL_TOL * Math.abs(ref[i]) + ABS_TOL;
              worst = Math.max(worst, err / bound);
              if (!(err <= bound)) {
                expect.fail(`step ${s}, ${what} ${k}, element ${i}: ours ${ours[i]}, PyTorch ${ref[i]}, |diff| ${err} > ${bound}`);
              }
            }
          };
          params.forEach((p, k) => {
            check('tensor', p.data, c.params[s][k], k);
            if (c.averaged) check('averaged tensor', opt.state(p).ax as Float32Array, c.averaged[s][k], k);
          });
        }
        // Faithful float32 implementations sit far inside the bound.
        expect(worst).toBeLessThan(1);
      });
    }
  }
});
