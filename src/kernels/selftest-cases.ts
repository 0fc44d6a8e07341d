// The self-test driver's cases, written once by name. scripts/gen-kernels.ts turns them into
// the positional calls of the AssemblyScript driver (assembly/generated/selftest-cases.ts, run
// by other WebAssembly runtimes through build/selftest.wasm) and test/selftest.test.ts runs the
// same cases over the JS twins through the named wrappers; both must give the same hash.

/** One kernel's cases: the driver's slot (0-4) of each array, its scalars, and flag sets. */
export interface SelftestCase {
  readonly kernel: string;
  /** Slot of each array: 0 and 1 hold signed values (params, grads), 2-4 non-negative ones from 3 on. */
  readonly arrays: Readonly<Record<string, number>>;
  readonly scalars: Readonly<Record<string, number>>;
  /** Each flag set is one case: fresh data, then three steps with a new gradient before each. */
  readonly flags: readonly Readonly<Record<string, boolean>>[];
}

/** The cases, in the order both drivers run them. */
export const SELFTEST_CASES: readonly SelftestCase[] = [
  {
    kernel: 'sgd',
    arrays: { param: 0, grad: 1, momentumBuffer: 2 },
    scalars: { lr: 0.01, weightDecay: 0.001, momentum: 0.9, dampeningComplement: 1.0 },
    flags: [{}, { weightDecay: true, maximize: true }, { momentum: true, firstStep: true }, { momentum: true, nesterov: true },
      { momentum: true, weightDecay: true }],
  },
  {
    kernel: 'adam',
    // masked shares slot 4 with maxExpAvgSq: no case sets both amsgrad and cautious.
    arrays: { param: 0, grad: 1, expAvg: 2, expAvgSq: 3, maxExpAvgSq: 4, masked: 4 },
    scalars: {
      beta1: 0.9, oneMinusBeta1: 0.1, beta2: 0.999, oneMinusBeta2: 0.001, stepSize: 0.0123, invBiasCorrection2Sqrt: 31.6,
      eps: 1e-8, weightDecay: 0.01, decay: 0.999, gradCoef: 0.004, expAvgCoef: 0.0117,
    },
    flags: [{}, { amsgrad: true, weightDecay: true }, { decoupled: true, maximize: true }, { nesterov: true, decoupled: true },
      { plain: true }, { amsgrad: true, nesterov: true, maximize: true }, { rectified: true, weightDecay: true },
      { cautious: true, decoupled: true }, { cautious: true, nesterov: true, maximize: true }],
  },
  {
    kernel: 'adagrad',
    arrays: { param: 0, grad: 1, sum: 3 },
    scalars: { clr: 0.05, weightDecay: 0.001, eps: 1e-10 },
    flags: [{}, { weightDecay: true, maximize: true }],
  },
  {
    kernel: 'rmsprop',
    arrays: { param: 0, grad: 1, squareAvg: 3, gradAvg: 2, momentumBuffer: 4 },
    scalars: { lr: 0.01, alpha: 0.99, oneMinusAlpha: 0.01, eps: 1e-8, weightDecay: 0.001, momentum: 0.9 },
    flags: [{}, { centered: true, momentum: true }, { weightDecay: true, maximize: true, momentum: true }],
  },
  {
    kernel: 'adamax',
    arrays: { param: 0, grad: 1, expAvg: 2, expInf: 3, masked: 4 },
    scalars: { beta1: 0.9, oneMinusBeta1: 0.1, beta2: 0.999, clr: 0.02, eps: 1e-8, weightDecay: 0.001 },
    flags: [{}, { weightDecay: true, maximize: true }, { cautious: true }],
  },
  {
    kernel: 'adadelta',
    arrays: { param: 0, grad: 1, squareAvg: 3, accDelta: 4 },
    scalars: { lr: 1.0, rho: 0.9, oneMinusRho: 0.1, eps: 1e-6, weightDecay: 0.001 },
    flags: [{}, { weightDecay: true, maximize: true }],
  },
  {
    kernel: 'lion',
    arrays: { param: 0, grad: 1, expAvg: 2, masked: 3 },
    scalars: { lr: 0.0003, beta1: 0.9, oneMinusBeta1: 0.1, beta2: 0.99, oneMinusBeta2: 0.01, decay: 0.9999 },
    flags: [{}, { decoupled: true, maximize: true }, { cautious: true, maximize: true }],
  },
  { kernel: 'scale', arrays: { x: 0 }, scalars: { factor: 0.75 }, flags: [{}] },
  { kernel: 'clamp', arrays: { x: 1 }, scalars: { lo: -0.5, hi: 0.25 }, flags: [{}] },
  { kernel: 'copy', arrays: { dst: 4, src: 2 }, scalars: {}, flags: [{}] },
  {
    kernel: 'average',
    arrays: { avg: 0, param: 1 },
    scalars: { weight: 0.001, complement: 0.5, count: 3 },
    flags: [{}, { largeWeight: true }, { swa: true }],
  },
  { kernel: 'swap', arrays: { x: 0, y: 1 }, scalars: {}, flags: [{}] },
  { kernel: 'accumulate', arrays: { grad: 1, acc: 2 }, scalars: { count: 4 }, flags: [{}, { apply: true }, { apply: true, mean: true }] },
  {
    kernel: 'rprop',
    arrays: { param: 0, grad: 1, prev: 2, stepSize: 3 },
    scalars: { lr: 0.01, etaminus: 0.5, etaplus: 1.2, stepSizeMin: 1e-6, stepSizeMax: 50 },
    flags: [{}, { first: true, maximize: true }],
  },
  {
    kernel: 'asgd',
    arrays: { param: 0, grad: 1, ax: 2 },
    scalars: { weightDecay: 0.001, decay: 0.999999, eta: 0.01, mu: 0.25 },
    flags: [{}, { average: true, weightDecay: true, maximize: true }],
  },
  {
    kernel: 'lamb',
    arrays: { param: 0, grad: 1, expAvg: 2, expAvgSq: 3, update: 4 },
    scalars: { beta1: 0.9, oneMinusBeta1: 0.1, beta2: 0.999, oneMinusBeta2: 0.001, biasCorrection1: 0.271, biasCorrection2: 0.002997, epsRoot: 1e-10, eps: 1e-6, weightDecay: 0.01 },
    flags: [{}, { weightDecay: true }],
  },
  {
    kernel: 'lars',
    arrays: { param: 0, grad: 1, momentumBuffer: 2 },
    scalars: { weightDecay: 0.0001, trustRatio: 0.0173, negLr: -0.5, momentum: 0.9 },
    flags: [{}, { weightDecay: true, momentum: true }, { momentum: true, nesterov: true }],
  },
  {
    kernel: 'prodigy',
    arrays: { param: 0, grad: 1, expAvg: 2, expAvgSq: 3, gradSum: 4 },
    scalars: { weightDecay: 0.01, beta1: 0.9, expAvgWeight: 1e-7, beta2: 0.999, expAvgSqWeight: 1e-15, beta3: 0.9995, sWeight: 1e-6 },
    flags: [{ firstMoment: true }, { weightDecay: true }],
  },
  {
    kernel: 'prodigyApply',
    arrays: { param: 0, direction: 2, expAvgSq: 3 },
    scalars: { weightDecay: 0.01, decay: -1e-8, dEps: 1e-14, stepSize: -1e-6 },
    flags: [{}, { decoupled: true }, { weightDecay: true }],
  },
  {
    kernel: 'adafactor',
    arrays: { grad: 1, variance: 3, update: 2 },
    scalars: { weight: 0.25, complement: 0.75, eps1Sq: 1e-6 },
    flags: [{}, { largeWeight: true, maximize: true }],
  },
  { kernel: 'adafactorApply', arrays: { param: 0, update: 1 }, scalars: { decay: 0.999, stepSize: 0.01 }, flags: [{}, { weightDecay: true }] },
  { kernel: 'axpy', arrays: { x: 0, y: 1 }, scalars: { alpha: -0.375 }, flags: [{}] },
  { kernel: 'negate', arrays: { dst: 2, src: 1 }, scalars: {}, flags: [{}] },
  { kernel: 'lbfgsPair', arrays: { grad: 1, prevGrad: 0, direction: 2, gradChange: 3, step: 4 }, scalars: { t: 0.625 }, flags: [{}] },
  {
    kernel: 'scheduleFree',
    arrays: { param: 0, grad: 1, z: 2, expAvgSq: 3, expAvg: 4 },
    scalars: {
      beta2: 0.999, oneMinusBeta2: 0.001, biasCorrection2: 0.002, eps: 1e-8, innerMomentum: 0.9, oneMinusInnerMomentum: 0.1,
      biasCorrection1: 0.19, weightDecay: 0.01, ckp1: 0.25, complement: 0.75, yCoef: -0.0035, lr: 0.0025,
    },
    flags: [{}, { weightDecay: true, largeWeight: true }, { adam: true }, { adam: true, innerMomentum: true, weightDecay: true }],
  },
];
