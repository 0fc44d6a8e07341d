// A deterministic training program for the cross-engine test: integer-PRNG data, every
// optimizer (and a few with bfloat16 and int8 state) under a 1Cycle schedule with gradient
// clipping, a few hundred steps, on the wasm and js backends. It returns a CRC-32 of every final parameter and state buffer per backend;
// the same hash in every engine means the same bits, scalars and kernels included.
// Plain JavaScript importing the built package, so Node, Deno, Bun and browsers run it as is.
import {
  OneCycleLR, ParameterStore, CosineAnnealingWarmRestarts, PolynomialLR, OPTIMIZERS, clipGradNorm, createOptimizer, crc32, detmath,
  oneCycleSchedule, powInt,
} from '../../dist/index.js';

// Every optimizer of the registry, with a few options that exercise more of its kernel.
const EXTRA = {
  momentum: { weightDecay: 1e-4 },
  adagrad: { lr: 0.05, lrDecay: 1e-3, initialAccumulatorValue: 0.1 },
  rmsprop: { lr: 0.003, momentum: 0.5, centered: true },
  adam: { lr: 0.01, amsgrad: true },
  adamw: { lr: 0.01, weightDecay: 0.05 },
  nadam: { lr: 0.01, weightDecay: 0.01, decoupledWeightDecay: true },
  adadelta: { weightDecay: 1e-3 },
  lion: { lr: 3e-4, weightDecay: 0.1 },
  adan: { lr: 3e-3, weightDecay: 0.02 },
  // both warmups: the schedules' log and pow run on the host and must agree in every engine
  ademamix: { lr: 3e-3, alpha: 5, alphaWarmup: 200, beta3Warmup: 200, weightDecay: 0.01 },
};
const OPTIMIZER_RUNS = OPTIMIZERS.map((entry) => [entry.key, (p) => createOptimizer(entry, p, EXTRA[entry.key] ?? {}), entry.momentum !== undefined, entry.matrices === true, entry.closure === true]);
/** Low-precision state (stateDtype): bfloat16, to nearest and stochastic, and blockwise int8. */
const LOW_PRECISION_RUNS = [
  ['adam', 'adam-int8', { lr: 0.01, amsgrad: true, stateDtype: 'int8' }],
  ['adamw', 'adamw-bf16-stochastic', { lr: 0.01, weightDecay: 0.05, stateDtype: 'bfloat16', stochasticRounding: true, stateSeed: 42 }],
  ['momentum', 'momentum-int8', { weightDecay: 1e-4, stateDtype: 'int8' }],
  ['rmsprop', 'rmsprop-bf16', { lr: 0.003, momentum: 0.5, stateDtype: 'bfloat16' }],
];
for (const [key, name, options] of LOW_PRECISION_RUNS) {
  const entry = OPTIMIZERS.find((e) => e.key === key);
  OPTIMIZER_RUNS.push([name, (p) => createOptimizer(entry, p, options), entry.momentum !== undefined, false, false]);
}
/** Parameter shapes: 1-D, or matrices (wide, square and a vector) for optimizers that multiply matrices. */
const SHAPES = [[37], [64], [5]];
const MATRIX_SHAPES = [[9, 13], [8, 8], [5]];

/** xorshift32: integers only, the same sequence in every engine. */
function rng(seed) {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13; x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5; x >>>= 0;
    return x;
  };
}
/** A float32 in [-1, 1) from 24 random bits: exact. */
const unit = (next) => ((next() >>> 8) / 8388608) - 1;

function bytesOf(a) {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

async function runBackend(backend, steps) {
  const store = await ParameterStore.create({ backend });
  const hashes = [];
  for (const [name, make, momentum, matrices, closure] of OPTIMIZER_RUNS) {
    const next = rng(0x9e3779b9 ^ name.length * 7919 ^ name.charCodeAt(0));
    const shapes = matrices ? MATRIX_SHAPES : SHAPES;
    const sizes = shapes.map((s) => s.reduce((a, b) => a * b, 1));
    const params = shapes.map((shape, i) => store.parameter(`${name}.${i}`, { shape, values: Array.from({ length: sizes[i] }, () => unit(next)) }));
    const curvature = sizes.map((n) => Float32Array.from({ length: n }, (_, i) => 0.1 + (i % 10)));
    const opt = make(params);
    const sched = name === 'sgd' ? new CosineAnnealingWarmRestarts(opt, { t0: 50, tMult: 2 })
      : name === 'adadelta' ? new PolynomialLR(opt, { totalIters: steps, power: 1.5 })
        : new OneCycleLR(opt, { maxLr: opt.defaults.lr * 5, totalSteps: steps, cycleMomentum: momentum, threePhase: name === 'adam' });
    /** The noisy quadratic's gradients, clipped, and its loss (without the noise). */
    const evaluate = () => {
      let loss = 0;
      params.forEach((p, k) => {
        const d = p.data, g = p.grad, c = curvature[k];
        for (let i = 0; i < p.size; i++) {
          g[i] = c[i] * (d[i] - 0.25) + 0.01 * unit(next); // noisy quadratic
          loss += 0.5 * c[i] * (d[i] - 0.25) * (d[i] - 0.25);
        }
      });
      clipGradNorm(params, 5);
      return loss;
    };
    for (let s = 0; s < steps; s++) {
      // L-BFGS evaluates the closure as often as its step needs; the others take one gradient.
      if (closure) opt.step(evaluate);
      else {
        evaluate();
        opt.step();
      }
      sched.step();
    }
    const parts = [];
    for (const p of params) {
      parts.push(crc32(bytesOf(p.data)));
      const st = opt.state(p);
      for (const key of Object.keys(st).sort()) {
        const v = st[key];
        parts.push(v instanceof Float32Array ? crc32(bytesOf(v)) : crc32(bytesOf(new Float64Array([v]))));
      }
      // Low-precision state: its stored bits too (bfloat16 halves, int8 codes and scales).
      const raw = opt.rawState(p);
      for (const key of Object.keys(raw).sort()) {
        const v = raw[key];
        if (v === null || typeof v !== 'object' || v instanceof Float32Array) continue;
        parts.push(crc32(bytesOf(v.data)));
        if (v.scales) parts.push(crc32(bytesOf(v.scales)));
      }
    }
    hashes.push(`${name}:${crc32(bytesOf(Uint32Array.from(parts))).toString(16).padStart(8, '0')}`);
  }
  store.dispose();
  return hashes;
}

/**
 * The host-side scalar routines over many arguments and hyperparameters: deterministic exp,
 * log, pow, cosPi, binary powering, and a 1Cycle schedule over 100,000 steps.
 */
function scalarsHash() {
  const next = rng(12345);
  const out = new Float64Array(60000 + 1000);
  for (let i = 0; i < 10000; i++) {
    const u = (next() >>> 0) / 4294967296, v = (next() >>> 0) / 4294967296;
    out[6 * i] = detmath.exp((u - 0.5) * 1400);
    out[6 * i + 1] = detmath.log(v * detmath.exp((u - 0.5) * 1380)); // (no ** here: engines differ)
    out[6 * i + 2] = detmath.pow(u * 3, v * 8);
    out[6 * i + 3] = detmath.cosPi(u * 10);
    out[6 * i + 4] = powInt(0.9 + 0.0999 * u, (next() >>> 12));
    out[6 * i + 5] = detmath.exp(-(next() >>> 10) * 0.004 * detmath.LN_0_96);
  }
  const s = oneCycleSchedule({ maxLr: 0.3, totalSteps: 100000, threePhase: true });
  for (let i = 0; i < 1000; i++) out[60000 + i] = s.lr(i * 100) + s.momentum(i * 100 + 7);
  return crc32(bytesOf(out)).toString(16).padStart(8, '0');
}

/**
 * The same arguments through the engine's own Math.pow, Math.cos and Math.exp: reported, not
 * compared, to show why the library does not use them for scalars (engines differ here).
 */
function nativeHash() {
  const next = rng(777);
  const out = new Float64Array(30000);
  for (let i = 0; i < 10000; i++) {
    const u = (next() >>> 0) / 4294967296;
    out[3 * i] = Math.pow(0.96, u * 50);
    out[3 * i + 1] = Math.cos(u * 100);
    out[3 * i + 2] = Math.exp(u * 50 - 25);
  }
  return crc32(bytesOf(out)).toString(16).padStart(8, '0');
}

/**
 * Matrix products with every option, over integer-PRNG values with zeros, ±Inf, NaN, subnormals
 * and huge and tiny magnitudes mixed in: a CRC-32 of every result.
 */
async function matmulHash(backend) {
  const store = await ParameterStore.create({ backend });
  const next = rng(4242);
  const SPECIAL = [0, -0, Infinity, -Infinity, NaN, 1e-40, -3e38, 1e-30, 65504];
  const value = () => {
    const r = next() % 100;
    return r < 4 ? SPECIAL[next() % SPECIAL.length] : r < 8 ? unit(next) * 1e-39 : unit(next);
  };
  const parts = [];
  for (const [m, k, n, options] of [[67, 131, 29, {}], [13, 7, 40, { transA: true, alpha: 0.5, beta: 2 }], [40, 33, 17, { transB: true, beta: -1 }], [1, 64, 1, { transA: true, transB: true }]]) {
    const [ar, ac] = options.transA ? [k, m] : [m, k], [br, bc] = options.transB ? [n, k] : [k, n];
    const a = store.matrix(ar, ac, Array.from({ length: ar * ac }, value));
    const b = store.matrix(br, bc, Array.from({ length: br * bc }, value));
    const c = store.matrix(m, n, Array.from({ length: m * n }, value));
    store.matmul(a, b, c, options);
    // NaN payloads may differ between engines: canonicalise before hashing.
    parts.push(crc32(bytesOf(Float32Array.from(c.data, (x) => (Number.isNaN(x) ? NaN : x)))));
  }
  store.dispose();
  return crc32(bytesOf(Uint32Array.from(parts))).toString(16).padStart(8, '0');
}

/** Runs the program on both backends; returns the per-optimizer hashes, the matmul and scalar routines' hashes, and one overall hash. */
export async function run(steps = 300) {
  const wasm = await runBackend('wasm', steps);
  const js = await runBackend('js', steps);
  const matmul = await matmulHash('wasm');
  const matmulJs = await matmulHash('js');
  const scalars = scalarsHash();
  const all = crc32(new TextEncoder().encode([...wasm, ...js, matmul, scalars].join(','))).toString(16).padStart(8, '0');
  return { wasm, js, matmul, scalars, same: wasm.join() === js.join() && matmul === matmulJs, hash: all, native: nativeHash() };
}
