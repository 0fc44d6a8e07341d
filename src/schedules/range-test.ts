import { log, pow } from '../detmath.js';
import { checkKeys, checkNumber, invalid } from './functions.js';
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
  /** The loss `trainStep` returned at each step (before the step with that lr). */
  losses: number[];
  /** The bias-corrected exponential moving average of the losses. */
  smoothed: number[];
  /** True when the sweep stopped early on divergence (or a non-finite loss). */
  stoppedEarly: boolean;
  /** Two suggested learning rates. */
  suggestion: {
    /** The lr where the smoothed loss falls fastest against log(lr), or undefined with too few points. */
    steepest: number | undefined;
    /** The lr of the lowest smoothed loss, divided by 10. */
    minDividedBy10: number | undefined;
  };
}

/**
 * Leslie Smith's learning-rate range test, as fastai's `lr_find` and pytorch-lr-finder run
 * it: for `numIter` steps, set every param group's lr to the next value of a sweep from
 * `startLr` to `endLr`, zero the gradients, call `trainStep()` (which computes gradients and
 * returns the loss), and step the optimizer. The loss is smoothed (EMA with bias correction);
 * the sweep stops once the smoothed loss exceeds `divergeThreshold` times the best, or the
 * loss is not finite. Afterwards the parameters, gradients, optimizer state and
 * hyperparameters are restored bit for bit, even if `trainStep` throws.
 *
 * Suggestions: `steepest`, the lr at the most negative slope of the smoothed loss against
 * log(lr) (skipping the first 10 and last 5 points, as pytorch-lr-finder does, when there
 * are enough); `minDividedBy10`, a tenth of the lr at the lowest smoothed loss.
 *
 * @example
 * const result = await lrRangeTest(opt, () => { computeGradients(); return loss; });
 * console.log(result.suggestion.steepest);
 */
export async function lrRangeTest(optimizer: AnyOptimizer, trainStep: () => number | Promise<number>, options: LRRangeTestOptions = {}): Promise<LRRangeTestResult> {
  const c = 'lrRangeTest';
  if (typeof trainStep !== 'function') invalid(c, 'trainStep', trainStep, 'a function returning the loss');
  checkKeys(c, options, ['startLr', 'endLr', 'numIter', 'stepMode', 'smoothF', 'divergeThreshold']);
  const startLr = checkNumber(c, 'startLr', options.startLr ?? 1e-7, { min: 0, minExclusive: true });
  const endLr = checkNumber(c, 'endLr', options.endLr ?? 10, { min: startLr, minExclusive: true });
  const numIter = checkNumber(c, 'numIter', options.numIter ?? 100, { min: 2, integer: true });
  const mode = options.stepMode ?? 'exp';
  if (mode !== 'exp' && mode !== 'linear') invalid(c, 'stepMode', mode, "'exp' or 'linear'");
  const beta = checkNumber(c, 'smoothF', options.smoothF ?? 0.98, { min: 0, max: 1, maxExclusive: true });
  const diverge = checkNumber(c, 'divergeThreshold', options.divergeThreshold ?? 4, { min: 1, minExclusive: true });

  const snap = optimizer.snapshot();
  const lrs: number[] = [], losses: number[] = [], smoothed: number[] = [];
  let avg = 0, best = Infinity, stoppedEarly = false;
  try {
    for (let i = 0; i < numIter; i++) {
      const r = i / (numIter - 1);
      const lr = mode === 'exp' ? startLr * pow(endLr / startLr, r) : startLr + (endLr - startLr) * r;
      for (const g of optimizer.paramGroups) g.lr = lr;
      optimizer.zeroGrad();
      const loss = await trainStep();
      if (typeof loss !== 'number') throw new TypeError(`${c}: trainStep must return the loss as a number, got ${String(loss)}`);
      lrs.push(lr);
      losses.push(loss);
      avg = beta * avg + (1 - beta) * loss;
      const s = avg / (1 - pow(beta, i + 1));
      smoothed.push(s);
      if (!Number.isFinite(loss) || (i > 0 && s > diverge * best)) {
        stoppedEarly = true;
        break;
      }
      if (s < best) best = s;
      optimizer.step();
    }
  } finally {
    optimizer.restore(snap);
  }
  return { lrs, losses, smoothed, stoppedEarly, suggestion: suggest(lrs, smoothed) };
}

/** The two suggestions of {@link lrRangeTest} from a sweep. */
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
  return {
    steepest: steepAt >= 0 ? lrs[steepAt] : undefined,
    minDividedBy10: minAt >= 0 ? lrs[minAt] / 10 : undefined,
  };
}
