import { add, defineKernel, mul, sub } from '../dsl.js';

/** Muon's momentum: the buffer's lerp towards the gradient and the update Newton–Schulz orthogonalises. */
export const muonMomentum = defineKernel({
  name: 'muonMomentum',
  doc: {
    summary: "Muon's momentum buffer and update (before orthogonalisation).",
    rule: `buf = buf + weight * (grad - buf)                 (buf.lerp_(grad, 1 - momentum))
update = nesterov ? buf - (buf - grad) * weight : buf   (grad.lerp(buf, momentum))`,
    mirrors: 'torch.optim._muon._single_tensor_muon (PyTorch 2.9)',
    notes: '`weight` is `1 - momentum` (computed on the host). The two lerps are written as PyTorch\'s lerp kernel ' +
      'writes them for momentum > 0.5 (a small weight from the start, a large one from the end).',
  },
  arrays: {
    grad: { access: 'read', doc: 'gradients' },
    buf: { access: 'readwrite', doc: 'momentum buffer', state: 'signed' },
    update: { access: 'write', doc: 'the update to orthogonalise (scratch)' },
  },
  scalars: {
    weight: '1 - momentum',
  },
  flags: {
    nesterov: { doc: 'Nesterov momentum: the update looks ahead along the buffer' },
  },
  body({ grad, buf, update }, s, f) {
    const g = grad.load();
    const b0 = buf.load();
    const b = add(b0, mul(s.weight, sub(g, b0)));
    buf.store(b);
    update.store(f.nesterov ? sub(b, mul(sub(b, g), s.weight)) : b);
  },
});

/** Muon's parameter update: decoupled weight decay, then the orthogonalised update at the adjusted lr. */
export const muonApply = defineKernel({
  name: 'muonApply',
  doc: {
    summary: "Muon's parameter update: decoupled weight decay, then the orthogonalised update.",
    rule: `p = p * decay          (weightDecay; decay = 1 - lr * weightDecay)
p = p - adjustedLr * update`,
    mirrors: 'torch.optim._muon._single_tensor_muon (PyTorch 2.9): param.mul_(1 - lr * weight_decay); param.add_(update, alpha=-adjusted_lr)',
  },
  arrays: {
    param: { access: 'readwrite', doc: 'parameters' },
    update: { access: 'read', doc: 'the orthogonalised update' },
  },
  scalars: {
    decay: '1 - lr * weightDecay',
    adjustedLr: 'the learning rate after adjustLrFn',
  },
  flags: {
    weightDecay: { doc: 'decay the parameters first' },
  },
  body({ param, update }, s, f) {
    let p = param.load();
    if (f.weightDecay) p = mul(p, s.decay);
    param.store(sub(p, mul(s.adjustedLr, update.load())));
  },
});
