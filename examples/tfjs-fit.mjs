// simdopt inside TensorFlow.js's model.fit: AdamW with a 1Cycle schedule and gradient
// clipping, as a drop-in TF.js optimizer. Runs in plain Node: node examples/tfjs-fit.mjs
import * as tf from '@tensorflow/tfjs';
import { AdamW, OneCycleLR } from 'simdopt';
import { tfjsOptimizer } from 'simdopt/tfjs';

// Fit y = sin(3x) on [-1, 1] with a small tanh network.
const xs = tf.linspace(-1, 1, 256).reshape([256, 1]);
const ys = tf.sin(xs.mul(3));
const model = tf.sequential({
  layers: [
    tf.layers.dense({ units: 32, activation: 'tanh', inputShape: [1] }),
    tf.layers.dense({ units: 32, activation: 'tanh' }),
    tf.layers.dense({ units: 1 }),
  ],
});

const epochs = 40, batchSize = 32;
const optimizer = await tfjsOptimizer(AdamW, { lr: 1e-3, weightDecay: 1e-4 }, {
  scheduler: (opt) => new OneCycleLR(opt, { maxLr: 1e-1, epochs, stepsPerEpoch: 256 / batchSize }),
  clipGradNorm: 1,
});
model.compile({ optimizer, loss: 'meanSquaredError' });
const { history } = await model.fit(xs, ys, { epochs, batchSize, verbose: 0 });

console.log(`loss ${history.loss[0].toFixed(4)} -> ${history.loss.at(-1).toFixed(4)} ` +
  `in ${optimizer.iterations} steps (simdopt ${optimizer.store.backend} kernels, TF.js ${tf.getBackend()})`);
