// Muon against a float64 transcription of PyTorch's code, its checks, its pairing with AdamW,
// exact resume, and convergence against SGD with momentum.
import { describe, expect, it } from 'vitest';
import { AdamW, Muon, MuonWithAuxAdamW, ParameterStore, SGD, loadCheckpoint, saveCheckpoint, type MuonOptions, type Parameter } from '../src/index.js';
import { BACKENDS, expectSameBits, fillMixed, prng } from './helpers.js';

/**
 * torch.optim._muon._single_tensor_muon and _zeropower_via_newtonschulz (PyTorch 2.9,
 * torch/optim/_muon.py), transcribed in float64 (PyTorch runs the iteration in bfloat16; the
 * transcription keeps full precision, so it measures simdopt's float32 error alone):
 *
 *     buf.lerp_(grad, 1 - momentum)
 *     update = grad.lerp(buf, momentum) if nesterov else buf
 *     X = update (transposed when rows > cols); X /= max(‖X‖, eps)
 *     for _ in range(ns_steps): A = X @ X.T; B = b*A + c*A@A; X = a*X + B@X
 *     param.mul_(1 - lr*weight_decay); param.add_(X (transposed back), alpha=-adjusted_lr)
 */
class MuonReference {
  readonly buf: Float64Array;
  constructor(readonly p: Float64Array, readonly rows: number, readonly cols: number, readonly o: MuonOptions) {
    this.buf = new Float64Array(p.length);
  }

  step(grad: Float64Array): void {
    const { rows, cols, o } = this;
    const n = rows * cols;
    const lerp = (a: number, b: number, w: number) => a + w * (b - a);
    const update = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      this.buf[i] = lerp(this.buf[i], grad[i], 1 - o.momentum);
      update[i] = o.nesterov ? lerp(grad[i], this.buf[i], o.momentum) : this.buf[i];
    }
    const tall = rows > cols;
    const [r, c] = tall ? [cols, rows] : [rows, cols];
    let X = new Float64Array(n);
    for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) X[tall ? j * rows + i : i * cols + j] = update[i * cols + j];
    const norm = Math.max(Math.sqrt(X.reduce((s, x) => s + x * x, 0)), o.eps);
    X = X.map((x) => x / norm);
    const mm = (A: Float64Array, B: Float64Array, m: number, k: number, nn: number) => {
      const C = new Float64Array(m * nn);
      for (let i = 0; i < m; i++) for (let kk = 0; kk < k; kk++) for (let j = 0; j < nn; j++) C[i * nn + j] += A[i * k + kk] * B[kk * nn + j];
      return C;
    };
    const transpose = (A: Float64Array, m: number, nn: number) => {
      const T = new Float64Array(m * nn);
      for (let i = 0; i < m; i++) for (let j = 0; j < nn; j++) T[j * m + i] = A[i * nn + j];
      return T;
    };
    const [a, b, cc] = o.nsCoefficients;
    for (let s = 0; s < o.nsSteps; s++) {
      const A = mm(X, transpose(X, r, c), r, c, r);
      const AA = mm(A, A, r, r, r);
      const B = A.map((x, i) => b * x + cc * AA[i]);
      const BX = mm(B, X, r, r, c);
      X = X.map((x, i) => a * x + BX[i]);
    }
    const adjusted = o.adjustLrFn === 'match_rms_adamw' ? o.lr * (0.2 * Math.sqrt(Math.max(rows, cols))) : o.lr * Math.sqrt(Math.max(1, rows / cols));
    for (let i = 0; i < rows; i++) {
      for (let j = 0; j < cols; j++) {
        const k = i * cols + j;
        this.p[k] *= 1 - o.lr * o.weightDecay;
        this.p[k] -= adjusted * X[tall ? j * rows + i : i * cols + j];
      }
    }
  }
}

const DEFAULTS: MuonOptions = { lr: 1e-3, weightDecay: 0.1, momentum: 0.95, nesterov: true, nsCoefficients: [3.4445, -4.775, 2.0315], eps: 1e-7, nsSteps: 5, adjustLrFn: 'original', stateDtype: 'float32', stochasticRounding: false, stateSeed: 0 };

const REFERENCE_CASES: { name: string; shape: [number, number]; options: Partial<MuonOptions> }[] = [
  { name: 'defaults, wide', shape: [8, 21], options: {} },
  { name: 'defaults, tall', shape: [23, 6], options: {} },
  { name: 'square, plain momentum, match_rms_adamw', shape: [12, 12], options: { lr: 0.02, nesterov: false, adjustLrFn: 'match_rms_adamw', weightDecay: 0 } },
  { name: 'tall, 3 steps, other coefficients, momentum 0.8', shape: [31, 9], options: { lr: 0.01, nsSteps: 3, nsCoefficients: [2, -1.5, 0.5], momentum: 0.8 } },
  { name: 'a row', shape: [1, 17], options: { lr: 0.05 } },
  { name: 'a column', shape: [17, 1], options: { lr: 0.05, weightDecay: 0 } },
];

/**
 * Tolerance, relative to how far the parameters moved in 10 steps. Two float32 errors add up:
 * the Newton–Schulz products (each sums up to max(rows, cols) terms of size <= 1 at 2⁻²⁴ each,
 * amplified by the polynomial's gain of a few per iteration: ~1e-5 of the update) and the
 * rounding of the parameters themselves (entries near 1 round at ~6e-8 per step, against a
 * movement of ~1e-2 at the default lr 1e-3: ~6e-5 over 10 steps). Measured: 7.5e-5 and 5.2e-5
 * for the default-lr cases, 3e-7 to 5.5e-6 for the others; the bound leaves a factor 2.7. The
 * results are the same bits on every engine, so the margin guards against a wrong formula, not
 * against noise.
 */
const TOLERANCE = 2e-4;

describe('Muon: against PyTorch, transcribed in float64', () => {
  for (const backend of BACKENDS) {
    for (const c of REFERENCE_CASES) {
      it(`${backend}: ${c.name} (${c.shape.join('×')}): 10 steps within ${TOLERANCE} of the movement`, async () => {
        const store = await ParameterStore.create({ backend });
        const [rows, cols] = c.shape;
        const rand = prng(rows * 100 + cols);
        const init = fillMixed(new Float32Array(rows * cols), rand, 1, 0);
        const w = store.parameter('w', { shape: c.shape, values: init });
        const options = { ...DEFAULTS, ...c.options };
        const opt = new Muon([w], c.options);
        const ref = new MuonReference(Float64Array.from(init), rows, cols, options);
        for (let s = 0; s < 10; s++) {
          const g = fillMixed(new Float32Array(rows * cols), rand, 1, 0);
          w.grad.set(g);
          opt.step();
          ref.step(Float64Array.from(g));
        }
        let diff = 0, moved = 0;
        for (let i = 0; i < w.size; i++) {
          diff = Math.max(diff, Math.abs(w.data[i] - ref.p[i]));
          moved = Math.max(moved, Math.abs(ref.p[i] - init[i]));
        }
        expect(moved).toBeGreaterThan(0);
        expect(diff / moved, `max difference ${diff}, movement ${moved}`).toBeLessThan(TOLERANCE);
        store.dispose();
      });
    }
  }
});

describe('Muon: checks', () => {
  it('refuses parameters that are not 2-D, as PyTorch does, and bad options', async () => {
    const store = await ParameterStore.create();
    const w = store.parameter('w', { shape: [3, 4] }), b = store.parameter('b', 4), t = store.parameter('t', { shape: [2, 2, 2] });
    expect(() => new Muon([w, b])).toThrow('Muon: Muon only supports 2-D parameters, but Parameter("b", 4) has shape [4] (run it with AdamW: see MuonWithAuxAdamW)');
    expect(() => new Muon([t])).toThrow(/has shape \[2, 2, 2\]/);
    expect(() => new Muon([w], { nsSteps: 100 })).toThrow('Muon: invalid nsSteps: 100');
    expect(() => new Muon([w], { nsSteps: 2.5 })).toThrow(/invalid nsSteps: 2.5/);
    expect(() => new Muon([w], { adjustLrFn: 'rms' as never })).toThrow(/invalid adjustLrFn: "rms" \(must be "original" or "match_rms_adamw"\)/);
    expect(() => new Muon([w], { nsCoefficients: [1, 2] as never })).toThrow(/nsCoefficients must be an array of three numbers/);
    expect(() => new Muon([w], { momentum: -0.1 })).toThrow(/invalid momentum: -0.1/);
    const opt = new Muon([w]);
    expect(() => opt.addParamGroup({ params: [b] })).toThrow(/Muon only supports 2-D parameters/);
    expect(opt.defaults).toEqual(DEFAULTS);
  });

  it('an all-zero gradient leaves only the weight decay (the norm is clamped at eps)', async () => {
    for (const backend of BACKENDS) {
      const store = await ParameterStore.create({ backend });
      const w = store.parameter('w', { shape: [2, 3], values: [1, 2, 3, 4, 5, 6] });
      new Muon([w], { lr: 0.1, weightDecay: 0.5 }).step();
      expect([...w.data]).toEqual([1, 2, 3, 4, 5, 6].map((x) => Math.fround(x * Math.fround(0.95))));
    }
  });
});

describe('MuonWithAuxAdamW', () => {
  it('runs the matrices exactly as Muon and the rest exactly as AdamW, in one optimizer', async () => {
    for (const backend of BACKENDS) {
      const store = await ParameterStore.create({ backend });
      const rand = prng(5);
      const make = (prefix: string) => [
        store.parameter(`${prefix}w1`, { shape: [16, 9], values: fillMixed(new Float32Array(144), prng(1), 1, 0) }),
        store.parameter(`${prefix}b1`, { shape: [9], values: fillMixed(new Float32Array(9), prng(2), 1, 0) }),
        store.parameter(`${prefix}w2`, { shape: [9, 4], values: fillMixed(new Float32Array(36), prng(3), 1, 0) }),
      ];
      const both = make('x.'), alone = make('y.');
      const opt = new MuonWithAuxAdamW(both, { lr: 0.01, adjustLrFn: 'match_rms_adamw', betas: [0.9, 0.95], adamEps: 1e-6 });
      expect(opt.paramGroups.map((g) => [g.useMuon, g.params.map((p) => p.name)])).toEqual([[true, ['x.w1', 'x.w2']], [false, ['x.b1']]]);
      const muon = new Muon([alone[0], alone[2]], { lr: 0.01, adjustLrFn: 'match_rms_adamw' });
      const adamw = new AdamW([alone[1]], { lr: 0.01, betas: [0.9, 0.95], eps: 1e-6, weightDecay: 0.1 });
      for (let s = 0; s < 5; s++) {
        for (let i = 0; i < 3; i++) {
          const g = fillMixed(new Float32Array(both[i].size), rand, 1, 0);
          both[i].grad.set(g);
          alone[i].grad.set(g);
        }
        opt.step();
        muon.step();
        adamw.step();
      }
      both.forEach((p, i) => expectSameBits(p.data, alone[i].data, `${backend} ${p.name}`));
      expect(Object.keys(opt.state(both[0])).sort()).toEqual(['momentumBuffer', 'step']);
      expect(Object.keys(opt.state(both[1])).sort()).toEqual(['expAvg', 'expAvgSq', 'step']);
      store.dispose();
    }
  });

  it('a mixed group runs its matrices with Muon and the rest with AdamW; useMuon: false runs all with AdamW', async () => {
    const store = await ParameterStore.create();
    const w = store.parameter('w', { shape: [4, 4] }), b = store.parameter('b', 4), e = store.parameter('e', { shape: [10, 4] });
    const opt = new MuonWithAuxAdamW([{ params: [w, b] }, { params: [e], useMuon: false, lr: 3e-4 }]);
    expect(Object.keys(opt.state(w)).sort()).toEqual(['expAvg', 'expAvgSq', 'momentumBuffer', 'step']);
    expect(Object.keys(opt.state(e)).sort()).toEqual(['expAvg', 'expAvgSq', 'step']);
    for (const p of [w, b, e]) p.grad.fill(0.5);
    opt.step();
    expect((opt.state(w).momentumBuffer as Float32Array)[0]).toBeCloseTo(0.025, 6);
    expect((opt.state(b).expAvg as Float32Array)[0]).toBeCloseTo(0.05, 6);
    expect((opt.state(e).expAvg as Float32Array)[0]).toBeCloseTo(0.05, 6);
  });
});

describe('Muon: checkpoints', () => {
  for (const backend of BACKENDS) {
    it(`${backend}: save after 3 steps, load into a fresh store, 3 more steps: the same bits as 6 uninterrupted`, async () => {
      const grads = Array.from({ length: 6 }, (_, s) => fillMixed(new Float32Array(13 * 7), prng(40 + s), 1, 0));
      const build = async () => {
        const store = await ParameterStore.create({ backend });
        const w = store.parameter('w', { shape: [13, 7], values: fillMixed(new Float32Array(91), prng(9), 1, 0) });
        const opt = new Muon([w], { lr: 0.02, nesterov: true });
        return { store, w, opt };
      };
      const run = (x: { w: Parameter; opt: Muon }, from: number, to: number) => {
        for (let s = from; s < to; s++) {
          x.w.grad.set(grads[s]);
          x.opt.step();
        }
      };
      const straight = await build();
      run(straight, 0, 6);
      const first = await build();
      run(first, 0, 3);
      const bytes = saveCheckpoint({ store: first.store, optimizer: first.opt });
      const resumed = await build();
      loadCheckpoint(bytes, { store: resumed.store, optimizer: resumed.opt });
      run(resumed, 3, 6);
      expectSameBits(resumed.w.data, straight.w.data, 'parameters');
      expectSameBits(resumed.opt.state(resumed.w).momentumBuffer, straight.opt.state(straight.w).momentumBuffer, 'momentum buffer');
    });
  }
});

describe('Muon: convergence', () => {
  /**
   * Deep matrix factorisation: minimise ‖W₀·W₁·W₂ - T‖² / ‖T‖² over three 16×16 matrices from a
   * small start (entries ±0.01), T = U·diag(σ)·Vᵀ with σ from 1 down to 0.1. Gradient descent
   * learns the singular directions one after another, the small ones last and slowly (the
   * saddle-to-saddle dynamics of deep linear networks); Muon's orthogonalised updates move all of
   * them at once. Each optimizer gets its best constant lr from a sweep; Muon must reach a loss
   * of 1% in fewer steps than SGD with momentum 0.9. (Measured: Muon 33 steps, SGD 464.)
   */
  it('reaches the target loss in fewer steps than SGD with momentum on a deep factorisation (best lr of each from a sweep)', async () => {
    const d = 16;
    const rand = prng(11);
    const orthogonal = (): Float64Array => {
      const M = Float64Array.from({ length: d * d }, () => rand() * 2 - 1);
      for (let i = 0; i < d; i++) {
        for (let j = 0; j < i; j++) {
          let dot = 0;
          for (let k = 0; k < d; k++) dot += M[i * d + k] * M[j * d + k];
          for (let k = 0; k < d; k++) M[i * d + k] -= dot * M[j * d + k];
        }
        let norm = 0;
        for (let k = 0; k < d; k++) norm += M[i * d + k] ** 2;
        for (let k = 0; k < d; k++) M[i * d + k] /= Math.sqrt(norm);
      }
      return M;
    };
    const U = orthogonal(), V = orthogonal();
    const T = new Float64Array(d * d);
    for (let i = 0; i < d; i++) for (let j = 0; j < d; j++) for (let k = 0; k < d; k++) T[i * d + j] += U[k * d + i] * 0.1 ** (k / (d - 1)) * V[k * d + j];
    const t2 = T.reduce((s, x) => s + x * x, 0);
    const mm = (A: ArrayLike<number>, B: ArrayLike<number>) => {
      const C = new Float64Array(d * d);
      for (let i = 0; i < d; i++) for (let k = 0; k < d; k++) for (let j = 0; j < d; j++) C[i * d + j] += A[i * d + k] * B[k * d + j];
      return C;
    };
    const tr = (A: ArrayLike<number>) => {
      const C = new Float64Array(d * d);
      for (let i = 0; i < d; i++) for (let j = 0; j < d; j++) C[j * d + i] = A[i * d + j];
      return C;
    };
    const lossAndGrad = (ws: Parameter[]): number => {
      const [a, b, c] = ws.map((w) => Float64Array.from(w.data));
      const ab = mm(a, b), r = mm(ab, c).map((x, i) => x - T[i]);
      ws[0].grad.set(mm(r, tr(mm(b, c))));
      ws[1].grad.set(mm(mm(tr(a), r), tr(c)));
      ws[2].grad.set(mm(tr(ab), r));
      return r.reduce((s, x) => s + x * x, 0) / t2;
    };
    const stepsTo = async (make: (ws: Parameter[]) => { step(): unknown }): Promise<number> => {
      const store = await ParameterStore.create();
      const init = prng(3);
      const ws = [0, 1, 2].map((i) => store.parameter(`w${i}`, { shape: [d, d], values: Float32Array.from({ length: d * d }, () => (init() * 2 - 1) * 0.01) }));
      const opt = make(ws);
      for (let s = 0; s < 600; s++) {
        const loss = lossAndGrad(ws);
        if (!(loss < 1e6)) return Infinity;
        if (loss < 0.01) return s;
        opt.step();
      }
      return Infinity;
    };
    const best = async (lrs: number[], make: (lr: number) => (ws: Parameter[]) => { step(): unknown }) => {
      const steps: number[] = [];
      for (const lr of lrs) steps.push(await stepsTo(make(lr)));
      return Math.min(...steps);
    };
    const sgd = await best([0.1, 0.3, 0.5, 0.7, 1], (lr) => (ws) => new SGD(ws, { lr, momentum: 0.9 }));
    const muon = await best([0.01, 0.02, 0.05, 0.1], (lr) => (ws) => new Muon(ws, { lr, weightDecay: 0 }));
    expect(muon, `Muon ${muon} steps, SGD momentum ${sgd}`).toBeLessThan(sgd);
    expect(muon).toBeLessThan(100);
  }, 60_000);
});
