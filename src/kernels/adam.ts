// JS twin of assembly/kernels/adam.ts: the same operations in the same order, each rounded
// to float32 with Math.fround, so the results equal the SIMD kernel's bit for bit.
import { AMSGRAD, DECOUPLED, MAXIMIZE, NESTEROV, PLAIN, WEIGHT_DECAY } from './flags.js';

const fround = Math.fround;

/**
 * Adam-family step (Adam, AdamW, NAdam, RAdam) over `n` float32 elements of `heap`;
 * arguments as the WASM export `adam`. See assembly/kernels/adam.ts for the update rule.
 */
export function adam(
  heap: Float32Array,
  param: number, grad: number, expAvg: number, expAvgSq: number, maxExpAvgSq: number, n: number,
  beta1: number, oneMinusBeta1: number, beta2: number, oneMinusBeta2: number, stepSize: number,
  invBiasCorrection2Sqrt: number, eps: number, weightDecay: number, decay: number, gradCoef: number,
  flags: number,
): void {
  const ip = param >>> 2, ig = grad >>> 2, im = expAvg >>> 2, iv = expAvgSq >>> 2, ix = maxExpAvgSq >>> 2;
  beta1 = fround(beta1); oneMinusBeta1 = fround(oneMinusBeta1);
  beta2 = fround(beta2); oneMinusBeta2 = fround(oneMinusBeta2); stepSize = fround(stepSize);
  invBiasCorrection2Sqrt = fround(invBiasCorrection2Sqrt); eps = fround(eps);
  weightDecay = fround(weightDecay); decay = fround(decay); gradCoef = fround(gradCoef);
  const maximize = (flags & MAXIMIZE) !== 0;
  const l2 = (flags & WEIGHT_DECAY) !== 0;
  const decoupled = (flags & DECOUPLED) !== 0;
  const amsgrad = (flags & AMSGRAD) !== 0;
  const plain = (flags & PLAIN) !== 0;
  const nesterov = !plain && (flags & NESTEROV) !== 0;
  for (let i = 0; i < n; i++) {
    let p = heap[ip + i];
    let g = maximize ? -heap[ig + i] : heap[ig + i];
    if (l2) g = fround(g + fround(weightDecay * p));
    if (decoupled) p = fround(p * decay);
    const m = fround(fround(beta1 * heap[im + i]) + fround(oneMinusBeta1 * g));
    const v = fround(fround(beta2 * heap[iv + i]) + fround(fround(oneMinusBeta2 * g) * g));
    heap[im + i] = m;
    heap[iv + i] = v;
    let update = fround(stepSize * m);
    if (!plain) {
      let vhat = v;
      if (amsgrad) {
        vhat = Math.max(heap[ix + i], v);
        heap[ix + i] = vhat;
      }
      if (nesterov) update = fround(fround(gradCoef * g) + update);
      update = fround(update / fround(fround(fround(Math.sqrt(vhat)) * invBiasCorrection2Sqrt) + eps));
    }
    heap[ip + i] = fround(p - update);
  }
}
