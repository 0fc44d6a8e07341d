import type { Kernels } from '../kernels/index.js';
import { boolean, number } from '../validate.js';
import { Optimizer, type GroupState, type ParameterState, type OptimizerSpec, type ParamGroup, type ParamsInput } from './optimizer.js';
import { STATE_CHECKS, STATE_DEFAULTS, type StateOptions } from './state.js';

/** Options of {@link Adagrad} (PyTorch's `torch.optim.Adagrad`, camelCase). */
export interface AdagradOptions extends StateOptions {
  /** Learning rate, >= 0 (default 1e-2). */
  lr: number;
  /** Learning-rate decay, >= 0: the step t uses lr / (1 + (t-1)*lrDecay) (default 0). */
  lrDecay: number;
  /** L2 penalty added to the gradient, >= 0 (default 0). */
  weightDecay: number;
  /** Starting value of the `sum` accumulator, >= 0 (default 0). */
  initialAccumulatorValue: number;
  /** Added to the denominator, >= 0 (default 1e-10). */
  eps: number;
  /** Maximise the objective instead of minimising it (default false). */
  maximize: boolean;
}

/** The optimizer state of one parameter under {@link Adagrad} (`opt.state(p)`): live views of its buffers. */
export interface AdagradState extends ParameterState {
  /** Sum of squared gradients. */
  sum: Float32Array;
}

/** What Adagrad's constructor and `addParamGroup` accept: any of {@link AdagradOptions}, the rest from the defaults. */
export type AdagradOptionsInput = Partial<AdagradOptions>;

const spec: OptimizerSpec<AdagradOptions> = {
  name: 'Adagrad',
  buffers: ['sum'],
  checks: {
    lr: number('learning rate (lr)'),
    lrDecay: number('lr_decay value (lrDecay)'),
    weightDecay: number('weight decay value (weightDecay)'),
    initialAccumulatorValue: number('initial accumulator value (initialAccumulatorValue)'),
    eps: number('epsilon value (eps)'),
    maximize: boolean('maximize'),
    ...STATE_CHECKS,
  },
};

/**
 * Adagrad (Duchi et al., 2011): PyTorch's `torch.optim.Adagrad`, same semantics.
 *
 *     g = maximize ? -grad : grad;   g += weightDecay * p
 *     clr = lr / (1 + (t-1)*lrDecay);   sum += g*g;   p -= clr * g / (sqrt(sum) + eps)
 *
 * Defaults: `lr = 1e-2, lrDecay = 0, weightDecay = 0, initialAccumulatorValue = 0,
 * eps = 1e-10, maximize = false`. State: `sum`, starting at `initialAccumulatorValue`.
 *
 * @example
 * const opt = new Adagrad([w], { lr: 0.05, lrDecay: 1e-3 });
 */
export class Adagrad extends Optimizer<AdagradOptions, AdagradState> {
  constructor(params: ParamsInput<AdagradOptions>, options?: Partial<AdagradOptions>) {
    super(params, options, { lr: 1e-2, lrDecay: 0, weightDecay: 0, initialAccumulatorValue: 0, eps: 1e-10, maximize: false, ...STATE_DEFAULTS }, spec);
  }

  protected stateBuffers(): readonly string[] {
    return ['sum'];
  }

  protected override initialValue(_name: string, group: ParamGroup<AdagradOptions>): number {
    return group.initialAccumulatorValue;
  }

  protected updateGroup(group: ParamGroup<AdagradOptions>, state: GroupState, kernels: Kernels): void {
    const fr = Math.fround;
    const clr = fr(group.lr / (1 + (state.step - 1) * group.lrDecay));
    const flags = { maximize: group.maximize, weightDecay: group.weightDecay !== 0 };
    const wd = fr(group.weightDecay), eps = fr(group.eps);
    for (const run of state.runs) {
      kernels.adagrad({ param: this.paramAt(run), grad: this.gradAt(run), sum: this.stateAt(state, 'sum', run) }, run.n, { clr, weightDecay: wd, eps }, flags);
    }
  }
}
