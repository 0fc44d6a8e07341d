import { add, defineKernel, div, mul, sqrt } from '../dsl.js';

/** Prodigy's first pass: the moments and the sum s, with the step size d of the previous step. */
export const prodigy = defineKernel({
  name: 'prodigy',
  doc: {
    summary: 'Prodigy, first pass: the Adam moments scaled by d and the running sum s behind the step-size estimate.',
    rule: `g = grad;  g = g + weightDecay*p                       (weightDecay: coupled decay)
m = m*beta1 + g*expAvgWeight                             (firstMoment)
v = v*beta2 + (expAvgSqWeight*g)*g
gradSum = gradSum*beta3 + g*sWeight                      (the reference's s)`,
    mirrors: 'prodigyopt.Prodigy.step (github.com/konstmish/prodigy, prodigyopt/prodigy.py), its first loop over the parameters',
    notes: 'The host supplies expAvgWeight = d(1 - beta1), expAvgSqWeight = d^2(1 - beta2) and sWeight = (d/d0) dlr ' +
      '(or (d/d0) d with safeguardWarmup), d of the previous step. The sums over all parameters (the reductions ' +
      'dotDecayedDelta and sumAbs) follow, then the prodigyApply kernel.',
  },
  arrays: {
    param: { access: 'read', doc: 'parameters', when: 'weightDecay' },
    grad: { access: 'read', doc: 'gradients' },
    expAvg: { access: 'readwrite', doc: 'first moment m', when: 'firstMoment' },
    expAvgSq: { access: 'readwrite', doc: 'second moment v' },
    gradSum: { access: 'readwrite', doc: 'Prodigy\'s s: the weighted running sum of gradients behind the step-size estimate' },
  },
  scalars: {
    weightDecay: 'L2 penalty (coupled decay)',
    beta1: 'decay of the first moment',
    expAvgWeight: 'd(1 - beta1)',
    beta2: 'decay of the second moment',
    expAvgSqWeight: 'd^2(1 - beta2)',
    beta3: 'decay of s',
    sWeight: '(d/d0) dlr, or (d/d0) d with safeguardWarmup',
  },
  flags: {
    weightDecay: { doc: 'add weightDecay * p to the gradient (coupled decay)' },
    firstMoment: { doc: 'keep the first moment (beta1 > 0)' },
  },
  body({ param, grad, expAvg, expAvgSq, gradSum }, k, f) {
    let g = grad.load();
    if (f.weightDecay) g = add(g, mul(k.weightDecay, param.load()));
    if (f.firstMoment) expAvg.store(add(mul(expAvg.load(), k.beta1), mul(g, k.expAvgWeight)));
    expAvgSq.store(add(mul(expAvgSq.load(), k.beta2), mul(mul(k.expAvgSqWeight, g), g)));
    gradSum.store(add(mul(gradSum.load(), k.beta3), mul(g, k.sWeight)));
  },
});

/** Prodigy's parameter update, with the new step size d. */
export const prodigyApply = defineKernel({
  name: 'prodigyApply',
  doc: {
    summary: 'Prodigy, last pass: decoupled decay and the Adam-like update at the step size of this step.',
    rule: `denom = sqrt(v) + dEps
u = direction;  u = u + weightDecay*p                  (weightDecay: coupled decay, without first moment)
p = p + decay*p                                        (decoupled)
p = p + stepSize*(u / denom)`,
    mirrors: 'prodigyopt.Prodigy.step (github.com/konstmish/prodigy, prodigyopt/prodigy.py), its second loop over the parameters',
    notes: 'direction is the first moment m, or the gradient where beta1 = 0. The host supplies dEps = d eps with the ' +
      'new d, decay = -weightDecay dlr, and stepSize = -dlr (or -dlr d where beta1 = 0), dlr from the previous d.',
  },
  arrays: {
    param: { access: 'readwrite', doc: 'parameters' },
    direction: { access: 'read', doc: 'first moment m, or the gradient (beta1 = 0)' },
    expAvgSq: { access: 'read', doc: 'second moment v' },
  },
  scalars: {
    weightDecay: 'L2 penalty (coupled decay, beta1 = 0)',
    decay: '-weightDecay dlr (decoupled decay)',
    dEps: 'd eps',
    stepSize: '-dlr, or -dlr d (beta1 = 0)',
  },
  flags: {
    weightDecay: { doc: 'add weightDecay * p to the direction (coupled decay where it is the gradient)' },
    decoupled: { doc: 'decay the parameters first: p + decay*p' },
  },
  body({ param, direction, expAvgSq }, k, f) {
    let p = param.load();
    const denom = add(sqrt(expAvgSq.load()), k.dEps);
    let u = direction.load();
    if (f.weightDecay) u = add(u, mul(k.weightDecay, p));
    if (f.decoupled) p = add(p, mul(k.decay, p));
    param.store(add(p, mul(k.stepSize, div(u, denom))));
  },
});
