import { add, defineKernel, mul, negIf, sub } from '../dsl.js';

/** SGD with momentum, dampening, Nesterov momentum and L2 weight decay. */
export default defineKernel({
  name: 'sgd',
  doc: {
    summary: 'SGD step, with optional L2 weight decay, momentum (dampened) and Nesterov momentum.',
    rule: `g = maximize ? -grad : grad;  g += weightDecay * p        (weightDecay)
buf = firstStep ? g : momentum * buf + dampeningComplement * g  (momentum)
g = nesterov ? g + momentum * buf : buf                    (momentum)
p -= lr * g`,
    mirrors: 'torch.optim.sgd._single_tensor_sgd (PyTorch 1.13)',
    notes: '`dampeningComplement` is `1 - dampening` (computed on the host). `firstStep` is PyTorch\'s `buf is None` branch: ' +
      'the buffer starts as a copy of g.',
  },
  arrays: {
    param: { access: 'readwrite', doc: 'parameters' },
    grad: { access: 'read', doc: 'gradients' },
    momentumBuffer: { access: 'readwrite', doc: 'momentum buffer', when: 'momentum', state: 'signed' },
  },
  scalars: {
    lr: 'learning rate',
    weightDecay: 'L2 penalty',
    momentum: 'momentum factor',
    dampeningComplement: '1 - dampening',
  },
  flags: {
    maximize: { doc: 'ascend: negate the gradient', runtime: true },
    weightDecay: { doc: 'add weightDecay * p to the gradient (L2)' },
    momentum: { doc: 'keep a momentum buffer' },
    nesterov: { doc: 'Nesterov momentum (needs momentum)' },
    firstStep: { doc: 'the buffer has not been written yet: it starts as g (needs momentum)' },
  },
  body({ param, grad, momentumBuffer }, s, f) {
    const p = param.load();
    let g = negIf(f.maximize, grad.load());
    if (f.weightDecay) g = add(g, mul(s.weightDecay, p));
    if (f.momentum) {
      const b = f.firstStep ? g : add(mul(s.momentum, momentumBuffer.load()), mul(s.dampeningComplement, g));
      momentumBuffer.store(b);
      g = f.nesterov ? add(g, mul(s.momentum, b)) : b;
    }
    param.store(sub(p, mul(s.lr, g)));
  },
});
