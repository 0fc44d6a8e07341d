import { Optimizer } from '../optim/optimizer.js';
import { checkKeys, checkNumber, invalid } from './functions.js';
import { perGroup, type AnyOptimizer } from './scheduler.js';

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
export interface PlateauState {
  /** Marks a scheduler state dict. */
  format: 'simdopt-scheduler';
  /** Format version (1). */
  version: 1;
  /** The class. */
  type: 'ReduceLROnPlateau';
  /** The options it was built with. */
  options: Record<string, unknown>;
  /** Steps taken. */
  lastEpoch: number;
  /** The best metric so far, as a number or (JSON has no Infinity) the string 'Infinity' / '-Infinity'. */
  best: number | 'Infinity' | '-Infinity';
  /** Steps since the last improvement. */
  numBadEpochs: number;
  /** Steps of cooldown left. */
  cooldownCounter: number;
  /** The learning rates in effect, one per group. */
  lastLrs: number[];
}

/**
 * ReduceLROnPlateau: multiplies the lr by `factor` when a metric has stopped improving for
 * `patience` steps, as PyTorch's. Step it with the metric: `sched.step(validationLoss)`.
 * Defaults: `mode = 'min', factor = 0.1, patience = 10, threshold = 1e-4,
 * thresholdMode = 'rel', cooldown = 0, minLr = 0, eps = 1e-8`.
 */
export class ReduceLROnPlateau {
  /** The optimizer whose learning rates this scheduler lowers. */
  readonly optimizer: AnyOptimizer;
  /** Steps taken. */
  lastEpoch = 0;
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
  readonly #options: Record<string, unknown>;
  #lastLrs: number[];

  constructor(optimizer: AnyOptimizer, options: ReduceLROnPlateauOptions = {}) {
    const c = 'ReduceLROnPlateau';
    if (!(optimizer instanceof Optimizer)) throw new TypeError(`${c}: the first argument must be an optimizer, got ${String(optimizer)}`);
    checkKeys(c, options, ['mode', 'factor', 'patience', 'threshold', 'thresholdMode', 'cooldown', 'minLr', 'eps']);
    this.optimizer = optimizer;
    this.#mode = options.mode ?? 'min';
    if (this.#mode !== 'min' && this.#mode !== 'max') invalid(c, 'mode', this.#mode, "'min' or 'max'");
    this.#factor = checkNumber(c, 'factor', options.factor ?? 0.1, { min: 0, max: 1, maxExclusive: true });
    this.#patience = checkNumber(c, 'patience', options.patience ?? 10, { min: 0, integer: true });
    this.#threshold = checkNumber(c, 'threshold', options.threshold ?? 1e-4, { min: 0 });
    this.#thresholdMode = options.thresholdMode ?? 'rel';
    if (this.#thresholdMode !== 'rel' && this.#thresholdMode !== 'abs') invalid(c, 'thresholdMode', this.#thresholdMode, "'rel' or 'abs'");
    this.#cooldown = checkNumber(c, 'cooldown', options.cooldown ?? 0, { min: 0, integer: true });
    this.#minLrs = perGroup(c, 'minLr', options.minLr ?? 0, optimizer.paramGroups.length);
    this.#minLrs.forEach((m, i) => checkNumber(c, `minLr[${i}]`, m, { min: 0 }));
    this.#eps = checkNumber(c, 'eps', options.eps ?? 1e-8, { min: 0 });
    this.#options = structuredClone({ ...options });
    this.best = this.#mode === 'min' ? Infinity : -Infinity;
    this.#lastLrs = optimizer.paramGroups.map((g) => g.lr);
  }

  #isBetter(a: number): boolean {
    const t = this.#threshold;
    if (this.#mode === 'min') return this.#thresholdMode === 'rel' ? a < this.best * (1 - t) : a < this.best - t;
    return this.#thresholdMode === 'rel' ? a > this.best * (t + 1) : a > this.best + t;
  }

  /** Records this step's metric (e.g. the validation loss) and reduces the lr on a plateau. */
  step(metric: number): void {
    if (typeof metric !== 'number' || Number.isNaN(metric)) {
      throw new TypeError(`ReduceLROnPlateau: step needs the metric as a number, got ${String(metric)}`);
    }
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
    this.#lastLrs = this.optimizer.paramGroups.map((g) => g.lr);
  }

  /** The learning rates after the last step, one per group. */
  getLastLr(): number[] {
    return [...this.#lastLrs];
  }

  /** The scheduler's state, as plain data. */
  stateDict(): PlateauState {
    return {
      format: 'simdopt-scheduler', version: 1, type: 'ReduceLROnPlateau', options: structuredClone(this.#options),
      lastEpoch: this.lastEpoch, best: Number.isFinite(this.best) ? this.best : this.best > 0 ? 'Infinity' : '-Infinity', numBadEpochs: this.numBadEpochs, cooldownCounter: this.cooldownCounter,
      lastLrs: [...this.#lastLrs],
    };
  }

  /** Throws if `sd` cannot be loaded into this scheduler; changes nothing. @internal */
  validateState(sd: unknown): void {
    const fail = (why: string): never => { throw new Error(`ReduceLROnPlateau: cannot load scheduler state: ${why}`); };
    if (sd === null || typeof sd !== 'object' || (sd as PlateauState).format !== 'simdopt-scheduler') fail('not a scheduler state dict');
    const s = sd as PlateauState;
    if (s.version !== 1) fail(`unsupported version ${String(s.version)}`);
    if (s.type !== 'ReduceLROnPlateau') fail(`it was saved from a ${String(s.type)}`);
    if (JSON.stringify(s.options) !== JSON.stringify(this.#options)) fail(`it was saved with options ${JSON.stringify(s.options)}; this scheduler has ${JSON.stringify(this.#options)}`);
    const n = this.optimizer.paramGroups.length;
    if (!Array.isArray(s.lastLrs) || s.lastLrs.length !== n || !s.lastLrs.every((x) => typeof x === 'number' && Number.isFinite(x) && x >= 0)) fail(`lastLrs must hold ${n} finite numbers >= 0`);
    if (!Number.isSafeInteger(s.lastEpoch) || s.lastEpoch < 0) fail(`invalid lastEpoch ${String(s.lastEpoch)}`);
    if (s.best !== 'Infinity' && s.best !== '-Infinity' && (typeof s.best !== 'number' || !Number.isFinite(s.best))) fail(`invalid best ${String(s.best)}`);
    for (const k of ['numBadEpochs', 'cooldownCounter'] as const) if (!Number.isSafeInteger(s[k]) || s[k] < 0) fail(`invalid ${k} ${String(s[k])}`);
  }

  /** Restores a state from {@link stateDict} (same options), writing its lrs back into the groups; throws and changes nothing if it does not fit. */
  loadStateDict(sd: PlateauState): void {
    this.validateState(sd);
    this.lastEpoch = sd.lastEpoch;
    this.best = Number(sd.best);
    this.numBadEpochs = sd.numBadEpochs;
    this.cooldownCounter = sd.cooldownCounter;
    this.#lastLrs = [...sd.lastLrs];
    this.optimizer.paramGroups.forEach((g, i) => { g.lr = sd.lastLrs[i]; });
  }
}
