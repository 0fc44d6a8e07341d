import type { Kernels } from '../kernels/index.js';
import { powInt } from '../scalars.js';
import { betas, boolean, number } from '../validate.js';
import { Optimizer, type GroupState, type ParameterState, type OptimizerSpec, type ParamGroup, type ParamsInput } from './optimizer.js';

/** Options of {@link Adan} (the reference implementation's, camelCase). */
export interface AdanOptions {
  /** Learning rate, >= 0 (default 1e-3). */
  lr: number;
  /**
   * Decay rates of the gradient's moment, the gradient difference's moment and the second
   * moment, each in [0, 1) (default [0.98, 0.92, 0.99]: the reference's convention, where the
   * paper's β1 = 0.02, β2 = 0.08, β3 = 0.01 are one minus these).
   */
  betas: [number, number, number];
  /** Added to the denominator for numerical stability, >= 0 (default 1e-8). */
  eps: number;
  /** Decoupled weight decay, >= 0 (default 0): proximal, `p /= 1 + lr*wd` after the update, or `p *= 1 - lr*wd` before it with `noProx`. */
  weightDecay: number;
  /** Decay the weights as AdamW does, `p *= 1 - lr*wd` before the update, instead of the proximal `p /= 1 + lr*wd` after it (default false). */
  noProx: boolean;
  /** Maximise the objective instead of minimising it (default false; not in the reference). */
  maximize: boolean;
}

/** Adan's state (`opt.state(p)`): live views of its four buffers. */
export interface AdanState extends ParameterState {
  /** First moment m of the gradient. */
  expAvg: Float32Array;
  /** First moment of the gradient difference g - prevGrad. */
  expAvgDiff: Float32Array;
  /** Second moment n of g + β2·(g - prevGrad). */
  expAvgSq: Float32Array;
  /** The previous step's gradient (negated under maximize). */
  prevGrad: Float32Array;
}

/** What Adan's constructor and `addParamGroup` accept: any of {@link AdanOptions}, the rest from the defaults. */
export type AdanOptionsInput = Partial<AdanOptions>;

const BUFFERS = ['expAvg', 'expAvgDiff', 'expAvgSq', 'prevGrad'] as const;

const spec: OptimizerSpec<AdanOptions> = {
  name: 'Adan',
  buffers: BUFFERS,
  checks: {
    lr: number('learning rate (lr)'),
    betas: betas(3),
    eps: number('epsilon value (eps)'),
    weightDecay: number('weight decay value (weightDecay)'),
    noProx: boolean('noProx'),
    maximize: boolean('maximize'),
  },
};

const DEFAULTS: AdanOptions = { lr: 1e-3, betas: [0.98, 0.92, 0.99], eps: 1e-8, weightDecay: 0, noProx: false, maximize: false };

/**
 * Adan, the ADAptive Nesterov momentum algorithm (Xie et al., 2022, "Adan: Adaptive Nesterov
 * Momentum Algorithm for Faster Optimizing Deep Models"): Adam-like moments of the gradient,
 * of the gradient's difference from the previous step, and of the Nesterov-corrected gradient
 * `g + β2·(g - prevGrad)`. Follows the authors' reference implementation (github.com/sail-sg/Adan,
 * adan.py, `_single_tensor_adan`), betas in its convention (decay rates, not the paper's
 * `1 - β`):
 *
 *     g = maximize ? -grad : grad
 *     d = g - prevGrad                                  (t = 1: prevGrad = g, so d = 0)
 *     m = β1·m + (1-β1)·g
 *     diff = β2·diff + (1-β2)·d
 *     n = β3·n + (1-β3)·(g + β2·d)²
 *     denom = √n/√(1-β3ᵗ) + eps
 *     p -= lr/(1-β1ᵗ) · m/denom + lr·β2/(1-β2ᵗ) · diff/denom
 *     p /= 1 + lr·wd                                    (noProx: p *= 1 - lr·wd before the update)
 *     prevGrad = g
 *
 * Defaults (the reference's): `lr = 1e-3, betas = [0.98, 0.92, 0.99], eps = 1e-8,
 * weightDecay = 0, noProx = false, maximize = false`. State: `expAvg`, `expAvgDiff`,
 * `expAvgSq`, `prevGrad`. Deliberate differences: the reference's `max_grad_norm` (global
 * gradient clipping inside the step) is not an option; clip before stepping with
 * `clipGradNorm` (whose coefficient is `maxNorm/(norm + 1e-6)`, the reference's
 * `maxNorm/(norm + eps)`); `prevGrad` then holds the clipped gradient, as the reference's
 * `neg_pre_grad` does. The reference keeps `-g`; `prevGrad` keeps `g` (the same bits of
 * the difference). The kernel multiplies √n by `1/√(1-β3ᵗ)` and divides the sum of the two
 * terms once, where the reference divides each (a few ulps apart). `maximize` and the check
 * `weightDecay >= 0` are this library's.
 *
 * @example
 * const opt = new Adan([w, b], { lr: 1e-3, weightDecay: 0.02 });
 * opt.step();
 */
export class Adan extends Optimizer<AdanOptions, AdanState> {
  constructor(params: ParamsInput<AdanOptions>, options?: Partial<AdanOptions>) {
    super(params, options, DEFAULTS, spec);
  }

  protected stateBuffers(): readonly string[] {
    return BUFFERS;
  }

  protected updateGroup(group: ParamGroup<AdanOptions>, state: GroupState, kernels: Kernels): void {
    const fr = Math.fround;
    const t = state.step;
    const [beta1, beta2, beta3] = group.betas;
    const { lr, weightDecay } = group;
    const flags = {
      maximize: group.maximize, first: t === 1,
      decoupled: weightDecay !== 0 && group.noProx, prox: weightDecay !== 0 && !group.noProx,
    };
    const scalars = {
      beta1: fr(beta1), oneMinusBeta1: fr(1 - beta1), beta2: fr(beta2), oneMinusBeta2: fr(1 - beta2), beta3: fr(beta3), oneMinusBeta3: fr(1 - beta3),
      stepSize: fr(lr / (1 - powInt(beta1, t))), stepSizeDiff: fr((lr * beta2) / (1 - powInt(beta2, t))),
      invBiasCorrection3Sqrt: fr(1 / Math.sqrt(1 - powInt(beta3, t))), eps: fr(group.eps),
      decay: fr(1 - lr * weightDecay), proxDivisor: fr(1 + lr * weightDecay),
    };
    for (const run of state.runs) {
      kernels.adan({
        param: this.paramAt(run), grad: this.gradAt(run),
        expAvg: this.stateAt(state, 'expAvg', run), expAvgDiff: this.stateAt(state, 'expAvgDiff', run),
        expAvgSq: this.stateAt(state, 'expAvgSq', run), prevGrad: this.stateAt(state, 'prevGrad', run),
      }, run.n, scalars, flags);
    }
  }
}
