// Low-precision state in the SIMD kernels: loads and stores of bfloat16 and blockwise int8
// state arrays, four lanes at a time. The twin is src/kernels/lowp.ts, which documents the
// formats; every function here performs that file's integer and float32 operations lane by
// lane, so both give the same bits (test/lowp.test.ts). The generated kernels
// (assembly/generated/kernels.ts) call these for their state arrays; the constants come from
// src/kernels/lowp.ts through assembly/generated/lowp-config.ts.
import { INT8_SHIFT, MANTISSA_BITS } from "./generated/lowp-config";

const HALF: i32 = 1 << (INT8_SHIFT - 1);
const TOP_MAX: i32 = (255 << MANTISSA_BITS) - 1;
/** The map position's shift within the upper 16 bits of a float32. */
const SHIFT16: i32 = INT8_SHIFT - 16;

/** hash32 (lowbias32) of each lane: src/kernels/lowp.ts hash32. */
// @ts-ignore: decorator
@inline export function hash32x4(x: v128): v128 {
  x = v128.xor(x, i32x4.shr_u(x, 16));
  x = i32x4.mul(x, i32x4.splat(0x21f0aaad));
  x = v128.xor(x, i32x4.shr_u(x, 15));
  x = i32x4.mul(x, i32x4.splat(0x735a2d97));
  return v128.xor(x, i32x4.shr_u(x, 15));
}

/** hash32 of one value (the per-call stream keys). */
export function hash32(x: u32): u32 {
  x ^= x >>> 16;
  x *= 0x21f0aaad;
  x ^= x >>> 15;
  x *= 0x735a2d97;
  return x ^ (x >>> 15);
}

// ---- bfloat16: whole blocks, between the state and a float32 scratch -----------------------------

/** Rounds four float32 lanes to bfloat16 (in their upper halves), to nearest or stochastically with `add`. */
// @ts-ignore: decorator
@inline function roundBf16(x: v128, add: v128): v128 {
  return v128.bitselect(v128.or(x, i32x4.splat(0x00400000)), i32x4.add(x, add), f32x4.ne(x, x));
}

/** The rounding increment of round-to-nearest-even: 0x7fff plus the lowest kept bit. */
// @ts-ignore: decorator
@inline function nearestAdd(x: v128): v128 {
  return i32x4.add(i32x4.splat(0x7fff), v128.and(i32x4.shr_u(x, 16), i32x4.splat(1)));
}

/** The stochastic rounding increment of elements index..index+3 of a stream: the top 16 bits of their hashes. */
// @ts-ignore: decorator
@inline function stochasticAdd(streamKey: v128, index: i32): v128 {
  return i32x4.shr_u(hash32x4(i32x4.add(i32x4.add(i32x4.splat(index), i32x4(0, 1, 2, 3)), streamKey)), 16);
}

/** Widens `len` bfloat16 values at `h` into float32 at `out`. */
export function decodeBf16Block(h: usize, out: usize, len: i32): void {
  const zero = i32x4.splat(0);
  let i = 0;
  for (; i + 8 <= len; i += 8) {
    const v = v128.load(h + (i << 1));
    // Interleaved with zeros (punpcklwd, punpckhwd): each value becomes the upper half of a lane.
    v128.store(out + (i << 2), i8x16.shuffle(zero, v, 0, 1, 16, 17, 2, 3, 18, 19, 4, 5, 20, 21, 6, 7, 22, 23));
    v128.store(out + (i << 2), i8x16.shuffle(zero, v, 8, 9, 24, 25, 10, 11, 26, 27, 12, 13, 28, 29, 14, 15, 30, 31), 16);
  }
  for (; i < len; i++) store<u32>(out + (i << 2), <u32>load<u16>(h + (i << 1)) << 16);
}

/** One float32's bfloat16 bits: src/kernels/lowp.ts bf16FromBits / bf16FromBitsStochastic. */
// @ts-ignore: decorator
@inline function bf16One(bits: u32, add: u32): u16 {
  if ((bits & 0x7fffffff) > 0x7f800000) return <u16>((bits >>> 16) | 0x40);
  return <u16>((bits + add) >>> 16);
}

/**
 * Rounds `len` float32 at `t` to bfloat16 at `h`: to nearest (ties to even), or with
 * `stochastic` adding the top 16 bits of hash32(index + i + streamKey) to element i.
 */
export function encodeBf16Block(t: usize, h: usize, len: i32, stochastic: bool, streamKey: u32, index: i32): void {
  let i = 0;
  if (stochastic) {
    const key = i32x4.splat(streamKey);
    for (; i + 8 <= len; i += 8) {
      const a = v128.load(t + (i << 2)), b = v128.load(t + (i << 2), 16);
      const ra = roundBf16(a, stochasticAdd(key, index + i)), rb = roundBf16(b, stochasticAdd(key, index + i + 4));
      v128.store(h + (i << 1), i8x16.shuffle(ra, rb, 2, 3, 6, 7, 10, 11, 14, 15, 18, 19, 22, 23, 26, 27, 30, 31));
    }
    for (; i < len; i++) store<u16>(h + (i << 1), bf16One(load<u32>(t + (i << 2)), hash32(<u32>(index + i) + streamKey) >>> 16));
  } else {
    for (; i + 8 <= len; i += 8) {
      const a = v128.load(t + (i << 2)), b = v128.load(t + (i << 2), 16);
      const ra = roundBf16(a, nearestAdd(a)), rb = roundBf16(b, nearestAdd(b));
      v128.store(h + (i << 1), i8x16.shuffle(ra, rb, 2, 3, 6, 7, 10, 11, 14, 15, 18, 19, 22, 23, 26, 27, 30, 31));
    }
    for (; i < len; i++) {
      const bits = load<u32>(t + (i << 2));
      store<u16>(h + (i << 1), bf16One(bits, 0x7fff + ((bits >>> 16) & 1)));
    }
  }
}

/** The stream key of state array `ordinal` of a call with `key`: src/kernels/lowp.ts arrayKey. */
export function arrayKey(key: u32, ordinal: u32): u32 {
  return hash32(key + (ordinal + 1) * 0x9e3779b9);
}

// ---- int8: whole blocks, between the codes and a float32 scratch -------------------------------
//
// An int8 kernel decodes each block of its state arrays into a float32 scratch (the host's, one
// per thread), runs the float32 specialisation over it, and encodes the scratch back. The codes
// go 16 at a time; decoded values are exactly bfloat16-wide (a 3-bit mantissa), so decoding
// and the code arithmetic of encoding run on 16-bit lanes, 8 at a time.

/** The largest lane of an i32 vector. */
// @ts-ignore: decorator
@inline function maxLaneI32(v: v128): i32 {
  return max<i32>(max<i32>(i32x4.extract_lane(v, 0), i32x4.extract_lane(v, 1)), max<i32>(i32x4.extract_lane(v, 2), i32x4.extract_lane(v, 3)));
}

/** The float32 bits of code `c` in a block with offset `k`: src/kernels/lowp.ts decode. */
// @ts-ignore: decorator
@inline function decodeOne(c: i32, k: i32, signed: bool): i32 {
  const m = signed ? c & 0x7f : c;
  const magnitude = m == 0 ? 0 : (m + k) << INT8_SHIFT;
  return signed ? magnitude | ((c & 0x80) << 24) : magnitude;
}

/** The code of float32 bits `bits` in a block with offset `k`: src/kernels/lowp.ts encode. */
// @ts-ignore: decorator
@inline function encodeOne(bits: i32, k: i32, signed: bool): i32 {
  if ((bits & 0x7fffffff) > 0x7f800000) return 0;
  if (!signed && bits < 0) return 0;
  const m = min<i32>(max<i32>(<i32>((<u32>(bits & 0x7fffffff) + HALF) >>> INT8_SHIFT) - k, 0), signed ? 127 : 255);
  return signed ? m | ((<u32>bits >>> 24) & 0x80) : m;
}

/** Decodes 8 codes (i16 lanes) into 8 float32 at `out`. */
// @ts-ignore: decorator
@inline function decode8(c: v128, k16: v128, out: usize, signed: bool): void {
  const m = signed ? v128.and(c, i16x8.splat(0x7f)) : c;
  let h = v128.andnot(i16x8.shl(i16x8.add(m, k16), SHIFT16), i16x8.eq(m, i16x8.splat(0)));
  if (signed) h = v128.or(h, i16x8.shl(v128.and(c, i16x8.splat(0x80)), 8));
  v128.store(out, i32x4.shl(i32x4.extend_low_i16x8_u(h), 16));
  v128.store(out, i32x4.shl(i32x4.extend_high_i16x8_u(h), 16), 16);
}

/** Dequantises `len` codes at `codes`, a block whose scale is `scale`, into float32 at `out`. */
// @ts-ignore: decorator
@inline function decodeBlock(codes: usize, out: usize, len: i32, scale: f32, signed: bool): void {
  const k = <i32>(reinterpret<u32>(scale) >>> INT8_SHIFT) - (signed ? 127 : 255);
  const k16 = i16x8.splat(<i16>k);
  let i = 0;
  for (; i + 16 <= len; i += 16) {
    const b = v128.load(codes + i);
    decode8(i16x8.extend_low_i8x16_u(b), k16, out + (i << 2), signed);
    decode8(i16x8.extend_high_i8x16_u(b), k16, out + (i << 2) + 32, signed);
  }
  for (; i < len; i++) store<i32>(out + (i << 2), decodeOne(<i32>load<u8>(codes + i), k, signed));
}

/** Dequantises a block of signed codes into float32 scratch. */
export function decodeSignedBlock(codes: usize, out: usize, len: i32, scale: f32): void {
  decodeBlock(codes, out, len, scale, true);
}

/** Dequantises a block of unsigned codes into float32 scratch. */
export function decodeUnsignedBlock(codes: usize, out: usize, len: i32, scale: f32): void {
  decodeBlock(codes, out, len, scale, false);
}

/** Encodes 8 float32 at `p` into codes (i16 lanes) of a block with offset `k16`. */
// @ts-ignore: decorator
@inline function encode8(p: usize, k16: v128, signed: bool): v128 {
  const half = i32x4.splat(HALF);
  // The upper 16 bits of (bits + half): sign, then the magnitude rounded half away from zero.
  const t = i16x8.narrow_i32x4_u(i32x4.shr_u(i32x4.add(v128.load(p), half), 16), i32x4.shr_u(i32x4.add(v128.load(p, 16), half), 16));
  if (signed) {
    const r = i16x8.shr_u(v128.and(t, i16x8.splat(0x7fff)), SHIFT16);
    const m = i16x8.min_s(i16x8.max_s(i16x8.sub(r, k16), i16x8.splat(0)), i16x8.splat(127));
    return v128.or(m, v128.and(i16x8.shr_u(t, 8), i16x8.splat(0x80)));
  }
  // Negative values (the sign bit set) shift to negative positions: code 0.
  const r = i16x8.shr_s(t, SHIFT16);
  return i16x8.min_s(i16x8.max_s(i16x8.sub(r, k16), i16x8.splat(0)), i16x8.splat(255));
}

/** Quantises `len` float32 at `t` into codes at `codes`; returns the block's scale. */
// @ts-ignore: decorator
@inline function encodeBlock(t: usize, codes: usize, len: i32, signed: bool): f32 {
  const c = signed ? 127 : 255;
  // The largest bits(|x|); Infinity or NaN (at least 0x7f800000) sends the block the scalar way.
  let mx = i32x4.splat(0);
  let i = 0;
  for (; i + 4 <= len; i += 4) mx = i32x4.max_s(mx, v128.and(v128.load(t + (i << 2)), i32x4.splat(0x7fffffff)));
  let a = maxLaneI32(mx);
  for (; i < len; i++) a = max<i32>(a, load<i32>(t + (i << 2)) & 0x7fffffff);
  if (a >= 0x7f800000) {
    a = 0;
    for (i = 0; i < len; i++) {
      const b = load<i32>(t + (i << 2)) & 0x7fffffff;
      if (b < 0x7f800000 && b > a) a = b;
    }
    const top = min<i32>((a + HALF) >>> INT8_SHIFT, TOP_MAX);
    for (i = 0; i < len; i++) store<u8>(codes + i, <u8>encodeOne(load<i32>(t + (i << 2)), top - c, signed));
    return reinterpret<f32>(top << INT8_SHIFT);
  }
  const top = min<i32>((a + HALF) >>> INT8_SHIFT, TOP_MAX);
  const k = top - c;
  const k16 = i16x8.splat(<i16>k);
  for (i = 0; i + 16 <= len; i += 16) {
    const p = t + (i << 2);
    v128.store(codes + i, i8x16.narrow_i16x8_u(encode8(p, k16, signed), encode8(p + 32, k16, signed)));
  }
  for (; i < len; i++) store<u8>(codes + i, <u8>encodeOne(load<i32>(t + (i << 2)), k, signed));
  return reinterpret<f32>(top << INT8_SHIFT);
}

/** Quantises a block of float32 scratch into signed codes; returns its scale. */
export function encodeSignedBlock(t: usize, codes: usize, len: i32): f32 {
  return encodeBlock(t, codes, len, true);
}

/** Quantises a block of float32 scratch into unsigned codes; returns its scale. */
export function encodeUnsignedBlock(t: usize, codes: usize, len: i32): f32 {
  return encodeBlock(t, codes, len, false);
}
