// Gradient clipping and non-finite checks over parameters' gradients, in the kernels.
import { Parameter, type ParameterStore } from './store.js';
import { checkKeys, checkNumber, checkOneOf, wrongType } from './validate.js';

/**
 * Elements per partial sum of the 2-norm. The sum of squares is taken chunk by chunk from
 * the start of each run of adjacent parameters, and the partial sums are added in order, so
 * the result does not depend on how the work is split (a thread takes whole chunks).
 */
export const NORM_CHUNK = 65536;

interface Span { store: ParameterStore; runs: { offset: number; n: number }[] }

function spans(context: string, params: Parameter | readonly Parameter[]): Span {
  const list = params instanceof Parameter ? [params] : params;
  if (!Array.isArray(list)) wrongType(context, 'params', params, 'a Parameter or an array of Parameters');
  list.forEach((p, i) => {
    if (!(p instanceof Parameter)) wrongType(context, `params[${i}]`, p, 'a Parameter');
  });
  if (list.length === 0) return { store: undefined as unknown as ParameterStore, runs: [] };
  const store = list[0].store;
  store.assertLive(context);
  const seen = new Set<Parameter>();
  for (const p of list) {
    if (p.store !== store) throw new Error(`${context}: parameter ${JSON.stringify(p.name)} belongs to another ParameterStore`);
    if (seen.has(p)) throw new Error(`${context}: parameter ${JSON.stringify(p.name)} is listed twice`);
    seen.add(p);
  }
  const runs: { offset: number; n: number }[] = [];
  for (const p of list) {
    const last = runs[runs.length - 1];
    if (last && last.offset + last.n * 4 === p.offset) last.n += p.paddedSize;
    else runs.push({ offset: p.offset, n: p.paddedSize });
  }
  return { store, runs };
}

/** Options of {@link clipGradNorm}. */
export interface ClipGradNormOptions {
  /** 2 (default), 1, or Infinity. */
  normType?: number;
  /** Throw when the total norm is NaN or infinite, instead of scaling by it (default false). */
  errorIfNonfinite?: boolean;
}

/**
 * The norm of all the gradients of `params` together (as if concatenated into one vector).
 * For the 2-norm and 1-norm, each square (or absolute value) is exact in float64 and the sum
 * is float64, so the relative error is at most about n * 2^-53 (n the number of elements)
 * and in practice far less; the infinity norm is exact.
 */
export function gradNorm(params: Parameter | readonly Parameter[], normType = 2): number {
  const { store, runs } = spans('gradNorm', params);
  checkOneOf('gradNorm', 'normType', normType, [1, 2, Infinity]);
  if (runs.length === 0) return 0;
  const k = store.kernels;
  const base = store.gradBase;
  if (normType === Infinity) {
    let m = 0;
    for (const r of runs) {
      for (let i = 0; i < r.n; i += NORM_CHUNK) m = Math.max(m, k.maxAbs(base + r.offset + 4 * i, Math.min(NORM_CHUNK, r.n - i)));
    }
    return m;
  }
  let sum = 0;
  if (normType === 2) {
    for (const r of runs) {
      for (let i = 0; i < r.n; i += NORM_CHUNK) sum += k.sumSquares(base + r.offset + 4 * i, Math.min(NORM_CHUNK, r.n - i));
    }
    return Math.sqrt(sum);
  }
  // 1-norm: |g| summed in float64 (JS; exact per element, in order)
  const heap = store.heap();
  for (const r of runs) {
    const from = (base + r.offset) >>> 2;
    for (let i = 0; i < r.n; i++) sum += Math.abs(heap[from + i]);
  }
  return sum;
}

/**
 * Clips the gradients of `params` so that their total norm is at most `maxNorm`, in place,
 * with PyTorch's `clip_grad_norm_` semantics: the gradients are multiplied by
 * `min(1, maxNorm / (totalNorm + 1e-6))` (rounded to float32). Returns the total norm before
 * clipping. With `errorIfNonfinite`, a NaN or infinite norm throws and nothing changes;
 * otherwise the gradients are scaled by the non-finite coefficient, as PyTorch does.
 * Both backends give the same norm and the same clipped gradients, bit for bit.
 *
 * @example
 * const norm = clipGradNorm([w, b], 1.0);
 */
export function clipGradNorm(params: Parameter | readonly Parameter[], maxNorm: number, options: ClipGradNormOptions = {}): number {
  checkNumber('clipGradNorm', 'maxNorm', maxNorm, { min: 0 });
  checkKeys('clipGradNorm', options, ['normType', 'errorIfNonfinite']);
  const total = gradNorm(params, options.normType ?? 2);
  if (!Number.isFinite(total) && options.errorIfNonfinite) {
    throw new Error(`clipGradNorm: the total norm of order ${options.normType ?? 2} of the gradients is ${total}, so it cannot be clipped; ` +
      'pass errorIfNonfinite: false to scale the gradients by the non-finite norm anyway');
  }
  const coef = Math.fround(maxNorm / (total + 1e-6));
  if (!(coef >= 1)) {
    const { store, runs } = spans('clipGradNorm', params);
    for (const r of runs) store.kernels.scale({ x: store.gradBase + r.offset }, r.n, { factor: coef });
  }
  return total;
}

/**
 * Clamps every gradient of `params` into `[-clipValue, clipValue]`, in place (PyTorch's
 * `clip_grad_value_`; NaN stays NaN).
 */
export function clipGradValue(params: Parameter | readonly Parameter[], clipValue: number): void {
  checkNumber('clipGradValue', 'clipValue', clipValue, { min: 0 });
  const { store, runs } = spans('clipGradValue', params);
  for (const r of runs) store.kernels.clamp({ x: store.gradBase + r.offset }, r.n, { lo: -clipValue, hi: clipValue });
}

/** True when every gradient element of `params` is finite: one pass, in the kernels. */
export function gradsAreFinite(params: Parameter | readonly Parameter[]): boolean {
  const { store, runs } = spans('gradsAreFinite', params);
  for (const r of runs) if (!store.kernels.allFinite(store.gradBase + r.offset, r.n)) return false;
  return true;
}
