// The golden program: a fixed, deterministic training run for one optimizer configuration,
// reduced to a SHA-256 of the float32 bits it produces. test/golden/hashes.json records the
// hashes (scripts/record-golden.ts writes it) and test/golden.test.ts checks that every case
// still gives the recorded bits on wasm (1 and 2 threads) and js, so a rewrite of the kernels
// or of the arena cannot change any optimizer's results unnoticed.
//
// Everything here is part of the recorded values: changing the program (sizes, steps, seeds,
// schedules, what is hashed) changes every hash. Do that only together with re-recording, on
// the code the hashes are meant to pin, and bump GOLDEN_PROGRAM_VERSION.
import { createHash, type Hash } from 'node:crypto';
import {
  CosineAnnealingLR, LinearLR, MIN_PARALLEL_ELEMENTS, OneCycleLR, ParameterStore, SequentialLR, StepLR,
  clipGradNorm, clipGradValue, readMomentum, type BackendName, type LRScheduler, type Parameter,
} from '../../src/index.js';
import { fillMixed, prng } from '../helpers.js';
import { OPTIMIZER_CASES, caseShape, optimizerClass, type AnyOptimizer, type OptimizerCase } from '../registry.js';

/** Bump whenever the program below changes (hashes.json records the version it was made with). */
export const GOLDEN_PROGRAM_VERSION = 1;

/** Optimizer steps attempted (one of them is skipped by stepIfFinite). */
export const GOLDEN_STEPS = 30;

/**
 * Parameters in registration order, and their param group. Group 0 is [a, big, e]: `a` is on
 * its own and `big` + `e` are adjacent, so two kernel calls, the second of
 * paddedSize(big) + paddedSize(e) >= MIN_PARALLEL_ELEMENTS elements, which 2 threads split.
 * Group 1 ([b, c, d], halved lr) is likewise one lone parameter and one adjacent pair.
 */
export const GOLDEN_PARAMS: readonly { name: string; size: number; group: 0 | 1 }[] = [
  { name: 'a', size: 1, group: 0 },
  { name: 'b', size: 7, group: 1 },
  { name: 'big', size: 40_003, group: 0 },
  { name: 'e', size: 2, group: 0 },
  { name: 'c', size: 33, group: 1 },
  { name: 'd', size: 5, group: 1 },
];

/** A one-paragraph description of the program, stored in hashes.json. */
export const GOLDEN_DESCRIPTION =
  `Per optimizer case: a store with parameters ${GOLDEN_PARAMS.map((p) => `${p.name}(${p.size})`).join(', ')} ` +
  'in two param groups (the second added with addParamGroup at half the lr), values from fillMixed(prng(1)); ' +
  `${GOLDEN_STEPS} steps with fillMixed gradients (specials, subnormals, Inf and NaN at a low rate on ordinary steps), ` +
  'a scheduler writing lr (OneCycleLR cycling momentum / betas[0] where the case has momentum; otherwise OneCycleLR ' +
  'without momentum, StepLR, or LinearLR then CosineAnnealingLR), clipGradNorm (2-, 1- and inf-norm), clipGradValue, ' +
  'a zero-gradient step, a stepIfFinite that skips (a lone -Inf) and one that steps. SHA-256 over the float32 bits ' +
  'of every parameter after every step, the final gradients and every state buffer (NaN canonicalised), step counts, ' +
  'host-side scalars, final hyperparameters and the norms (as float32) returned by clipGradNorm; for bfloat16 and int8 ' +
  'state also the stored bits (codes and scales). A closure-driven optimizer (L-BFGS) takes all parameters in one group, ' +
  'steps with the test harness\'s closure (the quadratic model around the gradients written) on finite values and ' +
  'gradients only, and steps where the others call stepIfFinite.';

const CANONICAL_NAN_F32 = 0x7fc00000;
const CANONICAL_NAN_BF16 = 0x7fc0;

/** Feeds labelled values into a hash, NaN payloads canonicalised. */
class BitHasher {
  readonly #hash: Hash = createHash('sha256');

  label(text: string): void {
    this.#hash.update(`\n${text}:`);
  }

  f32(values: Float32Array): void {
    const bits = new Uint32Array(values.length);
    bits.set(new Uint32Array(values.buffer, values.byteOffset, values.length));
    for (let i = 0; i < values.length; i++) if (Number.isNaN(values[i])) bits[i] = CANONICAL_NAN_F32;
    this.#hash.update(`[${values.length}]`);
    this.#hash.update(new Uint8Array(bits.buffer));
  }

  /** A JS number, by its float64 bits (NaN canonicalised). */
  f64(value: number): void {
    const v = new Float64Array([Number.isNaN(value) ? NaN : value]);
    this.#hash.update(new Uint8Array(v.buffer));
  }

  bytes(value: Uint8Array): void {
    this.#hash.update(`[${value.length}]`);
    this.#hash.update(value.slice());
  }

  /** bfloat16 bits, NaN canonicalised (its payload may differ between backends, as float32 NaN's may). */
  bf16(values: Uint16Array): void {
    const bits = Uint16Array.from(values, (h) => ((h & 0x7fff) > 0x7f80 ? CANONICAL_NAN_BF16 : h));
    this.bytes(new Uint8Array(bits.buffer));
  }

  text(value: string): void {
    this.#hash.update(JSON.stringify(value));
  }

  digest(): string {
    return this.#hash.digest('hex');
  }
}

/** FNV-1a (32-bit) of a string: picks a case's scheduler variant from its name alone. */
function fnv1a32(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

/** Which scheduler a case runs under (from its options and name, not its place in the registry). */
export function goldenScheduleKind(c: OptimizerCase, opt: AnyOptimizer): 'onecycle-momentum' | 'onecycle' | 'step' | 'linear-cosine' {
  const key = optimizerClass(c.torch)!.momentumKey;
  const m = readMomentum(opt.defaults as Record<string, unknown>);
  if (key === 'betas' || (m !== undefined && m > 0)) return 'onecycle-momentum';
  return (['onecycle', 'step', 'linear-cosine'] as const)[fnv1a32(c.name) % 3];
}

function makeScheduler(c: OptimizerCase, opt: AnyOptimizer): LRScheduler {
  const lr = (opt.defaults as { lr: number }).lr;
  const variant = fnv1a32(c.name);
  switch (goldenScheduleKind(c, opt)) {
    case 'onecycle-momentum': {
      const m = readMomentum(opt.defaults as Record<string, unknown>)!;
      return new OneCycleLR(opt, {
        maxLr: opt.paramGroups.length === 1 ? lr : [lr, lr / 2], totalSteps: GOLDEN_STEPS, maxMomentum: m, baseMomentum: m * 0.9,
        annealStrategy: variant % 2 === 0 ? 'cos' : 'linear', threePhase: (variant >>> 1) % 2 === 0,
      });
    }
    case 'onecycle':
      return new OneCycleLR(opt, { maxLr: opt.paramGroups.length === 1 ? lr : [lr, lr / 2], totalSteps: GOLDEN_STEPS, cycleMomentum: false, pctStart: 0.25 });
    case 'step':
      return new StepLR(opt, { stepSize: 7, gamma: 0.5 });
    case 'linear-cosine': {
      const warm = new LinearLR(opt, { startFactor: 0.1, totalIters: 5 });
      const cos = new CosineAnnealingLR(opt, { tMax: GOLDEN_STEPS - 5, etaMin: lr / 100 });
      return new SequentialLR(opt, { schedulers: [warm, cos], milestones: [5] });
    }
  }
}

/** Writes this step's gradients: mixed values with specials (`rate`; smaller tensors get more). */
function fillGrads(params: readonly Parameter[], rand: () => number, scale: number, rate: number): void {
  for (const p of params) fillMixed(p.grad, rand, scale, p.size < 64 ? rate * 4 : rate);
}

/** The step plan: what happens at each step besides writing gradients and stepping. */
const CLIP_L2 = new Map<number, number>([[2, 1], [7, 0.5], [12, 3], [22, 1e3], [27, 1]]); // step -> maxNorm (1e3: no clipping)
const CLIP_INF_STEP = 9;
const CLIP_L1_STEP = 14;
const CLIP_VALUE_STEP = 11;
const SKIPPED_STEP = 17;
const IF_FINITE_STEP = 19;
const ZERO_GRAD_STEP = 25;
const FINITE_STEPS = new Set([...CLIP_L2.keys(), CLIP_INF_STEP, CLIP_L1_STEP, SKIPPED_STEP, IF_FINITE_STEP]);

/** Options of one run of the golden program. */
export interface GoldenRunOptions {
  backend: BackendName;
  threads: number;
}

/**
 * Runs the golden program for the OPTIMIZER_CASES entry `caseName` and returns its hash
 * (64 hex digits). Throws if the case is unknown, or if the store did not get the threads
 * asked for (a 2-thread run that silently ran on one thread would prove nothing).
 */
export async function goldenHash(caseName: string, backend: BackendName, threads = 1): Promise<string> {
  const c = OPTIMIZER_CASES.find((x) => x.name === caseName);
  if (c === undefined) throw new Error(`goldenHash: no optimizer case named ${JSON.stringify(caseName)}`);
  const store = await ParameterStore.create({ backend, threads });
  try {
    if (store.backend !== backend) throw new Error(`goldenHash: asked for the ${backend} backend, got ${store.backend}`);
    if (store.threads.active !== threads) {
      throw new Error(`goldenHash: asked for ${threads} threads, got ${store.threads.active} (${store.threads.note})`);
    }
    return run(c, store);
  } finally {
    store.dispose();
  }
}

function run(c: OptimizerCase, store: ParameterStore): string {
  const h = new BitHasher();
  h.label('program');
  h.f64(GOLDEN_PROGRAM_VERSION);
  h.text(c.name);

  const init = prng(1);
  const cls = optimizerClass(c.torch)!;
  // L-BFGS: finite values and gradients (one NaN would make its whole flat state NaN for the rest of the run).
  const params = GOLDEN_PARAMS.map((s, i) => store.parameter(s.name, { shape: caseShape(c, s.size, i), values: fillMixed(new Float32Array(s.size), init, 1, cls.closure ? 0 : 0.01) }));
  const group = (g: 0 | 1) => params.filter((_, i) => GOLDEN_PARAMS[i].group === g);
  // The big run must be split on 2 threads, or the threaded path goes untested.
  const bigRun = params.slice(2, 4).reduce((n, p) => n + p.paddedSize, 0);
  if (bigRun < MIN_PARALLEL_ELEMENTS) throw new Error(`golden program: the big run has ${bigRun} elements, fewer than MIN_PARALLEL_ELEMENTS`);

  // L-BFGS takes one param group: all parameters in it.
  const opt = cls.create(cls.closure ? params : group(0), c.options);
  if (!cls.closure) opt.addParamGroup({ params: group(1), lr: (opt.defaults as { lr: number }).lr / 2 });
  const sched = makeScheduler(c, opt);

  const rand = prng(2);
  for (let s = 0; s < GOLDEN_STEPS; s++) {
    h.label(`step ${s}`);
    if (s === ZERO_GRAD_STEP) opt.zeroGrad();
    else fillGrads(params, rand, s === 5 ? 1e-30 : s === 20 ? 1e4 : 1, FINITE_STEPS.has(s) || cls.closure ? 0 : 0.003);

    let stepped = true;
    if (CLIP_L2.has(s)) h.f64(Math.fround(clipGradNorm(params, CLIP_L2.get(s)!)));
    else if (s === CLIP_INF_STEP) h.f64(Math.fround(clipGradNorm(params, 0.5, { normType: Infinity })));
    else if (s === CLIP_L1_STEP) h.f64(Math.fround(clipGradNorm(params, 100, { normType: 1 })));
    else if (s === CLIP_VALUE_STEP) clipGradValue(params, 0.25);

    if (cls.closure && (s === SKIPPED_STEP || s === IF_FINITE_STEP)) {
      // L-BFGS refuses stepIfFinite (its gradients are the closure's): a plain step.
      opt.step();
      h.text('closure step');
    } else if (s === SKIPPED_STEP) {
      // One non-finite gradient, at the very end of the last run: the step must be skipped.
      const d = params[5];
      d.grad[d.size - 1] = -Infinity;
      let threw = false;
      try {
        clipGradNorm(params, 1, { errorIfNonfinite: true });
      } catch {
        threw = true;
      }
      stepped = opt.stepIfFinite();
      h.text(`threw=${threw} stepped=${stepped}`);
    } else if (s === IF_FINITE_STEP) {
      stepped = opt.stepIfFinite();
      h.text(`stepped=${stepped}`);
    } else {
      opt.step();
    }
    if (stepped) sched.step();
    for (const p of params) h.f32(p.data);
  }

  h.label('final');
  h.f64(opt.skippedSteps);
  for (const p of params) {
    h.label(`param ${p.name}`);
    h.f32(p.data);
    h.f32(p.grad);
    const state = opt.state(p) as Record<string, number | Float32Array>;
    for (const key of Object.keys(state).sort()) {
      h.label(key);
      const v = state[key];
      if (v instanceof Float32Array) h.f32(v);
      else h.f64(v);
    }
    // Low-precision state: its stored bits too (bfloat16 halves, int8 codes and scales).
    // Float32 cases hash nothing more, so their recorded hashes stand.
    const raw = opt.rawState(p);
    for (const key of Object.keys(raw).sort()) {
      const v = raw[key];
      if (typeof v === 'number' || v instanceof Float32Array) continue;
      h.label(`${key} ${v.dtype}`);
      if (v.data instanceof Uint16Array) h.bf16(v.data);
      else h.bytes(v.data);
      if (v.scales) h.f32(v.scales);
    }
  }
  opt.paramGroups.forEach((g, i) => {
    h.label(`group ${i}`);
    h.f64(Math.fround(g.lr as number));
    h.f64(Math.fround(readMomentum(g as Record<string, unknown>) ?? NaN));
  });
  return h.digest();
}
