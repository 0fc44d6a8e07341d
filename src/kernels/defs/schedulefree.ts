import { add, defineKernel, div, mul, sqrt, sub } from '../dsl.js';

/** Schedule-Free SGD and AdamW (Defazio et al., 2024): one step of the y and z sequences. */
export default defineKernel({
  name: 'scheduleFree',
  doc: {
    summary: 'Schedule-Free step (SGD, or AdamW with `adam`): the gradient (normalised by the second moment), decay at y, then y and z.',
    rule: `gn = grad                                                   (SGD)
v = v*beta2 + (oneMinusBeta2*grad)*grad                     (adam)
denom = sqrt(v / biasCorrection2) + eps                     (adam)
m = m*innerMomentum + oneMinusInnerMomentum*grad            (adam, innerMomentum)
gn = innerMomentum ? (m / biasCorrection1) / denom : grad / denom   (adam)
gn = gn + weightDecay*y                                     (weightDecay)
y = largeWeight ? z - (z - y)*complement : y + ckp1*(z - y) (y.lerp_(z, ckp1))
y = y + yCoef*gn                                            (yCoef = lr*(beta1*(1 - ckp1) - 1))
z = z - lr*gn`,
    mirrors: 'schedulefree.SGDScheduleFree.step and schedulefree.AdamWScheduleFree.step (github.com/facebookresearch/schedule_free, ' +
      'schedulefree/sgd_schedulefree.py and adamw_schedulefree.py, the per-tensor path)',
    notes: 'The host computes biasCorrection2 = 1 - beta2^(k+1), biasCorrection1 = 1 - innerMomentum^(k+1), ckp1 = weight/weight_sum, ' +
      'complement = 1 - ckp1 (in float32, as torch.lerp) and yCoef in float64, each rounded to float32; largeWeight is ckp1 >= 0.5 ' +
      '(torch.lerp\'s switch to the formula from the end). The reference divides the gradient in place (p.grad holds the normalised ' +
      'gradient afterwards); here the gradient is only read. No fused multiply-add (PyTorch\'s vectorised lerp may fuse).',
  },
  arrays: {
    param: { access: 'readwrite', doc: 'the parameters: the point y gradients are taken at' },
    grad: { access: 'read', doc: 'gradients' },
    z: { access: 'readwrite', doc: 'the base sequence z' },
    expAvgSq: { access: 'readwrite', doc: 'second moment v', when: 'adam' },
    expAvg: { access: 'readwrite', doc: 'inner momentum m', when: 'innerMomentum' },
  },
  scalars: {
    beta2: 'decay of the second moment',
    oneMinusBeta2: '1 - beta2',
    biasCorrection2: '1 - beta2^(k+1)',
    eps: 'added to the root of the second moment',
    innerMomentum: 'decay of the inner momentum',
    oneMinusInnerMomentum: '1 - innerMomentum',
    biasCorrection1: '1 - innerMomentum^(k+1)',
    weightDecay: 'decay, taken at y',
    ckp1: 'the weight of z in the average, weight / weight_sum',
    complement: '1 - ckp1',
    yCoef: 'lr*(beta1*(1 - ckp1) - 1): the gradient\'s coefficient in the y update',
    lr: 'the (warmed-up) learning rate of the z step',
  },
  flags: {
    adam: { doc: 'AdamW: normalise the gradient by the second moment' },
    innerMomentum: { doc: 'average the gradient with inner momentum first (needs adam)' },
    weightDecay: { doc: 'add weightDecay * y to the normalised gradient' },
    largeWeight: { doc: 'ckp1 >= 0.5: PyTorch\'s lerp computed from the end' },
  },
  body({ param, grad, z, expAvgSq, expAvg }, s, f) {
    const y = param.load();
    const g = grad.load();
    let gn = g;
    if (f.adam) {
      const v = add(mul(expAvgSq.load(), s.beta2), mul(mul(s.oneMinusBeta2, g), g));
      expAvgSq.store(v);
      const denom = add(sqrt(div(v, s.biasCorrection2)), s.eps);
      if (f.innerMomentum) {
        const m = add(mul(expAvg.load(), s.innerMomentum), mul(s.oneMinusInnerMomentum, g));
        expAvg.store(m);
        gn = div(div(m, s.biasCorrection1), denom);
      } else {
        gn = div(g, denom);
      }
    }
    if (f.weightDecay) gn = add(gn, mul(s.weightDecay, y));
    const z0 = z.load();
    const lerped = f.largeWeight ? sub(z0, mul(sub(z0, y), s.complement)) : add(y, mul(s.ckp1, sub(z0, y)));
    param.store(add(lerped, mul(s.yCoef, gn)));
    z.store(sub(z0, mul(s.lr, gn)));
  },
});
