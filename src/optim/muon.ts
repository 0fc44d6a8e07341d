import type { Kernels } from '../kernels/index.js';
import { gemmAt, symmetricGemmAt, type Operand } from '../matmul.js';
import { Parameter, type ParameterStore } from '../store.js';
import { betas, boolean, checkNumber, checkOneOf, number, wrongType, type Check } from '../validate.js';
import { stepAdam } from './adam.js';
import { Optimizer, type GroupState, type MomentsState, type OptimizerSpec, type ParamGroup, type ParameterState, type ParamGroupInput, type ParamsInput, type Run } from './optimizer.js';
import { STATE_CHECKS, STATE_DEFAULTS, type StateOptions } from './state.js';

/** How Muon scales the learning rate by the shape of a `rows × cols` parameter. */
export type MuonAdjustLrFn = 'original' | 'match_rms_adamw';

/** Options of {@link Muon} (PyTorch's, camelCase). */
export interface MuonOptions extends StateOptions {
  /** Learning rate, >= 0 (default 1e-3). */
  lr: number;
  /** Decoupled weight decay, >= 0: `p *= 1 - lr * weightDecay` before the update (default 0.1). */
  weightDecay: number;
  /** Momentum factor, >= 0 (default 0.95). */
  momentum: number;
  /** Nesterov momentum: orthogonalise `grad.lerp(buf, momentum)` instead of the buffer (default true). */
  nesterov: boolean;
  /** Coefficients (a, b, c) of the quintic Newton–Schulz iteration (default [3.4445, -4.775, 2.0315]). */
  nsCoefficients: [number, number, number];
  /** Lower bound of the Frobenius norm the update is divided by before the iteration, >= 0 (default 1e-7). */
  eps: number;
  /** Newton–Schulz iterations, a whole number from 0 to 99 (default 5). */
  nsSteps: number;
  /**
   * Learning-rate scaling by the shape `rows × cols`: `'original'` (Keller Jordan's,
   * `lr · √max(1, rows/cols)`, the default) or `'match_rms_adamw'` (Moonshot's,
   * `lr · 0.2 · √max(rows, cols)`, which lets Muon reuse AdamW's lr and weight decay).
   */
  adjustLrFn: MuonAdjustLrFn;
}

/** Muon's state (`opt.state(p)`): the momentum buffer. */
export interface MuonState extends ParameterState {
  /** The momentum buffer (a live view). */
  momentumBuffer: Float32Array;
}

/** What Muon's constructor and `addParamGroup` accept: any of {@link MuonOptions}, the rest from the defaults. */
export type MuonOptionsInput = Partial<MuonOptions>;

/** PyTorch's defaults (torch/optim/_muon.py: EPS, DEFAULT_A, DEFAULT_B, DEFAULT_C, DEFAULT_NS_STEPS). */
const MUON_DEFAULTS: MuonOptions = {
  lr: 1e-3, weightDecay: 0.1, momentum: 0.95, nesterov: true, nsCoefficients: [3.4445, -4.775, 2.0315], eps: 1e-7, nsSteps: 5, adjustLrFn: 'original', ...STATE_DEFAULTS,
};

const coefficients: Check = (value, context) => {
  if (!Array.isArray(value) || value.length !== 3) wrongType(context, 'nsCoefficients', value, 'an array of three numbers');
  value.forEach((v, i) => checkNumber(context, `nsCoefficients[${i}]`, v, { min: -Infinity }));
};

const MUON_CHECKS: OptimizerSpec<MuonOptions>['checks'] = {
  lr: number('learning rate (lr)'),
  weightDecay: number('weight decay (weightDecay)'),
  momentum: number('momentum'),
  nesterov: boolean('nesterov'),
  nsCoefficients: coefficients,
  eps: number('epsilon (eps)'),
  // PyTorch: "Number of steps must be less than 100 for computational efficiency".
  nsSteps: (value, context) => { checkNumber(context, 'nsSteps', value, { min: 0, max: 99, integer: true }); },
  adjustLrFn: (value, context) => { checkOneOf(context, 'adjustLrFn', value, ['original', 'match_rms_adamw']); },
  ...STATE_CHECKS,
};

/** Refuses a parameter that is not a matrix, as PyTorch does. */
function checkMatrices(group: { params: readonly Parameter[] }, context: string): void {
  for (const p of group.params) {
    if (p.shape.length !== 2) {
      throw new RangeError(`${context}: Muon only supports 2-D parameters, but ${p.toString()} has shape [${p.shape.join(', ')}] (run it with AdamW: see MuonWithAuxAdamW)`);
    }
  }
}

/** `lr` scaled by `adjustLrFn` for a `rows × cols` parameter, as torch.optim._muon._adjust_lr computes it. */
export function muonAdjustedLr(lr: number, adjustLrFn: MuonAdjustLrFn, rows: number, cols: number): number {
  const ratio = adjustLrFn === 'match_rms_adamw' ? 0.2 * Math.sqrt(Math.max(rows, cols)) : Math.sqrt(Math.max(1, rows / cols));
  return lr * ratio;
}

/**
 * One Muon step of a matrix parameter whose gradient and momentum buffer are at `grad` and
 * `buf` (arena addresses): momentum, the Newton–Schulz iteration in scratch matrices of the
 * store, then decoupled decay and the update.
 *
 * The iteration runs on the update G (rows × cols) itself: for a wide G (rows <= cols),
 * X ← a·X + (b·A + c·A·A)·X with A = X·Xᵀ, as PyTorch; for a tall one PyTorch iterates on
 * Gᵀ and transposes back, which here is X ← a·X + X·(b·A + c·A·A) with A = Xᵀ·X: every element
 * is the same products summed in the same order (A and A·A are exactly symmetric), so the
 * same bits, without a transposed copy.
 */
function muonUpdate(store: ParameterStore, kernels: Kernels, group: MuonOptions, p: Parameter, grad: number, buf: number): void {
  const fr = Math.fround;
  const [rows, cols] = p.shape;
  const size = rows * cols;
  if (size === 0) return;
  const x0 = store.scratch('muon.x0', 4 * size), x1 = store.scratch('muon.x1', 4 * size);
  kernels.muonMomentum({ grad, buf, update: x0 }, size, { weight: fr(1 - group.momentum) }, { nesterov: group.nesterov });
  // ortho_grad.div_(ortho_grad.norm().clamp(min=eps)): the norm in float64 from the
  // deterministic sum of squares; a multiply by the float32 reciprocal (within an ulp of dividing).
  const norm = Math.sqrt(kernels.sumSquares(x0, size));
  kernels.scale({ x: x0 }, size, { factor: fr(1 / Math.max(norm, group.eps)) });
  const s = Math.min(rows, cols), tall = rows > cols;
  const gram: Operand = { address: store.scratch('muon.gram', 4 * s * s), rows: s, cols: s };
  const poly: Operand = { address: store.scratch('muon.poly', 4 * s * s), rows: s, cols: s };
  let x: Operand = { address: x0, rows, cols }, y: Operand = { address: x1, rows, cols };
  const [a, b, c] = group.nsCoefficients.map(fr);
  for (let i = 0; i < group.nsSteps; i++) {
    // A and B are symmetric: each is computed above its bands' diagonal and mirrored (the same bits).
    symmetricGemmAt(store, x, x, gram, tall, !tall, 1, 0); // A = X·Xᵀ (wide) or Xᵀ·X (tall)
    kernels.copy({ dst: poly.address, src: gram.address }, s * s);
    symmetricGemmAt(store, gram, gram, poly, false, false, c, b); // B = c·A·A + b·A (torch.addmm(A, A, A, beta=b, alpha=c))
    kernels.copy({ dst: y.address, src: x.address }, size);
    if (tall) gemmAt(store, x, poly, y, false, false, 1, a); // X·B + a·X
    else gemmAt(store, poly, x, y, false, false, 1, a); // B·X + a·X (torch.addmm(X, B, X, beta=a))
    [x, y] = [y, x];
  }
  const adjustedLr = fr(muonAdjustedLr(group.lr, group.adjustLrFn, rows, cols));
  kernels.muonApply({ param: p.dataAddress, update: x.address }, size, { decay: fr(1 - group.lr * group.weightDecay), adjustedLr }, { weightDecay: group.weightDecay !== 0 });
}

/** The per-parameter run of a group's `index`-th parameter (its state offset included). */
function runOf(state: GroupState, p: Parameter, index: number): Run {
  return { data: p.dataAddress, grad: p.gradAddress, state: state.paramOffsets[index], n: p.paddedSize };
}

const MUON_SPEC: OptimizerSpec<MuonOptions> = {
  name: 'Muon',
  buffers: ['momentumBuffer'],
  checks: MUON_CHECKS,
  crossCheck: (group, context) => checkMatrices(group as unknown as ParamGroup<MuonOptions>, context),
};

/**
 * Muon (Jordan et al., 2024, "Muon: An optimizer for hidden layers in neural networks"):
 * momentum whose update is orthogonalised, per matrix, by a few Newton–Schulz iterations,
 * which replace it with about U·Vᵀ of its SVD U·S·Vᵀ. PyTorch's `torch.optim.Muon`
 * (torch/optim/_muon.py, PyTorch 2.9, `_single_tensor_muon`), same semantics and defaults:
 *
 *     buf = lerp(buf, grad, 1 - momentum)
 *     G = nesterov ? lerp(grad, buf, momentum) : buf
 *     X = G / max(‖G‖_F, eps)                       (Gᵀ when rows > cols)
 *     nsSteps times:  A = X·Xᵀ;  X = a·X + (b·A + c·A·A)·X
 *     p *= 1 - lr·weightDecay;   p -= adjustedLr(lr, shape)·X
 *
 * Defaults: `lr = 1e-3, weightDecay = 0.1, momentum = 0.95, nesterov = true, nsCoefficients =
 * [3.4445, -4.775, 2.0315], eps = 1e-7, nsSteps = 5, adjustLrFn = 'original'`. State:
 * `momentumBuffer`. Every parameter must be 2-D (`p.shape`), as PyTorch requires; biases,
 * gains, embeddings and the output layer belong to another optimizer: {@link MuonWithAuxAdamW}
 * runs both.
 *
 * The matrix products run on {@link ParameterStore.matmul}'s kernel (the same bits on both
 * backends and any thread count). Deliberate differences: PyTorch runs the iteration in
 * bfloat16; here it is float32 throughout (more accurate: bfloat16 keeps 8 bits of mantissa),
 * the products in the form of PyTorch's `use_addmm` path. The division by the norm is a
 * multiplication by its float32 reciprocal, and both lerps use the formula PyTorch's lerp uses
 * for momentum > 0.5, for any momentum.
 *
 * @example
 * const opt = new Muon([w1, w2], { lr: 0.02 });
 * opt.step();
 */
export class Muon extends Optimizer<MuonOptions, MuonState> {
  constructor(params: ParamsInput<MuonOptions>, options?: MuonOptionsInput) {
    super(params, options, MUON_DEFAULTS, MUON_SPEC);
  }

  protected stateBuffers(): readonly string[] {
    return ['momentumBuffer'];
  }

  protected updateGroup(group: ParamGroup<MuonOptions>, state: GroupState, kernels: Kernels): void {
    group.params.forEach((p, i) => muonUpdate(this.store, kernels, group, p, p.gradAddress, this.stateAt(state, 'momentumBuffer', runOf(state, p, i))));
  }
}

/** Options of {@link MuonWithAuxAdamW}: Muon's, the AdamW ones of the other groups, and which a group runs. */
export interface MuonWithAuxAdamWOptions extends MuonOptions {
  /** Run the group's 2-D parameters with Muon and the others with AdamW (true, the default), or all with AdamW (false). */
  useMuon: boolean;
  /** AdamW's betas, for the AdamW groups (default [0.9, 0.999]). */
  betas: [number, number];
  /** AdamW's epsilon, for the AdamW groups, >= 0 (default 1e-8). `eps` is Muon's. */
  adamEps: number;
}

/** The state of a parameter of {@link MuonWithAuxAdamW}: Muon's momentum buffer, or AdamW's moments. */
export type MuonWithAuxAdamWState = MuonState | MomentsState;

/** What MuonWithAuxAdamW's constructor and `addParamGroup` accept. */
export type MuonWithAuxAdamWOptionsInput = Partial<MuonWithAuxAdamWOptions>;

const AUX_SPEC: OptimizerSpec<MuonWithAuxAdamWOptions> = {
  name: 'MuonWithAuxAdamW',
  buffers: ['momentumBuffer', 'expAvg', 'expAvgSq'],
  checks: { ...MUON_CHECKS, useMuon: boolean('useMuon'), betas: betas(), adamEps: number('AdamW epsilon (adamEps)') },
};

const isMatrix = (p: Parameter) => p.shape.length === 2;

/** A plain list of parameters becomes two groups: the matrices for Muon, the rest for AdamW. */
function splitByShape(params: ParamsInput<MuonWithAuxAdamWOptions>): ParamsInput<MuonWithAuxAdamWOptions> {
  if (!Array.isArray(params) || params.length === 0 || !params.every((p) => p instanceof Parameter)) return params;
  const list = params as Parameter[];
  const groups: ParamGroupInput<MuonWithAuxAdamWOptions>[] = [];
  const matrices = list.filter(isMatrix), rest = list.filter((p) => !isMatrix(p));
  if (matrices.length) groups.push({ params: matrices, useMuon: true });
  if (rest.length) groups.push({ params: rest, useMuon: false });
  return groups;
}

/**
 * Muon for the hidden layers' matrices and AdamW for everything else, as one optimizer (the
 * pairing Muon's authors use: Keller Jordan's `MuonWithAuxAdam`, github.com/KellerJordan/Muon,
 * muon.py): one `step()`, one state dict, one checkpoint, one scheduler over all groups.
 *
 * In a group with `useMuon: true` (the default) the 2-D parameters run Muon and the others
 * (biases, gains) AdamW; a plain list of parameters becomes two groups, the matrices and the
 * rest, so that each keeps only its own state. Embeddings and the output layer, which are 2-D
 * but are better served by AdamW, go in a group with `useMuon: false`:
 *
 *     new MuonWithAuxAdamW([
 *       { params: hidden, useMuon: true, lr: 0.02 },
 *       { params: [embedding, head, ...biases], useMuon: false, lr: 3e-4 },
 *     ]);
 *
 * Muon groups follow {@link Muon} exactly (same kernels, same bits); AdamW groups follow
 * {@link AdamW} exactly with `betas`, `adamEps` for its `eps`, and the group's `lr` and
 * `weightDecay` (no amsgrad, no maximize). Defaults: {@link Muon}'s, plus `useMuon = true,
 * betas = [0.9, 0.999], adamEps = 1e-8`. With `adjustLrFn: 'match_rms_adamw'` both kinds of
 * group can share one lr and weight decay (Liu et al., 2025, "Muon is Scalable for LLM
 * Training"); the registry's `muon` entry runs that way. State: `momentumBuffer` in Muon groups,
 * `expAvg` and `expAvgSq` in AdamW groups.
 */
export class MuonWithAuxAdamW extends Optimizer<MuonWithAuxAdamWOptions, MuonWithAuxAdamWState> {
  constructor(params: ParamsInput<MuonWithAuxAdamWOptions>, options?: MuonWithAuxAdamWOptionsInput) {
    super(splitByShape(params), options, { ...MUON_DEFAULTS, useMuon: true, betas: [0.9, 0.999], adamEps: 1e-8 }, AUX_SPEC);
  }

  protected stateBuffers(group: ParamGroup<MuonWithAuxAdamWOptions>): readonly string[] {
    const muon = group.useMuon && group.params.some(isMatrix);
    const adam = !group.useMuon || !group.params.every(isMatrix);
    return [...(muon ? ['momentumBuffer'] : []), ...(adam ? ['expAvg', 'expAvgSq'] : [])];
  }

  protected updateGroup(group: ParamGroup<MuonWithAuxAdamWOptions>, state: GroupState, kernels: Kernels): void {
    const adamRuns: Run[] = [];
    group.params.forEach((p, i) => {
      const run = runOf(state, p, i);
      if (group.useMuon && isMatrix(p)) muonUpdate(this.store, kernels, group, p, p.gradAddress, this.stateAt(state, 'momentumBuffer', run));
      else adamRuns.push(run);
    });
    const adam = { lr: group.lr, betas: group.betas, eps: group.adamEps, weightDecay: group.weightDecay, amsgrad: false, maximize: false };
    stepAdam(kernels, adam, state.step, true, group.useMuon ? adamRuns : state.runs, (run) => ({
      param: this.paramAt(run), grad: this.gradAt(run), expAvg: this.stateAt(state, 'expAvg', run), expAvgSq: this.stateAt(state, 'expAvgSq', run), maxExpAvgSq: 0,
    }));
  }
}
