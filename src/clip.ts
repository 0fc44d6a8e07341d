// Gradient clipping and non-finite checks over parameters' gradients, in the kernels.
import { Parameter, type ParameterStore } from './store.js';
import { checkKeys, checkNumber, checkOneOf, wrongType } from './validate.js';

/**
 * Elements per partial sum of the 2-norm. The sum of squares is taken chunk by chunk from
 * the start of each run of parameters registered one after another (as if laid end to end,
 * whatever blocks of the arena they landed in), and the partial sums are added in order, so
 * the result depends neither on how the work is split nor on the arena's layout.
 */
export const NORM_CHUNK = 65536;

/** A stretch of gradients that lie back to back in memory. */
interface Piece { address: number; n: number }
/** Parameters registered one after another: the unit the norm chunks over, in memory pieces. */
interface Run { pieces: Piece[]; n: number }
interface Span { store: ParameterStore; runs: Run[]; pieces: Piece[] }

function spans(context: string, params: Parameter | readonly Parameter[]): Span {
  const list = params instanceof Parameter ? [params] : params;
  if (!Array.isArray(list)) wrongType(context, 'params', params, 'a Parameter or an array of Parameters');
  list.forEach((p, i) => {
    if (!(p instanceof Parameter)) wrongType(context, `params[${i}]`, p, 'a Parameter');
  });
  if (list.length === 0) return { store: undefined as unknown as ParameterStore, runs: [], pieces: [] };
  const store = list[0].store;
  store.assertLive(context);
  const seen = new Set<Parameter>();
  for (const p of list) {
    if (p.store !== store) throw new Error(`${context}: parameter ${JSON.stringify(p.name)} belongs to another ParameterStore`);
    if (seen.has(p)) throw new Error(`${context}: parameter ${JSON.stringify(p.name)} is listed twice`);
    seen.add(p);
  }
  const runs: Run[] = [];
  const pieces: Piece[] = [];
  let end = -1;
  // A frozen parameter has no gradient to speak of (PyTorch's clip_grad_norm_ skips a None
  // grad): it is left out, as if not listed.
  for (const p of store.frozenCount === 0 ? list : list.filter((q) => q.requiresGrad)) {
    if (p.position !== end || runs.length === 0) runs.push({ pieces: [], n: 0 });
    const run = runs[runs.length - 1];
    const last = run.pieces[run.pieces.length - 1];
    if (last && last.address + last.n * 4 === p.gradAddress) last.n += p.paddedSize;
    else if (p.paddedSize > 0) run.pieces.push({ address: p.gradAddress, n: p.paddedSize });
    run.n += p.paddedSize;
    end = p.position + p.paddedSize;
  }
  for (const run of runs) {
    for (const piece of run.pieces) {
      const last = pieces[pieces.length - 1];
      if (last && last.address + last.n * 4 === piece.address) last.n += piece.n;
      else pieces.push({ ...piece });
    }
  }
  return { store, runs, pieces };
}

/**
 * The sum of squares of elements [from, from + n) of a run, as the `sumSquares` kernel gives
 * it over contiguous memory: in the kernel when they lie in one piece, else here with the
 * kernel's four float64 lane sums (lane = element index mod 4; pieces are whole vectors).
 */
function chunkSumSquares(store: ParameterStore, run: Run, from: number, n: number): number {
  let at = 0;
  const parts: Piece[] = [];
  for (const piece of run.pieces) {
    const lo = Math.max(from, at), hi = Math.min(from + n, at + piece.n);
    if (lo < hi) parts.push({ address: piece.address + 4 * (lo - at), n: hi - lo });
    at += piece.n;
  }
  if (parts.length === 1) return store.kernels.sumSquares(parts[0].address, parts[0].n);
  const s = [0, 0, 0, 0];
  let k = 0;
  for (const part of parts) {
    const g = store.view(part.address, part.n);
    for (let i = 0; i < part.n; i++, k++) { const x = g[i]; s[k & 3] += x * x; }
  }
  return (s[0] + s[1]) + (s[2] + s[3]);
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
 * and in practice far less; the infinity norm is exact. Frozen parameters (`requiresGrad`
 * false) are left out here and in the clipping and finiteness checks below, as PyTorch leaves
 * out a parameter whose grad is None.
 */
export function gradNorm(params: Parameter | readonly Parameter[], normType = 2): number {
  const { store, runs, pieces } = spans('gradNorm', params);
  checkOneOf('gradNorm', 'normType', normType, [1, 2, Infinity]);
  if (runs.length === 0) return 0;
  const k = store.kernels;
  if (normType === Infinity) {
    // The maximum is exact whatever the order.
    let m = 0;
    for (const r of pieces) {
      for (let i = 0; i < r.n; i += NORM_CHUNK) m = Math.max(m, k.maxAbs(r.address + 4 * i, Math.min(NORM_CHUNK, r.n - i)));
    }
    return m;
  }
  let sum = 0;
  if (normType === 2) {
    for (const r of runs) {
      for (let i = 0; i < r.n; i += NORM_CHUNK) sum += chunkSumSquares(store, r, i, Math.min(NORM_CHUNK, r.n - i));
    }
    return Math.sqrt(sum);
  }
  // 1-norm: |g| summed in float64 (JS; exact per element, in order)
  for (const r of pieces) {
    const g = store.view(r.address, r.n);
    for (let i = 0; i < r.n; i++) sum += Math.abs(g[i]);
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
    const { store, pieces } = spans('clipGradNorm', params);
    for (const r of pieces) store.kernels.scale({ x: r.address }, r.n, { factor: coef });
  }
  return total;
}

/**
 * Clamps every gradient of `params` into `[-clipValue, clipValue]`, in place (PyTorch's
 * `clip_grad_value_`; NaN stays NaN).
 */
export function clipGradValue(params: Parameter | readonly Parameter[], clipValue: number): void {
  checkNumber('clipGradValue', 'clipValue', clipValue, { min: 0 });
  const { store, pieces } = spans('clipGradValue', params);
  for (const r of pieces) store.kernels.clamp({ x: r.address }, r.n, { lo: -clipValue, hi: clipValue });
}

/** True when every gradient element of `params` is finite: one pass, in the kernels. */
export function gradsAreFinite(params: Parameter | readonly Parameter[]): boolean {
  const { store, pieces } = spans('gradsAreFinite', params);
  for (const r of pieces) if (!store.kernels.allFinite(r.address, r.n)) return false;
  return true;
}
