import type { Kernels } from '../kernels/index.js';
import { powInt } from '../scalars.js';
import { betas, boolean, checkNumber, number, type Check } from '../validate.js';
import { tensorSum } from './norms.js';
import { Optimizer, type GroupState, type OptimizerSpec, type ParamGroup, type ParameterState, type ParamsInput, type Run } from './optimizer.js';

/** Options of {@link Prodigy} (the reference implementation's, camelCase). */
export interface ProdigyOptions {
  /** Multiplier of the estimated step size d, >= 0 (default 1; leave it at 1 unless training is unstable). */
  lr: number;
  /** Decay rates of the first and second moments, each in [0, 1) (default [0.9, 0.999]; beta1 0 keeps no first moment). */
  betas: [number, number];
  /** Decay of the sums behind the estimate of d, in [0, 1), or null for sqrt(betas[1]) (default null). */
  beta3: number | null;
  /** Added to sqrt(v), times d, in the denominator, > 0 (default 1e-8). */
  eps: number;
  /** Weight decay, >= 0: decoupled, or an L2 term with `decoupledWeightDecay: false` (default 0). */
  weightDecay: number;
  /** Decay the weights directly, `p -= weightDecay * d * lr * p` (the reference's `decouple`; default true). */
  decoupledWeightDecay: boolean;
  /** Adam's bias correction in the step size (default false). */
  useBiasCorrection: boolean;
  /** Leave lr out of the sum s, against overestimates of d during a warm-up (default false). */
  safeguardWarmup: boolean;
  /** Initial estimate of d, > 0 (default 1e-6). */
  d0: number;
  /** Multiplier of the estimate of d, >= 0 (default 1; 0.5 or 2 often work too: the preferred knob). */
  dCoef: number;
  /** Largest factor d may grow by per step, > 0 (default Infinity: unlimited). */
  growthRate: number;
}

/**
 * Prodigy's state (`opt.state(p)`): per parameter `s`, `p0` (the parameter when it first
 * stepped), the moments, and the optimizer's step-size estimate as host-side float64 scalars.
 */
export interface ProdigyState extends ParameterState {
  /** Running sum of gradients weighted by the step size (a live view). */
  s: Float32Array;
  /** The parameter's values at its first step (a live view). */
  p0: Float32Array;
  /** First moment m, absent when betas[0] is 0 (a live view). */
  expAvg?: Float32Array;
  /** Second moment v (a live view). */
  expAvgSq: Float32Array;
  /** The step-size estimate d after the last step. */
  d?: number;
  /** The largest estimate of d so far. */
  dMax?: number;
  /** The numerator of the estimate, a decayed sum of (d/d0)·dlr·⟨g, p0 - p⟩. */
  dNumerator?: number;
  /** Steps that changed d (the reference's group counter k). */
  k?: number;
}

/** What Prodigy's constructor and `addParamGroup` accept: any of {@link ProdigyOptions}, the rest from the defaults. */
export type ProdigyOptionsInput = Partial<ProdigyOptions>;

const beta3: Check = (value, context) => {
  if (value !== null) checkNumber(context, 'beta3', value, { min: 0, max: 1, maxExclusive: true });
};

const spec: OptimizerSpec<ProdigyOptions> = {
  name: 'Prodigy',
  buffers: ['s', 'p0', 'expAvg', 'expAvgSq'],
  scalars: ['d', 'dMax', 'dNumerator', 'k'],
  checks: {
    lr: number('learning rate (lr)'),
    betas: betas(),
    beta3,
    eps: (value, context) => { checkNumber(context, 'epsilon value (eps)', value, { min: 0, minExclusive: true }); },
    weightDecay: number('weight decay value (weightDecay)'),
    decoupledWeightDecay: boolean('decoupledWeightDecay'),
    useBiasCorrection: boolean('useBiasCorrection'),
    safeguardWarmup: boolean('safeguardWarmup'),
    d0: (value, context) => { checkNumber(context, 'd0', value, { min: 0, minExclusive: true }); },
    dCoef: number('dCoef'),
    growthRate: (value, context) => {
      if (value !== Infinity) checkNumber(context, 'growthRate', value, { min: 0, minExclusive: true });
    },
  },
};

const DEFAULTS: ProdigyOptions = {
  lr: 1, betas: [0.9, 0.999], beta3: null, eps: 1e-8, weightDecay: 0, decoupledWeightDecay: true,
  useBiasCorrection: false, safeguardWarmup: false, d0: 1e-6, dCoef: 1, growthRate: Infinity,
};

/** The optimizer-wide estimate (the reference keeps it in every param group, reads it from the first). */
interface Estimate { d: number; dMax: number; dNumerator: number; k: number }

/** What {@link Prodigy.beginStep} hands the groups' updates. */
interface Pending {
  /** d of the previous step (dlr = d * lr * biasCorrection) and the new one (the denominator's d * eps). */
  dPrevious: number;
  biasCorrection: number;
  next: Estimate;
}

/** Python's max(a, b) and min(a, b): the first unless the second compares greater (less); a NaN second is ignored. */
const pyMax = (a: number, b: number) => (b > a ? b : a);
const pyMin = (a: number, b: number) => (b < a ? b : a);

/**
 * Prodigy (Mishchenko & Defazio, 2023, "Prodigy: An Expeditiously Adaptive Parameter-Free
 * Learner"): Adam whose step size d is estimated as it trains, from how far the parameters have
 * moved from where they started, so that `lr` stays at 1. Follows the authors' reference
 * implementation (github.com/konstmish/prodigy, prodigyopt/prodigy.py, `Prodigy.step`), in its
 * order of operations. With dlr = d·lr·bc (bc = sqrt(1 - b2^(k+1)) / (1 - b1^(k+1)) with
 * `useBiasCorrection`, else 1) and d of the previous step:
 *
 *     first, every parameter (g += weightDecay·p for the L2 form):
 *       N += (d/d0)·dlr·⟨g, p0 - p⟩       (N starts as beta3·dNumerator)
 *       m = b1·m + d(1-b1)·g;   v = b2·v + d²(1-b2)·g²
 *       s = beta3·s + (d/d0)·dlr·g        ((d/d0)·d·g with safeguardWarmup);   D += ‖s‖₁
 *     if D = 0: stop (no update, no step counted)
 *     dHat = dCoef·N/D;  d = max(d, dHat) while d = d0;  dMax = max(dMax, dHat);  d = min(dMax, d·growthRate)
 *     then every parameter, with the new d:
 *       p += -weightDecay·dlr·p            (decoupled)
 *       p += -dlr · m / (sqrt(v) + d·eps)  (beta1 = 0: -dlr·d · g / (sqrt(v) + d·eps))
 *
 * Defaults (the reference's): `lr = 1, betas = [0.9, 0.999], beta3 = null (sqrt(betas[1])),
 * eps = 1e-8, weightDecay = 0, decoupledWeightDecay = true, useBiasCorrection = false,
 * safeguardWarmup = false, d0 = 1e-6, dCoef = 1, growthRate = Infinity`. State per parameter:
 * `s`, `p0`, `expAvg` (unless betas[0] is 0), `expAvgSq`; the estimate `d`, `dMax`,
 * `dNumerator` and the counter `k` are float64 host-side scalars, saved with each parameter's
 * state (and in checkpoints) and read by {@link Prodigy.d}.
 *
 * One estimate serves all param groups, as in the reference, which reads betas, beta3,
 * decoupledWeightDecay, useBiasCorrection, d0, dCoef and growthRate from the first group
 * (d0, in part, from each group and the last: the same when they agree); weightDecay, eps and
 * safeguardWarmup are per group. Deliberate differences: the reference refuses groups whose
 * lr is neither the largest nor 0; here each group uses its own lr in dlr (the reference's
 * rule where they agree), and a group with lr 0 neither moves nor feeds the estimate (the
 * reference still moves it by its old first moment at the others' dlr). The gradient is left
 * as it is (the reference adds the L2 term into `p.grad`). The sums ⟨g, p0 - p⟩ and ‖s‖₁ are
 * float64 in the kernels, per tensor over fixed chunks, added in parameter order (the same bits
 * on both backends and every thread count), where PyTorch sums each tensor in float32; the
 * tensors are float32 as in the reference, and d and its sums float64 (Python floats) as
 * there. Frozen parameters are left out of the sums, as the reference leaves out a parameter
 * whose grad is None, so freezing one changes how the others step.
 *
 * @example
 * const opt = new Prodigy(model.parameters, { weightDecay: 0.01 });   // lr stays 1
 * const sched = new CosineAnnealingLR(opt, { tMax: totalSteps });   // scales d·lr
 * opt.step(); sched.step(); console.log(opt.d);
 */
export class Prodigy extends Optimizer<ProdigyOptions, ProdigyState> {
  #pending: Pending | undefined;

  constructor(params: ParamsInput<ProdigyOptions>, options?: ProdigyOptionsInput) {
    super(params, options, DEFAULTS, spec);
  }

  /** The current estimate of the step size d (d0 before the first step); the step is about d·lr. */
  get d(): number {
    return this.#estimate().d;
  }

  protected stateBuffers(): readonly string[] {
    return this.paramGroups[0].betas[0] > 0 ? ['s', 'p0', 'expAvg', 'expAvgSq'] : ['s', 'p0', 'expAvgSq'];
  }

  /**
   * The estimate after the last step: every group that stepped holds it in its state (its
   * parameters' books, where frozen parameters made them differ), with the step count k; a
   * frozen parameter keeps the one of its last step. The latest is the one of the largest k.
   */
  #estimate(): Estimate {
    let best: Estimate | undefined;
    const consider = (scalars: Record<string, number>) => {
      if (typeof scalars.k === 'number' && (best === undefined || scalars.k > best.k)) {
        best = { d: scalars.d, dMax: scalars.dMax, dNumerator: scalars.dNumerator, k: scalars.k };
      }
    };
    for (const gs of this.groupStates) {
      if (gs.books) for (const book of new Set(gs.books)) consider(book.scalars);
      else consider(gs.scalars);
    }
    const d0 = this.paramGroups[0].d0;
    return best ?? { d: d0, dMax: d0, dNumerator: 0, k: 0 };
  }

  /** The first loop of the reference: moments, s and the sums over all parameters; then the new d. @internal */
  protected override beginStep(kernels: Kernels): boolean {
    this.#pending = undefined;
    const fr = Math.fround;
    const first = this.paramGroups[0];
    const [beta1, beta2] = first.betas;
    const b3 = first.beta3 ?? Math.sqrt(beta2);
    const { d, dMax, dNumerator, k } = this.#estimate();
    const d0 = first.d0;
    const lr = Math.max(...this.paramGroups.map((g) => g.lr));
    const biasCorrection = first.useBiasCorrection ? Math.sqrt(1 - powInt(beta2, k + 1)) / (1 - powInt(beta1, k + 1)) : 1;
    let delta = 0, denominator = 0;
    this.paramGroups.forEach((group, gi) => {
      const gs = this.groupStates[gi];
      const stepping = group.lr > 0;
      const dlr = d * group.lr * biasCorrection;
      const wd = !first.decoupledWeightDecay ? group.weightDecay : 0;
      const scalars = {
        weightDecay: fr(wd), beta1: fr(beta1), expAvgWeight: fr(d * (1 - beta1)), beta2: fr(beta2), expAvgSqWeight: fr(d * d * (1 - beta2)),
        beta3: fr(b3), sWeight: fr(group.safeguardWarmup ? (d / d0) * d : (d / d0) * dlr),
      };
      const flags = { weightDecay: wd !== 0, firstMoment: beta1 > 0 };
      group.params.forEach((p, pi) => {
        if (!p.requiresGrad || p.paddedSize === 0) return;
        const run: Run = { data: p.dataAddress, grad: p.gradAddress, state: gs.paramOffsets[pi], n: p.paddedSize };
        const s = this.stateAt(gs, 's', run), p0 = this.stateAt(gs, 'p0', run);
        if (stepping) kernels.prodigy({ param: p.dataAddress, grad: p.gradAddress, expAvg: this.stateAt(gs, 'expAvg', run, flags.firstMoment), expAvgSq: this.stateAt(gs, 'expAvgSq', run), gradSum: s }, run.n, scalars, flags);
        // p0: the parameter at its first step (the reference's state initialisation, in a group with lr 0 too).
        if ((gs.books?.[pi] ?? gs).fresh.has('p0')) kernels.copy({ dst: p0, src: p.dataAddress }, run.n);
        if (!stepping) return;
        const dot = tensorSum(p.size, (o, c) => kernels.dotDecayedDelta(p.gradAddress + o, p.dataAddress + o, p0 + o, c, fr(wd)));
        delta += (d / d0) * dlr * dot;
        denominator += tensorSum(p.size, (o, c) => kernels.sumAbs(s + o, c));
      });
    });
    // No progress (every s is zero): the reference returns before updating anything else.
    if (denominator === 0) return false;
    const numerator = dNumerator * b3 + delta;
    let dNext = d, dMaxNext = dMax;
    if (lr > 0) {
      const dHat = (first.dCoef * numerator) / denominator;
      if (d === d0) dNext = pyMax(dNext, dHat);
      dMaxNext = pyMax(dMaxNext, dHat);
      dNext = pyMin(dMaxNext, dNext * first.growthRate);
    }
    this.#pending = { dPrevious: d, biasCorrection, next: { d: dNext, dMax: dMaxNext, dNumerator: numerator, k: k + 1 } };
    return true;
  }

  /** The second loop of the reference: decoupled decay and the update, with the new d. @internal */
  protected updateGroup(group: ParamGroup<ProdigyOptions>, state: GroupState, kernels: Kernels): void {
    const pending = this.#pending;
    if (pending === undefined) throw new Error('Prodigy: internal error: a group stepped without the step\'s estimate');
    Object.assign(state.scalars, pending.next);
    if (!(group.lr > 0)) return;
    const fr = Math.fround;
    const first = this.paramGroups[0];
    const firstMoment = first.betas[0] > 0;
    const d = pending.next.d;
    const dlr = pending.dPrevious * group.lr * pending.biasCorrection;
    const wd = group.weightDecay, decoupled = first.decoupledWeightDecay;
    const scalars = { weightDecay: fr(wd), decay: fr(-wd * dlr), dEps: fr(d * group.eps), stepSize: fr(firstMoment ? -dlr : -dlr * d) };
    const flags = { weightDecay: wd !== 0 && !decoupled && !firstMoment, decoupled: wd !== 0 && decoupled };
    for (const run of state.runs) {
      kernels.prodigyApply({
        param: run.data, direction: firstMoment ? this.stateAt(state, 'expAvg', run) : run.grad, expAvgSq: this.stateAt(state, 'expAvgSq', run),
      }, run.n, scalars, flags);
    }
  }
}
