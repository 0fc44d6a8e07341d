import { log, pow } from '../detmath.js';
import type { Kernels } from '../kernels/index.js';
import { powInt } from '../scalars.js';
import { betas, boolean, checkNumber, number, type Check } from '../validate.js';
import { STATE_CHECKS, STATE_DEFAULTS, type StateOptions } from './state.js';
import { Optimizer, type GroupState, type ParameterState, type OptimizerSpec, type ParamGroup, type ParamsInput } from './optimizer.js';

/** Options of {@link AdEMAMix} (the reference implementation's, camelCase). */
export interface AdEMAMixOptions extends StateOptions {
  /** Learning rate, >= 0 (default 1e-3). */
  lr: number;
  /** Decay rates of the fast EMA, the second moment and the slow EMA, each in [0, 1) (default [0.9, 0.999, 0.9999]). */
  betas: [number, number, number];
  /** Weight of the slow EMA in the update, >= 0 (default 2, the reference class's; the paper uses 5 to 10). */
  alpha: number;
  /** Steps over which alpha rises linearly from 0 (`T_alpha`; a whole number >= 0, default 0: no warmup). */
  alphaWarmup: number;
  /** Steps over which beta3 rises from beta1 to betas[2], linearly in half-life (`T_beta3`; a whole number >= 0, default 0: no warmup). */
  beta3Warmup: number;
  /** Added to the denominator for numerical stability, >= 0 (default 1e-8). */
  eps: number;
  /** Decoupled weight decay, >= 0: `wd·p` joins the update that lr scales, as AdamW (default 0). */
  weightDecay: number;
  /** Maximise the objective instead of minimising it (default false; not in the reference). */
  maximize: boolean;
}

/** AdEMAMix's state (`opt.state(p)`): live views of its buffers. */
export interface AdEMAMixState extends ParameterState {
  /** Fast EMA m1 of the gradient (absent while betas[0] is 0: m1 is then the gradient itself). */
  expAvgFast?: Float32Array;
  /** Slow EMA m2 of the gradient. */
  expAvgSlow: Float32Array;
  /** Second moment nu. */
  expAvgSq: Float32Array;
}

/** What AdEMAMix's constructor and `addParamGroup` accept: any of {@link AdEMAMixOptions}, the rest from the defaults. */
export type AdEMAMixOptionsInput = Partial<AdEMAMixOptions>;

function warmup(label: string): Check {
  return (value, context) => { checkNumber(context, label, value, { min: 0, integer: true }); };
}

const spec: OptimizerSpec<AdEMAMixOptions> = {
  name: 'AdEMAMix',
  buffers: ['expAvgFast', 'expAvgSlow', 'expAvgSq'],
  checks: {
    lr: number('learning rate (lr)'),
    betas: betas(3),
    alpha: number('alpha value (alpha)'),
    alphaWarmup: warmup('alphaWarmup'),
    beta3Warmup: warmup('beta3Warmup'),
    eps: number('epsilon value (eps)'),
    weightDecay: number('weight decay value (weightDecay)'),
    maximize: boolean('maximize'),
    ...STATE_CHECKS,
  },
};

const DEFAULTS: AdEMAMixOptions = {
  lr: 1e-3, betas: [0.9, 0.999, 0.9999], alpha: 2, alphaWarmup: 0, beta3Warmup: 0, eps: 1e-8, weightDecay: 0, maximize: false, ...STATE_DEFAULTS,
};

/**
 * AdEMAMix's alpha at step `t` (1-based): the reference's `linear_warmup_scheduler(t,
 * alpha_end=alpha, alpha_start=0, warmup)`, rising linearly from 0 and reaching `alpha` at
 * step `warmup`; `alpha` throughout when `warmup` is 0.
 *
 * @example
 * ademamixAlpha(50, 5, 100); // 2.5
 */
export function ademamixAlpha(t: number, alpha: number, warmup: number): number {
  if (t < warmup) {
    const a = t / warmup;
    return (1 - a) * 0 + a * alpha; // as the reference writes it, with alpha_start = 0
  }
  return alpha;
}

/**
 * AdEMAMix's beta3 at step `t` (1-based): the reference's `linear_hl_warmup_scheduler(t,
 * beta_end=beta3, beta_start=beta1, warmup)`, which moves the EMA's half-life
 * `f(β) = ln(0.5)/ln(β + 1e-8) - 1` linearly from beta1's to beta3's and maps it back with
 * `f⁻¹(h) = 0.5^(1/(h + 1))`; `beta3` throughout when `warmup` is 0. In float64 from the
 * library's deterministic `log` and `pow`, so every engine gets the same value.
 *
 * @example
 * ademamixBeta3(1000, 0.9999, 0.9, 10000); // ≈ 0.99901 (half-life ≈ 700 steps)
 */
export function ademamixBeta3(t: number, beta3: number, beta1: number, warmup: number): number {
  if (t < warmup) {
    const f = (beta: number): number => log(0.5) / log(beta + 1e-8) - 1;
    const fInv = (h: number): number => pow(0.5, 1 / (h + 1));
    const a = t / warmup;
    return fInv((1 - a) * f(beta1) + a * f(beta3));
  }
  return beta3;
}

/**
 * AdEMAMix (Pagliardini, Ablin and Grangier, 2024, "The AdEMAMix Optimizer: Better, Faster,
 * Older"): Adam whose numerator mixes the usual fast EMA of the gradient with a slow one
 * (beta3 near 1) that remembers gradients for tens of thousands of steps. Follows the
 * authors' PyTorch reference (github.com/apple/ml-ademamix, pytorch/ademamix.py, `AdEMAMix`):
 *
 *     g = maximize ? -grad : grad
 *     α = ademamixAlpha(t, alpha, alphaWarmup);  β3 = ademamixBeta3(t, betas[2], β1, beta3Warmup)
 *     m1 = β1·m1 + (1-β1)·g                    (β1 = 0: no buffer, m1 = g)
 *     m2 = β3·m2 + (1-β3)·g
 *     v = β2·v + (1-β2)·g²
 *     u = (m1/(1-β1ᵗ) + α·m2) / (√v/√(1-β2ᵗ) + eps) + wd·p
 *     p -= lr·u
 *
 * The slow EMA has no bias correction, as in the paper. Defaults (the reference class's):
 * `lr = 1e-3, betas = [0.9, 0.999, 0.9999], alpha = 2, alphaWarmup = 0, beta3Warmup = 0,
 * eps = 1e-8, weightDecay = 0, maximize = false`; the paper's runs use alpha 5 to 8 with both
 * warmups set to the length of training. State: `expAvgFast` (unless betas[0] is 0),
 * `expAvgSlow`, `expAvgSq`. Deliberate differences: a warmup of 0 means none (the
 * reference's `None`; a warmup of 0 there behaves the same); the schedules' logarithm and
 * power are the library's deterministic ones (within a few ulps of Python's `math`); the
 * kernel multiplies by `1/(1-β1ᵗ)` and `1/√(1-β2ᵗ)` where the reference divides (a few ulps
 * apart); `wd·p` is not added when weightDecay is 0; `maximize` is this library's. A group
 * that starts with β1 = 0 and later sets it allocates `expAvgFast`, zeroed, at that step
 * (the reference fails).
 *
 * @example
 * const steps = 100_000;
 * const opt = new AdEMAMix([w, b], { lr: 1e-3, alpha: 8, alphaWarmup: steps, beta3Warmup: steps, weightDecay: 0.1 });
 * opt.step();
 */
export class AdEMAMix extends Optimizer<AdEMAMixOptions, AdEMAMixState> {
  constructor(params: ParamsInput<AdEMAMixOptions>, options?: Partial<AdEMAMixOptions>) {
    super(params, options, DEFAULTS, spec);
  }

  protected stateBuffers(group: ParamGroup<AdEMAMixOptions>): readonly string[] {
    return group.betas[0] !== 0 ? ['expAvgFast', 'expAvgSlow', 'expAvgSq'] : ['expAvgSlow', 'expAvgSq'];
  }

  protected updateGroup(group: ParamGroup<AdEMAMixOptions>, state: GroupState, kernels: Kernels): void {
    const fr = Math.fround;
    const t = state.step;
    const [beta1, beta2, beta3Final] = group.betas;
    const { lr, weightDecay } = group;
    const alpha = ademamixAlpha(t, group.alpha, group.alphaWarmup);
    const beta3 = ademamixBeta3(t, beta3Final, beta1, group.beta3Warmup);
    const fast = beta1 !== 0;
    const flags = { maximize: group.maximize, fast, weightDecay: weightDecay !== 0 };
    const scalars = {
      lr: fr(lr), beta1: fr(beta1), oneMinusBeta1: fr(1 - beta1), beta2: fr(beta2), oneMinusBeta2: fr(1 - beta2),
      beta3: fr(beta3), oneMinusBeta3: fr(1 - beta3), alpha: fr(alpha),
      invBiasCorrection1: fr(1 / (1 - powInt(beta1, t))), invBiasCorrection2Sqrt: fr(1 / Math.sqrt(1 - powInt(beta2, t))),
      eps: fr(group.eps), weightDecay: fr(weightDecay),
    };
    for (const run of state.runs) {
      kernels.ademamix({
        param: this.paramAt(run), grad: this.gradAt(run),
        expAvgFast: this.stateAt(state, 'expAvgFast', run, fast),
        expAvgSlow: this.stateAt(state, 'expAvgSlow', run), expAvgSq: this.stateAt(state, 'expAvgSq', run),
      }, run.n, scalars, flags);
    }
  }
}
