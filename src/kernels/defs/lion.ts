import { add, defineKernel, mul, negIf, sign, sub } from '../dsl.js';

/** Lion (EvoLved Sign Momentum). */
export default defineKernel({
  name: 'lion',
  doc: {
    summary: 'Lion step.',
    rule: `g = maximize ? -grad : grad
p *= decay                                         (decoupled, decay = 1 - lr*wd)
p -= lr * sign(beta1*m + oneMinusBeta1*g)
m = beta2*m + oneMinusBeta2*g`,
    mirrors: 'Chen et al. 2023, "Symbolic Discovery of Optimization Algorithms", Algorithm 2 (PyTorch has no Lion)',
    notes: 'sign is 0 for zeros and NaN, as torch.sign computes (0 < c) - (c < 0).',
  },
  arrays: {
    param: { access: 'readwrite', doc: 'parameters' },
    grad: { access: 'read', doc: 'gradients' },
    expAvg: { access: 'readwrite', doc: 'momentum m', state: 'signed' },
  },
  scalars: {
    lr: 'learning rate',
    beta1: 'interpolation of the update direction',
    oneMinusBeta1: '1 - beta1',
    beta2: 'decay of the momentum',
    oneMinusBeta2: '1 - beta2',
    decay: 'decoupled decay factor 1 - lr*weightDecay',
  },
  flags: {
    maximize: { doc: 'ascend: negate the gradient', runtime: true },
    decoupled: { doc: 'multiply p by decay first (decoupled weight decay)' },
  },
  body({ param, grad, expAvg }, s, f) {
    let p = param.load();
    const g = negIf(f.maximize, grad.load());
    if (f.decoupled) p = mul(p, s.decay);
    const m = expAvg.load();
    const c = add(mul(s.beta1, m), mul(s.oneMinusBeta1, g));
    param.store(sub(p, mul(s.lr, sign(c))));
    expAvg.store(add(mul(s.beta2, m), mul(s.oneMinusBeta2, g)));
  },
});
