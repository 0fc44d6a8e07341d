// Self-test module for independent WebAssembly implementations (e.g. wabt's wasm-interp):
// the kernels plus a driver that generates data with an integer PRNG, runs every kernel with
// several flag combinations for a few steps, and returns an FNV-1a hash of all the results.
// It owns its memory and imports nothing. test/selftest.test.ts runs the same driver over the
// JS twins and requires the same hash. Keep the two drivers in step.
import { sgd } from "./kernels/sgd";
import { adam } from "./kernels/adam";
import { adagrad } from "./kernels/adagrad";
import { rmsprop } from "./kernels/rmsprop";
import { adamax } from "./kernels/adamax";
import { adadelta } from "./kernels/adadelta";
import { lion } from "./kernels/lion";
import { scale } from "./kernels/scale";
import { sumSquares, maxAbs, allFinite, clamp } from "./kernels/reduce";

const N: i32 = 1003; // not a multiple of 4: the partial-vector path runs too
const BASE: usize = 16384; // above the module's static data
const STRIDE: usize = 4096;

let seed: u32 = 0x2545f491;

function next(): u32 {
  seed ^= seed << 13;
  seed ^= seed >> 17;
  seed ^= seed << 5;
  return seed;
}

/** A float in [-1, 1) from 24 random bits (exact). */
function unit(): f32 {
  return <f32>(next() >> 8) / 8388608.0 - 1.0;
}

function at(k: i32): usize {
  return BASE + <usize>k * STRIDE;
}

function fill(k: i32, positive: bool): void {
  for (let i = 0; i < N; i++) {
    const v = unit();
    store<f32>(at(k) + (<usize>i << 2), positive ? Mathf.abs(v) : v);
  }
}

let hash: u32 = 2166136261;

function mix(word: u32): void {
  for (let b = 0; b < 4; b++) {
    hash ^= (word >> (b * 8)) & 0xff;
    hash *= 16777619;
  }
}

/** Hashes the five arrays; every NaN counts as the canonical NaN (payloads may differ between runtimes). */
function mixArrays(): void {
  for (let k = 0; k < 5; k++) {
    for (let i = 0; i < N; i++) {
      const v = load<f32>(at(k) + (<usize>i << 2));
      mix(v != v ? 0x7fc00000 : reinterpret<u32>(v));
    }
  }
}

function mixF64(x: f64): void {
  const bits = x != x ? 0x7ff8000000000000 : reinterpret<u64>(x);
  mix(<u32>bits);
  mix(<u32>(bits >> 32));
}

/** Fresh data: params and grads signed, state arrays non-negative (second moments). */
function reset(): void {
  fill(0, false);
  fill(1, false);
  fill(2, false);
  fill(3, true);
  fill(4, true);
}

function step(kernel: i32, flags: u32): void {
  const p = at(0), g = at(1), a = at(2), b = at(3), c = at(4);
  if (kernel == 0) sgd(p, g, a, N, 0.01, 0.001, 0.9, 1.0, flags);
  else if (kernel == 1) adam(p, g, a, b, c, N, 0.9, 0.1, 0.999, 0.001, 0.0123, 31.6, 1e-8, 0.01, 0.999, 0.004, flags);
  else if (kernel == 2) adagrad(p, g, b, N, 0.05, 0.001, 1e-10, flags);
  else if (kernel == 3) rmsprop(p, g, b, a, c, N, 0.01, 0.99, 0.01, 1e-8, 0.001, 0.9, flags);
  else if (kernel == 4) adamax(p, g, a, b, N, 0.9, 0.1, 0.999, 0.02, 1e-8, 0.001, flags);
  else if (kernel == 5) adadelta(p, g, b, c, N, 1.0, 0.9, 0.1, 1e-6, 0.001, flags);
  else lion(p, g, a, N, 0.0003, 0.9, 0.1, 0.99, 0.01, 0.9999, flags);
}

/** [kernel, flags] pairs (kernel numbers as in `step`); the JS driver lists the same. */
const CASES: StaticArray<i32> = [
  0, 0, 0, 2 | 1, 0, 16 | 64, 0, 16 | 32, 0, 16 | 2,
  1, 0, 1, 8 | 2, 1, 4 | 1, 1, 32 | 4, 1, 256, 1, 8 | 32 | 1,
  2, 0, 2, 2 | 1, 3, 0, 3, 128 | 16, 3, 2 | 1 | 16,
  4, 0, 4, 2 | 1, 5, 0, 5, 2 | 1, 6, 0, 6, 4 | 1,
];

/** Runs every kernel and returns the hash of everything they produced. */
export function run(): u32 {
  seed = 0x2545f491;
  hash = 2166136261;
  for (let i = 0; i < CASES.length; i += 2) {
    reset();
    for (let s = 0; s < 3; s++) {
      step(CASES[i], <u32>CASES[i + 1]);
      fill(1, false); // a new gradient for the next step
    }
    mixArrays();
  }
  reset();
  scale(at(0), N, 0.75);
  clamp(at(1), N, -0.5, 0.25);
  mixArrays();
  mixF64(sumSquares(at(2), N));
  mixF64(<f64>maxAbs(at(2), N));
  mix(<u32>allFinite(at(2), N));
  store<f32>(at(2) + 40, Infinity);
  mix(<u32>allFinite(at(2), N));
  return hash;
}
