// Per-step scalars computed on the host. Everything here is built from IEEE-754 float64
// operations that every engine rounds identically (+ - * / sqrt), so the values the kernels
// receive do not depend on the engine's Math.pow.

/**
 * `base ** exponent` for a whole `exponent >= 0`, by binary exponentiation: a few float64
 * multiplications, so the result is the same in every engine (Math.pow is not required to be
 * correctly rounded). Within a few ulps of the exact power for the exponents steps reach.
 */
export function powInt(base: number, exponent: number): number {
  let result = 1;
  let b = base;
  let e = exponent;
  while (e > 0) {
    if (e & 1) result *= b;
    e = Math.floor(e / 2);
    if (e > 0) b *= b;
  }
  return result;
}
