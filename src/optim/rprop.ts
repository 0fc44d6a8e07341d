import type { Kernels } from '../kernels/index.js';
import { boolean, checkNumber, invalid, number, wrongType, type Check } from '../validate.js';
import { Optimizer, type GroupState, type OptimizerSpec, type ParamGroup, type ParameterState, type ParamsInput } from './optimizer.js';

/** Options of {@link Rprop} (PyTorch's `torch.optim.Rprop`, camelCase). */
export interface RpropOptions {
  /** The step size every element starts from, >= 0 (default 1e-2); later changes have no effect, as in PyTorch. */
  lr: number;
  /** `[etaminus, etaplus]`: the step size's multiplicative decrease and increase, `0 < etaminus < 1 < etaplus` (default [0.5, 1.2]). */
  etas: [number, number];
  /** `[min, max]`: the bounds of the step sizes, `0 <= min <= max` (default [1e-6, 50]). */
  stepSizes: [number, number];
  /** Maximise the objective instead of minimising it (default false). */
  maximize: boolean;
}

/** Rprop's state (`opt.state(p)`): live views of its buffers. */
export interface RpropState extends ParameterState {
  /** The previous step's gradient (0 where its sign flipped; `-grad` with maximize). */
  prev: Float32Array;
  /** Each element's step size. */
  stepSize: Float32Array;
}

/** What Rprop's constructor and `addParamGroup` accept: any of {@link RpropOptions}, the rest from the defaults. */
export type RpropOptionsInput = Partial<RpropOptions>;

function pair(label: string, value: unknown, context: string): [unknown, unknown] {
  if (!Array.isArray(value) || value.length !== 2) wrongType(context, label, value, 'an array of two numbers');
  return value as [unknown, unknown];
}

/** PyTorch's check, `0.0 < etas[0] < 1.0 < etas[1]` ("Invalid eta values"), in the library's words. */
const etas: Check = (value, context) => {
  const [minus, plus] = pair('etas', value, context);
  checkNumber(context, 'etaminus (etas[0])', minus, { min: 0, max: 1, minExclusive: true, maxExclusive: true });
  checkNumber(context, 'etaplus (etas[1])', plus, { min: 1, minExclusive: true });
};

/** Two bounds `0 <= min <= max` (PyTorch checks nothing; a minimum above the maximum would pin every step size to the maximum). */
const stepSizes: Check = (value, context) => {
  const [lo, hi] = pair('stepSizes', value, context);
  checkNumber(context, 'smallest step size (stepSizes[0])', lo, { min: 0 });
  checkNumber(context, 'largest step size (stepSizes[1])', hi, { min: 0 });
  if ((lo as number) > (hi as number)) invalid(context, 'stepSizes', value, 'a pair [min, max] with min <= max');
};

const spec: OptimizerSpec<RpropOptions> = {
  name: 'Rprop',
  buffers: ['prev', 'stepSize'],
  checks: {
    lr: number('learning rate (lr)'),
    etas,
    stepSizes,
    maximize: boolean('maximize'),
  },
};

/**
 * Rprop, resilient backpropagation (Riedmiller & Braun, 1993, "A Direct Adaptive Method for
 * Faster Backpropagation Learning: The RPROP Algorithm"): every element has its own step size,
 * which grows while its gradient keeps its sign and shrinks when the sign flips; the parameter
 * moves by the step size against the gradient's sign, whatever the gradient's magnitude.
 * PyTorch's `torch.optim.Rprop` (torch/optim/rprop.py, `_single_tensor_rprop`; PyTorch 1.13
 * and 2.x compute the same), same semantics:
 *
 *     g = maximize ? -grad : grad
 *     g*prev > 0:  step = min(step*etaplus, max)
 *     g*prev < 0:  step = max(step*etaminus, min);  g = 0
 *     otherwise:   step unchanged (clamped to [min, max])
 *     p -= sign(g)*step;   prev = g
 *
 * Step sizes start from `lr` at the first step (PyTorch's `full_like(grad, lr)` when it creates
 * the state, so an lr a scheduler set before the first step counts); afterwards `lr` is not read.
 * Defaults: `lr = 1e-2, etas = [0.5, 1.2], stepSizes = [1e-6, 50], maximize = false`. State:
 * `prev`, `stepSize`. Rprop is meant for full-batch gradients: with mini-batches, sign flips
 * from noise shrink the steps. Differences: `stepSizes` is validated (`0 <= min <= max`), which
 * PyTorch leaves unchecked; the kernel finds the case with exact arithmetic instead of masks
 * (the same bits).
 *
 * @example
 * const opt = new Rprop([w], { lr: 0.01 });
 * for (let i = 0; i < 100; i++) { computeFullBatchGradient(); opt.step(); }
 */
export class Rprop extends Optimizer<RpropOptions, RpropState> {
  constructor(params: ParamsInput<RpropOptions>, options?: RpropOptionsInput) {
    super(params, options, { lr: 1e-2, etas: [0.5, 1.2], stepSizes: [1e-6, 50], maximize: false }, spec);
  }

  protected stateBuffers(): readonly string[] {
    return ['prev', 'stepSize'];
  }

  protected updateGroup(group: ParamGroup<RpropOptions>, state: GroupState, kernels: Kernels): void {
    const fr = Math.fround;
    const [etaminus, etaplus] = group.etas;
    const [lo, hi] = group.stepSizes;
    const scalars = { lr: fr(group.lr), etaminus: fr(etaminus), etaplus: fr(etaplus), stepSizeMin: fr(lo), stepSizeMax: fr(hi) };
    const flags = { maximize: group.maximize, first: state.step === 1 };
    for (const run of state.runs) {
      kernels.rprop({ param: this.paramAt(run), grad: this.gradAt(run), prev: this.stateAt(state, 'prev', run), stepSize: this.stateAt(state, 'stepSize', run) },
        run.n, scalars, flags);
    }
  }
}
