import { add, defineKernel, div, mul, negIf, sqrt, sub } from '../dsl.js';

/** Adan (Xie et al., 2022): Adam-like moments of the gradient and of its difference from the previous one. */
export default defineKernel({
  name: 'adan',
  doc: {
    summary: 'Adan step: moments of the gradient, of the gradient difference and of the Nesterov-corrected gradient.',
    rule: `g = maximize ? -grad : grad
d = first ? g - g : g - prevGrad                     (the first difference is 0: pre_grad = g)
p *= decay                                           (decoupled, no_prox: decay = 1 - lr*wd)
m = beta1*m + oneMinusBeta1*g
diff = beta2*diff + oneMinusBeta2*d
u = beta2*d + g
n = beta3*n + (oneMinusBeta3*u)*u
p -= (stepSize*m + stepSizeDiff*diff) / (sqrt(n)*invBiasCorrection3Sqrt + eps)
p /= proxDivisor                                     (prox: proxDivisor = 1 + lr*wd)
prevGrad = g`,
    mirrors: 'adan._single_tensor_adan of the authors\' reference implementation (github.com/sail-sg/Adan, adan.py)',
    notes: 'The host supplies stepSize = lr/(1 - beta1^t), stepSizeDiff = lr*beta2/(1 - beta2^t) and invBiasCorrection3Sqrt = ' +
      '1/sqrt(1 - beta3^t). Where this differs from the reference\'s order of operations, to divide once per element: it ' +
      'multiplies sqrt(n) by 1/sqrt(1 - beta3^t) where the reference divides, and divides the sum of the two terms once where ' +
      'the reference divides each (a few ulps apart). The reference keeps -g (neg_pre_grad) and adds; this keeps g and ' +
      'subtracts (the same bits). On the first step the difference is g - g, as the reference\'s -g + g: 0, or NaN for a ' +
      'non-finite g; prevGrad is not read.',
  },
  arrays: {
    param: { access: 'readwrite', doc: 'parameters' },
    grad: { access: 'read', doc: 'gradients' },
    expAvg: { access: 'readwrite', doc: 'first moment m of the gradient' },
    expAvgDiff: { access: 'readwrite', doc: 'first moment of the gradient difference' },
    expAvgSq: { access: 'readwrite', doc: 'second moment n of g + beta2*(g - prevGrad)' },
    prevGrad: { access: 'readwrite', doc: 'the previous step\'s gradient (negated under maximize)' },
  },
  scalars: {
    beta1: 'decay of the first moment',
    oneMinusBeta1: '1 - beta1',
    beta2: 'decay of the difference moment, and the weight of d in u',
    oneMinusBeta2: '1 - beta2',
    beta3: 'decay of the second moment',
    oneMinusBeta3: '1 - beta3',
    stepSize: 'lr/(1 - beta1^t)',
    stepSizeDiff: 'lr*beta2/(1 - beta2^t)',
    invBiasCorrection3Sqrt: '1/sqrt(1 - beta3^t)',
    eps: 'added to the denominator',
    decay: 'decoupled decay factor 1 - lr*weightDecay (no_prox)',
    proxDivisor: 'proximal decay divisor 1 + lr*weightDecay',
  },
  flags: {
    maximize: { doc: 'ascend: negate the gradient', runtime: true },
    first: { doc: 'the first step: the difference is g - g and prevGrad is not read' },
    decoupled: { doc: 'multiply p by decay before the update (the reference\'s no_prox)' },
    prox: { doc: 'divide p by proxDivisor after the update (the reference\'s default)' },
  },
  body({ param, grad, expAvg, expAvgDiff, expAvgSq, prevGrad }, s, f) {
    let p = param.load();
    const g = negIf(f.maximize, grad.load());
    const d = f.first ? sub(g, g) : sub(g, prevGrad.load());
    if (f.decoupled) p = mul(p, s.decay);
    const m = add(mul(s.beta1, expAvg.load()), mul(s.oneMinusBeta1, g));
    const diff = add(mul(s.beta2, expAvgDiff.load()), mul(s.oneMinusBeta2, d));
    const u = add(mul(s.beta2, d), g);
    const n = add(mul(s.beta3, expAvgSq.load()), mul(mul(s.oneMinusBeta3, u), u));
    expAvg.store(m);
    expAvgDiff.store(diff);
    expAvgSq.store(n);
    prevGrad.store(g);
    const denom = add(mul(sqrt(n), s.invBiasCorrection3Sqrt), s.eps);
    p = sub(p, div(add(mul(s.stepSize, m), mul(s.stepSizeDiff, diff)), denom));
    if (f.prox) p = div(p, s.proxDivisor);
    param.store(p);
  },
});
