import type { Kernels } from '../kernels/index.js';
import { powInt } from '../scalars.js';
import type { Parameter } from '../store.js';
import { betas, number } from '../validate.js';
import { tensorSum, trustRatio } from './norms.js';
import { STATE_CHECKS, STATE_DEFAULTS, type StateOptions } from './state.js';
import { Optimizer, type GroupState, type MomentsState, type OptimizerSpec, type ParamGroup, type ParamsInput } from './optimizer.js';

/** Options of {@link LAMB} (optax.lamb's, camelCase). */
export interface LAMBOptions extends StateOptions {
  /** Learning rate, >= 0 (default 1e-3, Keras's; optax has no default). */
  lr: number;
  /** Decay rates b1, b2 of the first and second moment estimates, each in [0, 1) (default [0.9, 0.999]). */
  betas: [number, number];
  /** Added to the denominator outside the square root, >= 0 (default 1e-6). */
  eps: number;
  /** Added to the second moment inside the square root, >= 0 (optax's `eps_root`; default 0). */
  epsRoot: number;
  /**
   * Weight decay, >= 0: `weightDecay * p` is added to the Adam update before the trust ratio
   * (default 0). optax's `mask` is a param group with `weightDecay: 0`.
   */
  weightDecay: number;
}

/** LAMB's state (`opt.state(p)`): Adam's two moments. */
export type LAMBState = MomentsState;

/** What LAMB's constructor and `addParamGroup` accept: any of {@link LAMBOptions}, the rest from the defaults. */
export type LAMBOptionsInput = Partial<LAMBOptions>;

const spec: OptimizerSpec<LAMBOptions> = {
  name: 'LAMB',
  buffers: ['expAvg', 'expAvgSq'],
  checks: {
    lr: number('learning rate (lr)'),
    betas: betas(),
    eps: number('epsilon value (eps)'),
    epsRoot: number('epsilon value inside the root (epsRoot)'),
    weightDecay: number('weight decay value (weightDecay)'),
    ...STATE_CHECKS,
  },
};

const DEFAULTS: LAMBOptions = { lr: 1e-3, betas: [0.9, 0.999], eps: 1e-6, epsRoot: 0, weightDecay: 0, ...STATE_DEFAULTS };

/**
 * LAMB (You et al., 2020, "Large Batch Optimization for Deep Learning: Training BERT in 76
 * minutes"): Adam's update, plus decayed weights, rescaled per tensor so that its norm is the
 * parameter's norm (the trust ratio), then scaled by the learning rate. Follows `optax.lamb`
 * (optax/_src/alias.py: `scale_by_adam(b1, b2, eps, eps_root)`, `add_decayed_weights`,
 * `scale_by_trust_ratio()`, `scale_by_learning_rate`; optax/_src/transform.py), per tensor:
 *
 *     m = (1-b1)*g + b1*m;   v = (1-b2)*g² + b2*v
 *     u = (m / (1 - b1^t)) / (sqrt(v / (1 - b2^t) + epsRoot) + eps) + weightDecay*p
 *     r = ‖p‖ / ‖u‖   (1 when ‖p‖ = 0 or ‖u‖ = 0)
 *     p = p - lr * (u * r)
 *
 * Defaults: `lr = 1e-3, betas = [0.9, 0.999], eps = 1e-6, epsRoot = 0, weightDecay = 0`.
 * State: `expAvg`, `expAvgSq`, in the group's `stateDtype` (float32, bfloat16 or int8; the
 * update u and the norms are float32 and float64 whatever it is). The norms are float64 sums
 * in the kernels over fixed chunks (the same bits on both backends and every thread count);
 * optax takes them in float32. Each parameter counts its own steps `t` (optax keeps one count
 * for all: the same unless some parameters are frozen). The update u goes through a scratch
 * array of the store, one parameter's size: the kernels run once per parameter.
 *
 * Keras 3's `keras.optimizers.Lamb` differs: `epsilon` defaults to 1e-7, its `weight_decay`
 * is the base optimizer's decoupled decay (`p -= lr * weightDecay * p` before the step, outside
 * the trust ratio, whose ‖p‖ then is that of the decayed weights), and a NaN norm gives a
 * trust ratio of 1 where optax (and this class) gives NaN.
 *
 * @example
 * const opt = new LAMB([{ params: weights, weightDecay: 0.01 }, { params: biases, weightDecay: 0 }], { lr: 2e-3 });
 * opt.step();
 */
export class LAMB extends Optimizer<LAMBOptions, LAMBState> {
  constructor(params: ParamsInput<LAMBOptions>, options?: LAMBOptionsInput) {
    super(params, options, DEFAULTS, spec);
  }

  protected stateBuffers(): readonly string[] {
    return ['expAvg', 'expAvgSq'];
  }

  protected updateGroup(group: ParamGroup<LAMBOptions>, state: GroupState, kernels: Kernels): void {
    const fr = Math.fround;
    const [beta1, beta2] = group.betas;
    const t = state.step;
    const scalars = {
      beta1: fr(beta1), oneMinusBeta1: fr(1 - beta1), beta2: fr(beta2), oneMinusBeta2: fr(1 - beta2),
      biasCorrection1: fr(1 - powInt(beta1, t)), biasCorrection2: fr(1 - powInt(beta2, t)),
      epsRoot: fr(group.epsRoot), eps: fr(group.eps), weightDecay: fr(group.weightDecay),
    };
    const flags = { weightDecay: group.weightDecay !== 0 };
    const negLr = fr(-group.lr);
    group.params.forEach((p: Parameter, i) => {
      const n = p.paddedSize;
      if (n === 0) return;
      const at = { data: p.dataAddress, grad: p.gradAddress, state: state.paramOffsets[i], n };
      const update = this.store.scratch('lamb.update', 4 * n);
      kernels.lamb({ param: p.dataAddress, grad: p.gradAddress, expAvg: this.stateAt(state, 'expAvg', at), expAvgSq: this.stateAt(state, 'expAvgSq', at), update }, n, scalars, flags);
      const paramNorm = Math.sqrt(tensorSum(p.size, (o, c) => kernels.sumSquares(p.dataAddress + o, c)));
      const updateNorm = Math.sqrt(tensorSum(p.size, (o, c) => kernels.sumSquares(update + o, c)));
      kernels.lars({ param: p.dataAddress, grad: update }, n, { trustRatio: fr(trustRatio(paramNorm, updateNorm, 1, 0)), negLr });
    });
  }
}
