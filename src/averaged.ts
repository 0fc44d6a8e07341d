// Weight averaging: an exponential moving average (EMA) of the parameters or SWA's running mean,
// as PyTorch's torch.optim.swa_utils.AveragedModel (torch/optim/swa_utils.py) with
// get_ema_multi_avg_fn or its default SWA average, and Keras's `use_ema`
// (keras/src/optimizers/base_optimizer.py). The averages live in the store's arena and update
// in the kernels (`average`, `copy`, `swap`), so both backends and any thread count give the
// same bits.
import { ParamBuffer, checkSavedBuffers, checkSavedParams, copyState, savedParams, type SavedParams } from './param-buffer.js';
import { Parameter, ParameterStore } from './store.js';
import { checkKeys, checkNumber, checkOneOf, describe, kindOf, refuse, wrongType } from './validate.js';

/** How an {@link AveragedModel} averages: SWA's equal-weight running mean, or an exponential moving average. */
export type AveragingMode = 'swa' | 'ema';

/** Options of an SWA {@link AveragedModel} (PyTorch's default average). */
export interface SwaOptions {
  /** `'swa'` (the default): every update weighs the same, `avg += (p - avg) / (n + 1)`. */
  mode?: 'swa';
}

/** Options of an EMA {@link AveragedModel} (PyTorch's `get_ema_multi_avg_fn(decay)`, Keras's `use_ema`). */
export interface EmaOptions {
  /** `'ema'`: an exponential moving average, `avg = lerp(avg, p, 1 - decay)`. */
  mode: 'ema';
  /** The decay, in [0, 1] (default 0.999, PyTorch's; Keras's `ema_momentum` defaults to 0.99). */
  decay?: number;
}

/** What {@link AveragedModel} accepts as options: `{ mode: 'swa' }` (the default) or `{ mode: 'ema', decay }`. */
export type AveragedModelOptions = SwaOptions | EmaOptions;

/**
 * An averaged model's saved state (PyTorch's `AveragedModel.state_dict()`: the averaged
 * parameters and `n_averaged`), plain data that survives `structuredClone`.
 */
export interface AveragedModelStateDict extends SavedParams {
  /** Marks an averaged model's state dict. */
  format: 'simdopt-averaged-model';
  /** Format version (1). */
  version: 1;
  /** How it averages. */
  mode: AveragingMode;
  /** The EMA's decay (mode `'ema'` only). */
  decay?: number;
  /** Updates so far (PyTorch's `n_averaged`). */
  nAveraged: number;
  /** The average of each parameter, in the order of `paramNames`. */
  averages: Float32Array[];
}

const STATE_KEYS = ['format', 'version', 'mode', 'decay', 'nAveraged', 'paramNames', 'paramSizes', 'paramShapes', 'averages'];

/** Reads the parameters to average: a store's (all of them) or a list of one store's. */
function parseParameters(context: string, params: unknown): Parameter[] {
  if (params instanceof ParameterStore) {
    params.assertLive(context);
    return [...params.parameters];
  }
  if (!Array.isArray(params)) wrongType(context, 'params', params, 'a ParameterStore or an array of Parameters');
  const list = params as unknown[];
  list.forEach((p, i) => {
    if (!(p instanceof Parameter)) throw new TypeError(`${context}: params[${i}] is ${kindOf(p)}, not a Parameter`);
  });
  const seen = new Set<Parameter>();
  for (const p of list as Parameter[]) {
    if (p.store !== (list[0] as Parameter).store) throw new Error(`${context}: parameter ${JSON.stringify(p.name)} belongs to another ParameterStore`);
    if (seen.has(p)) throw new Error(`${context}: parameter ${JSON.stringify(p.name)} is listed twice`);
    seen.add(p);
  }
  return list as Parameter[];
}

/**
 * A running average of parameters, in the store's arena: Stochastic Weight Averaging's
 * equal-weight mean or an exponential moving average (EMA), as PyTorch's
 * `torch.optim.swa_utils.AveragedModel` (with `get_ema_multi_avg_fn(decay)` for the EMA) and
 * Keras's `use_ema`. Call {@link updateParameters} after the optimizer steps (every step for an
 * EMA; for SWA, typically once per epoch after `swa_start`, with {@link SWALR}); evaluate with
 * the average swapped in ({@link withAveraged}, or {@link swapIn} / {@link swapOut}).
 *
 *     n = 0 (the first update):  avg = p                            (a copy)
 *     SWA:   avg = avg + (p - avg) / (n + 1)                        (get_swa_avg_fn)
 *     EMA:   avg = lerp(avg, p, w),  w = 1 - decay                  (torch._foreach_lerp_)
 *            = avg + w·(p - avg)       when |w| < 0.5
 *            = p - (p - avg)·(1 - w)   otherwise (PyTorch's lerp, from the end)
 *     n += 1
 *
 * The average starts as a copy of the parameters (PyTorch deep-copies the model) and every
 * parameter given is averaged, frozen ones included (PyTorch averages every parameter; a
 * frozen value's average stays put). `w`, `1 - w` and `n + 1` are rounded to float32 on the
 * host, as PyTorch's float32 `opmath` rounds them; the kernels compute each element as written,
 * with no fused multiply-add (PyTorch's vectorised CPU lerp may fuse: one rounding apart).
 * Deliberate differences: SWA is the division form, which PyTorch uses on the CPU (its foreach
 * path on CUDA lerps with weight `1/(n + 1)`, a few ulps apart); there are no buffers
 * (`use_buffers`): running statistics kept in the store as parameters are averaged when
 * listed, and left as the model's own otherwise (PyTorch's default). Keras's EMA
 * (`average = m·average + (1 - m)·var`, with `m = 0` at the first step) is the same average
 * to within a few ulps; its `ema_overwrite_frequency` is {@link copyToParameters} every k steps.
 *
 * @example
 * const ema = new AveragedModel(store, { mode: 'ema', decay: 0.999 });
 * for (const batch of batches) {
 *   computeGradients(batch);
 *   opt.step();
 *   ema.updateParameters();
 * }
 * const accuracy = ema.withAveraged(() => evaluate(testSet));   // the EMA weights, then back
 */
export class AveragedModel {
  /** The store holding the parameters and their averages. */
  readonly store: ParameterStore;
  /** The averaged parameters. */
  readonly parameters: readonly Parameter[];
  /** How it averages. */
  readonly mode: AveragingMode;
  /** The EMA's decay (undefined for SWA). */
  readonly decay: number | undefined;
  readonly #avg: ParamBuffer;
  #n = 0;
  #swapped = false;

  /**
   * @param params the parameters to average: a store (all the parameters it holds now) or a
   *   list of one store's parameters.
   * @param options `{ mode: 'swa' }` (the default) or `{ mode: 'ema', decay = 0.999 }`.
   */
  constructor(params: ParameterStore | readonly Parameter[], options: AveragedModelOptions = {}) {
    const context = 'AveragedModel';
    const list = parseParameters(context, params);
    if (list.length === 0) throw new Error(`${context}: there are no parameters to average`);
    if (options === null || typeof options !== 'object' || Array.isArray(options)) wrongType(context, 'options', options, 'an object');
    checkKeys(context, options, ['mode', 'decay']);
    const mode = checkOneOf(context, 'mode', options.mode ?? 'swa', ['swa', 'ema'] as const);
    const decay = (options as EmaOptions).decay;
    if (mode === 'swa' && decay !== undefined) throw new Error(`${context}: decay ${describe(decay)} is an option of mode 'ema' (SWA weighs every update equally)`);
    this.decay = mode === 'ema' ? checkNumber(context, 'decay', decay ?? 0.999, { min: 0, max: 1 }) : undefined;
    this.mode = mode;
    this.store = list[0].store;
    this.store.assertLive(context);
    this.parameters = Object.freeze([...list]);
    this.#avg = new ParamBuffer(this.store, this.parameters);
    this.#copy('into the average');
  }

  /** How many times {@link updateParameters} has run (PyTorch's `n_averaged`). */
  get nAveraged(): number {
    return this.#n;
  }

  /** True between {@link swapIn} and {@link swapOut}: the parameters hold the average. */
  get swappedIn(): boolean {
    return this.#swapped;
  }

  #check(context: string): void {
    this.store.assertLive(`AveragedModel.${context}`);
    if (this.#swapped) throw new Error(`AveragedModel.${context}: the average is swapped in (the parameters hold it); call swapOut() first`);
  }

  /** Copies the parameters into the average, or back. */
  #copy(direction: 'into the average' | 'into the parameters'): void {
    const k = this.store.kernels;
    for (const run of this.#avg.runs()) {
      const avg = this.#avg.at(run);
      k.copy(direction === 'into the average' ? { dst: avg, src: run.data } : { dst: run.data, src: avg }, run.n);
    }
  }

  /**
   * Averages the parameters' current values in (PyTorch's `update_parameters(model)`): the
   * first call copies them, each later one moves the average towards them; `nAveraged` counts.
   */
  updateParameters(): void {
    this.#check('updateParameters');
    const k = this.store.kernels;
    const fr = Math.fround;
    if (this.#n === 0) {
      this.#copy('into the average');
    } else if (this.mode === 'swa') {
      const count = fr(this.#n + 1);
      for (const run of this.#avg.runs()) k.average({ avg: this.#avg.at(run), param: run.data }, run.n, { count }, { swa: true });
    } else {
      const weight = fr(1 - this.decay!);
      // aten/src/ATen/native/Lerp.h: is_lerp_weight_small(w) = |w| < 0.5 picks the formula.
      const largeWeight = !(Math.abs(weight) < 0.5);
      const scalars = largeWeight ? { complement: fr(1 - weight) } : { weight };
      for (const run of this.#avg.runs()) k.average({ avg: this.#avg.at(run), param: run.data }, run.n, scalars, { largeWeight });
    }
    this.#n++;
  }

  /** Exchanges the parameters and their averages (the `swap` kernel: exact, both ways). */
  #swap(): void {
    const k = this.store.kernels;
    for (const run of this.#avg.runs()) k.swap({ x: run.data, y: this.#avg.at(run) }, run.n);
  }

  /**
   * Puts the average in the parameters' place (for evaluation), keeping their values to put
   * back with {@link swapOut}. Exact: swapping in and out restores every bit. While swapped
   * in, updates, state dicts and checkpoints of this model are refused.
   */
  swapIn(): void {
    this.#check('swapIn');
    this.#swap();
    this.#swapped = true;
  }

  /** Puts the parameters' own values back after {@link swapIn}. */
  swapOut(): void {
    this.store.assertLive('AveragedModel.swapOut');
    if (!this.#swapped) throw new Error('AveragedModel.swapOut: the average is not swapped in');
    this.#swap();
    this.#swapped = false;
  }

  /**
   * Runs `fn` with the average swapped in and swaps it out afterwards, also when `fn` throws
   * or, for an async `fn`, once its promise settles. Returns what `fn` returns.
   *
   * @example
   * const loss = ema.withAveraged(() => evaluate(validationSet));
   * const acc = await swa.withAveraged(async () => evaluateInWorker(store));
   */
  withAveraged<T>(fn: () => T): T {
    if (typeof fn !== 'function') wrongType('AveragedModel.withAveraged', 'fn', fn, 'a function');
    this.swapIn();
    let result: T;
    try {
      result = fn();
    } catch (e) {
      this.swapOut();
      throw e;
    }
    if (result !== null && typeof result === 'object' && typeof (result as { then?: unknown }).then === 'function') {
      return Promise.resolve(result).finally(() => this.swapOut()) as T;
    }
    this.swapOut();
    return result;
  }

  /**
   * Overwrites the parameters with the average, for good (Keras's
   * `finalize_variable_values`; every k steps, its `ema_overwrite_frequency`). The average
   * stays as it is.
   */
  copyToParameters(): void {
    this.#check('copyToParameters');
    this.#copy('into the parameters');
  }

  /** A live view of the average of `param` (refused while swapped in: the parameter then holds it). */
  average(param: Parameter): Float32Array {
    this.#check('average');
    const i = this.parameters.indexOf(param);
    if (i < 0) throw new Error(`AveragedModel.average: ${param instanceof Parameter ? param.toString() : kindOf(param)} is not averaged by this model`);
    return this.#avg.view(i);
  }

  /** The averaged model's state as plain data: mode, decay, `nAveraged` and a copy of every average. */
  stateDict(): AveragedModelStateDict {
    this.#check('stateDict');
    return {
      format: 'simdopt-averaged-model', version: 1, mode: this.mode, ...(this.decay !== undefined ? { decay: this.decay } : {}),
      nAveraged: this.#n, ...savedParams(this.parameters), averages: this.parameters.map((_, i) => this.#avg.view(i).slice()),
    };
  }

  /**
   * Restores a state from {@link stateDict}: the input is copied and checked (format, mode and
   * decay, parameters, `nAveraged`, every average's length); an invalid one throws and changes
   * nothing. Averages may be `Float32Array`s or arrays of numbers.
   */
  loadStateDict(input: AveragedModelStateDict): void {
    this.applyStateDict(this.checkStateDict(input));
  }

  /** The checked private copy that {@link loadStateDict} applies (throws as it does). @internal */
  checkStateDict(input: unknown): AveragedModelStateDict {
    const fail = refuse('AveragedModel.loadStateDict');
    this.store.assertLive('AveragedModel.loadStateDict');
    if (this.#swapped) fail('the average is swapped in; call swapOut() first');
    const s = copyState(fail, input);
    for (const key of Object.keys(s)) if (!STATE_KEYS.includes(key)) fail(`unknown key ${JSON.stringify(key)} in the state`);
    if (s.format !== 'simdopt-averaged-model') fail(`not an averaged model's state dict (format ${describe(s.format)})`);
    if (s.version !== 1) fail(`unsupported state dict version ${describe(s.version)} (this library reads version 1)`);
    if (s.mode !== this.mode || s.decay !== this.decay) {
      const what = (mode: unknown, decay: unknown) => `mode ${describe(mode)}${decay === undefined ? '' : ` with decay ${describe(decay)}`}`;
      fail(`the state was saved with ${what(s.mode, s.decay)}, this model averages with ${what(this.mode, this.decay)}`);
    }
    if (!Number.isSafeInteger(s.nAveraged) || (s.nAveraged as number) < 0) fail(`invalid nAveraged ${describe(s.nAveraged)} (must be a whole number >= 0)`);
    checkSavedParams(fail, s, this.parameters);
    checkSavedBuffers(fail, s.averages, this.parameters, 'averages');
    return s as unknown as AveragedModelStateDict;
  }

  /** Applies a state dict returned by {@link checkStateDict}. @internal */
  applyStateDict(sd: AveragedModelStateDict): void {
    sd.averages.forEach((values, i) => this.#avg.view(i).set(values));
    this.#n = sd.nAveraged;
  }
}
