// JS twin: src/kernels/radam.ts. Mirrors torch.optim.radam._single_tensor_radam (PyTorch 2.x,
// decoupled weight decay included).
import { load, store, signMask, WEIGHT_DECAY, DECOUPLED, RECTIFY } from "../common";

// @ts-ignore: decorator
@inline function body(
  param: usize, grad: usize, expAvg: usize, expAvgSq: usize, lanes: i32, sign: v128,
  beta1: v128, oneMinusBeta1: v128, beta2: v128, oneMinusBeta2: v128,
  stepSize: v128, eps: v128, weightDecay: v128, decay: v128,
  l2: bool, decoupled: bool, rectify: bool,
): void {
  let p = load(param, lanes);
  let g = v128.xor(load(grad, lanes), sign);
  if (l2) g = f32x4.add(g, f32x4.mul(weightDecay, p));
  if (decoupled) p = f32x4.mul(p, decay);
  const m = f32x4.add(f32x4.mul(beta1, load(expAvg, lanes)), f32x4.mul(oneMinusBeta1, g));
  const v = f32x4.add(f32x4.mul(beta2, load(expAvgSq, lanes)), f32x4.mul(f32x4.mul(oneMinusBeta2, g), g));
  store(expAvg, m, lanes);
  store(expAvgSq, v, lanes);
  let update = f32x4.mul(stepSize, m);
  if (rectify) update = f32x4.div(update, f32x4.add(f32x4.sqrt(v), eps));
  store(param, f32x4.sub(p, update), lanes);
}

// @ts-ignore: decorator
@inline function run(
  param: usize, grad: usize, expAvg: usize, expAvgSq: usize, n: i32, sign: v128,
  beta1: v128, oneMinusBeta1: v128, beta2: v128, oneMinusBeta2: v128,
  stepSize: v128, eps: v128, weightDecay: v128, decay: v128,
  l2: bool, decoupled: bool, rectify: bool,
): void {
  const end = param + (<usize>(n & ~3) << 2);
  while (param < end) {
    body(param, grad, expAvg, expAvgSq, 4, sign, beta1, oneMinusBeta1, beta2, oneMinusBeta2,
      stepSize, eps, weightDecay, decay, l2, decoupled, rectify);
    param += 16; grad += 16; expAvg += 16; expAvgSq += 16;
  }
  const lanes = n & 3;
  if (lanes != 0) {
    body(param, grad, expAvg, expAvgSq, lanes, sign, beta1, oneMinusBeta1, beta2, oneMinusBeta2,
      stepSize, eps, weightDecay, decay, l2, decoupled, rectify);
  }
}

/**
 * RAdam step over `n` f32 elements at byte offsets `param`, `grad`, `expAvg`, `expAvgSq`.
 *
 *     g = maximize ? -grad : grad;  g += weightDecay * p      (if WEIGHT_DECAY)
 *     p *= decay                                             (if DECOUPLED, decay = 1 - lr*wd)
 *     m = beta1*m + oneMinusBeta1*g;  v = beta2*v + (oneMinusBeta2*g)*g
 *     p -= (stepSize*m) / (sqrt(v) + eps)                    (if RECTIFY: rho_t > 5)
 *     p -= stepSize*m                                        (otherwise)
 *
 * with stepSize = lr*rect*sqrt(1 - beta2^t)/(1 - beta1^t) when rectified and lr/(1 - beta1^t)
 * otherwise, from the host. PyTorch multiplies m/(1 - beta1^t), lr, sqrt(1 - beta2^t)/(sqrt(v)
 * + eps) and rect element by element; folding the scalars into one is the same update within
 * a few ulps, with one division per element instead of two.
 */
export function radam(
  param: usize, grad: usize, expAvg: usize, expAvgSq: usize, n: i32,
  beta1: f32, oneMinusBeta1: f32, beta2: f32, oneMinusBeta2: f32,
  stepSize: f32, eps: f32, weightDecay: f32, decay: f32, flags: u32,
): void {
  const sign = signMask(flags);
  const b1 = f32x4.splat(beta1), c1 = f32x4.splat(oneMinusBeta1), b2 = f32x4.splat(beta2), c2 = f32x4.splat(oneMinusBeta2);
  const s = f32x4.splat(stepSize), e = f32x4.splat(eps), w = f32x4.splat(weightDecay), d = f32x4.splat(decay);
  const l2 = (flags & WEIGHT_DECAY) != 0;
  const decoupled = (flags & DECOUPLED) != 0;
  if ((flags & RECTIFY) != 0) {
    if (l2 && decoupled) run(param, grad, expAvg, expAvgSq, n, sign, b1, c1, b2, c2, s, e, w, d, true, true, true);
    else if (l2) run(param, grad, expAvg, expAvgSq, n, sign, b1, c1, b2, c2, s, e, w, d, true, false, true);
    else if (decoupled) run(param, grad, expAvg, expAvgSq, n, sign, b1, c1, b2, c2, s, e, w, d, false, true, true);
    else run(param, grad, expAvg, expAvgSq, n, sign, b1, c1, b2, c2, s, e, w, d, false, false, true);
  } else {
    if (l2 && decoupled) run(param, grad, expAvg, expAvgSq, n, sign, b1, c1, b2, c2, s, e, w, d, true, true, false);
    else if (l2) run(param, grad, expAvg, expAvgSq, n, sign, b1, c1, b2, c2, s, e, w, d, true, false, false);
    else if (decoupled) run(param, grad, expAvg, expAvgSq, n, sign, b1, c1, b2, c2, s, e, w, d, false, true, false);
    else run(param, grad, expAvg, expAvgSq, n, sign, b1, c1, b2, c2, s, e, w, d, false, false, false);
  }
}
