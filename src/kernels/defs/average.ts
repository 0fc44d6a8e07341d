import { add, defineKernel, div, mul, sub } from '../dsl.js';

/** Weight averaging: one update of an exponential moving average (EMA) or of SWA's running mean. */
export default defineKernel({
  name: 'average',
  doc: {
    summary: 'Moves a running average of the parameters towards their current values: an EMA step (PyTorch\'s lerp) or SWA\'s running mean.',
    rule: `d = param - avg
avg = avg + weight * d              (EMA, |weight| < 0.5: lerp from the start)
avg = param - d * complement        (largeWeight: lerp from the end)
avg = avg + d / count               (swa: the running mean of count values)`,
    mirrors: 'torch.optim.swa_utils: get_ema_multi_avg_fn (torch._foreach_lerp_(avg, param, 1 - decay), whose lerp is aten/src/ATen/native/Lerp.h) ' +
      'and get_swa_avg_fn (avg + (param - avg) / (n_averaged + 1))',
    notes: 'The host supplies weight = 1 - decay (rounded to f32), complement = 1 - weight and count = n_averaged + 1, and picks largeWeight ' +
      'when |weight| >= 0.5, as PyTorch\'s is_lerp_weight_small does. No fused multiply-add (PyTorch\'s vectorised CPU lerp may fuse: one ' +
      'rounding apart).',
  },
  arrays: {
    avg: { access: 'readwrite', doc: 'the running average' },
    param: { access: 'read', doc: 'the parameters\' current values' },
  },
  scalars: {
    weight: 'the lerp weight 1 - decay (EMA)',
    complement: '1 - weight (EMA with largeWeight)',
    count: 'the count n_averaged + 1 (swa)',
  },
  flags: {
    largeWeight: { doc: 'EMA with |weight| >= 0.5: PyTorch\'s lerp computed from the end' },
    swa: { doc: 'the running mean avg + (param - avg) / count instead of an EMA' },
  },
  body({ avg, param }, s, f) {
    const a = avg.load();
    const p = param.load();
    const d = sub(p, a);
    if (f.swa) avg.store(add(a, div(d, s.count)));
    else if (f.largeWeight) avg.store(sub(p, mul(d, s.complement)));
    else avg.store(add(a, mul(s.weight, d)));
  },
});
