// The one table of optimizers: every list of optimizers in the project (the CLI, the demo,
// the benchmark, the playground, the tests) reads it. An entry names a class and the options
// it adds; everything else about it (defaults, option checks, state buffers and their element
// types, bytes per parameter, the kernel it runs) is read from the class itself by
// `optimizerInfo`, so nothing here restates what the class already knows.
import { ParameterStore, type Parameter } from './store.js';
import type { AnyOptimizer, ParamsInput } from './optim/optimizer.js';
import { DTYPES, type StateDtype } from './optim/state.js';
import { SGD } from './optim/sgd.js';
import { Adam, AdamW } from './optim/adam.js';
import { Adagrad } from './optim/adagrad.js';
import { RMSprop } from './optim/rmsprop.js';
import { NAdam } from './optim/nadam.js';
import { Adamax } from './optim/adamax.js';
import { RAdam } from './optim/radam.js';
import { Adadelta } from './optim/adadelta.js';
import { Lion } from './optim/lion.js';
import { ADOPT } from './optim/adopt.js';
import { Adan } from './optim/adan.js';
import { AdEMAMix } from './optim/ademamix.js';
import { MuonWithAuxAdamW } from './optim/muon.js';
import { Rprop } from './optim/rprop.js';
import { ASGD } from './optim/asgd.js';
import { LAMB } from './optim/lamb.js';
import { LARS } from './optim/lars.js';
import { Prodigy } from './optim/prodigy.js';
import { Adafactor } from './optim/adafactor.js';
import { REDUCTION_NAMES } from './kernels/index.js';
import { LBFGS } from './optim/lbfgs.js';
import { ScheduleFreeAdamW, ScheduleFreeSGD } from './optim/schedulefree.js';

/** An optimizer class as the registry holds it. */
export type OptimizerClass = new (params: ParamsInput<never>, options: never) => AnyOptimizer;

/** One entry of {@link OPTIMIZERS}: a class and the options that make this variant of it. */
export interface OptimizerEntry {
  /** Key used by the CLI, the demo, the benchmark and the playground: `adam`, `momentum`, `nag`. */
  readonly key: string;
  /** Name for tables and charts: `SGD momentum`. */
  readonly label: string;
  /** The class. */
  readonly optimizer: OptimizerClass;
  /** Options this variant sets on top of the class defaults (`{ momentum: 0.9 }`); `lr` comes from {@link lr}. */
  readonly options: Readonly<Record<string, unknown>>;
  /** A learning rate to start from (the class default where it has one), e.g. for a sweep. */
  readonly lr: number;
  /** What a 1Cycle scheduler cycles: SGD's `momentum`, the Adam family's `betas[0]`, or nothing. */
  readonly momentum?: 'momentum' | 'betas';
  /** PyTorch's class name where PyTorch has the optimizer (the reference fixtures use it). */
  readonly torch?: string;
  /**
   * True for optimizers whose step works on whole matrices (Muon's products, Adafactor's row
   * and column factors): their parameters of two or more dimensions take more than one
   * element-wise pass, so the element-wise benchmark leaves them out, and tools give them
   * matrices.
   */
  readonly matrices?: boolean;
  /**
   * True for optimizers whose `step` needs a closure that re-evaluates the model, writes the
   * gradients and returns the loss (L-BFGS evaluates it several times per step): tools pass one,
   * or leave the optimizer out where there is none to pass (a TF.js model's gradients, the
   * element-wise benchmark, gradient accumulation, the LR range test).
   */
  readonly closure?: boolean;
  /**
   * True for optimizers with train and eval modes (schedule-free): the parameters hold the point
   * gradients are taken at in train mode and the average to evaluate in eval mode.
   * {@link createOptimizer} returns them in train mode; evaluate through {@link inEvalMode}.
   */
  readonly modes?: boolean;
}

/**
 * Every optimizer variant the tools list, in the order they list them. Adding an optimizer
 * means adding its class and one line here: the CLI, demo, benchmark, playground and the
 * table-driven tests pick it up.
 */
export const OPTIMIZERS: readonly OptimizerEntry[] = [
  { key: 'sgd', label: 'SGD', optimizer: SGD as OptimizerClass, options: {}, lr: 0.01, torch: 'SGD' },
  { key: 'momentum', label: 'SGD momentum', optimizer: SGD as OptimizerClass, options: { momentum: 0.9 }, lr: 0.01, momentum: 'momentum', torch: 'SGD' },
  { key: 'nag', label: 'NAG (Nesterov)', optimizer: SGD as OptimizerClass, options: { momentum: 0.9, nesterov: true }, lr: 0.01, momentum: 'momentum', torch: 'SGD' },
  { key: 'adagrad', label: 'AdaGrad', optimizer: Adagrad as OptimizerClass, options: {}, lr: 1e-2, torch: 'Adagrad' },
  { key: 'rmsprop', label: 'RMSProp', optimizer: RMSprop as OptimizerClass, options: {}, lr: 1e-2, torch: 'RMSprop' },
  { key: 'adam', label: 'Adam', optimizer: Adam as OptimizerClass, options: {}, lr: 1e-3, momentum: 'betas', torch: 'Adam' },
  { key: 'adamw', label: 'AdamW', optimizer: AdamW as OptimizerClass, options: {}, lr: 1e-3, momentum: 'betas', torch: 'AdamW' },
  { key: 'nadam', label: 'NAdam', optimizer: NAdam as OptimizerClass, options: {}, lr: 2e-3, momentum: 'betas', torch: 'NAdam' },
  { key: 'adamax', label: 'AdaMax', optimizer: Adamax as OptimizerClass, options: {}, lr: 2e-3, momentum: 'betas', torch: 'Adamax' },
  { key: 'radam', label: 'RAdam', optimizer: RAdam as OptimizerClass, options: {}, lr: 1e-3, momentum: 'betas', torch: 'RAdam' },
  { key: 'adadelta', label: 'Adadelta', optimizer: Adadelta as OptimizerClass, options: {}, lr: 1, torch: 'Adadelta' },
  { key: 'schedulefree-sgd', label: 'Schedule-Free SGD', optimizer: ScheduleFreeSGD as OptimizerClass, options: {}, lr: 1, modes: true },
  { key: 'schedulefree-adamw', label: 'Schedule-Free AdamW', optimizer: ScheduleFreeAdamW as OptimizerClass, options: {}, lr: 0.0025, modes: true },
  // L-BFGS as it is used on a full batch: with the strong Wolfe line search.
  { key: 'lbfgs', label: 'L-BFGS', optimizer: LBFGS as OptimizerClass, options: { lineSearchFn: 'strong_wolfe' }, lr: 1, torch: 'LBFGS', closure: true },
  { key: 'lion', label: 'Lion', optimizer: Lion as OptimizerClass, options: {}, lr: 1e-4, momentum: 'betas' },
  { key: 'adopt', label: 'ADOPT', optimizer: ADOPT as OptimizerClass, options: {}, lr: 1e-3, momentum: 'betas' },
  { key: 'adan', label: 'Adan', optimizer: Adan as OptimizerClass, options: {}, lr: 1e-3, momentum: 'betas' },
  { key: 'ademamix', label: 'AdEMAMix', optimizer: AdEMAMix as OptimizerClass, options: {}, lr: 1e-3, momentum: 'betas' },
  // Rprop is meant for full-batch gradients (mini-batch noise flips signs and shrinks its steps).
  { key: 'rprop', label: 'Rprop', optimizer: Rprop as OptimizerClass, options: {}, lr: 1e-2, torch: 'Rprop' },
  { key: 'asgd', label: 'ASGD', optimizer: ASGD as OptimizerClass, options: {}, lr: 1e-2, torch: 'ASGD' },
  { key: 'lamb', label: 'LAMB', optimizer: LAMB as OptimizerClass, options: {}, lr: 1e-3, momentum: 'betas' },
  { key: 'lars', label: 'LARS', optimizer: LARS as OptimizerClass, options: {}, lr: 1, momentum: 'momentum' },
  { key: 'prodigy', label: 'Prodigy', optimizer: Prodigy as OptimizerClass, options: {}, lr: 1, momentum: 'betas' },
  // Muon on the matrices, AdamW on the rest, one lr for both (Moonshot's lr adjustment).
  { key: 'muon', label: 'Muon (+AdamW)', optimizer: MuonWithAuxAdamW as OptimizerClass, options: { adjustLrFn: 'match_rms_adamw' }, lr: 1e-3, momentum: 'momentum', matrices: true },
  { key: 'adafactor', label: 'Adafactor', optimizer: Adafactor as OptimizerClass, options: {}, lr: 1e-2, torch: 'Adafactor', matrices: true },
];

/** The entry of `key`; throws naming the known keys when there is none. */
export function optimizerEntry(key: string): OptimizerEntry {
  const entry = OPTIMIZERS.find((e) => e.key === key);
  if (entry === undefined) throw new Error(`unknown optimizer ${JSON.stringify(key)} (known: ${OPTIMIZERS.map((e) => e.key).join(', ')})`);
  return entry;
}

/** An optimizer with train and eval modes (schedule-free). */
interface WithModes { train(): void; eval(): void; readonly trainMode: boolean }

const hasModes = (opt: unknown): opt is WithModes =>
  typeof (opt as WithModes).train === 'function' && typeof (opt as WithModes).eval === 'function' && typeof (opt as WithModes).trainMode === 'boolean';

/**
 * Builds the optimizer of an entry over `params`: the class defaults, the entry's options,
 * the entry's lr, then `overrides`. An optimizer with train and eval modes (schedule-free)
 * comes back in train mode, ready to step.
 *
 * @example
 * const opt = createOptimizer(optimizerEntry('nag'), [w, b], { lr: 0.05 });
 */
export function createOptimizer(entry: OptimizerEntry, params: readonly Parameter[], overrides: Record<string, unknown> = {}): AnyOptimizer {
  const opt = new entry.optimizer(params as never, { lr: entry.lr, ...entry.options, ...overrides } as never);
  if (hasModes(opt)) opt.train();
  return opt;
}

/**
 * Runs `evaluate` with the parameters at the point to evaluate: an optimizer with train and
 * eval modes (schedule-free) is switched to eval mode (its parameters move to the average x)
 * and back to the mode it was in afterwards; for any other optimizer `evaluate` just runs.
 *
 * @example
 * const testLoss = inEvalMode(opt, () => model.loss(testSet));
 */
export function inEvalMode<T>(opt: AnyOptimizer, evaluate: () => T): T {
  if (!hasModes(opt) || !opt.trainMode) return evaluate();
  opt.eval();
  try {
    return evaluate();
  } finally {
    opt.train();
  }
}

/** What {@link optimizerInfo} reads from a class. */
export interface OptimizerInfo {
  /** The class's name (`Adam`). */
  readonly className: string;
  /** Every option with its value for this entry (class defaults, the entry's options and lr). */
  readonly defaults: Readonly<Record<string, unknown>>;
  /** The options the class accepts (each validated by its checker). */
  readonly optionNames: readonly string[];
  /** The state buffers this variant allocates, with their element types. */
  readonly stateBuffers: readonly {
    /** The buffer's state key (`expAvg`). */
    readonly name: string;
    /** Its element type in the arena. */
    readonly dtype: StateDtype;
  }[];
  /**
   * Bytes a step moves per parameter: read value and gradient, write the value, and read and
   * write each state buffer, int8 scales included (what the benchmark's bandwidth figures
   * divide by). State not shaped like its parameter (Adafactor's factors) counts by its
   * elements for the probe, a 2×2 matrix.
   */
  readonly bytesPerParameter: number;
  /** Bytes the arena holds per parameter: value, gradient and state (state counted as above). */
  readonly bytesHeldPerParameter: number;
  /** The first kernel export a step calls, reductions aside (`adam` for the whole Adam family). */
  readonly kernel: string;
}

/** Bytes a state buffer holds per parameter in `dtype`: its element, and (int8) a share of its block's float32 scale. */
export function stateBytesPerElement(dtype: StateDtype): number {
  const info = DTYPES[dtype];
  return info.bytesPerElement + (info.blockElements ? 4 / info.blockElements : 0);
}

/**
 * Reads an entry's facts from its class: builds it over a small parameter on a js store,
 * steps it once and records its state buffers and the kernel it called. `overrides` (e.g.
 * `{ stateDtype: 'int8' }`) apply on top of the entry's options.
 */
export async function optimizerInfo(entry: OptimizerEntry, overrides: Record<string, unknown> = {}): Promise<OptimizerInfo> {
  const store = await ParameterStore.create({ backend: 'js' });
  try {
    const p = store.parameter('probe', { shape: [2, 2] }); // a matrix, so matrix optimizers take their own path
    const opt = createOptimizer(entry, [p], overrides);
    const kernels = store.kernels as unknown as Record<string, (...a: unknown[]) => unknown>;
    const called: string[] = [];
    for (const name of Object.keys(kernels)) {
      const fn = kernels[name];
      kernels[name] = (...a: unknown[]) => { called.push(name); return fn(...a); };
    }
    p.grad.fill(0.5);
    // A closure-driven optimizer (L-BFGS) gets the same constant gradient from a closure.
    opt.step(entry.closure ? () => { p.grad.fill(0.5); return 0; } : undefined);
    const spec = opt.spec;
    const dtype: StateDtype = (opt.paramGroups[0] as { stateDtype?: StateDtype }).stateDtype ?? 'float32';
    const state = opt.state(p) as Record<string, unknown>;
    const stateBuffers = Object.keys(state).filter((k) => state[k] instanceof Float32Array).map((name) => ({ name, dtype }));
    // A buffer of its own shape (float32) holds its own number of elements: per parameter, that over the probe's.
    const stateBytes = stateBuffers.reduce((n, b) => n + (stateBytesPerElement(b.dtype) * (state[b.name] as Float32Array).length) / p.size, 0);
    const { params: _, ...defaults } = opt.paramGroups[0] as Record<string, unknown>;
    return {
      className: spec.name, defaults, optionNames: Object.keys(spec.checks), stateBuffers,
      bytesPerParameter: 3 * 4 + 2 * stateBytes, bytesHeldPerParameter: 2 * 4 + stateBytes,
      kernel: called.find((k) => !(REDUCTION_NAMES as readonly string[]).includes(k)) ?? 'none',
    };
  } finally {
    store.dispose();
  }
}
