// The MNIST task's network: a ReLU multilayer perceptron over mini-batches, its weights in a
// ParameterStore, forward and backward passes on the store's matrix multiply (store.matmul); bias,
// ReLU and softmax cross-entropy (and their gradients) are element-wise loops here.
import type { MatrixLike } from '../matmul.js';
import type { Parameter, ParameterStore } from '../store.js';
import type { ImageSet } from './mnist.js';
import { xorshift } from './spirals.js';

/** The buffers of one batch size: activations and their gradients, input first. */
interface Workspace {
  acts: MatrixLike[];
  deltas: MatrixLike[] | undefined;
}

/**
 * A ReLU MLP with layer widths `layers` (input first: `[784, 256, 10]`) over parameters of one
 * store, trained on mini-batches with softmax cross-entropy. Weight `i` is `w<i>` with shape
 * `[out, in]` (as PyTorch's Linear), bias `i` is `b<i>`.
 */
export class BatchMLP {
  readonly weights: Parameter[] = [];
  readonly biases: Parameter[] = [];
  readonly #store: ParameterStore;
  readonly #work = new Map<number, Workspace>();

  /** Registers the layers and initialises them as PyTorch's Linear does (uniform ±1/sqrt(in)), from `seed`. */
  constructor(store: ParameterStore, readonly layers: readonly number[], seed: number) {
    if (layers.length < 2) throw new RangeError('BatchMLP: needs at least an input and an output layer');
    this.#store = store;
    const rand = xorshift(seed);
    for (let l = 0; l + 1 < layers.length; l++) {
      const fanIn = layers[l], fanOut = layers[l + 1], bound = 1 / Math.sqrt(fanIn);
      const init = (n: number) => Float32Array.from({ length: n }, () => (rand() * 2 - 1) * bound);
      this.weights.push(store.parameter(`w${l}`, { shape: [fanOut, fanIn], values: init(fanOut * fanIn) }));
      this.biases.push(store.parameter(`b${l}`, { shape: [fanOut], values: init(fanOut) }));
    }
  }

  /** All parameters, layer by layer. */
  get parameters(): Parameter[] {
    return this.weights.flatMap((w, i) => [w, this.biases[i]]);
  }

  #workspace(n: number, backward: boolean): Workspace {
    let w = this.#work.get(n);
    if (!w) this.#work.set(n, (w = { acts: this.layers.map((width) => this.#store.matrix(n, width)), deltas: undefined }));
    if (backward && !w.deltas) w.deltas = this.layers.map((width, l) => (l === 0 ? w!.acts[0] : this.#store.matrix(n, width)));
    return w;
  }

  /** Copies images `order[from .. from + n)` of `set` into the input rows and runs the forward pass; returns the workspace. */
  #forward(set: ImageSet, order: ArrayLike<number> | undefined, from: number, n: number, backward: boolean): Workspace {
    const w = this.#workspace(n, backward), width = this.layers[0], input = w.acts[0].data;
    for (let k = 0; k < n; k++) {
      const i = order ? order[from + k] : from + k;
      input.set(set.x.subarray(i * width, (i + 1) * width), k * width);
    }
    const L = this.weights.length;
    for (let l = 0; l < L; l++) {
      const z = w.acts[l + 1];
      this.#store.matmul(w.acts[l], this.weights[l], z, { transB: true });
      const b = this.biases[l].data, d = z.data, cols = z.cols, hidden = l + 1 < L;
      for (let r = 0; r < n; r++) {
        const o = r * cols;
        for (let c = 0; c < cols; c++) {
          const v = d[o + c] + b[c];
          d[o + c] = hidden && v < 0 ? 0 : v;
        }
      }
    }
    return w;
  }

  /**
   * Softmax cross-entropy of the logits against the labels of the batch: the summed loss and
   * the number of correct predictions; writes `(softmax - onehot) / n` into `grad` when given.
   */
  #softmax(logits: MatrixLike, set: ImageSet, order: ArrayLike<number> | undefined, from: number, grad?: MatrixLike): { loss: number; correct: number } {
    const n = logits.rows, C = logits.cols, z = logits.data, g = grad?.data;
    let loss = 0, correct = 0;
    for (let k = 0; k < n; k++) {
      const o = k * C, label = set.y[order ? order[from + k] : from + k];
      let max = -Infinity, best = -1;
      for (let c = 0; c < C; c++) if (z[o + c] > max) { max = z[o + c]; best = c; }
      let sum = 0;
      for (let c = 0; c < C; c++) sum += Math.exp(z[o + c] - max);
      loss += Math.log(sum) + max - z[o + label];
      if (best === label) correct++;
      if (g) for (let c = 0; c < C; c++) g[o + c] = (Math.exp(z[o + c] - max) / sum - (c === label ? 1 : 0)) / n;
    }
    return { loss, correct };
  }

  /**
   * One mini-batch, images `order[from .. from + n)` of `set`: the mean loss, with its
   * gradient written into the parameters' `grad` (overwritten, not accumulated).
   */
  lossAndGrad(set: ImageSet, order: ArrayLike<number>, from: number, n: number): number {
    const w = this.#forward(set, order, from, n, true), L = this.weights.length, deltas = w.deltas!;
    const { loss } = this.#softmax(w.acts[L], set, order, from, deltas[L]);
    for (let l = L - 1; l >= 0; l--) {
      const W = this.weights[l], d = deltas[l + 1];
      this.#store.matmul(d, w.acts[l], { data: W.grad, rows: W.shape[0], cols: W.shape[1] }, { transA: true });
      const gb = this.biases[l].grad, dd = d.data, cols = d.cols;
      gb.fill(0);
      for (let r = 0; r < n; r++) for (let c = 0; c < cols; c++) gb[c] += dd[r * cols + c];
      if (l > 0) {
        const prev = deltas[l];
        this.#store.matmul(d, W, prev);
        const p = prev.data, a = w.acts[l].data;
        for (let j = 0; j < p.length; j++) if (a[j] <= 0) p[j] = 0; // ReLU'
      }
    }
    return loss / n;
  }

  /** Mean loss and accuracy over all of `set`, in batches of `batch`. */
  evaluate(set: ImageSet, batch = 500): { loss: number; accuracy: number } {
    let loss = 0, correct = 0;
    for (let from = 0; from < set.n; from += batch) {
      const n = Math.min(batch, set.n - from);
      const w = this.#forward(set, undefined, from, n, false);
      const r = this.#softmax(w.acts[this.weights.length], set, undefined, from);
      loss += r.loss;
      correct += r.correct;
    }
    return { loss: loss / set.n, accuracy: correct / set.n };
  }
}
