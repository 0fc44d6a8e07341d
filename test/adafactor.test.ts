// Adafactor: its hand-written factored kernels (wasm ≡ js, split invariance, odd shapes and
// special values), against a float64 transcription of PyTorch's code within the reference
// README's tolerance, hand-derived first steps, threads, exact resume with the factored state,
// option checks, and convergence on a matrix problem.
import { describe, expect, it } from 'vitest';
import { createJsBackend, createWasmBackend, type Backend } from '../src/backend.js';
import {
  Adafactor, FLOAT32_EPS, ParameterStore, loadCheckpoint, saveCheckpoint, stateDictFromJSON, stateDictToJSON,
  type AdafactorOptions, type OptimizerStateDict, type Parameter,
} from '../src/index.js';
import { BACKENDS, expectSameBits, fillMixed, prng } from './helpers.js';

const f = Math.fround;

// ---- the factored kernels ------------------------------------------------------------------

const SHAPES: readonly [number, number][] = [[1, 1], [1, 37], [37, 1], [67, 131], [4, 16], [3, 33], [17, 5], [2, 48], [0, 5], [5, 0], [9, 70]];
/** Byte offset of the first array in the test's region: 4-byte aligned, not 16 (the kernels must not assume it). */
const OFFSET = 4 * 17;
const GAP = 4 * 7;
const CAPACITY = 4 * 131 * 67 * 2 + 4096;

/** The arrays' byte offsets in the test's region: x (the matrix), row, col, update; `end` past them. */
interface Layout { x: number; row: number; col: number; update: number; end: number }

function layout(rows: number, cols: number): Layout {
  const x = OFFSET, row = x + 4 * rows * cols + GAP, col = row + 4 * rows + GAP, update = col + 4 * cols + GAP;
  return { x, row, col, update, end: update + 4 * rows * cols + GAP };
}

describe('the factored kernels: wasm and js agree bit for bit; splits change nothing', async () => {
  const wasm = await createWasmBackend(), js = createJsBackend();
  /** Each backend's test region (one allocation, so one block of the js arena). */
  const regions = new Map<Backend, number>([[wasm, wasm.allocate(CAPACITY)], [js, js.allocate(CAPACITY)]]);
  /** The region's first `bytes`, filled with mixed values (specials at `rate`): the same on both backends. */
  const fill = (b: Backend, bytes: number, seed: number, rate: number): Float32Array => fillMixed(b.view(regions.get(b)!, bytes / 4), prng(seed), 3, rate);
  const both = (seed: number, bytes: number, rate: number) => [fill(wasm, bytes, seed, rate), fill(js, bytes, seed, rate)];
  /** The layout's addresses in backend b. */
  const at = (b: Backend, L: Layout): Layout => {
    const r = regions.get(b)!;
    return { x: r + L.x, row: r + L.row, col: r + L.col, update: r + L.update, end: r + L.end };
  };

  for (const rate of [0, 0.1]) {
    for (const [rows, cols] of SHAPES) {
      it(`${rows}×${cols}, ${rate ? 'with' : 'without'} specials (NaN, ±Inf, ±0, subnormals, extremes)`, () => {
        const L = layout(rows, cols);
        const words = L.end / 4 + 8;
        for (const [k, run] of [
          ['rowMeanSquares', (b: Backend, A: Layout) => b.kernels.rowMeanSquares(A.x, rows, cols, A.row)],
          ['colMeanSquares', (b: Backend, A: Layout) => b.kernels.colMeanSquares(A.x, rows, cols, cols, A.col)],
          // the columns from 1 on, rows `cols` apart (as a thread's share)
          ['colMeanSquares (columns 1..)', (b: Backend, A: Layout) => b.kernels.colMeanSquares(A.x + 4, rows, Math.max(0, cols - 1), cols, A.col)],
          ['adafactorUpdate', (b: Backend, A: Layout) => b.kernels.adafactorUpdate(A.row, A.col, A.x, A.update, rows, cols, 0.37, 1e-6, 0)],
          ['adafactorUpdate (negated, eps1² = 0)', (b: Backend, A: Layout) => b.kernels.adafactorUpdate(A.row, A.col, A.x, A.update, rows, cols, 2.5, 0, 1)],
        ] as const) {
          const [hw, hj] = both(rows * 1000 + cols + (rate ? 7 : 0), words * 4, rate);
          // The factors are non-negative (means of squares), but for the specials.
          for (const h of [hw, hj]) for (let i = L.row / 4; i < L.update / 4; i++) if (rate === 0) h[i] = Math.abs(h[i]);
          const before = hw.slice(0, words);
          run(wasm, at(wasm, L));
          run(js, at(js, L));
          expectSameBits(hw.subarray(0, words), hj.subarray(0, words), `${k} ${rows}×${cols}`);
          // Only the output changed.
          const out = k.startsWith('row') ? [L.row, rows] : k.startsWith('col') ? [L.col, cols] : [L.update, rows * cols];
          const changed = hw.subarray(0, words).findIndex((v, i) => !Object.is(v, before[i]) && !(Number.isNaN(v) && Number.isNaN(before[i])) && (i < out[0] / 4 || i >= out[0] / 4 + out[1]));
          expect(changed, `${k} ${rows}×${cols} wrote outside its output`).toBe(-1);
        }
      });
    }
  }

  it('the means are those of a plain float64 sum (exact here), the update is grad / sqrt(max(r·c / rowMean, eps1²))', () => {
    const rows = 3, cols = 5;
    for (const b of [wasm, js]) {
      const L = at(b, layout(rows, cols)), r = regions.get(b)!, h = b.view(r, CAPACITY / 4);
      const i = (address: number) => (address - r) / 4;
      const g = [1, -2, 3, 0, 4, 0.5, 0, -1, 2, 2, -3, 1, 1, 1, 0];
      h.set(g, i(L.x));
      b.kernels.rowMeanSquares(L.x, rows, cols, L.row);
      b.kernels.colMeanSquares(L.x, rows, cols, cols, L.col);
      expect(Array.from(h.subarray(i(L.row), i(L.row) + rows))).toEqual([30 / 5, 9.25 / 5, 12 / 5].map(f));
      expect(Array.from(h.subarray(i(L.col), i(L.col) + cols))).toEqual([10.25 / 3, 5 / 3, 11 / 3, 5 / 3, 20 / 3].map(f));
      h.set([4, 1, 0.25], i(L.row));
      h.set([1, 4, 16, 0.25, 0], i(L.col));
      b.kernels.adafactorUpdate(L.row, L.col, L.x, L.update, rows, cols, 2, 1 / 64, 0);
      // v = r·c / 2, floored at 1/64; update = f32(f32(1 / f32(sqrt(v))) · g): row 0 v = [2, 8, 32, 0.5, 1/64]
      const u = (v: number, g: number) => f(f(1 / f(Math.sqrt(v))) * g);
      expect(Array.from(h.subarray(i(L.update), i(L.update) + 5))).toEqual([u(2, 1), u(8, -2), u(32, 3), 0, 32]);
      expect(u(8, -2)).toBe(-f(Math.SQRT1_2));
    }
  });

  it('split into parts (rows, or columns with their row stride) gives the same bits as one call', () => {
    const rows = 67, cols = 131;
    for (const b of [wasm, js]) {
      const L = at(b, layout(rows, cols)), r = regions.get(b)!;
      const h = fill(b, layout(rows, cols).end, 5, 0.05);
      const i = (address: number) => (address - r) / 4;
      const whole = (k: () => void, at: number, n: number) => { k(); return h.slice(i(at), i(at) + n); };
      const rowsWhole = whole(() => b.kernels.rowMeanSquares(L.x, rows, cols, L.row), L.row, rows);
      b.kernels.rowMeanSquares(L.x, 30, cols, L.row);
      b.kernels.rowMeanSquares(L.x + 4 * 30 * cols, rows - 30, cols, L.row + 4 * 30);
      expectSameBits(h.slice(i(L.row), i(L.row) + rows), rowsWhole, 'row means in two parts');
      const colsWhole = whole(() => b.kernels.colMeanSquares(L.x, rows, cols, cols, L.col), L.col, cols);
      for (const [c0, n] of [[0, 48], [48, 17], [65, 66]]) b.kernels.colMeanSquares(L.x + 4 * c0, rows, n, cols, L.col + 4 * c0);
      expectSameBits(h.slice(i(L.col), i(L.col) + cols), colsWhole, 'column means in three parts');
      const updateWhole = whole(() => b.kernels.adafactorUpdate(L.row, L.col, L.x, L.update, rows, cols, 0.5, 1e-8, 1), L.update, rows * cols);
      b.kernels.adafactorUpdate(L.row, L.col, L.x, L.update, 40, cols, 0.5, 1e-8, 1);
      b.kernels.adafactorUpdate(L.row + 160, L.col, L.x + 160 * cols, L.update + 160 * cols, rows - 40, cols, 0.5, 1e-8, 1);
      expectSameBits(h.slice(i(L.update), i(L.update) + rows * cols), updateWhole, 'update in two parts');
    }
  });
});

// ---- against PyTorch, transcribed in float64 -------------------------------------------------

/**
 * torch.optim._adafactor._single_tensor_adafactor (PyTorch 2.5+, torch/optim/_adafactor.py),
 * transcribed in float64, line by line:
 *
 *     grad = grad if not maximize else -grad
 *     step_t += 1
 *     one_minus_beta2_t = step ** beta2_decay
 *     rho_t = min(lr, 1 / (step ** 0.5))
 *     alpha = max(eps2, param.norm(2).item() / (param.numel() ** 0.5)) * rho_t
 *     if weight_decay != 0: param.mul_(1 - lr * weight_decay)
 *     if grad.dim() > 1:
 *         row_mean = norm(grad, dim=-1, keepdim=True).square_().div_(grad.size(-1))
 *         row_var.lerp_(row_mean, one_minus_beta2_t)
 *         col_mean = norm(grad, dim=-2, keepdim=True).square_().div_(grad.size(-2))
 *         col_var.lerp_(col_mean, one_minus_beta2_t)
 *         var_estimate = row_var @ col_var
 *         var_estimate.div_(row_var.mean(dim=-2, keepdim=True).clamp_(min=eps1))
 *     else:
 *         variance.lerp_(grad * grad, one_minus_beta2_t); var_estimate = variance.clone()
 *     update = var_estimate.clamp_(min=eps1 * eps1).rsqrt_()
 *     update.mul_(grad)
 *     denom = max(1.0, update.norm(2).item() / ((update.numel() ** 0.5) * d))
 *     param.add_(update, alpha=-alpha / denom)
 *
 * (eps1 None is torch.finfo(float32).eps; lerp as torch's: start + w·(end - start) for
 * |w| < 0.5, end - (end - start)·(1 - w) otherwise.)
 */
class AdafactorReference {
  step = 0;
  readonly rowVar: Float64Array;
  readonly colVar: Float64Array;
  readonly variance: Float64Array;
  readonly rows: number;
  readonly cols: number;
  readonly batch: number;

  constructor(readonly p: Float64Array, readonly shape: readonly number[], readonly o: AdafactorOptions) {
    const factored = shape.length > 1;
    this.rows = factored ? shape[shape.length - 2] : 0;
    this.cols = factored ? shape[shape.length - 1] : 0;
    this.batch = factored ? p.length / (this.rows * this.cols) : 0;
    this.rowVar = new Float64Array(this.batch * this.rows);
    this.colVar = new Float64Array(this.batch * this.cols);
    this.variance = new Float64Array(factored ? 0 : p.length);
  }

  update(grad32: Float32Array): void {
    const { p, o, rows, cols, batch } = this;
    const n = p.length;
    const grad = Float64Array.from(grad32, (g) => (o.maximize ? -g : g));
    this.step += 1;
    const eps1 = o.eps[0] ?? 2 ** -23, eps2 = o.eps[1];
    const w = this.step ** o.beta2Decay;
    const rho = Math.min(o.lr, 1 / this.step ** 0.5);
    const norm = (x: Float64Array) => Math.sqrt(x.reduce((s, v) => s + v * v, 0));
    const pyMax = (a: number, b: number) => (b > a ? b : a); // Python's max(a, b)
    const alpha = pyMax(eps2, norm(p) / n ** 0.5) * rho;
    if (o.weightDecay !== 0) for (let i = 0; i < n; i++) p[i] *= 1 - o.lr * o.weightDecay;
    const lerp = (a: number, b: number) => (Math.abs(w) < 0.5 ? a + w * (b - a) : b - (b - a) * (1 - w));
    const est = new Float64Array(n);
    if (this.shape.length > 1) {
      for (let b = 0; b < batch; b++) {
        const g = (i: number, j: number) => grad[b * rows * cols + i * cols + j];
        for (let i = 0; i < rows; i++) {
          let s = 0;
          for (let j = 0; j < cols; j++) s += g(i, j) ** 2;
          this.rowVar[b * rows + i] = lerp(this.rowVar[b * rows + i], s / cols);
        }
        for (let j = 0; j < cols; j++) {
          let s = 0;
          for (let i = 0; i < rows; i++) s += g(i, j) ** 2;
          this.colVar[b * cols + j] = lerp(this.colVar[b * cols + j], s / rows);
        }
        let mean = 0;
        for (let i = 0; i < rows; i++) mean += this.rowVar[b * rows + i] / rows;
        mean = Math.max(mean, eps1);
        for (let i = 0; i < rows; i++) {
          for (let j = 0; j < cols; j++) est[b * rows * cols + i * cols + j] = (this.rowVar[b * rows + i] * this.colVar[b * cols + j]) / mean;
        }
      }
    } else {
      for (let i = 0; i < n; i++) est[i] = this.variance[i] = lerp(this.variance[i], grad[i] * grad[i]);
    }
    const update = est.map((v, i) => (1 / Math.sqrt(Math.max(v, eps1 * eps1))) * grad[i]);
    const denom = pyMax(1, norm(update) / (n ** 0.5 * o.d));
    for (let i = 0; i < n; i++) p[i] += update[i] * (-alpha / denom);
  }
}

const DEFAULTS: AdafactorOptions = { lr: 1e-2, beta2Decay: -0.8, eps: [null, 1e-3], d: 1, weightDecay: 0, maximize: false };

const REFERENCE_CASES: { name: string; shape: number[]; options: Partial<AdafactorOptions>; scale?: number }[] = [
  { name: 'a vector, defaults', shape: [37], options: {} },
  { name: 'a matrix, defaults', shape: [23, 17], options: {} },
  { name: 'a wide matrix, weight decay, lr 0.05', shape: [5, 41], options: { lr: 0.05, weightDecay: 0.1 } },
  { name: 'a row (1×n)', shape: [1, 33], options: { lr: 0.05 } },
  { name: 'a column (n×1)', shape: [29, 1], options: { lr: 0.05 } },
  { name: 'a batch of matrices, maximize', shape: [3, 7, 11], options: { maximize: true, lr: 0.03 } },
  { name: 'four dimensions', shape: [2, 2, 5, 6], options: { lr: 0.02, weightDecay: 0.05 } },
  { name: '67×131, eps1 and eps2 given, d = 2, beta2Decay -0.5', shape: [67, 131], options: { eps: [1e-3, 1e-2], d: 2, beta2Decay: -0.5, lr: 0.05 } },
  { name: 'small parameters: eps2 sets the step', shape: [9, 8], options: { lr: 0.1 }, scale: 1e-5 },
  { name: 'a vector, beta2Decay 0 (the last gradient only), large eps1', shape: [50], options: { beta2Decay: 0, eps: [0.5, 1e-3], lr: 0.1, maximize: true } },
];

/** The reference README's tolerance: |ours - ref| <= 2e-4 |ref| + 1e-5 for every element after every step. */
const tolerance = (ref: number) => 2e-4 * Math.abs(ref) + 1e-5;

/** The worst |ours - ref| / tolerance seen, per backend (printed by the last test). */
const worst: Record<string, { ratio: number; where: string }> = {};

describe('Adafactor against PyTorch, transcribed in float64 (tolerance of the reference README)', () => {
  for (const backend of BACKENDS) {
    for (const c of REFERENCE_CASES) {
      it(`${backend}: ${c.name} [${c.shape.join('×')}]: 20 steps within 2e-4·|ref| + 1e-5`, async () => {
        const store = await ParameterStore.create({ backend });
        const size = c.shape.reduce((a, b) => a * b, 1);
        const rand = prng(size + 17 * c.shape.length);
        const init = fillMixed(new Float32Array(size), rand, c.scale ?? 1, 0);
        const w = store.parameter('w', { shape: c.shape, values: init });
        const opt = new Adafactor([w], c.options);
        const ref = new AdafactorReference(Float64Array.from(init), c.shape, { ...DEFAULTS, ...c.options });
        let moved = 0;
        for (let s = 0; s < 20; s++) {
          // exact zeros every 7th element and a tiny 1e-20 every 11th, as in the reference data
          const g = Float32Array.from({ length: size }, (_, i) => (i % 7 === 3 ? 0 : i % 11 === 5 ? 1e-20 : (rand() * 2 - 1) * (1 + (s % 3))));
          w.grad.set(g);
          opt.step();
          ref.update(g);
          for (let i = 0; i < size; i++) {
            const ratio = Math.abs(w.data[i] - ref.p[i]) / tolerance(ref.p[i]);
            if (!(ratio <= 1)) expect.fail(`step ${s + 1}, element ${i}: ${w.data[i]} vs ${ref.p[i]} (${ratio.toFixed(2)}× the tolerance)`);
            if (ratio > (worst[backend]?.ratio ?? -1)) worst[backend] = { ratio, where: `${c.name}, step ${s + 1}` };
          }
        }
        for (let i = 0; i < size; i++) moved = Math.max(moved, Math.abs(ref.p[i] - init[i]));
        expect(moved, 'the parameters moved').toBeGreaterThan(1e-6);
        const state = opt.state(w);
        if (c.shape.length > 1) {
          const factors = [...state.rowVar!, ...state.colVar!];
          [...ref.rowVar, ...ref.colVar].forEach((v, i) => expect(Math.abs(factors[i] - v)).toBeLessThanOrEqual(2e-4 * Math.abs(v) + 1e-12));
        } else {
          ref.variance.forEach((v, i) => expect(Math.abs(state.variance![i] - v)).toBeLessThanOrEqual(2e-4 * Math.abs(v) + 1e-12));
        }
        store.dispose();
      });
    }
  }

  it('worst error, as a fraction of the tolerance', () => {
    for (const backend of BACKENDS) {
      expect(worst[backend]).toBeDefined();
      console.log(`Adafactor reference, ${backend}: worst |ours - ref| = ${worst[backend].ratio.toFixed(4)} of the tolerance (${worst[backend].where})`);
    }
  });
});

// ---- hand-derived first steps ----------------------------------------------------------------

for (const backend of BACKENDS) {
  describe(`Adafactor: hand-derived first steps (${backend})`, () => {
    const make = async (shape: number[], values: number[]) => (await ParameterStore.create({ backend })).parameter('w', { shape, values });

    it('a vector: variance = g² at step 1 (weight 1^-0.8 = 1), update = sign(g), p -= lr·RMS(p)·update', async () => {
      const w = await make([4], [1, 1, 1, 1]);
      const opt = new Adafactor([w], { lr: 0.5 });
      w.grad.set([2, -0.5, 4, -1]);
      opt.step();
      // rho = min(0.5, 1/sqrt(1)) = 0.5; RMS(p) = 1: alpha = 0.5. update = g / sqrt(g²) = [1, -1, 1, -1],
      // RMS(update) = 1 = d: no clipping. p = 1 - 0.5·update.
      expect(Array.from(w.data)).toEqual([0.5, 1.5, 0.5, 1.5]);
      expect(opt.state(w)).toEqual({ step: 1, variance: new Float32Array([4, 0.25, 16, 1]) });
    });

    it('weight decay after alpha (p before the decay), maximize', async () => {
      const w = await make([4], [1, 1, 1, 1]);
      const opt = new Adafactor([w], { lr: 0.5, weightDecay: 0.5, maximize: true });
      w.grad.set([2, -0.5, 4, -1]);
      opt.step();
      // alpha = 0.5·RMS(1, 1, 1, 1) = 0.5; p = 1·(1 - 0.25) = 0.75; update = sign(-g); p = 0.75 + 0.5·sign(g)
      expect(Array.from(w.data)).toEqual([1.25, 0.25, 1.25, 0.25]);
    });

    it('a zero gradient: variance 0 is floored at eps1² = 2^-46, its update is 0, and RMS(update) counts it', async () => {
      const w = await make([4], [2, 2, 2, 2]);
      const opt = new Adafactor([w], { lr: 0.25 });
      w.grad.set([0, 3, 0, -3]);
      opt.step();
      // update = [0, 1, 0, -1], RMS = sqrt(1/2) < 1; alpha = 0.25·2 = 0.5: p = [2, 1.5, 2, 2.5]
      expect(Array.from(w.data)).toEqual([2, 1.5, 2, 2.5]);
      expect(FLOAT32_EPS).toBe(1.1920928955078125e-7);
    });

    it('a 2×2 matrix: the factors, the estimate r·c / mean(r), and clipping by RMS(update) / d', async () => {
      for (const d of [1, 2]) {
        const w = await make([2, 2], [1, 1, 1, 1]);
        const opt = new Adafactor([w], { lr: 0.5, d });
        w.grad.set([3, 0, 0, 4]);
        opt.step();
        // rowVar = mean over columns of g² = [9/2, 16/2] = [4.5, 8]; colVar = mean over rows = [4.5, 8];
        // mean(rowVar) = 6.25; V = r·c / 6.25 = [[3.24, 5.76], [5.76, 10.24]];
        // update = g / sqrt(V) = [[3/1.8, 0], [0, 4/3.2]] = [[5/3, 0], [0, 1.25]];
        // RMS(update) = sqrt((25/9 + 25/16) / 4) = 25/24. d = 1: denom 25/24, step 0.5·24/25 = 0.48:
        // p = [1 - 0.8, 1, 1, 1 - 0.6]. d = 2: denom 1, step 0.5: p = [1 - 5/6, 1, 1, 1 - 0.625].
        expect(opt.state(w)).toEqual({ step: 1, rowVar: new Float32Array([4.5, 8]), colVar: new Float32Array([4.5, 8]) });
        const want = d === 1 ? [0.2, 1, 1, 0.4] : [1 / 6, 1, 1, 0.375];
        w.data.forEach((v, i) => expect(Math.abs(v - want[i]), `d=${d} [${i}]`).toBeLessThan(1e-6));
      }
    });

    it('a batch of matrices keeps one row and column factor per matrix, each with its own mean', async () => {
      const w = await make([2, 1, 2], [1, 1, 1, 1]);
      const opt = new Adafactor([w], { lr: 0.5 });
      w.grad.set([2, 2, 1, -1]);
      opt.step();
      // matrix 0 [[2, 2]]: rowVar [4], colVar [4, 4], V = 16/4 = 4, update [1, 1];
      // matrix 1 [[1, -1]]: rowVar [1], colVar [1, 1], V = 1, update [1, -1]. RMS 1: p = 1 - 0.5·update.
      expect(opt.state(w)).toEqual({ step: 1, rowVar: new Float32Array([4, 1]), colVar: new Float32Array([4, 4, 1, 1]) });
      expect(Array.from(w.data)).toEqual([0.5, 0.5, 0.5, 1.5]);
    });

    it('eps2 floors the RMS in the step size: zero parameters move by eps2·rho, and not at all with eps2 = 0', async () => {
      const w = await make([2, 2], [0, 0, 0, 0]);
      const opt = new Adafactor([w], { lr: 0.5 });
      w.grad.set([1, 1, 1, 1]);
      opt.step();
      // RMS(p) = 0: alpha = 1e-3·0.5; V = 1·1/1 = 1, update = 1: p = -f32(5e-4)
      expect(Array.from(w.data)).toEqual([1, 1, 1, 1].map(() => -f(5e-4)));
      const z = await make([3], [0, 0, 0]);
      const none = new Adafactor([z], { lr: 0.5, eps: [null, 0] });
      z.grad.set([1, -2, 3]);
      none.step();
      expect(Array.from(z.data)).toEqual([0, 0, 0]);
    });

    it("a NaN gradient of a vector spoils its own element only: PyTorch's Python max(1.0, nan) is 1.0", async () => {
      const w = await make([4], [1, 1, 1, 1]);
      const opt = new Adafactor([w], { lr: 0.5 });
      w.grad.set([2, NaN, 4, -1]);
      opt.step();
      // update = [1, NaN, 1, -1]: RMS NaN, denom = max(1.0, nan) = 1; alpha from the finite p.
      expect(Array.from(w.data)).toEqual([0.5, NaN, 0.5, 1.5]);
      const v = await make([4], [NaN, 1, 1, 1]);
      const other = new Adafactor([v], { lr: 0.5 });
      v.grad.set([2, 2, 2, 2]);
      other.step();
      // RMS(p) NaN: alpha = max(eps2, nan)·rho = 1e-3·0.5; update 1: the finite elements move by 5e-4.
      expect(Number.isNaN(v.data[0])).toBe(true);
      expect(Array.from(v.data.subarray(1))).toEqual([1, 1, 1].map(() => f(1 - f(f(5e-4) * 1))));
    });

    it('step 2: weight 2^-0.8 >= 0.5 (the lerp from the end), rho = min(lr, 1/sqrt(2))', async () => {
      const w = await make([1], [1]);
      const opt = new Adafactor([w], { lr: 1 });
      w.grad.set([2]);
      opt.step(); // variance 4, update 1, RMS 1: p = 1 - 1 = 0
      expect(w.data[0]).toBe(0);
      w.data[0] = 1;
      w.grad.set([1]);
      opt.step();
      const weight = f(2 ** -0.8);
      const v = f(1 - f(f(1 - 4) * f(1 - weight))); // lerp(4, 1, weight) = end - (end - start)·(1 - weight)
      expect(opt.state(w).variance![0]).toBe(v);
      // update = 1/sqrt(v) = 0.606 (RMS < d = 1: not clipped); alpha = RMS(1)·min(1, 2^-0.5); p = 1 - alpha·update
      expect(Math.abs(w.data[0] - (1 - Math.SQRT1_2 / Math.sqrt(v)))).toBeLessThan(1e-7);
    });
  });
}

// ---- threads, resume, checks, convergence ------------------------------------------------------

describe('Adafactor: threads', () => {
  it('1, 2 and 3 threads and the js backend give the same bits (row, column and update kernels split)', async () => {
    const shapes = [[2, 64, 1024], [40_000, 1], [300, 257], [50_000]];
    const run = async (backend: 'wasm' | 'js', threads: number) => {
      const store = await ParameterStore.create({ backend, threads });
      // Ordinary values: one NaN or Inf would make a whole matrix NaN (as in PyTorch), and NaN = NaN proves little.
      const params = shapes.map((s, i) => store.parameter(`p${i}`, { shape: s, values: fillMixed(new Float32Array(s.reduce((a, b) => a * b, 1)), prng(i), 1, 0) }));
      const opt = new Adafactor(params, { weightDecay: 0.01 });
      for (let s = 0; s < 3; s++) {
        params.forEach((p, i) => p.grad.set(fillMixed(new Float32Array(p.size), prng(100 * s + i), 1, 0)));
        opt.step();
      }
      expect(store.threads.active).toBe(backend === 'js' ? 1 : threads);
      for (const p of params) expect(p.data.every(Number.isFinite), p.name).toBe(true);
      return { params, opt, store };
    };
    const one = await run('wasm', 1);
    for (const [backend, threads] of [['wasm', 2], ['wasm', 3], ['js', 1]] as const) {
      const other = await run(backend, threads);
      one.params.forEach((p, i) => {
        expectSameBits(other.params[i].data, p.data, `${backend} ${threads}: ${p.name}`);
        for (const [k, v] of Object.entries(one.opt.state(p))) if (v instanceof Float32Array) expectSameBits(other.opt.state(other.params[i])[k] as Float32Array, v, `${backend} ${threads}: ${p.name}.${k}`);
      });
      other.store.dispose();
    }
    one.store.dispose();
  }, 60_000);

  it("a threaded store's matrix kernels can be called directly too (the host splits them; the pool passes them through)", async () => {
    const store = await ParameterStore.create({ backend: 'wasm', threads: 2 });
    const g = store.parameter('g', { shape: [200, 200], values: Float32Array.from({ length: 40_000 }, (_, i) => (i % 7) - 3) });
    const out = store.parameter('out', 200);
    store.kernels.colMeanSquares(g.dataAddress, 200, 200, 200, out.dataAddress);
    // column j holds (i·200 + j) mod 7 - 3 for i = 0..199: the mean of the squares, from the values
    const want = Array.from({ length: 200 }, (_, j) => { let s = 0; for (let i = 0; i < 200; i++) s += (((i * 200 + j) % 7) - 3) ** 2; return f(s / 200); });
    expect(Array.from(out.data)).toEqual(want);
    store.dispose();
  });
});

describe('Adafactor: state and exact resume', () => {
  const SHAPES3 = [[6, 5], [11], [2, 3, 7], [1, 9]];
  const grads = Array.from({ length: 8 }, (_, s) => SHAPES3.map((sh, i) => fillMixed(new Float32Array(sh.reduce((a, b) => a * b, 1)), prng(50 + 10 * s + i), 1, 0)));
  const build = async (backend: 'wasm' | 'js') => {
    const store = await ParameterStore.create({ backend });
    const params = SHAPES3.map((sh, i) => store.parameter(`p${i}`, { shape: sh, values: fillMixed(new Float32Array(sh.reduce((a, b) => a * b, 1)), prng(i), 1, 0) }));
    const opt = new Adafactor([{ params: params.slice(0, 2) }, { params: params.slice(2), lr: 0.05, weightDecay: 0.1, eps: [1e-4, 1e-3] }]);
    return { store, params, opt };
  };
  const run = (x: { params: Parameter[]; opt: Adafactor }, from: number, to: number) => {
    for (let s = from; s < to; s++) {
      x.params.forEach((p, i) => p.grad.set(grads[s][i]));
      x.opt.step();
    }
  };
  const same = (a: { params: Parameter[]; opt: Adafactor }, b: { params: Parameter[]; opt: Adafactor }, label: string) => {
    a.params.forEach((p, i) => {
      expectSameBits(b.params[i].data, p.data, `${label}: ${p.name}`);
      const sa = a.opt.state(p), sb = b.opt.state(b.params[i]);
      expect(Object.keys(sb).sort()).toEqual(Object.keys(sa).sort());
      for (const [k, v] of Object.entries(sa)) if (v instanceof Float32Array) expectSameBits(sb[k] as Float32Array, v, `${label}: ${p.name}.${k}`);
    });
  };

  for (const backend of BACKENDS) {
    it(`${backend}: the state holds PyTorch's factors (row and column per matrix) and only them`, async () => {
      const x = await build(backend);
      run(x, 0, 1);
      const [m, v, t, r] = x.params;
      expect(Object.keys(x.opt.state(m)).sort()).toEqual(['colVar', 'rowVar', 'step']);
      expect(Object.keys(x.opt.state(v)).sort()).toEqual(['step', 'variance']);
      expect([x.opt.state(m).rowVar!.length, x.opt.state(m).colVar!.length]).toEqual([6, 5]); // [6, 1] and [1, 5]
      expect([x.opt.state(t).rowVar!.length, x.opt.state(t).colVar!.length]).toEqual([2 * 3, 2 * 7]); // [2, 3, 1] and [2, 1, 7]
      expect([x.opt.state(r).rowVar!.length, x.opt.state(r).colVar!.length]).toEqual([1, 9]);
      expect(x.opt.state(v).variance!.length).toBe(11);
      const sd = x.opt.stateDict();
      expect(Object.keys(sd.state[1]).sort()).toEqual(['step', 'variance']);
      expect(Object.keys(sd.state[2]).sort()).toEqual(['colVar', 'rowVar', 'step']);
      expect(sd.paramGroups[1].eps).toEqual([1e-4, 1e-3]);
      expect(sd.paramGroups[0].eps).toEqual([null, 1e-3]);
    });

    it(`${backend}: a state dict through JSON, and a checkpoint, resume bit for bit`, async () => {
      const straight = await build(backend);
      run(straight, 0, 8);
      const first = await build(backend);
      run(first, 0, 3);
      const json = stateDictToJSON(first.opt.stateDict());
      const bytes = saveCheckpoint({ store: first.store, optimizer: first.opt });
      const viaDict = await build(backend);
      viaDict.params.forEach((p, i) => p.data.set(first.params[i].data));
      viaDict.opt.loadStateDict(stateDictFromJSON<OptimizerStateDict>(json));
      run(viaDict, 3, 8);
      same(straight, viaDict, 'state dict');
      const viaCheckpoint = await build(backend === 'wasm' ? 'js' : 'wasm'); // and across backends
      loadCheckpoint(bytes, { store: viaCheckpoint.store, optimizer: viaCheckpoint.opt });
      run(viaCheckpoint, 3, 8);
      same(straight, viaCheckpoint, 'checkpoint');
    });
  }

  it('refuses factors of the wrong length, and state a parameter of that shape does not keep; nothing changes', async () => {
    const x = await build('js');
    run(x, 0, 2);
    const sd = x.opt.stateDict();
    const before = JSON.stringify([x.opt.stateDict(), x.params.map((p) => Array.from(p.data))], (_, v: unknown) => (v instanceof Float32Array ? Array.from(v) : v));
    const bad = (edit: (s: OptimizerStateDict) => void) => { const c = structuredClone(sd); edit(c); return c; };
    expect(() => x.opt.loadStateDict(bad((s) => { s.state[0].rowVar = new Float32Array(30); })))
      .toThrow('Adafactor.loadStateDict: state rowVar of parameter 0 ("p0") has length 30, expected 6; nothing was changed');
    expect(() => x.opt.loadStateDict(bad((s) => { s.state[2].colVar = new Float32Array(7); })))
      .toThrow('state colVar of parameter 2 ("p2") has length 7, expected 14');
    expect(() => x.opt.loadStateDict(bad((s) => { s.state[0].variance = new Float32Array(30); })))
      .toThrow('state variance of parameter 0 ("p0"): Adafactor keeps no variance for a parameter of shape [6, 5]; nothing was changed');
    expect(() => x.opt.loadStateDict(bad((s) => { s.state[1].rowVar = new Float32Array(11); })))
      .toThrow('Adafactor keeps no rowVar for a parameter of shape [11]');
    expect(() => x.opt.loadStateDict(bad((s) => { s.paramGroups[0].eps = [1e-3]; })))
      .toThrow(/param group 0: eps must be an array \[eps1, eps2\]/);
    expect(JSON.stringify([x.opt.stateDict(), x.params.map((p) => Array.from(p.data))], (_, v: unknown) => (v instanceof Float32Array ? Array.from(v) : v))).toBe(before);
  });
});

describe('Adafactor: float32 state only', () => {
  it('has no state options; its state dicts refuse bfloat16 and int8 data; rawState is the float32 factors', async () => {
    const store = await ParameterStore.create({ backend: 'js' });
    const m = store.parameter('m', { shape: [3, 4] }), v = store.parameter('v', 5);
    expect(() => new Adafactor([m], { stateDtype: 'bfloat16' } as never)).toThrow(/Adafactor: unknown option "stateDtype"/);
    expect(() => new Adafactor([m], { stochasticRounding: true } as never)).toThrow(/unknown option "stochasticRounding"/);
    const opt = new Adafactor([m, v]);
    m.grad.fill(0.5);
    v.grad.fill(-0.25);
    opt.step();
    const raw = opt.rawState(m);
    expect(raw.rowVar).toBeInstanceOf(Float32Array);
    expect([(raw.rowVar as Float32Array).length, (raw.colVar as Float32Array).length]).toEqual([3, 4]);
    expect(Object.keys(opt.rawState(v)).sort()).toEqual(['step', 'variance']);
    const sd = opt.stateDict();
    const before = JSON.stringify(opt.stateDict(), (_, x: unknown) => (x instanceof Float32Array ? Array.from(x) : x));
    const bf16 = structuredClone(sd);
    (bf16.state[0] as Record<string, unknown>).rowVar = { dtype: 'bfloat16', data: new Uint16Array(3) };
    expect(() => opt.loadStateDict(bf16)).toThrow('state rowVar of parameter 0 ("m") is an Object, not a Float32Array of length 3; nothing was changed');
    const int8 = structuredClone(sd);
    (int8.state[1] as Record<string, unknown>).variance = { dtype: 'int8', data: new Uint8Array(5), scales: new Float32Array(1), blockSize: 256 };
    expect(() => opt.loadStateDict(int8)).toThrow('state variance of parameter 1 ("v") is an Object, not a Float32Array of length 5');
    expect(JSON.stringify(opt.stateDict(), (_, x: unknown) => (x instanceof Float32Array ? Array.from(x) : x))).toBe(before);
  });
});

describe('Adafactor: option checks (as PyTorch checks them)', () => {
  it('names the option and the value', async () => {
    const store = await ParameterStore.create({ backend: 'js' });
    const w = store.parameter('w', { shape: [3, 4] });
    const cases: [Partial<AdafactorOptions> | Record<string, unknown>, string | RegExp][] = [
      [{ lr: -1 }, 'Adafactor: invalid learning rate (lr): -1 (must be >= 0)'],
      [{ beta2Decay: 0.5 }, 'Adafactor: invalid beta2Decay: 0.5 (must be <= 0)'],
      [{ beta2Decay: NaN }, 'Adafactor: invalid beta2Decay: NaN (must be finite)'],
      [{ eps: [-1e-3, 1e-3] }, 'Adafactor: invalid epsilon1 (eps[0]): -0.001 (must be >= 0)'],
      [{ eps: [null, -1] }, 'Adafactor: invalid epsilon2 (eps[1]): -1 (must be >= 0)'],
      [{ eps: [null, null] as never }, 'Adafactor: epsilon2 (eps[1]) must be a number, got null (null)'],
      [{ eps: 1e-3 as never }, 'Adafactor: eps must be an array [eps1, eps2] (eps1 may be null), got 0.001 (number)'],
      [{ eps: [1e-30] as never }, /eps must be an array \[eps1, eps2\]/],
      [{ d: 0.5 }, 'Adafactor: invalid clipping threshold (d): 0.5 (must be >= 1)'],
      [{ weightDecay: -0.1 }, 'Adafactor: invalid weight decay (weightDecay): -0.1 (must be >= 0)'],
      [{ maximize: 1 as never }, 'Adafactor: maximize must be a boolean, got 1 (number)'],
      [{ foreach: true }, /Adafactor: unknown option "foreach" \(valid: lr, beta2Decay, eps, d, weightDecay, maximize\)/],
    ];
    for (const [options, message] of cases) expect(() => new Adafactor([w], options as never), JSON.stringify(options)).toThrow(message);
    const opt = new Adafactor([w]);
    expect(opt.defaults).toEqual(DEFAULTS);
    opt.paramGroups[0].d = 0;
    expect(() => opt.step()).toThrow('Adafactor: invalid clipping threshold (d): 0 (must be >= 1)');
    expect(() => new Adafactor([w], { eps: [0, 0], beta2Decay: 0, d: 1, lr: 0 })).not.toThrow();
  });

  it('a parameter with no elements is left alone (PyTorch divides by its size and raises)', async () => {
    const store = await ParameterStore.create({ backend: 'js' });
    const e = store.parameter('e', { shape: [0, 4] }), w = store.parameter('w', [1, 2]);
    const opt = new Adafactor([e, w]);
    w.grad.set([1, 1]);
    opt.step();
    expect(opt.state(e)).toEqual({ step: 1, rowVar: new Float32Array(0), colVar: new Float32Array(4) });
    expect(w.data[0]).not.toBe(1);
  });
});

describe('Adafactor: convergence', () => {
  for (const backend of BACKENDS) {
    it(`${backend}: least squares on a 16×24 matrix (the factored path) to a loss below 1e-6 of its start in 1000 steps`, async () => {
      const store = await ParameterStore.create({ backend });
      const R = 16, C = 24;
      const T = Float32Array.from({ length: R * C }, (_, i) => Math.sin(i * 1.7) * (1 + (i % C) / 8));
      const W = store.parameter('W', { shape: [R, C], values: new Float32Array(R * C).fill(0.5) });
      const opt = new Adafactor([W]);
      const loss = () => {
        let s = 0;
        for (let i = 0; i < R * C; i++) { const d = W.data[i] - T[i]; s += 0.5 * d * d; W.grad[i] = d; }
        return s;
      };
      const start = loss();
      for (let s = 0; s < 1000; s++) { loss(); opt.step(); }
      expect(loss() / start).toBeLessThan(1e-6); // measured: about 1e-13
    });
  }
});
