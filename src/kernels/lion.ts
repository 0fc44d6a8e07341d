// JS twin of assembly/kernels/lion.ts: the same operations in the same order, each rounded
// to float32 with Math.fround, so the results equal the SIMD kernel's bit for bit.
import { DECOUPLED, MAXIMIZE } from './flags.js';

const fround = Math.fround;

/** Lion step; arguments as the WASM export `lion` (see assembly/kernels/lion.ts). */
export function lion(
  heap: Float32Array,
  param: number, grad: number, expAvg: number, n: number,
  lr: number, beta1: number, oneMinusBeta1: number, beta2: number, oneMinusBeta2: number, decay: number, flags: number,
): void {
  const ip = param >>> 2, ig = grad >>> 2, im = expAvg >>> 2;
  lr = fround(lr); beta1 = fround(beta1); oneMinusBeta1 = fround(oneMinusBeta1);
  beta2 = fround(beta2); oneMinusBeta2 = fround(oneMinusBeta2); decay = fround(decay);
  const maximize = (flags & MAXIMIZE) !== 0;
  const decoupled = (flags & DECOUPLED) !== 0;
  for (let i = 0; i < n; i++) {
    let p = heap[ip + i];
    const g = maximize ? -heap[ig + i] : heap[ig + i];
    if (decoupled) p = fround(p * decay);
    const m = heap[im + i];
    const c = fround(fround(beta1 * m) + fround(oneMinusBeta1 * g));
    const s = c > 0 ? 1 : c < 0 ? -1 : 0; // 0 for zeros and NaN, as the SIMD kernel
    heap[ip + i] = fround(p - fround(lr * s));
    heap[im + i] = fround(fround(beta2 * m) + fround(oneMinusBeta2 * g));
  }
}
