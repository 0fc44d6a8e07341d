// Step times of the optimizers the element-wise suite (bench/bench.ts) leaves out or folds into
// another row: Adafactor (its parameters must be matrices: square ones here), L-BFGS (one
// iteration per step, `maxIter: 1`, with a closure that writes the gradient of a separable
// quadratic, so the time is the optimizer's two-loop recursion over its history and its
// bookkeeping, not a model's), and the cautious variants of Adam and Lion beside the plain ones.
// Each configuration runs on the wasm backend with one and two threads, at about 1M and 16M
// parameters; the two thread counts are checked to give the same bits first. Medians of
// repeated steps, every configuration of a size measured in turn in the same run.
//
//   npm run build && node --import tsx bench/extra.ts [--sizes 1048576,16777216] [--rounds 15]
import { Adafactor, Adam, LBFGS, Lion, ParameterStore, type Parameter } from '../dist/index.js';
import { fillLcg, sameBits } from '../dist/cli/bench.js';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1] : fallback;
}
const sizes = arg('sizes', '1048576,16777216').split(',').map(Number);
const rounds = Number(arg('rounds', '15'));

interface Config {
  readonly name: string;
  /** Builds the optimizer over `p` and returns one step. */
  readonly make: (p: Parameter) => () => void;
  /** Square matrices (Adafactor). */
  readonly matrix?: boolean;
}

const lbfgsStep = (p: Parameter) => {
  const opt = new LBFGS([p], { maxIter: 1, historySize: 10 });
  // f = sum (x - 1)^2 / 2: gradient x - 1, computed in place.
  const closure = () => {
    const x = p.data, g = p.grad;
    for (let i = 0; i < x.length; i++) g[i] = x[i] - 1;
    return 0;
  };
  return () => { opt.step(closure); };
};

const CONFIGS: readonly Config[] = [
  { name: 'adafactor', matrix: true, make: (p) => { const o = new Adafactor([p]); return () => { o.step(); }; } },
  { name: 'lbfgs (1 iteration, history 10)', make: lbfgsStep },
  { name: 'adam', make: (p) => { const o = new Adam([p]); return () => { o.step(); }; } },
  { name: 'adam cautious', make: (p) => { const o = new Adam([p], { cautious: true }); return () => { o.step(); }; } },
  { name: 'lion', make: (p) => { const o = new Lion([p]); return () => { o.step(); }; } },
  { name: 'lion cautious', make: (p) => { const o = new Lion([p], { cautious: true }); return () => { o.step(); }; } },
];

const median = (a: number[]) => [...a].sort((x, y) => x - y)[a.length >> 1];

console.log(`| optimizer | parameters | 1 thread ms | 2 threads ms | 1 thread Mparam/s | 2 threads Mparam/s |`);
console.log('|---|---:|---:|---:|---:|---:|');
for (const size of sizes) {
  const side = Math.round(Math.sqrt(size));
  const runs: { config: Config; threads: number; n: number; step: () => void; store: ParameterStore; p: Parameter; times: number[] }[] = [];
  for (const config of CONFIGS) {
    const shape = config.matrix ? [side, side] : [size];
    const n = shape.reduce((a, b) => a * b, 1);
    const finals: Float32Array[] = [];
    for (const threads of [1, 2]) {
      const store = await ParameterStore.create({ backend: 'wasm', threads });
      const values = new Float32Array(n);
      fillLcg(values, 1);
      const p = store.parameter('w', { shape, values });
      const step = config.make(p);
      for (let s = 0; s < 3; s++) {
        fillLcg(p.grad, 100 + s);
        step();
      }
      finals.push(p.data.slice());
      runs.push({ config, threads, n, step, store, p, times: [] });
    }
    if (!sameBits(finals[0], finals[1])) throw new Error(`${config.name} at ${n}: two threads differ from one`);
  }
  for (let r = 0; r < rounds; r++) {
    for (const run of runs) {
      fillLcg(run.p.grad, 7 + r);
      const t = performance.now();
      run.step();
      run.times.push(performance.now() - t);
    }
  }
  for (const config of CONFIGS) {
    const [one, two] = [1, 2].map((t) => runs.find((x) => x.config === config && x.threads === t)!);
    const [a, b] = [median(one.times), median(two.times)];
    console.log(`| ${config.name} | ${one.n.toLocaleString('en-US')} | ${a.toFixed(2)} | ${b.toFixed(2)} | ${(one.n / a / 1e3).toFixed(0)} | ${(one.n / b / 1e3).toFixed(0)} |`);
  }
  for (const run of runs) run.store.dispose();
}
