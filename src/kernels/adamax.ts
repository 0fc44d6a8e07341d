// JS twin of assembly/kernels/adamax.ts: the same operations in the same order, each rounded
// to float32 with Math.fround, so the results equal the SIMD kernel's bit for bit.
import { MAXIMIZE, WEIGHT_DECAY } from './flags.js';

const fround = Math.fround;

/** Adamax step; arguments as the WASM export `adamax` (see assembly/kernels/adamax.ts). */
export function adamax(
  heap: Float32Array,
  param: number, grad: number, expAvg: number, expInf: number, n: number,
  beta1: number, oneMinusBeta1: number, beta2: number, clr: number, eps: number, weightDecay: number, flags: number,
): void {
  const ip = param >>> 2, ig = grad >>> 2, im = expAvg >>> 2, iu = expInf >>> 2;
  beta1 = fround(beta1); oneMinusBeta1 = fround(oneMinusBeta1); beta2 = fround(beta2);
  clr = fround(clr); eps = fround(eps); weightDecay = fround(weightDecay);
  const maximize = (flags & MAXIMIZE) !== 0;
  const wd = (flags & WEIGHT_DECAY) !== 0;
  for (let i = 0; i < n; i++) {
    const p = heap[ip + i];
    let g = maximize ? -heap[ig + i] : heap[ig + i];
    if (wd) g = fround(g + fround(weightDecay * p));
    const m = fround(fround(beta1 * heap[im + i]) + fround(oneMinusBeta1 * g));
    const u = Math.max(fround(beta2 * heap[iu + i]), fround(Math.abs(g) + eps));
    heap[im + i] = m;
    heap[iu + i] = u;
    heap[ip + i] = fround(p - fround(fround(clr * m) / u));
  }
}
