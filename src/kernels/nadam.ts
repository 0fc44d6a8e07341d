// JS twin of assembly/kernels/nadam.ts: the same operations in the same order, each rounded
// to float32 with Math.fround, so the results equal the SIMD kernel's bit for bit.
import { DECOUPLED, MAXIMIZE, WEIGHT_DECAY } from './flags.js';

const fround = Math.fround;

/** NAdam step; arguments as the WASM export `nadam` (see assembly/kernels/nadam.ts). */
export function nadam(
  heap: Float32Array,
  param: number, grad: number, expAvg: number, expAvgSq: number, n: number,
  beta1: number, oneMinusBeta1: number, beta2: number, oneMinusBeta2: number,
  gradCoef: number, avgCoef: number, invBiasCorrection2Sqrt: number, eps: number, weightDecay: number, decay: number,
  flags: number,
): void {
  const ip = param >>> 2, ig = grad >>> 2, im = expAvg >>> 2, iv = expAvgSq >>> 2;
  beta1 = fround(beta1); oneMinusBeta1 = fround(oneMinusBeta1); beta2 = fround(beta2); oneMinusBeta2 = fround(oneMinusBeta2);
  gradCoef = fround(gradCoef); avgCoef = fround(avgCoef); invBiasCorrection2Sqrt = fround(invBiasCorrection2Sqrt);
  eps = fround(eps); weightDecay = fround(weightDecay); decay = fround(decay);
  const maximize = (flags & MAXIMIZE) !== 0;
  const l2 = (flags & WEIGHT_DECAY) !== 0;
  const decoupled = (flags & DECOUPLED) !== 0;
  for (let i = 0; i < n; i++) {
    let p = heap[ip + i];
    let g = maximize ? -heap[ig + i] : heap[ig + i];
    if (l2) g = fround(g + fround(weightDecay * p));
    if (decoupled) p = fround(p * decay);
    const m = fround(fround(beta1 * heap[im + i]) + fround(oneMinusBeta1 * g));
    const v = fround(fround(beta2 * heap[iv + i]) + fround(fround(oneMinusBeta2 * g) * g));
    heap[im + i] = m;
    heap[iv + i] = v;
    const denom = fround(fround(fround(Math.sqrt(v)) * invBiasCorrection2Sqrt) + eps);
    const num = fround(fround(gradCoef * g) + fround(avgCoef * m));
    heap[ip + i] = fround(p - fround(num / denom));
  }
}
