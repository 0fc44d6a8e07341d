// JS twin: src/kernels/lion.ts. Lion (Chen et al. 2023, "Symbolic Discovery of Optimization
// Algorithms", Algorithm 2); PyTorch has no Lion, so this follows the paper.
import { load, store, signMask, DECOUPLED } from "../common";

// @ts-ignore: decorator
@inline function body(
  param: usize, grad: usize, expAvg: usize, lanes: i32, sign: v128,
  lr: v128, beta1: v128, oneMinusBeta1: v128, beta2: v128, oneMinusBeta2: v128, decay: v128, decoupled: bool,
): void {
  let p = load(param, lanes);
  const g = v128.xor(load(grad, lanes), sign);
  if (decoupled) p = f32x4.mul(p, decay);
  const m = load(expAvg, lanes);
  const c = f32x4.add(f32x4.mul(beta1, m), f32x4.mul(oneMinusBeta1, g));
  // sign(c): 1, -1, or 0 for zeros and NaN (as torch.sign computes (0 < c) - (c < 0))
  const s = v128.or(
    v128.and(f32x4.gt(c, f32x4.splat(0)), f32x4.splat(1)),
    v128.and(f32x4.lt(c, f32x4.splat(0)), f32x4.splat(-1)),
  );
  store(param, f32x4.sub(p, f32x4.mul(lr, s)), lanes);
  store(expAvg, f32x4.add(f32x4.mul(beta2, m), f32x4.mul(oneMinusBeta2, g)), lanes);
}

// @ts-ignore: decorator
@inline function run(
  param: usize, grad: usize, expAvg: usize, n: i32, sign: v128,
  lr: v128, beta1: v128, oneMinusBeta1: v128, beta2: v128, oneMinusBeta2: v128, decay: v128, decoupled: bool,
): void {
  const end = param + (<usize>(n & ~3) << 2);
  while (param < end) {
    body(param, grad, expAvg, 4, sign, lr, beta1, oneMinusBeta1, beta2, oneMinusBeta2, decay, decoupled);
    param += 16; grad += 16; expAvg += 16;
  }
  const lanes = n & 3;
  if (lanes != 0) body(param, grad, expAvg, lanes, sign, lr, beta1, oneMinusBeta1, beta2, oneMinusBeta2, decay, decoupled);
}

/**
 * Lion step over `n` f32 elements at byte offsets `param`, `grad`, `expAvg`.
 *
 *     g = maximize ? -grad : grad
 *     p *= decay                                         (if DECOUPLED, decay = 1 - lr*wd)
 *     p -= lr * sign(beta1*m + oneMinusBeta1*g)
 *     m = beta2*m + oneMinusBeta2*g
 */
export function lion(
  param: usize, grad: usize, expAvg: usize, n: i32,
  lr: f32, beta1: f32, oneMinusBeta1: f32, beta2: f32, oneMinusBeta2: f32, decay: f32, flags: u32,
): void {
  const sign = signMask(flags);
  const l = f32x4.splat(lr), b1 = f32x4.splat(beta1), c1 = f32x4.splat(oneMinusBeta1);
  const b2 = f32x4.splat(beta2), c2 = f32x4.splat(oneMinusBeta2), d = f32x4.splat(decay);
  if ((flags & DECOUPLED) != 0) run(param, grad, expAvg, n, sign, l, b1, c1, b2, c2, d, true);
  else run(param, grad, expAvg, n, sign, l, b1, c1, b2, c2, d, false);
}
