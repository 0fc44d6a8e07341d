// Every validation error names the option and the value, and changes nothing.
import { describe, expect, it } from 'vitest';
import {
  Adadelta, Adagrad, Adam, Adamax, AdamW, ExponentialLR, Lion, NAdam, OneCycleLR, ParameterStore, RAdam, ReduceLROnPlateau, RMSprop,
  SGD, StepLR, clipGradNorm, clipGradValue, cosineSchedule, gradNorm, gradsAreFinite, loadCheckpoint, lrRangeTest, saveCheckpoint,
  type Parameter,
} from '../src/index.js';

async function fixture() {
  const store = await ParameterStore.create({ backend: 'wasm' });
  const w = store.parameter('w', [1, 2, 3]);
  const b = store.parameter('b', [4]);
  w.grad.set([0.5, 0.5, 0.5]);
  b.grad.set([1]);
  return { store, w, b };
}

/** Snapshot of the whole arena and its size: "nothing changed" means equal snapshots. */
function snapshot(store: ParameterStore): { bytes: number; heap: Float32Array } {
  return { bytes: store.byteLength, heap: store.dump() };
}

async function expectRejected(make: (w: Parameter, b: Parameter, store: ParameterStore) => unknown, message: RegExp) {
  const { store, w, b } = await fixture();
  const before = snapshot(store);
  expect(() => make(w, b, store)).toThrow(message);
  const after = snapshot(store);
  expect(after.bytes).toBe(before.bytes);
  expect(after.heap).toEqual(before.heap);
}

describe('optimizer options are validated at construction, naming option and value', () => {
  const cases: [string, (w: Parameter, b: Parameter) => unknown, RegExp][] = [
    ['negative lr', (w) => new Adam([w], { lr: -1 }), /Adam: invalid learning rate \(lr\): -1/],
    ['NaN lr', (w) => new SGD([w], { lr: NaN }), /SGD: invalid learning rate \(lr\): NaN \(must be finite\)/],
    ['infinite lr', (w) => new AdamW([w], { lr: Infinity }), /AdamW: invalid learning rate \(lr\): Infinity/],
    ['string lr', (w) => new Adam([w], { lr: '0.1' as never }), /Adam: learning rate \(lr\) must be a number, got "0.1" \(string\)/],
    ['missing SGD lr', (w) => new SGD([w], {} as never), /SGD: option lr is required/],
    ['beta 0 too large', (w) => new Adam([w], { betas: [1.2, 0.999] }), /Adam: invalid beta parameter at index 0: 1.2/],
    ['beta 1 = 1', (w) => new Adam([w], { betas: [0.9, 1] }), /invalid beta parameter at index 1: 1 \(must be in \[0, 1\)\)/],
    ['negative beta', (w) => new AdamW([w], { betas: [-0.1, 0.9] }), /invalid beta parameter at index 0: -0.1/],
    ['NaN beta', (w) => new Adam([w], { betas: [NaN, 0.9] }), /invalid beta parameter at index 0: NaN/],
    ['betas not a pair', (w) => new Adam([w], { betas: [0.9] as never }), /betas must be an array of two numbers, got \[0.9\]/],
    ['beta not a number', (w) => new Adam([w], { betas: [0.9, '0.9'] as never }), /beta parameter at index 1 must be a number, got "0.9"/],
    ['negative eps', (w) => new Adam([w], { eps: -1e-8 }), /invalid epsilon value \(eps\): -1e-8/],
    ['negative weight decay', (w) => new AdamW([w], { weightDecay: -0.1 }), /AdamW: invalid weight decay value \(weightDecay\): -0.1/],
    ['negative SGD weight decay', (w) => new SGD([w], { lr: 0.1, weightDecay: -1 }), /invalid weight decay value \(weightDecay\): -1/],
    ['negative momentum', (w) => new SGD([w], { lr: 0.1, momentum: -0.5 }), /invalid momentum value \(momentum\): -0.5/],
    ['negative dampening', (w) => new SGD([w], { lr: 0.1, momentum: 0.5, dampening: -1 }), /invalid dampening value \(dampening\): -1/],
    ['Nesterov without momentum', (w) => new SGD([w], { lr: 0.1, nesterov: true }), /Nesterov momentum requires a momentum and zero dampening \(momentum: 0, dampening: 0\)/],
    ['Nesterov with dampening', (w) => new SGD([w], { lr: 0.1, momentum: 0.9, dampening: 0.1, nesterov: true }), /Nesterov momentum requires a momentum and zero dampening \(momentum: 0.9, dampening: 0.1\)/],
    ['boolean not a boolean', (w) => new Adam([w], { amsgrad: 1 as never }), /amsgrad must be a boolean, got 1 \(number\)/],
    ['null option', (w) => new Adam([w], { eps: null as never }), /epsilon value \(eps\) must be a number, got null \(null\)/],
    ['unknown option', (w) => new Adam([w], { learningRate: 0.1 } as never), /Adam: unknown option "learningRate"/],
    ['options not an object', (w) => new Adam([w], 0.1 as never), /Adam: options must be an object, got 0.1/],
    ['empty parameter list', () => new Adam([]), /Adam: expected a non-empty array of parameters or of param groups, got an empty array/],
    ['parameters not an array', (w) => new Adam(w as never), /expected a non-empty array/],
    ['not a parameter', () => new Adam([{ params: [new Float32Array(3)] }] as never), /Adam: param group 0: params\[0\] is a Float32Array, not a Parameter/],
    ['empty group', (w) => new Adam([{ params: [w] }, { params: [] }]), /Adam: param group 1: params must be a non-empty array of Parameters, got an empty array/],
    ['invalid group option', (w, b) => new Adam([{ params: [w] }, { params: [b], lr: -0.5 }]), /Adam: param group 1: invalid learning rate \(lr\): -0.5/],
    ['unknown group option', (w, b) => new SGD([{ params: [w] }, { params: [b], momentun: 0.9 } as never], { lr: 0.1 }), /SGD: param group 1: unknown option "momentun"/],
    ['parameter in two groups', (w, b) => new Adam([{ params: [w, b] }, { params: [b] }]), /parameter "b" appears in more than one param group/],
    ['Adagrad negative lrDecay', (w) => new Adagrad([w], { lrDecay: -0.1 }), /Adagrad: invalid lr_decay value \(lrDecay\): -0.1/],
    ['Adagrad negative initial accumulator', (w) => new Adagrad([w], { initialAccumulatorValue: -1 }), /invalid initial accumulator value \(initialAccumulatorValue\): -1/],
    ['Adagrad negative eps', (w) => new Adagrad([w], { eps: -1 }), /Adagrad: invalid epsilon value \(eps\): -1/],
    ['RMSprop negative alpha', (w) => new RMSprop([w], { alpha: -0.5 }), /RMSprop: invalid alpha value \(alpha\): -0.5/],
    ['RMSprop negative momentum', (w) => new RMSprop([w], { momentum: -0.9 }), /RMSprop: invalid momentum value \(momentum\): -0.9/],
    ['RMSprop centered not boolean', (w) => new RMSprop([w], { centered: 'yes' as never }), /RMSprop: centered must be a boolean, got "yes"/],
    ['NAdam negative momentumDecay', (w) => new NAdam([w], { momentumDecay: -4e-3 }), /NAdam: invalid momentum_decay value \(momentumDecay\): -0.004/],
    ['NAdam beta out of range', (w) => new NAdam([w], { betas: [0.9, 1.5] }), /NAdam: invalid beta parameter at index 1: 1.5/],
    ['NAdam decoupledWeightDecay not boolean', (w) => new NAdam([w], { decoupledWeightDecay: 0 as never }), /decoupledWeightDecay must be a boolean, got 0/],
    ['Adamax negative eps', (w) => new Adamax([w], { eps: -1 }), /Adamax: invalid epsilon value \(eps\): -1/],
    ['Adamax beta out of range', (w) => new Adamax([w], { betas: [1, 0.999] }), /Adamax: invalid beta parameter at index 0: 1/],
    ['RAdam negative weight decay', (w) => new RAdam([w], { weightDecay: -1 }), /RAdam: invalid weight decay value \(weightDecay\): -1/],
    ['Adadelta rho above 1', (w) => new Adadelta([w], { rho: 1.1 }), /Adadelta: invalid rho value \(rho\): 1.1 \(must be in \[0, 1\]\)/],
    ['Adadelta negative lr', (w) => new Adadelta([w], { lr: -1 }), /Adadelta: invalid learning rate \(lr\): -1/],
    ['Lion beta out of range', (w) => new Lion([w], { betas: [0.9, -0.1] }), /Lion: invalid beta parameter at index 1: -0.1/],
    ['Lion unknown option eps', (w) => new Lion([w], { eps: 1e-8 } as never), /Lion: unknown option "eps"/],
    ['parameter twice in a list', (w) => new Adam([w, w]), /parameter "w" appears in more than one param group \(or twice in one\)/],
  ];
  for (const [label, make, message] of cases) {
    it(label, () => expectRejected(make, message));
  }

  it('a parameter of another store', async () => {
    const { w } = await fixture();
    const other = (await fixture()).b;
    expect(() => new Adam([w, other])).toThrow(/Adam: param group 0: parameter "b" belongs to another ParameterStore/);
  });

  it('addParamGroup validates and rejects parameters already present', async () => {
    const { store, w, b } = await fixture();
    const opt = new Adam([w]);
    expect(() => opt.addParamGroup({ params: [w] })).toThrow(/param group 1: parameter "w" is already in a param group/);
    expect(() => opt.addParamGroup({ params: [b], eps: -1 })).toThrow(/param group 1: invalid epsilon value \(eps\): -1/);
    expect(opt.paramGroups.length).toBe(1);
    const c = store.parameter('c', 2);
    opt.addParamGroup({ params: [b, c], lr: 0.5 });
    expect(opt.paramGroups[1].lr).toBe(0.5);
    expect(opt.paramGroups[1].betas).toEqual([0.9, 0.999]);
    opt.step();
    expect(opt.state(c).step).toBe(1);
  });

  it('state() of a parameter outside the optimizer', async () => {
    const { w, b } = await fixture();
    expect(() => new Adam([w]).state(b)).toThrow(/Adam: parameter "b" is not in any param group/);
  });
});

describe('hyperparameters written into paramGroups are validated at the next step, before any kernel runs', () => {
  const writes: [string, (g: Record<string, unknown>) => void, RegExp][] = [
    ['lr = NaN', (g) => { g.lr = NaN; }, /invalid learning rate \(lr\): NaN/],
    ['lr = -0.1', (g) => { g.lr = -0.1; }, /invalid learning rate \(lr\): -0.1/],
    ['lr = "fast"', (g) => { g.lr = 'fast'; }, /learning rate \(lr\) must be a number, got "fast"/],
    ['betas[0] = 1', (g) => { (g.betas as number[])[0] = 1; }, /invalid beta parameter at index 0: 1/],
    ['betas = undefined', (g) => { g.betas = undefined; }, /betas must be an array of two numbers, got undefined/],
    ['eps = Infinity', (g) => { g.eps = Infinity; }, /invalid epsilon value \(eps\): Infinity/],
    ['weightDecay = -1', (g) => { g.weightDecay = -1; }, /invalid weight decay value \(weightDecay\): -1/],
  ];
  for (const [label, write, message] of writes) {
    it(label, async () => {
      const { store, w, b } = await fixture();
      const opt = new Adam([{ params: [w] }, { params: [b] }], { lr: 0.1 });
      opt.step();
      write(opt.paramGroups[1] as unknown as Record<string, unknown>);
      const before = snapshot(store);
      const steps = opt.state(w).step;
      expect(() => opt.step()).toThrow(message);
      expect(snapshot(store)).toEqual(before); // group 0 did not step either
      expect(opt.state(w).step).toBe(steps);
    });
  }

  it('SGD: nesterov switched on with zero momentum', async () => {
    const { store, w } = await fixture();
    const opt = new SGD([w], { lr: 0.1 });
    opt.paramGroups[0].nesterov = true;
    const before = snapshot(store);
    expect(() => opt.step()).toThrow(/Nesterov momentum requires a momentum and zero dampening/);
    expect(snapshot(store)).toEqual(before);
  });
});

describe('store input is validated', () => {
  const cases: [string, (s: ParameterStore) => unknown, RegExp][] = [
    ['negative size', (s) => s.parameter('x', -1), /ParameterStore.parameter: parameter "x": invalid size: -1 \(expected a whole number >= 0\)/],
    ['fractional size', (s) => s.parameter('x', 2.5), /parameter "x": invalid size: 2.5/],
    ['NaN size', (s) => s.parameter('x', NaN), /parameter "x": invalid size: NaN/],
    ['unsafe size', (s) => s.parameter('x', 2 ** 60), /parameter "x": invalid size: 1152921504606847000/],
    ['size beyond the 4 GiB arena', (s) => s.parameter('x', 2 ** 31), /more than the 4294967296 bytes \(4 GiB\)/],
    ['duplicate name', (s) => s.parameter('w', 3), /ParameterStore.parameter: a parameter named "w" already exists in this store/],
    ['empty name', (s) => s.parameter('', 3), /ParameterStore.parameter: parameter name must be a non-empty string, got ""/],
    ['non-string name', (s) => s.parameter(7 as never, 3), /parameter name must be a non-empty string, got 7/],
    ['a shape of a negative dimension', (s) => s.parameter('x', { shape: [3, -1] }), /parameter "x": invalid shape\[1\]: -1/],
    ['values that do not fill the shape', (s) => s.parameter('x', { shape: [2, 3], values: [1, 2] }), /parameter "x": 2 values do not fill shape \[2, 3\] \(6 elements\)/],
    ['an unknown parameter option', (s) => s.parameter('x', { shape: [2], dtype: 'f16' } as never), /parameter "x": unknown option "dtype" \(valid: shape, values\)/],
    ['size of the wrong type', (s) => s.parameter('x', '3' as never), /parameter "x": expected a size, an array of initial values or \{ shape, values \}, got "3"/],
  ];
  for (const [label, make, message] of cases) {
    it(label, async () => {
      const { store } = await fixture();
      const before = snapshot(store);
      const count = store.parameters.length;
      expect(() => make(store)).toThrow(message);
      expect(store.parameters.length).toBe(count);
      expect(snapshot(store)).toEqual(before);
      store.parameter('after', 2); // the store still works
    });
  }
});

describe('one message style for optimizers, schedules, clipping, the range test and state loading (src/validate.ts)', () => {
  /** The shapes of src/validate.ts: out of range, wrong type, required, unknown key, refused state. */
  const STYLE = new RegExp('^[A-Za-z.]+: (invalid [^:]+: .+ \\(must be .+\\)|[^:]+ must be .+, got .+|option \\w+ is required.*|' +
    'unknown option "\\w+" \\(valid: .+\\)|.+; nothing was changed)$');
  const messageOf = async (f: () => unknown) => {
    try { await f(); } catch (e) { return (e as Error).message; }
    return 'did not throw';
  };
  const cases: [string, (w: Parameter, b: Parameter, store: ParameterStore) => unknown, string][] = [
    ['optimizer: out of range', (w) => new Adam([w], { lr: -1 }), 'Adam: invalid learning rate (lr): -1 (must be >= 0)'],
    ['optimizer: wrong type', (w) => new Adam([w], { lr: '0.1' as never }), 'Adam: learning rate (lr) must be a number, got "0.1" (string)'],
    ['optimizer: beta', (w) => new Adam([w], { betas: [0.9, 1] }), 'Adam: invalid beta parameter at index 1: 1 (must be in [0, 1))'],
    ['schedule: out of range', (w) => new StepLR(new SGD([w], { lr: 0.1 }), { stepSize: 0 }), 'StepLR: invalid stepSize: 0 (must be a whole number >= 1)'],
    ['schedule: wrong type', (w) => new OneCycleLR(new SGD([w], { lr: 0.1, momentum: 0.9 }), { maxLr: 0.1, totalSteps: 5, threePhase: 1 as never }), 'OneCycleLR: threePhase must be a boolean, got 1 (number)'],
    ['schedule: required', (w) => new ExponentialLR(new SGD([w], { lr: 0.1 }), {} as never), 'ExponentialLR: option gamma is required'],
    ['schedule: unknown option', (w) => new StepLR(new SGD([w], { lr: 0.1 }), { stepSize: 1, gama: 0.5 } as never), 'StepLR: unknown option "gama" (valid: stepSize, gamma)'],
    ['schedule: one of', (w) => new ReduceLROnPlateau(new SGD([w], { lr: 0.1 }), { thresholdMode: 'x' as never }), 'ReduceLROnPlateau: invalid thresholdMode: "x" (must be "rel" or "abs")'],
    ['schedule: per group', (w) => new OneCycleLR(new SGD([w], { lr: 0.1, momentum: 0.9 }), { maxLr: [0.1, 0.2], totalSteps: 10 }), 'OneCycleLR: invalid maxLr: [0.1, 0.2] (must be a single value or an array of 1, one per param group)'],
    ['pure schedule', () => cosineSchedule({ baseLr: -1, tMax: 3 }), 'CosineAnnealingLR: invalid baseLr: -1 (must be >= 0)'],
    ['clipping: out of range', (w) => clipGradNorm([w], NaN), 'clipGradNorm: invalid maxNorm: NaN (must be finite)'],
    ['clipping: one of', (w) => gradNorm([w], 3), 'gradNorm: invalid normType: 3 (must be 1, 2 or Infinity)'],
    ['clipping: negative', (w) => clipGradValue([w], -1), 'clipGradValue: invalid clipValue: -1 (must be >= 0)'],
    ['clipping: not a Parameter', (w) => gradsAreFinite([w, {} as never]), 'gradsAreFinite: params[1] must be a Parameter, got an Object'],
    ['clipping: unknown option', (w) => clipGradNorm([w], 1, { norm: 2 } as never), 'clipGradNorm: unknown option "norm" (valid: normType, errorIfNonfinite)'],
    ['range test', (w) => lrRangeTest(new SGD([w], { lr: 0.1 }), () => 1, { numIter: 1 }), 'lrRangeTest: invalid numIter: 1 (must be a whole number >= 2)'],
    ['scheduler state', (w) => {
      const s = new StepLR(new SGD([w], { lr: 0.1 }), { stepSize: 3 });
      s.loadStateDict({ ...s.stateDict(), lastEpoch: -1 });
    }, 'StepLR.loadStateDict: invalid lastEpoch: -1 (must be a whole number >= 0); nothing was changed'],
    ['checkpoint', (w, _b, store) => {
      const opt = new SGD([w], { lr: 0.1 });
      const bytes = saveCheckpoint({ store, optimizer: opt, scheduler: new StepLR(opt, { stepSize: 2 }) });
      loadCheckpoint(bytes, { store, optimizer: opt, scheduler: new ReduceLROnPlateau(opt) });
    }, 'loadCheckpoint: ReduceLROnPlateau.loadStateDict: the state was saved from "StepLR", not ReduceLROnPlateau; nothing was changed'],
  ];
  for (const [label, make, message] of cases) {
    it(label, async () => {
      const { store, w, b } = await fixture();
      expect(await messageOf(() => make(w, b, store))).toBe(message);
      expect(message).toMatch(STYLE);
    });
  }
});
