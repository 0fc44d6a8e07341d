// JS twin: src/kernels/adam.ts. The Adam family in one kernel, variants as flags:
// Adam and AdamW (torch.optim.adam/_single_tensor_adam, adamw, PyTorch 1.13), NAdam (NESTEROV:
// torch.optim.nadam, PyTorch 2.x) and RAdam (PLAIN for its un-rectified steps, and
// invBiasCorrection2Sqrt = 1 for its rectified ones: torch.optim.radam, PyTorch 2.x).
import { load, store, signMask, WEIGHT_DECAY, DECOUPLED, AMSGRAD, NESTEROV, PLAIN } from "../common";

// @ts-ignore: decorator
@inline function body(
  param: usize, grad: usize, expAvg: usize, expAvgSq: usize, maxExpAvgSq: usize, lanes: i32, sign: v128,
  beta1: v128, oneMinusBeta1: v128, beta2: v128, oneMinusBeta2: v128, stepSize: v128,
  invBiasCorrection2Sqrt: v128, eps: v128, weightDecay: v128, decay: v128, gradCoef: v128,
  l2: bool, decoupled: bool, amsgrad: bool, nesterov: bool, plain: bool,
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
  if (!plain) {
    let vhat = v;
    if (amsgrad) {
      vhat = f32x4.max(load(maxExpAvgSq, lanes), v);
      store(maxExpAvgSq, vhat, lanes);
    }
    if (nesterov) update = f32x4.add(f32x4.mul(gradCoef, g), update);
    update = f32x4.div(update, f32x4.add(f32x4.mul(f32x4.sqrt(vhat), invBiasCorrection2Sqrt), eps));
  }
  store(param, f32x4.sub(p, update), lanes);
}

// @ts-ignore: decorator
@inline function run(
  param: usize, grad: usize, expAvg: usize, expAvgSq: usize, maxExpAvgSq: usize, n: i32, sign: v128,
  beta1: v128, oneMinusBeta1: v128, beta2: v128, oneMinusBeta2: v128, stepSize: v128,
  invBiasCorrection2Sqrt: v128, eps: v128, weightDecay: v128, decay: v128, gradCoef: v128,
  l2: bool, decoupled: bool, amsgrad: bool, nesterov: bool, plain: bool,
): void {
  const end = param + (<usize>(n & ~3) << 2);
  while (param < end) {
    body(param, grad, expAvg, expAvgSq, maxExpAvgSq, 4, sign, beta1, oneMinusBeta1, beta2, oneMinusBeta2, stepSize,
      invBiasCorrection2Sqrt, eps, weightDecay, decay, gradCoef, l2, decoupled, amsgrad, nesterov, plain);
    param += 16; grad += 16; expAvg += 16; expAvgSq += 16; maxExpAvgSq += 16;
  }
  const lanes = n & 3;
  if (lanes != 0) {
    body(param, grad, expAvg, expAvgSq, maxExpAvgSq, lanes, sign, beta1, oneMinusBeta1, beta2, oneMinusBeta2, stepSize,
      invBiasCorrection2Sqrt, eps, weightDecay, decay, gradCoef, l2, decoupled, amsgrad, nesterov, plain);
  }
}

/**
 * Adam-family step over `n` f32 elements at byte offsets `param`, `grad`, `expAvg`,
 * `expAvgSq`, `maxExpAvgSq` (the last touched only with AMSGRAD).
 *
 *     g = maximize ? -grad : grad;  g += weightDecay * p      (if WEIGHT_DECAY: L2)
 *     p *= decay                                             (if DECOUPLED: decay = 1 - lr*wd)
 *     m = beta1*m + oneMinusBeta1*g;  v = beta2*v + (oneMinusBeta2*g)*g
 *     PLAIN:  p -= stepSize*m                                (RAdam before rectification)
 *     else:   vhat = AMSGRAD ? (vmax = max(vmax, v)) : v
 *             u = stepSize*m, or gradCoef*g + stepSize*m     (NESTEROV: NAdam)
 *             p -= u / (sqrt(vhat)*invBiasCorrection2Sqrt + eps)
 *
 * The host supplies the step's scalars: Adam stepSize = lr/(1 - beta1^t) and
 * invBiasCorrection2Sqrt = 1/sqrt(1 - beta2^t); NAdam gradCoef = lr(1 - mu_t)/(1 - muProduct)
 * and stepSize = lr mu_{t+1}/(1 - muProduct mu_{t+1}); RAdam stepSize =
 * lr rect sqrt(1 - beta2^t)/(1 - beta1^t) with invBiasCorrection2Sqrt = 1 (rectified) or
 * lr/(1 - beta1^t) with PLAIN.
 *
 * Where this differs from PyTorch's order of operations, to divide once per element (a step
 * is bound by the divider, not by memory): it multiplies sqrt(v) by 1/sqrt(1 - beta2^t)
 * where PyTorch divides; NAdam divides the sum of its two terms once where PyTorch divides
 * each; RAdam folds its scalar factors into stepSize. Results move by a few ulps, far inside
 * the PyTorch reference tolerance. The flags are independent (WEIGHT_DECAY and DECOUPLED
 * together apply both).
 */
export function adam(
  param: usize, grad: usize, expAvg: usize, expAvgSq: usize, maxExpAvgSq: usize, n: i32,
  beta1: f32, oneMinusBeta1: f32, beta2: f32, oneMinusBeta2: f32, stepSize: f32,
  invBiasCorrection2Sqrt: f32, eps: f32, weightDecay: f32, decay: f32, gradCoef: f32, flags: u32,
): void {
  const sign = signMask(flags);
  const b1 = f32x4.splat(beta1), c1 = f32x4.splat(oneMinusBeta1), b2 = f32x4.splat(beta2), c2 = f32x4.splat(oneMinusBeta2);
  const ss = f32x4.splat(stepSize), bc = f32x4.splat(invBiasCorrection2Sqrt), ep = f32x4.splat(eps);
  const wd = f32x4.splat(weightDecay), dc = f32x4.splat(decay), gc = f32x4.splat(gradCoef);
  const l2 = (flags & WEIGHT_DECAY) != 0;
  const decoupled = (flags & DECOUPLED) != 0;
  const amsgrad = (flags & AMSGRAD) != 0;
  const plain = (flags & PLAIN) != 0;
  const nesterov = !plain && (flags & NESTEROV) != 0;
  if (amsgrad && !nesterov && !plain) {
    if (l2 && decoupled) run(param, grad, expAvg, expAvgSq, maxExpAvgSq, n, sign, b1, c1, b2, c2, ss, bc, ep, wd, dc, gc, true, true, true, false, false);
    else if (l2) run(param, grad, expAvg, expAvgSq, maxExpAvgSq, n, sign, b1, c1, b2, c2, ss, bc, ep, wd, dc, gc, true, false, true, false, false);
    else if (decoupled) run(param, grad, expAvg, expAvgSq, maxExpAvgSq, n, sign, b1, c1, b2, c2, ss, bc, ep, wd, dc, gc, false, true, true, false, false);
    else run(param, grad, expAvg, expAvgSq, maxExpAvgSq, n, sign, b1, c1, b2, c2, ss, bc, ep, wd, dc, gc, false, false, true, false, false);
  }
  else if (amsgrad && nesterov && !plain) {
    if (l2 && decoupled) run(param, grad, expAvg, expAvgSq, maxExpAvgSq, n, sign, b1, c1, b2, c2, ss, bc, ep, wd, dc, gc, true, true, true, true, false);
    else if (l2) run(param, grad, expAvg, expAvgSq, maxExpAvgSq, n, sign, b1, c1, b2, c2, ss, bc, ep, wd, dc, gc, true, false, true, true, false);
    else if (decoupled) run(param, grad, expAvg, expAvgSq, maxExpAvgSq, n, sign, b1, c1, b2, c2, ss, bc, ep, wd, dc, gc, false, true, true, true, false);
    else run(param, grad, expAvg, expAvgSq, maxExpAvgSq, n, sign, b1, c1, b2, c2, ss, bc, ep, wd, dc, gc, false, false, true, true, false);
  }
  else if (amsgrad && !nesterov && plain) {
    if (l2 && decoupled) run(param, grad, expAvg, expAvgSq, maxExpAvgSq, n, sign, b1, c1, b2, c2, ss, bc, ep, wd, dc, gc, true, true, true, false, true);
    else if (l2) run(param, grad, expAvg, expAvgSq, maxExpAvgSq, n, sign, b1, c1, b2, c2, ss, bc, ep, wd, dc, gc, true, false, true, false, true);
    else if (decoupled) run(param, grad, expAvg, expAvgSq, maxExpAvgSq, n, sign, b1, c1, b2, c2, ss, bc, ep, wd, dc, gc, false, true, true, false, true);
    else run(param, grad, expAvg, expAvgSq, maxExpAvgSq, n, sign, b1, c1, b2, c2, ss, bc, ep, wd, dc, gc, false, false, true, false, true);
  }
  else if (!amsgrad && !nesterov && !plain) {
    if (l2 && decoupled) run(param, grad, expAvg, expAvgSq, maxExpAvgSq, n, sign, b1, c1, b2, c2, ss, bc, ep, wd, dc, gc, true, true, false, false, false);
    else if (l2) run(param, grad, expAvg, expAvgSq, maxExpAvgSq, n, sign, b1, c1, b2, c2, ss, bc, ep, wd, dc, gc, true, false, false, false, false);
    else if (decoupled) run(param, grad, expAvg, expAvgSq, maxExpAvgSq, n, sign, b1, c1, b2, c2, ss, bc, ep, wd, dc, gc, false, true, false, false, false);
    else run(param, grad, expAvg, expAvgSq, maxExpAvgSq, n, sign, b1, c1, b2, c2, ss, bc, ep, wd, dc, gc, false, false, false, false, false);
  }
  else if (!amsgrad && nesterov && !plain) {
    if (l2 && decoupled) run(param, grad, expAvg, expAvgSq, maxExpAvgSq, n, sign, b1, c1, b2, c2, ss, bc, ep, wd, dc, gc, true, true, false, true, false);
    else if (l2) run(param, grad, expAvg, expAvgSq, maxExpAvgSq, n, sign, b1, c1, b2, c2, ss, bc, ep, wd, dc, gc, true, false, false, true, false);
    else if (decoupled) run(param, grad, expAvg, expAvgSq, maxExpAvgSq, n, sign, b1, c1, b2, c2, ss, bc, ep, wd, dc, gc, false, true, false, true, false);
    else run(param, grad, expAvg, expAvgSq, maxExpAvgSq, n, sign, b1, c1, b2, c2, ss, bc, ep, wd, dc, gc, false, false, false, true, false);
  }
  else if (!amsgrad && !nesterov && plain) {
    if (l2 && decoupled) run(param, grad, expAvg, expAvgSq, maxExpAvgSq, n, sign, b1, c1, b2, c2, ss, bc, ep, wd, dc, gc, true, true, false, false, true);
    else if (l2) run(param, grad, expAvg, expAvgSq, maxExpAvgSq, n, sign, b1, c1, b2, c2, ss, bc, ep, wd, dc, gc, true, false, false, false, true);
    else if (decoupled) run(param, grad, expAvg, expAvgSq, maxExpAvgSq, n, sign, b1, c1, b2, c2, ss, bc, ep, wd, dc, gc, false, true, false, false, true);
    else run(param, grad, expAvg, expAvgSq, maxExpAvgSq, n, sign, b1, c1, b2, c2, ss, bc, ep, wd, dc, gc, false, false, false, false, true);
  }
}
