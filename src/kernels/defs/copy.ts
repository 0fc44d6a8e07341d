import { defineKernel } from '../dsl.js';

/** The streaming copy that defines the benchmarks' roofline. */
export default defineKernel({
  name: 'copy',
  doc: {
    summary: 'Copies n f32 elements from src to dst (the regions must not overlap).',
    rule: 'dst = src',
    mirrors: 'torch.Tensor.copy_; not an optimizer: the benchmarks\' roofline (one f32x4 load and one store per four elements)',
  },
  arrays: {
    dst: { access: 'write', doc: 'destination' },
    src: { access: 'read', doc: 'source' },
  },
  scalars: {},
  flags: {},
  body({ dst, src }) {
    dst.store(src.load());
  },
});
