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
   * need matrices), `'mixed'` all but the second of every three; otherwise each is 1-D.
   */
  readonly matrices?: 'all' | 'mixed';
}

/**
 * The shape a case gives its `index`-th parameter of `size` elements: 1-D, or a matrix
 * rows × cols = size (the most nearly square; tall for even indices, wide for odd ones, so
 * both of Muon's orientations run).
 */
export function caseShape(c: OptimizerCase, size: number, index: number): number[] {
  if (c.matrices === undefined || (c.matrices === 'mixed' && index % 3 === 1)) return [size];
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
  { name: 'muon/default', torch: 'MuonWithAuxAdamW', options: {}, matrices: 'mixed' },
  { name: 'muon/plain-momentum-no-decay-rms', torch: 'MuonWithAuxAdamW', options: { lr: 0.01, nesterov: false, weightDecay: 0, adjustLrFn: 'match_rms_adamw', nsSteps: 3 }, matrices: 'mixed' },
  { name: 'muon/coefficients-eps-adam', torch: 'MuonWithAuxAdamW', options: { lr: 0.02, momentum: 0.9, nsCoefficients: [2, -1.5, 0.5], eps: 1e-3, betas: [0.8, 0.99], adamEps: 1e-6 }, matrices: 'mixed' },
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
  { name: 'ademamix/int8-warmup', torch: 'AdEMAMix', options: { lr: 1e-2, alpha: 5, alphaWarmup: 10, beta3Warmup: 10, stateDtype: 'int8' } },
  { name: 'ademamix/bf16-stochastic-no-fast', torch: 'AdEMAMix', options: { lr: 1e-2, betas: [0, 0.99, 0.999], stateDtype: 'bfloat16', stochasticRounding: true } },
  { name: 'muon/bf16-stochastic', torch: 'MuonWithAuxAdamW', options: { lr: 0.01, stateDtype: 'bfloat16', stochasticRounding: true }, matrices: 'mixed' },
];

/** Converts a PyTorch option name (`weight_decay`) to this library's (`weightDecay`). */
export function camelCase(name: string): string {
  return name.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());
}

/** Converts a PyTorch keyword-argument object to this library's options. */
export function fromTorchOptions(options: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(options).map(([k, v]) => [camelCase(k), v]));
}
