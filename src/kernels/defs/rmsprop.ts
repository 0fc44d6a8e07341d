import { add, defineKernel, div, mul, negIf, sqrt, sub, type Val } from '../dsl.js';

/** RMSprop, optionally centered, with optional momentum. */
export default defineKernel({
  name: 'rmsprop',
  doc: {
    summary: 'RMSprop step, optionally centered, with optional momentum.',
    rule: `g = maximize ? -grad : grad;  g += weightDecay * p     (weightDecay)
sq = alpha*sq + (oneMinusAlpha*g)*g
avg = sqrt(sq - ga*ga) + eps, ga = alpha*ga + oneMinusAlpha*g   (centered)
avg = sqrt(sq) + eps                                             (otherwise)
buf = momentum*buf + g/avg;  p -= lr*buf                         (momentum)
p -= (lr*g) / avg                                                (otherwise)`,
    mirrors: 'torch.optim.rmsprop._single_tensor_rmsprop (PyTorch 1.13)',
  },
  arrays: {
    param: { access: 'readwrite', doc: 'parameters' },
    grad: { access: 'read', doc: 'gradients' },
    squareAvg: { access: 'readwrite', doc: 'average of squared gradients', state: 'unsigned' },
    gradAvg: { access: 'readwrite', doc: 'average of gradients', when: 'centered', state: 'signed' },
    momentumBuffer: { access: 'readwrite', doc: 'momentum buffer', when: 'momentum', state: 'signed' },
  },
  scalars: {
    lr: 'learning rate',
    alpha: 'smoothing constant',
    oneMinusAlpha: '1 - alpha',
    eps: 'added to the denominator',
    weightDecay: 'L2 penalty',
    momentum: 'momentum factor',
  },
  flags: {
    maximize: { doc: 'ascend: negate the gradient', runtime: true },
    weightDecay: { doc: 'add weightDecay * p to the gradient (L2)' },
    centered: { doc: 'normalise by the estimated variance (keeps gradAvg)' },
    momentum: { doc: 'keep a momentum buffer' },
  },
  body({ param, grad, squareAvg, gradAvg, momentumBuffer }, s, f) {
    const p = param.load();
    let g = negIf(f.maximize, grad.load());
    if (f.weightDecay) g = add(g, mul(s.weightDecay, p));
    const sq = add(mul(s.alpha, squareAvg.load()), mul(mul(s.oneMinusAlpha, g), g));
    squareAvg.store(sq);
    let avg: Val;
    if (f.centered) {
      const ga = add(mul(s.alpha, gradAvg.load()), mul(s.oneMinusAlpha, g));
      gradAvg.store(ga);
      avg = sqrt(sub(sq, mul(ga, ga)));
    } else {
      avg = sqrt(sq);
    }
    avg = add(avg, s.eps);
    if (f.momentum) {
      const b = add(mul(s.momentum, momentumBuffer.load()), div(g, avg));
      momentumBuffer.store(b);
      param.store(sub(p, mul(s.lr, b)));
    } else {
      param.store(sub(p, div(mul(s.lr, g), avg)));
    }
  },
});
