// JS twin: src/kernels/sgd.ts. Mirrors torch.optim.sgd._single_tensor_sgd (PyTorch 1.13).
import { load, store, signMask, WEIGHT_DECAY, MOMENTUM, NESTEROV, FIRST_STEP } from "../common";

// @ts-ignore: decorator
@inline function body(
  param: usize, grad: usize, buf: usize, lanes: i32, sign: v128,
  lr: v128, weightDecay: v128, momentum: v128, dampeningComplement: v128,
  wd: bool, mom: bool, nesterov: bool, first: bool,
): void {
  let p = load(param, lanes);
  let g = v128.xor(load(grad, lanes), sign);
  if (wd) g = f32x4.add(g, f32x4.mul(weightDecay, p));
  if (mom) {
    let b = g;
    if (!first) b = f32x4.add(f32x4.mul(momentum, load(buf, lanes)), f32x4.mul(dampeningComplement, g));
    store(buf, b, lanes);
    g = nesterov ? f32x4.add(g, f32x4.mul(momentum, b)) : b;
  }
  store(param, f32x4.sub(p, f32x4.mul(lr, g)), lanes);
}

// @ts-ignore: decorator
@inline function run(
  param: usize, grad: usize, buf: usize, n: i32, sign: v128,
  lr: v128, weightDecay: v128, momentum: v128, dampeningComplement: v128,
  wd: bool, mom: bool, nesterov: bool, first: bool,
): void {
  let end = param + (<usize>(n & ~3) << 2);
  while (param < end) {
    body(param, grad, buf, 4, sign, lr, weightDecay, momentum, dampeningComplement, wd, mom, nesterov, first);
    param += 16; grad += 16; buf += 16;
  }
  let lanes = n & 3;
  if (lanes != 0) {
    body(param, grad, buf, lanes, sign, lr, weightDecay, momentum, dampeningComplement, wd, mom, nesterov, first);
  }
}

/**
 * SGD step over `n` f32 elements at byte offsets `param`, `grad`, `momentumBuffer`.
 *
 *     g = maximize ? -grad : grad;  g += weightDecay * p        (if WEIGHT_DECAY)
 *     buf = FIRST_STEP ? g : momentum * buf + dampeningComplement * g   (if MOMENTUM)
 *     g = NESTEROV ? g + momentum * buf : buf                   (if MOMENTUM)
 *     p -= lr * g
 *
 * `dampeningComplement` is `1 - dampening`. `momentumBuffer` is untouched without MOMENTUM.
 */
export function sgd(
  param: usize, grad: usize, momentumBuffer: usize, n: i32,
  lr: f32, weightDecay: f32, momentum: f32, dampeningComplement: f32, flags: u32,
): void {
  const sign = signMask(flags);
  const vlr = f32x4.splat(lr);
  const vwd = f32x4.splat(weightDecay);
  const vmu = f32x4.splat(momentum);
  const vdc = f32x4.splat(dampeningComplement);
  const wd = (flags & WEIGHT_DECAY) != 0;
  if ((flags & MOMENTUM) == 0) {
    if (wd) run(param, grad, momentumBuffer, n, sign, vlr, vwd, vmu, vdc, true, false, false, false);
    else run(param, grad, momentumBuffer, n, sign, vlr, vwd, vmu, vdc, false, false, false, false);
    return;
  }
  const nesterov = (flags & NESTEROV) != 0;
  const first = (flags & FIRST_STEP) != 0;
  if (wd) {
    if (nesterov) {
      if (first) run(param, grad, momentumBuffer, n, sign, vlr, vwd, vmu, vdc, true, true, true, true);
      else run(param, grad, momentumBuffer, n, sign, vlr, vwd, vmu, vdc, true, true, true, false);
    } else {
      if (first) run(param, grad, momentumBuffer, n, sign, vlr, vwd, vmu, vdc, true, true, false, true);
      else run(param, grad, momentumBuffer, n, sign, vlr, vwd, vmu, vdc, true, true, false, false);
    }
  } else {
    if (nesterov) {
      if (first) run(param, grad, momentumBuffer, n, sign, vlr, vwd, vmu, vdc, false, true, true, true);
      else run(param, grad, momentumBuffer, n, sign, vlr, vwd, vmu, vdc, false, true, true, false);
    } else {
      if (first) run(param, grad, momentumBuffer, n, sign, vlr, vwd, vmu, vdc, false, true, false, true);
      else run(param, grad, momentumBuffer, n, sign, vlr, vwd, vmu, vdc, false, true, false, false);
    }
  }
}
