// JS twin of assembly/kernels/copy.ts.

/** Copies `n` float32 elements of `heap` from byte offset `src` to byte offset `dst`. */
export function copy(heap: Float32Array, dst: number, src: number, n: number): void {
  heap.copyWithin(dst >>> 2, src >>> 2, (src >>> 2) + n);
}
