import type { Kernels } from '../kernels/index.js';
import { betas, boolean, number } from '../validate.js';
import { cautiousStep } from './cautious.js';
import { Optimizer, type GroupState, type ParameterState, type OptimizerSpec, type ParamGroup, type ParamsInput, type Run } from './optimizer.js';
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
  /** Cautious update (Liang et al., 2024): only the elements whose update agrees in sign with the gradient move (default false). See {@link Lion}. */
  cautious: boolean;
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
    cautious: boolean('cautious'),
    ...STATE_CHECKS,
  },
  addedOptions: { cautious: false },
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
 * betas = [0.9, 0.99], weightDecay = 0, maximize = false, cautious = false`. State: `expAvg`.
 *
 * `cautious: true` is the cautious Lion of Liang et al., 2024 (github.com/kyleliang919/C-Optim,
 * c_lion.py): per parameter tensor, with c = b1*m + (1-b1)*g,
 *
 *     mask = sign(c)*g > 0 ? 1 : 0;   p -= lr * sign(c) * mask * f32(1 / max(mean(mask), 1e-3))
 *
 * The reference's c_lion.py scales by `numel / (sum(mask) + 1)`, the scaling its c_adamw.py
 * keeps only "for record" and replaces by the clamped mean; the clamped mean is what this uses
 * for every cautious optimizer (as timm's cautious optimizers do). See {@link Adam} for how the
 * mean is computed.
 *
 * @example
 * const opt = new Lion([w], { lr: 3e-5, weightDecay: 0.1 });
 */
export class Lion extends Optimizer<LionOptions, LionState> {
  constructor(params: ParamsInput<LionOptions>, options?: Partial<LionOptions>) {
    super(params, options, { lr: 1e-4, betas: [0.9, 0.99], weightDecay: 0, maximize: false, cautious: false, ...STATE_DEFAULTS }, spec);
  }

  protected stateBuffers(): readonly string[] {
    return ['expAvg'];
  }

  protected updateGroup(group: ParamGroup<LionOptions>, state: GroupState, kernels: Kernels): void {
    const fr = Math.fround;
    const [beta1, beta2] = group.betas;
    const flags = { maximize: group.maximize, decoupled: group.weightDecay !== 0 };
    const scalars = { lr: fr(group.lr), beta1: fr(beta1), oneMinusBeta1: fr(1 - beta1), beta2: fr(beta2), oneMinusBeta2: fr(1 - beta2), decay: fr(1 - group.lr * group.weightDecay) };
    const at = (run: Run) => ({ param: this.paramAt(run), grad: this.gradAt(run), expAvg: this.stateAt(state, 'expAvg', run) });
    if (!group.cautious) {
      for (const run of state.runs) kernels.lion(at(run), run.n, scalars, flags);
      return;
    }
    cautiousStep(this.store, kernels, group.params, state, (run, masked) => kernels.lion({ ...at(run), masked }, run.n, scalars, { ...flags, cautious: true }));
  }
}
