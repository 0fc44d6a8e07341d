import type { Kernels } from '../kernels/index.js';
import { powInt } from '../scalars.js';
import { betas, boolean, number } from '../validate.js';
import { cautiousStep } from './cautious.js';
import { Optimizer, type GroupState, type MomentsState, type OptimizerSpec, type ParamGroup, type ParamsInput, type Run } from './optimizer.js';
import { STATE_CHECKS, STATE_DEFAULTS, type StateOptions } from './state.js';

/** Options of {@link AdamW} (PyTorch's, camelCase), and of {@link Adam} but for `decoupledWeightDecay`. */
export interface AdamWOptions extends StateOptions {
  /** Learning rate, >= 0 (default 1e-3). */
  lr: number;
  /** Decay rates of the first and second moment estimates, each in [0, 1) (default [0.9, 0.999]). */
  betas: [number, number];
  /** Added to the denominator for numerical stability, >= 0 (default 1e-8). */
  eps: number;
  /** Weight decay, >= 0: an L2 term for Adam (default 0), decoupled for AdamW (default 1e-2). */
  weightDecay: number;
  /** Use the AMSGrad variant (keeps `maxExpAvgSq`) (default false). */
  amsgrad: boolean;
  /** Maximise the objective instead of minimising it (default false). */
  maximize: boolean;
  /**
   * Cautious update (Liang et al., 2024): only the elements whose update agrees in sign with
   * the gradient move, scaled up by 1 / max(fraction that agrees, 1e-3) per parameter (default
   * false). See {@link Adam}.
   */
  cautious: boolean;
}

/** Options of {@link Adam} (PyTorch's `torch.optim.Adam`, camelCase). */
export interface AdamOptions extends AdamWOptions {
  /** Decay the weights directly, `p *= 1 - lr*weightDecay`, instead of the L2 term: AdamW (PyTorch 2.x's `decoupled_weight_decay`; default false). */
  decoupledWeightDecay: boolean;
}

/** The optimizer state of one parameter under {@link Adam} (`opt.state(p)`): live views of its buffers. */
export interface AdamState extends MomentsState {
  /** Running maximum of v (amsgrad). */
  maxExpAvgSq?: Float32Array;
}

/** What Adam's constructor and `addParamGroup` accept: any of {@link AdamOptions}, the rest from the defaults. */
export type AdamOptionsInput = Partial<AdamOptions>;

/** What AdamW's constructor and `addParamGroup` accept: any of {@link AdamWOptions}, the rest from the defaults. */
export type AdamWOptionsInput = Partial<AdamWOptions>;

const ADAMW_CHECKS: Omit<OptimizerSpec<AdamWOptions>['checks'], keyof StateOptions> = {
  lr: number('learning rate (lr)'),
  betas: betas(),
  eps: number('epsilon value (eps)'),
  weightDecay: number('weight decay value (weightDecay)'),
  amsgrad: boolean('amsgrad'),
  maximize: boolean('maximize'),
  cautious: boolean('cautious'),
};

const ADAM_SPEC: OptimizerSpec<AdamOptions> = {
  name: 'Adam',
  buffers: ['expAvg', 'expAvgSq', 'maxExpAvgSq'],
  checks: { ...ADAMW_CHECKS, decoupledWeightDecay: boolean('decoupledWeightDecay'), ...STATE_CHECKS },
  addedOptions: { cautious: false, decoupledWeightDecay: false },
};
const ADAMW_SPEC: OptimizerSpec<AdamWOptions> = {
  name: 'AdamW',
  buffers: ['expAvg', 'expAvgSq', 'maxExpAvgSq'],
  checks: { ...ADAMW_CHECKS, ...STATE_CHECKS },
  addedOptions: { cautious: false },
};
const ADAMW_DEFAULTS: AdamWOptions = { lr: 1e-3, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 1e-2, amsgrad: false, maximize: false, cautious: false, ...STATE_DEFAULTS };
const ADAM_DEFAULTS: AdamOptions = { ...ADAMW_DEFAULTS, weightDecay: 0, decoupledWeightDecay: false };

/**
 * The shared base of {@link Adam} and {@link AdamW}, which differ only in how weight decay
 * applies (`opt instanceof AdamBase` holds for both).
 */
export abstract class AdamBase<O extends AdamWOptions = AdamOptions> extends Optimizer<O, AdamState> {
  protected stateBuffers(group: ParamGroup<O>): readonly string[] {
    return group.amsgrad ? ['expAvg', 'expAvgSq', 'maxExpAvgSq'] : ['expAvg', 'expAvgSq'];
  }

  /** Whether a group's weight decay is decoupled. @internal */
  protected abstract decoupled(group: ParamGroup<O>): boolean;

  protected updateGroup(group: ParamGroup<O>, state: GroupState, kernels: Kernels): void {
    const at = (run: Run) => ({
      param: this.paramAt(run), grad: this.gradAt(run), expAvg: this.stateAt(state, 'expAvg', run), expAvgSq: this.stateAt(state, 'expAvgSq', run),
      maxExpAvgSq: this.stateAt(state, 'maxExpAvgSq', run, group.amsgrad),
    });
    const decoupled = this.decoupled(group);
    if (!group.cautious) {
      stepAdam(kernels, group, state.step, decoupled, state.runs, at);
      return;
    }
    cautiousStep(this.store, kernels, group.params, state, (run, masked) => stepAdam(kernels, group, state.step, decoupled, [run], (r) => ({ ...at(r), masked })));
  }
}

/** The Adam options {@link stepAdam} reads. @internal */
export type AdamStepOptions = Pick<AdamWOptions, 'lr' | 'betas' | 'eps' | 'weightDecay' | 'amsgrad' | 'maximize'>;

/**
 * One Adam (or, `decoupled`, AdamW) step at step count `t` over `runs`, whose arrays `at`
 * gives: the update of {@link Adam} and {@link AdamW}, shared with optimizers that run Adam on
 * some of their parameters. With a `masked` array, the first pass of a cautious step (the
 * kernel's `cautious` flag; see cautious.ts). @internal
 */
export function stepAdam(kernels: Kernels, group: AdamStepOptions, t: number, decoupled: boolean, runs: readonly Run[],
  at: (run: Run) => { param: number; grad: number; expAvg: number; expAvgSq: number; maxExpAvgSq: number; masked?: number }): void {
  const [beta1, beta2] = group.betas;
  const { lr, eps, weightDecay } = group;
  const fr = Math.fround;
  const stepSize = lr / (1 - powInt(beta1, t));
  const invBiasCorrection2Sqrt = 1 / Math.sqrt(1 - powInt(beta2, t));
  const flags = { maximize: group.maximize, amsgrad: group.amsgrad, weightDecay: weightDecay !== 0 && !decoupled, decoupled: weightDecay !== 0 && decoupled };
  const b1 = fr(beta1), c1 = fr(1 - beta1), b2 = fr(beta2), c2 = fr(1 - beta2);
  const ss = fr(stepSize), bc = fr(invBiasCorrection2Sqrt), ep = fr(eps), wd = fr(weightDecay);
  const factor = fr(1 - lr * weightDecay);
  for (const run of runs) {
    const arrays = at(run);
    kernels.adam(arrays, run.n, { beta1: b1, oneMinusBeta1: c1, beta2: b2, oneMinusBeta2: c2, stepSize: ss, invBiasCorrection2Sqrt: bc, eps: ep, weightDecay: wd, decay: factor },
      arrays.masked === undefined ? flags : { ...flags, cautious: true });
  }
}

/**
 * Adam (Kingma & Ba, 2014), with optional AMSGrad, L2 or decoupled weight decay, and the
 * cautious mask: PyTorch's `torch.optim.Adam`, same semantics.
 *
 *     g = maximize ? -grad : grad;   g += weightDecay * p     (or p *= 1 - lr*weightDecay, decoupled)
 *     m = b1*m + (1-b1)*g;   v = b2*v + (1-b2)*g*g;   vmax = max(vmax, v) (amsgrad)
 *     u = (lr / (1 - b1^t)) * m / (sqrt(v or vmax) / sqrt(1 - b2^t) + eps)
 *     p -= u                                                 (cautious: p -= u * mask, below)
 *
 * Defaults: `lr = 1e-3, betas = [0.9, 0.999], eps = 1e-8, weightDecay = 0, amsgrad = false,
 * maximize = false, cautious = false, decoupledWeightDecay = false`. State: `expAvg`,
 * `expAvgSq`, and `maxExpAvgSq` with amsgrad. `b1^t` and `b2^t` use the group's current betas
 * (so cycling `betas[0]` behaves as in PyTorch) and are computed by exact-in-every-engine
 * binary powering. One deliberate difference: the kernel multiplies `sqrt(v)` by
 * `1 / sqrt(1 - b2^t)` instead of dividing by `sqrt(1 - b2^t)` (one division per element
 * fewer; results move by about one ulp).
 *
 * `decoupledWeightDecay: true` is PyTorch 2.x's `Adam(decoupled_weight_decay=True)`: the same
 * step as {@link AdamW}, bit for bit (AdamW is this class's step with the flag always set).
 *
 * `cautious: true` is the cautious optimizer of Liang et al., 2024 ("Cautious Optimizers:
 * Improving Training with One Line of Code"; the authors' reference github.com/kyleliang919/C-Optim,
 * c_adamw.py): per parameter tensor,
 *
 *     mask = u*g > 0 ? 1 : 0;   p -= u * mask * f32(1 / max(mean(mask), 1e-3))
 *
 * (weight decay as without it). The mean is a count of agreeing elements, exact, so the
 * result is the same on both backends and any thread count. Differences from the reference:
 * it tests `exp_avg * grad > 0`, which has the sign of `u * g` (u is a positive multiple of m)
 * except where a float32 product underflows to zero or u is NaN; its mean is float32 and the
 * mask multiplies m before the division, here the factor is computed once in float64 and
 * multiplies u (a few ulps apart); the rest of the step is PyTorch's Adam, not the reference
 * file's Hugging Face AdamW (which adds eps before the bias correction). A cautious step
 * makes three passes over each parameter (the update into a scratch array, a count, the
 * masked apply) instead of one.
 *
 * @example
 * const opt = new Adam([w, b], { lr: 3e-4 });
 * opt.step();
 */
export class Adam extends AdamBase<AdamOptions> {
  constructor(params: ParamsInput<AdamOptions>, options?: AdamOptionsInput) {
    super(params, options, ADAM_DEFAULTS, ADAM_SPEC);
  }

  protected decoupled(group: ParamGroup<AdamOptions>): boolean {
    return group.decoupledWeightDecay;
  }
}

/**
 * AdamW (Loshchilov & Hutter, 2019): Adam with decoupled weight decay, PyTorch's
 * `torch.optim.AdamW`. The options of {@link Adam} but `decoupledWeightDecay` (always on),
 * and `weightDecay` defaults to 1e-2 and decays the parameters directly, before the Adam
 * update: `p *= 1 - lr * weightDecay`. `cautious` as for {@link Adam} (the reference's C-AdamW).
 *
 * @example
 * const opt = new AdamW([w], { lr: 1e-3, weightDecay: 0.05 });
 */
export class AdamW extends AdamBase<AdamWOptions> {
  constructor(params: ParamsInput<AdamWOptions>, options?: AdamWOptionsInput) {
    super(params, options, ADAMW_DEFAULTS, ADAMW_SPEC);
  }

  protected decoupled(): boolean {
    return true;
  }
}
