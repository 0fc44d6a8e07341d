import type { Kernels } from '../kernels/index.js';
import { powInt } from '../scalars.js';
import { betas, boolean, number } from '../validate.js';
import { Optimizer, type GroupState, type MomentsState, type OptimizerSpec, type ParamGroup, type ParamsInput, type Run } from './optimizer.js';
import { STATE_CHECKS, STATE_DEFAULTS, type StateOptions } from './state.js';

/** Options of {@link Adam} and {@link AdamW} (PyTorch's, camelCase). */
export interface AdamOptions extends StateOptions {
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
}

/** The optimizer state of one parameter under {@link Adam} (`opt.state(p)`): live views of its buffers. */
export interface AdamState extends MomentsState {
  /** Running maximum of v (amsgrad). */
  maxExpAvgSq?: Float32Array;
}

/** What Adam's constructor and `addParamGroup` accept: any of {@link AdamOptions}, the rest from the defaults. */
export type AdamOptionsInput = Partial<AdamOptions>;

function makeSpec(name: string): OptimizerSpec<AdamOptions> {
  return {
    name,
    buffers: ['expAvg', 'expAvgSq', 'maxExpAvgSq'],
    checks: {
      lr: number('learning rate (lr)'),
      betas: betas(),
      eps: number('epsilon value (eps)'),
      weightDecay: number('weight decay value (weightDecay)'),
      amsgrad: boolean('amsgrad'),
      maximize: boolean('maximize'),
      ...STATE_CHECKS,
    },
  };
}

const ADAM_SPEC = makeSpec('Adam');
const ADAMW_SPEC = makeSpec('AdamW');
const ADAM_DEFAULTS: AdamOptions = { lr: 1e-3, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0, amsgrad: false, maximize: false, ...STATE_DEFAULTS };

/**
 * The shared base of {@link Adam} and {@link AdamW}, which differ only in how weight decay
 * applies (`opt instanceof AdamBase` holds for both).
 */
export abstract class AdamBase extends Optimizer<AdamOptions, AdamState> {
  /** @internal */
  protected constructor(params: ParamsInput<AdamOptions>, options: Partial<AdamOptions> | undefined, defaults: AdamOptions,
    spec: OptimizerSpec<AdamOptions>, private readonly decoupled: boolean) {
    super(params, options, defaults, spec);
  }

  protected stateBuffers(group: ParamGroup<AdamOptions>): readonly string[] {
    return group.amsgrad ? ['expAvg', 'expAvgSq', 'maxExpAvgSq'] : ['expAvg', 'expAvgSq'];
  }

  protected updateGroup(group: ParamGroup<AdamOptions>, state: GroupState, kernels: Kernels): void {
    stepAdam(kernels, group, state.step, this.decoupled, state.runs, (run) => ({
      param: this.paramAt(run), grad: this.gradAt(run), expAvg: this.stateAt(state, 'expAvg', run), expAvgSq: this.stateAt(state, 'expAvgSq', run),
      maxExpAvgSq: this.stateAt(state, 'maxExpAvgSq', run, group.amsgrad),
    }));
  }
}

/** The Adam options {@link stepAdam} reads. @internal */
export type AdamStepOptions = Pick<AdamOptions, 'lr' | 'betas' | 'eps' | 'weightDecay' | 'amsgrad' | 'maximize'>;

/**
 * One Adam (or, `decoupled`, AdamW) step at step count `t` over `runs`, whose arrays `at`
 * gives: the update of {@link Adam} and {@link AdamW}, shared with optimizers that run Adam on
 * some of their parameters. @internal
 */
export function stepAdam(kernels: Kernels, group: AdamStepOptions, t: number, decoupled: boolean, runs: readonly Run[],
  at: (run: Run) => { param: number; grad: number; expAvg: number; expAvgSq: number; maxExpAvgSq: number }): void {
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
    kernels.adam(at(run), run.n, { beta1: b1, oneMinusBeta1: c1, beta2: b2, oneMinusBeta2: c2, stepSize: ss, invBiasCorrection2Sqrt: bc, eps: ep, weightDecay: wd, decay: factor }, flags);
  }
}

/**
 * Adam (Kingma & Ba, 2014), with optional AMSGrad and L2 weight decay: PyTorch's
 * `torch.optim.Adam`, same semantics.
 *
 *     g = maximize ? -grad : grad;   g += weightDecay * p
 *     m = b1*m + (1-b1)*g;   v = b2*v + (1-b2)*g*g;   vmax = max(vmax, v) (amsgrad)
 *     p -= (lr / (1 - b1^t)) * m / (sqrt(v or vmax) / sqrt(1 - b2^t) + eps)
 *
 * Defaults: `lr = 1e-3, betas = [0.9, 0.999], eps = 1e-8, weightDecay = 0, amsgrad = false,
 * maximize = false`. State: `expAvg`, `expAvgSq`, and `maxExpAvgSq` with amsgrad. `b1^t`
 * and `b2^t` use the group's current betas (so cycling `betas[0]` behaves as in PyTorch) and
 * are computed by exact-in-every-engine binary powering. One deliberate difference: the kernel
 * multiplies `sqrt(v)` by `1 / sqrt(1 - b2^t)` instead of dividing by `sqrt(1 - b2^t)`
 * (one division per element fewer; results move by about one ulp).
 *
 * @example
 * const opt = new Adam([w, b], { lr: 3e-4 });
 * opt.step();
 */
export class Adam extends AdamBase {
  constructor(params: ParamsInput<AdamOptions>, options?: Partial<AdamOptions>) {
    super(params, options, ADAM_DEFAULTS, ADAM_SPEC, false);
  }
}

/**
 * AdamW (Loshchilov & Hutter, 2019): Adam with decoupled weight decay, PyTorch's
 * `torch.optim.AdamW`. Same options as {@link Adam}, but `weightDecay` defaults to 1e-2 and
 * decays the parameters directly, before the Adam update: `p *= 1 - lr * weightDecay`.
 *
 * @example
 * const opt = new AdamW([w], { lr: 1e-3, weightDecay: 0.05 });
 */
export class AdamW extends AdamBase {
  constructor(params: ParamsInput<AdamOptions>, options?: Partial<AdamOptions>) {
    super(params, options, { ...ADAM_DEFAULTS, weightDecay: 1e-2 }, ADAMW_SPEC, true);
  }
}
