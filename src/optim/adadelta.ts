import type { Kernels } from '../kernels/index.js';
import { between, boolean, number } from '../validate.js';
import { Optimizer, type GroupState, type ParameterState, type OptimizerSpec, type ParamGroup, type ParamsInput } from './optimizer.js';
import { STATE_CHECKS, STATE_DEFAULTS, type StateOptions } from './state.js';

/** Options of {@link Adadelta} (PyTorch's `torch.optim.Adadelta`, camelCase). */
export interface AdadeltaOptions extends StateOptions {
  /** Scale of the update, >= 0 (default 1.0). */
  lr: number;
  /** Decay of the running averages, in [0, 1] (default 0.9). */
  rho: number;
  /** Added inside both square roots, >= 0 (default 1e-6). */
  eps: number;
  /** L2 penalty added to the gradient, >= 0 (default 0). */
  weightDecay: number;
  /** Maximise the objective instead of minimising it (default false). */
  maximize: boolean;
}

/** The optimizer state of one parameter under {@link Adadelta} (`opt.state(p)`): live views of its buffers. */
export interface AdadeltaState extends ParameterState {
  /** Average of squared gradients. */
  squareAvg: Float32Array;
  /** Average of squared updates. */
  accDelta: Float32Array;
}

/** What Adadelta's constructor and `addParamGroup` accept: any of {@link AdadeltaOptions}, the rest from the defaults. */
export type AdadeltaOptionsInput = Partial<AdadeltaOptions>;

const spec: OptimizerSpec<AdadeltaOptions> = {
  name: 'Adadelta',
  buffers: ['squareAvg', 'accDelta'],
  checks: {
    lr: number('learning rate (lr)'),
    rho: between('rho value (rho)', 0, 1),
    eps: number('epsilon value (eps)'),
    weightDecay: number('weight decay value (weightDecay)'),
    maximize: boolean('maximize'),
    ...STATE_CHECKS,
  },
};

/**
 * Adadelta (Zeiler, 2012): PyTorch's `torch.optim.Adadelta`, same semantics.
 *
 *     g = maximize ? -grad : grad;   g += weightDecay * p
 *     sq = rho*sq + (1-rho)*g*g;   delta = sqrt(acc + eps) / sqrt(sq + eps) * g
 *     acc = rho*acc + (1-rho)*delta*delta;   p -= lr * delta
 *
 * Defaults: `lr = 1.0, rho = 0.9, eps = 1e-6, weightDecay = 0, maximize = false`.
 * State: `squareAvg`, `accDelta`.
 *
 * @example
 * const opt = new Adadelta([w]);
 */
export class Adadelta extends Optimizer<AdadeltaOptions, AdadeltaState> {
  constructor(params: ParamsInput<AdadeltaOptions>, options?: Partial<AdadeltaOptions>) {
    super(params, options, { lr: 1.0, rho: 0.9, eps: 1e-6, weightDecay: 0, maximize: false, ...STATE_DEFAULTS }, spec);
  }

  protected stateBuffers(): readonly string[] {
    return ['squareAvg', 'accDelta'];
  }

  protected updateGroup(group: ParamGroup<AdadeltaOptions>, state: GroupState, kernels: Kernels): void {
    const fr = Math.fround;
    const flags = { maximize: group.maximize, weightDecay: group.weightDecay !== 0 };
    const lr = fr(group.lr), rho = fr(group.rho), c = fr(1 - group.rho), eps = fr(group.eps), wd = fr(group.weightDecay);
    for (const run of state.runs) {
      kernels.adadelta({ param: this.paramAt(run), grad: this.gradAt(run), squareAvg: this.stateAt(state, 'squareAvg', run), accDelta: this.stateAt(state, 'accDelta', run) },
        run.n, { lr, rho, oneMinusRho: c, eps, weightDecay: wd }, flags);
    }
  }
}
