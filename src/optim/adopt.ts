import type { Kernels } from '../kernels/index.js';
import { betas, boolean, number } from '../validate.js';
import { Optimizer, type GroupState, type MomentsState, type OptimizerSpec, type ParamGroup, type ParamsInput } from './optimizer.js';
import { STATE_CHECKS, STATE_DEFAULTS, type StateOptions } from './state.js';

/** Options of {@link ADOPT} (the reference implementation's, camelCase). */
export interface ADOPTOptions extends StateOptions {
  /** Learning rate, >= 0 (default 1e-3). */
  lr: number;
  /** Lerp weight 1 - beta1 of the first moment and decay beta2 of the second, each in [0, 1) (default [0.9, 0.9999]). */
  betas: [number, number];
  /** Lower bound of sqrt(v) in the normalisation, >= 0 (default 1e-6). */
  eps: number;
  /** Weight decay, >= 0: an L2 term, or decoupled with `decoupledWeightDecay` (default 0). */
  weightDecay: number;
  /** Decay the weights directly, `p *= 1 - lr*weightDecay`, instead of the L2 term (the reference's `decouple`; default false). */
  decoupledWeightDecay: boolean;
  /** Clip the normalised gradient to ±(t-1)^0.25, the reference's default `clip_lambda` (default true; false: the unclipped original). */
  clip: boolean;
  /** Maximise the objective instead of minimising it (default false). */
  maximize: boolean;
}

/** ADOPT's state (`opt.state(p)`): the first moment, an average of normalised gradients, and the second moment. */
export type ADOPTState = MomentsState;

/** What ADOPT's constructor and `addParamGroup` accept: any of {@link ADOPTOptions}, the rest from the defaults. */
export type ADOPTOptionsInput = Partial<ADOPTOptions>;

const spec: OptimizerSpec<ADOPTOptions> = {
  name: 'ADOPT',
  buffers: ['expAvg', 'expAvgSq'],
  checks: {
    lr: number('learning rate (lr)'),
    betas: betas(),
    eps: number('epsilon value (eps)'),
    weightDecay: number('weight decay value (weightDecay)'),
    decoupledWeightDecay: boolean('decoupledWeightDecay'),
    clip: boolean('clip'),
    maximize: boolean('maximize'),
    ...STATE_CHECKS,
  },
};

const DEFAULTS: ADOPTOptions = { lr: 1e-3, betas: [0.9, 0.9999], eps: 1e-6, weightDecay: 0, decoupledWeightDecay: false, clip: true, maximize: false, ...STATE_DEFAULTS };

/**
 * ADOPT (Taniguchi et al., 2024, "ADOPT: Modified Adam Can Converge with Any β2 with the
 * Optimal Rate"): the gradient is normalised by the second moment of the steps *before* it,
 * then clipped and averaged, so the update does not correlate with its own scale. Follows the
 * authors' reference implementation (github.com/iShohei220/adopt, adopt.py,
 * `_single_tensor_adopt`, with the clipping added in November 2024):
 *
 *     g = maximize ? -grad : grad;  g += weightDecay*p        (L2, unless decoupled)
 *     t = 1:   v = g*g                                        (no update)
 *     t > 1:   p *= 1 - lr*weightDecay                        (decoupled)
 *              ng = clamp(g / max(sqrt(v), eps), ±(t-1)^0.25) (clip)
 *              m = lerp(m, ng, 1 - beta1);  p -= lr*m
 *              v = beta2*v + (1-beta2)*g*g
 *
 * Defaults (the reference's): `lr = 1e-3, betas = [0.9, 0.9999], eps = 1e-6, weightDecay = 0,
 * decoupledWeightDecay = false, clip = true, maximize = false`. State: `expAvg`, `expAvgSq`.
 * Deliberate differences: the reference takes any `clip_lambda` callable; here `clip` picks its
 * default schedule, `step**0.25`, computed as `sqrt(sqrt(t-1))` (the same in every engine), or
 * none. Decoupled decay multiplies by `1 - lr*wd` (the reference adds `-lr*wd*p`; a few ulps
 * apart), and the lerp is `m + w*(ng - m)` for every weight. The first step writes p and m back
 * unchanged.
 *
 * @example
 * const opt = new ADOPT([w, b], { lr: 1e-3 });
 * opt.step();
 */
export class ADOPT extends Optimizer<ADOPTOptions, ADOPTState> {
  constructor(params: ParamsInput<ADOPTOptions>, options?: Partial<ADOPTOptions>) {
    super(params, options, DEFAULTS, spec);
  }

  protected stateBuffers(): readonly string[] {
    return ['expAvg', 'expAvgSq'];
  }

  protected updateGroup(group: ParamGroup<ADOPTOptions>, state: GroupState, kernels: Kernels): void {
    const fr = Math.fround;
    const t = state.step;
    const [beta1, beta2] = group.betas;
    const { lr, weightDecay } = group;
    const clip = fr(Math.sqrt(Math.sqrt(t - 1)));
    const flags = {
      maximize: group.maximize, first: t === 1, clip: group.clip,
      weightDecay: weightDecay !== 0 && !group.decoupledWeightDecay, decoupled: weightDecay !== 0 && group.decoupledWeightDecay,
    };
    const scalars = {
      lr: fr(lr), oneMinusBeta1: fr(1 - beta1), beta2: fr(beta2), oneMinusBeta2: fr(1 - beta2), eps: fr(group.eps),
      clip, negClip: -clip, weightDecay: fr(weightDecay), decay: fr(1 - lr * weightDecay),
    };
    for (const run of state.runs) {
      kernels.adopt({
        param: this.paramAt(run), grad: this.gradAt(run),
        expAvg: this.stateAt(state, 'expAvg', run), expAvgSq: this.stateAt(state, 'expAvgSq', run),
      }, run.n, scalars, flags);
    }
  }
}
