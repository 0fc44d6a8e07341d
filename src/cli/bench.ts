// The optimizer-step benchmark shared by `simdopt bench` (dependency-free timing) and the
// project's `npm run bench` (tinybench): the optimizers (the registry's entries, with the bytes
// each step moves as optimizerInfo reads them), and the check every benchmark makes before
// timing.
import type { AnyOptimizer } from '../optim/optimizer.js';
import { STATE_DTYPES, type StateDtype } from '../optim/state.js';
import { OPTIMIZERS, createOptimizer, optimizerEntry, optimizerInfo, type OptimizerEntry } from '../registry.js';
import { ParameterStore, type Parameter } from '../store.js';

export interface BenchOptimizer {
  /** The registry key (`adam`, `momentum`), and the state dtype unless float32 (`adam int8`): the benchmark's name for it. */
  name: string;
  entry: OptimizerEntry;
  /** The element type of its state. */
  dtype: StateDtype;
  /** Options on top of the entry's (the state dtype). */
  options: Record<string, unknown>;
  /** Bytes a step must read and write per parameter. */
  bytesPerParam: number;
  /** Bytes the arena holds per parameter: value, gradient, state. */
  bytesHeldPerParam: number;
}

/** Earlier names of the benchmark's optimizers, still accepted by `--optimizers`. */
export const BENCH_ALIASES: Readonly<Record<string, string>> = { 'sgd-momentum': 'momentum', 'sgd-nesterov': 'nag' };

/**
 * The entries a benchmark runs: those named (registry keys or {@link BENCH_ALIASES}), or every
 * element-wise one (an optimizer that multiplies matrices, Muon, has its own benchmark:
 * bench/matmul.ts), each with each state dtype of `dtypes` (default float32) and the bytes its
 * step moves. An optimizer without the state options (float32 state only: Adan, L-BFGS,
 * schedule-free) runs in float32 only: its other dtypes are left out. A closure-driven
 * optimizer (L-BFGS) is not benchmarked: its step evaluates the model up to `maxEval` times,
 * so its time is the model's, not one pass over the parameters; naming it throws. Throws
 * naming the known keys on an unknown name.
 */
export async function benchOptimizers(names: readonly string[] = OPTIMIZERS.filter((e) => !e.matrices && !e.closure).map((e) => e.key),
  dtypes: readonly StateDtype[] = ['float32']): Promise<BenchOptimizer[]> {
  for (const d of dtypes) if (!STATE_DTYPES.includes(d)) throw new Error(`unknown state dtype ${JSON.stringify(d)} (known: ${STATE_DTYPES.join(', ')})`);
  const entries = names.map((n) => optimizerEntry(BENCH_ALIASES[n] ?? n));
  for (const e of entries) if (e.closure) throw new Error(benchRefusal(e));
  const variants = await Promise.all(entries.map(async (entry) => {
    const lowPrecision = (await optimizerInfo(entry)).optionNames.includes('stateDtype');
    return dtypes.filter((d) => lowPrecision || d === 'float32').map((dtype) => ({ entry, dtype, options: lowPrecision ? { stateDtype: dtype } : {} }));
  }));
  return Promise.all(variants.flat().map(async ({ entry, dtype, options }) => {
    const info = await optimizerInfo(entry, options);
    return {
      name: dtype === 'float32' ? entry.key : `${entry.key} ${dtype}`, entry, dtype, options,
      bytesPerParam: info.bytesPerParameter, bytesHeldPerParam: info.bytesHeldPerParameter,
    };
  }));
}

/** Why the benchmark leaves out a closure-driven optimizer. */
export function benchRefusal(entry: OptimizerEntry): string {
  return `${entry.key} is not benchmarked: its step re-evaluates the model through a closure (up to maxEval times), so it has no time of its own to measure`;
}

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
  return { store, param, opt: createOptimizer(o.entry, [param], o.options) };
}

/** Steps {@link verifiedPair} takes at most before the parameters must have moved (ADOPT's first step only fills its second moment). */
export const MAX_VERIFY_STEPS = 3;

/**
 * Builds the optimizer on both backends and steps both until the parameters move (at most
 * {@link MAX_VERIFY_STEPS} steps), checking after every step that the results are
 * bit-identical; throws otherwise. Returns the two ready setups and the steps taken.
 */
export async function verifiedPair(o: BenchOptimizer, n: number) {
  const w = await benchSetup('wasm', o, n), j = await benchSetup('js', o, n);
  const before = new Float32Array(n);
  fillLcg(before, 1);
  const moved = () => n === 0 || !sameBits(w.param.data, before);
  let steps = 0;
  do {
    w.opt.step();
    j.opt.step();
    steps++;
    if (!sameBits(w.param.data, j.param.data)) throw new Error(`${o.name} n=${n}: wasm and js differ after ${steps} step(s)`);
  } while (!moved() && steps < MAX_VERIFY_STEPS);
  if (!moved()) throw new Error(`${o.name} n=${n}: ${steps} steps changed nothing`);
  return { wasm: w, js: j, steps };
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
