import { add, defineKernel, div, max, min, mul, negIf, sqrt, sub } from '../dsl.js';

/** ADOPT (Taniguchi et al., 2024): the gradient normalised by the previous second moment, then clipped and averaged. */
export default defineKernel({
  name: 'adopt',
  doc: {
    summary: 'ADOPT step: normalise the gradient by the second moment of the steps before, clip it, average it; the second moment updates last.',
    rule: `g = maximize ? -grad : grad;  g += weightDecay * p   (weightDecay: L2)
first:  v = v + g*g; p, m stored back unchanged       (the first step only initialises v)
else:   p *= decay                                   (decoupled: decay = 1 - lr*wd)
        ng = g / max(sqrt(v), eps)
        ng = min(max(ng, negClip), clip)             (clip)
        m = m + oneMinusBeta1*(ng - m)               (torch.lerp)
        p -= lr*m
        v = beta2*v + (oneMinusBeta2*g)*g`,
    mirrors: 'adopt.ADOPT / _single_tensor_adopt of the authors\' reference implementation (github.com/iShohei220/adopt, adopt.py, with the clipping added in Nov. 2024)',
    notes: 'The host supplies clip = (t - 1)^0.25 (the reference\'s default clip_lambda(step) = step**0.25 of the steps before) as sqrt(sqrt(t - 1)), ' +
      'exact in every engine, and negClip = -clip. The reference decays decoupled weights as p + (-lr*wd)*p; this multiplies by 1 - lr*wd, as AdamW ' +
      'does here (a few ulps apart). lerp is computed as m + w*(ng - m) for every weight (PyTorch switches to end - (end - start)*(1 - w) for w >= 0.5).',
  },
  arrays: {
    param: { access: 'readwrite', doc: 'parameters' },
    grad: { access: 'read', doc: 'gradients' },
    expAvg: { access: 'readwrite', doc: 'first moment m (of normalised gradients)', state: 'signed' },
    expAvgSq: { access: 'readwrite', doc: 'second moment v', state: 'unsigned' },
  },
  scalars: {
    lr: 'learning rate',
    oneMinusBeta1: '1 - beta1 (the lerp weight)',
    beta2: 'decay of the second moment',
    oneMinusBeta2: '1 - beta2',
    eps: 'lower bound of sqrt(v)',
    clip: 'clipping bound (t - 1)^0.25',
    negClip: '-clip',
    weightDecay: 'L2 penalty',
    decay: 'decoupled decay factor 1 - lr*weightDecay',
  },
  flags: {
    maximize: { doc: 'ascend: negate the gradient', runtime: true },
    weightDecay: { doc: 'add weightDecay * p to the gradient (L2)' },
    decoupled: { doc: 'multiply p by decay before the update (decoupled)' },
    clip: { doc: 'clip the normalised gradient to [negClip, clip]' },
    first: { doc: 'the first step: only v = v + g*g' },
  },
  body({ param, grad, expAvg, expAvgSq }, s, f) {
    let p = param.load();
    let g = negIf(f.maximize, grad.load());
    if (f.weightDecay) g = add(g, mul(s.weightDecay, p));
    const v = expAvgSq.load();
    if (f.first) {
      expAvgSq.store(add(v, mul(g, g)));
      // p and m are unchanged: stored back as loaded (every array is touched by every
      // specialisation but flag-gated ones; one step in a run pays this).
      expAvg.store(expAvg.load());
      param.store(p);
      return;
    }
    if (f.decoupled) p = mul(p, s.decay);
    let ng = div(g, max(sqrt(v), s.eps));
    if (f.clip) ng = min(max(ng, s.negClip), s.clip);
    const m0 = expAvg.load();
    const m = add(m0, mul(s.oneMinusBeta1, sub(ng, m0)));
    expAvg.store(m);
    param.store(sub(p, mul(s.lr, m)));
    expAvgSq.store(add(mul(s.beta2, v), mul(mul(s.oneMinusBeta2, g), g)));
  },
});
