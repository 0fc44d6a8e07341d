import type { Kernels } from '../kernels/index.js';
import { pow } from '../detmath.js';
import { boolean, number } from '../validate.js';
import { Optimizer, type GroupState, type OptimizerSpec, type ParamGroup, type ParameterState, type ParamsInput } from './optimizer.js';

/** Options of {@link ASGD} (PyTorch's `torch.optim.ASGD`, camelCase). */
export interface ASGDOptions {
  /** Learning rate, >= 0 (default 1e-2). */
  lr: number;
  /** Decay term, >= 0 (default 1e-4): the parameters are multiplied by 1 - lambd*eta each step, and eta decays with it. */
  lambd: number;
  /** Power of the eta decay, >= 0 (default 0.75). */
  alpha: number;
  /** The step after which averaging starts, >= 0 (default 1e6). */
  t0: number;
  /** L2 penalty added to the gradient, >= 0 (default 0). */
  weightDecay: number;
  /** Maximise the objective instead of minimising it (default false). */
  maximize: boolean;
}

/** ASGD's state (`opt.state(p)`): the averaged parameters and the step's scalars. */
export interface ASGDState extends ParameterState {
  /** The averaged parameters (a live view): a copy of the parameters until averaging starts after `t0` steps. */
  ax: Float32Array;
  /** The learning rate of the next step, lr / (1 + lambd*lr*t)^alpha (a float32 value, as PyTorch keeps it). */
  eta?: number;
  /** The averaging weight of the next step, 1 / max(1, t - t0) (a float32 value, as PyTorch keeps it). */
  mu?: number;
}

/** What ASGD's constructor and `addParamGroup` accept: any of {@link ASGDOptions}, the rest from the defaults. */
export type ASGDOptionsInput = Partial<ASGDOptions>;

const spec: OptimizerSpec<ASGDOptions> = {
  name: 'ASGD',
  buffers: ['ax'],
  scalars: ['eta', 'mu'],
  checks: {
    lr: number('learning rate (lr)'),
    lambd: number('decay term (lambd)'),
    alpha: number('eta decay power (alpha)'),
    t0: number('averaging start (t0)'),
    weightDecay: number('weight_decay value (weightDecay)'),
    maximize: boolean('maximize'),
  },
};

/**
 * ASGD, averaged stochastic gradient descent (Polyak & Juditsky, 1992, "Acceleration of
 * Stochastic Approximation by Averaging"): SGD with a decaying learning rate, and the running
 * average `ax` of the parameters from step `t0` on, which is the model to evaluate. PyTorch's
 * `torch.optim.ASGD` (torch/optim/asgd.py, `_single_tensor_asgd`; PyTorch 1.13 and 2.x compute
 * the same), same semantics:
 *
 *     g = maximize ? -grad : grad;   g += weightDecay * p
 *     p *= 1 - lambd*eta;   p -= eta*g
 *     ax = mu != 1 ? ax + (p - ax)*mu : p
 *     eta = lr / (1 + lambd*lr*t)^alpha;   mu = 1 / max(1, t - t0)      (for the next step)
 *
 * `eta` starts at `lr` and `mu` at 1 (the first step's values); both are kept per param group
 * as float32 values, as PyTorch keeps them in float32 tensors (`eta.item()` is read back as
 * that float32 value), and saved in state dicts. Defaults: `lr = 1e-2, lambd = 1e-4,
 * alpha = 0.75, t0 = 1e6, weightDecay = 0, maximize = false`. State: `ax` (also in
 * `opt.state(p).ax`), `eta`, `mu`. The power is the library's deterministic `pow`, so eta is
 * the same in every engine (it may differ from Python's `**` in the last bit of the float64,
 * which its rounding to float32 nearly always hides).
 *
 * @example
 * const opt = new ASGD([w], { lr: 0.01, t0: 100 });
 * // ... train; then evaluate with the average:
 * const averaged = opt.state(w).ax;
 */
export class ASGD extends Optimizer<ASGDOptions, ASGDState> {
  constructor(params: ParamsInput<ASGDOptions>, options?: ASGDOptionsInput) {
    super(params, options, { lr: 1e-2, lambd: 1e-4, alpha: 0.75, t0: 1e6, weightDecay: 0, maximize: false }, spec);
  }

  protected stateBuffers(): readonly string[] {
    return ['ax'];
  }

  protected updateGroup(group: ParamGroup<ASGDOptions>, state: GroupState, kernels: Kernels): void {
    const fr = Math.fround;
    const t = state.step;
    const { lr, lambd, alpha, t0 } = group;
    const eta = state.scalars.eta ?? fr(lr);
    const mu = state.scalars.mu ?? 1;
    const scalars = { weightDecay: fr(group.weightDecay), decay: fr(1 - lambd * eta), eta, mu };
    const flags = { maximize: group.maximize, weightDecay: group.weightDecay !== 0, average: mu !== 1 };
    for (const run of state.runs) {
      kernels.asgd({ param: this.paramAt(run), grad: this.gradAt(run), ax: this.stateAt(state, 'ax', run) }, run.n, scalars, flags);
    }
    state.scalars.eta = fr(lr / pow(1 + lambd * lr * t, alpha));
    state.scalars.mu = fr(1 / Math.max(1, t - t0));
  }
}
