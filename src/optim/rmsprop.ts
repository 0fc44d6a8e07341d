import type { Kernels } from '../kernels/index.js';
import { boolean, number } from '../validate.js';
import { Optimizer, type GroupState, type ParameterState, type OptimizerSpec, type ParamGroup, type ParamsInput } from './optimizer.js';
import { STATE_CHECKS, STATE_DEFAULTS, type StateOptions } from './state.js';

/** Options of {@link RMSprop} (PyTorch's `torch.optim.RMSprop`, camelCase). */
export interface RMSpropOptions extends StateOptions {
  /** Learning rate, >= 0 (default 1e-2). */
  lr: number;
  /** Smoothing constant of the squared-gradient average, >= 0 (default 0.99). */
  alpha: number;
  /** Added to the denominator, >= 0 (default 1e-8). */
  eps: number;
  /** L2 penalty added to the gradient, >= 0 (default 0). */
  weightDecay: number;
  /** Momentum factor, >= 0 (default 0). */
  momentum: number;
  /** Normalise by the estimated variance (keeps `gradAvg`) (default false). */
  centered: boolean;
  /** Maximise the objective instead of minimising it (default false). */
  maximize: boolean;
}

/** The optimizer state of one parameter under {@link RMSprop} (`opt.state(p)`): live views of its buffers. */
export interface RMSpropState extends ParameterState {
  /** Average of squared gradients. */
  squareAvg: Float32Array;
  /** Momentum buffer (momentum > 0). */
  momentumBuffer?: Float32Array;
  /** Average of gradients (centered). */
  gradAvg?: Float32Array;
}

/** What RMSprop's constructor and `addParamGroup` accept: any of {@link RMSpropOptions}, the rest from the defaults. */
export type RMSpropOptionsInput = Partial<RMSpropOptions>;

const spec: OptimizerSpec<RMSpropOptions> = {
  name: 'RMSprop',
  buffers: ['squareAvg', 'momentumBuffer', 'gradAvg'],
  checks: {
    lr: number('learning rate (lr)'),
    alpha: number('alpha value (alpha)'),
    eps: number('epsilon value (eps)'),
    weightDecay: number('weight decay value (weightDecay)'),
    momentum: number('momentum value (momentum)'),
    centered: boolean('centered'),
    maximize: boolean('maximize'),
    ...STATE_CHECKS,
  },
  crossCheck: (g, c) => {
    // sq - ga*ga is a small difference of two large numbers when the gradient's variance is
    // small next to its mean: bfloat16's and int8's rounding of the two would make it negative
    // (and the step NaN). bitsandbytes' RMSprop (bitsandbytes/optim/rmsprop.py) refuses centered too.
    if (g.centered && g.stateDtype !== 'float32') {
      throw new RangeError(`${c}: centered RMSprop needs stateDtype 'float32' (got ${JSON.stringify(g.stateDtype)}): in lower precision sq - gradAvg² can turn negative`);
    }
  },
};

/**
 * RMSprop (Hinton's lecture 6e): PyTorch's `torch.optim.RMSprop`, same semantics.
 *
 *     g = maximize ? -grad : grad;   g += weightDecay * p
 *     sq = alpha*sq + (1-alpha)*g*g
 *     avg = (centered ? sqrt(sq - ga*ga), ga = alpha*ga + (1-alpha)*g : sqrt(sq)) + eps
 *     momentum > 0 ? (buf = momentum*buf + g/avg;  p -= lr*buf) : p -= lr*g/avg
 *
 * Defaults: `lr = 1e-2, alpha = 0.99, eps = 1e-8, weightDecay = 0, momentum = 0,
 * centered = false, maximize = false`. State: `squareAvg`; `momentumBuffer` only with
 * momentum > 0; `gradAvg` only when centered.
 *
 * @example
 * const opt = new RMSprop([w], { lr: 1e-3, momentum: 0.9, centered: true });
 */
export class RMSprop extends Optimizer<RMSpropOptions, RMSpropState> {
  constructor(params: ParamsInput<RMSpropOptions>, options?: Partial<RMSpropOptions>) {
    super(params, options, { lr: 1e-2, alpha: 0.99, eps: 1e-8, weightDecay: 0, momentum: 0, centered: false, maximize: false, ...STATE_DEFAULTS }, spec);
  }

  protected stateBuffers(group: ParamGroup<RMSpropOptions>): readonly string[] {
    const names = ['squareAvg'];
    if (group.momentum > 0) names.push('momentumBuffer');
    if (group.centered) names.push('gradAvg');
    return names;
  }

  protected updateGroup(group: ParamGroup<RMSpropOptions>, state: GroupState, kernels: Kernels): void {
    const fr = Math.fround;
    const flags = { maximize: group.maximize, weightDecay: group.weightDecay !== 0, centered: group.centered, momentum: group.momentum > 0 };
    const lr = fr(group.lr), alpha = fr(group.alpha), c = fr(1 - group.alpha), eps = fr(group.eps);
    const wd = fr(group.weightDecay), mu = fr(group.momentum);
    for (const run of state.runs) {
      kernels.rmsprop({
        param: this.paramAt(run), grad: this.gradAt(run), squareAvg: this.stateAt(state, 'squareAvg', run),
        gradAvg: this.stateAt(state, 'gradAvg', run, group.centered), momentumBuffer: this.stateAt(state, 'momentumBuffer', run, group.momentum > 0),
      }, run.n, { lr, alpha, oneMinusAlpha: c, eps, weightDecay: wd, momentum: mu }, flags);
    }
  }
}
