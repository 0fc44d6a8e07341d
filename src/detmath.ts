// Deterministic elementary functions. Math.exp, Math.pow, Math.cos and friends are not
// required to be correctly rounded, and engines differ in their last bits; per-step scalars
// that feed the kernels must be the same in every engine, so they come from here. Each
// routine is a port of FreeBSD's msun / Sun's fdlibm, built only from float64 + - * / and
// exact bit manipulations, which IEEE-754 makes identical everywhere. Accuracy: within 1 ulp.

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

/** ln(0.96), correctly rounded: NAdam's momentum-decay base. */
export const LN_0_96 = -0.040821994520255166;
