import { add, defineKernel, div, mul, negIf, sqrt, sub } from '../dsl.js';

/** Adagrad. */
export default defineKernel({
  name: 'adagrad',
  doc: {
    summary: 'Adagrad step.',
    rule: `g = maximize ? -grad : grad;  g += weightDecay * p     (weightDecay)
sum += g*g;   p -= (clr*g) / (sqrt(sum) + eps)`,
    mirrors: 'torch.optim.adagrad._single_tensor_adagrad (PyTorch 1.13)',
    notes: 'clr = lr / (1 + (t-1)*lrDecay) comes from the host.',
  },
  arrays: {
    param: { access: 'readwrite', doc: 'parameters' },
    grad: { access: 'read', doc: 'gradients' },
    sum: { access: 'readwrite', doc: 'sum of squared gradients', state: 'unsigned' },
  },
  scalars: {
    clr: 'decayed learning rate lr / (1 + (t-1)*lrDecay)',
    weightDecay: 'L2 penalty',
    eps: 'added to the denominator',
  },
  flags: {
    maximize: { doc: 'ascend: negate the gradient', runtime: true },
    weightDecay: { doc: 'add weightDecay * p to the gradient (L2)' },
  },
  body({ param, grad, sum }, s, f) {
    const p = param.load();
    let g = negIf(f.maximize, grad.load());
    if (f.weightDecay) g = add(g, mul(s.weightDecay, p));
    const acc = add(sum.load(), mul(g, g));
    sum.store(acc);
    param.store(sub(p, div(mul(s.clr, g), add(sqrt(acc), s.eps))));
  },
});
