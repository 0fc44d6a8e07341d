// Shared helpers of the SIMD kernels (the generated ones in assembly/generated/kernels.ts and the
// hand-written reductions in assembly/kernels/reduce.ts).
//
// Every kernel walks its arrays in whole f32x4 vectors and finishes a length that is
// not a multiple of four with one partial vector: the missing lanes are loaded as zero
// and never stored, so a tail element goes through exactly the same f32 operations as
// any other element (lanes are independent) and the arrays may have any length and any
// 4-byte-aligned offset. The arena pads every segment to whole vectors, so in practice
// the tail is empty.

/** Loads `lanes` (1..4) f32 values from `ptr`; the other lanes are zero. */
// @ts-ignore: decorator
@inline export function load(ptr: usize, lanes: i32): v128 {
  if (lanes == 4) return v128.load(ptr);
  let v = v128.load32_zero(ptr);
  if (lanes > 1) v = v128.load32_lane(ptr + 4, v, 1);
  if (lanes > 2) v = v128.load32_lane(ptr + 8, v, 2);
  return v;
}

/** Stores the first `lanes` (1..4) lanes of `v` at `ptr`, leaving the memory after them alone. */
// @ts-ignore: decorator
@inline export function store(ptr: usize, v: v128, lanes: i32): void {
  if (lanes == 4) {
    v128.store(ptr, v);
    return;
  }
  v128.store32_lane(ptr, v, 0);
  if (lanes > 1) v128.store32_lane(ptr + 4, v, 1);
  if (lanes > 2) v128.store32_lane(ptr + 8, v, 2);
}

/** Sign mask that negates a vector with `v128.xor` when `on` (exact, like unary minus). */
// @ts-ignore: decorator
@inline export function signMask(on: bool): v128 {
  return f32x4.splat(on ? -0.0 : 0.0);
}
