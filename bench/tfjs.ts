// TF.js peers (@tensorflow/tfjs-core with the cpu and wasm backends), keyed by registry key,
// for the optimizers TF.js has the same update for, with the hyperparameters of the simdopt
// optimizer they are compared with. An entry without one is not compared with TF.js.
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import type { Hyper } from './plain.js';

const require = createRequire(import.meta.url);
setWasmPaths(`${dirname(require.resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm'))}/`);

const sgd = (h: Hyper) => (h.momentum === 0 ? tf.train.sgd(h.lr) : tf.train.momentum(h.lr, h.momentum, h.nesterov));

const MAKERS: Record<string, (h: Hyper) => tf.Optimizer> = {
  sgd, momentum: sgd, nag: sgd,
  adam: (h) => tf.train.adam(h.lr, h.betas[0], h.betas[1], h.eps),
  // No Adagrad: TF.js divides by sqrt(sum + 1e-7), not sqrt(sum) + eps, a different update for
  // small gradients (they differ by 87% of a step on the benchmark's data), so it is no peer.
  // No RMSprop either: TF.js puts eps under the square root, sqrt(ms + eps), so for small
  // gradients its step differs from PyTorch's by most of a step.
  adamax: (h) => tf.train.adamax(h.lr, h.betas[0], h.betas[1], h.eps, 0),
  // No Adadelta: TF.js's first step is p -= lr*g (p = 1, g = 0.5, lr = 1 gives 0.5), where
  // PyTorch's is sqrt(eps)/sqrt(0.1 g^2 + eps) * g (0.99684).
};

/** True when TF.js has a peer for the registry entry `key`. */
export const hasTfPeer = (key: string): boolean => key in MAKERS;

export interface TfPeer {
  step(): void;
  /** Current parameter values (waits for the backend). */
  read(): Float32Array;
  dispose(): void;
}

/**
 * Switches TF.js to `backend` ('cpu' or 'wasm') and builds the peer of registry entry `key`
 * with hyperparameters `h` over a copy of `p0` with gradient `g`.
 */
export async function tfPeer(backend: 'cpu' | 'wasm', key: string, h: Hyper, p0: Float32Array, g: Float32Array): Promise<TfPeer | undefined> {
  const make = MAKERS[key];
  if (!make) return undefined;
  if (tf.getBackend() !== backend) {
    await tf.setBackend(backend);
    await tf.ready();
  }
  const v = tf.variable(tf.tensor1d(p0));
  const grad = tf.tensor1d(g);
  const opt = make(h);
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
