// The optimizers' option checkers live in src/validate.ts, the one validation module; this
// re-export keeps the optimizers' imports working until they import it directly.
export { betas, between, boolean, describe, kindOf, number, type Check } from '../validate.js';
