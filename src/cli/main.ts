#!/usr/bin/env node
// The simdopt command line: demo (the main job), bench, schedule (plot any schedule), lr-find.
import { writeFileSync } from 'node:fs';
import { ParameterStore } from '../store.js';
import { DEMO_LAYERS, DEMO_SAMPLES, DEMO_SCHEDULES, oneCycleSpeedup, runDemo } from '../demo/run.js';
import { MNIST_DEFAULTS, MNIST_OPTIMIZERS, MNIST_SCHEDULES, mnistRangeTest, runMnist, type MnistResult } from '../demo/mnist-run.js';
import { mnistHeadline, mnistSpeedupTable, mnistSummary, mnistTable, oneCycleVersus, renderMnistReport } from '../demo/mnist-report.js';
import { MNIST_DIGITS, MissingMnistError } from '../demo/mnist.js';
import type { BackendOption } from '../backend.js';
import { oneCycleSummary, renderReport, summaryTable } from '../demo/report.js';
import { MLP } from '../demo/mlp.js';
import { spirals } from '../demo/spirals.js';
import { rangeTestChart, stackedCharts } from '../demo/svg.js';
import { CLI_SCHEDULES, buildSchedule, scheduleSpec, type Schedule, type ScheduleName } from '../schedules/table.js';
import { lrRangeTest, type LRRangeTestOptions, type LRRangeTestResult } from '../schedules/range-test.js';
import { OPTIMIZERS, createOptimizer, optimizerEntry, type OptimizerEntry } from '../registry.js';
import { BENCH_ALIASES, benchOptimizers, benchRefusal, medianMs, verifiedPair } from './bench.js';
import { STATE_DTYPES, type StateDtype } from '../optim/state.js';
import { UsageError, optionHelp, parseArgs, type OptionSpec } from './args.js';

interface Command {
  summary: string;
  usage: string;
  options: Record<string, OptionSpec>;
  run(options: Record<string, unknown>, positional: string[]): Promise<void>;
}

const out = (s: string) => process.stdout.write(`${s}\n`);
const progress = (s: string) => { if (process.stderr.isTTY) process.stderr.write(`\r\x1b[K${s}`); else process.stderr.write(`${s}\n`); };
const engine = () => `Node ${process.version}`;

const KEYS = OPTIMIZERS.map((e) => e.key).join(', ');
/** The registry entry of `key`; a usage error naming the known keys when there is none. */
function entryOf(key: string) {
  try {
    return optimizerEntry(key);
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
}

const kebab = (key: string) => key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);

/** The options of table entry `name` the `schedule` command offers (not functions, not flags that are on by default). */
function cliOptions(name: ScheduleName): string[] {
  const { options, cli } = scheduleSpec(name);
  return Object.keys(options).filter((key) => {
    const { rule, default: d } = options[key];
    return key !== 'baseLr' && rule.type !== 'function' && !(rule.type === 'boolean' && d === true) && !cli?.omit?.includes(key);
  });
}

/** The `schedule` command's flags, from the schedule table: each option of a schedule it plots, typed by the option's rule. */
function scheduleFlags(): Record<string, OptionSpec> {
  const flags: Record<string, OptionSpec & { users: string[] }> = {};
  for (const [cli, name] of CLI_SCHEDULES) {
    for (const key of cliOptions(name)) {
      const rule = scheduleSpec(name).options[key].rule;
      const type = rule.type === 'number' ? (rule.integer ? 'int' : 'number') : rule.type === 'numbers' ? 'list' : rule.type === 'boolean' ? 'flag' : 'string';
      const values = rule.type === 'oneOf' ? ` (${rule.values.join(', ')})` : '';
      (flags[kebab(key)] ??= { type, help: '', users: [] }).users.push(`${cli}${values}`);
    }
  }
  return Object.fromEntries(Object.entries(flags).map(([flag, { type, users }]) => [flag, { type, help: users.join(', ') }]));
}

/**
 * Table entry `name` as the `schedule` command runs it: the options given (rejecting those of
 * other schedules), `--base-lr` (default 0.1), and the table's example values for options that
 * have no default; the schedule, its momentum when it cycles one, and its length.
 */
function cliSchedule(cli: string, name: ScheduleName, o: Record<string, unknown>): { lr: Schedule; momentum?: Schedule; length: number } {
  const spec = scheduleSpec(name), offered = cliOptions(name);
  const raw: Record<string, unknown> = { baseLr: o.baseLr ?? 0.1 };
  for (const [key, value] of Object.entries(o)) {
    if (key === 'steps' || key === 'svg' || key === 'baseLr') continue;
    if (!offered.includes(key)) throw new UsageError(`--${kebab(key)} is not an option of ${cli}`);
    raw[key] = spec.options[key].rule.type === 'numbers' ? (value as string[]).map(Number) : value;
  }
  const examples = Object.entries(spec.cli?.examples ?? {});
  for (const computed of [false, true]) {
    for (const [key, example] of examples) {
      if (raw[key] === undefined && (typeof example === 'function') === computed) raw[key] = computed ? (example as (o: object) => unknown)(raw) : example;
    }
  }
  try {
    const built = buildSchedule(name, raw);
    return { lr: built.lr, momentum: built.momentum, length: spec.cli?.length?.(built.options) ?? 100 };
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
}

/** Threads of each store in the MNIST job (the GEMM and the optimizer step run on them). */
const DEMO_THREADS = 2;

/** A progress bar on stderr (one line per new stage when stderr is not a terminal). */
function progressBar(): { update: (done: number, total: number, what: string) => void; clear: () => void } {
  const t0 = performance.now();
  let shown = 0, stage = '';
  return {
    update(done, total, what) {
      const now = performance.now(), tty = process.stderr.isTTY;
      if (tty ? now - shown < 100 && done < total : what === stage) return;
      shown = now;
      stage = what;
      const f = Math.min(1, done / total), s = (now - t0) / 1000, width = 30, filled = Math.round(f * width);
      const eta = f > 0.02 ? `, ~${Math.max(0, Math.round(s / f - s))} s left` : '';
      progress(`[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${(100 * f).toFixed(0).padStart(3)}% ${Math.round(s)} s${eta}  ${what}`);
    },
    clear() {
      if (process.stderr.isTTY) process.stderr.write('\r\x1b[K');
    },
  };
}

/** Checks a list of schedules against the task's. */
function schedulesOf<T extends string>(o: Record<string, unknown>, known: readonly T[]): T[] | undefined {
  const list = o.schedule as string[] | undefined;
  for (const x of list ?? []) if (!known.includes(x as T)) throw new UsageError(`unknown schedule ${JSON.stringify(x)} (known: ${known.join(', ')})`);
  return list as T[] | undefined;
}

type Meta = { date: string; engine: string };

/** `simdopt demo` on MNIST: the comparison, printed; the report and JSON to write. */
async function demoMnist(o: Record<string, unknown>, backend: BackendOption): Promise<{ report: (meta: Meta) => string; json: unknown }> {
  const schedules = schedulesOf(o, MNIST_SCHEDULES);
  const digits = (o.digits as number | undefined) ?? MNIST_DEFAULTS.train + MNIST_DEFAULTS.test;
  if (digits < 10 || digits > MNIST_DIGITS) throw new UsageError(`--digits must be from 10 to ${MNIST_DIGITS}, got ${digits}`);
  const train = Math.round((digits * 4) / 5), test = digits - train;
  const hidden = ((o.hidden as string[] | undefined) ?? MNIST_DEFAULTS.hidden.map(String)).map((h) => {
    const n = Number(h);
    if (!Number.isInteger(n) || n < 1 || n > 4096) throw new UsageError(`--hidden: ${JSON.stringify(h)} is not a whole number in [1, 4096]`);
    return n;
  });
  const positive = (key: string, fallback: number, max: number) => {
    const v = (o[key] as number | undefined) ?? fallback;
    if (v < 1 || v > max) throw new UsageError(`--${key} must be from 1 to ${max}, got ${v}`);
    return v;
  };
  const epochs = positive('epochs', MNIST_DEFAULTS.epochs, 1000), seeds = positive('seeds', MNIST_DEFAULTS.seeds, 100), threads = positive('threads', DEMO_THREADS, 64);
  const target = (o.target as number | undefined) ?? MNIST_DEFAULTS.target;
  if (!(target > 0 && target <= 1)) throw new UsageError(`--target must be a test accuracy in (0, 1], got ${target}`);
  const batch = Math.min(MNIST_DEFAULTS.batch, train);
  const optimizers = (o.optimizer as string[] | undefined) ?? MNIST_OPTIMIZERS;
  for (const k of optimizers) {
    const e = entryOf(k);
    if (e.closure) throw new UsageError(`--optimizer ${k}: the MNIST job does not run ${e.label} (it chooses lrs with the LR range test over mini-batch steps); try --task spirals, a full batch`);
  }
  out(`MNIST digits: ${train} training, ${test} test; MLP ${[784, ...hidden, 10].join('-')}; ${epochs} epochs of ${Math.floor(train / batch)} mini-batches of ${batch} per run; ` +
    `${seeds} seed${seeds > 1 ? 's' : ''}; ${optimizers.join(', ')} x ${(schedules ?? MNIST_SCHEDULES).join(', ')}`);
  const bar = progressBar(), t0 = performance.now();
  let result: MnistResult;
  try {
    result = await runMnist({ optimizers, schedules, train, test, hidden, batch, epochs, seeds, target, backend, threads, onProgress: bar.update });
  } finally {
    bar.clear();
  }
  out(`\nbackend: ${result.backend}, ${result.threads} thread${result.threads > 1 ? 's' : ''}; ${((performance.now() - t0) / 1000).toFixed(0)} s\n`);
  for (const c of result.choices) {
    out(`${c.label}: LR range test -> 1Cycle peak ${c.peakLr.toPrecision(3)} (lowest smoothed loss / 10); constant-lr sweep ${
      c.sweep.map((s) => `${s.lr}: ${Number.isFinite(s.loss) ? s.loss.toFixed(3) : 'diverged'}`).join(', ')} -> ${c.constantLr}`);
  }
  out(`\n${mnistTable(result)}\n\n1Cycle against the other schedules (epochs to ${(100 * target).toFixed(1)}%, ratio > 1: 1Cycle faster):\n\n${mnistSpeedupTable(result)}\n\n${mnistHeadline(result)}`);
  return { report: (meta) => renderMnistReport(result, meta), json: { ...result, summary: mnistSummary(result), oneCycle: oneCycleVersus(result) } };
}

/** `simdopt demo --task spirals`: the synthetic comparison, printed; the report and JSON to write. */
async function demoSpirals(o: Record<string, unknown>, backend: BackendOption): Promise<{ report: (meta: Meta) => string; json: unknown }> {
  const schedules = schedulesOf(o, DEMO_SCHEDULES);
  const steps = (o.steps as number | undefined) ?? 1000;
  if (steps < 2) throw new UsageError('--steps must be at least 2');
  out(`Two spirals (${DEMO_SAMPLES} points), MLP ${DEMO_LAYERS.join('-')}, ${steps} full-batch steps per run`);
  const result = await runDemo({
    optimizers: o.optimizer as string[] | undefined, schedules, steps, target: o.target as number | undefined, backend,
    onProgress: (done, total, r) => progress(`[${done}/${total}] ${r.label} / ${r.schedule}: loss ${r.finalLoss.toFixed(4)}, ${r.stepsToTarget ?? '-'} steps to target, ${r.ms.toFixed(0)} ms`),
  });
  if (process.stderr.isTTY) process.stderr.write('\r\x1b[K');
  out(`\nbackend: ${result.backend}\n`);
  out(summaryTable(result));
  out('\n1Cycle against constant and exponential decay (steps to target, ratio > 1: 1Cycle faster):\n');
  out(oneCycleSummary(result));
  return { report: (meta) => renderReport(result, meta), json: { ...result, oneCycle: oneCycleSpeedup(result) } };
}

const commands: Record<string, Command> = {
  demo: {
    summary: 'the main job: optimizers x learning-rate schedules (1Cycle peaked by an LR range test) on MNIST digits, or --task spirals; prints tables, writes an HTML report',
    usage: 'simdopt demo [--task mnist|spirals] [--optimizer momentum,adam,adamw] [--schedule onecycle,constant,step,cosine] [--epochs 4] [--seeds 3] [--out simdopt-report.html]',
    options: {
      task: { type: 'string', help: "'mnist' (default: real MNIST digits, needs the mnist package) or 'spirals' (synthetic, no dependency)" },
      optimizer: { type: 'list', help: `optimizers (mnist default ${MNIST_OPTIMIZERS.join(',')}; spirals default all: ${KEYS})` },
      schedule: { type: 'list', help: `schedules (mnist: ${MNIST_SCHEDULES.join(', ')}; spirals: ${DEMO_SCHEDULES.join(', ')}; default all)` },
      epochs: { type: 'int', help: `mnist: epochs per run (default ${MNIST_DEFAULTS.epochs})` },
      seeds: { type: 'int', help: `mnist: seeds per optimizer and schedule (default ${MNIST_DEFAULTS.seeds})` },
      digits: { type: 'int', help: `mnist: digits used, 4/5 to train, 1/5 to test (default ${MNIST_DEFAULTS.train + MNIST_DEFAULTS.test}, at most ${MNIST_DIGITS})` },
      hidden: { type: 'list', help: `mnist: hidden layer widths (default ${MNIST_DEFAULTS.hidden.join(',')})` },
      threads: { type: 'int', help: `mnist: threads of each store (default ${DEMO_THREADS})` },
      steps: { type: 'int', help: 'spirals: full-batch steps per run (default 1000)' },
      target: { type: 'number', help: `mnist: test accuracy that counts as reached (default ${MNIST_DEFAULTS.target}); spirals: loss (default 0.05)` },
      backend: { type: 'string', help: "'auto' (default), 'wasm' or 'js'" },
      out: { type: 'string', help: 'report path (default simdopt-report.html)' },
      json: { type: 'string', help: 'also write the results as JSON here' },
    },
    async run(o) {
      const task = (o.task as string | undefined) ?? 'mnist';
      if (task !== 'mnist' && task !== 'spirals') throw new UsageError(`--task must be mnist or spirals, got ${JSON.stringify(task)}`);
      const other = task === 'mnist' ? ['steps'] : ['epochs', 'seeds', 'digits', 'hidden', 'threads'];
      for (const key of other) if (o[key] !== undefined) throw new UsageError(`--${key} is an option of --task ${task === 'mnist' ? 'spirals' : 'mnist'}`);
      for (const x of (o.optimizer as string[] | undefined) ?? []) entryOf(x);
      const backend = (o.backend as string | undefined) ?? 'auto';
      if (!['auto', 'wasm', 'js'].includes(backend)) throw new UsageError(`--backend must be auto, wasm or js, got ${JSON.stringify(backend)}`);
      const path = (o.out as string | undefined) ?? 'simdopt-report.html';
      const meta = { date: new Date().toISOString().slice(0, 10), engine: engine() };
      const { report, json } = task === 'mnist' ? await demoMnist(o, backend as BackendOption) : await demoSpirals(o, backend as BackendOption);
      writeFileSync(path, report(meta));
      if (o.json) writeFileSync(o.json as string, JSON.stringify(json) + '\n');
      out(`\nreport: ${path}`);
    },
  },

  bench: {
    summary: 'time one optimizer step on both backends (verified first), with Mparam/s',
    usage: 'simdopt bench [--optimizers adam,momentum] [--sizes 65536,1048576] [--dtypes float32,int8] [--time 500]',
    options: {
      optimizers: { type: 'list', help: `(default all: ${KEYS}; also ${Object.keys(BENCH_ALIASES).join(', ')})` },
      dtypes: { type: 'list', help: `state element types (default float32; also ${STATE_DTYPES.filter((d) => d !== 'float32').join(', ')})` },
      sizes: { type: 'list', help: 'parameter counts (default 65536,1048576)' },
      time: { type: 'int', help: 'ms of sampling per measurement (default 500)' },
    },
    async run(o) {
      const names = o.optimizers as string[] | undefined;
      for (const n of names ?? []) {
        const e = entryOf(BENCH_ALIASES[n] ?? n);
        if (e.closure) throw new UsageError(benchRefusal(e));
      }
      const sizes = ((o.sizes as string[] | undefined) ?? ['65536', '1048576']).map((s) => {
        const n = Number(s);
        if (!Number.isInteger(n) || n < 1 || n > 1 << 26) throw new UsageError(`--sizes: ${JSON.stringify(s)} is not a whole number in [1, 67108864]`);
        return n;
      });
      const budget = (o.time as number | undefined) ?? 500;
      const dtypes = (o.dtypes as string[] | undefined) ?? ['float32'];
      for (const d of dtypes) if (!(STATE_DTYPES as readonly string[]).includes(d)) throw new UsageError(`--dtypes: unknown state dtype ${JSON.stringify(d)} (known: ${STATE_DTYPES.join(', ')})`);
      const list = await benchOptimizers(names, dtypes as StateDtype[]);
      out(`simdopt bench: ${engine()}, median of samples over ${budget} ms each\n`);
      out('| optimizer | size | wasm ms | js ms | wasm Mparam/s | js Mparam/s | wasm / js |');
      out('|---|---:|---:|---:|---:|---:|---:|');
      for (const n of sizes) {
        for (const b of list) {
          progress(`${b.name} n=${n}…`);
          const pair = await verifiedPair(b, n);
          const w = medianMs(() => pair.wasm.opt.step(), budget), j = medianMs(() => pair.js.opt.step(), budget);
          if (process.stderr.isTTY) process.stderr.write('\r\x1b[K');
          out(`| ${b.name} | ${n} | ${w.toFixed(3)} | ${j.toFixed(3)} | ${(n / w / 1e3).toFixed(0)} | ${(n / j / 1e3).toFixed(0)} | ${(j / w).toFixed(1)}× |`);
          pair.wasm.store.dispose();
          pair.js.store.dispose();
        }
      }
    },
  },

  schedule: {
    summary: 'plot a learning-rate schedule (and its momentum) as SVG; print some values',
    usage: `simdopt schedule <${[...CLI_SCHEDULES.keys()].join('|')}> [options] [--svg out.svg]\n\nschedules:\n${
      [...CLI_SCHEDULES].map(([cli, name]) => `  ${cli.padEnd(22)}${scheduleSpec(name).doc}`).join('\n')}`,
    options: {
      steps: { type: 'int', help: 'steps to plot (default: the schedule\'s length, or 100)' },
      svg: { type: 'string', help: 'write the plot here' },
      'base-lr': { type: 'number', help: 'base learning rate (default 0.1)' },
      ...scheduleFlags(),
    },
    async run(o, positional) {
      const name = positional[0];
      if (!name) throw new UsageError('which schedule? e.g. simdopt schedule onecycle --max-lr 0.1 --total-steps 1000');
      if (positional.length > 1) throw new UsageError(`unexpected argument ${JSON.stringify(positional[1])}`);
      const entry = CLI_SCHEDULES.get(name);
      if (!entry) throw new UsageError(`unknown schedule ${JSON.stringify(name)} (known: ${[...CLI_SCHEDULES.keys()].join(', ')})`);
      const { lr, momentum, length } = cliSchedule(name, entry, o);
      const steps = (o.steps as number | undefined) ?? length;
      if (steps < 1) throw new UsageError('--steps must be at least 1');
      const lrs = Array.from({ length: steps }, (_, t) => lr(t));
      const ms = momentum ? Array.from({ length: steps }, (_, t) => momentum(t)) : undefined;
      const shown = [0, Math.floor(steps / 4), Math.floor(steps / 2), Math.floor((3 * steps) / 4), steps - 1];
      out(`${name}: step -> lr${ms ? ', momentum' : ''}`);
      for (const t of [...new Set(shown)]) out(`  ${t}: ${lrs[t].toPrecision(6)}${ms ? `, ${ms[t].toPrecision(4)}` : ''}`);
      if (o.svg) {
        const size = { width: 640, height: 300 };
        writeFileSync(o.svg as string, stackedCharts([
          { series: [{ name: 'lr', values: lrs }], options: { title: `${name}: learning rate`, xLabel: 'step', yLabel: 'lr', ...size } },
          ...(ms ? [{ series: [{ name: 'momentum', values: ms, color: '#d62728' }], options: { title: `${name}: momentum (β1 for Adam)`, xLabel: 'step', yLabel: 'momentum', ...size } }] : []),
        ]) + '\n');
        out(`plot: ${o.svg as string}`);
      }
    },
  },

  'lr-find': {
    summary: 'run the LR range test on the demo task (MNIST digits, or --task spirals); print the suggestions, plot loss against lr',
    usage: 'simdopt lr-find [--task mnist|spirals] [--optimizer adam] [--start-lr 1e-7] [--end-lr 10] [--num-iter 100] [--svg lr-find.svg]',
    options: {
      task: { type: 'string', help: "'mnist' (default; mini-batches of 128 of the demo's digits) or 'spirals' (full batch)" },
      optimizer: { type: 'string', help: `one of ${KEYS} (default adam)` },
      'start-lr': { type: 'number', help: 'default 1e-7' },
      'end-lr': { type: 'number', help: 'default 10' },
      'num-iter': { type: 'int', help: 'default 100' },
      'step-mode': { type: 'string', help: 'exp (default) or linear' },
      svg: { type: 'string', help: 'write the plot here' },
    },
    async run(o) {
      const task = (o.task as string | undefined) ?? 'mnist';
      if (task !== 'mnist' && task !== 'spirals') throw new UsageError(`--task must be mnist or spirals, got ${JSON.stringify(task)}`);
      const spec = entryOf((o.optimizer as string | undefined) ?? 'adam');
      // The range test sweeps lr over steps of one gradient each; L-BFGS's step evaluates many.
      if (spec.closure) throw new UsageError(`--optimizer ${spec.key}: the LR range test does not apply to ${spec.label}, whose step re-evaluates the loss through a closure (its line search chooses the step length)`);
      const options = { startLr: o.startLr as number | undefined, endLr: o.endLr as number | undefined, numIter: o.numIter as number | undefined, stepMode: o.stepMode as 'exp' | undefined };
      let r;
      try {
        r = task === 'mnist' ? await mnistRangeTest(spec.key, options) : await spiralsRangeTest(spec, options);
      } catch (e) {
        if (/invalid|unknown/.test((e as Error).message)) throw new UsageError((e as Error).message);
        throw e;
      }
      const swept = r.lrs.length ? `${r.lrs.length} steps from ${r.lrs[0].toExponential(1)} to ${r.lrs[r.lrs.length - 1].toExponential(2)}` : 'no steps recorded';
      out(`LR range test, ${spec.label} on ${task === 'mnist' ? 'MNIST digits' : 'two spirals'}: ${swept}${r.stoppedEarly ? ` (stopped: ${r.stopMessage})` : ''}`);
      out(`suggestion: steepest descent at lr ${r.suggestion.steepest?.toExponential(2) ?? '-'}; minimum/10: ${r.suggestion.minDividedBy10?.toExponential(2) ?? '-'}${r.suggestion.reason ? ` (${r.suggestion.reason})` : ''}`);
      if (o.svg) {
        const markers = [
          ...(r.suggestion.steepest ? [{ x: r.suggestion.steepest, label: `steepest ${r.suggestion.steepest.toPrecision(2)}`, color: '#2ca02c' }] : []),
          ...(r.suggestion.minDividedBy10 ? [{ x: r.suggestion.minDividedBy10, label: `min/10 ${r.suggestion.minDividedBy10.toPrecision(2)}`, color: '#d62728' }] : []),
        ];
        writeFileSync(o.svg as string, rangeTestChart(r, { title: `LR range test: ${spec.label}`, markers }) + '\n');
        out(`plot: ${o.svg as string}`);
      }
    },
  },
};

/** The LR range test on the spirals task (full batch). */
async function spiralsRangeTest(spec: OptimizerEntry, options: LRRangeTestOptions): Promise<LRRangeTestResult> {
  const store = await ParameterStore.create();
  try {
    const model = new MLP(store, DEMO_LAYERS, 1);
    const data = spirals(DEMO_SAMPLES);
    return await lrRangeTest(createOptimizer(spec, model.parameters), () => model.lossAndGrad(data).loss, options);
  } finally {
    store.dispose();
  }
}

function help(name?: string): string {
  if (name && commands[name]) {
    const c = commands[name];
    return `${c.usage}\n\n${c.summary}\n\noptions:\n${optionHelp(c.options)}\n  --help                          this text`;
  }
  return `simdopt: optimizer steps and learning-rate schedules in WebAssembly SIMD\n\nusage: simdopt <command> [options]\n\ncommands:\n${
    Object.entries(commands).map(([n, c]) => `  ${n.padEnd(10)} ${c.summary}`).join('\n')}\n\n'simdopt <command> --help' for a command's options.`;
}

/** Runs the CLI with `argv` (without node and the script); resolves with the exit code. */
export async function main(argv: readonly string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    out(help(rest[0]));
    return name === undefined ? 2 : 0;
  }
  const command = commands[name];
  if (!command) {
    process.stderr.write(`simdopt: unknown command ${JSON.stringify(name)}\n\n${help()}\n`);
    return 2;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    out(help(name));
    return 0;
  }
  try {
    const { options, positional } = parseArgs(rest, command.options);
    if (name !== 'schedule' && positional.length) throw new UsageError(`unexpected argument ${JSON.stringify(positional[0])}`);
    await command.run(options, positional);
    return 0;
  } catch (e) {
    if (e instanceof UsageError) {
      process.stderr.write(`simdopt ${name}: ${e.message}\n\n${help(name)}\n`);
      return 2;
    }
    if (e instanceof MissingMnistError) {
      process.stderr.write(`simdopt ${name}: ${e.message}\n`);
      return 1;
    }
    process.stderr.write(`simdopt ${name}: ${(e as Error).stack ?? String(e)}\n`);
    return 1;
  }
}

const invoked = process.argv[1] ?? '';
if (/(^|[\\/])(main\.js|simdopt)$/.test(invoked) || import.meta.url === `file://${invoked}`) {
  main(process.argv.slice(2)).then((code) => { process.exitCode = code; });
}
