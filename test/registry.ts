// The one table of optimizer configurations that drives the parity, reference, first-step
// and (later) save/load and convergence tests. The classes come from the library's registry
// (src/registry.ts), each once, with the PyTorch class it mirrors; each case is a named
// option set.
import { stateBufferSpecs } from '../src/optim/groups.js';
import { OPTIMIZERS, ParameterStore, createOptimizer, type OptimizerEntry, type Parameter } from '../src/index.js';

export type { AnyOptimizer } from '../src/optim/optimizer.js';
import type { AnyOptimizer } from '../src/optim/optimizer.js';
type Factory = (params: Parameter[], options: Record<string, unknown>) => AnyOptimizer;

export interface OptimizerClass {
  /** PyTorch's class name (the reference file's `optimizer` field); the class's own name where PyTorch has none. */
  readonly torch: string;
  /**
   * Builds the optimizer as the table-driven tests use it: in train mode when it has modes
   * (schedule-free), and, when its step needs a closure (L-BFGS), with `step()` given the
   * {@link harnessClosure} when called without one.
   */
  readonly create: Factory;
  /** Its step needs a closure (L-BFGS): one param group, one state over all parameters, no stepIfFinite. */
  readonly closure: boolean;
  /** It has train and eval modes (schedule-free). */
  readonly modes: boolean;
  /** Every state buffer the class can hold (its spec's buffers), for checks that they exist or not. */
  readonly stateKeys: readonly string[];
  /** Where a scheduler writes momentum: SGD's `momentum`, the Adam family's `betas[0]`, or nowhere. */
  readonly momentumKey: 'momentum' | 'betas' | undefined;
}

/** The state buffers a class declares, read from an instance's spec (built over a throwaway store). */
async function declaredBuffers(entries: readonly OptimizerEntry[]): Promise<string[][]> {
  const store = await ParameterStore.create({ backend: 'js' });
  try {
    return entries.map((entry, i) => stateBufferSpecs(createOptimizer(entry, [store.parameter(`probe${i}`, { shape: [1, 1] })]).spec).map((b) => b.name));
  } finally {
    store.dispose();
  }
}

const classEntries = OPTIMIZERS.filter((e, i) => OPTIMIZERS.findIndex((x) => x.optimizer === e.optimizer) === i);
const classBuffers = await declaredBuffers(classEntries);

/**
 * The closure the table-driven tests give a closure-driven optimizer (L-BFGS), so that they can
 * drive it as every other optimizer, by writing gradients and calling `step()`: the gradients
 * written before the step, g0 at the parameters' values p0 then, define the loss the closure
 * re-evaluates, the quadratic model f(p) = sum g0·(p - p0) + |p - p0|^2 / 2, whose gradient is
 * g0 + (p - p0) (in float32; the loss in float64). At p0 it gives back the gradients written.
 */
export function harnessClosure(params: readonly Parameter[]): () => number {
  const p0 = params.map((p) => p.data.slice()), g0 = params.map((p) => p.grad.slice());
  return () => {
    let loss = 0;
    params.forEach((p, k) => {
      const x = p.data, g = p.grad, x0 = p0[k], gk = g0[k];
      for (let i = 0; i < p.size; i++) {
        const d = Math.fround(x[i] - x0[i]);
        g[i] = Math.fround(gk[i] + d);
        loss += gk[i] * d + 0.5 * d * d;
      }
    });
    return loss;
  };
}

/** Builds an entry's class over `p` as the tests use it (see {@link OptimizerClass.create}). */
function harnessed(entry: OptimizerEntry): Factory {
  return (p, o) => {
    const opt = new entry.optimizer(p as never, o as never);
    if (entry.modes) (opt as unknown as { train(): void }).train();
    if (entry.closure) {
      const step = opt.step.bind(opt);
      opt.step = (closure?: () => number) => step(closure ?? harnessClosure(opt.paramGroups.flatMap((g) => g.params)));
    }
    return opt;
  };
}

/** Every optimizer class of the registry, once (its first entry names it). */
export const OPTIMIZER_CLASSES: readonly OptimizerClass[] = classEntries.map((entry, i) => ({
  torch: entry.torch ?? entry.optimizer.name,
  create: harnessed(entry),
  closure: entry.closure === true,
  modes: entry.modes === true,
  stateKeys: classBuffers[i],
  momentumKey: OPTIMIZERS.find((e) => e.optimizer === entry.optimizer && e.momentum !== undefined)?.momentum,
}));

export function optimizerClass(torch: string): OptimizerClass | undefined {
  return OPTIMIZER_CLASSES.find((c) => c.torch === torch);
}

/**
 * The param groups a test builds, as `cls` takes them: as given, or for a class with one param
 * group only (L-BFGS), one group of all their parameters with the first group's options.
 */
export function groupsFor(cls: OptimizerClass, groups: readonly ({ params: Parameter[] } & Record<string, unknown>)[]): ({ params: Parameter[] } & Record<string, unknown>)[] {
  return cls.closure ? [{ ...groups[0], params: groups.flatMap((g) => g.params) }] : [...groups];
}

export interface OptimizerCase {
  /** `family/variant`, as in the reference file. */
  readonly name: string;
  readonly torch: string;
  /** Options in this library's spelling. */
  readonly options: Record<string, unknown>;
  /**
   * Shapes of the parameters: `'all'` gives every parameter two dimensions (Muon's classes
   * need matrices), `'mixed'` all but the second of every three; `'tensors'` is `'mixed'` with
   * the first of every three a batch of matrices (three dimensions, Adafactor factors the last
   * two); otherwise each is 1-D.
   */
  readonly matrices?: 'all' | 'mixed' | 'tensors';
  /**
   * The step couples the parameters (Prodigy's step size comes from sums over all of them), so
   * a frozen parameter changes how the others step: tests that compare with a run where
   * nothing, or only the one parameter, was there leave such cases to their own tests.
   */
  readonly coupled?: true;
}

/**
 * The shape a case gives its `index`-th parameter of `size` elements: 1-D, or a matrix
 * rows × cols = size (the most nearly square; tall for even indices, wide for odd ones, so
 * both of Muon's orientations run), or (`'tensors'`) a batch of 2, 3 or 5 such matrices
 * (the smallest that divides size; 1 if none does).
 */
export function caseShape(c: OptimizerCase, size: number, index: number): number[] {
  if (c.matrices === undefined || (c.matrices !== 'all' && index % 3 === 1)) return [size];
  if (c.matrices === 'tensors' && index % 3 === 0) {
    const batch = [2, 3, 5].find((b) => size % b === 0 && size > 0) ?? 1;
    return [batch, ...matrixShape(size / batch, index)];
  }
  return matrixShape(size, index);
}

/** A matrix of `size` elements, the most nearly square: tall for even indices, wide for odd ones. */
function matrixShape(size: number, index: number): number[] {
  let d = Math.max(1, Math.floor(Math.sqrt(size)));
  while (d > 1 && size % d !== 0) d--;
  if (size === 0) return [0, 0];
  return index % 2 === 0 ? [size / d, d] : [d, size / d];
}

/** Option sets covering every flag and branch of every kernel. */
export const OPTIMIZER_CASES: readonly OptimizerCase[] = [
  { name: 'sgd/plain', torch: 'SGD', options: { lr: 0.1 } },
  { name: 'sgd/weight-decay', torch: 'SGD', options: { lr: 0.05, weightDecay: 0.01 } },
  { name: 'sgd/momentum', torch: 'SGD', options: { lr: 0.05, momentum: 0.9 } },
  { name: 'sgd/momentum-dampening-wd', torch: 'SGD', options: { lr: 0.05, momentum: 0.9, dampening: 0.1, weightDecay: 0.01 } },
  { name: 'sgd/nesterov', torch: 'SGD', options: { lr: 0.05, momentum: 0.9, nesterov: true } },
  { name: 'sgd/nesterov-wd-maximize', torch: 'SGD', options: { lr: 0.05, momentum: 0.5, nesterov: true, weightDecay: 0.1, maximize: true } },
  { name: 'sgd/maximize', torch: 'SGD', options: { lr: 0.05, maximize: true } },
  { name: 'adam/default', torch: 'Adam', options: {} },
  { name: 'adam/amsgrad', torch: 'Adam', options: { lr: 0.01, amsgrad: true } },
  { name: 'adam/l2', torch: 'Adam', options: { lr: 0.01, weightDecay: 0.05 } },
  { name: 'adam/l2-amsgrad-maximize', torch: 'Adam', options: { lr: 0.01, weightDecay: 0.05, amsgrad: true, maximize: true } },
  { name: 'adam/betas-eps', torch: 'Adam', options: { lr: 0.003, betas: [0.5, 0.9], eps: 1e-3 } },
  { name: 'adamw/default', torch: 'AdamW', options: {} },
  { name: 'adamw/amsgrad-maximize', torch: 'AdamW', options: { lr: 0.01, weightDecay: 0.1, amsgrad: true, maximize: true } },
  { name: 'adamw/no-decay', torch: 'AdamW', options: { lr: 0.01, weightDecay: 0 } },
  { name: 'adagrad/default', torch: 'Adagrad', options: {} },
  { name: 'adagrad/lr-decay-init-wd-maximize', torch: 'Adagrad', options: { lr: 0.05, lrDecay: 0.01, initialAccumulatorValue: 0.1, weightDecay: 0.01, maximize: true } },
  { name: 'rmsprop/default', torch: 'RMSprop', options: {} },
  { name: 'rmsprop/centered', torch: 'RMSprop', options: { centered: true } },
  { name: 'rmsprop/momentum-wd', torch: 'RMSprop', options: { momentum: 0.9, weightDecay: 0.01 } },
  { name: 'rmsprop/centered-momentum-maximize', torch: 'RMSprop', options: { alpha: 0.9, centered: true, momentum: 0.8, maximize: true } },
  { name: 'nadam/default', torch: 'NAdam', options: {} },
  { name: 'nadam/l2-maximize', torch: 'NAdam', options: { weightDecay: 0.05, maximize: true } },
  { name: 'nadam/decoupled-no-momentum-decay', torch: 'NAdam', options: { weightDecay: 0.05, decoupledWeightDecay: true, momentumDecay: 0 } },
  { name: 'adamax/default', torch: 'Adamax', options: {} },
  { name: 'adamax/wd-maximize', torch: 'Adamax', options: { betas: [0.8, 0.99], weightDecay: 0.05, maximize: true } },
  { name: 'radam/default', torch: 'RAdam', options: {} },
  { name: 'radam/l2-maximize', torch: 'RAdam', options: { weightDecay: 0.05, maximize: true } },
  { name: 'radam/decoupled-fast-rectify', torch: 'RAdam', options: { betas: [0.9, 0.9], weightDecay: 0.05, decoupledWeightDecay: true } },
  { name: 'adadelta/default', torch: 'Adadelta', options: {} },
  { name: 'adadelta/wd-maximize', torch: 'Adadelta', options: { rho: 0.5, weightDecay: 0.01, maximize: true } },
  { name: 'lion/default', torch: 'Lion', options: {} },
  { name: 'lion/wd-maximize', torch: 'Lion', options: { lr: 1e-3, betas: [0.95, 0.98], weightDecay: 0.1, maximize: true } },
  { name: 'adopt/default', torch: 'ADOPT', options: {} },
  { name: 'adopt/l2-unclipped-maximize', torch: 'ADOPT', options: { lr: 1e-2, weightDecay: 0.05, clip: false, maximize: true } },
  { name: 'adopt/decoupled', torch: 'ADOPT', options: { lr: 1e-2, betas: [0.5, 0.99], weightDecay: 0.1, decoupledWeightDecay: true } },
  { name: 'adan/default', torch: 'Adan', options: {} },
  { name: 'adan/prox-wd-maximize', torch: 'Adan', options: { lr: 1e-2, weightDecay: 0.02, maximize: true } },
  { name: 'adan/no-prox-betas-eps', torch: 'Adan', options: { lr: 3e-3, betas: [0.9, 0.8, 0.95], eps: 1e-3, weightDecay: 0.05, noProx: true } },
  { name: 'ademamix/default', torch: 'AdEMAMix', options: {} },
  { name: 'ademamix/warmup-wd', torch: 'AdEMAMix', options: { lr: 1e-2, alpha: 5, alphaWarmup: 10, beta3Warmup: 10, weightDecay: 0.1 } },
  { name: 'ademamix/no-fast-maximize', torch: 'AdEMAMix', options: { lr: 1e-2, betas: [0, 0.99, 0.999], alpha: 8, beta3Warmup: 20, weightDecay: 0.01, maximize: true } },
  { name: 'adam/decoupled', torch: 'Adam', options: { lr: 0.01, weightDecay: 0.1, decoupledWeightDecay: true } },
  { name: 'adam/cautious', torch: 'Adam', options: { lr: 0.01, cautious: true } },
  { name: 'adam/cautious-l2-amsgrad-maximize', torch: 'Adam', options: { lr: 0.01, weightDecay: 0.05, amsgrad: true, maximize: true, cautious: true } },
  { name: 'adamw/cautious', torch: 'AdamW', options: { lr: 0.01, weightDecay: 0.1, cautious: true } },
  { name: 'adamax/cautious-wd-maximize', torch: 'Adamax', options: { weightDecay: 0.05, maximize: true, cautious: true } },
  { name: 'lion/cautious', torch: 'Lion', options: { lr: 1e-3, cautious: true } },
  { name: 'lion/cautious-wd-maximize', torch: 'Lion', options: { lr: 1e-3, weightDecay: 0.1, maximize: true, cautious: true } },
  { name: 'rprop/default', torch: 'Rprop', options: {} },
  { name: 'rprop/etas-step-sizes-maximize', torch: 'Rprop', options: { lr: 0.05, etas: [0.3, 1.5], stepSizes: [0.01, 0.1], maximize: true } },
  { name: 'asgd/default', torch: 'ASGD', options: {} },
  { name: 'asgd/averaging-wd', torch: 'ASGD', options: { lr: 0.05, lambd: 0.01, alpha: 0.5, t0: 3, weightDecay: 0.05 } },
  { name: 'asgd/averaging-maximize', torch: 'ASGD', options: { lr: 0.02, t0: 0, maximize: true } },
  { name: 'lamb/default', torch: 'LAMB', options: {} },
  { name: 'lamb/wd-betas-eps-root', torch: 'LAMB', options: { lr: 0.01, betas: [0.8, 0.99], weightDecay: 0.05, epsRoot: 1e-8 } },
  { name: 'lamb/no-eps', torch: 'LAMB', options: { lr: 3e-3, eps: 0, epsRoot: 1e-12, weightDecay: 0.01 } },
  { name: 'lars/default', torch: 'LARS', options: {} },
  { name: 'lars/wd-nesterov-eps', torch: 'LARS', options: { lr: 0.5, weightDecay: 0.01, nesterov: true, eps: 1e-9, trustCoefficient: 0.02 } },
  { name: 'lars/no-trust-ratio-no-momentum', torch: 'LARS', options: { lr: 0.05, trustRatio: false, momentum: 0, weightDecay: 1e-3 } },
  { name: 'prodigy/default', torch: 'Prodigy', options: {}, coupled: true },
  { name: 'prodigy/l2-bias-correction-safeguard', torch: 'Prodigy', options: { weightDecay: 0.01, decoupledWeightDecay: false, useBiasCorrection: true, safeguardWarmup: true }, coupled: true },
  { name: 'prodigy/decoupled-growth-beta3', torch: 'Prodigy', options: { weightDecay: 0.05, growthRate: 1.02, beta3: 0.9, dCoef: 2, d0: 1e-4 }, coupled: true },
  { name: 'prodigy/no-first-moment', torch: 'Prodigy', options: { lr: 0.5, betas: [0, 0.99], eps: 1e-6, weightDecay: 0.02, decoupledWeightDecay: false }, coupled: true },
  { name: 'muon/default', torch: 'MuonWithAuxAdamW', options: {}, matrices: 'mixed' },
  { name: 'muon/plain-momentum-no-decay-rms', torch: 'MuonWithAuxAdamW', options: { lr: 0.01, nesterov: false, weightDecay: 0, adjustLrFn: 'match_rms_adamw', nsSteps: 3 }, matrices: 'mixed' },
  { name: 'muon/coefficients-eps-adam', torch: 'MuonWithAuxAdamW', options: { lr: 0.02, momentum: 0.9, nsCoefficients: [2, -1.5, 0.5], eps: 1e-3, betas: [0.8, 0.99], adamEps: 1e-6 }, matrices: 'mixed' },
  // Adafactor: vectors (variance), matrices and batches of matrices (rowVar, colVar).
  { name: 'adafactor/default', torch: 'Adafactor', options: {}, matrices: 'tensors' },
  { name: 'adafactor/wd-maximize', torch: 'Adafactor', options: { lr: 0.05, weightDecay: 0.1, maximize: true }, matrices: 'tensors' },
  { name: 'adafactor/eps-d-beta2', torch: 'Adafactor', options: { eps: [1e-3, 1e-2], d: 2, beta2Decay: -0.5 }, matrices: 'mixed' },
  { name: 'adafactor/vectors-tiny-eps', torch: 'Adafactor', options: { lr: 0.1, eps: [1e-20, 1e-5], beta2Decay: 0 } },
  { name: 'schedulefree-adamw/default', torch: 'ScheduleFreeAdamW', options: {} },
  { name: 'schedulefree-adamw/warmup-decay-inner-momentum', torch: 'ScheduleFreeAdamW', options: { lr: 0.01, warmupSteps: 3, weightDecay: 0.05, innerMomentum: 0.9, r: 0.5, weightLrPower: 1 } },
  { name: 'schedulefree-adamw/betas-eps', torch: 'ScheduleFreeAdamW', options: { lr: 0.005, betas: [0.5, 0.99], eps: 1e-3 } },
  { name: 'schedulefree-sgd/default', torch: 'ScheduleFreeSGD', options: {} },
  { name: 'schedulefree-sgd/warmup-decay', torch: 'ScheduleFreeSGD', options: { lr: 0.1, momentum: 0.5, warmupSteps: 4, weightDecay: 0.01, r: 1, weightLrPower: 0 } },
  // PyTorch's defaults but a history of 10 pairs: each pair costs two kernel calls per iteration,
  // and the golden program's 30 steps with 100 pairs take minutes on a busy machine's threads
  // (test/lbfgs.test.ts runs the defaults).
  { name: 'lbfgs/history-10', torch: 'LBFGS', options: { historySize: 10 } },
  { name: 'lbfgs/strong-wolfe', torch: 'LBFGS', options: { lineSearchFn: 'strong_wolfe', historySize: 10 } },
  { name: 'lbfgs/short-history-budget', torch: 'LBFGS', options: { lr: 0.5, maxIter: 6, maxEval: 8, historySize: 2, toleranceChange: 1e-7 } },
  { name: 'lbfgs/strong-wolfe-short-history', torch: 'LBFGS', options: { lineSearchFn: 'strong_wolfe', maxIter: 5, historySize: 3, toleranceGrad: 1e-5 } },
  // Low-precision state (stateDtype): bfloat16 (to nearest and stochastic) and blockwise int8,
  // over every kernel with state arrays.
  { name: 'sgd/momentum-bf16', torch: 'SGD', options: { lr: 0.05, momentum: 0.9, dampening: 0.1, stateDtype: 'bfloat16' } },
  { name: 'sgd/nesterov-wd-int8', torch: 'SGD', options: { lr: 0.05, momentum: 0.9, nesterov: true, weightDecay: 0.01, stateDtype: 'int8' } },
  { name: 'adam/bf16', torch: 'Adam', options: { stateDtype: 'bfloat16' } },
  { name: 'adam/bf16-stochastic-amsgrad-maximize', torch: 'Adam', options: { lr: 0.01, amsgrad: true, maximize: true, stateDtype: 'bfloat16', stochasticRounding: true, stateSeed: 7 } },
  { name: 'adam/int8', torch: 'Adam', options: { stateDtype: 'int8' } },
  { name: 'adam/int8-l2-amsgrad', torch: 'Adam', options: { lr: 0.01, weightDecay: 0.05, amsgrad: true, stateDtype: 'int8' } },
  { name: 'adamw/int8', torch: 'AdamW', options: { lr: 0.01, stateDtype: 'int8' } },
  { name: 'adamw/bf16-stochastic', torch: 'AdamW', options: { lr: 0.01, stateDtype: 'bfloat16', stochasticRounding: true } },
  { name: 'adagrad/int8-init-lr-decay', torch: 'Adagrad', options: { lr: 0.05, lrDecay: 0.01, initialAccumulatorValue: 0.1, stateDtype: 'int8' } },
  { name: 'rmsprop/momentum-wd-int8', torch: 'RMSprop', options: { momentum: 0.9, weightDecay: 0.01, stateDtype: 'int8' } },
  { name: 'rmsprop/bf16-stochastic', torch: 'RMSprop', options: { stateDtype: 'bfloat16', stochasticRounding: true, stateSeed: 123456789 } },
  { name: 'nadam/int8', torch: 'NAdam', options: { stateDtype: 'int8' } },
  { name: 'adamax/int8-maximize', torch: 'Adamax', options: { weightDecay: 0.05, maximize: true, stateDtype: 'int8' } },
  { name: 'radam/bf16', torch: 'RAdam', options: { stateDtype: 'bfloat16' } },
  { name: 'adadelta/int8', torch: 'Adadelta', options: { stateDtype: 'int8' } },
  { name: 'lion/int8', torch: 'Lion', options: { lr: 1e-3, weightDecay: 0.1, stateDtype: 'int8' } },
  { name: 'lion/bf16', torch: 'Lion', options: { stateDtype: 'bfloat16' } },
  { name: 'adopt/int8', torch: 'ADOPT', options: { stateDtype: 'int8' } },
  { name: 'muon/int8', torch: 'MuonWithAuxAdamW', options: { stateDtype: 'int8' }, matrices: 'mixed' },
  { name: 'nadam/cautious-decoupled', torch: 'NAdam', options: { weightDecay: 0.05, decoupledWeightDecay: true, cautious: true } },
  { name: 'radam/cautious-maximize', torch: 'RAdam', options: { betas: [0.9, 0.9], maximize: true, cautious: true } },
  { name: 'adam/cautious-int8', torch: 'Adam', options: { lr: 0.01, cautious: true, stateDtype: 'int8' } },
  { name: 'lion/cautious-bf16-stochastic', torch: 'Lion', options: { lr: 1e-3, weightDecay: 0.1, cautious: true, stateDtype: 'bfloat16', stochasticRounding: true } },
  { name: 'ademamix/int8-warmup', torch: 'AdEMAMix', options: { lr: 1e-2, alpha: 5, alphaWarmup: 10, beta3Warmup: 10, stateDtype: 'int8' } },
  { name: 'ademamix/bf16-stochastic-no-fast', torch: 'AdEMAMix', options: { lr: 1e-2, betas: [0, 0.99, 0.999], stateDtype: 'bfloat16', stochasticRounding: true } },
  { name: 'muon/bf16-stochastic', torch: 'MuonWithAuxAdamW', options: { lr: 0.01, stateDtype: 'bfloat16', stochasticRounding: true }, matrices: 'mixed' },
  { name: 'lamb/int8-wd', torch: 'LAMB', options: { lr: 0.01, weightDecay: 0.05, stateDtype: 'int8' } },
  { name: 'lamb/bf16-stochastic-eps-root', torch: 'LAMB', options: { lr: 3e-3, betas: [0.8, 0.99], epsRoot: 1e-8, stateDtype: 'bfloat16', stochasticRounding: true, stateSeed: 11 } },
  { name: 'lars/int8-wd-nesterov', torch: 'LARS', options: { lr: 0.5, weightDecay: 0.01, nesterov: true, trustCoefficient: 0.02, stateDtype: 'int8' } },
  { name: 'lars/bf16-stochastic', torch: 'LARS', options: { lr: 0.5, stateDtype: 'bfloat16', stochasticRounding: true } },
];

/** Converts a PyTorch option name (`weight_decay`) to this library's (`weightDecay`). */
export function camelCase(name: string): string {
  return name.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());
}

/** Converts a PyTorch keyword-argument object to this library's options. */
export function fromTorchOptions(options: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(options).map(([k, v]) => [camelCase(k), v]));
}
