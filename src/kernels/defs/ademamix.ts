import { add, defineKernel, div, mul, negIf, sqrt, sub } from '../dsl.js';

/** AdEMAMix (Pagliardini et al., 2024): Adam's fast EMA mixed with a slow one. */
export default defineKernel({
  name: 'ademamix',
  doc: {
    summary: 'AdEMAMix step: a fast and a slow EMA of the gradient, mixed, over Adam\'s second moment.',
    rule: `g = maximize ? -grad : grad
m1 = fast ? beta1*m1 + oneMinusBeta1*g : g           (beta1 = 0: no m1 buffer, m1 = g)
m2 = beta3*m2 + oneMinusBeta3*g
v = beta2*v + (oneMinusBeta2*g)*g
u = (fast ? m1*invBiasCorrection1 : g) + alpha*m2
u = u / (sqrt(v)*invBiasCorrection2Sqrt + eps)
u += weightDecay*p                                   (weightDecay)
p -= lr*u`,
    mirrors: 'ademamix.AdEMAMix.step of the authors\' reference implementation (github.com/apple/ml-ademamix, pytorch/ademamix.py)',
    notes: 'The host supplies invBiasCorrection1 = 1/(1 - beta1^t), invBiasCorrection2Sqrt = 1/sqrt(1 - beta2^t), and this ' +
      'step\'s alpha and beta3 (the reference\'s linear alpha warmup and half-life beta3 warmup, in float64). Where this ' +
      'differs from the reference\'s order of operations, to divide once per element: it multiplies m1 by 1/(1 - beta1^t) ' +
      'and sqrt(v) by 1/sqrt(1 - beta2^t) where the reference divides (a few ulps apart). The reference adds weight_decay*p ' +
      'even when weight_decay is 0 (which only matters for a non-finite p); this skips it.',
  },
  arrays: {
    param: { access: 'readwrite', doc: 'parameters' },
    grad: { access: 'read', doc: 'gradients' },
    expAvgFast: { access: 'readwrite', doc: 'fast EMA m1 of the gradient', when: 'fast', state: 'signed' },
    expAvgSlow: { access: 'readwrite', doc: 'slow EMA m2 of the gradient', state: 'signed' },
    expAvgSq: { access: 'readwrite', doc: 'second moment nu', state: 'unsigned' },
  },
  scalars: {
    lr: 'learning rate',
    beta1: 'decay of the fast EMA',
    oneMinusBeta1: '1 - beta1',
    beta2: 'decay of the second moment',
    oneMinusBeta2: '1 - beta2',
    beta3: 'decay of the slow EMA (this step\'s, after any warmup)',
    oneMinusBeta3: '1 - beta3',
    alpha: 'weight of the slow EMA (this step\'s, after any warmup)',
    invBiasCorrection1: '1/(1 - beta1^t)',
    invBiasCorrection2Sqrt: '1/sqrt(1 - beta2^t)',
    eps: 'added to the denominator',
    weightDecay: 'decoupled weight decay, added to the update before lr scales it',
  },
  flags: {
    maximize: { doc: 'ascend: negate the gradient', runtime: true },
    fast: { doc: 'keep the fast EMA m1 (beta1 != 0); clear, m1 is the gradient itself' },
    weightDecay: { doc: 'add weightDecay*p to the update' },
  },
  body({ param, grad, expAvgFast, expAvgSlow, expAvgSq }, s, f) {
    const p = param.load();
    const g = negIf(f.maximize, grad.load());
    let fast = g;
    if (f.fast) {
      const m1 = add(mul(s.beta1, expAvgFast.load()), mul(s.oneMinusBeta1, g));
      expAvgFast.store(m1);
      fast = mul(m1, s.invBiasCorrection1);
    }
    const m2 = add(mul(s.beta3, expAvgSlow.load()), mul(s.oneMinusBeta3, g));
    const v = add(mul(s.beta2, expAvgSq.load()), mul(mul(s.oneMinusBeta2, g), g));
    expAvgSlow.store(m2);
    expAvgSq.store(v);
    let u = div(add(fast, mul(s.alpha, m2)), add(mul(sqrt(v), s.invBiasCorrection2Sqrt), s.eps));
    if (f.weightDecay) u = add(u, mul(s.weightDecay, p));
    param.store(sub(p, mul(s.lr, u)));
  },
});
