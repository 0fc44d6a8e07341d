// The optimizer-step benchmark shared by `simdopt bench` (dependency-free timing) and the
// project's `npm run bench` (tinybench): the optimizers, the bytes each kernel moves, and the
// check every benchmark makes before timing.
import { Adadelta } from '../optim/adadelta.js';
import { Adagrad } from '../optim/adagrad.js';
import { Adam, AdamW } from '../optim/adam.js';
import { Adamax } from '../optim/adamax.js';
import { Lion } from '../optim/lion.js';
import { NAdam } from '../optim/nadam.js';
import type { AnyOptimizer } from '../optim/optimizer.js';
import { RAdam } from '../optim/radam.js';
import { RMSprop } from '../optim/rmsprop.js';
import { SGD } from '../optim/sgd.js';
import { ParameterStore, type Parameter } from '../store.js';

export interface BenchOptimizer {
  name: string;
  /** Bytes a step must read and write per parameter. */
  bytesPerParam: number;
  create(params: Parameter[]): AnyOptimizer;
}

/** Every optimizer with the bytes its kernel must read and write per parameter. */
export const BENCH_OPTIMIZERS: readonly BenchOptimizer[] = [
  { name: 'sgd', bytesPerParam: 3 * 4, create: (p) => new SGD(p, { lr: 1e-3 }) }, // read p, g; write p
  { name: 'sgd-momentum', bytesPerParam: 5 * 4, create: (p) => new SGD(p, { lr: 1e-3, momentum: 0.9 }) }, // + buf
  { name: 'sgd-nesterov', bytesPerParam: 5 * 4, create: (p) => new SGD(p, { lr: 1e-3, momentum: 0.9, nesterov: true }) },
  { name: 'adam', bytesPerParam: 7 * 4, create: (p) => new Adam(p, { lr: 1e-3 }) }, // read p, g, m, v; write p, m, v
  { name: 'adamw', bytesPerParam: 7 * 4, create: (p) => new AdamW(p, { lr: 1e-3 }) },
  { name: 'adagrad', bytesPerParam: 5 * 4, create: (p) => new Adagrad(p, {}) }, // + sum
  { name: 'rmsprop', bytesPerParam: 5 * 4, create: (p) => new RMSprop(p, {}) }, // + squareAvg
  { name: 'nadam', bytesPerParam: 7 * 4, create: (p) => new NAdam(p, {}) },
  { name: 'adamax', bytesPerParam: 7 * 4, create: (p) => new Adamax(p, {}) }, // + m, u
  { name: 'radam', bytesPerParam: 7 * 4, create: (p) => new RAdam(p, {}) },
  { name: 'adadelta', bytesPerParam: 7 * 4, create: (p) => new Adadelta(p, {}) }, // + squareAvg, accDelta
  { name: 'lion', bytesPerParam: 5 * 4, create: (p) => new Lion(p, {}) }, // + m
];

/** Deterministic values in [-1, 1). */
export function fillLcg(a: Float32Array, seed: number): void {
  let x = seed >>> 0;
  for (let i = 0; i < a.length; i++) {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    a[i] = (x / 4294967296 - 0.5) * 2;
  }
}

/** True when two float32 arrays hold the same bits. */
export function sameBits(a: Float32Array, b: Float32Array): boolean {
  const x = new Uint32Array(a.buffer, a.byteOffset, a.length), y = new Uint32Array(b.buffer, b.byteOffset, b.length);
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return false;
  return true;
}

/** One optimizer over `n` parameters on a backend, with data and gradients filled. */
export async function benchSetup(backend: 'wasm' | 'js', o: BenchOptimizer, n: number, threads = 1): Promise<{ store: ParameterStore; param: Parameter; opt: AnyOptimizer }> {
  const store = await ParameterStore.create({ backend, threads });
  const param = store.parameter('w', n);
  fillLcg(param.data, 1);
  fillLcg(param.grad, 2);
  return { store, param, opt: o.create([param]) };
}

/**
 * Builds the optimizer on both backends, takes one step on each, and checks the results are
 * bit-identical and the parameters moved; throws otherwise. Returns the two ready setups.
 */
export async function verifiedPair(o: BenchOptimizer, n: number) {
  const w = await benchSetup('wasm', o, n), j = await benchSetup('js', o, n);
  w.opt.step();
  j.opt.step();
  const before = new Float32Array(n);
  fillLcg(before, 1);
  if (!sameBits(w.param.data, j.param.data)) throw new Error(`${o.name} n=${n}: wasm and js differ after one step`);
  if (n > 0 && sameBits(w.param.data, before)) throw new Error(`${o.name} n=${n}: the step changed nothing`);
  return { wasm: w, js: j };
}

/** Median time of `fn` in ms: a warm-up, then samples until `budgetMs` (at least `minSamples`). */
export function medianMs(fn: () => void, budgetMs: number, minSamples = 5): number {
  for (let i = 0; i < 3; i++) fn();
  const samples: number[] = [];
  const start = performance.now();
  while (samples.length < minSamples || performance.now() - start < budgetMs) {
    const t0 = performance.now();
    fn();
    samples.push(performance.now() - t0);
  }
  samples.sort((a, b) => a - b);
  return samples[Math.floor(samples.length / 2)];
}
