// The one table of optimizer configurations that drives the parity, reference, first-step
// and (later) save/load and convergence tests. Each optimizer class is listed once with the
// PyTorch class it mirrors; each case is a named option set.
import { Adadelta, Adagrad, Adam, Adamax, AdamW, Lion, NAdam, RAdam, RMSprop, SGD, type Parameter } from '../src/index.js';

export type { AnyOptimizer } from '../src/optim/optimizer.js';
import type { AnyOptimizer } from '../src/optim/optimizer.js';
type Factory = (params: Parameter[], options: Record<string, unknown>) => AnyOptimizer;

export interface OptimizerClass {
  /** PyTorch's class name (the reference file's `optimizer` field). */
  readonly torch: string;
  readonly create: Factory;
  /** Every state buffer the class can hold, for checks that they exist or not. */
  readonly stateKeys: readonly string[];
  /** Where a scheduler writes momentum: SGD's `momentum` or the Adam family's `betas[0]`. */
  readonly momentumKey: 'momentum' | 'betas';
}

export const OPTIMIZER_CLASSES: readonly OptimizerClass[] = [
  { torch: 'SGD', create: (p, o) => new SGD(p, o as never) as AnyOptimizer, stateKeys: ['momentumBuffer'], momentumKey: 'momentum' },
  { torch: 'Adam', create: (p, o) => new Adam(p, o) as AnyOptimizer, stateKeys: ['expAvg', 'expAvgSq', 'maxExpAvgSq'], momentumKey: 'betas' },
  { torch: 'AdamW', create: (p, o) => new AdamW(p, o) as AnyOptimizer, stateKeys: ['expAvg', 'expAvgSq', 'maxExpAvgSq'], momentumKey: 'betas' },
  { torch: 'Adagrad', create: (p, o) => new Adagrad(p, o) as AnyOptimizer, stateKeys: ['sum'], momentumKey: 'momentum' },
  { torch: 'RMSprop', create: (p, o) => new RMSprop(p, o) as AnyOptimizer, stateKeys: ['squareAvg', 'momentumBuffer', 'gradAvg'], momentumKey: 'momentum' },
  { torch: 'NAdam', create: (p, o) => new NAdam(p, o) as AnyOptimizer, stateKeys: ['expAvg', 'expAvgSq'], momentumKey: 'betas' },
  { torch: 'Adamax', create: (p, o) => new Adamax(p, o) as AnyOptimizer, stateKeys: ['expAvg', 'expInf'], momentumKey: 'betas' },
  { torch: 'RAdam', create: (p, o) => new RAdam(p, o) as AnyOptimizer, stateKeys: ['expAvg', 'expAvgSq'], momentumKey: 'betas' },
  { torch: 'Adadelta', create: (p, o) => new Adadelta(p, o) as AnyOptimizer, stateKeys: ['squareAvg', 'accDelta'], momentumKey: 'momentum' },
  // Not in PyTorch: the name is the class's own.
  { torch: 'Lion', create: (p, o) => new Lion(p, o) as AnyOptimizer, stateKeys: ['expAvg'], momentumKey: 'betas' },
];

export function optimizerClass(torch: string): OptimizerClass | undefined {
  return OPTIMIZER_CLASSES.find((c) => c.torch === torch);
}

export interface OptimizerCase {
  /** `family/variant`, as in the reference file. */
  readonly name: string;
  readonly torch: string;
  /** Options in this library's spelling. */
  readonly options: Record<string, unknown>;
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
];

/** Converts a PyTorch option name (`weight_decay`) to this library's (`weightDecay`). */
export function camelCase(name: string): string {
  return name.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());
}

/** Converts a PyTorch keyword-argument object to this library's options. */
export function fromTorchOptions(options: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(options).map(([k, v]) => [camelCase(k), v]));
}
