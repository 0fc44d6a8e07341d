import { defineKernel } from '../dsl.js';

/** Exchanges two arrays: puts an averaged model in the parameters' place and back. */
export default defineKernel({
  name: 'swap',
  doc: {
    summary: 'Exchanges the contents of x and y (the regions must not overlap).',
    rule: 'x, y = y, x',
    mirrors: 'torch.Tensor.copy_ both ways through a temporary; not in PyTorch\'s swa_utils: swaps an averaged model in for evaluation and back (exact)',
  },
  arrays: {
    x: { access: 'readwrite', doc: 'first array' },
    y: { access: 'readwrite', doc: 'second array' },
  },
  scalars: {},
  flags: {},
  body({ x, y }) {
    const u = x.load();
    const v = y.load();
    x.store(v);
    y.store(u);
  },
});
