// JS twin of assembly/kernels/rmsprop.ts: the same operations in the same order, each rounded
// to float32 with Math.fround, so the results equal the SIMD kernel's bit for bit.
import { CENTERED, MAXIMIZE, MOMENTUM, WEIGHT_DECAY } from './flags.js';

const fround = Math.fround;

/** RMSprop step; arguments as the WASM export `rmsprop` (see assembly/kernels/rmsprop.ts). */
export function rmsprop(
  heap: Float32Array,
  param: number, grad: number, squareAvg: number, gradAvg: number, momentumBuffer: number, n: number,
  lr: number, alpha: number, oneMinusAlpha: number, eps: number, weightDecay: number, momentum: number, flags: number,
): void {
  const ip = param >>> 2, ig = grad >>> 2, iq = squareAvg >>> 2, ia = gradAvg >>> 2, ib = momentumBuffer >>> 2;
  lr = fround(lr); alpha = fround(alpha); oneMinusAlpha = fround(oneMinusAlpha);
  eps = fround(eps); weightDecay = fround(weightDecay); momentum = fround(momentum);
  const maximize = (flags & MAXIMIZE) !== 0;
  const wd = (flags & WEIGHT_DECAY) !== 0;
  const centered = (flags & CENTERED) !== 0;
  const mom = (flags & MOMENTUM) !== 0;
  for (let i = 0; i < n; i++) {
    const p = heap[ip + i];
    let g = maximize ? -heap[ig + i] : heap[ig + i];
    if (wd) g = fround(g + fround(weightDecay * p));
    const sq = fround(fround(alpha * heap[iq + i]) + fround(fround(oneMinusAlpha * g) * g));
    heap[iq + i] = sq;
    let avg: number;
    if (centered) {
      const ga = fround(fround(alpha * heap[ia + i]) + fround(oneMinusAlpha * g));
      heap[ia + i] = ga;
      avg = fround(Math.sqrt(fround(sq - fround(ga * ga))));
    } else {
      avg = fround(Math.sqrt(sq));
    }
    avg = fround(avg + eps);
    if (mom) {
      const b = fround(fround(momentum * heap[ib + i]) + fround(g / avg));
      heap[ib + i] = b;
      heap[ip + i] = fround(p - fround(lr * b));
    } else {
      heap[ip + i] = fround(p - fround(fround(lr * g) / avg));
    }
  }
}
