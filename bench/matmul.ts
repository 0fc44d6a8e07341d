// Matrix multiply benchmark (npm run bench:matmul): GFLOP/s of store.matmul (wasm on one and two
// threads, and the js backend) beside tfjs-backend-wasm's matMul (XNNPACK) and a plain
// JavaScript triple loop, square sizes 128-1024 and one tall-skinny product, all measured side
// by side in one run (round robin, medians). Before timing, every configuration is verified:
// wasm ≡ js ≡ two threads bit for bit, and the peers within float32 tolerance of simdopt.
//
//   npm run bench:matmul -- [--sizes 256,1024,4096x256x256] [--time 2000] [--muon 1024]
import os from 'node:os';
import { mkdirSync, writeFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs-core';
import { getThreadsCount, setThreadsCount } from '@tensorflow/tfjs-backend-wasm';
import { AdamW, Muon, ParameterStore, type Matrix } from '../dist/index.js';
import { fillLcg, sameBits } from '../dist/cli/bench.js';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1] : fallback;
}

/** m×k·k×n; "256" is square. */
const shapes = arg('sizes', '128,256,512,1024,4096x256x256').split(',').map((s) => {
  const d = s.split('x').map(Number);
  return d.length === 1 ? [d[0], d[0], d[0]] : d;
});
const timeMs = Number(arg('time', '2000'));
const out = arg('out', 'bench/results/matmul.json');
/** Runs per configuration per round; the first of each is a warm-up, not timed. */
const BURST = 3;

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1];

/** Plain JS: i-k-j over Float32Arrays, the loop order a careful programmer writes. */
function plainMatmul(A: Float32Array, B: Float32Array, C: Float32Array, m: number, k: number, n: number): void {
  C.fill(0);
  for (let i = 0; i < m; i++) {
    const ci = i * n;
    for (let kk = 0; kk < k; kk++) {
      const a = A[i * k + kk], bk = kk * n;
      for (let j = 0; j < n; j++) C[ci + j] += a * B[bk + j];
    }
  }
}

/** Deterministic values in [-1, 1) (the element-wise benchmark's). */
function fill(x: Float32Array, seed: number): Float32Array {
  fillLcg(x, seed);
  return x;
}

/** Largest |x - ref| over the scale of the terms (k · max|a| · max|b| = k here): within float32 accumulation error. */
function checkClose(label: string, x: Float32Array, ref: Float32Array, k: number): void {
  let d = 0;
  for (let i = 0; i < x.length; i++) d = Math.max(d, Math.abs(x[i] - ref[i]));
  if (!(d <= 1e-5 * k)) throw new Error(`${label}: differs from simdopt by ${d}`);
}

interface Impl { name: string; run: () => void; result: () => Float32Array; dispose?: () => void }

await tf.setBackend('wasm');
await tf.ready();
const tfThreads = getThreadsCount();

const rows: { shape: string; impl: string; medianMs: number; gflops: number }[] = [];
for (const [m, k, n] of shapes) {
  const label = m === k && k === n ? `${m}²` : `${m}×${k}·${k}×${n}`;
  const A = fill(new Float32Array(m * k), 1), B = fill(new Float32Array(k * n), 2);
  const impls: Impl[] = [];
  const stores: ParameterStore[] = [];
  for (const [backend, threads] of [['wasm', 1], ['wasm', 2], ['js', 1]] as const) {
    const store = await ParameterStore.create({ backend, threads });
    stores.push(store);
    const a = store.matrix(m, k, A), b = store.matrix(k, n, B), c: Matrix = store.matrix(m, n);
    impls.push({ name: `simdopt ${backend}${backend === 'wasm' ? `, ${store.threads.active} thread${threads > 1 ? 's' : ''}` : ''}`, run: () => store.matmul(a, b, c), result: () => c.data.slice() });
  }
  const ta = tf.tensor2d(A, [m, k]), tb = tf.tensor2d(B, [k, n]);
  let tfOut: Float32Array = new Float32Array(0);
  const tfRun = () => {
    const c = tf.matMul(ta, tb);
    tfOut = c.dataSync() as Float32Array;
    c.dispose();
  };
  const tfImpls: Impl[] = [1, 2].filter((t) => t === 1 || tfThreads > 1).map((t) => ({
    name: `tfjs-backend-wasm (XNNPACK), ${t} thread${t > 1 ? 's' : ''}`,
    run: () => { setThreadsCount(t); tfRun(); },
    result: () => tfOut,
  }));
  impls.push(...tfImpls);
  const plainC = new Float32Array(m * n);
  impls.push({ name: 'plain JS triple loop', run: () => plainMatmul(A, B, plainC, m, k, n), result: () => plainC });

  // Verify before timing.
  for (const x of impls) x.run();
  const ref = impls[0].result();
  if (!sameBits(impls[1].result(), ref) || !sameBits(impls[2].result(), ref)) throw new Error(`${label}: wasm, two threads and js disagree`);
  for (const x of impls.slice(3)) checkClose(`${label} ${x.name}`, x.result(), ref, k);

  // Round robin of bursts until each has had its time: every round runs each configuration
  // `BURST` times back to back and keeps all but the first run, so a configuration is timed in
  // steady state, as in a training loop, not just after the others left the second core idle
  // (measured: a 2-thread product right after 200 ms of idleness ran at one thread's speed).
  const times = impls.map(() => [] as number[]);
  const start = performance.now();
  while (times[0].length < 3 || performance.now() - start < timeMs * impls.length) {
    impls.forEach((x, i) => {
      for (let b = 0; b < BURST; b++) {
        const t = performance.now();
        x.run();
        if (b > 0) times[i].push(performance.now() - t);
      }
    });
    if (times[0].length >= 200) break;
  }
  const flops = 2 * m * n * k;
  impls.forEach((x, i) => {
    const ms = median(times[i]);
    rows.push({ shape: label, impl: x.name, medianMs: ms, gflops: flops / ms / 1e6 });
  });
  ta.dispose();
  tb.dispose();
  for (const s of stores) s.dispose();
  process.stderr.write(`${label} done\n`);
}

// Muon's step on one 1024×1024 parameter (five Newton–Schulz iterations: 15 products of
// 1024³ multiply-adds), beside AdamW's step on the same parameter, on one and two threads.
const muonSide = Number(arg('muon', '1024'));
const stepRows: { impl: string; medianMs: number }[] = [];
if (muonSide > 0) {
  const worlds = [];
  for (const threads of [1, 2]) {
    const store = await ParameterStore.create({ backend: 'wasm', threads });
    const w = store.parameter('w', { shape: [muonSide, muonSide], values: fill(new Float32Array(muonSide * muonSide), 3) });
    w.grad.set(fill(new Float32Array(muonSide * muonSide), 4));
    const v = store.parameter('v', { shape: [muonSide, muonSide], values: w.data });
    v.grad.set(w.grad);
    worlds.push({ threads: store.threads.active, store, muon: new Muon([w]), adamw: new AdamW([v]) });
  }
  const tasks = worlds.flatMap((x) => [
    { impl: `Muon, ${x.threads} thread${x.threads > 1 ? 's' : ''}`, run: () => x.muon.step() },
    { impl: `AdamW, ${x.threads} thread${x.threads > 1 ? 's' : ''}`, run: () => x.adamw.step() },
  ]);
  const times = tasks.map(() => [] as number[]);
  const start = performance.now();
  while (times[0].length < 5 || (performance.now() - start < timeMs * tasks.length && times[0].length < 50)) {
    tasks.forEach((t, i) => {
      const t0 = performance.now();
      t.run();
      times[i].push(performance.now() - t0);
    });
  }
  tasks.forEach((t, i) => stepRows.push({ impl: t.impl, medianMs: median(times[i]) }));
  for (const x of worlds) x.store.dispose();
}

const shapesSeen = [...new Set(rows.map((r) => r.shape))];
const implsSeen = [...new Set(rows.map((r) => r.impl))];
const lines = [
  `| GFLOP/s (median) | ${shapesSeen.join(' | ')} |`,
  `|---|${shapesSeen.map(() => '---:').join('|')}|`,
  ...implsSeen.map((impl) => `| ${impl} | ${shapesSeen.map((s) => rows.find((r) => r.shape === s && r.impl === impl)?.gflops.toFixed(1) ?? '–').join(' | ')} |`),
];
const ratio = (num: string, den: string) => shapesSeen.map((s) => {
  const a = rows.find((r) => r.shape === s && r.impl === num), b = rows.find((r) => r.shape === s && r.impl.startsWith(den));
  return a && b ? `${(a.gflops / b.gflops).toFixed(2)}×` : '–';
}).join(' | ');
lines.push(`| simdopt wasm 1 thread ÷ tfjs-backend-wasm 1 thread | ${ratio('simdopt wasm, 1 thread', 'tfjs-backend-wasm (XNNPACK), 1 thread')} |`);
lines.push(`| simdopt wasm 2 threads ÷ 1 thread | ${ratio('simdopt wasm, 2 threads', 'simdopt wasm, 1 thread')} |`);
console.log(lines.join('\n'));
if (stepRows.length) {
  console.log(`\n| step of one ${muonSide}×${muonSide} parameter (wasm) | median ms |\n|---|---:|`);
  for (const r of stepRows) console.log(`| ${r.impl} | ${r.medianMs.toFixed(1)} |`);
}
console.log(`\nNode ${process.version}, ${os.cpus()[0]?.model ?? 'unknown CPU'}, ${os.cpus().length} cores; tfjs-backend-wasm threads available: ${tfThreads}`);
mkdirSync('bench/results', { recursive: true });
writeFileSync(out, JSON.stringify({ date: new Date().toISOString(), node: process.version, cpu: os.cpus()[0]?.model, tfThreads, rows, muonSide, steps: stepRows }, null, 2));
