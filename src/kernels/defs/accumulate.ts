import { add, defineKernel, div } from '../dsl.js';

/** Gradient accumulation: add a micro-batch's gradient to the sum, or hand the sum (or mean) to the optimizer. */
export default defineKernel({
  name: 'accumulate',
  doc: {
    summary: 'Gradient accumulation: adds the gradient to the accumulator, or (apply) writes the sum or mean of the window into the gradient and clears the accumulator.',
    rule: `acc = grad + acc                      (not apply)
grad = (grad + acc) / count; acc = 0  (apply, mean)
grad = grad + acc; acc = 0            (apply, not mean)`,
    mirrors: 'keras.optimizers.BaseOptimizer with gradient_accumulation_steps (keras/src/optimizers/base_optimizer.py: ' +
      '_backend_increment_gradient_accumulators, then (g + acc_g) / steps at the update step); optax.MultiSteps with use_grad_mean=False for the sum',
    notes: '`count` is the number of micro-batches of the window (every_k). optax\'s MultiSteps averages by a running mean ' +
      '(acc + (g - acc) / (n + 1)), which rounds differently (a few ulps).',
  },
  arrays: {
    grad: { access: 'readwrite', doc: 'this micro-batch\'s gradient; with apply, replaced by the window\'s sum or mean' },
    acc: { access: 'readwrite', doc: 'the sum of the window\'s earlier gradients; cleared by apply' },
  },
  scalars: {
    count: 'micro-batches in the window (apply, mean)',
  },
  flags: {
    apply: { doc: 'the last micro-batch of the window: write the result into grad and clear acc' },
    mean: { doc: 'divide the sum by count (with apply)' },
  },
  body({ grad, acc }, s, f) {
    const g = grad.load();
    const a = acc.load();
    const sum = add(g, a);
    if (!f.apply) {
      acc.store(sum);
      return;
    }
    grad.store(f.mean ? div(sum, s.count) : sum);
    acc.store(0);
  },
});
