// JS twin: src/kernels/scale.ts. In-place scaling (torch.Tensor.mul_ by a scalar): used to
// scale gradients, and by the benchmarks as the in-place streaming bandwidth reference.
import { load, store } from "../common";

/** Multiplies `n` f32 elements at byte offset `x` by `factor`, in place. */
export function scale(x: usize, n: i32, factor: f32): void {
  const a = f32x4.splat(factor);
  const end = x + (<usize>(n & ~3) << 2);
  while (x < end) {
    store(x, f32x4.mul(load(x, 4), a), 4);
    x += 16;
  }
  const lanes = n & 3;
  if (lanes != 0) store(x, f32x4.mul(load(x, lanes), a), lanes);
}
