import { pow } from '../detmath.js';
import type { Kernels } from '../kernels/index.js';
import { powInt } from '../scalars.js';
import { betas, checkNumber, number, type Check } from '../validate.js';
import {
  Optimizer, type GroupState, type OptimizerSpec, type ParamGroup, type ParamGroupInput, type ParameterState, type ParamsInput,
} from './optimizer.js';

/** Options of {@link ScheduleFreeAdamW} (the reference implementation's, camelCase). */
export interface ScheduleFreeAdamWOptions {
  /** Learning rate, >= 0 (default 0.0025). */
  lr: number;
  /** beta1, the interpolation between z and the average x (in (0, 1)), and the second moment's decay beta2 (in [0, 1)) (default [0.9, 0.999]). */
  betas: [number, number];
  /** Added to the root of the second moment, >= 0 (default 1e-8). */
  eps: number;
  /** Weight decay, >= 0, taken at y (default 0). */
  weightDecay: number;
  /** Steps of linear learning-rate warmup, a whole number >= 0 (default 0). */
  warmupSteps: number;
  /** Power of the polynomial weighting of the average, >= 0 (default 0). */
  r: number;
  /** The average weighs each step by lr_max to this power (the warmup's lrs weigh less), >= 0 (default 2). */
  weightLrPower: number;
  /** Momentum of an average of the gradient inside the AdamW update, in [0, 1) (default 0: none, and no buffer). */
  innerMomentum: number;
}

/** Options of {@link ScheduleFreeSGD} (the reference implementation's, camelCase). */
export interface ScheduleFreeSGDOptions {
  /** Learning rate, >= 0 (default 1.0). */
  lr: number;
  /** Momentum: the interpolation between z and the average x, in (0, 1) (default 0.9). */
  momentum: number;
  /** Weight decay, >= 0, taken at y (default 0). */
  weightDecay: number;
  /** Steps of linear learning-rate warmup, a whole number >= 0 (default 0). */
  warmupSteps: number;
  /** Power of the polynomial weighting of the average, >= 0 (default 0). */
  r: number;
  /** The average weighs each step by lr_max to this power, >= 0 (default 2). */
  weightLrPower: number;
}

/**
 * The state of one parameter under a schedule-free optimizer (`opt.state(p)`): live views of
 * its buffers, and its group's scalars (float64 on the host).
 */
export interface ScheduleFreeState extends ParameterState {
  /** The base sequence z (from the first step on). */
  z: Float32Array;
  /** Second moment v (ScheduleFreeAdamW). */
  expAvgSq?: Float32Array;
  /** Inner momentum (ScheduleFreeAdamW with innerMomentum). */
  expAvg?: Float32Array;
  /** Sum of the averaging weights so far (the reference's `weight_sum`). */
  weightSum?: number;
  /** Largest (warmed-up) lr so far (the reference's `lr_max`; -1 before the first step). */
  lrMax?: number;
  /** 1 in train mode (the parameters hold y), 0 in eval mode (they hold x); the reference's `train_mode`. */
  trainMode?: number;
}

/** What ScheduleFreeAdamW's constructor and `addParamGroup` accept. */
export type ScheduleFreeAdamWOptionsInput = Partial<ScheduleFreeAdamWOptions>;
/** What ScheduleFreeSGD's constructor and `addParamGroup` accept. */
export type ScheduleFreeSGDOptionsInput = Partial<ScheduleFreeSGDOptions>;

const warmupSteps: Check = (value, context) => { checkNumber(context, 'warmupSteps', value, { min: 0, integer: true }); };

const ADAMW_SPEC: OptimizerSpec<ScheduleFreeAdamWOptions> = {
  name: 'ScheduleFreeAdamW',
  buffers: ['z', 'expAvgSq', 'expAvg'],
  scalars: ['weightSum', 'lrMax', 'trainMode'],
  checks: {
    lr: number('learning rate (lr)'),
    betas: betas(),
    eps: number('epsilon value (eps)'),
    weightDecay: number('weight decay value (weightDecay)'),
    warmupSteps,
    r: number('r'),
    weightLrPower: number('weightLrPower'),
    innerMomentum: number('innerMomentum', 0, 1),
  },
  crossCheck: (group, context) => {
    // eval() interpolates with weight 1 - 1/beta1.
    if (!(group.betas[0] > 0)) throw new RangeError(`${context}: invalid beta parameter at index 0: ${group.betas[0]} (schedule-free needs beta1 > 0: eval() interpolates with weight 1 - 1/beta1)`);
  },
};

const SGD_SPEC: OptimizerSpec<ScheduleFreeSGDOptions> = {
  name: 'ScheduleFreeSGD',
  buffers: ['z'],
  scalars: ['weightSum', 'lrMax', 'trainMode'],
  checks: {
    lr: number('learning rate (lr)'),
    // The reference: "Momentum must be between 0 and 1 exclusive".
    momentum: (value, context) => { checkNumber(context, 'momentum', value, { min: 0, max: 1, minExclusive: true, maxExclusive: true }); },
    weightDecay: number('weight_decay value (weightDecay)'),
    warmupSteps,
    r: number('r'),
    weightLrPower: number('weightLrPower'),
  },
};

const ADAMW_DEFAULTS: ScheduleFreeAdamWOptions = {
  lr: 0.0025, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0, warmupSteps: 0, r: 0, weightLrPower: 2, innerMomentum: 0,
};
const SGD_DEFAULTS: ScheduleFreeSGDOptions = { lr: 1.0, momentum: 0.9, weightDecay: 0, warmupSteps: 0, r: 0, weightLrPower: 2 };

/**
 * The shared base of {@link ScheduleFreeAdamW} and {@link ScheduleFreeSGD}: the averaging
 * weights, the train/eval switch, and the step (one kernel, `scheduleFree`, with AdamW's
 * normalisation as a flag).
 */
export abstract class ScheduleFreeBase<O extends ScheduleFreeAdamWOptions | ScheduleFreeSGDOptions> extends Optimizer<O, ScheduleFreeState> {
  /** The interpolation weight beta1 (AdamW's `betas[0]`, SGD's `momentum`) of a group. @internal */
  protected abstract beta1(group: ParamGroup<O>): number;

  /** Whether the group normalises by the second moment (AdamW). @internal */
  protected abstract readonly adam: boolean;

  /** Whether a group's parameters hold y (train mode) or x (eval mode): its books agree. */
  #training(gs: GroupState): boolean {
    return ((gs.books?.[0] ?? gs).scalars.trainMode ?? 0) === 1;
  }

  /**
   * Gives a new group the reference's initial scalars (`weight_sum = 0`, `lr_max = -1`,
   * `train_mode` false, or the mode given), in the order state dicts list them. @internal
   */
  protected initScalars(gs: GroupState, training = false): void {
    gs.scalars.weightSum = 0;
    gs.scalars.lrMax = -1;
    gs.scalars.trainMode = training ? 1 : 0;
  }

  #setTraining(gs: GroupState, on: boolean): void {
    gs.scalars.trainMode = on ? 1 : 0;
    for (const book of new Set(gs.books ?? [])) book.scalars.trainMode = on ? 1 : 0;
  }

  /**
   * True in train mode (the parameters hold y, where gradients are taken), false in eval mode
   * (they hold the average x, to evaluate or save). A new optimizer is in eval mode, as the
   * reference's: call {@link train} before the first step.
   */
  get trainMode(): boolean {
    return this.#training(this.groupStates[0]);
  }

  /**
   * Switches to train mode: every parameter with a z moves from x to y = lerp(x, z, 1 - beta1)
   * (the reference's `train()`); nothing happens in train mode already.
   */
  train(): void {
    this.#switch(true);
  }

  /**
   * Switches to eval mode: every parameter with a z moves from y to x = lerp(y, z, 1 - 1/beta1)
   * (the reference's `eval()`); nothing happens in eval mode already. Evaluate the model, and
   * save it, in eval mode.
   */
  eval(): void {
    this.#switch(false);
  }

  #switch(toTrain: boolean): void {
    const name = `${this.spec.name}.${toTrain ? 'train' : 'eval'}`;
    this.store.assertLive(name);
    this.paramGroups.forEach((group, gi) => this.validateGroup(group, this.paramGroups.length > 1 ? `${name}: param group ${gi}` : name));
    const k = this.store.kernels, fr = Math.fround;
    this.paramGroups.forEach((group, gi) => {
      const gs = this.groupStates[gi];
      if (this.#training(gs) === toTrain) return;
      const beta1 = this.beta1(group);
      // Set p to y: p.lerp_(z, 1 - beta1); set p to x: p.lerp_(z, 1 - 1/beta1).
      const weight = fr(toTrain ? 1 - beta1 : 1 - 1 / beta1);
      const largeWeight = !(Math.abs(weight) < 0.5);
      const scalars = largeWeight ? { complement: fr(1 - weight) } : { weight };
      const z = gs.buffers.get('z');
      group.params.forEach((p, i) => {
        const fresh = (gs.books?.[i] ?? gs).fresh;
        if (z === undefined || fresh.has('z')) return; // 'z' not in state: the parameter never stepped
        k.average({ avg: p.dataAddress, param: z.address + 4 * gs.paramOffsets[i] }, p.paddedSize, scalars, { largeWeight });
      });
      this.#setTraining(gs, toTrain);
    });
  }

  /** Adds a param group in the optimizer's current mode (see the class's differences from the reference). */
  override addParamGroup(input: ParamGroupInput<O>): void {
    const training = this.trainMode;
    super.addParamGroup(input);
    this.initScalars(this.groupStates[this.groupStates.length - 1], training);
  }

  /**
   * Performs one step (see {@link Optimizer.step}); throws in eval mode, as the reference does.
   * @param closure optional: re-evaluates the model and returns the loss, which `step` returns.
   */
  override step(closure?: () => number): number | undefined {
    this.store.assertLive(this.spec.name);
    this.groupStates.forEach((gs, gi) => {
      if (!this.#training(gs)) {
        throw new Error(`${this.spec.name}: the optimizer was not in train mode when step() was called${this.paramGroups.length > 1 ? ` (param group ${gi})` : ''}: ` +
          'call opt.train() before training steps and opt.eval() before evaluating or saving the model');
      }
    });
    return super.step(closure);
  }

  protected updateGroup(group: ParamGroup<O>, state: GroupState, kernels: Kernels): void {
    const fr = Math.fround;
    const g = group as ParamGroup<O> & { eps?: number; betas?: [number, number]; innerMomentum?: number };
    const k = state.step - 1; // the reference's group['k']: steps before this one
    const sched = k < group.warmupSteps ? (k + 1) / group.warmupSteps : 1;
    const lr = group.lr * sched;
    const lrMax = Math.max(lr, state.scalars.lrMax ?? -1);
    state.scalars.lrMax = lrMax;
    const weight = pow(k + 1, group.r) * pow(lrMax, group.weightLrPower);
    const weightSum = (state.scalars.weightSum ?? 0) + weight;
    state.scalars.weightSum = weightSum;
    const ckp1 = weightSum === 0 ? 0 : weight / weightSum; // the reference catches ZeroDivisionError
    const beta1 = this.beta1(group);
    const inner = this.adam ? g.innerMomentum! : 0;
    const beta2 = this.adam ? g.betas![1] : 0;
    const w = fr(ckp1);
    const flags = { adam: this.adam, innerMomentum: inner !== 0, weightDecay: group.weightDecay !== 0, largeWeight: !(Math.abs(w) < 0.5) };
    const scalars = {
      beta2: fr(beta2), oneMinusBeta2: fr(1 - beta2), biasCorrection2: fr(1 - powInt(beta2, k + 1)), eps: fr(g.eps ?? 0),
      innerMomentum: fr(inner), oneMinusInnerMomentum: fr(1 - inner), biasCorrection1: fr(1 - powInt(inner, k + 1)),
      weightDecay: fr(group.weightDecay), ckp1: w, complement: fr(1 - w), yCoef: fr(lr * (beta1 * (1 - ckp1) - 1)), lr: fr(lr),
    };
    const zFresh = state.fresh.has('z');
    for (const run of state.runs) {
      const z = this.stateAt(state, 'z', run);
      // 'z' not in state: it starts as a copy of the parameters.
      if (zFresh) kernels.copy({ dst: z, src: run.data }, run.n);
      kernels.scheduleFree({
        param: this.paramAt(run), grad: this.gradAt(run), z,
        expAvgSq: this.stateAt(state, 'expAvgSq', run, this.adam), expAvg: this.stateAt(state, 'expAvg', run, flags.innerMomentum),
      }, run.n, scalars, flags);
    }
  }
}

/**
 * Schedule-Free AdamW (Defazio et al., 2024, "The Road Less Scheduled"), following the
 * authors' `AdamWScheduleFree` (github.com/facebookresearch/schedule_free,
 * schedulefree/adamw_schedulefree.py; not the "Reference" version): no learning-rate schedule,
 * an average x of the iterates z instead, with gradients taken at their interpolation y:
 *
 *     lr_t = lr * min(1, (k+1)/warmupSteps);  lr_max = max(lr_t, lr_max)
 *     weight = (k+1)^r * lr_max^weightLrPower;  weight_sum += weight;  c = weight/weight_sum
 *     v = beta2*v + (1-beta2)*g*g;  gn = g / (sqrt(v / (1 - beta2^(k+1))) + eps)
 *     (innerMomentum: m = im*m + (1-im)*g;  gn = m / (1 - im^(k+1)) / (...))
 *     gn += weightDecay * y
 *     y = lerp(y, z, c) + lr_t*(beta1*(1 - c) - 1) * gn;   z -= lr_t * gn
 *
 * The parameters hold y in train mode and x in eval mode: call {@link train} before training
 * and {@link eval} before evaluating or saving (a new optimizer is in eval mode and `step`
 * throws there, as the reference's). Defaults (the reference's): `lr = 0.0025, betas = [0.9,
 * 0.999], eps = 1e-8, weightDecay = 0, warmupSteps = 0, r = 0, weightLrPower = 2,
 * innerMomentum = 0`. State: `z`, `expAvgSq`, `expAvg` (innerMomentum only); per group on the
 * host in float64, saved with the state: the step count k, `weightSum`, `lrMax`, `trainMode`.
 * Powers are the library's deterministic ones (the same in every engine).
 *
 * Deliberate differences: the gradient is only read (the reference divides `p.grad` in place);
 * `scheduled_lr` (for logging only) is not kept; a frozen parameter (`requiresGrad` false)
 * keeps its own k, weight sum and lr_max while frozen, as every optimizer here keeps its own
 * step count (the reference's are per group); a group added later starts in the optimizer's
 * mode (the reference's starts in eval mode whatever the others are in); beta1 must be > 0.
 *
 * @example
 * const opt = new ScheduleFreeAdamW([w, b], { lr: 0.0025, warmupSteps: 100 });
 * opt.train();
 * for (const batch of batches) { computeGradients(batch); opt.step(); }
 * opt.eval(); // evaluate and save at x
 */
export class ScheduleFreeAdamW extends ScheduleFreeBase<ScheduleFreeAdamWOptions> {
  protected readonly adam = true;

  constructor(params: ParamsInput<ScheduleFreeAdamWOptions>, options?: ScheduleFreeAdamWOptionsInput) {
    super(params, options, ADAMW_DEFAULTS, ADAMW_SPEC);
    for (const gs of this.groupStates) this.initScalars(gs);
  }

  protected beta1(group: ParamGroup<ScheduleFreeAdamWOptions>): number {
    return group.betas[0];
  }

  protected stateBuffers(group: ParamGroup<ScheduleFreeAdamWOptions>): readonly string[] {
    return group.innerMomentum !== 0 ? ['z', 'expAvgSq', 'expAvg'] : ['z', 'expAvgSq'];
  }
}

/**
 * Schedule-Free SGD (Defazio et al., 2024), following the authors' `SGDScheduleFree`
 * (github.com/facebookresearch/schedule_free, schedulefree/sgd_schedulefree.py; not the
 * "Reference" version): the weights and warmup of {@link ScheduleFreeAdamW}, with the raw
 * gradient:
 *
 *     gn = g + weightDecay * y
 *     y = lerp(y, z, c) + lr_t*(momentum*(1 - c) - 1) * gn;   z -= lr_t * gn
 *
 * Train and eval modes as {@link ScheduleFreeAdamW} (momentum in place of beta1). Defaults
 * (the reference's): `lr = 1.0, momentum = 0.9, weightDecay = 0, warmupSteps = 0, r = 0,
 * weightLrPower = 2`. State: `z`; per group: k, `weightSum`, `lrMax`, `trainMode`. The same
 * deliberate differences as {@link ScheduleFreeAdamW}.
 *
 * @example
 * const opt = new ScheduleFreeSGD([w], { lr: 1.0, warmupSteps: 50 });
 * opt.train();
 * opt.step();
 */
export class ScheduleFreeSGD extends ScheduleFreeBase<ScheduleFreeSGDOptions> {
  protected readonly adam = false;

  constructor(params: ParamsInput<ScheduleFreeSGDOptions>, options?: ScheduleFreeSGDOptionsInput) {
    super(params, options, SGD_DEFAULTS, SGD_SPEC);
    for (const gs of this.groupStates) this.initScalars(gs);
  }

  protected beta1(group: ParamGroup<ScheduleFreeSGDOptions>): number {
    return group.momentum;
  }

  protected stateBuffers(): readonly string[] {
    return ['z'];
  }
}
