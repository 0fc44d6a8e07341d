// A small multilayer perceptron whose weights live in a ParameterStore: forward and backward
// passes written out by hand (tanh hidden layers, softmax cross-entropy), for the demo.
import type { Parameter, ParameterStore } from '../store.js';
import { xorshift, type Dataset } from './spirals.js';

/** Layer widths, input first: e.g. [2, 32, 32, 2]. */
export type Layers = readonly number[];

/** A multilayer perceptron over parameters of one store. */
export class MLP {
  /** Weights (out × in, row-major) and biases of each layer. */
  readonly weights: Parameter[] = [];
  readonly biases: Parameter[] = [];

  /**
   * Registers the layers' parameters as `<prefix>w<i>` / `<prefix>b<i>` and initialises them
   * deterministically (uniform ±sqrt(6/(in+out)), Glorot; biases 0).
   */
  constructor(store: ParameterStore, readonly layers: Layers, seed = 1, prefix = '') {
    if (layers.length < 2) throw new RangeError('MLP: needs at least an input and an output layer');
    const rand = xorshift(seed);
    for (let l = 0; l + 1 < layers.length; l++) {
      const fanIn = layers[l], fanOut = layers[l + 1];
      const w = store.parameter(`${prefix}w${l}`, { shape: [fanOut, fanIn] }); // torch.nn.Linear's layout: out × in
      const limit = Math.sqrt(6 / (fanIn + fanOut));
      const d = w.data;
      for (let i = 0; i < d.length; i++) d[i] = (rand() * 2 - 1) * limit;
      this.weights.push(w);
      this.biases.push(store.parameter(`${prefix}b${l}`, fanOut));
    }
  }

  /** All parameters, layer by layer. */
  get parameters(): Parameter[] {
    return this.weights.flatMap((w, i) => [w, this.biases[i]]);
  }

  /** Class scores (logits) of one input. */
  logits(x0: number, x1: number): Float64Array {
    let a: Float64Array = Float64Array.of(x0, x1);
    for (let l = 0; l < this.weights.length; l++) {
      const z = this.#layer(l, a);
      if (l + 1 < this.weights.length) for (let i = 0; i < z.length; i++) z[i] = Math.tanh(z[i]);
      a = z;
    }
    return a;
  }

  #layer(l: number, a: Float64Array): Float64Array {
    const W = this.weights[l].data, b = this.biases[l].data;
    const fanIn = this.layers[l], fanOut = this.layers[l + 1];
    const z = new Float64Array(fanOut);
    for (let o = 0; o < fanOut; o++) {
      let s = b[o];
      const row = o * fanIn;
      for (let i = 0; i < fanIn; i++) s += W[row + i] * a[i];
      z[o] = s;
    }
    return z;
  }

  #buffers: { n: number; acts: Float64Array[]; deltas: Float64Array[] } | undefined;

  /**
   * Mean softmax cross-entropy over `data` and its gradient, written into the parameters'
   * `grad` (overwritten, not accumulated). Returns the loss and the accuracy. The whole batch
   * goes through each layer at once, in preallocated float64 buffers.
   */
  lossAndGrad(data: Dataset): { loss: number; accuracy: number } {
    const L = this.weights.length, n = data.n, widths = this.layers;
    if (!this.#buffers || this.#buffers.n !== n) {
      this.#buffers = { n, acts: widths.map((w) => new Float64Array(n * w)), deltas: widths.map((w) => new Float64Array(n * w)) };
    }
    const { acts, deltas } = this.#buffers;
    acts[0].set(data.x);
    // forward: acts[l+1][k, o] = f(b[o] + sum_i W[o, i] acts[l][k, i])
    for (let l = 0; l < L; l++) {
      const W = this.weights[l].data, b = this.biases[l].data;
      const fanIn = widths[l], fanOut = widths[l + 1];
      const a = acts[l], z = acts[l + 1];
      const hidden = l + 1 < L;
      for (let k = 0; k < n; k++) {
        const ak = k * fanIn, zk = k * fanOut;
        for (let o = 0; o < fanOut; o++) {
          let s = b[o];
          const row = o * fanIn;
          for (let i = 0; i < fanIn; i++) s += W[row + i] * a[ak + i];
          z[zk + o] = hidden ? Math.tanh(s) : s;
        }
      }
    }
    // softmax cross-entropy; dL/dlogits = (p - onehot) / n
    const C = widths[L], out = acts[L], dOut = deltas[L];
    let loss = 0, correct = 0;
    for (let k = 0; k < n; k++) {
      const base = k * C;
      let max = -Infinity, best = 0;
      for (let c = 0; c < C; c++) {
        if (out[base + c] > max) { max = out[base + c]; best = c; }
      }
      let sum = 0;
      for (let c = 0; c < C; c++) { const e = Math.exp(out[base + c] - max); dOut[base + c] = e; sum += e; }
      const label = data.y[k];
      for (let c = 0; c < C; c++) dOut[base + c] /= sum;
      loss -= Math.log(Math.max(dOut[base + label], 1e-300));
      if (best === label) correct++;
      dOut[base + label] -= 1;
      for (let c = 0; c < C; c++) dOut[base + c] /= n;
    }
    // backward
    for (let l = L - 1; l >= 0; l--) {
      const W = this.weights[l].data, gW = this.weights[l].grad, gb = this.biases[l].grad;
      const fanIn = widths[l], fanOut = widths[l + 1];
      const a = acts[l], d = deltas[l + 1], prev = deltas[l];
      const sW = new Float64Array(fanIn * fanOut), sb = new Float64Array(fanOut);
      if (l > 0) prev.fill(0);
      for (let k = 0; k < n; k++) {
        const ak = k * fanIn, dk = k * fanOut;
        for (let o = 0; o < fanOut; o++) {
          const g = d[dk + o];
          if (g === 0) continue;
          sb[o] += g;
          const row = o * fanIn;
          for (let i = 0; i < fanIn; i++) sW[row + i] += g * a[ak + i];
          if (l > 0) for (let i = 0; i < fanIn; i++) prev[ak + i] += W[row + i] * g;
        }
      }
      if (l > 0) for (let j = 0; j < n * fanIn; j++) prev[j] *= 1 - a[j] * a[j]; // tanh'
      gW.set(sW);
      gb.set(sb);
    }
    return { loss: loss / n, accuracy: correct / n };
  }
}
