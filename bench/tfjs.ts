// TF.js peers (@tensorflow/tfjs-core with the cpu and wasm backends) for the optimizers TF.js
// has, with the hyperparameters of simdopt's benchmark configurations.
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';

const require = createRequire(import.meta.url);
setWasmPaths(`${dirname(require.resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm'))}/`);

const MAKERS: Record<string, () => tf.Optimizer> = {
  sgd: () => tf.train.sgd(1e-3),
  'sgd-momentum': () => tf.train.momentum(1e-3, 0.9),
  'sgd-nesterov': () => tf.train.momentum(1e-3, 0.9, true),
  adam: () => tf.train.adam(1e-3, 0.9, 0.999, 1e-8),
  // No Adagrad: TF.js divides by sqrt(sum + 1e-7), not sqrt(sum) + eps, a different update for
  // small gradients (they differ by 87% of a step on the benchmark's data), so it is no peer.
  // No RMSprop either: TF.js puts eps under the square root, sqrt(ms + eps), so for small
  // gradients its step differs from PyTorch's by most of a step.
  adamax: () => tf.train.adamax(2e-3, 0.9, 0.999, 1e-8, 0),
  // No Adadelta: TF.js's first step is p -= lr*g (p = 1, g = 0.5, lr = 1 gives 0.5), where
  // PyTorch's is sqrt(eps)/sqrt(0.1 g^2 + eps) * g (0.99684).
};

export const TFJS_OPTIMIZERS = Object.keys(MAKERS);

export interface TfPeer {
  step(): void;
  /** Current parameter values (waits for the backend). */
  read(): Float32Array;
  dispose(): void;
}

/** Switches TF.js to `backend` ('cpu' or 'wasm') and builds the optimizer over a copy of `p0` with gradient `g`. */
export async function tfPeer(backend: 'cpu' | 'wasm', name: string, p0: Float32Array, g: Float32Array): Promise<TfPeer | undefined> {
  const make = MAKERS[name];
  if (!make) return undefined;
  if (tf.getBackend() !== backend) {
    await tf.setBackend(backend);
    await tf.ready();
  }
  const v = tf.variable(tf.tensor1d(p0));
  const grad = tf.tensor1d(g);
  const opt = make();
  return {
    step: () => opt.applyGradients({ [v.name]: grad }),
    read: () => v.dataSync() as Float32Array,
    dispose: () => { opt.dispose(); v.dispose(); grad.dispose(); },
  };
}

/** Silences TF.js's console banner about tfjs-node. */
export function quietTf(): void {
  tf.env().set('IS_TEST', true);
}
