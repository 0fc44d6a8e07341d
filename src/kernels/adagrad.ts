// JS twin of assembly/kernels/adagrad.ts: the same operations in the same order, each rounded
// to float32 with Math.fround, so the results equal the SIMD kernel's bit for bit.
import { MAXIMIZE, WEIGHT_DECAY } from './flags.js';

const fround = Math.fround;

/** Adagrad step; arguments as the WASM export `adagrad` (see assembly/kernels/adagrad.ts). */
export function adagrad(
  heap: Float32Array,
  param: number, grad: number, sum: number, n: number,
  clr: number, weightDecay: number, eps: number, flags: number,
): void {
  const ip = param >>> 2, ig = grad >>> 2, is = sum >>> 2;
  clr = fround(clr); weightDecay = fround(weightDecay); eps = fround(eps);
  const maximize = (flags & MAXIMIZE) !== 0;
  const wd = (flags & WEIGHT_DECAY) !== 0;
  for (let i = 0; i < n; i++) {
    const p = heap[ip + i];
    let g = maximize ? -heap[ig + i] : heap[ig + i];
    if (wd) g = fround(g + fround(weightDecay * p));
    const s = fround(heap[is + i] + fround(g * g));
    heap[is + i] = s;
    heap[ip + i] = fround(p - fround(fround(clr * g) / fround(fround(Math.sqrt(s)) + eps)));
  }
}
