import { abs, add, defineKernel, div, max, min, mul, neg, negIf, sign, sub } from '../dsl.js';

/** Rprop (resilient backpropagation): per-element step sizes that grow while the gradient keeps its sign. */
export default defineKernel({
  name: 'rprop',
  doc: {
    summary: 'Rprop step: each element\'s step size grows by etaplus while its gradient keeps its sign and shrinks by etaminus when it flips; the parameter moves by the step size against the gradient\'s sign.',
    rule: `g = maximize ? -grad : grad
s = sign(g*prev)
factor = s > 0 ? etaplus : s < 0 ? etaminus : 1
step = min(max((first ? lr : step)*factor, stepSizeMin), stepSizeMax)
g = s < 0 ? 0 : g                                   (a flipped sign: no move, and prev = 0)
p -= sign(g)*step;  prev = g`,
    mirrors: 'torch.optim.rprop._single_tensor_rprop (PyTorch 1.13 to 2.x, the same arithmetic)',
    notes: 'Computed without branches on values, exactly: factor = max(s, 0)*etaplus + max(-s, 0)*etaminus + (1 - |s|) (one term ' +
      'is nonzero, the others +0); with r = 1/max(-s, 0) (+Inf, or 1 where the sign flipped), g = min(max(g, 1 - r), r - 1) is g ' +
      'itself or +0 (a product with 0 would turn an infinite g into NaN). sign is 0 for zeros and NaN, as torch.sign computes; ' +
      'clamping propagates NaN, as torch.clamp does. The first step starts from lr (first), as PyTorch fills step_size with lr ' +
      'when it creates the state; prev is 0 then, so factor = 1.',
  },
  arrays: {
    param: { access: 'readwrite', doc: 'parameters' },
    grad: { access: 'read', doc: 'gradients' },
    prev: { access: 'readwrite', doc: 'the previous step\'s gradient (0 where its sign flipped)' },
    stepSize: { access: 'readwrite', doc: 'per-element step sizes' },
  },
  scalars: {
    lr: 'the step size every element starts from (first step)',
    etaminus: 'multiplicative decrease of the step size when the gradient\'s sign flips',
    etaplus: 'multiplicative increase of the step size while the gradient keeps its sign',
    stepSizeMin: 'smallest step size',
    stepSizeMax: 'largest step size',
  },
  flags: {
    maximize: { doc: 'ascend: negate the gradient', runtime: true },
    first: { doc: 'the first step: step sizes start from lr (the stored ones are not read)' },
  },
  body({ param, grad, prev, stepSize }, sc, f) {
    const p = param.load();
    const g = negIf(f.maximize, grad.load());
    const s = sign(mul(g, prev.load()));
    const flipped = max(neg(s), 0);
    const factor = add(add(mul(max(s, 0), sc.etaplus), mul(flipped, sc.etaminus)), sub(1, abs(s)));
    const step = min(max(mul(f.first ? sc.lr : stepSize.load(), factor), sc.stepSizeMin), sc.stepSizeMax);
    const r = div(1, flipped);
    const kept = min(max(g, sub(1, r)), sub(r, 1));
    stepSize.store(step);
    param.store(sub(p, mul(sign(kept), step)));
    prev.store(kept);
  },
});
