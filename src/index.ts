/**
 * simdopt: deep-learning optimizer steps for JavaScript, with WebAssembly SIMD kernels and
 * pure-JS twins that give the same float32 bits.
 *
 * @example
 * import { ParameterStore, Adam } from 'simdopt';
 * const store = await ParameterStore.create();
 * const w = store.parameter('w', 1000);
 * const opt = new Adam([w], { lr: 1e-3 });
 * w.grad.set(gradient); opt.step(); opt.zeroGrad();
 * @packageDocumentation
 */
export { ParameterStore, Parameter, paddedSize, SEGMENT_ALIGN_BYTES, VECTOR_ELEMENTS } from './store.js';
export type { ParameterStoreOptions, ParameterOptions } from './store.js';
export { Matrix } from './matmul.js';
export type { MatrixLike, MatmulOptions } from './matmul.js';
export { wasmSimdSupported, kernelWasmBytes, kernelWasmUrl, KERNEL_ABI_VERSION } from './backend.js';
export type { BackendName, BackendOption, WasmSource } from './backend.js';
export { MIN_PARALLEL_ELEMENTS } from './threads.js';
export type { ThreadInfo } from './threads.js';
export { Optimizer } from './optim/optimizer.js';
export type { AnyOptimizer, MomentsState, ParamGroup, ParamGroupInput, ParamsInput, ParameterState, RawParameterState, OptimizerStateDict, ParamStateEntry, LoadStateOptions } from './optim/optimizer.js';
export { STATE_DTYPES } from './optim/state.js';
export type { StateDtype, StateOptions, QuantizedState, StateValues } from './optim/state.js';
export { SGD } from './optim/sgd.js';
export type { SGDOptions, SGDOptionsInput, SGDState } from './optim/sgd.js';
export { Adam, AdamW, AdamBase } from './optim/adam.js';
export type { AdamOptions, AdamOptionsInput, AdamState } from './optim/adam.js';
export { Adagrad } from './optim/adagrad.js';
export type { AdagradOptions, AdagradOptionsInput, AdagradState } from './optim/adagrad.js';
export { RMSprop } from './optim/rmsprop.js';
export type { RMSpropOptions, RMSpropOptionsInput, RMSpropState } from './optim/rmsprop.js';
export { NAdam } from './optim/nadam.js';
export type { NAdamOptions, NAdamOptionsInput, NAdamState } from './optim/nadam.js';
export { Adamax } from './optim/adamax.js';
export type { AdamaxOptions, AdamaxOptionsInput, AdamaxState } from './optim/adamax.js';
export { RAdam, radamRectification } from './optim/radam.js';
export type { RAdamOptions, RAdamOptionsInput, RAdamState } from './optim/radam.js';
export { Adadelta } from './optim/adadelta.js';
export type { AdadeltaOptions, AdadeltaOptionsInput, AdadeltaState } from './optim/adadelta.js';
export { Lion } from './optim/lion.js';
export type { LionOptions, LionOptionsInput, LionState } from './optim/lion.js';
export { ADOPT } from './optim/adopt.js';
export type { ADOPTOptions, ADOPTOptionsInput, ADOPTState } from './optim/adopt.js';
export { Adan } from './optim/adan.js';
export type { AdanOptions, AdanOptionsInput, AdanState } from './optim/adan.js';
export { AdEMAMix, ademamixAlpha, ademamixBeta3 } from './optim/ademamix.js';
export type { AdEMAMixOptions, AdEMAMixOptionsInput, AdEMAMixState } from './optim/ademamix.js';
export { Muon, MuonWithAuxAdamW, muonAdjustedLr } from './optim/muon.js';
export type { MuonOptions, MuonOptionsInput, MuonState, MuonAdjustLrFn, MuonWithAuxAdamWOptions, MuonWithAuxAdamWOptionsInput, MuonWithAuxAdamWState } from './optim/muon.js';
export { LBFGS, cubicInterpolate } from './optim/lbfgs.js';
export type { LBFGSOptions, LBFGSOptionsInput, LBFGSState, LBFGSLineSearchFn } from './optim/lbfgs.js';
export { ScheduleFreeAdamW, ScheduleFreeSGD, ScheduleFreeBase } from './optim/schedulefree.js';
export type { ScheduleFreeAdamWOptions, ScheduleFreeAdamWOptionsInput, ScheduleFreeSGDOptions, ScheduleFreeSGDOptionsInput, ScheduleFreeState } from './optim/schedulefree.js';
export { powInt } from './scalars.js';
export { clipGradNorm, clipGradValue, gradNorm, gradsAreFinite, NORM_CHUNK } from './clip.js';
export type { ClipGradNormOptions } from './clip.js';
export { stepArrays } from './step-arrays.js';
export type { StepOptions, ClipNormOption } from './step-arrays.js';
export { AveragedModel } from './averaged.js';
export type { AveragedModelOptions, AveragedModelStateDict, AveragingMode, EmaOptions, SwaOptions } from './averaged.js';
export { GradientAccumulator } from './accumulate.js';
export type { AccumulationReduction, GradientAccumulatorOptions, GradientAccumulatorStateDict } from './accumulate.js';
export { saveCheckpoint, loadCheckpoint, crc32 } from './checkpoint.js';
export type { CheckpointParts, CheckpointBytes } from './checkpoint.js';
export * from './schedules/index.js';
export * as detmath from './detmath.js';
export { KERNELS_WASM_SHA256 } from './generated/kernels-wasm.js';
export { stateDictToJSON, stateDictFromJSON } from './state-json.js';
export { OPTIMIZERS, optimizerEntry, createOptimizer, optimizerInfo, inEvalMode } from './registry.js';
export type { OptimizerEntry, OptimizerClass, OptimizerInfo } from './registry.js';
