import type { Kernels } from '../kernels/index.js';
import { boolean, number } from '../validate.js';
import { Optimizer, type GroupState, type ParameterState, type OptimizerSpec, type ParamGroup, type ParamsInput } from './optimizer.js';
import { STATE_CHECKS, STATE_DEFAULTS, type StateOptions } from './state.js';

/** Options of {@link SGD} (PyTorch's `torch.optim.SGD`, camelCase). */
export interface SGDOptions extends StateOptions {
  /** Learning rate; required, >= 0. */
  lr: number;
  /** Momentum factor, >= 0 (default 0: plain SGD). */
  momentum: number;
  /** Dampening for momentum, >= 0 (default 0). */
  dampening: number;
  /** L2 penalty added to the gradient, >= 0 (default 0). */
  weightDecay: number;
  /** Nesterov momentum (NAG); needs momentum > 0 and dampening 0 (default false). */
  nesterov: boolean;
  /** Maximise the objective instead of minimising it (default false). */
  maximize: boolean;
}

/** The optimizer state of one parameter under {@link SGD} (`opt.state(p)`): live views of its buffers. */
export interface SGDState extends ParameterState {
  /** Momentum buffer (with momentum > 0). */
  momentumBuffer?: Float32Array;
}

/** What SGD's constructor and `addParamGroup` accept: any of {@link SGDOptions}, the rest from the defaults. */
export type SGDOptionsInput = Partial<SGDOptions>;

const spec: OptimizerSpec<SGDOptions> = {
  name: 'SGD',
  buffers: ['momentumBuffer'],
  checks: {
    lr: (v, c) => {
      if (v === undefined) throw new Error(`${c}: option lr is required`);
      number('learning rate (lr)')(v, c);
    },
    momentum: number('momentum value (momentum)'),
    dampening: number('dampening value (dampening)'),
    weightDecay: number('weight decay value (weightDecay)'),
    nesterov: boolean('nesterov'),
    maximize: boolean('maximize'),
    ...STATE_CHECKS,
  },
  crossCheck: (g, c) => {
    if (g.nesterov && (g.momentum <= 0 || g.dampening !== 0)) {
      throw new Error(`${c}: Nesterov momentum requires a momentum and zero dampening (momentum: ${g.momentum}, dampening: ${g.dampening})`);
    }
  },
};

/**
 * Stochastic gradient descent, with optional momentum, dampening, Nesterov momentum (NAG)
 * and L2 weight decay: PyTorch's `torch.optim.SGD`, same semantics.
 *
 *     g = maximize ? -grad : grad;   g += weightDecay * p
 *     buf = first step ? g : momentum * buf + (1 - dampening) * g      (momentum > 0)
 *     g = nesterov ? g + momentum * buf : buf                          (momentum > 0)
 *     p -= lr * g
 *
 * Defaults: `momentum = 0, dampening = 0, weightDecay = 0, nesterov = false, maximize = false`;
 * `lr` is required. The momentum buffer (state `momentumBuffer`) exists only when momentum > 0.
 * Every parameter steps (its grad is zero until written) unless it is frozen
 * (`p.requiresGrad = false`), which PyTorch expresses by a grad of None.
 *
 * @example
 * const opt = new SGD([w, b], { lr: 0.1, momentum: 0.9, nesterov: true });
 * // each iteration: write w.grad and b.grad, then
 * opt.step();
 * opt.zeroGrad();
 */
export class SGD extends Optimizer<SGDOptions, SGDState> {
  constructor(params: ParamsInput<SGDOptions>, options: Partial<SGDOptions> & { lr: number }) {
    super(params, options, {
      lr: undefined as unknown as number, momentum: 0, dampening: 0, weightDecay: 0, nesterov: false, maximize: false, ...STATE_DEFAULTS,
    }, spec);
  }

  protected stateBuffers(group: ParamGroup<SGDOptions>): readonly string[] {
    return group.momentum !== 0 ? ['momentumBuffer'] : [];
  }

  protected updateGroup(group: ParamGroup<SGDOptions>, state: GroupState, kernels: Kernels): void {
    // A buffer no step has written yet (the first step, or momentum switched on later)
    // starts as a copy of g, as PyTorch's `buf is None` branch does.
    const first = group.momentum !== 0 && state.fresh.has('momentumBuffer');
    const flags = { maximize: group.maximize, weightDecay: group.weightDecay !== 0, momentum: group.momentum !== 0, nesterov: group.nesterov, firstStep: first };
    const lr = Math.fround(group.lr), wd = Math.fround(group.weightDecay);
    const mu = Math.fround(group.momentum), dc = Math.fround(1 - group.dampening);
    for (const run of state.runs) {
      kernels.sgd({ param: this.paramAt(run), grad: this.gradAt(run), momentumBuffer: this.stateAt(state, 'momentumBuffer', run, group.momentum !== 0) },
        run.n, { lr, weightDecay: wd, momentum: mu, dampeningComplement: dc }, flags);
    }
  }
}
