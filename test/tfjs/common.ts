// What the TensorFlow.js adapter's tests share: TF.js (the union package, as users import
// it) on its cpu and wasm backends, deterministic data, and a small tfjs-layers MLP with
// fixed initial weights.
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { prng } from '../helpers.js';

// tfjs-backend-wasm in Node loads its .wasm from a path (its README, "Using bundlers").
setWasmPaths(`${dirname(createRequire(import.meta.url).resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm'))}/`);
// No console banner about tfjs-node. (IS_TEST would also silence it, but it turns on TF.js's
// kernel leak check, which the wasm backend's own fused matMul fails.)
tf.env().set('PROD', true);

export { tf };

/** The TF.js backends the adapter is tested on in Node. */
export const TF_BACKENDS = ['cpu', 'wasm'] as const;

/** Makes `name` TF.js's backend. */
export async function useBackend(name: string): Promise<void> {
  if (tf.getBackend() !== name) {
    if (!(await tf.setBackend(name))) throw new Error(`TF.js backend ${name} did not initialise`);
  }
  await tf.ready();
}

/** Uniform values in [-scale, scale) from a seeded PRNG. */
export function values(n: number, seed: number, scale = 1): Float32Array {
  const r = prng(seed);
  return Float32Array.from({ length: n }, () => (r() * 2 - 1) * scale);
}

/** Inputs and targets of a small regression task: y = sin(x0) + x1·x2 (+ uniform noise) over 8 features. */
export function regressionData(n = 64, d = 8, noise = 0): { xs: tf.Tensor2D; ys: tf.Tensor2D; d: number } {
  const x = values(n * d, 11);
  const e = values(n, 99, noise);
  const y = Float32Array.from({ length: n }, (_, r) => Math.sin(x[r * d]) + x[r * d + 1] * x[r * d + 2] + e[r]);
  return { xs: tf.tensor2d(x, [n, d]), ys: tf.tensor2d(y, [n, 1]), d };
}

/** A d–32–32–1 ReLU MLP whose weights come from `seed` (the same seed, the same model). */
export function mlp(d: number, seed = 5, hidden = 32): tf.Sequential {
  const model = tf.sequential({
    layers: [
      tf.layers.dense({ units: hidden, activation: 'relu', inputShape: [d] }),
      tf.layers.dense({ units: hidden, activation: 'relu' }),
      tf.layers.dense({ units: 1 }),
    ],
  });
  tf.tidy(() => model.setWeights(model.getWeights().map((w, i) => tf.tensor(values(w.size, seed * 100 + i, 0.4), w.shape))));
  return model;
}

/** Copies of a model's weights, as float32 arrays. */
export function weightsOf(model: tf.LayersModel): Float32Array[] {
  return model.getWeights().map((w) => (w.dataSync() as Float32Array).slice());
}
