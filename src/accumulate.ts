// Gradient accumulation: k micro-batches add up in a buffer of the arena, and every k-th call
// steps the optimizer with their mean (or sum); the calls in between change no parameter. As
// optax's MultiSteps (optax/transforms/_accumulation.py) and Keras's
// `gradient_accumulation_steps` (keras/src/optimizers/base_optimizer.py), whose arithmetic
// (acc += g; then (g + acc) / k) the `accumulate` kernel follows.
import { refuseClosureDriven } from './optim/groups.js';
import { Optimizer, type AnyOptimizer } from './optim/optimizer.js';
import { ParamBuffer, checkSavedBuffers, checkSavedParams, copyState, savedParams, type SavedParams } from './param-buffer.js';
import { checkStepOptions, policyStep, type StepOptions } from './step-arrays.js';
import type { Parameter } from './store.js';
import { checkKeys, checkNumber, checkOneOf, describe, refuse, wrongType } from './validate.js';

/** How the micro-batches of a window combine: their mean (the default) or their sum. */
export type AccumulationReduction = 'mean' | 'sum';

/** Options of {@link GradientAccumulator}: the window, and what happens around each real step. */
export interface GradientAccumulatorOptions extends StepOptions {
  /** Micro-batches per optimizer step, a whole number >= 1 (optax's `every_k_schedule` as a number, Keras's `gradient_accumulation_steps`). */
  everyK: number;
  /** `'mean'` (the default, optax's `use_grad_mean=True` and Keras's) or `'sum'`. */
  reduction?: AccumulationReduction;
}

/**
 * A gradient accumulator's saved state (optax's `MultiStepsState` without the inner state,
 * which the optimizer saves): plain data that survives `structuredClone`.
 */
export interface GradientAccumulatorStateDict extends SavedParams {
  /** Marks a gradient accumulator's state dict. */
  format: 'simdopt-accumulator';
  /** Format version (1). */
  version: 1;
  /** Micro-batches per step. */
  everyK: number;
  /** How they combine. */
  reduction: AccumulationReduction;
  /** Micro-batches accumulated since the last step (optax's `mini_step`), 0 to `everyK - 1`. */
  miniStep: number;
  /** The sum of those micro-batches' gradients, per parameter (only while `miniStep > 0`). */
  accumulated?: Float32Array[];
}

const OPTION_KEYS = ['everyK', 'reduction', 'clipGradNorm', 'clipGradValue', 'stepIfFinite', 'scheduler'];
const STATE_KEYS = ['format', 'version', 'everyK', 'reduction', 'miniStep', 'paramNames', 'paramSizes', 'paramShapes', 'accumulated'];

/**
 * Accumulates gradients over `everyK` micro-batches and steps the optimizer with their mean
 * (or sum) every `everyK`-th call, as optax's `MultiSteps` and Keras's
 * `gradient_accumulation_steps`: a batch too large for memory, split.
 *
 *     calls 1 … k-1 of a window:  acc += g                      (nothing else changes)
 *     call k:                     g = (g + acc) / k,  acc = 0     (sum: g = g + acc)
 *                                 then clip g, step (or skip it), step the scheduler
 *
 * Write each micro-batch's gradient into the parameters' `grad` and call {@link step}, which
 * returns true when it stepped. The k - 1 calls in between change no parameter, no optimizer
 * state and no scheduler; at the k-th the gradients hold the mean, which the options clip
 * (Keras clips the mean) before the optimizer steps (`stepIfFinite`: not when the mean is not
 * finite, which any Inf or NaN in a micro-batch makes it; the window is dropped and counted in
 * `optimizer.skippedSteps`), and the scheduler steps only then. With `everyK: 1` every call
 * steps, exactly as the optimizer alone would. Frozen parameters (`requiresGrad` false) are not
 * accumulated (their gradient is not read; what a parameter accumulated before it was frozen is
 * dropped at the window's end). The gradients are read, not cleared: zero them between
 * micro-batches if your backward pass adds into them.
 *
 * Differences: optax averages by a running mean (`acc + (g - acc)/(n + 1)` at every micro-batch;
 * a few ulps from Keras's sum-then-divide, which this follows); its `every_k_schedule` may be a
 * function, here `everyK` is fixed; optax's `skip_not_finite` drops a bad micro-batch and keeps
 * the window, `stepIfFinite` here drops the window (as PyTorch's GradScaler skips the step).
 *
 * @example
 * const acc = new GradientAccumulator(opt, { everyK: 4, clipGradNorm: 1, scheduler: sched });
 * for (const microBatch of microBatches) {
 *   computeGradients(microBatch);          // writes p.grad
 *   if (acc.step()) ema.updateParameters(); // true every 4th call: the optimizer stepped
 * }
 */
export class GradientAccumulator {
  /** The optimizer stepped with the accumulated gradients. */
  readonly optimizer: AnyOptimizer;
  /** Micro-batches per step. */
  readonly everyK: number;
  /** How the micro-batches combine. */
  readonly reduction: AccumulationReduction;
  readonly #options: StepOptions;
  readonly #params: readonly Parameter[];
  readonly #acc: ParamBuffer;
  #miniStep = 0;

  /**
   * @param optimizer the optimizer to step (over all its parameters, as they are now).
   * @param options `everyK` (required), `reduction = 'mean'`, and the step options of
   *   {@link StepOptions} (`clipGradNorm`, `clipGradValue`, `stepIfFinite`, `scheduler`),
   *   applied at each real step.
   */
  constructor(optimizer: AnyOptimizer, options: GradientAccumulatorOptions) {
    const context = 'GradientAccumulator';
    if (!(optimizer instanceof Optimizer)) wrongType(context, 'optimizer', optimizer, 'a simdopt optimizer');
    optimizer.store.assertLive(context);
    refuseClosureDriven(context, optimizer);
    if (options === null || typeof options !== 'object' || Array.isArray(options)) wrongType(context, 'options', options, 'an object with everyK');
    checkKeys(context, options, OPTION_KEYS);
    if (options.everyK === undefined) throw new TypeError(`${context}: option everyK is required (micro-batches per step)`);
    this.everyK = checkNumber(context, 'everyK', options.everyK, { min: 1, integer: true });
    this.reduction = checkOneOf(context, 'reduction', options.reduction ?? 'mean', ['mean', 'sum'] as const);
    const { everyK: _k, reduction: _r, ...step } = options;
    this.#options = checkStepOptions(context, step, optimizer);
    this.optimizer = optimizer;
    this.#params = Object.freeze(optimizer.paramGroups.flatMap((g) => g.params));
    this.#acc = new ParamBuffer(optimizer.store, this.#params);
  }

  /** Micro-batches accumulated since the last step (optax's `mini_step`): 0 to `everyK - 1`. */
  get miniStep(): number {
    return this.#miniStep;
  }

  #check(context: string): void {
    this.optimizer.store.assertLive(`GradientAccumulator.${context}`);
    const now = this.optimizer.paramGroups.reduce((n, g) => n + g.params.length, 0);
    if (now !== this.#params.length) {
      throw new Error(`GradientAccumulator.${context}: the optimizer has ${now} parameters, ${this.#params.length} when this accumulator was built; build a new one after addParamGroup`);
    }
  }

  /**
   * Takes one micro-batch (the gradients in the parameters' `grad` now). Returns false while
   * the window fills (nothing but the accumulator changes); at its `everyK`-th call writes the
   * mean (or sum) into the gradients, then clips, steps the optimizer (or, with
   * `stepIfFinite`, skips a non-finite step), steps the scheduler, and returns whether the
   * optimizer stepped.
   */
  step(): boolean {
    this.#check('step');
    if (this.everyK === 1) return policyStep(this.optimizer, this.#params, this.#options);
    const k = this.optimizer.store.kernels;
    const apply = this.#miniStep === this.everyK - 1;
    const scalars = { count: Math.fround(this.everyK) };
    const flags = { apply, mean: apply && this.reduction === 'mean' };
    for (const run of this.#acc.runs(true)) k.accumulate({ grad: run.grad, acc: this.#acc.at(run) }, run.n, scalars, flags);
    if (!apply) {
      this.#miniStep++;
      return false;
    }
    this.#params.forEach((p, i) => { if (!p.requiresGrad) this.#acc.view(i).fill(0); });
    this.#miniStep = 0;
    return policyStep(this.optimizer, this.#params, this.#options);
  }

  /** Drops the micro-batches accumulated so far: the next call starts a new window. */
  reset(): void {
    this.#check('reset');
    this.#params.forEach((_, i) => this.#acc.view(i).fill(0));
    this.#miniStep = 0;
  }

  /** The accumulator's state as plain data: the window, `miniStep` and, mid-window, a copy of the sums. */
  stateDict(): GradientAccumulatorStateDict {
    this.#check('stateDict');
    return {
      format: 'simdopt-accumulator', version: 1, everyK: this.everyK, reduction: this.reduction, miniStep: this.#miniStep,
      ...savedParams(this.#params), ...(this.#miniStep > 0 ? { accumulated: this.#params.map((_, i) => this.#acc.view(i).slice()) } : {}),
    };
  }

  /**
   * Restores a state from {@link stateDict} (mid-window included): the input is copied and
   * checked (format, `everyK` and reduction, parameters, `miniStep`, the sums' lengths); an
   * invalid one throws and changes nothing.
   */
  loadStateDict(input: GradientAccumulatorStateDict): void {
    this.applyStateDict(this.checkStateDict(input));
  }

  /** The checked private copy that {@link loadStateDict} applies (throws as it does). @internal */
  checkStateDict(input: unknown): GradientAccumulatorStateDict {
    const fail = refuse('GradientAccumulator.loadStateDict');
    this.#check('loadStateDict');
    const s = copyState(fail, input);
    for (const key of Object.keys(s)) if (!STATE_KEYS.includes(key)) fail(`unknown key ${JSON.stringify(key)} in the state`);
    if (s.format !== 'simdopt-accumulator') fail(`not a gradient accumulator's state dict (format ${describe(s.format)})`);
    if (s.version !== 1) fail(`unsupported state dict version ${describe(s.version)} (this library reads version 1)`);
    if (s.everyK !== this.everyK || s.reduction !== this.reduction) {
      fail(`the state was saved with everyK ${describe(s.everyK)} and reduction ${describe(s.reduction)}, this accumulator has everyK ${this.everyK} and reduction ${describe(this.reduction)}`);
    }
    if (!Number.isSafeInteger(s.miniStep) || (s.miniStep as number) < 0 || (s.miniStep as number) >= this.everyK) {
      fail(`invalid miniStep ${describe(s.miniStep)} (must be a whole number from 0 to ${this.everyK - 1})`);
    }
    checkSavedParams(fail, s, this.#params);
    if (s.miniStep === 0 && s.accumulated !== undefined) fail('accumulated sums are given at miniStep 0, where there are none');
    if ((s.miniStep as number) > 0) checkSavedBuffers(fail, s.accumulated, this.#params, 'accumulated');
    return s as unknown as GradientAccumulatorStateDict;
  }

  /** Applies a state dict returned by {@link checkStateDict}. @internal */
  applyStateDict(sd: GradientAccumulatorStateDict): void {
    this.#params.forEach((_, i) => {
      const view = this.#acc.view(i);
      if (sd.accumulated) view.set(sd.accumulated[i]);
      else view.fill(0);
    });
    this.#miniStep = sd.miniStep;
  }
}
