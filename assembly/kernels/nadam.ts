// JS twin: src/kernels/nadam.ts. Mirrors torch.optim.nadam._single_tensor_nadam (PyTorch 2.x,
// whose mu_product fix the reference data uses), decoupled weight decay included.
import { load, store, signMask, WEIGHT_DECAY, DECOUPLED } from "../common";

// @ts-ignore: decorator
@inline function body(
  param: usize, grad: usize, expAvg: usize, expAvgSq: usize, lanes: i32, sign: v128,
  beta1: v128, oneMinusBeta1: v128, beta2: v128, oneMinusBeta2: v128,
  gradCoef: v128, avgCoef: v128, invBiasCorrection2Sqrt: v128, eps: v128, weightDecay: v128, decay: v128,
  l2: bool, decoupled: bool,
): void {
  let p = load(param, lanes);
  let g = v128.xor(load(grad, lanes), sign);
  if (l2) g = f32x4.add(g, f32x4.mul(weightDecay, p));
  if (decoupled) p = f32x4.mul(p, decay);
  const m = f32x4.add(f32x4.mul(beta1, load(expAvg, lanes)), f32x4.mul(oneMinusBeta1, g));
  const v = f32x4.add(f32x4.mul(beta2, load(expAvgSq, lanes)), f32x4.mul(f32x4.mul(oneMinusBeta2, g), g));
  store(expAvg, m, lanes);
  store(expAvgSq, v, lanes);
  const denom = f32x4.add(f32x4.mul(f32x4.sqrt(v), invBiasCorrection2Sqrt), eps);
  const num = f32x4.add(f32x4.mul(gradCoef, g), f32x4.mul(avgCoef, m));
  store(param, f32x4.sub(p, f32x4.div(num, denom)), lanes);
}

// @ts-ignore: decorator
@inline function run(
  param: usize, grad: usize, expAvg: usize, expAvgSq: usize, n: i32, sign: v128,
  beta1: v128, oneMinusBeta1: v128, beta2: v128, oneMinusBeta2: v128,
  gradCoef: v128, avgCoef: v128, invBiasCorrection2Sqrt: v128, eps: v128, weightDecay: v128, decay: v128,
  l2: bool, decoupled: bool,
): void {
  const end = param + (<usize>(n & ~3) << 2);
  while (param < end) {
    body(param, grad, expAvg, expAvgSq, 4, sign, beta1, oneMinusBeta1, beta2, oneMinusBeta2,
      gradCoef, avgCoef, invBiasCorrection2Sqrt, eps, weightDecay, decay, l2, decoupled);
    param += 16; grad += 16; expAvg += 16; expAvgSq += 16;
  }
  const lanes = n & 3;
  if (lanes != 0) {
    body(param, grad, expAvg, expAvgSq, lanes, sign, beta1, oneMinusBeta1, beta2, oneMinusBeta2,
      gradCoef, avgCoef, invBiasCorrection2Sqrt, eps, weightDecay, decay, l2, decoupled);
  }
}

/**
 * NAdam step over `n` f32 elements at byte offsets `param`, `grad`, `expAvg`, `expAvgSq`.
 *
 *     g = maximize ? -grad : grad;  g += weightDecay * p      (if WEIGHT_DECAY)
 *     p *= decay                                             (if DECOUPLED, decay = 1 - lr*wd)
 *     m = beta1*m + oneMinusBeta1*g;  v = beta2*v + (oneMinusBeta2*g)*g
 *     p -= (gradCoef*g + avgCoef*m) / (sqrt(v)*invBiasCorrection2Sqrt + eps)
 *
 * with, from the host, gradCoef = lr*(1 - mu_t)/(1 - muProduct_t), avgCoef =
 * lr*mu_{t+1}/(1 - muProduct_t*mu_{t+1}) and invBiasCorrection2Sqrt = 1/sqrt(1 - beta2^t).
 * PyTorch applies the two terms as two divisions by sqrt(v/(1 - beta2^t)) + eps; one division
 * of their sum by sqrt(v) scaled by the reciprocal is the same update within a few ulps, at
 * half the divider work.
 */
export function nadam(
  param: usize, grad: usize, expAvg: usize, expAvgSq: usize, n: i32,
  beta1: f32, oneMinusBeta1: f32, beta2: f32, oneMinusBeta2: f32,
  gradCoef: f32, avgCoef: f32, invBiasCorrection2Sqrt: f32, eps: f32, weightDecay: f32, decay: f32, flags: u32,
): void {
  const sign = signMask(flags);
  const b1 = f32x4.splat(beta1), c1 = f32x4.splat(oneMinusBeta1), b2 = f32x4.splat(beta2), c2 = f32x4.splat(oneMinusBeta2);
  const gc = f32x4.splat(gradCoef), ac = f32x4.splat(avgCoef), bc = f32x4.splat(invBiasCorrection2Sqrt);
  const e = f32x4.splat(eps), w = f32x4.splat(weightDecay), d = f32x4.splat(decay);
  const l2 = (flags & WEIGHT_DECAY) != 0;
  const decoupled = (flags & DECOUPLED) != 0;
  if (l2 && decoupled) run(param, grad, expAvg, expAvgSq, n, sign, b1, c1, b2, c2, gc, ac, bc, e, w, d, true, true);
  else if (l2) run(param, grad, expAvg, expAvgSq, n, sign, b1, c1, b2, c2, gc, ac, bc, e, w, d, true, false);
  else if (decoupled) run(param, grad, expAvg, expAvgSq, n, sign, b1, c1, b2, c2, gc, ac, bc, e, w, d, false, true);
  else run(param, grad, expAvg, expAvgSq, n, sign, b1, c1, b2, c2, gc, ac, bc, e, w, d, false, false);
}
