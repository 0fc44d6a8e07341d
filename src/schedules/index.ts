export * from './functions.js';
export { LRScheduler, momentumKey, readMomentum } from './scheduler.js';
export type { SchedulerState, SchedulerStateHeader } from './scheduler.js';
export {
  StepLR, MultiStepLR, ConstantLR, LinearLR, ExponentialLR, PolynomialLR, CosineAnnealingLR, CosineAnnealingWarmRestarts,
  WarmupCosineLR, LambdaLR, CyclicLR, OneCycleLR, SequentialLR, ChainedScheduler,
} from './schedulers.js';
export { ReduceLROnPlateau } from './plateau.js';
export type { ReduceLROnPlateauOptions, PlateauState } from './plateau.js';
export { lrRangeTest } from './range-test.js';
export type { LRRangeTestOptions, LRRangeTestResult } from './range-test.js';
