// JS twin of assembly/kernels/sgd.ts: the same operations in the same order, each rounded
// to float32 with Math.fround, so the results equal the SIMD kernel's bit for bit.
import { FIRST_STEP, MAXIMIZE, MOMENTUM, NESTEROV, WEIGHT_DECAY } from './flags.js';

const fround = Math.fround;

/**
 * SGD step over `n` float32 elements of `heap` at byte offsets `param`, `grad`,
 * `momentumBuffer`; arguments as the WASM export `sgd`. See assembly/kernels/sgd.ts.
 */
export function sgd(
  heap: Float32Array,
  param: number, grad: number, momentumBuffer: number, n: number,
  lr: number, weightDecay: number, momentum: number, dampeningComplement: number, flags: number,
): void {
  const ip = param >>> 2, ig = grad >>> 2, ib = momentumBuffer >>> 2;
  lr = fround(lr); weightDecay = fround(weightDecay);
  momentum = fround(momentum); dampeningComplement = fround(dampeningComplement);
  const maximize = (flags & MAXIMIZE) !== 0;
  const wd = (flags & WEIGHT_DECAY) !== 0;
  const mom = (flags & MOMENTUM) !== 0;
  const nesterov = (flags & NESTEROV) !== 0;
  const first = (flags & FIRST_STEP) !== 0;
  for (let i = 0; i < n; i++) {
    const p = heap[ip + i];
    let g = maximize ? -heap[ig + i] : heap[ig + i];
    if (wd) g = fround(g + fround(weightDecay * p));
    if (mom) {
      const b = first ? g : fround(fround(momentum * heap[ib + i]) + fround(dampeningComplement * g));
      heap[ib + i] = b;
      g = nesterov ? fround(g + fround(momentum * b)) : b;
    }
    heap[ip + i] = fround(p - fround(lr * g));
  }
}
