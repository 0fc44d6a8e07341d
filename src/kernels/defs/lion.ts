import { add, defineKernel, max, mul, negIf, sign, sub } from '../dsl.js';

/** Lion (EvoLved Sign Momentum). */
export default defineKernel({
  name: 'lion',
  doc: {
    summary: 'Lion step.',
    rule: `g = maximize ? -grad : grad
p *= decay                                         (decoupled, decay = 1 - lr*wd)
p -= lr * sign(beta1*m + oneMinusBeta1*g)
m = beta2*m + oneMinusBeta2*g
cautious: u = lr*sign(c) is not applied: p (decayed) is stored, and masked = u*(sign(c)*g > 0 ? 1 : 0)`,
    mirrors: 'Chen et al. 2023, "Symbolic Discovery of Optimization Algorithms", Algorithm 2 (PyTorch has no Lion)',
    notes: 'sign is 0 for zeros and NaN, as torch.sign computes (0 < c) - (c < 0). cautious is the first pass of a cautious step ' +
      '(Liang et al., 2024; see the adam kernel).',
  },
  arrays: {
    param: { access: 'readwrite', doc: 'parameters' },
    grad: { access: 'read', doc: 'gradients' },
    expAvg: { access: 'readwrite', doc: 'momentum m', state: 'signed' },
    masked: { access: 'write', doc: 'the update u where sign(c)*g > 0, else 0 (cautious)', when: 'cautious' },
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
    cautious: { doc: 'store the masked update instead of applying it (the first pass of a cautious step)' },
  },
  body({ param, grad, expAvg, masked }, s, f) {
    let p = param.load();
    const g = negIf(f.maximize, grad.load());
    if (f.decoupled) p = mul(p, s.decay);
    const m = expAvg.load();
    const c = add(mul(s.beta1, m), mul(s.oneMinusBeta1, g));
    const direction = sign(c);
    const update = mul(s.lr, direction);
    if (f.cautious) {
      // The mask from sign(c)*g, exact (lr*sign(c)*g could underflow), as the reference masks sign(c)*grad.
      param.store(p);
      masked.store(mul(update, max(sign(mul(direction, g)), 0)));
    } else {
      param.store(sub(p, update));
    }
    expAvg.store(add(mul(s.beta2, m), mul(s.oneMinusBeta2, g)));
  },
});
