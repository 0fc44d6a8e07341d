// The simdopt kernel module: plain exported functions over byte offsets into the
// imported memory and f32 scalars. No allocation, no runtime, no other imports.
export { sgd } from "./kernels/sgd";
export { adam } from "./kernels/adam";
export { adagrad } from "./kernels/adagrad";
export { rmsprop } from "./kernels/rmsprop";
export { adamax } from "./kernels/adamax";
export { adadelta } from "./kernels/adadelta";
export { lion } from "./kernels/lion";
export { copy } from "./kernels/copy";
export { scale } from "./kernels/scale";
export { sumSquares, maxAbs, allFinite, clamp } from "./kernels/reduce";

/** ABI version of the exported kernels; bumped whenever an export, a signature or a flag changes. */
export function abiVersion(): i32 {
  return 4;
}
