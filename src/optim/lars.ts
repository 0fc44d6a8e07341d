import type { Kernels } from '../kernels/index.js';
import { boolean, number } from '../validate.js';
import { tensorSum, trustRatio } from './norms.js';
import { STATE_CHECKS, STATE_DEFAULTS, type StateOptions } from './state.js';
import { Optimizer, type GroupState, type OptimizerSpec, type ParamGroup, type ParameterState, type ParamsInput } from './optimizer.js';

/** Options of {@link LARS} (optax.lars's, camelCase). */
export interface LARSOptions extends StateOptions {
  /** Learning rate, >= 0 (default 1, as timm's LARS; optax has no default). */
  lr: number;
  /**
   * Weight decay, >= 0: `weightDecay * p` is added to the gradient before the trust ratio
   * (default 0). optax's `weight_decay_mask` is a param group with `weightDecay: 0`.
   */
  weightDecay: number;
  /** Multiplier of the trust ratio, >= 0 (default 0.001). */
  trustCoefficient: number;
  /** Added to the gradient's norm in the trust ratio's denominator, >= 0 (default 0). */
  eps: number;
  /**
   * Scale this group's updates by the trust ratio (default true). optax's `trust_ratio_mask`
   * is a param group with `trustRatio: false` (biases and normalisation gains, usually).
   */
  trustRatio: boolean;
  /** Decay of the trace of past updates (momentum), >= 0 (default 0.9; 0: no trace). */
  momentum: number;
  /** Nesterov momentum: step by `u + momentum * trace` instead of the trace (default false). */
  nesterov: boolean;
}

/** LARS's state (`opt.state(p)`): the trace of past updates, when momentum is not 0. */
export interface LARSState extends ParameterState {
  /** optax's trace: past updates, learning rate included (a live view). */
  momentumBuffer?: Float32Array;
}

/** What LARS's constructor and `addParamGroup` accept: any of {@link LARSOptions}, the rest from the defaults. */
export type LARSOptionsInput = Partial<LARSOptions>;

const spec: OptimizerSpec<LARSOptions> = {
  name: 'LARS',
  buffers: ['momentumBuffer'],
  checks: {
    lr: number('learning rate (lr)'),
    weightDecay: number('weight decay value (weightDecay)'),
    trustCoefficient: number('trust coefficient (trustCoefficient)'),
    eps: number('epsilon value (eps)'),
    trustRatio: boolean('trustRatio'),
    momentum: number('momentum value (momentum)'),
    nesterov: boolean('nesterov'),
    ...STATE_CHECKS,
  },
};

const DEFAULTS: LARSOptions = { lr: 1, weightDecay: 0, trustCoefficient: 0.001, eps: 0, trustRatio: true, momentum: 0.9, nesterov: false, ...STATE_DEFAULTS };

/**
 * LARS, layer-wise adaptive rate scaling (You et al., 2017, "Large Batch Training of
 * Convolutional Networks"): SGD with momentum whose update is rescaled per tensor by a trust
 * ratio, the parameter's norm over the gradient's. Follows `optax.lars` (optax/_src/alias.py:
 * `add_decayed_weights`, `scale_by_trust_ratio(trust_coefficient, eps)` under
 * `trust_ratio_mask`, `scale_by_learning_rate`, `trace(momentum, nesterov)`;
 * optax/_src/transform.py), per tensor:
 *
 *     g = grad + weightDecay*p
 *     r = trustCoefficient * ‖p‖ / (‖g‖ + eps)   (1 when ‖p‖ = 0 or ‖g‖ = 0, or trustRatio is false)
 *     u = -lr * (g * r)
 *     t = u + momentum*t;   u = nesterov ? u + momentum*t : t
 *     p = p + u
 *
 * Defaults: `lr = 1, weightDecay = 0, trustCoefficient = 0.001, eps = 0, trustRatio = true,
 * momentum = 0.9, nesterov = false`. State: `momentumBuffer` (optax's trace, in the group's
 * `stateDtype`: float32, bfloat16 or int8), unless momentum is 0. As in optax, the learning rate is applied before the trace, which so holds past
 * updates with their learning rates (PyTorch's SGD keeps gradients and applies the current
 * lr to the buffer): a schedule changes the step gradually. The norms are float64 sums in the
 * kernels over fixed chunks (the same bits on both backends and every thread count); optax
 * takes them in float32. With `momentum: 0` no trace is kept (optax keeps one, multiplied by
 * 0: the same updates, except that a NaN once in the trace stays there in optax).
 *
 * @example
 * const opt = new LARS([{ params: weights, weightDecay: 1e-4 }, { params: biases, trustRatio: false }], { lr: 2 });
 * opt.step();
 */
export class LARS extends Optimizer<LARSOptions, LARSState> {
  constructor(params: ParamsInput<LARSOptions>, options?: LARSOptionsInput) {
    super(params, options, DEFAULTS, spec);
  }

  protected stateBuffers(group: ParamGroup<LARSOptions>): readonly string[] {
    return group.momentum !== 0 ? ['momentumBuffer'] : [];
  }

  protected updateGroup(group: ParamGroup<LARSOptions>, state: GroupState, kernels: Kernels): void {
    const fr = Math.fround;
    const wd = fr(group.weightDecay);
    const flags = { weightDecay: group.weightDecay !== 0, momentum: group.momentum !== 0, nesterov: group.nesterov };
    const scalars = { weightDecay: wd, negLr: fr(-group.lr), momentum: fr(group.momentum) };
    group.params.forEach((p, i) => {
      const n = p.paddedSize;
      if (n === 0) return;
      const at = { data: p.dataAddress, grad: p.gradAddress, state: state.paramOffsets[i], n };
      let ratio = 1;
      if (group.trustRatio) {
        const paramNorm = Math.sqrt(tensorSum(p.size, (o, c) => kernels.sumSquares(p.dataAddress + o, c)));
        const gradNorm = Math.sqrt(tensorSum(p.size, (o, c) => (flags.weightDecay
          ? kernels.sumSquaresDecayed(p.gradAddress + o, p.dataAddress + o, c, wd)
          : kernels.sumSquares(p.gradAddress + o, c))));
        ratio = trustRatio(paramNorm, gradNorm, group.trustCoefficient, group.eps);
      }
      kernels.lars({ param: p.dataAddress, grad: p.gradAddress, momentumBuffer: this.stateAt(state, 'momentumBuffer', at, flags.momentum) },
        n, { ...scalars, trustRatio: fr(ratio) }, flags);
    });
  }
}
