// JS twin: src/kernels/adagrad.ts. Mirrors torch.optim.adagrad._single_tensor_adagrad (PyTorch 1.13).
import { load, store, signMask, WEIGHT_DECAY } from "../common";

// @ts-ignore: decorator
@inline function body(
  param: usize, grad: usize, sum: usize, lanes: i32, sign: v128,
  clr: v128, weightDecay: v128, eps: v128, wd: bool,
): void {
  const p = load(param, lanes);
  let g = v128.xor(load(grad, lanes), sign);
  if (wd) g = f32x4.add(g, f32x4.mul(weightDecay, p));
  const s = f32x4.add(load(sum, lanes), f32x4.mul(g, g));
  store(sum, s, lanes);
  store(param, f32x4.sub(p, f32x4.div(f32x4.mul(clr, g), f32x4.add(f32x4.sqrt(s), eps))), lanes);
}

// @ts-ignore: decorator
@inline function run(
  param: usize, grad: usize, sum: usize, n: i32, sign: v128,
  clr: v128, weightDecay: v128, eps: v128, wd: bool,
): void {
  const end = param + (<usize>(n & ~3) << 2);
  while (param < end) {
    body(param, grad, sum, 4, sign, clr, weightDecay, eps, wd);
    param += 16; grad += 16; sum += 16;
  }
  const lanes = n & 3;
  if (lanes != 0) body(param, grad, sum, lanes, sign, clr, weightDecay, eps, wd);
}

/**
 * Adagrad step over `n` f32 elements at byte offsets `param`, `grad`, `sum`.
 *
 *     g = maximize ? -grad : grad;  g += weightDecay * p     (if WEIGHT_DECAY)
 *     sum += g*g;   p -= (clr*g) / (sqrt(sum) + eps)
 *
 * with clr = lr / (1 + (t-1)*lrDecay) from the host.
 */
export function adagrad(
  param: usize, grad: usize, sum: usize, n: i32,
  clr: f32, weightDecay: f32, eps: f32, flags: u32,
): void {
  const sign = signMask(flags);
  const c = f32x4.splat(clr), w = f32x4.splat(weightDecay), e = f32x4.splat(eps);
  if ((flags & WEIGHT_DECAY) != 0) run(param, grad, sum, n, sign, c, w, e, true);
  else run(param, grad, sum, n, sign, c, w, e, false);
}
