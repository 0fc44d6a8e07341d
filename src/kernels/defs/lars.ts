import { add, defineKernel, mul } from '../dsl.js';

/** optax's chain tail: decayed weights, the trust ratio, -lr and a trace (LARS; LAMB's last pass). */
export default defineKernel({
  name: 'lars',
  doc: {
    summary: 'LARS step after the norms: decayed weights, trust ratio, -lr and momentum trace; also LAMB\'s last pass (trust ratio and -lr).',
    rule: `g = grad;  g = g + weightDecay*p                       (weightDecay)
u = negLr * (g * trustRatio)
t = u + momentum*t;  u = nesterov ? u + momentum*t : t   (momentum)
p = p + u`,
    mirrors: 'optax.lars (optax/_src/alias.py): add_decayed_weights, scale_by_trust_ratio, scale_by_learning_rate, trace; ' +
      'the last two transformations of optax.lamb',
    notes: 'The host computes trustRatio from the norms of p and of g (the reductions sumSquares and sumSquaresDecayed; ' +
      '1 where the trust ratio is masked off or a norm is 0) and negLr = -lr. The trace holds optax\'s trace, ' +
      'lr included (so its sign is that of the step). LAMB passes its update u as grad, without weightDecay or momentum.',
  },
  arrays: {
    param: { access: 'readwrite', doc: 'parameters' },
    grad: { access: 'read', doc: 'gradients (LAMB: its update u)' },
    momentumBuffer: { access: 'readwrite', doc: 'the trace of past updates', when: 'momentum', state: 'signed' },
  },
  scalars: {
    weightDecay: 'coefficient of the decayed weights',
    trustRatio: 'the trust ratio of this tensor',
    negLr: '-lr',
    momentum: 'decay of the trace',
  },
  flags: {
    weightDecay: { doc: 'add weightDecay * p to the gradient (add_decayed_weights)' },
    momentum: { doc: 'keep a trace of past updates (optax.trace)' },
    nesterov: { doc: 'Nesterov momentum: u + momentum * t (needs momentum)' },
  },
  body({ param, grad, momentumBuffer }, s, f) {
    const p = param.load();
    let g = grad.load();
    if (f.weightDecay) g = add(g, mul(s.weightDecay, p));
    let u = mul(s.negLr, mul(g, s.trustRatio));
    if (f.momentum) {
      const t = add(u, mul(s.momentum, momentumBuffer.load()));
      momentumBuffer.store(t);
      u = f.nesterov ? add(u, mul(s.momentum, t)) : t;
    }
    param.store(add(p, u));
  },
});
