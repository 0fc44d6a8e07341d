// Self-test module for independent WebAssembly implementations (e.g. wabt's wasm-interp):
// the kernels plus a driver that generates data with an integer PRNG, runs every kernel with
// several flag combinations for a few steps, and returns an FNV-1a hash of all the results.
// It owns its memory and imports nothing. test/selftest.test.ts runs the same driver over the
// JS twins and requires the same hash. The kernel calls are generated (runCase, from the
// named cases in src/kernels/selftest-cases.ts); keep the rest of the two drivers in step.
import { CASE_COUNT, runCase } from "./generated/selftest-cases";
import { sumSquares, sum, maxAbs, allFinite, countNonzero, sumAbs, sumSquaresDecayed, dotDecayedDelta, dot } from "./kernels/reduce";
import { gemmPack, gemm } from "./kernels/gemm";
import { rowMeanSquares, colMeanSquares, adafactorUpdate } from "./kernels/factored";

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

/** Runs every kernel and returns the hash of everything they produced. */
export function run(): u32 {
  seed = 0x2545f491;
  hash = 2166136261;
  for (let c = 0; c < CASE_COUNT; c++) {
    reset();
    for (let s = 0; s < 3; s++) {
      runCase(c, at(0), at(1), at(2), at(3), at(4), N);
      fill(1, false); // a new gradient for the next step
    }
    mixArrays();
  }
  reset();
  mixF64(sumSquares(at(2), N));
  mixF64(<f64>maxAbs(at(2), N));
  mix(<u32>allFinite(at(2), N));
  mixF64(sumAbs(at(2), N));
  mixF64(dot(at(1), at(2), N));
  store<f32>(at(2) + 40, Infinity);
  mix(<u32>allFinite(at(2), N));
  store<f32>(at(2) + 44, 0);
  store<f32>(at(2) + 48, NaN);
  mix(<u32>countNonzero(at(2), N));
  reset();
  mixF64(sumAbs(at(0), N));
  mixF64(sumSquaresDecayed(at(1), at(0), N, 0.0));
  mixF64(sumSquaresDecayed(at(1), at(0), N, 0.01));
  mixF64(dotDecayedDelta(at(1), at(0), at(2), N, 0.0));
  mixF64(dotDecayedDelta(at(1), at(0), at(2), N, 0.5));
  // The matrix multiply: slot 0 as A (17×59), slot 1 as B (59×17), C in slot 2; B packed at
  // slot 3 (1,416 floats, into slot 4): C = A·B, then C = 0.5·Aᵀ(59×17 read as 17×59)·B + 2·C.
  reset();
  gemmPack(at(1), 17, 1, 59, 17, at(3));
  gemm(at(0), 59, 1, at(3), at(2), 17, 17, 17, 59, 1.0, 0.0);
  gemm(at(0), 1, 17, at(3), at(2), 17, 17, 17, 59, 0.5, 2.0);
  mixArrays();
  // Adafactor's factored kernels, slot 1 as a 17×59 gradient (17·59 = 1003): its row means into
  // slot 3, its column means into slot 4, then the update from those factors into slot 2, and
  // negated (maximize) into slot 0.
  reset();
  mixF64(sum(at(1), N));
  rowMeanSquares(at(1), 17, 59, at(3));
  colMeanSquares(at(1), 17, 59, 59, at(4));
  adafactorUpdate(at(3), at(4), at(1), at(2), 17, 59, 0.75, 1e-6, 0);
  adafactorUpdate(at(3), at(4), at(1), at(0), 17, 59, 0.5, 1e-6, 1);
  mixArrays();
  return hash;
}
