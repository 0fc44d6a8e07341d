import type { Kernels } from '../kernels/index.js';
import { NORM_CHUNK } from '../clip.js';
import { pow } from '../detmath.js';
import { MIN_PARALLEL_ELEMENTS, type PART_KERNELS } from '../threads.js';
import { paddedSize, type Parameter, type ParameterStore } from '../store.js';
import { boolean, checkNumber, number, wrongType, type Check } from '../validate.js';
import { Optimizer, type GroupState, type OptimizerSpec, type ParamGroup, type ParameterState, type ParamsInput } from './optimizer.js';

/** Options of {@link Adafactor} (PyTorch's, camelCase). */
export interface AdafactorOptions {
  /**
   * Learning rate, >= 0 (default 1e-2): the cap of the relative step size
   * `rho = min(lr, 1/sqrt(step))` and the coefficient of the weight decay.
   */
  lr: number;
  /** Decay rate of beta2, <= 0: `beta2 = 1 - step^beta2Decay` (default -0.8). */
  beta2Decay: number;
  /**
   * `[eps1, eps2]` (default `[null, 1e-3]`): eps1 >= 0 bounds the variance estimate below
   * (as eps1², and the row factor's mean as eps1); `null` means float32's machine epsilon
   * 2^-23, as PyTorch's `torch.finfo(param.dtype).eps`. eps2 >= 0 bounds the parameters' RMS
   * below in the step size.
   */
  eps: [number | null, number];
  /** Clipping threshold, >= 1: the update is divided by `max(1, RMS(update) / d)` (default 1). */
  d: number;
  /** Decoupled weight decay, >= 0: `p *= 1 - lr * weightDecay` (default 0). */
  weightDecay: number;
  /** Maximise the objective instead of minimising it (default false). */
  maximize: boolean;
}

/**
 * Adafactor's state (`opt.state(p)`): for a parameter of two or more dimensions
 * `[...batch, rows, cols]`, the factored second moment (`rowVar`, PyTorch's shape
 * `[...batch, rows, 1]`, and `colVar`, `[...batch, 1, cols]`, flattened); for one of fewer,
 * the full second moment `variance`.
 */
export interface AdafactorState extends ParameterState {
  /** Row factor of the second moment (matrices): one value per row of each matrix. */
  rowVar?: Float32Array;
  /** Column factor of the second moment (matrices): one value per column of each matrix. */
  colVar?: Float32Array;
  /** Second moment (vectors). */
  variance?: Float32Array;
}

/** What Adafactor's constructor and `addParamGroup` accept: any of {@link AdafactorOptions}, the rest from the defaults. */
export type AdafactorOptionsInput = Partial<AdafactorOptions>;

/** float32's machine epsilon, 2^-23: eps1 when it is null (torch.finfo(torch.float32).eps). */
export const FLOAT32_EPS = 2 ** -23;

/** PyTorch's defaults (torch/optim/_adafactor.py). */
const DEFAULTS: AdafactorOptions = { lr: 1e-2, beta2Decay: -0.8, eps: [null, 1e-3], d: 1, weightDecay: 0, maximize: false };

/** PyTorch's checks: "epsilon1 should be >= 0", "epsilon2 should be >= 0". */
const epsPair: Check = (value, context) => {
  if (!Array.isArray(value) || value.length !== 2) wrongType(context, 'eps', value, 'an array [eps1, eps2] (eps1 may be null)');
  if (value[0] !== null) checkNumber(context, 'epsilon1 (eps[0])', value[0], { min: 0 });
  checkNumber(context, 'epsilon2 (eps[1])', value[1], { min: 0 });
};

/** The factored buffers for two or more dimensions (PyTorch: `grad.dim() > 1`), `variance` for fewer. */
const factored = (shape: readonly number[]) => shape.length >= 2;

const SPEC: OptimizerSpec<AdafactorOptions> = {
  name: 'Adafactor',
  buffers: ['rowVar', 'colVar', 'variance'],
  // Each buffer has its own shape (float32, the optimizer takes no state options).
  shapes: {
    rowVar: (s) => (factored(s) ? [...s.slice(0, -1), 1] : undefined),
    colVar: (s) => (factored(s) ? [...s.slice(0, -2), 1, s[s.length - 1]] : undefined),
    variance: (s) => (factored(s) ? undefined : s),
  },
  checks: {
    lr: number('learning rate (lr)'),
    beta2Decay: (value, context) => { checkNumber(context, 'beta2Decay', value, { max: 0 }); },
    eps: epsPair,
    d: number('clipping threshold (d)', 1),
    weightDecay: number('weight decay (weightDecay)'),
    maximize: boolean('maximize'),
  },
};

/** The scalars of one step, in float64 (and the float32 ones the kernels take), the same for every parameter of the group. */
interface StepScalars {
  /** rho_t = min(lr, 1/sqrt(step)). */
  readonly rho: number;
  readonly eps1: number;
  readonly eps2: number;
  /** f32(eps1 * eps1). */
  readonly eps1Sq: number;
  /** The lerp weight f32(step^beta2Decay), its complement and which form of lerp PyTorch takes. */
  readonly weight: number;
  readonly complement: number;
  readonly largeWeight: boolean;
  /** f32(1 - lr * weightDecay). */
  readonly decay: number;
}

/**
 * Python's `max(a, b)`, which PyTorch's code calls on floats: `b` when `b > a`, else `a`, so
 * a NaN `b` is passed over (`max(1.0, nan)` is 1.0), unlike Math.max.
 */
function pyMax(a: number, b: number): number {
  return b > a ? b : a;
}

/**
 * The sum of squares of `n` float32 at `address`, in float64: NORM_CHUNK elements per kernel
 * call, the partial sums added in order (as gradNorm sums), so the result depends on nothing
 * but the values.
 */
function sumSquares(kernels: Kernels, address: number, n: number): number {
  let sum = 0;
  for (let i = 0; i < n; i += NORM_CHUNK) sum += kernels.sumSquares(address + 4 * i, Math.min(NORM_CHUNK, n - i));
  return sum;
}

/**
 * Runs a matrix kernel over `count` units (rows or columns) of `elements` elements in all, in
 * parts on the store's threads when there is enough work: `args(start, n)` is the argument list
 * of units [start, start + n). Every output element is computed whole by one part, so the
 * split changes no bit.
 */
function inParts(store: ParameterStore, kernels: Kernels, name: keyof typeof PART_KERNELS, count: number, elements: number, args: (start: number, n: number) => number[], multiple = 1): void {
  const threads = elements < MIN_PARALLEL_ELEMENTS ? 1 : Math.min(store.threads.active, Math.ceil(count / multiple));
  if (threads <= 1) {
    (kernels[name] as (...a: number[]) => void)(...args(0, count));
    return;
  }
  const per = Math.ceil(count / threads / multiple) * multiple;
  const parts: number[][] = [];
  for (let start = 0; start < count; start += per) parts.push(args(start, Math.min(per, count - start)));
  store.runParts(name, parts);
}

/**
 * The update of a matrix parameter `[...batch, rows, cols]` into `update`: the row and column
 * means of grad², their lerps into the factors, and per matrix the update from the factors.
 */
function factoredUpdate(store: ParameterStore, kernels: Kernels, p: Parameter, rowVar: number, colVar: number, update: number, s: StepScalars, maximize: boolean): void {
  const rows = p.shape[p.shape.length - 2], cols = p.shape[p.shape.length - 1];
  const matrix = rows * cols, batch = p.size / matrix;
  const means = store.scratch('adafactor.means', 4 * (paddedSize(batch * rows) + batch * cols));
  const rowMeans = means, colMeans = means + 4 * paddedSize(batch * rows);
  const grad = p.gradAddress;
  // row_mean = grad.square().mean(dim=-1): every row of every matrix at once.
  inParts(store, kernels, 'rowMeanSquares', batch * rows, p.size, (r, n) => [grad + 4 * r * cols, n, cols, rowMeans + 4 * r]);
  // col_mean = grad.square().mean(dim=-2): per matrix, columns split 16 at a time.
  for (let b = 0; b < batch; b++) {
    const g = grad + 4 * b * matrix, out = colMeans + 4 * b * cols;
    inParts(store, kernels, 'colMeanSquares', cols, matrix, (c, n) => [g + 4 * c, rows, n, cols, out + 4 * c], 16);
  }
  // row_var.lerp_(row_mean, w); col_var.lerp_(col_mean, w): PyTorch's lerp, as the EMA kernel computes it.
  const lerp = { weight: s.weight, complement: s.complement };
  kernels.average({ avg: rowVar, param: rowMeans }, batch * rows, lerp, { largeWeight: s.largeWeight });
  kernels.average({ avg: colVar, param: colMeans }, batch * cols, lerp, { largeWeight: s.largeWeight });
  for (let b = 0; b < batch; b++) {
    const r = rowVar + 4 * b * rows, c = colVar + 4 * b * cols, g = grad + 4 * b * matrix, u = update + 4 * b * matrix;
    // row_var.mean(dim=-2).clamp_(min=eps1): the mean in float64, rounded to float32, then clamped (NaN stays NaN).
    const rowMean = Math.max(Math.fround(kernels.sum(r, rows) / rows), Math.fround(s.eps1));
    inParts(store, kernels, 'adafactorUpdate', rows, matrix, (i, n) => [r + 4 * i, c, g + 4 * i * cols, u + 4 * i * cols, n, cols, rowMean, s.eps1Sq, maximize ? 1 : 0]);
  }
}

/**
 * Adafactor (Shazeer & Stern, 2018, "Adafactor: Adaptive Learning Rates with Sublinear Memory
 * Cost") as PyTorch's `torch.optim.Adafactor` computes it (torch/optim/_adafactor.py, PyTorch
 * 2.5+, `_single_tensor_adafactor`), same semantics and defaults. Per parameter, at step t:
 *
 *     g = maximize ? -grad : grad
 *     beta2_t = 1 - t^beta2Decay;  rho = min(lr, 1/sqrt(t))
 *     alpha = max(eps2, RMS(p)) * rho                       (p before the decay)
 *     p *= 1 - lr * weightDecay                             (when weightDecay != 0)
 *     matrices [...batch, rows, cols] (2 or more dimensions, factored over the last two):
 *       rowVar = lerp(rowVar, mean(g², dim=-1), 1 - beta2_t)
 *       colVar = lerp(colVar, mean(g², dim=-2), 1 - beta2_t)
 *       V = (rowVar @ colVar) / max(mean(rowVar, dim=-2), eps1)
 *     vectors (fewer dimensions):
 *       V = variance = lerp(variance, g², 1 - beta2_t)
 *     U = g / sqrt(max(V, eps1²));  p -= alpha / max(1, RMS(U) / d) * U
 *
 * Defaults: `lr = 1e-2, beta2Decay = -0.8, eps = [null, 1e-3]` (eps1 null: float32's machine
 * epsilon 2^-23), `d = 1, weightDecay = 0, maximize = false`; PyTorch's `foreach` is not an
 * option (every step here is one pass per kernel). State: `rowVar` and `colVar` (one value per
 * row and per column of each matrix: the sublinear memory the method is for) for parameters of
 * two or more dimensions (their `shape`), `variance` for the others.
 *
 * The state stays float32: Adafactor does not take the state options (`stateDtype`, ...) the
 * moment-buffer optimizers take, and its state dicts refuse bfloat16 and int8 data. Its
 * factored state is already sublinear, `rows + cols` values for a `rows × cols` matrix (the
 * full `variance` only for vectors: biases and scales, a small share of a model), so 16- or
 * 8-bit state would save next to nothing against the parameters themselves; and each
 * factor is a buffer of its own shape, which the blockwise formats (blocks laid over
 * parameter-shaped buffers) do not cover.
 *
 * Every reduction runs in the kernels in float64 in a fixed order (each row's and each
 * column's mean of g², the row factor's mean, the sums of squares of the RMS values over fixed
 * chunks), so the results are the same bits on both backends and for any thread count.
 * Deliberate differences from PyTorch, each within a few float32 roundings: PyTorch computes
 * the means of g² in float32 (as a norm, squared, then divided), the row factor's mean and the
 * RMS norms in float32; here they are float64 sums rounded once (more accurate). No fused
 * multiply-add (PyTorch's vectorised CPU lerp and add may fuse). `t^beta2Decay` comes from the
 * library's deterministic `detmath.pow`. The two `max` of PyTorch's code on Python floats keep
 * Python's semantics (a NaN RMS is passed over: one NaN gradient of a vector spoils its own
 * element only, as in PyTorch). A parameter with no elements is left alone (PyTorch divides by
 * its zero size and raises).
 *
 * @example
 * const w = store.parameter('w', { shape: [512, 256] }), b = store.parameter('b', 256);
 * const opt = new Adafactor([w, b]);             // lr 1e-2: the cap of the relative step size
 * opt.step();
 */
export class Adafactor extends Optimizer<AdafactorOptions, AdafactorState> {
  constructor(params: ParamsInput<AdafactorOptions>, options?: AdafactorOptionsInput) {
    super(params, options, DEFAULTS, SPEC);
  }

  protected stateBuffers(group: ParamGroup<AdafactorOptions>): readonly string[] {
    const matrices = group.params.some((p) => factored(p.shape)), vectors = group.params.some((p) => !factored(p.shape));
    return [...(matrices ? ['rowVar', 'colVar'] : []), ...(vectors ? ['variance'] : [])];
  }

  protected updateGroup(group: ParamGroup<AdafactorOptions>, state: GroupState, kernels: Kernels): void {
    const fr = Math.fround;
    const t = state.step;
    const weight = fr(pow(t, group.beta2Decay)); // one_minus_beta2_t, as PyTorch's lerp takes it (float32)
    const eps1 = group.eps[0] ?? FLOAT32_EPS;
    const s: StepScalars = {
      rho: Math.min(group.lr, 1 / Math.sqrt(t)), eps1, eps2: group.eps[1], eps1Sq: fr(eps1 * eps1),
      weight, complement: fr(1 - weight), largeWeight: !(Math.abs(weight) < 0.5), decay: fr(1 - group.lr * group.weightDecay),
    };
    for (const p of group.params) {
      if (p.size === 0) continue;
      // alpha = max(eps2, param.norm(2).item() / (param.numel() ** 0.5)) * rho_t, Python's max: a NaN norm gives eps2.
      const alpha = pyMax(s.eps2, Math.sqrt(sumSquares(kernels, p.dataAddress, p.size)) / Math.sqrt(p.size)) * s.rho;
      const update = this.store.scratch('adafactor.update', 4 * p.paddedSize);
      if (factored(p.shape)) {
        factoredUpdate(this.store, kernels, p, this.stateOf(state, 'rowVar', p), this.stateOf(state, 'colVar', p), update, s, group.maximize);
      } else {
        kernels.adafactor({ grad: p.gradAddress, variance: this.stateOf(state, 'variance', p), update }, p.size,
          { weight: s.weight, complement: s.complement, eps1Sq: s.eps1Sq }, { maximize: group.maximize, largeWeight: s.largeWeight });
      }
      // denom = max(1.0, update.norm(2).item() / ((update.numel() ** 0.5) * d)), Python's max: a NaN norm gives 1.
      const denom = pyMax(1, Math.sqrt(sumSquares(kernels, update, p.size)) / (Math.sqrt(p.size) * group.d));
      kernels.adafactorApply({ param: p.dataAddress, update }, p.size, { decay: s.decay, stepSize: fr(alpha / denom) }, { weightDecay: group.weightDecay !== 0 });
    }
  }
}
