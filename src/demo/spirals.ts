// The demo task: two interleaved spirals, generated deterministically (integer PRNG), the
// classic small problem a linear model cannot solve.

/** A labelled 2-D data set. */
export interface Dataset {
  /** Points, interleaved x0, y0, x1, y1, ... */
  x: Float64Array;
  /** Class of each point, 0 or 1. */
  y: Uint8Array;
  n: number;
}

/** How far each spiral winds. */
export const TURNS = 1.25;

/** xorshift32 over integers: the same sequence in every engine. */
export function xorshift(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13; s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5; s >>>= 0;
    return s / 4294967296;
  };
}

/**
 * `n` points on two spirals (n/2 each), TURNS turns each, with Gaussian-like noise of `noise`.
 * Coordinates lie in about [-1, 1].
 */
export function spirals(n = 400, noise = 0.04, seed = 7): Dataset {
  const rand = xorshift(seed);
  const x = new Float64Array(2 * n), y = new Uint8Array(n);
  const half = Math.floor(n / 2);
  for (let i = 0; i < n; i++) {
    const cls = i < half ? 0 : 1;
    const k = cls === 0 ? i : i - half;
    const m = cls === 0 ? half : n - half;
    const t = (k / m) * TURNS * 2 * Math.PI + 0.3;
    const r = (k / m) * 0.95 + 0.05;
    const sign = cls === 0 ? 1 : -1;
    // sum of three uniforms: a cheap, deterministic bell-shaped noise
    const nx = (rand() + rand() + rand() - 1.5) * noise * 2;
    const ny = (rand() + rand() + rand() - 1.5) * noise * 2;
    x[2 * i] = sign * r * Math.cos(t) + nx;
    x[2 * i + 1] = sign * r * Math.sin(t) + ny;
    y[i] = cls;
  }
  return { x, y, n };
}
