import { NORM_CHUNK } from '../clip.js';
import { Parameter } from '../store.js';
import { checkNumber, describe, number, refuse, type Check } from '../validate.js';
import { activeRuns } from './frozen.js';
import { slotOf } from './groups.js';
import {
  Optimizer, type GroupState, type LoadStateOptions, type OptimizerSnapshot, type OptimizerSpec, type OptimizerStateDict,
  type ParamGroupInput, type ParameterState, type ParamsInput,
} from './optimizer.js';
import { allocateBuffer, type StateBuffer } from './state.js';

/** The line searches {@link LBFGS} can run: none (a fixed step of `lr`), or one satisfying the strong Wolfe conditions. */
export type LBFGSLineSearchFn = 'strong_wolfe' | null;

/** Options of {@link LBFGS} (PyTorch's, camelCase). */
export interface LBFGSOptions {
  /** Learning rate: the step length along the search direction (the line search's first guess), >= 0 (default 1). */
  lr: number;
  /** Most iterations per `step()`, a whole number >= 1 (default 20). */
  maxIter: number;
  /** Most closure evaluations per `step()`, a whole number >= 1 (default `floor(maxIter * 5 / 4)`, of the maxIter given). */
  maxEval: number;
  /** Stop when the largest |gradient| is at most this, >= 0 (default 1e-7). */
  toleranceGrad: number;
  /** Stop when the loss, the step or the directional derivative changes less than this, >= 0 (default 1e-9). */
  toleranceChange: number;
  /** Curvature pairs kept (the "limited memory"), a whole number >= 1 (default 100). */
  historySize: number;
  /** `'strong_wolfe'` or `null` (default null: a fixed step of `lr`). */
  lineSearchFn: LBFGSLineSearchFn;
}

/**
 * L-BFGS's state, seen from any of its parameters (`opt.state(p)`): L-BFGS keeps one flat
 * vector over all its parameters (their values laid end to end, in group order), and each
 * parameter sees its own slice of each. `oldDirs.<i>` and `oldStps.<i>` are the history,
 * oldest first (PyTorch's `old_dirs[i]`, `old_stps[i]`).
 */
export interface LBFGSState extends ParameterState {
  /** Completed `step()` calls. */
  step: number;
  /** Closure evaluations over all steps (PyTorch's `func_evals`). */
  funcEvals?: number;
  /** Iterations over all steps (PyTorch's `n_iter`). */
  nIter?: number;
  /** The last step length (PyTorch's `t`), in float64. */
  t?: number;
  /** The last search direction d (a live view). */
  direction?: Float32Array;
  /** The flat gradient of the last iteration (a live view). */
  prevFlatGrad?: Float32Array;
}

/** What LBFGS's constructor accepts: any of {@link LBFGSOptions}, the rest from the defaults. */
export type LBFGSOptionsInput = Partial<LBFGSOptions>;

const whole = (label: string, min: number): Check => (value, context) => { checkNumber(context, label, value, { min, integer: true }); };

const LINE_SEARCHES: readonly LBFGSLineSearchFn[] = ['strong_wolfe', null];

const SPEC: OptimizerSpec<LBFGSOptions> = {
  name: 'LBFGS',
  buffers: ['direction', 'prevFlatGrad', { name: 'oldDirs', slots: true }, { name: 'oldStps', slots: true }],
  scalars: ['funcEvals', 'nIter', 't'],
  closure: true,
  checks: {
    lr: number('learning rate (lr)'),
    maxIter: whole('maxIter', 1),
    maxEval: whole('maxEval', 1),
    toleranceGrad: number('toleranceGrad'),
    toleranceChange: number('toleranceChange'),
    historySize: whole('historySize', 1),
    lineSearchFn: (value, context) => {
      if (!LINE_SEARCHES.includes(value as LBFGSLineSearchFn)) {
        throw new RangeError(`${context}: invalid lineSearchFn: ${describe(value)} (must be 'strong_wolfe' or null; only 'strong_wolfe' is supported, as in PyTorch)`);
      }
    },
  },
};

const DEFAULTS: LBFGSOptions = {
  lr: 1, maxIter: 20, maxEval: 25, toleranceGrad: 1e-7, toleranceChange: 1e-9, historySize: 100, lineSearchFn: null,
};

/** Python's `min(a, b)`: `a` unless `b < a` (so `min(1, NaN)` is 1). */
const pyMin = (a: number, b: number) => (b < a ? b : a);
/** Python's `max(a, b)`: `a` unless `b > a`. */
const pyMax = (a: number, b: number) => (b > a ? b : a);

/**
 * The minimiser of the cubic through (x1, f1) and (x2, f2) with slopes g1 and g2, clamped to
 * `bounds` (default: between x1 and x2); the bounds' midpoint when the cubic has no minimum.
 * torch.optim.lbfgs._cubic_interpolate, transcribed (in float64; PyTorch computes with the
 * float32 tensors it is given).
 */
export function cubicInterpolate(x1: number, f1: number, g1: number, x2: number, f2: number, g2: number, bounds?: readonly [number, number]): number {
  const [xminBound, xmaxBound] = bounds ?? (x1 <= x2 ? [x1, x2] : [x2, x1]);
  const d1 = g1 + g2 - (3 * (f1 - f2)) / (x1 - x2);
  const d2Square = d1 * d1 - g1 * g2;
  if (d2Square >= 0) {
    const d2 = Math.sqrt(d2Square);
    const minPos = x1 <= x2
      ? x2 - (x2 - x1) * ((g2 + d2 - d1) / (g2 - g1 + 2 * d2))
      : x1 - (x1 - x2) * ((g1 + d2 - d1) / (g1 - g2 + 2 * d2));
    return pyMin(pyMax(minPos, xminBound), xmaxBound);
  }
  return (xminBound + xmaxBound) / 2;
}

/**
 * The objective along the search direction: loss and flat gradient (an arena address) at step
 * length t; `live` lists the flat gradients the caller still holds (the new one goes elsewhere).
 */
type Objective = (t: number, live: readonly number[]) => { loss: number; grad: number };

/**
 * A line search for a step length satisfying the strong Wolfe conditions:
 * torch.optim.lbfgs._strong_wolfe, transcribed (float64 scalars). `g` is the flat gradient at
 * t = 0 (an address; flat gradients are never changed once evaluated, so PyTorch's clones are
 * references here); `dNorm` is max |d|. Returns the loss, the flat gradient (address), the step
 * length and the number of evaluations.
 */
function strongWolfe(obj: Objective, dot: (a: number) => number, dNorm: number, t: number, f: number, g: number, gtd: number,
  c1 = 1e-4, c2 = 0.9, toleranceChange = 1e-9, maxLs = 25): { loss: number; grad: number; t: number; evals: number } {
  let { loss: fNew, grad: gNew } = obj(t, [g]);
  let lsFuncEvals = 1;
  let gtdNew = dot(gNew);
  // bracket an interval containing a point satisfying the Wolfe criteria
  let tPrev = 0, fPrev = f, gPrev = g, gtdPrev = gtd;
  let done = false;
  let lsIter = 0;
  let bracket: number[] = [], bracketF: number[] = [], bracketG: number[] = [], bracketGtd: number[] = [];
  while (lsIter < maxLs) {
    // check conditions
    if (fNew > f + c1 * t * gtd || (lsIter > 1 && fNew >= fPrev)) {
      bracket = [tPrev, t]; bracketF = [fPrev, fNew]; bracketG = [gPrev, gNew]; bracketGtd = [gtdPrev, gtdNew];
      break;
    }
    if (Math.abs(gtdNew) <= -c2 * gtd) {
      bracket = [t]; bracketF = [fNew]; bracketG = [gNew];
      done = true;
      break;
    }
    if (gtdNew >= 0) {
      bracket = [tPrev, t]; bracketF = [fPrev, fNew]; bracketG = [gPrev, gNew]; bracketGtd = [gtdPrev, gtdNew];
      break;
    }
    // interpolate
    const minStep = t + 0.01 * (t - tPrev);
    const maxStep = t * 10;
    const tmp = t;
    t = cubicInterpolate(tPrev, fPrev, gtdPrev, t, fNew, gtdNew, [minStep, maxStep]);
    // next step
    tPrev = tmp; fPrev = fNew; gPrev = gNew; gtdPrev = gtdNew;
    ({ loss: fNew, grad: gNew } = obj(t, [g, gPrev]));
    lsFuncEvals++;
    gtdNew = dot(gNew);
    lsIter++;
  }
  // reached max number of iterations?
  if (lsIter === maxLs) {
    bracket = [0, t]; bracketF = [f, fNew]; bracketG = [g, gNew];
  }
  // zoom phase: refine the bracket until a point satisfies the criteria
  let insufProgress = false;
  // One point (the Wolfe conditions held at once): that point, also when its loss is NaN
  // (where PyTorch's comparison of the point with itself fails and it raises an IndexError).
  let [lowPos, highPos] = bracketF.length === 1 || bracketF[0] <= bracketF[bracketF.length - 1] ? [0, 1] : [1, 0];
  while (!done && lsIter < maxLs) {
    // line-search bracket is so small
    if (Math.abs(bracket[1] - bracket[0]) * dNorm < toleranceChange) break;
    // compute new trial value
    t = cubicInterpolate(bracket[0], bracketF[0], bracketGtd[0], bracket[1], bracketF[1], bracketGtd[1]);
    // t close to a boundary: insufficient progress, or t at a boundary, moves it 0.1 of the bracket inside
    const bMax = pyMax(bracket[0], bracket[1]), bMin = pyMin(bracket[0], bracket[1]);
    const eps = 0.1 * (bMax - bMin);
    if (pyMin(bMax - t, t - bMin) < eps) {
      if (insufProgress || t >= bMax || t <= bMin) {
        t = Math.abs(t - bMax) < Math.abs(t - bMin) ? bMax - eps : bMin + eps;
        insufProgress = false;
      } else {
        insufProgress = true;
      }
    } else {
      insufProgress = false;
    }
    // evaluate new point
    ({ loss: fNew, grad: gNew } = obj(t, [g, ...bracketG]));
    lsFuncEvals++;
    gtdNew = dot(gNew);
    lsIter++;
    if (fNew > f + c1 * t * gtd || fNew >= bracketF[lowPos]) {
      // Armijo condition not satisfied or not lower than lowest point
      bracket[highPos] = t; bracketF[highPos] = fNew; bracketG[highPos] = gNew; bracketGtd[highPos] = gtdNew;
      [lowPos, highPos] = bracketF[0] <= bracketF[1] ? [0, 1] : [1, 0];
    } else {
      if (Math.abs(gtdNew) <= -c2 * gtd) {
        done = true; // Wolfe conditions satisfied
      } else if (gtdNew * (bracket[highPos] - bracket[lowPos]) >= 0) {
        // old high becomes new low
        bracket[highPos] = bracket[lowPos]; bracketF[highPos] = bracketF[lowPos]; bracketG[highPos] = bracketG[lowPos]; bracketGtd[highPos] = bracketGtd[lowPos];
      }
      // new point becomes new low
      bracket[lowPos] = t; bracketF[lowPos] = fNew; bracketG[lowPos] = gNew; bracketGtd[lowPos] = gtdNew;
    }
  }
  return { loss: bracketF[lowPos], grad: bracketG[lowPos], t: bracket[lowPos], evals: lsFuncEvals };
}

/** Flat gradients the step holds at once, at most: the line search's g, two in its bracket (or g_prev) and the new one. */
const POOL_SIZE = 4;

/**
 * L-BFGS (Liu and Nocedal, 1989), PyTorch's `torch.optim.LBFGS` (torch/optim/lbfgs.py; the
 * same algorithm in PyTorch 1.13 and today's main): a quasi-Newton method that builds the
 * search direction from the last `historySize` pairs of steps s and gradient changes y, with
 * an optional line search satisfying the strong Wolfe conditions (`_strong_wolfe` and
 * `_cubic_interpolate`, transcribed). Each `step(closure)` runs up to `maxIter` iterations and
 * `maxEval` evaluations of the closure, which re-evaluates the model, writes every parameter's
 * gradient (`p.grad`) and returns the loss:
 *
 *     d = -g                                   (first iteration)
 *     y = g - gPrev;  s = d*t;  if y·s > 1e-10: keep (y, s), H = y·s / y·y
 *     q = -g;  for i newest..oldest: a_i = (s_i·q)/(y_i·s_i);  q -= a_i*y_i
 *     d = H*q;  for i oldest..newest: b_i = (y_i·d)/(y_i·s_i);  d += (a_i - b_i)*s_i
 *     t = first iteration ? min(1, 1/|g|_1)*lr : lr;  (line search: t with strong Wolfe)
 *     p += t*d
 *
 * and stops early on a small gradient (`toleranceGrad`), a small change (`toleranceChange`)
 * or a non-descent direction, as PyTorch does. Defaults (PyTorch's): `lr = 1, maxIter = 20,
 * maxEval = floor(maxIter * 5 / 4), toleranceGrad = 1e-7, toleranceChange = 1e-9,
 * historySize = 100, lineSearchFn = null`. Only one param group, as PyTorch requires.
 *
 * The flat vectors (direction, previous gradient, the history) live in the arena as state
 * buffers, each parameter's slice where its state sits; the flat gradient, the line search's
 * gradients and its copy of the parameters are scratch. Dot products and sums are the kernels'
 * float64 reductions over fixed chunks of {@link NORM_CHUNK} elements added in order, and the
 * updates are element-wise kernels, so results are the same bits on both backends and any
 * thread count. State: `direction`, `prevFlatGrad`, `oldDirs.<i>` and `oldStps.<i>` (oldest
 * first), and the scalars `funcEvals`, `nIter` and `t`: a state dict or checkpoint resumes
 * exactly.
 *
 * Deliberate differences: the host scalars (dot products, `ro`, `H_diag`, `al`, `t`, the
 * directional derivatives, the line search's arithmetic) are float64, where PyTorch keeps most
 * of them as float32 tensors; they reach the kernels rounded to float32. `ro` and `H_diag` are
 * not saved but recomputed from the saved history (the same bits); `al` is scratch, and
 * `prev_loss`, which is always overwritten before it is read, is not kept. A NaN loss where
 * the line search's first trial already satisfies the Wolfe conditions takes that trial (PyTorch
 * raises an IndexError there). Lowering `historySize` mid-run drops the oldest pairs at the
 * next update (PyTorch's `==` test would let the history grow without bound). A frozen parameter (`requiresGrad` false) counts with a
 * zero gradient (PyTorch's treatment of a missing grad) and is not moved. `lineSearchFn` is
 * checked at construction, not at the first step. `stepIfFinite` is refused: the gradients are
 * the closure's, inside the step.
 *
 * @example
 * const opt = new LBFGS([w, b], { lineSearchFn: 'strong_wolfe' });
 * for (let i = 0; i < 10; i++) {
 *   opt.step(() => { const { loss } = model.lossAndGrad(batch); return loss; });
 * }
 */
export class LBFGS extends Optimizer<LBFGSOptions, LBFGSState> {
  /** Scratch flat vectors, allocated on first use: the pool of flat gradients, the parameters' copy, the spare pair. */
  readonly #scratch = new Map<string, number>();
  /** Storage of history pairs dropped or unloaded, reused before the arena grows. */
  readonly #free: StateBuffer[] = [];
  /** Cached 1 / (y_i·s_i) of the history, and H_diag; recomputed from the buffers when undefined. */
  #ro: number[] | undefined;
  #hDiag = 1;

  constructor(params: ParamsInput<LBFGSOptions>, options?: LBFGSOptionsInput) {
    if (Array.isArray(params) && params.length > 1 && !params.every((p) => p instanceof Parameter)) {
      throw new Error("LBFGS doesn't support per-parameter options (parameter groups): pass one list of parameters or one group");
    }
    const maxIter = (options as { maxIter?: unknown } | undefined)?.maxIter;
    const maxEval = typeof maxIter === 'number' ? Math.floor((maxIter * 5) / 4) : DEFAULTS.maxEval;
    super(params, options, { ...DEFAULTS, maxEval }, SPEC);
  }

  /** Refused: L-BFGS keeps one flat state over all its parameters, so it has exactly one param group (as in PyTorch). */
  override addParamGroup(_input: ParamGroupInput<LBFGSOptions>): void {
    throw new Error("LBFGS doesn't support per-parameter options (parameter groups): build it over all the parameters at once");
  }

  protected stateBuffers(): readonly string[] {
    return ['direction', 'prevFlatGrad'];
  }

  protected updateGroup(): void {
    throw new Error('LBFGS: internal error: the step is driven by step(closure), not per group');
  }

  /** Refused: L-BFGS's gradients are the closure's, evaluated inside `step`; check them there. */
  override stepIfFinite(): boolean {
    throw new Error('LBFGS.stepIfFinite is not supported: the closure computes the gradients inside step(closure), several times per step; check the loss in the closure instead');
  }

  get #gs(): GroupState {
    return this.groupStates[0];
  }

  #count(): number {
    let k = 0;
    while (this.#gs.buffers.has(`oldDirs.${k}`)) k++;
    return k;
  }

  /** A scratch flat vector of the group's length, allocated once per name. */
  #flat(name: string): number {
    let address = this.#scratch.get(name);
    if (address === undefined) {
      address = this.store.allocate(4 * this.#gs.elements);
      this.#scratch.set(name, address);
    }
    return address;
  }

  /** A buffer for a new history vector: a freed one, or a new one. */
  #takeBuffer(): StateBuffer {
    return this.#free.pop() ?? allocateBuffer(this.store, this.#gs);
  }

  /** Puts the group's buffers in their canonical order: direction, prevFlatGrad, then the history by index. */
  #reorder(): void {
    const buffers = this.#gs.buffers;
    const entries = [...buffers];
    const rank = (name: string) => {
      const slot = slotOf(name);
      if (slot === undefined) return name === 'direction' ? -2 : -1;
      return (slot.family === 'oldDirs' ? 0 : 1) * 1e9 + slot.index;
    };
    entries.sort((a, b) => rank(a[0]) - rank(b[0]));
    buffers.clear();
    for (const [name, buffer] of entries) buffers.set(name, buffer);
  }

  /**
   * Makes the history what the buffers say after a load or restore: the pairs 0..k-1 that were
   * written stay, any other slot (unwritten, or past a gap) is released; ro and H_diag are
   * recomputed on next use.
   */
  #resync(): void {
    const gs = this.#gs;
    let k = 0;
    while (gs.buffers.has(`oldDirs.${k}`) && gs.buffers.has(`oldStps.${k}`) && !gs.fresh.has(`oldDirs.${k}`) && !gs.fresh.has(`oldStps.${k}`)) k++;
    for (const name of [...gs.buffers.keys()]) {
      const slot = slotOf(name);
      if (slot !== undefined && slot.index >= k) {
        this.#free.push(gs.buffers.get(name)!);
        gs.buffers.delete(name);
        gs.fresh.delete(name);
      }
    }
    this.#reorder();
    this.#ro = undefined;
  }

  // ---- flat-vector operations: kernels over the group's layout ---------------------------

  /** Dot product of two flat vectors: chunks of NORM_CHUNK elements, their sums added in order. */
  #dot(a: number, b: number): number {
    const k = this.store.kernels, n = this.#gs.elements;
    let sum = 0;
    for (let i = 0; i < n; i += NORM_CHUNK) sum += k.dot(a + 4 * i, b + 4 * i, Math.min(NORM_CHUNK, n - i));
    return sum;
  }

  /** Sum of |x| of a flat vector, chunk by chunk as {@link #dot}. */
  #sumAbs(a: number): number {
    const k = this.store.kernels, n = this.#gs.elements;
    let sum = 0;
    for (let i = 0; i < n; i += NORM_CHUNK) sum += k.sumAbs(a + 4 * i, Math.min(NORM_CHUNK, n - i));
    return sum;
  }

  /** Largest |x| of a flat vector (exact; NaN if any is NaN). */
  #maxAbs(a: number): number {
    const k = this.store.kernels, n = this.#gs.elements;
    let m = 0;
    for (let i = 0; i < n; i += NORM_CHUNK) {
      const c = k.maxAbs(a + 4 * i, Math.min(NORM_CHUNK, n - i));
      m = Number.isNaN(c) || Number.isNaN(m) ? NaN : Math.max(m, c);
    }
    return m;
  }

  /** The parameters' gradients laid into a flat vector (PyTorch's `_gather_flat_grad`); a frozen parameter's are zeros. */
  #gather(dst: number): void {
    const gs = this.#gs, k = this.store.kernels;
    const params = this.paramGroups[0].params;
    if (this.store.frozenCount === 0) {
      for (const run of gs.runs) k.copy({ dst: dst + 4 * run.state, src: run.grad }, run.n);
      return;
    }
    params.forEach((p, i) => {
      if (p.requiresGrad) k.copy({ dst: dst + 4 * gs.paramOffsets[i], src: p.gradAddress }, p.paddedSize);
      else this.store.view(dst + 4 * gs.paramOffsets[i], p.paddedSize).fill(0);
    });
  }

  /** p += t*d on every parameter that is not frozen (PyTorch's `_add_grad`). */
  #addGrad(t: number, d: number): void {
    const k = this.store.kernels, alpha = Math.fround(t);
    for (const run of activeRuns(this.paramGroups[0].params, this.#gs)) k.axpy({ x: run.data, y: d + 4 * run.state }, run.n, { alpha });
  }

  /** Copies the parameters' values into a flat vector (PyTorch's `_clone_param`). */
  #cloneParams(dst: number): void {
    const k = this.store.kernels;
    for (const run of this.#gs.runs) k.copy({ dst: dst + 4 * run.state, src: run.data }, run.n);
  }

  /** Sets the parameters (those not frozen) from a flat vector (PyTorch's `_set_param`). */
  #setParams(src: number): void {
    const k = this.store.kernels;
    for (const run of activeRuns(this.paramGroups[0].params, this.#gs)) k.copy({ dst: run.data, src: src + 4 * run.state }, run.n);
  }

  /** ro_i = 1/(y_i·s_i) of every pair and H_diag (1 with no history), from the buffers when not cached. */
  #cache(): number[] {
    if (this.#ro !== undefined) return this.#ro;
    const gs = this.#gs, count = this.#count();
    const ro: number[] = [];
    for (let i = 0; i < count; i++) ro.push(1 / this.#dot(gs.buffers.get(`oldDirs.${i}`)!.address, gs.buffers.get(`oldStps.${i}`)!.address));
    if (count > 0) {
      const y = gs.buffers.get(`oldDirs.${count - 1}`)!.address;
      this.#hDiag = (1 / ro[count - 1]) / this.#dot(y, y);
    } else {
      this.#hDiag = 1;
    }
    this.#ro = ro;
    return ro;
  }

  /**
   * Performs one L-BFGS step: up to `maxIter` iterations and `maxEval` evaluations of
   * `closure`, which must re-evaluate the model, write every parameter's gradient (`p.grad`)
   * and return the loss. Returns the loss of the first evaluation (at the parameters as they
   * were), as PyTorch does.
   * @param closure re-evaluates the loss and the gradients; required.
   */
  override step(closure?: () => number): number {
    this.store.assertLive('LBFGS');
    if (typeof closure !== 'function') {
      throw new TypeError('LBFGS.step: a closure is required: a function that re-evaluates the model, writes every parameter\'s gradient (p.grad) ' +
        `and returns the loss, got ${describe(closure)} (L-BFGS evaluates it several times per step)`);
    }
    const group = this.paramGroups[0];
    this.validateGroup(group, 'LBFGS');
    const gs = this.#gs, k = this.store.kernels, sc = gs.scalars;
    const { lr, maxIter, maxEval, toleranceGrad, toleranceChange, lineSearchFn, historySize } = group;
    const evaluate = (): number => {
      const value = closure();
      if (typeof value !== 'number') throw new TypeError(`LBFGS.step: the closure must return the loss as a number, got ${describe(value)}`);
      return value;
    };
    const pool = Array.from({ length: POOL_SIZE }, (_, i) => `grad${i}`);
    /** A pool buffer no live flat gradient holds. */
    const acquire = (live: readonly number[]): number => {
      for (const name of pool) {
        const address = this.#flat(name);
        if (!live.includes(address)) return address;
      }
      throw new Error('LBFGS: internal error: the line search holds more flat gradients than the pool has');
    };
    const d = gs.buffers.get('direction')!.address;
    const prevFlatGrad = gs.buffers.get('prevFlatGrad')!.address;
    gs.step++;
    sc.funcEvals ??= 0;
    sc.nIter ??= 0;

    // evaluate initial f(x) and df/dx
    const origLoss = evaluate();
    let loss = origLoss;
    let currentEvals = 1;
    sc.funcEvals += 1;
    let flatGrad = acquire([]);
    this.#gather(flatGrad);
    let optCond = this.#maxAbs(flatGrad) <= toleranceGrad;
    // optimal condition
    if (optCond) return origLoss;

    let t = sc.t ?? 0;
    let ro = this.#cache();
    let nIter = 0;
    while (nIter < maxIter) {
      nIter++;
      sc.nIter++;
      // compute gradient descent direction
      if (sc.nIter === 1) {
        k.negate({ dst: d, src: flatGrad }, gs.elements);
        this.#resetHistory();
        ro = this.#cache();
      } else {
        // do lbfgs update (update memory)
        const y = this.#flat('spareY'), s = this.#flat('spareS');
        k.lbfgsPair({ grad: flatGrad, prevGrad: prevFlatGrad, direction: d, gradChange: y, step: s }, gs.elements, { t: Math.fround(t) });
        const ys = this.#dot(y, s);
        if (ys > 1e-10) {
          ro = this.#push(historySize, ys);
          // update scale of initial Hessian approximation
          const newest = gs.buffers.get(`oldDirs.${ro.length - 1}`)!.address;
          this.#hDiag = ys / this.#dot(newest, newest);
        }
        // the approximate inverse Hessian times the gradient, in the direction's buffer
        const numOld = ro.length;
        const oldDir = (i: number) => gs.buffers.get(`oldDirs.${i}`)!.address;
        const oldStp = (i: number) => gs.buffers.get(`oldStps.${i}`)!.address;
        const al: number[] = new Array<number>(numOld);
        k.negate({ dst: d, src: flatGrad }, gs.elements); // q
        for (let i = numOld - 1; i >= 0; i--) {
          al[i] = this.#dot(oldStp(i), d) * ro[i];
          k.axpy({ x: d, y: oldDir(i) }, gs.elements, { alpha: Math.fround(-al[i]) });
        }
        // multiply by initial Hessian; r/d is the final direction
        k.scale({ x: d }, gs.elements, { factor: Math.fround(this.#hDiag) });
        for (let i = 0; i < numOld; i++) {
          const beI = this.#dot(oldDir(i), d) * ro[i];
          k.axpy({ x: d, y: oldStp(i) }, gs.elements, { alpha: Math.fround(al[i] - beI) });
        }
      }
      k.copy({ dst: prevFlatGrad, src: flatGrad }, gs.elements);
      gs.fresh.delete('direction');
      gs.fresh.delete('prevFlatGrad');
      const prevLoss = loss;

      // compute step length: reset initial guess for step size
      t = sc.nIter === 1 ? pyMin(1, 1 / this.#sumAbs(flatGrad)) * lr : lr;
      sc.t = t;
      // directional derivative
      const gtd = this.#dot(flatGrad, d);
      // directional derivative is below tolerance
      if (gtd > -toleranceChange) break;

      let lsFuncEvals = 0;
      if (lineSearchFn === 'strong_wolfe') {
        const xInit = this.#flat('xInit');
        this.#cloneParams(xInit);
        const obj: Objective = (step, live) => {
          this.#addGrad(step, d);
          const value = evaluate();
          const grad = acquire(live);
          this.#gather(grad);
          this.#setParams(xInit);
          return { loss: value, grad };
        };
        const r = strongWolfe(obj, (g) => this.#dot(g, d), this.#maxAbs(d), t, loss, flatGrad, gtd);
        ({ loss, t } = r);
        flatGrad = r.grad;
        lsFuncEvals = r.evals;
        sc.t = t;
        this.#addGrad(t, d);
        optCond = this.#maxAbs(flatGrad) <= toleranceGrad;
      } else {
        // no line search, simply move with fixed-step
        this.#addGrad(t, d);
        if (nIter !== maxIter) {
          // re-evaluate function only if not in last iteration
          loss = evaluate();
          flatGrad = acquire([flatGrad]);
          this.#gather(flatGrad);
          optCond = this.#maxAbs(flatGrad) <= toleranceGrad;
          lsFuncEvals = 1;
        }
      }
      // update func eval
      currentEvals += lsFuncEvals;
      sc.funcEvals += lsFuncEvals;

      // check conditions
      if (nIter === maxIter) break;
      if (currentEvals >= maxEval) break;
      // optimal condition
      if (optCond) break;
      // lack of progress
      if (this.#maxAbs(d) * Math.abs(t) <= toleranceChange) break;
      if (Math.abs(loss - prevLoss) < toleranceChange) break;
    }
    return origLoss;
  }

  /** Forgets the history (the first iteration ever). */
  #resetHistory(): void {
    const gs = this.#gs;
    for (const name of [...gs.buffers.keys()]) {
      if (slotOf(name) === undefined) continue;
      this.#free.push(gs.buffers.get(name)!);
      gs.buffers.delete(name);
      gs.fresh.delete(name);
    }
    this.#ro = [];
    this.#hDiag = 1;
  }

  /**
   * Keeps the spare pair (y, s) as the newest of the history, dropping the oldest pairs first so
   * that at most `historySize` remain; returns the updated ro.
   */
  #push(historySize: number, ys: number): number[] {
    const gs = this.#gs;
    const ro = this.#cache();
    let count = ro.length;
    if (count >= historySize) {
      // shift history by one (limited-memory); more when historySize was lowered
      const drop = count - historySize + 1;
      const dirs: StateBuffer[] = [], stps: StateBuffer[] = [];
      for (let i = 0; i < count; i++) {
        dirs.push(gs.buffers.get(`oldDirs.${i}`)!);
        stps.push(gs.buffers.get(`oldStps.${i}`)!);
        gs.buffers.delete(`oldDirs.${i}`);
        gs.buffers.delete(`oldStps.${i}`);
      }
      this.#free.push(...dirs.splice(0, drop), ...stps.splice(0, drop));
      ro.splice(0, drop);
      count -= drop;
      dirs.forEach((b, i) => gs.buffers.set(`oldDirs.${i}`, b));
      stps.forEach((b, i) => gs.buffers.set(`oldStps.${i}`, b));
    }
    // store new direction/step: the spare pair's storage becomes the newest slot, and new spares are taken
    const y = this.#scratch.get('spareY')!, s = this.#scratch.get('spareS')!;
    gs.buffers.set(`oldDirs.${count}`, { address: y, dtype: 'float32' });
    gs.buffers.set(`oldStps.${count}`, { address: s, dtype: 'float32' });
    const nextY = this.#takeBuffer(), nextS = this.#takeBuffer();
    this.#scratch.set('spareY', nextY.address);
    this.#scratch.set('spareS', nextS.address);
    ro.push(1 / ys);
    this.#reorder();
    return ro;
  }

  /**
   * Checks a state dict as every optimizer does, and what L-BFGS needs besides: one state for
   * all parameters (the same step, scalars and buffers in every entry), whole counts, `t` and
   * the flat vectors once it has iterated, and a history of pairs `oldDirs.i`/`oldStps.i` for
   * i = 0..k-1.
   */
  override checkStateDict(input: unknown, options: LoadStateOptions = {}): OptimizerStateDict {
    const sd = super.checkStateDict(input, options);
    const fail = refuse('LBFGS.loadStateDict');
    const entries = this.paramGroups[0].params.map((_, i) => sd.state[i]);
    const keys = (e: object) => Object.keys(e).sort().join(',');
    entries.forEach((e, i) => {
      if (keys(e) !== keys(entries[0])) fail(`parameter ${i} holds state ${keys(e) || 'none'}, parameter 0 ${keys(entries[0]) || 'none'}: LBFGS keeps one state for all its parameters`);
      for (const key of ['step', 'funcEvals', 'nIter', 't']) {
        if (key in e && !Object.is(e[key], entries[0][key])) fail(`parameter ${i} has ${key} ${describe(e[key])}, parameter 0 ${describe(entries[0][key])}: LBFGS keeps one state for all its parameters`);
      }
    });
    const e = entries[0];
    for (const key of ['funcEvals', 'nIter']) {
      if (key in e && (!Number.isSafeInteger(e[key]) || (e[key] as number) < 0)) fail(`state ${key} is ${describe(e[key])}, not a whole number >= 0`);
    }
    if ((e.nIter as number | undefined ?? 0) > 0) {
      for (const key of ['t', 'direction', 'prevFlatGrad']) if (!(key in e)) fail(`nIter is ${String(e.nIter)} but the state has no ${key}`);
    }
    let pairs = 0;
    while (`oldDirs.${pairs}` in e) pairs++;
    for (const key of Object.keys(e)) {
      const slot = slotOf(key);
      if (slot !== undefined && (slot.index >= pairs || !(`oldDirs.${slot.index}` in e) || !(`oldStps.${slot.index}` in e))) {
        fail(`the history must be the pairs oldDirs.i and oldStps.i for i = 0 to ${pairs - 1}, but ${JSON.stringify(key)} is ${slot.index >= pairs ? 'past a gap' : 'unpaired'}`);
      }
    }
    // More pairs than historySize is a state too (historySize lowered since): the next update drops the oldest.
    return sd;
  }

  override applyStateDict(sd: OptimizerStateDict): void {
    super.applyStateDict(sd);
    this.#resync();
  }

  override restore(snap: OptimizerSnapshot): void {
    super.restore(snap);
    this.#resync();
  }
}
