import { abs, add, defineKernel, div, max, mul, negIf, sub } from '../dsl.js';

/** Adamax (Adam with the infinity norm). */
export default defineKernel({
  name: 'adamax',
  doc: {
    summary: 'Adamax step.',
    rule: `g = maximize ? -grad : grad;  g += weightDecay * p     (weightDecay)
m = beta1*m + oneMinusBeta1*g;   u = max(beta2*u, |g| + eps)
p -= (clr*m) / u`,
    mirrors: 'torch.optim.adamax._single_tensor_adamax (PyTorch 1.13)',
    notes: 'clr = lr / (1 - beta1^t) comes from the host. max propagates NaN, as torch.amax does.',
  },
  arrays: {
    param: { access: 'readwrite', doc: 'parameters' },
    grad: { access: 'read', doc: 'gradients' },
    expAvg: { access: 'readwrite', doc: 'first moment m', state: 'signed' },
    expInf: { access: 'readwrite', doc: 'exponentially weighted infinity norm u', state: 'unsigned' },
  },
  scalars: {
    beta1: 'decay of the first moment',
    oneMinusBeta1: '1 - beta1',
    beta2: 'decay of the infinity norm',
    clr: 'bias-corrected learning rate lr / (1 - beta1^t)',
    eps: 'added to |g|',
    weightDecay: 'L2 penalty',
  },
  flags: {
    maximize: { doc: 'ascend: negate the gradient', runtime: true },
    weightDecay: { doc: 'add weightDecay * p to the gradient (L2)' },
  },
  body({ param, grad, expAvg, expInf }, s, f) {
    const p = param.load();
    let g = negIf(f.maximize, grad.load());
    if (f.weightDecay) g = add(g, mul(s.weightDecay, p));
    const m = add(mul(s.beta1, expAvg.load()), mul(s.oneMinusBeta1, g));
    const u = max(mul(s.beta2, expInf.load()), add(abs(g), s.eps));
    expAvg.store(m);
    expInf.store(u);
    param.store(sub(p, div(mul(s.clr, m), u)));
  },
});
