import { defineKernel, max, min } from '../dsl.js';

/** Element-wise clamp, for gradient clipping by value. */
export default defineKernel({
  name: 'clamp',
  doc: {
    summary: 'Clamps n f32 elements into [lo, hi], in place (NaN stays NaN).',
    rule: 'x = min(max(x, lo), hi)',
    mirrors: 'torch.nn.utils.clip_grad_value_ (torch.clamp_)',
  },
  arrays: {
    x: { access: 'readwrite', doc: 'values, clamped in place' },
  },
  scalars: {
    lo: 'lower bound',
    hi: 'upper bound',
  },
  flags: {},
  body({ x }, s) {
    x.store(min(max(x.load(), s.lo), s.hi));
  },
});
