import type { Kernels } from '../kernels/index.js';
import { powInt } from '../scalars.js';
import { betas, boolean, number } from '../validate.js';
import { Optimizer, type GroupState, type ParameterState, type OptimizerSpec, type ParamGroup, type ParamsInput } from './optimizer.js';
import { STATE_CHECKS, STATE_DEFAULTS, type StateOptions } from './state.js';

/** Options of {@link Adamax} (PyTorch's `torch.optim.Adamax`, camelCase). */
export interface AdamaxOptions extends StateOptions {
  /** Learning rate, >= 0 (default 2e-3). */
  lr: number;
  /** Decay rates of the first moment and of the infinity norm, each in [0, 1) (default [0.9, 0.999]). */
  betas: [number, number];
  /** Added to |g| in the infinity norm, >= 0 (default 1e-8). */
  eps: number;
  /** L2 penalty added to the gradient, >= 0 (default 0). */
  weightDecay: number;
  /** Maximise the objective instead of minimising it (default false). */
  maximize: boolean;
}

/** The optimizer state of one parameter under {@link Adamax} (`opt.state(p)`): live views of its buffers. */
export interface AdamaxState extends ParameterState {
  /** First moment m. */
  expAvg: Float32Array;
  /** Exponentially weighted infinity norm u. */
  expInf: Float32Array;
}

/** What Adamax's constructor and `addParamGroup` accept: any of {@link AdamaxOptions}, the rest from the defaults. */
export type AdamaxOptionsInput = Partial<AdamaxOptions>;

const spec: OptimizerSpec<AdamaxOptions> = {
  name: 'Adamax',
  buffers: ['expAvg', 'expInf'],
  checks: {
    lr: number('learning rate (lr)'),
    betas: betas(),
    eps: number('epsilon value (eps)'),
    weightDecay: number('weight decay value (weightDecay)'),
    maximize: boolean('maximize'),
    ...STATE_CHECKS,
  },
};

/**
 * Adamax, the infinity-norm variant of Adam (Kingma & Ba, 2014, section 7): PyTorch's
 * `torch.optim.Adamax`, same semantics.
 *
 *     g = maximize ? -grad : grad;   g += weightDecay * p
 *     m = b1*m + (1-b1)*g;   u = max(b2*u, |g| + eps);   p -= (lr / (1 - b1^t)) * m / u
 *
 * Defaults: `lr = 2e-3, betas = [0.9, 0.999], eps = 1e-8, weightDecay = 0, maximize = false`.
 * State: `expAvg`, `expInf`.
 *
 * @example
 * const opt = new Adamax([w], { lr: 2e-3 });
 */
export class Adamax extends Optimizer<AdamaxOptions, AdamaxState> {
  constructor(params: ParamsInput<AdamaxOptions>, options?: Partial<AdamaxOptions>) {
    super(params, options, { lr: 2e-3, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0, maximize: false, ...STATE_DEFAULTS }, spec);
  }

  protected stateBuffers(): readonly string[] {
    return ['expAvg', 'expInf'];
  }

  protected updateGroup(group: ParamGroup<AdamaxOptions>, state: GroupState, kernels: Kernels): void {
    const fr = Math.fround;
    const [beta1, beta2] = group.betas;
    const clr = fr(group.lr / (1 - powInt(beta1, state.step)));
    const flags = { maximize: group.maximize, weightDecay: group.weightDecay !== 0 };
    const b1 = fr(beta1), c1 = fr(1 - beta1), b2 = fr(beta2), eps = fr(group.eps), wd = fr(group.weightDecay);
    for (const run of state.runs) {
      kernels.adamax({ param: this.paramAt(run), grad: this.gradAt(run), expAvg: this.stateAt(state, 'expAvg', run), expInf: this.stateAt(state, 'expInf', run) },
        run.n, { beta1: b1, oneMinusBeta1: c1, beta2: b2, clr, eps, weightDecay: wd }, flags);
    }
  }
}
