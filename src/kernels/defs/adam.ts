import { add, defineKernel, div, max, mul, negIf, sign, sqrt, sub } from '../dsl.js';

/** The Adam family in one kernel, variants as flags: Adam, AdamW, NAdam, RAdam. */
export default defineKernel({
  name: 'adam',
  doc: {
    summary: 'Adam-family step: Adam and AdamW, NAdam (nesterov) and RAdam (rectified, plain), AMSGrad as a flag.',
    rule: `g = maximize ? -grad : grad;  g += weightDecay * p   (weightDecay: L2)
p *= decay                                          (decoupled: decay = 1 - lr*wd)
m = beta1*m + oneMinusBeta1*g;  v = beta2*v + (oneMinusBeta2*g)*g
plain:     p -= stepSize*m                          (RAdam before rectification)
otherwise: vhat = amsgrad ? (vmax = max(vmax, v)) : v
           u = stepSize*m, or gradCoef*g + expAvgCoef*m     (nesterov: NAdam)
           p -= u / (sqrt(vhat)*invBiasCorrection2Sqrt + eps)
           p -= u / (sqrt(vhat) + eps)                       (rectified: RAdam)
cautious:  u (any variant's) is not applied: p (decayed) is stored, and masked = u*(u*g > 0 ? 1 : 0)`,
    mirrors: 'torch.optim.adam._single_tensor_adam and adamw (PyTorch 1.13); torch.optim.nadam and torch.optim.radam (PyTorch 2.x)',
    notes: 'The host supplies the step\'s scalars: Adam stepSize = lr/(1 - beta1^t) and invBiasCorrection2Sqrt = ' +
      '1/sqrt(1 - beta2^t); NAdam gradCoef = lr(1 - mu_t)/(1 - muProduct) and expAvgCoef = lr mu_{t+1}/(1 - muProduct mu_{t+1}); ' +
      'RAdam stepSize = lr rect sqrt(1 - beta2^t)/(1 - beta1^t) (rectified) or lr/(1 - beta1^t) (plain). ' +
      'Where this differs from PyTorch\'s order of operations, to divide once per element (a step is bound by the divider, ' +
      'not by memory): it multiplies sqrt(v) by 1/sqrt(1 - beta2^t) where PyTorch divides; NAdam divides the sum of its two ' +
      'terms once where PyTorch divides each; RAdam folds its scalar factors into stepSize. Results move by a few ulps, far ' +
      'inside the PyTorch reference tolerance. weightDecay and decoupled together apply both. plain overrides rectified, ' +
      'nesterov and amsgrad; rectified overrides nesterov. cautious is the first ' +
      'pass of a cautious step (Liang et al., 2024, github.com/kyleliang919/C-Optim): ' +
      'the host counts the elements of masked that are neither zero nor NaN (countNonzero: those where u*g > 0), and applies ' +
      'p -= masked * f32(1/max(count/numel, 1e-3)) with muonApply.',
  },
  arrays: {
    param: { access: 'readwrite', doc: 'parameters' },
    grad: { access: 'read', doc: 'gradients' },
    expAvg: { access: 'readwrite', doc: 'first moment m', state: 'signed' },
    expAvgSq: { access: 'readwrite', doc: 'second moment v', state: 'unsigned' },
    maxExpAvgSq: { access: 'readwrite', doc: 'running maximum of v (AMSGrad)', when: 'amsgrad', state: 'unsigned' },
    masked: { access: 'write', doc: 'the update u where u*g > 0, else u*0 (cautious)', when: 'cautious' },
  },
  scalars: {
    beta1: 'decay of the first moment',
    oneMinusBeta1: '1 - beta1',
    beta2: 'decay of the second moment',
    oneMinusBeta2: '1 - beta2',
    stepSize: 'coefficient of m: lr/(1 - beta1^t) (Adam), RAdam\'s folded step size',
    invBiasCorrection2Sqrt: '1/sqrt(1 - beta2^t)',
    eps: 'added to the denominator',
    weightDecay: 'L2 penalty',
    decay: 'decoupled decay factor 1 - lr*weightDecay',
    gradCoef: 'NAdam\'s coefficient of g: lr(1 - mu_t)/(1 - muProduct)',
    expAvgCoef: 'NAdam\'s coefficient of m: lr mu_{t+1}/(1 - muProduct mu_{t+1})',
  },
  flags: {
    maximize: { doc: 'ascend: negate the gradient', runtime: true },
    weightDecay: { doc: 'add weightDecay * p to the gradient (L2, Adam)' },
    decoupled: { doc: 'multiply p by decay before the update (decoupled, AdamW)' },
    amsgrad: { doc: 'divide by the running maximum of v (AMSGrad)' },
    nesterov: { doc: 'NAdam: u = gradCoef*g + expAvgCoef*m' },
    rectified: { doc: 'RAdam\'s rectified steps: the denominator is sqrt(vhat) + eps' },
    plain: { doc: 'RAdam\'s steps before rectification: p -= stepSize*m' },
    cautious: { doc: 'store the masked update instead of applying it (the first pass of a cautious step)' },
  },
  body({ param, grad, expAvg, expAvgSq, maxExpAvgSq, masked }, s, f) {
    let p = param.load();
    let g = negIf(f.maximize, grad.load());
    if (f.weightDecay) g = add(g, mul(s.weightDecay, p));
    if (f.decoupled) p = mul(p, s.decay);
    const m = add(mul(s.beta1, expAvg.load()), mul(s.oneMinusBeta1, g));
    const v = add(mul(s.beta2, expAvgSq.load()), mul(mul(s.oneMinusBeta2, g), g));
    expAvg.store(m);
    expAvgSq.store(v);
    const nesterov = f.nesterov && !f.rectified && !f.plain;
    let update = mul(nesterov ? s.expAvgCoef : s.stepSize, m);
    if (!f.plain) {
      let vhat = v;
      if (f.amsgrad) {
        vhat = max(maxExpAvgSq.load(), v);
        maxExpAvgSq.store(vhat);
      }
      if (nesterov) update = add(mul(s.gradCoef, g), update);
      const root = sqrt(vhat);
      update = div(update, add(f.rectified ? root : mul(root, s.invBiasCorrection2Sqrt), s.eps));
    }
    if (f.cautious) {
      param.store(p);
      masked.store(mul(update, max(sign(mul(update, g)), 0)));
    } else {
      param.store(sub(p, update));
    }
  },
});
