// JS twin: src/kernels/rmsprop.ts. Mirrors torch.optim.rmsprop._single_tensor_rmsprop (PyTorch 1.13).
import { load, store, signMask, WEIGHT_DECAY, CENTERED, MOMENTUM } from "../common";

// @ts-ignore: decorator
@inline function body(
  param: usize, grad: usize, squareAvg: usize, gradAvg: usize, buf: usize, lanes: i32, sign: v128,
  lr: v128, alpha: v128, oneMinusAlpha: v128, eps: v128, weightDecay: v128, momentum: v128,
  wd: bool, centered: bool, mom: bool,
): void {
  const p = load(param, lanes);
  let g = v128.xor(load(grad, lanes), sign);
  if (wd) g = f32x4.add(g, f32x4.mul(weightDecay, p));
  const sq = f32x4.add(f32x4.mul(alpha, load(squareAvg, lanes)), f32x4.mul(f32x4.mul(oneMinusAlpha, g), g));
  store(squareAvg, sq, lanes);
  let avg: v128;
  if (centered) {
    const ga = f32x4.add(f32x4.mul(alpha, load(gradAvg, lanes)), f32x4.mul(oneMinusAlpha, g));
    store(gradAvg, ga, lanes);
    avg = f32x4.sqrt(f32x4.sub(sq, f32x4.mul(ga, ga)));
  } else {
    avg = f32x4.sqrt(sq);
  }
  avg = f32x4.add(avg, eps);
  if (mom) {
    const b = f32x4.add(f32x4.mul(momentum, load(buf, lanes)), f32x4.div(g, avg));
    store(buf, b, lanes);
    store(param, f32x4.sub(p, f32x4.mul(lr, b)), lanes);
  } else {
    store(param, f32x4.sub(p, f32x4.div(f32x4.mul(lr, g), avg)), lanes);
  }
}

// @ts-ignore: decorator
@inline function run(
  param: usize, grad: usize, squareAvg: usize, gradAvg: usize, buf: usize, n: i32, sign: v128,
  lr: v128, alpha: v128, oneMinusAlpha: v128, eps: v128, weightDecay: v128, momentum: v128,
  wd: bool, centered: bool, mom: bool,
): void {
  const end = param + (<usize>(n & ~3) << 2);
  while (param < end) {
    body(param, grad, squareAvg, gradAvg, buf, 4, sign, lr, alpha, oneMinusAlpha, eps, weightDecay, momentum, wd, centered, mom);
    param += 16; grad += 16; squareAvg += 16; gradAvg += 16; buf += 16;
  }
  const lanes = n & 3;
  if (lanes != 0) {
    body(param, grad, squareAvg, gradAvg, buf, lanes, sign, lr, alpha, oneMinusAlpha, eps, weightDecay, momentum, wd, centered, mom);
  }
}

/**
 * RMSprop step over `n` f32 elements at byte offsets `param`, `grad`, `squareAvg`,
 * `gradAvg` (touched only with CENTERED) and `momentumBuffer` (only with MOMENTUM).
 *
 *     g = maximize ? -grad : grad;  g += weightDecay * p     (if WEIGHT_DECAY)
 *     sq = alpha*sq + (oneMinusAlpha*g)*g
 *     avg = sqrt(sq - ga*ga) + eps, ga = alpha*ga + oneMinusAlpha*g   (CENTERED)
 *     avg = sqrt(sq) + eps                                             (otherwise)
 *     buf = momentum*buf + g/avg;  p -= lr*buf                         (MOMENTUM)
 *     p -= (lr*g) / avg                                                (otherwise)
 */
export function rmsprop(
  param: usize, grad: usize, squareAvg: usize, gradAvg: usize, momentumBuffer: usize, n: i32,
  lr: f32, alpha: f32, oneMinusAlpha: f32, eps: f32, weightDecay: f32, momentum: f32, flags: u32,
): void {
  const sign = signMask(flags);
  const l = f32x4.splat(lr), a = f32x4.splat(alpha), c = f32x4.splat(oneMinusAlpha);
  const e = f32x4.splat(eps), w = f32x4.splat(weightDecay), mu = f32x4.splat(momentum);
  const wd = (flags & WEIGHT_DECAY) != 0;
  const centered = (flags & CENTERED) != 0;
  if ((flags & MOMENTUM) != 0) {
    if (wd && centered) run(param, grad, squareAvg, gradAvg, momentumBuffer, n, sign, l, a, c, e, w, mu, true, true, true);
    else if (wd) run(param, grad, squareAvg, gradAvg, momentumBuffer, n, sign, l, a, c, e, w, mu, true, false, true);
    else if (centered) run(param, grad, squareAvg, gradAvg, momentumBuffer, n, sign, l, a, c, e, w, mu, false, true, true);
    else run(param, grad, squareAvg, gradAvg, momentumBuffer, n, sign, l, a, c, e, w, mu, false, false, true);
  } else {
    if (wd && centered) run(param, grad, squareAvg, gradAvg, momentumBuffer, n, sign, l, a, c, e, w, mu, true, true, false);
    else if (wd) run(param, grad, squareAvg, gradAvg, momentumBuffer, n, sign, l, a, c, e, w, mu, true, false, false);
    else if (centered) run(param, grad, squareAvg, gradAvg, momentumBuffer, n, sign, l, a, c, e, w, mu, false, true, false);
    else run(param, grad, squareAvg, gradAvg, momentumBuffer, n, sign, l, a, c, e, w, mu, false, false, false);
  }
}
