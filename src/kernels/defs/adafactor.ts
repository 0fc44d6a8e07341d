import { add, defineKernel, div, max, mul, negIf, sqrt, sub } from '../dsl.js';

/**
 * Adafactor's unfactored second moment (parameters of fewer than two dimensions) and the
 * update it gives; the factored one (matrices) is the hand-written adafactorUpdate.
 */
export const adafactor = defineKernel({
  name: 'adafactor',
  doc: {
    summary: "Adafactor's second moment of a vector (unfactored) and its update, before the RMS clipping.",
    rule: `g = maximize ? -grad : grad
d = g*g - variance
variance = variance + weight * d             (variance.lerp_(g*g, weight), |weight| < 0.5)
variance = g*g - d * complement              (largeWeight: the lerp from the end)
update = (1 / sqrt(max(variance, eps1Sq))) * g`,
    mirrors: 'torch.optim._adafactor._single_tensor_adafactor (PyTorch 2.5+), its vector branch and the update: ' +
      'variance.lerp_(grad * grad, one_minus_beta2_t); var_estimate.clamp_(min=eps1 * eps1).rsqrt_(); update.mul_(grad)',
    notes: 'The host supplies weight = step^beta2Decay (1 - beta2_t, rounded to f32), complement = 1 - weight and eps1Sq = eps1*eps1 ' +
      '(in float64, rounded to f32), and picks largeWeight when |weight| >= 0.5, as PyTorch\'s lerp does (is_lerp_weight_small). ' +
      'rsqrt is 1 / sqrt, as PyTorch\'s CPU kernel computes it. No fused multiply-add (PyTorch\'s vectorised CPU lerp may fuse: one rounding apart).',
  },
  arrays: {
    grad: { access: 'read', doc: 'gradients' },
    variance: { access: 'readwrite', doc: 'second moment (variance)' },
    update: { access: 'write', doc: 'the update, before clipping by its RMS (scratch)' },
  },
  scalars: {
    weight: 'the lerp weight step^beta2Decay (1 - beta2_t)',
    complement: '1 - weight (largeWeight)',
    eps1Sq: 'lower bound of the variance, eps1 * eps1',
  },
  flags: {
    maximize: { doc: 'ascend: negate the gradient', runtime: true },
    largeWeight: { doc: 'weight >= 0.5: PyTorch\'s lerp computed from the end' },
  },
  body({ grad, variance, update }, s, f) {
    const g = negIf(f.maximize, grad.load());
    const v0 = variance.load();
    const g2 = mul(g, g);
    const d = sub(g2, v0);
    const v = f.largeWeight ? sub(g2, mul(d, s.complement)) : add(v0, mul(s.weight, d));
    variance.store(v);
    update.store(mul(div(1, sqrt(max(v, s.eps1Sq))), g));
  },
});

/** Adafactor's parameter update: decoupled weight decay, then the clipped update at the relative step size. */
export const adafactorApply = defineKernel({
  name: 'adafactorApply',
  doc: {
    summary: "Adafactor's parameter update: decoupled weight decay, then the update scaled by alpha / denom.",
    rule: `p = p * decay          (weightDecay; decay = 1 - lr * weightDecay)
p = p - stepSize * update`,
    mirrors: 'torch.optim._adafactor._single_tensor_adafactor (PyTorch 2.5+): param.mul_(1 - lr * weight_decay); param.add_(update, alpha=-alpha / denom)',
    notes: 'The host supplies stepSize = alpha / denom, alpha = max(eps2, RMS(p)) * rho_t and denom = max(1, RMS(update) / d) (in float64, rounded to f32); ' +
      'p - stepSize*update is the same bits as PyTorch\'s p + (-stepSize)*update. No fused multiply-add (PyTorch\'s vectorised CPU add may fuse).',
  },
  arrays: {
    param: { access: 'readwrite', doc: 'parameters' },
    update: { access: 'read', doc: 'the update (from adafactor or adafactorUpdate)' },
  },
  scalars: {
    decay: '1 - lr * weightDecay',
    stepSize: 'alpha / denom: the relative step size times the RMS scale, over the clipping denominator',
  },
  flags: {
    weightDecay: { doc: 'decay the parameters first' },
  },
  body({ param, update }, s, f) {
    let p = param.load();
    if (f.weightDecay) p = mul(p, s.decay);
    param.store(sub(p, mul(s.stepSize, update.load())));
  },
});
