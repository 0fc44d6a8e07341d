// JS twin of assembly/kernels/adadelta.ts: the same operations in the same order, each rounded
// to float32 with Math.fround, so the results equal the SIMD kernel's bit for bit.
import { MAXIMIZE, WEIGHT_DECAY } from './flags.js';

const fround = Math.fround;

/** Adadelta step; arguments as the WASM export `adadelta` (see assembly/kernels/adadelta.ts). */
export function adadelta(
  heap: Float32Array,
  param: number, grad: number, squareAvg: number, accDelta: number, n: number,
  lr: number, rho: number, oneMinusRho: number, eps: number, weightDecay: number, flags: number,
): void {
  const ip = param >>> 2, ig = grad >>> 2, iq = squareAvg >>> 2, ia = accDelta >>> 2;
  lr = fround(lr); rho = fround(rho); oneMinusRho = fround(oneMinusRho); eps = fround(eps); weightDecay = fround(weightDecay);
  const maximize = (flags & MAXIMIZE) !== 0;
  const wd = (flags & WEIGHT_DECAY) !== 0;
  for (let i = 0; i < n; i++) {
    const p = heap[ip + i];
    let g = maximize ? -heap[ig + i] : heap[ig + i];
    if (wd) g = fround(g + fround(weightDecay * p));
    const sq = fround(fround(rho * heap[iq + i]) + fround(fround(oneMinusRho * g) * g));
    heap[iq + i] = sq;
    const std = fround(Math.sqrt(fround(sq + eps)));
    const acc = heap[ia + i];
    const delta = fround(fround(fround(Math.sqrt(fround(acc + eps))) / std) * g);
    heap[ia + i] = fround(fround(rho * acc) + fround(fround(oneMinusRho * delta) * delta));
    heap[ip + i] = fround(p - fround(lr * delta));
  }
}
