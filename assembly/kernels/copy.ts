// JS twin: src/kernels/copy.ts. Not an optimizer: the streaming copy that defines the
// benchmarks' roofline (one f32x4 load and one store per four elements).

/** Copies `n` f32 elements from byte offset `src` to byte offset `dst` (regions must not overlap). */
export function copy(dst: usize, src: usize, n: i32): void {
  const end = src + (<usize>(n & ~3) << 2);
  while (src < end) {
    v128.store(dst, v128.load(src));
    src += 16; dst += 16;
  }
  for (let lanes = n & 3; lanes > 0; lanes--) {
    store<f32>(dst, load<f32>(src));
    src += 4; dst += 4;
  }
}
