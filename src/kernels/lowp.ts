// Low-precision optimizer state: the bfloat16 and blockwise int8 element formats, written once
// for the host and the JS twins. The SIMD kernels' side is assembly/lowp.ts, a hand-written
// twin (as the reductions are): the same integer and float32 operations lane by lane, so both
// give the same bits; test/lowp.test.ts checks every bfloat16 pattern, every int8 code and
// special and random inputs on both. The generator (scripts/gen-kernels.ts) emits the loads
// and stores of state arrays as calls of these, and writes the constants below into
// assembly/generated/lowp-config.ts, so both sides share them.
//
// bfloat16: the upper 16 bits of a float32. Stores round to nearest, ties to even, on the bit
// pattern (the carry of the rounding increment moves into the exponent, so overflow gives
// ±Infinity), or stochastically: the random low 16 bits of a counter-based hash of (key, array,
// element) are added before truncating (llm.c's and torchao's stochastic rounding), which
// rounds up with probability (dropped bits)/65536. NaN stays NaN (its top payload bits, with
// the quiet bit set).
//
// int8, blockwise (Dettmers et al. 2022, "8-bit Optimizers via Block-wise Quantization";
// bitsandbytes csrc/kernels.cu, kOptimizerStatic8bit2StateBlockwise): each block of
// BLOCK_ELEMENTS consecutive elements of a parameter's state keeps a float32 scale, its largest
// finite |x| (absmax), and one byte per element. As in bitsandbytes, a step dequantises a
// block, updates it in float32 (the parameter update uses those float32 values), takes the
// absmax of the new values and requantises. The 8-bit map differs: bitsandbytes' dynamic map
// (functional.py create_dynamic_map) is a 256-entry table searched per element, which
// WebAssembly SIMD, without gathers, cannot do at speed. Here a code is a small float relative
// to the block's absmax (as torchao's blockwise FP8 Adam keeps its moments in E4M3,
// torchao/optim): MANTISSA_BITS mantissa bits, and an exponent counted down from the absmax's,
// so every operation is an integer one on the float32 bit pattern (no division, no
// multiplication):
//
//   r(x)    = (bits(|x|) + 2^(S-1)) >> S, S = 23 - MANTISSA_BITS: |x| rounded to the map's
//             precision (half away from zero), as a position on the map's log-linear scale
//   block   A = the largest bits(|x|) of its finite elements (0 if none);
//           top = min(r(A), 255·2^MANTISSA_BITS - 1); scale = float32 with bits top << S (the
//           absmax rounded to the map; never Infinity); K = top - C
//   signed  (first moments, momentum; C = 127): code = sign bit (0x80) | clamp(r(x) - K, 0, 127)
//   unsigned (second moments, sums; C = 255): code = clamp(r(x) - K, 0, 255); negative x give 0
//   decode  m = the code's magnitude, K = (bits(scale) >> S) - C: m = 0 gives ±0, else the
//           float32 with bits (m + K) << S (and the sign)
//
// So a block spans C steps of the scale below its absmax: 127 steps, about 16 binades (the
// smallest magnitude kept is about 2^-16 of the absmax), for signed state; 255 steps, about
// 32 binades, for unsigned state; each binade in 2^MANTISSA_BITS steps (a relative error of
// at most 2^-(MANTISSA_BITS+1)). Magnitudes below flush to (signed) zero; zero stays exactly
// zero. Non-finite values never enter the absmax: ±Infinity saturates to ±scale, NaN stores 0
// (the step's own update, from the float32 values, still sees it).

/** Elements per int8 block (one float32 scale each). A thread slice or kernel call of int8 state starts on a block. */
export const BLOCK_ELEMENTS = 256;
/** Mantissa bits of the int8 maps (signed and unsigned): every binade in 8 steps. */
export const MANTISSA_BITS = 3;
/** Bits of a float32 below the map's precision. */
export const INT8_SHIFT = 23 - MANTISSA_BITS;
const HALF = 1 << (INT8_SHIFT - 1);
/** The largest map position (top) a scale may have: below Infinity's. */
const TOP_MAX = (255 << MANTISSA_BITS) - 1;
/** Scratch bytes a bfloat16 or int8 kernel call needs (src/kernels/defs: at most 3 state arrays, a float32 block each). */
export const STATE_SCRATCH_BYTES = 3 * 4 * BLOCK_ELEMENTS;

/** Whether an int8 state buffer holds signed values (first moments) or non-negative ones (second moments, sums). */
export type StateRange = 'signed' | 'unsigned';

// One float32 and its bits, for single values; block scratch below for loops.
const one = new Float32Array(1);
const oneBits = new Int32Array(one.buffer);

/** The float32 bit pattern of `x` (a float32 value), as a signed 32-bit integer. */
export function f32Bits(x: number): number {
  one[0] = x;
  return oneBits[0];
}

/** The float32 value of a bit pattern. */
export function f32FromBits(bits: number): number {
  oneBits[0] = bits;
  return one[0];
}

// ---- the counter-based generator of stochastic rounding ------------------------------------

/**
 * A 32-bit integer hash (Chris Wellons' "lowbias32", hash-prospector): good avalanche, only
 * xor, logical shifts and 32-bit multiplications, so the SIMD kernels compute it lane by lane.
 */
export function hash32(x: number): number {
  x ^= x >>> 16;
  x = Math.imul(x, 0x21f0aaad);
  x ^= x >>> 15;
  x = Math.imul(x, 0x735a2d97);
  x ^= x >>> 15;
  return x >>> 0;
}

/** Golden-ratio increment separating the streams of a call's state arrays. */
export const ARRAY_STREAM = 0x9e3779b9;

/**
 * The key of one step of one param group's stochastic rounding: a hash of the seed, the step
 * count and the group's index. A kernel call derives one stream per state array from it
 * ({@link arrayKey}) and draws element i's bits as hash32(index + i + arrayKey), where index is
 * the element's position in the group's state buffer: the same bits for any thread count,
 * either backend, and a resumed run (the step count is saved).
 */
export function roundingKey(seed: number, step: number, group: number): number {
  return hash32((seed >>> 0) ^ hash32((step >>> 0) + hash32(group >>> 0)));
}

/** The stream of state array `ordinal` (0, 1, 2 in the kernel's order) of a call with `key`. */
export function arrayKey(key: number, ordinal: number): number {
  return hash32((key + Math.imul(ordinal + 1, ARRAY_STREAM)) >>> 0);
}

// ---- bfloat16 --------------------------------------------------------------------------------

/** bfloat16 bits of a float32 bit pattern, rounded to nearest, ties to even (NaN stays NaN). */
export function bf16FromBits(bits: number): number {
  if ((bits & 0x7fffffff) > 0x7f800000) return ((bits >>> 16) | 0x40) & 0xffff;
  return ((bits + 0x7fff + ((bits >>> 16) & 1)) >>> 16) & 0xffff;
}

/** bfloat16 bits of a float32 bit pattern, rounded stochastically with 16 random bits `r` (0..65535). */
export function bf16FromBitsStochastic(bits: number, r: number): number {
  if ((bits & 0x7fffffff) > 0x7f800000) return ((bits >>> 16) | 0x40) & 0xffff;
  return ((bits + r) >>> 16) & 0xffff;
}

/** The float32 value of bfloat16 bits (exact). */
export function bf16ToFloat(h: number): number {
  return f32FromBits(h << 16);
}

// ---- int8 ------------------------------------------------------------------------------------

/** The largest map position of a code: 127 (signed) or 255 (unsigned). */
function codeMax(signed: boolean): number {
  return signed ? 127 : 255;
}

/** The map position of |x| (float32 bits `bits`): |x| rounded to the map's precision, half away from zero. */
function position(bits: number): number {
  return ((bits & 0x7fffffff) + HALF) >>> INT8_SHIFT;
}

/** A block's scale (as float32 bits) from A, the largest bits(|x|) of its finite elements. */
export function scaleBits(absmaxBits: number): number {
  return Math.min(position(absmaxBits), TOP_MAX) << INT8_SHIFT;
}

/** The code offset K of a block with scale bits `scale`: code m stands for map position m + K. */
export function codeOffset(scale: number, signed: boolean): number {
  return (scale >>> INT8_SHIFT) - codeMax(signed);
}

/** The code of a float32 with bits `bits` in a block with offset K. */
export function encode(bits: number, k: number, signed: boolean): number {
  if ((bits & 0x7fffffff) > 0x7f800000) return 0; // NaN
  if (!signed && bits < 0) return 0; // negative (bits as a signed 32-bit integer)
  const m = Math.min(Math.max(position(bits) - k, 0), codeMax(signed));
  return signed ? m | ((bits >>> 24) & 0x80) : m;
}

/** The float32 bits a code stands for in a block with offset K. */
export function decode(code: number, k: number, signed: boolean): number {
  const m = signed ? code & 0x7f : code;
  const magnitude = m === 0 ? 0 : (m + k) << INT8_SHIFT;
  return signed ? magnitude | ((code & 0x80) << 24) : magnitude;
}

// ---- block loops of the JS twins ---------------------------------------------------------
//
// A twin's int8 or bfloat16 loop walks its range in chunks of BLOCK_ELEMENTS: it decodes each
// state array's chunk into a float32 scratch, runs the element update over the chunk (the new
// state values go back into the scratch), then encodes the scratch into the array. The scratch
// arrays are module-level (one per state array of a call; kernels have at most 3).

const scratchBuffers = [0, 1, 2, 3].map(() => new Float32Array(BLOCK_ELEMENTS));
const scratchBits = scratchBuffers.map((s) => new Int32Array(s.buffer));

/** The float32 scratch of state array `k` of a call (BLOCK_ELEMENTS long). @internal */
export function scratch(k: number): Float32Array {
  return scratchBuffers[k];
}

/** Decodes `count` bfloat16 values from `src[at..]` into scratch `k`. @internal */
export function bf16Decode(src: Uint16Array, at: number, count: number, k: number): void {
  const bits = scratchBits[k];
  for (let j = 0; j < count; j++) bits[j] = src[at + j] << 16;
}

/**
 * Encodes scratch `k`'s first `count` values into `dst[at..]` as bfloat16: to nearest, or
 * stochastically with the bits of hash32(index + j + streamKey) for element j.
 * @internal
 */
export function bf16Encode(dst: Uint16Array, at: number, count: number, k: number, stochastic: boolean, index: number, streamKey: number): void {
  const bits = scratchBits[k];
  if (stochastic) {
    for (let j = 0; j < count; j++) dst[at + j] = bf16FromBitsStochastic(bits[j], hash32((index + j + streamKey) >>> 0) >>> 16);
  } else {
    for (let j = 0; j < count; j++) dst[at + j] = bf16FromBits(bits[j]);
  }
}

/** Dequantises `count` int8 codes of one block (scale `scale`) from `src[at..]` into scratch `k`. @internal */
export function int8Decode(src: Uint8Array, at: number, count: number, scale: number, signed: boolean, k: number): void {
  const bits = scratchBits[k];
  const off = codeOffset(f32Bits(scale), signed);
  for (let j = 0; j < count; j++) bits[j] = decode(src[at + j], off, signed);
}

/** The largest bits(|x|) of the finite values among the first `count` of scratch `k` (0 when none). */
function finiteMaxBits(count: number, k: number): number {
  const bits = scratchBits[k];
  let m = 0;
  for (let j = 0; j < count; j++) {
    const a = bits[j] & 0x7fffffff;
    if (a < 0x7f800000 && a > m) m = a;
  }
  return m;
}

/** Quantises scratch `k`'s first `count` values (one block) into `dst[at..]`; returns the block's new scale. @internal */
export function int8Encode(dst: Uint8Array, at: number, count: number, signed: boolean, k: number): number {
  const scale = scaleBits(finiteMaxBits(count, k));
  const off = codeOffset(scale, signed);
  const bits = scratchBits[k];
  for (let j = 0; j < count; j++) dst[at + j] = encode(bits[j], off, signed);
  return f32FromBits(scale);
}

// ---- whole buffers, for the host (state dicts, conversions, views) ---------------------------

/** Number of int8 blocks (scales) of `size` elements. */
export function blockCount(size: number): number {
  return Math.ceil(size / BLOCK_ELEMENTS);
}

/** bfloat16 bits of float32 values, rounded to nearest (ties to even). */
export function toBfloat16(values: ArrayLike<number>): Uint16Array {
  const out = new Uint16Array(values.length);
  for (let i = 0; i < values.length; i++) out[i] = bf16FromBits(f32Bits(Math.fround(values[i])));
  return out;
}

/** float32 values of bfloat16 bits (exact). */
export function fromBfloat16(data: Uint16Array): Float32Array {
  const out = new Float32Array(data.length);
  const bits = new Int32Array(out.buffer);
  for (let i = 0; i < data.length; i++) bits[i] = data[i] << 16;
  return out;
}

/** Blockwise int8 codes and scales of float32 values, blocks of BLOCK_ELEMENTS from the first. */
export function toInt8(values: ArrayLike<number>, signed: boolean): { data: Uint8Array; scales: Float32Array } {
  const n = values.length;
  const data = new Uint8Array(n), scales = new Float32Array(blockCount(n));
  const s = scratchBuffers[3];
  for (let b = 0, at = 0; at < n; b++, at += BLOCK_ELEMENTS) {
    const count = Math.min(BLOCK_ELEMENTS, n - at);
    for (let j = 0; j < count; j++) s[j] = values[at + j];
    scales[b] = int8Encode(data, at, count, signed, 3);
  }
  return { data, scales };
}

/** float32 values of blockwise int8 codes and scales. */
export function fromInt8(data: Uint8Array, scales: Float32Array, signed: boolean): Float32Array {
  const out = new Float32Array(data.length);
  const bits = new Int32Array(out.buffer);
  for (let b = 0, at = 0; at < data.length; b++, at += BLOCK_ELEMENTS) {
    const off = codeOffset(f32Bits(scales[b]), signed);
    const end = Math.min(at + BLOCK_ELEMENTS, data.length);
    for (let i = at; i < end; i++) bits[i] = decode(data[i], off, signed);
  }
  return out;
}
