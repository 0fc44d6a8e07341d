// Each optimizer minimises an ill-conditioned quadratic (8 dimensions, curvatures 1..100,
// condition number 100) and the Rosenbrock function from a fixed start, reaching a stated
// loss within a step budget, on both backends. Hyperparameters are per optimizer, as anyone
// would tune them; the targets leave a margin of 4x or more over what the runs reach.
// L-BFGS steps with a closure (up to 20 iterations a step: a budget of a few steps); the
// schedule-free optimizers train in train mode and are measured in eval mode, at their average.
import { describe, expect, it } from 'vitest';
import {
  ASGD, Adadelta, Adafactor, Adagrad, Adam, Adamax, AdamW, Adan, AdEMAMix, LAMB, LARS, LBFGS, Lion, NAdam, ParameterStore, Prodigy, RAdam, RMSprop,
  Rprop, SGD, ScheduleFreeAdamW, ScheduleFreeBase, ScheduleFreeSGD, type Parameter,
} from '../src/index.js';
import { BACKENDS } from './helpers.js';
import type { AnyOptimizer } from './registry.js';

const D = 8;
const CURVATURE = Array.from({ length: D }, (_, i) => 1 + (99 * i) / (D - 1));

/** f(x) = 1/2 sum_i c_i x_i^2; its minimum is 0 at x = 0. */
function quadratic(x: Float32Array, g: Float32Array): number {
  let f = 0;
  for (let i = 0; i < D; i++) {
    f += 0.5 * CURVATURE[i] * x[i] * x[i];
    g[i] = CURVATURE[i] * x[i];
  }
  return f;
}

/** f(a, b) = (1-a)^2 + 100 (b - a^2)^2; its minimum is 0 at (1, 1). */
function rosenbrock(x: Float32Array, g: Float32Array): number {
  const a = x[0], b = x[1];
  g[0] = -2 * (1 - a) - 400 * a * (b - a * a);
  g[1] = 200 * (b - a * a);
  return (1 - a) ** 2 + 100 * (b - a * a) ** 2;
}

type Make = (p: Parameter[]) => AnyOptimizer;
interface Problem { name: string; f: typeof quadratic; start: number[]; steps: number }
const QUADRATIC: Problem = { name: 'ill-conditioned quadratic', f: quadratic, start: new Array(D).fill(1), steps: 500 };
const ROSENBROCK: Problem = { name: 'Rosenbrock from (-1.2, 1)', f: rosenbrock, start: [-1.2, 1], steps: 3000 };

/** A schedule-free optimizer, in train mode. */
const training = (opt: ScheduleFreeAdamW | ScheduleFreeSGD): AnyOptimizer => { opt.train(); return opt as unknown as AnyOptimizer; };

// [optimizer, problem, factory, target loss, steps when not the problem's]
const CASES: [string, Problem, Make, number, number?][] = [
  ['SGD', QUADRATIC, (p) => new SGD(p, { lr: 0.01 }) as AnyOptimizer, 1e-4],
  ['SGD momentum', QUADRATIC, (p) => new SGD(p, { lr: 0.003, momentum: 0.9 }) as AnyOptimizer, 1e-10],
  ['SGD Nesterov', QUADRATIC, (p) => new SGD(p, { lr: 0.003, momentum: 0.9, nesterov: true }) as AnyOptimizer, 1e-10],
  ['Adam', QUADRATIC, (p) => new Adam(p, { lr: 0.03 }) as AnyOptimizer, 1e-10],
  ['AdamW', QUADRATIC, (p) => new AdamW(p, { lr: 0.03, weightDecay: 1e-4 }) as AnyOptimizer, 1e-8],
  ['Adagrad', QUADRATIC, (p) => new Adagrad(p, { lr: 0.3 }) as AnyOptimizer, 1e-10],
  ['RMSprop', QUADRATIC, (p) => new RMSprop(p, { lr: 0.01 }) as AnyOptimizer, 1e-10],
  ['NAdam', QUADRATIC, (p) => new NAdam(p, { lr: 0.03 }) as AnyOptimizer, 1e-10],
  ['Adamax', QUADRATIC, (p) => new Adamax(p, { lr: 0.03 }) as AnyOptimizer, 1e-10],
  ['RAdam', QUADRATIC, (p) => new RAdam(p, { lr: 0.03 }) as AnyOptimizer, 1e-8],
  ['Adadelta', QUADRATIC, (p) => new Adadelta(p, { lr: 1 }) as AnyOptimizer, 1e-2],
  ['Lion', QUADRATIC, (p) => new Lion(p, { lr: 0.01 }) as AnyOptimizer, 1e-6],
  ['Adan', QUADRATIC, (p) => new Adan(p, { lr: 0.1 }) as AnyOptimizer, 1e-10],
  // A slow EMA that remembers 100 steps (beta3 0.99) suits a run of hundreds; the default 0.9999 is for long training.
  ['AdEMAMix', QUADRATIC, (p) => new AdEMAMix(p, { lr: 0.03, betas: [0.9, 0.999, 0.99], alpha: 5, alphaWarmup: 100, beta3Warmup: 100 }) as AnyOptimizer, 1e-10],
  // Both problems are full-batch, what Rprop is meant for.
  ['Rprop', QUADRATIC, (p) => new Rprop(p) as AnyOptimizer, 1e-9],
  ['ASGD', QUADRATIC, (p) => new ASGD(p, { lr: 0.01 }) as AnyOptimizer, 1e-4],
  ['Adam cautious', QUADRATIC, (p) => new Adam(p, { lr: 0.03, cautious: true }) as AnyOptimizer, 1e-10],
  ['Lion cautious', QUADRATIC, (p) => new Lion(p, { lr: 0.01, cautious: true }) as AnyOptimizer, 1e-6],
  ['LAMB', QUADRATIC, (p) => new LAMB(p, { lr: 0.03 }) as AnyOptimizer, 1e-10],
  ['LARS', QUADRATIC, (p) => new LARS(p, { lr: 1, trustCoefficient: 0.01 }) as AnyOptimizer, 1e-10],
  ['Prodigy', QUADRATIC, (p) => new Prodigy(p) as AnyOptimizer, 1e-10],
  // Adafactor's steps are relative to the parameters' RMS (floored at eps2): slow towards 0, hence a large lr.
  ['Adafactor', QUADRATIC, (p) => new Adafactor(p, { lr: 0.3 }) as AnyOptimizer, 1e-4],
  ['SGD', ROSENBROCK, (p) => new SGD(p, { lr: 0.001 }) as AnyOptimizer, 0.1],
  ['SGD momentum', ROSENBROCK, (p) => new SGD(p, { lr: 0.001, momentum: 0.9 }) as AnyOptimizer, 1e-6],
  ['SGD Nesterov', ROSENBROCK, (p) => new SGD(p, { lr: 0.001, momentum: 0.9, nesterov: true }) as AnyOptimizer, 1e-6],
  ['Adam', ROSENBROCK, (p) => new Adam(p, { lr: 0.03 }) as AnyOptimizer, 1e-6],
  ['AdamW', ROSENBROCK, (p) => new AdamW(p, { lr: 0.03, weightDecay: 0 }) as AnyOptimizer, 1e-6],
  ['Adagrad', ROSENBROCK, (p) => new Adagrad(p, { lr: 0.3 }) as AnyOptimizer, 2e-2],
  ['RMSprop', ROSENBROCK, (p) => new RMSprop(p, { lr: 0.003 }) as AnyOptimizer, 1e-2],
  ['NAdam', ROSENBROCK, (p) => new NAdam(p, { lr: 0.01 }) as AnyOptimizer, 1e-2],
  ['Adamax', ROSENBROCK, (p) => new Adamax(p, { lr: 0.3 }) as AnyOptimizer, 1e-6],
  ['RAdam', ROSENBROCK, (p) => new RAdam(p, { lr: 0.002, betas: [0.9, 0.99] }) as AnyOptimizer, 1e-4],
  ['Adadelta', ROSENBROCK, (p) => new Adadelta(p, { lr: 0.1 }) as AnyOptimizer, 5e-2],
  ['Lion', ROSENBROCK, (p) => new Lion(p, { lr: 0.001 }) as AnyOptimizer, 5e-3],
  ['Adan', ROSENBROCK, (p) => new Adan(p, { lr: 0.003 }) as AnyOptimizer, 2e-5],
  ['AdEMAMix', ROSENBROCK, (p) => new AdEMAMix(p, { lr: 0.01, betas: [0.9, 0.999, 0.99], alpha: 5, alphaWarmup: 100, beta3Warmup: 100 }) as AnyOptimizer, 1e-8],
  ['Rprop', ROSENBROCK, (p) => new Rprop(p) as AnyOptimizer, 5e-5],
  ['ASGD', ROSENBROCK, (p) => new ASGD(p, { lr: 0.001 }) as AnyOptimizer, 0.1],
  ['Adam cautious', ROSENBROCK, (p) => new Adam(p, { lr: 0.03, cautious: true }) as AnyOptimizer, 1e-6],
  ['Lion cautious', ROSENBROCK, (p) => new Lion(p, { lr: 0.001, cautious: true }) as AnyOptimizer, 5e-3],
  ['LAMB', ROSENBROCK, (p) => new LAMB(p, { lr: 0.01 }) as AnyOptimizer, 3e-2],
  ['LARS', ROSENBROCK, (p) => new LARS(p, { lr: 1, trustCoefficient: 0.003 }) as AnyOptimizer, 5e-3],
  ['Prodigy', ROSENBROCK, (p) => new Prodigy(p) as AnyOptimizer, 1e-6],
  ['Adafactor', ROSENBROCK, (p) => new Adafactor(p, { lr: 0.01 }) as AnyOptimizer, 0.2],
  ['LBFGS', QUADRATIC, (p) => new LBFGS(p) as AnyOptimizer, 1e-9, 5],
  ['LBFGS strong Wolfe', QUADRATIC, (p) => new LBFGS(p, { lineSearchFn: 'strong_wolfe' }) as AnyOptimizer, 1e-9, 5],
  ['LBFGS', ROSENBROCK, (p) => new LBFGS(p) as AnyOptimizer, 1e-8, 10],
  ['LBFGS strong Wolfe', ROSENBROCK, (p) => new LBFGS(p, { lineSearchFn: 'strong_wolfe' }) as AnyOptimizer, 1e-8, 10],
  ['ScheduleFreeAdamW', QUADRATIC, (p) => training(new ScheduleFreeAdamW(p, { lr: 0.1 })), 1e-12],
  ['ScheduleFreeSGD', QUADRATIC, (p) => training(new ScheduleFreeSGD(p, { lr: 0.01 })), 1e-2],
  ['ScheduleFreeAdamW', ROSENBROCK, (p) => training(new ScheduleFreeAdamW(p, { lr: 0.1 })), 5e-3],
  ['ScheduleFreeSGD', ROSENBROCK, (p) => training(new ScheduleFreeSGD(p, { lr: 0.005 })), 1e-2],
];

describe('convergence', () => {
  for (const [name, problem, make, target, budget] of CASES) {
    const steps = budget ?? problem.steps;
    for (const backend of BACKENDS) {
      it(`${name} on the ${problem.name}: loss < ${target} within ${steps} steps (${backend})`, async () => {
        const store = await ParameterStore.create({ backend });
        const x = store.parameter('x', problem.start);
        const opt = make([x]);
        const initial = problem.f(x.data, x.grad);
        for (let s = 0; s < steps; s++) {
          if (opt instanceof LBFGS) {
            opt.step(() => problem.f(x.data, x.grad));
          } else {
            problem.f(x.data, x.grad);
            opt.step();
          }
        }
        if (opt instanceof ScheduleFreeBase) opt.eval(); // the average x
        const loss = problem.f(x.data, x.grad);
        expect(loss).toBeLessThan(target);
        expect(loss).toBeLessThan(initial);
      });
    }
  }
});
