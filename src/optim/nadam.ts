import type { Kernels } from '../kernels/index.js';
import { LN_0_96, exp } from '../detmath.js';
import { powInt } from '../scalars.js';
import { betas, boolean, number } from '../validate.js';
import { cautiousStep } from './cautious.js';
import { Optimizer, type GroupState, type MomentsState, type OptimizerSpec, type ParamGroup, type ParamsInput, type Run } from './optimizer.js';
import { STATE_CHECKS, STATE_DEFAULTS, type StateOptions } from './state.js';

/** Options of {@link NAdam} (PyTorch's `torch.optim.NAdam`, camelCase). */
export interface NAdamOptions extends StateOptions {
  /** Learning rate, >= 0 (default 2e-3). */
  lr: number;
  /** Decay rates of the moment estimates, each in [0, 1) (default [0.9, 0.999]). */
  betas: [number, number];
  /** Added to the denominator, >= 0 (default 1e-8). */
  eps: number;
  /** Weight decay, >= 0: L2, or decoupled (AdamW-style) with `decoupledWeightDecay` (default 0). */
  weightDecay: number;
  /** psi of the momentum schedule mu_t = b1 (1 - 0.5 * 0.96^(t psi)), >= 0 (default 4e-3). */
  momentumDecay: number;
  /** Apply weight decay as `p *= 1 - lr*weightDecay` instead of an L2 term (default false). */
  decoupledWeightDecay: boolean;
  /** Maximise the objective instead of minimising it (default false). */
  maximize: boolean;
  /** Cautious updates (Liang et al., 2024): only elements whose update agrees in sign with the gradient move, rescaled (default false; see {@link Adam}). */
  cautious: boolean;
}

/** The optimizer state of one parameter under {@link NAdam} (`opt.state(p)`): live views of its buffers. */
export interface NAdamState extends MomentsState {
  /** Product of the momentum coefficients mu so far (kept in float64 per group). */
  muProduct?: number;
}

/** What NAdam's constructor and `addParamGroup` accept: any of {@link NAdamOptions}, the rest from the defaults. */
export type NAdamOptionsInput = Partial<NAdamOptions>;

const spec: OptimizerSpec<NAdamOptions> = {
  name: 'NAdam',
  buffers: ['expAvg', 'expAvgSq'],
  scalars: ['muProduct'],
  checks: {
    lr: number('learning rate (lr)'),
    betas: betas(),
    eps: number('epsilon value (eps)'),
    weightDecay: number('weight decay value (weightDecay)'),
    momentumDecay: number('momentum_decay value (momentumDecay)'),
    decoupledWeightDecay: boolean('decoupledWeightDecay'),
    maximize: boolean('maximize'),
    cautious: boolean('cautious'),
    ...STATE_CHECKS,
  },
  addedOptions: { cautious: false },
};

/**
 * NAdam, Adam with Nesterov momentum (Dozat, 2016): PyTorch's `torch.optim.NAdam` (2.x
 * semantics, including the corrected `muProduct` update and decoupled weight decay).
 *
 *     g = maximize ? -grad : grad;   g += weightDecay * p   (or p *= 1 - lr*wd, decoupled)
 *     mu_t = b1 (1 - 0.5 * 0.96^(t psi));   muProduct *= mu_t
 *     m = b1*m + (1-b1)*g;   v = b2*v + (1-b2)*g*g;   denom = sqrt(v / (1 - b2^t)) + eps
 *     p -= lr (1 - mu_t) / (1 - muProduct) * g / denom
 *     p -= lr mu_{t+1} / (1 - muProduct mu_{t+1}) * m / denom
 *
 * Defaults: `lr = 2e-3, betas = [0.9, 0.999], eps = 1e-8, weightDecay = 0,
 * momentumDecay = 4e-3, decoupledWeightDecay = false, maximize = false`. State: `expAvg`,
 * `expAvgSq`, and `muProduct` (per group, kept in float64 on the host; PyTorch keeps a float32
 * scalar per parameter). `0.96^x` comes from the library's deterministic `exp`, so the
 * scalars are identical in every engine. It runs on the Adam kernel (flag NESTEROV), which
 * divides the sum of the two terms once, by sqrt(v) * (1/sqrt(1 - b2^t)): the same update
 * within a few ulps.
 *
 * @example
 * const opt = new NAdam([w], { lr: 2e-3 });
 */
export class NAdam extends Optimizer<NAdamOptions, NAdamState> {
  constructor(params: ParamsInput<NAdamOptions>, options?: Partial<NAdamOptions>) {
    super(params, options, {
      lr: 2e-3, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0, momentumDecay: 4e-3, decoupledWeightDecay: false, maximize: false, cautious: false, ...STATE_DEFAULTS,
    }, spec);
  }

  protected stateBuffers(): readonly string[] {
    return ['expAvg', 'expAvgSq'];
  }

  protected updateGroup(group: ParamGroup<NAdamOptions>, state: GroupState, kernels: Kernels): void {
    const fr = Math.fround;
    const t = state.step;
    const [beta1, beta2] = group.betas;
    const { lr, weightDecay, momentumDecay } = group;
    const mu = beta1 * (1 - 0.5 * exp(t * momentumDecay * LN_0_96));
    const muNext = beta1 * (1 - 0.5 * exp((t + 1) * momentumDecay * LN_0_96));
    const muProduct = (state.scalars.muProduct ?? 1) * mu;
    state.scalars.muProduct = muProduct;
    const gradCoef = (lr * (1 - mu)) / (1 - muProduct);
    const avgCoef = (lr * muNext) / (1 - muProduct * muNext);
    const invBc2Sqrt = 1 / Math.sqrt(1 - powInt(beta2, t));
    const flags = {
      maximize: group.maximize, weightDecay: weightDecay !== 0 && !group.decoupledWeightDecay, decoupled: weightDecay !== 0 && group.decoupledWeightDecay, nesterov: true,
    };
    const b1 = fr(beta1), c1 = fr(1 - beta1), b2 = fr(beta2), c2 = fr(1 - beta2);
    const gc = fr(gradCoef), ac = fr(avgCoef), bc = fr(invBc2Sqrt), eps = fr(group.eps), wd = fr(weightDecay);
    const factor = fr(1 - lr * weightDecay);
    const call = (run: Run, masked?: number) => kernels.adam(
      { param: this.paramAt(run), grad: this.gradAt(run), expAvg: this.stateAt(state, 'expAvg', run), expAvgSq: this.stateAt(state, 'expAvgSq', run), ...(masked === undefined ? {} : { masked }) },
      run.n, { beta1: b1, oneMinusBeta1: c1, beta2: b2, oneMinusBeta2: c2, gradCoef: gc, expAvgCoef: ac, invBiasCorrection2Sqrt: bc, eps, weightDecay: wd, decay: factor },
      masked === undefined ? flags : { ...flags, cautious: true });
    if (group.cautious) cautiousStep(this.store, kernels, group.params, state, call);
    else for (const run of state.runs) call(run);
  }
}
