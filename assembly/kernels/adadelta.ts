// JS twin: src/kernels/adadelta.ts. Mirrors torch.optim.adadelta._single_tensor_adadelta (PyTorch 1.13).
import { load, store, signMask, WEIGHT_DECAY } from "../common";

// @ts-ignore: decorator
@inline function body(
  param: usize, grad: usize, squareAvg: usize, accDelta: usize, lanes: i32, sign: v128,
  lr: v128, rho: v128, oneMinusRho: v128, eps: v128, weightDecay: v128, wd: bool,
): void {
  const p = load(param, lanes);
  let g = v128.xor(load(grad, lanes), sign);
  if (wd) g = f32x4.add(g, f32x4.mul(weightDecay, p));
  const sq = f32x4.add(f32x4.mul(rho, load(squareAvg, lanes)), f32x4.mul(f32x4.mul(oneMinusRho, g), g));
  store(squareAvg, sq, lanes);
  const std = f32x4.sqrt(f32x4.add(sq, eps));
  const acc = load(accDelta, lanes);
  const delta = f32x4.mul(f32x4.div(f32x4.sqrt(f32x4.add(acc, eps)), std), g);
  store(accDelta, f32x4.add(f32x4.mul(rho, acc), f32x4.mul(f32x4.mul(oneMinusRho, delta), delta)), lanes);
  store(param, f32x4.sub(p, f32x4.mul(lr, delta)), lanes);
}

// @ts-ignore: decorator
@inline function run(
  param: usize, grad: usize, squareAvg: usize, accDelta: usize, n: i32, sign: v128,
  lr: v128, rho: v128, oneMinusRho: v128, eps: v128, weightDecay: v128, wd: bool,
): void {
  const end = param + (<usize>(n & ~3) << 2);
  while (param < end) {
    body(param, grad, squareAvg, accDelta, 4, sign, lr, rho, oneMinusRho, eps, weightDecay, wd);
    param += 16; grad += 16; squareAvg += 16; accDelta += 16;
  }
  const lanes = n & 3;
  if (lanes != 0) body(param, grad, squareAvg, accDelta, lanes, sign, lr, rho, oneMinusRho, eps, weightDecay, wd);
}

/**
 * Adadelta step over `n` f32 elements at byte offsets `param`, `grad`, `squareAvg`, `accDelta`.
 *
 *     g = maximize ? -grad : grad;  g += weightDecay * p     (if WEIGHT_DECAY)
 *     sq = rho*sq + (oneMinusRho*g)*g
 *     delta = (sqrt(acc + eps) / sqrt(sq + eps)) * g
 *     acc = rho*acc + (oneMinusRho*delta)*delta;   p -= lr*delta
 */
export function adadelta(
  param: usize, grad: usize, squareAvg: usize, accDelta: usize, n: i32,
  lr: f32, rho: f32, oneMinusRho: f32, eps: f32, weightDecay: f32, flags: u32,
): void {
  const sign = signMask(flags);
  const l = f32x4.splat(lr), r = f32x4.splat(rho), c = f32x4.splat(oneMinusRho);
  const e = f32x4.splat(eps), w = f32x4.splat(weightDecay);
  if ((flags & WEIGHT_DECAY) != 0) run(param, grad, squareAvg, accDelta, n, sign, l, r, c, e, w, true);
  else run(param, grad, squareAvg, accDelta, n, sign, l, r, c, e, w, false);
}
