import { add, defineKernel, div, mul, negIf, sqrt, sub } from '../dsl.js';

/** Adadelta. */
export default defineKernel({
  name: 'adadelta',
  doc: {
    summary: 'Adadelta step.',
    rule: `g = maximize ? -grad : grad;  g += weightDecay * p     (weightDecay)
sq = rho*sq + (oneMinusRho*g)*g
delta = (sqrt(acc + eps) / sqrt(sq + eps)) * g
acc = rho*acc + (oneMinusRho*delta)*delta;   p -= lr*delta`,
    mirrors: 'torch.optim.adadelta._single_tensor_adadelta (PyTorch 1.13)',
  },
  arrays: {
    param: { access: 'readwrite', doc: 'parameters' },
    grad: { access: 'read', doc: 'gradients' },
    squareAvg: { access: 'readwrite', doc: 'average of squared gradients', state: 'unsigned' },
    accDelta: { access: 'readwrite', doc: 'average of squared updates', state: 'unsigned' },
  },
  scalars: {
    lr: 'scale of the update',
    rho: 'decay of the averages',
    oneMinusRho: '1 - rho',
    eps: 'added inside both square roots',
    weightDecay: 'L2 penalty',
  },
  flags: {
    maximize: { doc: 'ascend: negate the gradient', runtime: true },
    weightDecay: { doc: 'add weightDecay * p to the gradient (L2)' },
  },
  body({ param, grad, squareAvg, accDelta }, s, f) {
    const p = param.load();
    let g = negIf(f.maximize, grad.load());
    if (f.weightDecay) g = add(g, mul(s.weightDecay, p));
    const sq = add(mul(s.rho, squareAvg.load()), mul(mul(s.oneMinusRho, g), g));
    squareAvg.store(sq);
    const std = sqrt(add(sq, s.eps));
    const acc = accDelta.load();
    const delta = mul(div(sqrt(add(acc, s.eps)), std), g);
    accDelta.store(add(mul(s.rho, acc), mul(mul(s.oneMinusRho, delta), delta)));
    param.store(sub(p, mul(s.lr, delta)));
  },
});
