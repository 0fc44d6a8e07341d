import { checkNumber, checkOneOf, perGroup, problem, wrongType } from '../validate.js';
import { LRScheduler, type AnyOptimizer, type SchedulerStateHeader } from './scheduler.js';

/** Options of {@link ReduceLROnPlateau} (PyTorch's, camelCase). */
export interface ReduceLROnPlateauOptions {
  /** 'min' (default): a lower metric is better; 'max': higher is better. */
  mode?: 'min' | 'max';
  /** Multiplies the lr on a plateau, in [0, 1) (default 0.1). */
  factor?: number;
  /** Steps without improvement tolerated before reducing (default 10). */
  patience?: number;
  /** Minimum change that counts as an improvement (default 1e-4). */
  threshold?: number;
  /** 'rel' (default): relative to the best; 'abs': absolute. */
  thresholdMode?: 'rel' | 'abs';
  /** Steps to wait after a reduction before counting again (default 0). */
  cooldown?: number;
  /** Lower bound on the lr, one or per group (default 0). */
  minLr?: number | number[];
  /** Reductions smaller than this are skipped (default 1e-8). */
  eps?: number;
}

/** Saved state of a {@link ReduceLROnPlateau}. */
export interface PlateauState extends SchedulerStateHeader {
  /** The class. */
  type: 'ReduceLROnPlateau';
  /** The best metric so far, as a number or (JSON has no Infinity) the string 'Infinity' / '-Infinity'. */
  best: number | 'Infinity' | '-Infinity';
  /** Steps since the last improvement. */
  numBadEpochs: number;
  /** Steps of cooldown left. */
  cooldownCounter: number;
}

const OPTIONS = ['mode', 'factor', 'patience', 'threshold', 'thresholdMode', 'cooldown', 'minLr', 'eps'] as const;

/**
 * ReduceLROnPlateau: multiplies the lr by `factor` when a metric has stopped improving for
 * `patience` steps, as PyTorch's. Step it with the metric: `sched.step(validationLoss)`.
 * Defaults: `mode = 'min', factor = 0.1, patience = 10, threshold = 1e-4,
 * thresholdMode = 'rel', cooldown = 0, minLr = 0, eps = 1e-8`.
 *
 * An {@link LRScheduler} with its own protocol: what it writes depends on the metrics seen, not
 * on the step alone, so it has no schedule to evaluate ({@link lrAt} throws), cannot be
 * composed, and leaves `initialLr` alone; its state holds the best metric and the counters.
 */
export class ReduceLROnPlateau extends LRScheduler<PlateauState, [metric: number]> {
  /** Best metric seen. */
  best: number;
  /** Steps since the last improvement. */
  numBadEpochs = 0;
  /** Steps of cooldown left. */
  cooldownCounter = 0;
  readonly #mode: 'min' | 'max';
  readonly #factor: number;
  readonly #patience: number;
  readonly #threshold: number;
  readonly #thresholdMode: 'rel' | 'abs';
  readonly #cooldown: number;
  readonly #minLrs: number[];
  readonly #eps: number;

  constructor(optimizer: AnyOptimizer, options: ReduceLROnPlateauOptions = {}) {
    super(optimizer, 'ReduceLROnPlateau', options, OPTIONS);
    const c = this.name;
    this.#mode = checkOneOf(c, 'mode', options.mode ?? 'min', ['min', 'max']);
    this.#factor = checkNumber(c, 'factor', options.factor ?? 0.1, { min: 0, max: 1, maxExclusive: true });
    this.#patience = checkNumber(c, 'patience', options.patience ?? 10, { min: 0, integer: true });
    this.#threshold = checkNumber(c, 'threshold', options.threshold ?? 1e-4, { min: 0 });
    this.#thresholdMode = checkOneOf(c, 'thresholdMode', options.thresholdMode ?? 'rel', ['rel', 'abs']);
    this.#cooldown = checkNumber(c, 'cooldown', options.cooldown ?? 0, { min: 0, integer: true });
    this.#minLrs = perGroup(c, 'minLr', options.minLr ?? 0, this.baseLrs.length);
    this.#minLrs.forEach((m, i) => checkNumber(c, `minLr[${i}]`, m, { min: 0 }));
    this.#eps = checkNumber(c, 'eps', options.eps ?? 1e-8, { min: 0 });
    this.best = this.#mode === 'min' ? Infinity : -Infinity;
    this.record(this.groups.map((g) => g.lr as number));
  }

  #isBetter(a: number): boolean {
    const t = this.#threshold;
    if (this.#mode === 'min') return this.#thresholdMode === 'rel' ? a < this.best * (1 - t) : a < this.best - t;
    return this.#thresholdMode === 'rel' ? a > this.best * (t + 1) : a > this.best + t;
  }

  /** Records this step's metric (e.g. the validation loss) and reduces the lr on a plateau. */
  override step(metric: number): void {
    if (typeof metric !== 'number' || Number.isNaN(metric)) wrongType(this.name, 'the metric step takes', metric, 'a number (not NaN)');
    this.lastEpoch++;
    if (this.#isBetter(metric)) {
      this.best = metric;
      this.numBadEpochs = 0;
    } else {
      this.numBadEpochs++;
    }
    if (this.cooldownCounter > 0) {
      this.cooldownCounter--;
      this.numBadEpochs = 0;
    }
    if (this.numBadEpochs > this.#patience) {
      this.optimizer.paramGroups.forEach((g, i) => {
        const old = g.lr;
        const next = Math.max(old * this.#factor, this.#minLrs[i]);
        if (old - next > this.#eps) g.lr = next;
      });
      this.cooldownCounter = this.#cooldown;
      this.numBadEpochs = 0;
    }
    this.record(this.optimizer.paramGroups.map((g) => g.lr));
  }

  /** Throws: the lr of a plateau scheduler depends on the metrics, not on the step alone (as PyTorch's `get_lr`). */
  lrAt(_t: number, _group: number): number {
    throw new Error('ReduceLROnPlateau: the lr at a step depends on the metrics seen, so it has no schedule to evaluate; read getLastLr()');
  }

  protected override stateFields(): Record<string, unknown> {
    return {
      best: Number.isFinite(this.best) ? this.best : this.best > 0 ? 'Infinity' : '-Infinity', numBadEpochs: this.numBadEpochs,
      cooldownCounter: this.cooldownCounter, lastLrs: this.getLastLr(),
    };
  }

  protected override checkFields(s: Record<string, unknown>, fail: (why: string) => never): void {
    this.checkLastLrs(s, fail);
    if (s.best !== 'Infinity' && s.best !== '-Infinity' && (typeof s.best !== 'number' || !Number.isFinite(s.best))) {
      fail(problem('best', s.best, "a finite number, 'Infinity' or '-Infinity'"));
    }
    for (const k of ['numBadEpochs', 'cooldownCounter']) {
      if (!Number.isSafeInteger(s[k]) || (s[k] as number) < 0) fail(problem(k, s[k], 'a whole number >= 0'));
    }
  }

  protected override load(sd: Record<string, unknown>): void {
    const s = sd as unknown as PlateauState;
    this.lastEpoch = s.lastEpoch;
    this.best = Number(s.best);
    this.numBadEpochs = s.numBadEpochs;
    this.cooldownCounter = s.cooldownCounter;
    this.record([...s.lastLrs]);
    this.optimizer.paramGroups.forEach((g, i) => { g.lr = s.lastLrs[i]; });
  }
}
