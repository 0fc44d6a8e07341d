// The simdopt kernel module: plain exported functions over byte offsets into the
// imported memory and f32 scalars. No allocation, no runtime, no other imports.
export { sgd } from "./kernels/sgd";
export { adam } from "./kernels/adam";
export { copy } from "./kernels/copy";
export { scale } from "./kernels/scale";

/** ABI version of the exported kernels; bumped whenever a signature or flag changes. */
export function abiVersion(): i32 {
  return 1;
}
