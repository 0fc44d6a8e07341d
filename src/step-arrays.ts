// Stepping an optimizer for another tensor library: its gradients come in as Float32Arrays,
// the updated parameters go back out into its arrays. The middle part (clip, step or skip,
// schedule) is `policyStep`, which the TensorFlow.js adapter (simdopt/tfjs) runs too.
import { clipGradNorm, clipGradValue } from './clip.js';
import { refuseClosureDriven } from './optim/groups.js';
import { Optimizer, type AnyOptimizer } from './optim/optimizer.js';
import { ReduceLROnPlateau } from './schedules/plateau.js';
import { LRScheduler } from './schedules/scheduler.js';
import type { Parameter } from './store.js';
import { checkKeys, checkNumber, describe, kindOf, wrongType } from './validate.js';

/** The `clipGradNorm` step option with a norm other than the 2-norm. */
export interface ClipNormOption {
  /** The largest total norm the gradients keep. */
  maxNorm: number;
  /** 1, 2 (default) or Infinity. */
  normType?: number;
}

/**
 * What happens around each step of {@link stepArrays} (and of the TensorFlow.js adapter):
 * clipping, skipping non-finite steps, and a scheduler.
 */
export interface StepOptions {
  /**
   * Clip the gradients to this total 2-norm before stepping (PyTorch's `clip_grad_norm_`
   * over all the optimizer's parameters), or `{ maxNorm, normType }` for a 1- or inf-norm.
   */
  clipGradNorm?: number | ClipNormOption;
  /** Clamp every gradient into `[-clipGradValue, clipGradValue]` before stepping (PyTorch's `clip_grad_value_`). */
  clipGradValue?: number;
  /**
   * Step only when every gradient is finite (`optimizer.stepIfFinite()`): a step with an Inf
   * or NaN gradient changes nothing (parameters, state, scheduler) and is counted in
   * `optimizer.skippedSteps`. Checked after clipping, as PyTorch's loss scaling checks.
   */
  stepIfFinite?: boolean;
  /**
   * A scheduler of the optimizer, stepped after every step taken. A `ReduceLROnPlateau`
   * needs a metric, so it is left for you to step (`sched.step(validationLoss)`).
   */
  scheduler?: LRScheduler | ReduceLROnPlateau;
}

const STEP_OPTION_KEYS = ['clipGradNorm', 'clipGradValue', 'stepIfFinite', 'scheduler'] as const;

/**
 * Checks step options (keys, types, ranges; a scheduler must belong to `optimizer` when one
 * is given) and returns them as {@link policyStep} reads them. @internal
 */
export function checkStepOptions(context: string, options: unknown, optimizer?: AnyOptimizer): StepOptions {
  if (options === undefined) return {};
  if (options === null || typeof options !== 'object' || Array.isArray(options)) wrongType(context, 'options', options, 'an object');
  checkKeys(context, options, STEP_OPTION_KEYS);
  const o = options as StepOptions;
  const clip = o.clipGradNorm;
  if (clip !== undefined) {
    if (typeof clip === 'number') checkNumber(context, 'clipGradNorm', clip, { min: 0 });
    else if (clip !== null && typeof clip === 'object' && !Array.isArray(clip)) {
      checkKeys(`${context}: clipGradNorm`, clip, ['maxNorm', 'normType']);
      checkNumber(context, 'clipGradNorm.maxNorm', clip.maxNorm, { min: 0 });
      if (clip.normType !== undefined && ![1, 2, Infinity].includes(clip.normType)) {
        throw new RangeError(`${context}: invalid clipGradNorm.normType: ${describe(clip.normType)} (must be 1, 2 or Infinity)`);
      }
    } else wrongType(context, 'clipGradNorm', clip, 'a number or { maxNorm, normType }');
  }
  if (o.clipGradValue !== undefined) checkNumber(context, 'clipGradValue', o.clipGradValue, { min: 0 });
  if (o.stepIfFinite !== undefined && typeof o.stepIfFinite !== 'boolean') wrongType(context, 'stepIfFinite', o.stepIfFinite, 'a boolean');
  if (o.scheduler !== undefined) {
    if (!(o.scheduler instanceof LRScheduler)) wrongType(context, 'scheduler', o.scheduler, 'a scheduler (LRScheduler or ReduceLROnPlateau)');
    if (optimizer !== undefined && o.scheduler.optimizer !== optimizer) throw new Error(`${context}: the scheduler belongs to another optimizer`);
  }
  return o;
}

/**
 * The step between copying gradients in and parameters out, with checked options: clip,
 * then step (or, with `stepIfFinite`, skip when a gradient is not finite), then the
 * scheduler. Returns whether a step was taken. @internal
 */
export function policyStep(optimizer: AnyOptimizer, params: readonly Parameter[], options: StepOptions): boolean {
  const clip = options.clipGradNorm;
  if (clip !== undefined) {
    if (typeof clip === 'number') clipGradNorm(params, clip);
    else clipGradNorm(params, clip.maxNorm, { normType: clip.normType ?? 2 });
  }
  if (options.clipGradValue !== undefined) clipGradValue(params, options.clipGradValue);
  if (options.stepIfFinite) {
    if (!optimizer.stepIfFinite()) return false;
  } else {
    optimizer.step();
  }
  const sched = options.scheduler;
  if (sched !== undefined && !(sched instanceof ReduceLROnPlateau)) sched.step();
  return true;
}

/** Checks one list of arrays against the parameters, element counts included. */
function checkArrays(context: string, label: string, arrays: unknown, params: readonly Parameter[]): readonly Float32Array[] {
  if (!Array.isArray(arrays)) wrongType(context, label, arrays, 'an array of Float32Arrays, one per parameter');
  if (arrays.length !== params.length) {
    throw new RangeError(`${context}: ${label} holds ${arrays.length} arrays, but the optimizer has ${params.length} parameters (${params.map(String).join(', ')})`);
  }
  arrays.forEach((a: unknown, i) => {
    if (!(a instanceof Float32Array)) throw new TypeError(`${context}: ${label}[${i}] must be a Float32Array, got ${kindOf(a)}`);
    if (a.length !== params[i].size) {
      throw new RangeError(`${context}: ${label}[${i}] has ${a.length} elements, but parameter ${i} is ${String(params[i])} of ${params[i].size}; nothing was changed`);
    }
  });
  return arrays as Float32Array[];
}

/**
 * One training step for parameters that live in another tensor library: copies `grads` (one
 * `Float32Array` per parameter, in the optimizer's parameter order: its param groups'
 * `params`, in order) into the store's gradients with one `set` each, clips, steps (see
 * {@link StepOptions}), then copies every parameter's values into `params` (when given),
 * one `set` each. Returns whether the step was taken (false only when `stepIfFinite`
 * skipped it; `params` are written either way).
 *
 * Everything is checked before anything is copied: the optimizer and its store are live,
 * there is one array per parameter, each a `Float32Array` of the parameter's size. A
 * mismatch throws naming the array and the parameter, and changes nothing.
 *
 * The store keeps the master copy of the parameters: the values in `params` are written,
 * never read. Where your library changes its parameters itself, write them into `p.data`
 * before the next step.
 *
 * @example
 * const store = await ParameterStore.create();
 * const params = weights.map((w, i) => store.parameter(`w${i}`, { shape: w.shape, values: w.data }));
 * const opt = new AdamW(params, { lr: 1e-3 });
 * // each step, after your backward pass:
 * stepArrays(opt, weights.map((w) => w.gradData), weights.map((w) => w.data), { clipGradNorm: 1 });
 */
export function stepArrays(optimizer: AnyOptimizer, grads: readonly Float32Array[], params?: readonly Float32Array[], options?: StepOptions): boolean {
  const context = 'stepArrays';
  if (!(optimizer instanceof Optimizer)) wrongType(context, 'optimizer', optimizer, 'a simdopt optimizer');
  optimizer.store.assertLive(context);
  refuseClosureDriven(context, optimizer);
  const list = optimizer.paramGroups.flatMap((g) => g.params);
  const gradArrays = checkArrays(context, 'grads', grads, list);
  const out = params === undefined ? undefined : checkArrays(context, 'params', params, list);
  const checked = checkStepOptions(context, options, optimizer);
  list.forEach((p, i) => p.grad.set(gradArrays[i]));
  const stepped = policyStep(optimizer, list, checked);
  if (out !== undefined) list.forEach((p, i) => out[i].set(p.data));
  return stepped;
}
