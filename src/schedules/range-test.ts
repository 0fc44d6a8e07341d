import { log, pow } from '../detmath.js';
import { refuseClosureDriven } from '../optim/groups.js';
import { checkKeys, checkNumber, checkOneOf, wrongType } from '../validate.js';
import type { AnyOptimizer } from './scheduler.js';

/** Options of {@link lrRangeTest}. */
export interface LRRangeTestOptions {
  /** First learning rate (default 1e-7). */
  startLr?: number;
  /** Last learning rate (default 10). */
  endLr?: number;
  /** Steps in the sweep (default 100). */
  numIter?: number;
  /** 'exp' (default): geometric spacing; 'linear'. */
  stepMode?: 'exp' | 'linear';
  /** Smoothing factor of the loss's exponential moving average (default 0.98). */
  smoothF?: number;
  /** Stop once the smoothed loss exceeds this multiple of the best (default 4). */
  divergeThreshold?: number;
}

/** What {@link lrRangeTest} found. */
export interface LRRangeTestResult {
  /** The learning rate of each step taken. */
  lrs: number[];
  /**
   * The loss `trainStep` returned at each step (before the step with that lr). Only finite
   * losses are recorded: a NaN or infinite loss ends the sweep without an entry here (or in
   * `lrs` and `smoothed`), so the three arrays have the same length; `stopMessage` names it.
   */
  losses: number[];
  /** The bias-corrected exponential moving average of the losses. */
  smoothed: number[];
  /** True when the sweep stopped before `numIter` steps; `stopReason` says why. */
  stoppedEarly: boolean;
  /**
   * Why the sweep stopped early, set exactly when `stoppedEarly` is: `'diverged'`, the
   * smoothed loss exceeded `divergeThreshold` times the best (that step is the last one
   * recorded); `'non-finite-loss'`, `trainStep` returned NaN or ±Infinity (not recorded).
   */
  stopReason?: 'diverged' | 'non-finite-loss';
  /**
   * The same in words, with the step, the lr and the loss, set exactly when `stoppedEarly` is,
   * e.g. `the loss was NaN at step 6 of 100 (lr 3.98e-7)`.
   */
  stopMessage?: string;
  /** Two suggested learning rates, computed from the recorded (finite) losses only. */
  suggestion: {
    /** The lr where the smoothed loss falls fastest against log(lr); undefined with fewer than 3 points. */
    steepest: number | undefined;
    /** The lr of the lowest smoothed loss, divided by 10; undefined when no loss was recorded. */
    minDividedBy10: number | undefined;
    /**
     * Why `steepest` or `minDividedBy10` is undefined (absent when both are set), e.g.
     * `no finite loss was recorded; the loss was NaN at step 1 of 100 (lr 1e-7)`.
     */
    reason?: string;
  };
}

/**
 * Leslie Smith's learning-rate range test, as fastai's `lr_find` and pytorch-lr-finder run
 * it: for `numIter` steps, set every param group's lr to the next value of a sweep from
 * `startLr` to `endLr`, zero the gradients, call `trainStep()` (which computes gradients and
 * returns the loss), and step the optimizer. The loss is smoothed (EMA with bias correction);
 * the sweep stops early (`stoppedEarly`, with `stopReason` and `stopMessage`) once the
 * smoothed loss exceeds `divergeThreshold` times the best (`'diverged'`; that step is
 * recorded), or when `trainStep` returns NaN or ±Infinity (`'non-finite-loss'`; that loss is
 * not recorded, so `losses` and `smoothed` stay finite and the smoothing is not poisoned).
 * Afterwards the parameters, gradients, optimizer state and hyperparameters are restored bit
 * for bit, however the sweep ended, even if `trainStep` throws.
 *
 * Suggestions, from the recorded (finite) losses only: `steepest`, the lr at the most
 * negative slope of the smoothed loss against log(lr) (skipping the first 10 and last 5
 * points, as pytorch-lr-finder does, when there are enough; it needs at least 3 points);
 * `minDividedBy10`, a tenth of the lr at the lowest smoothed loss (it needs 1). When either
 * is undefined, `suggestion.reason` says why (with the stop message if the sweep ended on a
 * non-finite loss).
 *
 * `endLr` must be greater than `startLr`; the error names both options and their values,
 * marking a default as such.
 *
 * @example
 * const result = await lrRangeTest(opt, () => { computeGradients(); return loss; });
 * if (result.stoppedEarly) console.log(result.stopMessage);
 * console.log(result.suggestion.steepest ?? result.suggestion.reason);
 */
export async function lrRangeTest(optimizer: AnyOptimizer, trainStep: () => number | Promise<number>, options: LRRangeTestOptions = {}): Promise<LRRangeTestResult> {
  const c = 'lrRangeTest';
  if (typeof trainStep !== 'function') wrongType(c, 'trainStep', trainStep, 'a function returning the loss');
  // The test sweeps lr over steps of one gradient each; L-BFGS's step evaluates many.
  refuseClosureDriven(c, optimizer);
  checkKeys(c, options, ['startLr', 'endLr', 'numIter', 'stepMode', 'smoothF', 'divergeThreshold']);
  const startLr = checkNumber(c, 'startLr', options.startLr ?? 1e-7, { min: 0, minExclusive: true });
  const endLr = checkNumber(c, 'endLr', options.endLr ?? 10);
  if (!(endLr > startLr)) {
    const shown = (x: number, given: unknown) => `(${x}${given === undefined ? ', default' : ''})`;
    // Blame the option the caller gave: startLr when endLr is the default, else endLr.
    const blamed = options.endLr === undefined ? 'startLr' : 'endLr';
    throw new RangeError(`${c}: invalid ${blamed}: endLr ${shown(endLr, options.endLr)} must be greater than startLr ${shown(startLr, options.startLr)}`);
  }
  const numIter = checkNumber(c, 'numIter', options.numIter ?? 100, { min: 2, integer: true });
  const mode = checkOneOf(c, 'stepMode', options.stepMode ?? 'exp', ['exp', 'linear']);
  const beta = checkNumber(c, 'smoothF', options.smoothF ?? 0.98, { min: 0, max: 1, maxExclusive: true });
  const diverge = checkNumber(c, 'divergeThreshold', options.divergeThreshold ?? 4, { min: 1, minExclusive: true });

  const snap = optimizer.snapshot();
  const lrs: number[] = [], losses: number[] = [], smoothed: number[] = [];
  let avg = 0, best = Infinity;
  let stopReason: LRRangeTestResult['stopReason'], stopMessage: string | undefined;
  const at = (i: number, lr: number) => `at step ${i + 1} of ${numIter} (lr ${short(lr)})`;
  try {
    for (let i = 0; i < numIter; i++) {
      const r = i / (numIter - 1);
      const lr = mode === 'exp' ? startLr * pow(endLr / startLr, r) : startLr + (endLr - startLr) * r;
      for (const g of optimizer.paramGroups) g.lr = lr;
      optimizer.zeroGrad();
      const loss = await trainStep();
      if (typeof loss !== 'number') throw new TypeError(`${c}: trainStep must return the loss as a number, got ${String(loss)}`);
      if (!Number.isFinite(loss)) {
        stopReason = 'non-finite-loss';
        stopMessage = `the loss was ${loss} ${at(i, lr)}`;
        break;
      }
      lrs.push(lr);
      losses.push(loss);
      avg = beta * avg + (1 - beta) * loss;
      const s = avg / (1 - pow(beta, i + 1));
      smoothed.push(s);
      if (i > 0 && s > diverge * best) {
        stopReason = 'diverged';
        stopMessage = `the smoothed loss ${short(s)} exceeded ${diverge} times the best ${short(best)} ${at(i, lr)}`;
        break;
      }
      if (s < best) best = s;
      optimizer.step();
    }
  } finally {
    optimizer.restore(snap);
  }
  const suggestion = suggest(lrs, smoothed);
  if (suggestion.reason !== undefined && stopReason === 'non-finite-loss') suggestion.reason += `; ${stopMessage}`;
  const stop = stopReason === undefined ? {} : { stopReason, stopMessage };
  return { lrs, losses, smoothed, stoppedEarly: stopReason !== undefined, ...stop, suggestion };
}

/** A number in 3 significant digits, for messages. */
function short(x: number): string {
  return String(Number(x.toPrecision(3)));
}

/**
 * The two suggestions of {@link lrRangeTest} from a sweep, with the reason when either is
 * undefined. Non-finite smoothed values are skipped.
 *
 * @example
 * suggest([1e-3, 1e-2, 1e-1, 1], [1, 0.9, 0.2, 3]); // { steepest: 0.01, minDividedBy10: 0.01 }
 */
export function suggest(lrs: readonly number[], smoothed: readonly number[]): LRRangeTestResult['suggestion'] {
  const n = smoothed.length;
  let minAt = -1;
  for (let i = 0; i < n; i++) if (Number.isFinite(smoothed[i]) && (minAt < 0 || smoothed[i] < smoothed[minAt])) minAt = i;
  let skipStart = 10, skipEnd = 5;
  if (n - skipStart - skipEnd < 3) { skipStart = 0; skipEnd = 0; }
  let steepAt = -1, steepest = Infinity;
  const lo = skipStart, hi = n - skipEnd; // [lo, hi)
  if (hi - lo >= 3) {
    const x = lrs.map((lr) => log(lr));
    for (let i = lo; i < hi; i++) {
      // central differences inside, one-sided at the ends (numpy.gradient)
      const a = i === lo ? i : i - 1, b = i === hi - 1 ? i : i + 1;
      const slope = (smoothed[b] - smoothed[a]) / (x[b] - x[a]);
      if (Number.isFinite(slope) && slope < steepest) { steepest = slope; steepAt = i; }
    }
  }
  const result: LRRangeTestResult['suggestion'] = {
    steepest: steepAt >= 0 ? lrs[steepAt] : undefined,
    minDividedBy10: minAt >= 0 ? lrs[minAt] / 10 : undefined,
  };
  if (minAt < 0) result.reason = 'no finite loss was recorded';
  else if (hi - lo < 3) result.reason = `steepest needs at least 3 recorded losses, got ${n}`;
  else if (steepAt < 0) result.reason = 'the smoothed loss has no finite slope against log(lr)';
  return result;
}
