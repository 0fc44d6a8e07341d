import { add, defineKernel, mul, negIf, sub } from '../dsl.js';

/** ASGD (averaged stochastic gradient descent): a decayed SGD step and the running average of the parameters. */
export default defineKernel({
  name: 'asgd',
  doc: {
    summary: 'ASGD step: SGD with the decay term 1 - lambd*eta, then the running average ax of the parameters (a copy of them until averaging starts).',
    rule: `g = maximize ? -grad : grad;  g += weightDecay * p   (weightDecay: L2)
p = p * decay                                        (decay = 1 - lambd*eta)
p -= eta * g
ax = average ? ax + (p - ax)*mu : p`,
    mirrors: 'torch.optim.asgd._single_tensor_asgd (PyTorch 1.13 to 2.x, the same arithmetic)',
    notes: 'The host keeps eta and mu per parameter group as PyTorch keeps them, float32 scalars, and supplies decay = ' +
      'f32(1 - lambd*eta); average is set when mu != 1 (before t0 steps, mu = 1 and ax is a copy of p).',
  },
  arrays: {
    param: { access: 'readwrite', doc: 'parameters' },
    grad: { access: 'read', doc: 'gradients' },
    ax: { access: 'readwrite', doc: 'the averaged parameters' },
  },
  scalars: {
    weightDecay: 'L2 penalty',
    decay: 'decay factor 1 - lambd*eta',
    eta: 'this step\'s learning rate',
    mu: 'averaging weight 1/max(1, t - t0)',
  },
  flags: {
    maximize: { doc: 'ascend: negate the gradient', runtime: true },
    weightDecay: { doc: 'add weightDecay * p to the gradient (L2)' },
    average: { doc: 'average: ax += (p - ax)*mu (otherwise ax = p)' },
  },
  body({ param, grad, ax }, s, f) {
    let p = param.load();
    let g = negIf(f.maximize, grad.load());
    if (f.weightDecay) g = add(g, mul(s.weightDecay, p));
    p = sub(mul(p, s.decay), mul(s.eta, g));
    param.store(p);
    if (f.average) {
      const a = ax.load();
      ax.store(add(a, mul(sub(p, a), s.mu)));
    } else {
      ax.store(p);
    }
  },
});
