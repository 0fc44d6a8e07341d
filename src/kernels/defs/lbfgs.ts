import { add, defineKernel, mul, neg, sub } from '../dsl.js';

/** x += alpha * y: L-BFGS's two-loop recursion and its move along the search direction. */
export const axpy = defineKernel({
  name: 'axpy',
  doc: {
    summary: 'Adds alpha times y to x, in place (BLAS axpy).',
    rule: 'x = x + alpha * y',
    mirrors: 'torch.Tensor.add_(other, alpha=alpha), as torch.optim.LBFGS uses it: q.add_(old_dirs[i], alpha=-al[i]), ' +
      'r.add_(old_stps[i], alpha=al[i] - be_i) and p.add_(d, alpha=t) (torch/optim/lbfgs.py)',
    notes: 'alpha is computed on the host in float64 and rounded to float32. No fused multiply-add (PyTorch\'s vectorised CPU add_ may ' +
      'fuse: one rounding apart).',
  },
  arrays: {
    x: { access: 'readwrite', doc: 'the vector updated in place' },
    y: { access: 'read', doc: 'the vector added' },
  },
  scalars: {
    alpha: 'the multiplier of y',
  },
  flags: {},
  body({ x, y }, s) {
    x.store(add(x.load(), mul(s.alpha, y.load())));
  },
});

/** dst = -src: L-BFGS's steepest-descent direction and the start of its two-loop recursion. */
export const negate = defineKernel({
  name: 'negate',
  doc: {
    summary: 'Writes the negation of src to dst (the regions must not overlap).',
    rule: 'dst = -src',
    mirrors: 'torch.Tensor.neg, as torch.optim.LBFGS uses it: d = flat_grad.neg() and q = flat_grad.neg() (torch/optim/lbfgs.py)',
  },
  arrays: {
    dst: { access: 'write', doc: 'destination' },
    src: { access: 'read', doc: 'source' },
  },
  scalars: {},
  flags: {},
  body({ dst, src }) {
    dst.store(neg(src.load()));
  },
});

/** L-BFGS's curvature pair: the change of gradient and the step taken. */
export const lbfgsPair = defineKernel({
  name: 'lbfgsPair',
  doc: {
    summary: 'L-BFGS curvature pair: the gradient change y = g - prevGrad and the step s = d * t.',
    rule: `gradChange = grad - prevGrad        (y)
step = direction * t                (s)`,
    mirrors: 'torch.optim.LBFGS.step (torch/optim/lbfgs.py): y = flat_grad.sub(prev_flat_grad); s = d.mul(t)',
    notes: 't is the step length of the previous iteration, computed on the host in float64 and rounded to float32.',
  },
  arrays: {
    grad: { access: 'read', doc: 'the flat gradient g' },
    prevGrad: { access: 'read', doc: 'the flat gradient of the previous iteration' },
    direction: { access: 'read', doc: 'the previous search direction d' },
    gradChange: { access: 'write', doc: 'the gradient change y' },
    step: { access: 'write', doc: 'the step s' },
  },
  scalars: {
    t: 'the previous step length',
  },
  flags: {},
  body({ grad, prevGrad, direction, gradChange, step }, s) {
    gradChange.store(sub(grad.load(), prevGrad.load()));
    step.store(mul(direction.load(), s.t));
  },
});
