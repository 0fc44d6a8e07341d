import type { Kernels } from '../kernels/index.js';
import { powInt } from '../scalars.js';
import { betas, boolean, number } from '../validate.js';
import { cautiousStep } from './cautious.js';
import { Optimizer, type GroupState, type MomentsState, type OptimizerSpec, type ParamGroup, type ParamsInput, type Run } from './optimizer.js';
import { STATE_CHECKS, STATE_DEFAULTS, type StateOptions } from './state.js';

/** Options of {@link RAdam} (PyTorch's `torch.optim.RAdam`, camelCase). */
export interface RAdamOptions extends StateOptions {
  /** Learning rate, >= 0 (default 1e-3). */
  lr: number;
  /** Decay rates of the moment estimates, each in [0, 1) (default [0.9, 0.999]). */
  betas: [number, number];
  /** Added to the denominator, >= 0 (default 1e-8). */
  eps: number;
  /** Weight decay, >= 0: L2, or decoupled (AdamW-style) with `decoupledWeightDecay` (default 0). */
  weightDecay: number;
  /** Apply weight decay as `p *= 1 - lr*weightDecay` instead of an L2 term (default false). */
  decoupledWeightDecay: boolean;
  /** Maximise the objective instead of minimising it (default false). */
  maximize: boolean;
  /** Cautious updates (Liang et al., 2024): only elements whose update agrees in sign with the gradient move, rescaled (default false; see {@link Adam}). */
  cautious: boolean;
}

/** The optimizer state of one parameter under {@link RAdam} (`opt.state(p)`): live views of its buffers. */
export type RAdamState = MomentsState;

/** What RAdam's constructor and `addParamGroup` accept: any of {@link RAdamOptions}, the rest from the defaults. */
export type RAdamOptionsInput = Partial<RAdamOptions>;

const spec: OptimizerSpec<RAdamOptions> = {
  name: 'RAdam',
  buffers: ['expAvg', 'expAvgSq'],
  checks: {
    lr: number('learning rate (lr)'),
    betas: betas(),
    eps: number('epsilon value (eps)'),
    weightDecay: number('weight decay value (weightDecay)'),
    decoupledWeightDecay: boolean('decoupledWeightDecay'),
    maximize: boolean('maximize'),
    cautious: boolean('cautious'),
    ...STATE_CHECKS,
  },
  addedOptions: { cautious: false },
};

/**
 * The rectification of step `t`: `rect`, or undefined while the variance is intractable
 * (`rho_t <= 5`), as PyTorch computes it.
 */
export function radamRectification(beta2: number, t: number): number | undefined {
  const beta2t = powInt(beta2, t);
  const rhoInf = 2 / (1 - beta2) - 1;
  const rhoT = rhoInf - (2 * t * beta2t) / (1 - beta2t);
  if (!(rhoT > 5)) return undefined;
  return Math.sqrt(((rhoT - 4) * (rhoT - 2) * rhoInf) / ((rhoInf - 4) * (rhoInf - 2) * rhoT));
}

/**
 * RAdam, rectified Adam (Liu et al., 2020): PyTorch's `torch.optim.RAdam` (2.x semantics,
 * decoupled weight decay included).
 *
 *     g = maximize ? -grad : grad;   g += weightDecay * p   (or p *= 1 - lr*wd, decoupled)
 *     m = b1*m + (1-b1)*g;   v = b2*v + (1-b2)*g*g
 *     rho_inf = 2/(1-b2) - 1;   rho_t = rho_inf - 2 t b2^t / (1 - b2^t)
 *     rho_t > 5 ?  p -= lr * m/(1-b1^t) * rect * sqrt(1-b2^t) / (sqrt(v) + eps)
 *               :  p -= lr * m/(1-b1^t)
 *
 * Defaults: `lr = 1e-3, betas = [0.9, 0.999], eps = 1e-8, weightDecay = 0,
 * decoupledWeightDecay = false, maximize = false`. State: `expAvg`, `expAvgSq`. It runs on the
 * Adam kernel (flag PLAIN before rectification), which multiplies m by one host scalar (`lr * rect * sqrt(1-b2^t) / (1-b1^t)`), where PyTorch
 * multiplies the factors element by element: the same update within a few ulps.
 *
 * @example
 * const opt = new RAdam([w], { lr: 1e-3 });
 */
export class RAdam extends Optimizer<RAdamOptions, RAdamState> {
  constructor(params: ParamsInput<RAdamOptions>, options?: Partial<RAdamOptions>) {
    super(params, options, { lr: 1e-3, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0, decoupledWeightDecay: false, maximize: false, cautious: false, ...STATE_DEFAULTS }, spec);
  }

  protected stateBuffers(): readonly string[] {
    return ['expAvg', 'expAvgSq'];
  }

  protected updateGroup(group: ParamGroup<RAdamOptions>, state: GroupState, kernels: Kernels): void {
    const fr = Math.fround;
    const t = state.step;
    const [beta1, beta2] = group.betas;
    const { lr, weightDecay } = group;
    const biasCorrection1 = 1 - powInt(beta1, t);
    const rect = radamRectification(beta2, t);
    const stepSize = rect === undefined ? lr / biasCorrection1 : (lr * rect * Math.sqrt(1 - powInt(beta2, t))) / biasCorrection1;
    const flags = {
      maximize: group.maximize, weightDecay: weightDecay !== 0 && !group.decoupledWeightDecay, decoupled: weightDecay !== 0 && group.decoupledWeightDecay,
      rectified: rect !== undefined, plain: rect === undefined,
    };
    const b1 = fr(beta1), c1 = fr(1 - beta1), b2 = fr(beta2), c2 = fr(1 - beta2);
    const ss = fr(stepSize), eps = fr(group.eps), wd = fr(weightDecay), factor = fr(1 - lr * weightDecay);
    const call = (run: Run, masked?: number) => kernels.adam(
      { param: this.paramAt(run), grad: this.gradAt(run), expAvg: this.stateAt(state, 'expAvg', run), expAvgSq: this.stateAt(state, 'expAvgSq', run), ...(masked === undefined ? {} : { masked }) },
      run.n, { beta1: b1, oneMinusBeta1: c1, beta2: b2, oneMinusBeta2: c2, stepSize: ss, eps, weightDecay: wd, decay: factor },
      masked === undefined ? flags : { ...flags, cautious: true });
    if (group.cautious) cautiousStep(this.store, kernels, group.params, state, call);
    else for (const run of state.runs) call(run);
  }
}
