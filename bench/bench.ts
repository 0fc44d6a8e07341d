// The benchmark suite (npm run bench): one optimizer step of every registry entry at 64K, 1M
// and 16M parameters on simdopt's wasm and js backends, beside the peers it has (bench/plain.ts,
// bench/tfjs.ts: tables keyed by registry key): a plain unrounded JavaScript loop of the same
// update, and TF.js (tfjs-core with the cpu and wasm backends) for the optimizers TF.js has;
// plus 1,000 small tensors against one tensor of the same size. Each configuration verifies
// before it is timed (wasm ≡ js bit for bit, the first steps moved the parameters, the peers
// land within tolerance of simdopt). The copy bandwidth is measured in
// the same run: a roofline is the bytes a step must move over it (see README).
//
// Then the state dtypes side by side (bench section "low-precision state"): the same optimizer
// with float32, bfloat16 and int8 state, on one and two threads, each verified (wasm ≡ js, two
// threads ≡ one) before it is timed; with the bytes each holds per parameter and the largest
// model one 4 GiB WebAssembly memory holds.
//
//   npm run bench
//   npm run bench -- --sizes 65536,1048576 --optimizers adam,momentum --time 500 --no-tfjs
//   npm run bench -- --dtypes-only --dtype-optimizers adam,momentum --dtype-sizes 1048576,16777216
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { Bench } from 'tinybench';
import { Adam, ParameterStore, type Parameter } from '../dist/index.js';
import { benchOptimizers, benchSetup, fillLcg as fill, sameBits, verifiedPair, type BenchOptimizer } from '../dist/cli/bench.js';
import { barChart } from '../dist/demo/svg.js';
import { PLAIN_PEERS, type Hyper } from './plain.js';
import { hasTfPeer, quietTf, tfPeer, type TfPeer } from './tfjs.js';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1] : fallback;
}

const sizes = arg('sizes', '65536,1048576,16777216').split(',').map(Number);
const timeMs = Number(arg('time', '1000'));
const dtypesOnly = process.argv.includes('--dtypes-only');
const out = arg('out', dtypesOnly ? 'bench/results/dtypes.json' : 'bench/results/latest.json');
const withTf = !process.argv.includes('--no-tfjs');
/** tfjs-backend-cpu takes seconds per step at 16M: it runs up to this size. */
const TF_CPU_MAX = 1 << 20;
const wanted = arg('optimizers', '');
const optimizers = dtypesOnly ? [] : await benchOptimizers(wanted ? wanted.split(',') : undefined);
const dtypeOptimizers = arg('dtype-optimizers', 'adam,momentum').split(',');
const dtypeSizes = arg('dtype-sizes', '1048576,16777216').split(',').map(Number);
const DTYPES = ['float32', 'bfloat16', 'int8'] as const;
quietTf();

const progress = (s: string) => process.stderr.write(`\r\x1b[K${s}`);

function median(bench: Bench, name: string): number {
  const r = bench.tasks.find((t) => t.name === name)!.result as { latency?: { p50: number } };
  if (!r.latency) throw new Error(`${name} failed`);
  return r.latency.p50;
}

/** Max |a - b| relative to the size of the update (b - before): peers must land within 1e-3 of it. */
function checkClose(label: string, a: Float32Array, b: Float32Array, before: Float32Array): void {
  let diff = 0, update = 0;
  for (let i = 0; i < a.length; i++) {
    diff = Math.max(diff, Math.abs(a[i] - b[i]));
    update = Math.max(update, Math.abs(b[i] - before[i]));
  }
  if (!(diff <= 1e-3 * update + 1e-9)) throw new Error(`${label}: differs from simdopt by ${diff} (update ${update})`);
}

interface Row {
  optimizer: string; impl: string; size: number; medianMs: number; mparamPerS: number;
  bytesPerParam: number; copyRooflineFraction: number; inPlaceRooflineFraction: number;
}
const rows: Row[] = [];
const bandwidth: { size: number; wasmSimdCopyGBs: number; typedArrayCopyGBs: number; copyGBs: number; inPlaceGBs: number }[] = [];

async function measureBandwidth(n: number, options: ConstructorParameters<typeof Bench>[0]) {
  const bench = new Bench(options);
  const store = await ParameterStore.create({ backend: 'wasm' });
  const src = store.parameter('src', n), dst = store.parameter('dst', n);
  fill(src.data, 3);
  const k = store.kernels, s = src.dataAddress, d = dst.dataAddress;
  const a = new Float32Array(n), b = new Float32Array(n);
  fill(a, 4);
  bench.add('copy/wasm-simd', () => k.copy({ dst: d, src: s }, n));
  bench.add('copy/typed-array', () => b.set(a));
  // x *= 1 - 2^-24 keeps values finite; no write-allocate traffic: a step's access pattern
  bench.add('stream/wasm-scale', () => k.scale({ x: d }, n, { factor: 1 - 2 ** -24 }));
  await bench.run();
  const gbs = (name: string) => (8 * n) / (median(bench, name) / 1e3) / 1e9;
  const row = { size: n, wasmSimdCopyGBs: gbs('copy/wasm-simd'), typedArrayCopyGBs: gbs('copy/typed-array'), copyGBs: 0, inPlaceGBs: gbs('stream/wasm-scale') };
  row.copyGBs = Math.max(row.wasmSimdCopyGBs, row.typedArrayCopyGBs);
  bandwidth.push(row);
  store.dispose();
  return row;
}

for (const n of dtypesOnly ? [] : sizes) {
  const iterations = n >= 1 << 24 ? 8 : n >= 1 << 20 ? 30 : 200;
  const options = { time: timeMs, iterations, warmupIterations: Math.min(iterations, 10), warmupTime: 100 };
  progress(`n=${n}: bandwidth…`);
  const bw = await measureBandwidth(n, options);
  for (const o of optimizers) {
    progress(`n=${n}: ${o.name}: verifying…`);
    const { wasm, js, steps } = await verifiedPair(o, n);
    // simdopt's first steps (taken by verifiedPair) are the reference for the peers' first steps
    const reference = wasm.param.data.slice();
    const hyper = wasm.opt.paramGroups[0] as unknown as Hyper;
    const p0 = new Float32Array(n), g = new Float32Array(n);
    fill(p0, 1);
    fill(g, 2);
    const plainP = p0.slice();
    const plain = PLAIN_PEERS[o.name]?.(plainP, g, hyper);
    let t = 0;
    if (plain) {
      while (t < steps) plain(++t);
      checkClose(`${o.name} plain JS`, plainP, reference, p0);
    }
    // two threads: the same bits as one, then timed
    const threaded = await benchSetup('wasm', o, n, 2);
    for (let s = 0; s < steps; s++) threaded.opt.step();
    if (!sameBits(threaded.param.data, reference)) throw new Error(`${o.name} n=${n}: 2 threads differ from 1`);
    progress(`n=${n}: ${o.name}: timing…`);
    const own = new Bench(options);
    own.add('wasm', () => { wasm.opt.step(); });
    own.add('wasm-2t', () => { threaded.opt.step(); });
    own.add('js', () => { js.opt.step(); });
    if (plain) own.add('plain-js', () => plain(++t));
    await own.run();
    threaded.store.dispose();
    const times: Record<string, number> = Object.fromEntries(own.tasks.map((x) => [x.name, median(own, x.name)]));
    if (withTf && hasTfPeer(o.name)) {
      for (const backend of ['wasm', 'cpu'] as const) {
        if (backend === 'cpu' && n > TF_CPU_MAX) continue;
        const peer: TfPeer = (await tfPeer(backend, o.name, hyper, p0, g))!; // also makes `backend` TF.js's active one
        for (let s = 0; s < steps; s++) peer.step();
        checkClose(`${o.name} tfjs-${backend}`, peer.read(), reference, p0);
        const tfBench = new Bench({ ...options, iterations: Math.min(iterations, 10) });
        tfBench.add('tf', () => { peer.step(); peer.read(); });
        await tfBench.run();
        times[`tfjs-${backend}`] = median(tfBench, 'tf');
        peer.dispose();
      }
    }
    for (const [impl, ms] of Object.entries(times)) {
      rows.push({
        optimizer: o.name, impl, size: n, medianMs: ms, mparamPerS: n / ms / 1e3, bytesPerParam: o.bytesPerParam,
        copyRooflineFraction: (o.bytesPerParam * n) / (bw.copyGBs * 1e9) * 1e3 / ms,
        inPlaceRooflineFraction: (o.bytesPerParam * n) / (bw.inPlaceGBs * 1e9) * 1e3 / ms,
      });
    }
    wasm.store.dispose();
    js.store.dispose();
    (globalThis as { gc?: () => void }).gc?.();
  }
}

// The state dtypes side by side: float32, bfloat16 and int8 state of the same optimizer, one and
// two threads, verified first (wasm ≡ js, two threads ≡ one), then timed round-robin (one step
// of each configuration in turn, so that a neighbour's load on a shared machine falls on all of
// them alike), the median of each.
interface DtypeRow { optimizer: string; dtype: string; size: number; threads: number; medianMs: number; mparamPerS: number; samples: number; bytesHeldPerParam: number; bytesPerParam: number }
const dtypeRows: DtypeRow[] = [];

/** Medians (ms) of `tasks`, sampled in turn: `rounds` rounds at least, then until `budgetMs` has passed. */
function roundRobin(tasks: { name: string; run: () => void }[], budgetMs: number, rounds: number): Map<string, number[]> {
  const samples = new Map(tasks.map((t) => [t.name, [] as number[]]));
  for (const t of tasks) for (let i = 0; i < 3; i++) t.run(); // warm-up
  const start = performance.now();
  for (let r = 0; r < rounds || performance.now() - start < budgetMs; r++) {
    for (const t of tasks) {
      const t0 = performance.now();
      t.run();
      samples.get(t.name)!.push(performance.now() - t0);
    }
  }
  return samples;
}
const medianOf = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const dtypeBandwidth = new Map<number, number>();
for (const n of dtypeSizes) {
  if (dtypeOptimizers.length) {
    progress(`n=${n}: in-place bandwidth…`);
    const iterations = n >= 1 << 24 ? 8 : n >= 1 << 20 ? 30 : 200;
    dtypeBandwidth.set(n, (await measureBandwidth(n, { time: timeMs, iterations, warmupIterations: Math.min(iterations, 10), warmupTime: 100 })).inPlaceGBs);
  }
  for (const key of dtypeOptimizers) {
    const variants: BenchOptimizer[] = await benchOptimizers([key], [...DTYPES]);
    const tasks: { name: string; run: () => void }[] = [];
    const disposers: (() => void)[] = [];
    for (const o of variants) {
      progress(`n=${n}: ${o.name}: verifying…`);
      const { wasm, js, steps } = await verifiedPair(o, n);
      js.store.dispose();
      const two = await benchSetup('wasm', o, n, 2);
      for (let s = 0; s < steps; s++) two.opt.step();
      if (!sameBits(two.param.data, wasm.param.data)) throw new Error(`${o.name} n=${n}: 2 threads differ from 1`);
      tasks.push({ name: `${o.dtype}/1`, run: () => { wasm.opt.step(); } }, { name: `${o.dtype}/2`, run: () => { two.opt.step(); } });
      disposers.push(() => { wasm.store.dispose(); two.store.dispose(); });
    }
    progress(`n=${n}: ${key}: timing float32, bfloat16, int8 on 1 and 2 threads, in turn…`);
    const samples = roundRobin(tasks, 6 * timeMs, n >= 1 << 24 ? 15 : 60);
    for (const o of variants) {
      for (const threads of [1, 2]) {
        const times = samples.get(`${o.dtype}/${threads}`)!;
        const ms = medianOf(times);
        dtypeRows.push({ optimizer: key, dtype: o.dtype, size: n, threads, medianMs: ms, mparamPerS: n / ms / 1e3, samples: times.length, bytesHeldPerParam: o.bytesHeldPerParam, bytesPerParam: o.bytesPerParam });
      }
    }
    disposers.forEach((d) => d());
    (globalThis as { gc?: () => void }).gc?.();
  }
}

/**
 * The largest model (one parameter tensor, the optimizer's state, the arena's reserve) that one
 * 4 GiB WebAssembly memory holds with each state dtype: found by building it (allocation only,
 * nothing written), halving the step until the largest size that fits is known to 1,024.
 */
async function largestModel(key: string, dtype: string): Promise<number> {
  const [o] = await benchOptimizers([key], [dtype as (typeof DTYPES)[number]]);
  const fits = async (n: number) => {
    const store = await ParameterStore.create({ backend: 'wasm' });
    try {
      createOptimizerOf(o, store.parameter('w', n));
      return true;
    } catch {
      return false;
    } finally {
      store.dispose();
    }
  };
  let lo = 0, hi = 2 ** 30;
  while (hi - lo > 1024) {
    const mid = Math.floor((lo + hi) / 2 / 1024) * 1024;
    if (await fits(mid)) lo = mid; else hi = mid;
  }
  return lo;
}
function createOptimizerOf(o: BenchOptimizer, p: Parameter) {
  return new (o.entry.optimizer as unknown as new (params: Parameter[], options: object) => unknown)([p], { lr: o.entry.lr, ...o.entry.options, ...o.options });
}
const capacity: { optimizer: string; dtype: string; bytesHeldPerParam: number; largestModel: number }[] = [];
if (!process.argv.includes('--no-capacity')) {
  for (const key of dtypeOptimizers.slice(0, 1)) {
    for (const dtype of DTYPES) {
      progress(`largest ${key} ${dtype} model in 4 GiB…`);
      const [o] = await benchOptimizers([key], [dtype]);
      capacity.push({ optimizer: key, dtype, bytesHeldPerParam: o.bytesHeldPerParam, largestModel: await largestModel(key, dtype) });
    }
  }
}

// 1,000 tensors of 1,000 parameters against one tensor of 1,000,000 (Adam, one param group).
const small: Record<string, number> = {};
for (const backend of dtypesOnly ? [] : ['wasm', 'js'] as const) {
  progress(`many small tensors (${backend})…`);
  const many = await ParameterStore.create({ backend });
  const params = Array.from({ length: 1000 }, (_, i) => many.parameter(`t${i}`, 1000));
  params.forEach((p, i) => { fill(p.data, i); fill(p.grad, i + 7); });
  const oneStore = await ParameterStore.create({ backend });
  const one = oneStore.parameter('w', 1_000_000);
  fill(one.data, 1); fill(one.grad, 2);
  const manyOpt = new Adam(params), oneOpt = new Adam([one]);
  const bench = new Bench({ time: timeMs, iterations: 30, warmupIterations: 10, warmupTime: 100 });
  bench.add('1000 x 1000', () => { manyOpt.step(); });
  bench.add('1 x 1000000', () => { oneOpt.step(); });
  await bench.run();
  small[`${backend} 1000x1000 ms`] = median(bench, '1000 x 1000');
  small[`${backend} 1x1000000 ms`] = median(bench, '1 x 1000000');
  small[`${backend} ratio`] = small[`${backend} 1000x1000 ms`] / small[`${backend} 1x1000000 ms`];
  many.dispose(); oneStore.dispose();
}
progress('');

const machine = {
  cpu: os.cpus()[0]?.model ?? 'unknown', cores: os.cpus().length, memoryGiB: Math.round(os.totalmem() / 2 ** 30),
  platform: `${os.platform()} ${os.arch()}`, engine: `Node ${process.version} (V8 ${process.versions.v8})`, date: new Date().toISOString(),
};
const fmt = (x: number, d = 2) => x.toFixed(d);
const IMPLS = ['wasm', 'wasm-2t', 'js', 'plain-js', 'tfjs-wasm', 'tfjs-cpu'];
console.log(`simdopt benchmark: ${machine.cpu}, ${machine.cores} cores, ${machine.engine}, ${machine.date.slice(0, 10)}`);
if (!dtypesOnly) {
  console.log('\nbandwidth (read + write bytes / s), measured in this run:\n');
  console.log('| size | wasm SIMD copy GB/s | TypedArray.set GB/s | wasm in-place scale GB/s |');
  console.log('|---:|---:|---:|---:|');
  for (const b of bandwidth) console.log(`| ${b.size} | ${fmt(b.wasmSimdCopyGBs)} | ${fmt(b.typedArrayCopyGBs)} | ${fmt(b.inPlaceGBs)} |`);
  console.log('\nMparam/s (median step); wasm\'s fraction of the copy and in-place rooflines; ratios of wasm to each peer:\n');
  console.log('| optimizer | size | wasm | wasm 2 threads | js | plain JS | tfjs-wasm | tfjs-cpu | wasm: copy roofline | in-place roofline | 2 threads ÷ 1 | wasm ÷ js | js ÷ plain | wasm ÷ tfjs-wasm | wasm ÷ tfjs-cpu |');
  console.log('|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const n of sizes) {
    for (const o of optimizers) {
      const r = (impl: string) => rows.find((x) => x.optimizer === o.name && x.size === n && x.impl === impl);
      const w = r('wasm')!, mp = (impl: string) => (r(impl) ? fmt(r(impl)!.mparamPerS, 0) : '–');
      const ratio = (a: string, b: string) => (r(a) && r(b) ? `${fmt(r(b)!.medianMs / r(a)!.medianMs, 1)}×` : '–');
      console.log(`| ${o.name} | ${n} | ${mp('wasm')} | ${mp('wasm-2t')} | ${mp('js')} | ${mp('plain-js')} | ${mp('tfjs-wasm')} | ${mp('tfjs-cpu')} | ${fmt(100 * w.copyRooflineFraction, 0)}% | ${fmt(100 * w.inPlaceRooflineFraction, 0)}% | ${ratio('wasm-2t', 'wasm')} | ${ratio('wasm', 'js')} | ${ratio('js', 'plain-js')} | ${ratio('wasm', 'tfjs-wasm')} | ${ratio('wasm', 'tfjs-cpu')} |`);
    }
  }
}
if (!dtypesOnly) console.log(`\nAdam, 1,000 tensors of 1,000 against one of 1,000,000 (one param group): wasm ${fmt(small['wasm 1000x1000 ms'], 3)} ms vs ${fmt(small['wasm 1x1000000 ms'], 3)} ms (${fmt(small['wasm ratio'])}×); js ${fmt(small['js 1000x1000 ms'], 3)} ms vs ${fmt(small['js 1x1000000 ms'], 3)} ms (${fmt(small['js ratio'])}×)`);
if (dtypeRows.length) {
  console.log(`\nState dtypes side by side (wasm; median step in ms of ${dtypeRows[0].samples}+ samples taken in turn, Mparam/s, speed relative to float32 on as many threads):\n`);
  console.log('| optimizer | size | threads | float32 ms | bfloat16 ms | int8 ms | float32 Mparam/s | bfloat16 Mparam/s | int8 Mparam/s | bfloat16 ÷ float32 | int8 ÷ float32 |');
  console.log('|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const key of dtypeOptimizers) {
    for (const n of dtypeSizes) {
      for (const threads of [1, 2]) {
        const r = (d: string) => dtypeRows.find((x) => x.optimizer === key && x.size === n && x.threads === threads && x.dtype === d)!;
        const [f, b, q] = DTYPES.map(r);
        console.log(`| ${key} | ${n} | ${threads} | ${fmt(f.medianMs)} | ${fmt(b.medianMs)} | ${fmt(q.medianMs)} | ${fmt(f.mparamPerS, 0)} | ${fmt(b.mparamPerS, 0)} | ${fmt(q.mparamPerS, 0)} | ${fmt(f.medianMs / b.medianMs)}× | ${fmt(f.medianMs / q.medianMs)}× |`);
      }
    }
  }
  console.log('\nWhat bounds each: the bytes a step moves per parameter, the rate the in-place bandwidth measured in this run allows (its roofline), and the fraction of it reached:\n');
  console.log('| optimizer | size | state | bytes moved per parameter | in-place GB/s | roofline Mparam/s | 1 thread | 2 threads |');
  console.log('|---|---:|---|---:|---:|---:|---:|---:|');
  for (const key of dtypeOptimizers) {
    for (const n of dtypeSizes) {
      for (const d of DTYPES) {
        const r = (threads: number) => dtypeRows.find((x) => x.optimizer === key && x.size === n && x.threads === threads && x.dtype === d)!;
        const gbs = dtypeBandwidth.get(n)!, roof = (gbs * 1e9) / r(1).bytesPerParam / 1e6;
        console.log(`| ${key} | ${n} | ${d} | ${fmt(r(1).bytesPerParam, 3)} | ${fmt(gbs)} | ${fmt(roof, 0)} | ${fmt((100 * r(1).mparamPerS) / roof, 0)}% | ${fmt((100 * r(2).mparamPerS) / roof, 0)}% |`);
      }
    }
  }
}
if (capacity.length) {
  console.log('\nBytes held per parameter (value, gradient, state; int8 with its share of the scales) and the largest model one 4 GiB memory holds (found by allocating it):\n');
  console.log('| optimizer | state | bytes per parameter | largest model (parameters) |');
  console.log('|---|---|---:|---:|');
  for (const c of capacity) console.log(`| ${c.optimizer} | ${c.dtype} | ${fmt(c.bytesHeldPerParam, 3)} | ${c.largestModel.toLocaleString('en-US')} |`);
}

mkdirSync('bench/results', { recursive: true });
writeFileSync(out, JSON.stringify({ machine, bandwidth, rows, manySmallTensors: small, stateDtypes: dtypeRows, stateDtypeBandwidth: Object.fromEntries(dtypeBandwidth), capacity }, null, 2) + '\n');
const largest = Math.max(...sizes);
if (!dtypesOnly) writeFileSync(out.replace(/\.json$/, '.svg'), barChart(optimizers.map((o) => ({
  label: o.name,
  bars: IMPLS.map((impl) => ({ name: impl, value: rows.find((x) => x.optimizer === o.name && x.size === largest && x.impl === impl)?.mparamPerS ?? 0 })),
})), { title: `Mparam/s per optimizer step at ${largest} parameters (log scale), ${machine.engine}`, unit: 'Mparam/s', log: true }) + '\n');
console.log(`\nwrote ${out}${dtypesOnly ? '' : ` and ${out.replace(/\.json$/, '.svg')}`}`);
