// JS twin: src/kernels/adamax.ts. Mirrors torch.optim.adamax._single_tensor_adamax (PyTorch 1.13).
import { load, store, signMask, WEIGHT_DECAY } from "../common";

// @ts-ignore: decorator
@inline function body(
  param: usize, grad: usize, expAvg: usize, expInf: usize, lanes: i32, sign: v128,
  beta1: v128, oneMinusBeta1: v128, beta2: v128, clr: v128, eps: v128, weightDecay: v128, wd: bool,
): void {
  const p = load(param, lanes);
  let g = v128.xor(load(grad, lanes), sign);
  if (wd) g = f32x4.add(g, f32x4.mul(weightDecay, p));
  const m = f32x4.add(f32x4.mul(beta1, load(expAvg, lanes)), f32x4.mul(oneMinusBeta1, g));
  const u = f32x4.max(f32x4.mul(beta2, load(expInf, lanes)), f32x4.add(f32x4.abs(g), eps));
  store(expAvg, m, lanes);
  store(expInf, u, lanes);
  store(param, f32x4.sub(p, f32x4.div(f32x4.mul(clr, m), u)), lanes);
}

// @ts-ignore: decorator
@inline function run(
  param: usize, grad: usize, expAvg: usize, expInf: usize, n: i32, sign: v128,
  beta1: v128, oneMinusBeta1: v128, beta2: v128, clr: v128, eps: v128, weightDecay: v128, wd: bool,
): void {
  const end = param + (<usize>(n & ~3) << 2);
  while (param < end) {
    body(param, grad, expAvg, expInf, 4, sign, beta1, oneMinusBeta1, beta2, clr, eps, weightDecay, wd);
    param += 16; grad += 16; expAvg += 16; expInf += 16;
  }
  const lanes = n & 3;
  if (lanes != 0) body(param, grad, expAvg, expInf, lanes, sign, beta1, oneMinusBeta1, beta2, clr, eps, weightDecay, wd);
}

/**
 * Adamax step over `n` f32 elements at byte offsets `param`, `grad`, `expAvg`, `expInf`.
 *
 *     g = maximize ? -grad : grad;  g += weightDecay * p     (if WEIGHT_DECAY)
 *     m = beta1*m + oneMinusBeta1*g;   u = max(beta2*u, |g| + eps)
 *     p -= (clr*m) / u
 *
 * with clr = lr / (1 - beta1^t) from the host. max propagates NaN, as torch.amax does.
 */
export function adamax(
  param: usize, grad: usize, expAvg: usize, expInf: usize, n: i32,
  beta1: f32, oneMinusBeta1: f32, beta2: f32, clr: f32, eps: f32, weightDecay: f32, flags: u32,
): void {
  const sign = signMask(flags);
  const b1 = f32x4.splat(beta1), c1 = f32x4.splat(oneMinusBeta1), b2 = f32x4.splat(beta2);
  const c = f32x4.splat(clr), e = f32x4.splat(eps), w = f32x4.splat(weightDecay);
  if ((flags & WEIGHT_DECAY) != 0) run(param, grad, expAvg, expInf, n, sign, b1, c1, b2, c, e, w, true);
  else run(param, grad, expAvg, expInf, n, sign, b1, c1, b2, c, e, w, false);
}
