import { add, defineKernel, div, mul, sqrt } from '../dsl.js';

/** LAMB's first pass: Adam's moments and the update before the trust ratio. */
export default defineKernel({
  name: 'lamb',
  doc: {
    summary: 'LAMB, first pass: Adam\'s moments and the update u (bias-corrected Adam direction plus decayed weights) before the trust ratio.',
    rule: `m = oneMinusBeta1*g + beta1*m;  v = oneMinusBeta2*(g*g) + beta2*v
u = (m / biasCorrection1) / (sqrt(v / biasCorrection2 + epsRoot) + eps)
u = u + weightDecay*p                                   (weightDecay)`,
    mirrors: 'optax.lamb (optax/_src/alias.py): transform.scale_by_adam then transform.add_decayed_weights',
    notes: 'The host supplies biasCorrection1 = 1 - beta1^t and biasCorrection2 = 1 - beta2^t. u goes to a scratch ' +
      'array; the host takes the norms of p and u (sumSquares) and finishes with the lars kernel (trust ratio, -lr).',
  },
  arrays: {
    param: { access: 'read', doc: 'parameters', when: 'weightDecay' },
    grad: { access: 'read', doc: 'gradients' },
    expAvg: { access: 'readwrite', doc: 'first moment m', state: 'signed' },
    expAvgSq: { access: 'readwrite', doc: 'second moment v', state: 'unsigned' },
    update: { access: 'write', doc: 'the update u before the trust ratio (scratch)' },
  },
  scalars: {
    beta1: 'decay of the first moment',
    oneMinusBeta1: '1 - beta1',
    beta2: 'decay of the second moment',
    oneMinusBeta2: '1 - beta2',
    biasCorrection1: '1 - beta1^t',
    biasCorrection2: '1 - beta2^t',
    epsRoot: 'added to v inside the square root',
    eps: 'added to the denominator',
    weightDecay: 'coefficient of the decayed weights',
  },
  flags: {
    weightDecay: { doc: 'add weightDecay * p to the update (add_decayed_weights)' },
  },
  body({ param, grad, expAvg, expAvgSq, update }, s, f) {
    const g = grad.load();
    const m = add(mul(s.oneMinusBeta1, g), mul(s.beta1, expAvg.load()));
    const v = add(mul(s.oneMinusBeta2, mul(g, g)), mul(s.beta2, expAvgSq.load()));
    expAvg.store(m);
    expAvgSq.store(v);
    let u = div(div(m, s.biasCorrection1), add(sqrt(add(div(v, s.biasCorrection2), s.epsRoot)), s.eps));
    if (f.weightDecay) u = add(u, mul(s.weightDecay, param.load()));
    update.store(u);
  },
});
