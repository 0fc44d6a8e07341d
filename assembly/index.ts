// The simdopt kernel module: plain exported functions over byte offsets into the imported
// memory and f32 scalars. No allocation, no runtime, no other imports. The element-wise kernels
// and abiVersion() are generated from src/kernels/defs/ (scripts/gen-kernels.ts); the
// reductions and the matrix multiply are hand-written. docs/ABI.md documents every export.
export * from "./generated/kernels";
export { sumSquares, sum, maxAbs, allFinite, countNonzero, sumAbs, sumSquaresDecayed, dotDecayedDelta, dot } from "./kernels/reduce";
export { gemmPack, gemm } from "./kernels/gemm";
export { rowMeanSquares, colMeanSquares, adafactorUpdate } from "./kernels/factored";
