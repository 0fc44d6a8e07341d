import type { Kernels } from '../kernels/index.js';
import { betas, boolean, number } from '../validate.js';
import { Optimizer, type GroupState, type ParameterState, type OptimizerSpec, type ParamGroup, type ParamsInput } from './optimizer.js';
import { STATE_CHECKS, STATE_DEFAULTS, type StateOptions } from './state.js';

/** Options of {@link Lion}. */
export interface LionOptions extends StateOptions {
  /** Learning rate, >= 0 (default 1e-4; Lion wants 3-10x smaller than AdamW). */
  lr: number;
  /** Interpolation for the update direction and decay of the momentum, each in [0, 1) (default [0.9, 0.99]). */
  betas: [number, number];
  /** Decoupled weight decay, >= 0: `p *= 1 - lr*weightDecay` (default 0). */
  weightDecay: number;
  /** Maximise the objective instead of minimising it (default false). */
  maximize: boolean;
}

/** The optimizer state of one parameter under {@link Lion} (`opt.state(p)`): live views of its buffers. */
export interface LionState extends ParameterState {
  /** Momentum m. */
  expAvg: Float32Array;
}

/** What Lion's constructor and `addParamGroup` accept: any of {@link LionOptions}, the rest from the defaults. */
export type LionOptionsInput = Partial<LionOptions>;

const spec: OptimizerSpec<LionOptions> = {
  name: 'Lion',
  buffers: ['expAvg'],
  checks: {
    lr: number('learning rate (lr)'),
    betas: betas(),
    weightDecay: number('weight decay value (weightDecay)'),
    maximize: boolean('maximize'),
    ...STATE_CHECKS,
  },
};

/**
 * Lion, EvoLved Sign Momentum (Chen et al., 2023, Algorithm 2). PyTorch has no Lion; this
 * follows the paper (and the authors' reference code).
 *
 *     g = maximize ? -grad : grad
 *     p *= 1 - lr*weightDecay
 *     p -= lr * sign(b1*m + (1-b1)*g)
 *     m = b2*m + (1-b2)*g
 *
 * `sign` is 0 for zero and for NaN (as `torch.sign` computes it). Defaults: `lr = 1e-4,
 * betas = [0.9, 0.99], weightDecay = 0, maximize = false`. State: `expAvg`.
 *
 * @example
 * const opt = new Lion([w], { lr: 3e-5, weightDecay: 0.1 });
 */
export class Lion extends Optimizer<LionOptions, LionState> {
  constructor(params: ParamsInput<LionOptions>, options?: Partial<LionOptions>) {
    super(params, options, { lr: 1e-4, betas: [0.9, 0.99], weightDecay: 0, maximize: false, ...STATE_DEFAULTS }, spec);
  }

  protected stateBuffers(): readonly string[] {
    return ['expAvg'];
  }

  protected updateGroup(group: ParamGroup<LionOptions>, state: GroupState, kernels: Kernels): void {
    const fr = Math.fround;
    const [beta1, beta2] = group.betas;
    const flags = { maximize: group.maximize, decoupled: group.weightDecay !== 0 };
    const lr = fr(group.lr), b1 = fr(beta1), c1 = fr(1 - beta1), b2 = fr(beta2), c2 = fr(1 - beta2);
    const factor = fr(1 - group.lr * group.weightDecay);
    for (const run of state.runs) {
      kernels.lion({ param: this.paramAt(run), grad: this.gradAt(run), expAvg: this.stateAt(state, 'expAvg', run) }, run.n,
        { lr, beta1: b1, oneMinusBeta1: c1, beta2: b2, oneMinusBeta2: c2, decay: factor }, flags);
    }
  }
}
