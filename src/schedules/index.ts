export * from './functions.js';
export { LRScheduler, momentumKey, readMomentum } from './scheduler.js';
export type { SchedulerState, SchedulerStateBase, SchedulerStateHeader } from './scheduler.js';
export {
  StepLR, MultiStepLR, ConstantLR, LinearLR, ExponentialLR, PolynomialLR, CosineAnnealingLR, CosineAnnealingWarmRestarts,
  WarmupCosineLR, LambdaLR, CyclicLR, OneCycleLR, SequentialLR, ChainedScheduler, MultiplicativeLR, SWALR,
  ConstantWithWarmupLR, InverseSqrtLR, WarmupStableDecayLR, CosineWithMinLR, PiecewiseInterpolateLR, WarmupCosineRestartsLR,
} from './schedulers.js';
export { HyperparameterScheduler } from './hyperparameter.js';
export type { HyperparameterSchedulerOptions, HyperparameterState } from './hyperparameter.js';
export { ReduceLROnPlateau } from './plateau.js';
export type { ReduceLROnPlateauOptions, PlateauState } from './plateau.js';
export { lrRangeTest } from './range-test.js';
export type { LRRangeTestOptions, LRRangeTestResult } from './range-test.js';
