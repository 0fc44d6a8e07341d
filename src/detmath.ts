// Deterministic elementary functions. Math.exp, Math.pow, Math.cos and friends are not
// required to be correctly rounded, and engines differ in their last bits; per-step scalars
// that feed the kernels must be the same in every engine, so they come from here. Each
// routine is a port of FreeBSD's msun / Sun's fdlibm, built only from float64 + - * / and
// exact bit manipulations, which IEEE-754 makes identical everywhere. Accuracy: exp and log
// within 1 ulp (bit-identical to V8's fdlibm ports in tests), cosPi within 1e-15 absolute,
// pow within a few tens of ulps.

const f64 = new Float64Array(1);
const u32 = new Uint32Array(f64.buffer);
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
const HI = LITTLE_ENDIAN ? 1 : 0;
const LO = LITTLE_ENDIAN ? 0 : 1;

/** 2^k for a whole k in [-1022, 1023], built from its bits (exact). */
function pow2(k: number): number {
  u32[HI] = ((k + 1023) << 20) >>> 0;
  u32[LO] = 0;
  return f64[0];
}

const LN2_HI = 6.93147180369123816490e-01;
const LN2_LO = 1.90821492927058770002e-10;
const INV_LN2 = 1.44269504088896338700e+00;
const P1 = 1.66666666666666019037e-01;
const P2 = -2.77777777770155933842e-03;
const P3 = 6.61375632143793436117e-05;
const P4 = -1.65339022054652515390e-06;
const P5 = 4.13813679705723846039e-08;
const O_THRESHOLD = 7.09782712893383973096e+02;
const U_THRESHOLD = -7.45133219101941108420e+02;

/** High 32 bits of a float64. */
function highWord(x: number): number {
  f64[0] = x;
  return u32[HI];
}

/** e^x, the same float64 in every engine (fdlibm's e_exp.c). */
export function exp(x: number): number {
  if (Number.isNaN(x)) return x;
  if (x > O_THRESHOLD) return Infinity;
  if (x < U_THRESHOLD) return 0;
  const hx = highWord(x) & 0x7fffffff;
  let hi = 0, lo = 0, k = 0;
  if (hx > 0x3fd62e42) {
    // |x| > 0.5 ln2: reduce to x = k*ln2 + r, |r| <= 0.5 ln2
    if (hx < 0x3ff0a2b2) {
      // |x| < 1.5 ln2
      hi = x > 0 ? x - LN2_HI : x + LN2_HI;
      lo = x > 0 ? LN2_LO : -LN2_LO;
      k = x > 0 ? 1 : -1;
    } else {
      k = Math.trunc(INV_LN2 * x + (x > 0 ? 0.5 : -0.5));
      hi = x - k * LN2_HI; // k*LN2_HI is exact
      lo = k * LN2_LO;
    }
    x = hi - lo;
  } else if (hx < 0x3e300000) {
    return 1 + x; // |x| < 2^-28
  }
  const t = x * x;
  const c = x - t * (P1 + t * (P2 + t * (P3 + t * (P4 + t * P5))));
  if (k === 0) return 1 - ((x * c) / (c - 2) - x);
  const y = 1 - ((lo - (x * c) / (2 - c)) - hi);
  // y * 2^k, in two exact steps when 2^k alone would be subnormal
  return k >= -1021 ? y * pow2(k) : y * pow2(k + 1000) * pow2(-1000);
}

const TWO54 = 1.80143985094819840000e+16;
const LG1 = 6.666666666666735130e-01;
const LG2 = 3.999999999940941908e-01;
const LG3 = 2.857142874366239149e-01;
const LG4 = 2.222219843214978396e-01;
const LG5 = 1.818357216161805012e-01;
const LG6 = 1.531383769920937332e-01;
const LG7 = 1.479819860511658591e-01;

/** Natural logarithm, the same float64 in every engine (fdlibm's e_log.c). */
export function log(x: number): number {
  f64[0] = x;
  let hx = u32[HI] | 0;
  const lx = u32[LO];
  let k = 0;
  if (hx < 0x00100000) {
    if (((hx & 0x7fffffff) | lx) === 0) return -Infinity; // log(±0)
    if (hx < 0) return NaN; // log(negative)
    k -= 54;
    x *= TWO54; // subnormal: scale up
    f64[0] = x;
    hx = u32[HI] | 0;
  }
  if (hx >= 0x7ff00000) return x + x; // Inf or NaN
  k += (hx >> 20) - 1023;
  hx &= 0x000fffff;
  const i0 = (hx + 0x95f64) & 0x100000;
  f64[0] = x;
  u32[HI] = (hx | (i0 ^ 0x3ff00000)) >>> 0; // normalise x or x/2
  x = f64[0];
  k += i0 >> 20;
  const f = x - 1;
  const dk = k;
  if ((0x000fffff & (2 + hx)) < 3) {
    // -2^-20 <= f < 2^-20
    if (f === 0) return k === 0 ? 0 : dk * LN2_HI + dk * LN2_LO;
    const R = f * f * (0.5 - 0.33333333333333333 * f);
    return k === 0 ? f - R : dk * LN2_HI - ((R - dk * LN2_LO) - f);
  }
  const s = f / (2 + f);
  const z = s * s;
  let i = hx - 0x6147a;
  const w = z * z;
  const j = 0x6b851 - hx;
  const t1 = w * (LG2 + w * (LG4 + w * LG6));
  const t2 = z * (LG1 + w * (LG3 + w * (LG5 + w * LG7)));
  i |= j;
  const R = t2 + t1;
  if (i > 0) {
    const hfsq = 0.5 * f * f;
    return k === 0 ? f - (hfsq - s * (hfsq + R)) : dk * LN2_HI - ((hfsq - (s * (hfsq + R) + dk * LN2_LO)) - f);
  }
  return k === 0 ? f - s * (f - R) : dk * LN2_HI - ((s * (f - R) - dk * LN2_LO) - f);
}

/** x^y for x > 0 (and x = 0, y > 0), as exp(y log x); for a whole y, binary powering. */
export function pow(x: number, y: number): number {
  if (Number.isInteger(y) && Math.abs(y) <= 2 ** 31) {
    let result = 1, b = x, e = Math.abs(y);
    while (e > 0) {
      if (e % 2 === 1) result *= b;
      e = Math.floor(e / 2);
      if (e > 0) b *= b;
    }
    return y < 0 ? 1 / result : result;
  }
  if (x === 0) return y > 0 ? 0 : Infinity;
  if (x < 0 || Number.isNaN(x) || Number.isNaN(y)) return NaN;
  return exp(y * log(x));
}

const C1 = 4.16666666666666019037e-02;
const C2 = -1.38888888888741095749e-03;
const C3 = 2.48015872894767294178e-05;
const C4 = -2.75573143513906633035e-07;
const C5 = 2.08757232129817482790e-09;
const C6 = -1.13596475577881948265e-11;

/** cos(x) for |x| <= pi/4 (fdlibm's k_cos.c with a zero tail). */
function kernelCos(x: number): number {
  const z = x * x;
  const w = z * z;
  const r = z * (C1 + z * (C2 + z * C3)) + w * w * (C4 + z * (C5 + z * C6));
  const hz = 0.5 * z;
  const v = 1 - hz;
  return v + (((1 - v) - hz) + z * r);
}

const S1 = -1.66666666666666324348e-01;
const S2 = 8.33333333332248946124e-03;
const S3 = -1.98412698298579493134e-04;
const S4 = 2.75573137070700676789e-06;
const S5 = -2.50507602534068634195e-08;
const S6 = 1.58969099521155010221e-10;

/** sin(x) for |x| <= pi/4 (fdlibm's k_sin.c with a zero tail). */
function kernelSin(x: number): number {
  const z = x * x;
  const w = z * z;
  const r = S2 + z * (S3 + z * S4) + z * w * (S5 + z * S6);
  const v = z * x;
  return x + v * (S1 + z * r);
}

/**
 * cos(pi * x), the same float64 in every engine: x is reduced exactly to [0, 1/4], then
 * fdlibm's kernels evaluate cos or sin of pi times it. Exact at the quarter points
 * (cosPi(0) = 1, cosPi(0.5) = 0, cosPi(1) = -1). Schedules use it where PyTorch uses
 * math.cos(math.pi * x); the two agree within a few ulps.
 */
export function cosPi(x: number): number {
  if (!Number.isFinite(x)) return NaN;
  x = Math.abs(x);
  x -= 2 * Math.floor(x / 2); // [0, 2), exact
  if (x > 1) x = 2 - x; // cos(pi x) = cos(pi (2 - x))
  let sign = 1;
  if (x > 0.5) {
    x = 1 - x; // cos(pi x) = -cos(pi (1 - x))
    sign = -1;
  }
  if (x === 0.5) return 0;
  const v = x <= 0.25 ? kernelCos(Math.PI * x) : kernelSin(Math.PI * (0.5 - x));
  return sign * v;
}

/** ln(0.96), correctly rounded: NAdam's momentum-decay base. */
export const LN_0_96 = -0.040821994520255166;
