import { defineKernel, mul } from '../dsl.js';

/** In-place scaling by a scalar. */
export default defineKernel({
  name: 'scale',
  doc: {
    summary: 'Multiplies n f32 elements by factor, in place.',
    rule: 'x = x * factor',
    mirrors: 'torch.Tensor.mul_ by a scalar: scales gradients (clip_grad_norm_), and is the benchmarks\' in-place streaming bandwidth reference',
  },
  arrays: {
    x: { access: 'readwrite', doc: 'values, scaled in place' },
  },
  scalars: {
    factor: 'multiplier',
  },
  flags: {},
  body({ x }, s) {
    x.store(mul(x.load(), s.factor));
  },
});
