// Optimizer-step benchmark: median step time and Mparam/s of SGD with momentum and of Adam
// on both backends at 64K, 1M and 16M parameters, beside the machine's copy bandwidth
// measured in the same run and the roofline it implies (bytes a step must move ÷ copy
// bandwidth). The copy bandwidth is the faster of a SIMD copy loop and TypedArray.set. A copy
// writes lines it never read, which costs write-allocate traffic an optimizer step (which
// writes only lines it has just read) does not pay, so a step can beat the copy roofline;
// the stricter in-place roofline uses an in-place SIMD scale stream, the access pattern of a
// step, and is reported beside it. Each configuration verifies a step's output (wasm ≡ js bit for bit, and the
// parameters moved) before it is timed.
//
//   npm run bench                       # everything
//   npm run bench -- --sizes 65536,1048576 --optimizers adam --time 500
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import { Bench } from 'tinybench';
import { ParameterStore } from '../dist/index.js';
import { BENCH_OPTIMIZERS as OPTIMIZERS, fillLcg as fill, verifiedPair } from '../dist/cli/bench.js';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1] : fallback;
}

const sizes = arg('sizes', '65536,1048576,16777216').split(',').map(Number);
const wanted = arg('optimizers', OPTIMIZERS.map((o) => o.name).join(',')).split(',');
const timeMs = Number(arg('time', '1000'));
const out = arg('out', 'bench/results/latest.json');
const optimizers = OPTIMIZERS.filter((o) => wanted.includes(o.name));
for (const w of wanted) if (!OPTIMIZERS.some((o) => o.name === w)) throw new Error(`unknown optimizer ${w}; known: ${OPTIMIZERS.map((o) => o.name).join(', ')}`);

function sameBits(a: Float32Array, b: Float32Array): boolean {
  const x = new Uint32Array(a.buffer, a.byteOffset, a.length), y = new Uint32Array(b.buffer, b.byteOffset, b.length);
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return false;
  return true;
}

interface Row {
  optimizer: string; backend: string; size: number; medianMs: number; mparamPerS: number;
  bytesPerParam: number;
  /** roofline from the copy bandwidth (the faster of the SIMD copy loop and TypedArray.set) */
  rooflineMs: number; rooflineFraction: number;
  /** stricter roofline from the in-place stream bandwidth */
  inPlaceRooflineMs: number; inPlaceRooflineFraction: number;
}

const rows: Row[] = [];
const copyRows: { size: number; wasmSimdGBs: number; typedArrayGBs: number; copyGBs: number; inPlaceGBs: number }[] = [];
const progress = (s: string) => process.stderr.write(`\r\x1b[K${s}`);

function median(bench: Bench, name: string): number {
  const r = bench.tasks.find((t) => t.name === name)!.result as { latency?: { p50: number } };
  if (!r.latency) throw new Error(`${name} failed`);
  return r.latency.p50;
}

for (const n of sizes) {
  const iterations = n >= 1 << 24 ? 8 : n >= 1 << 20 ? 30 : 200;
  const options = { time: timeMs, iterations, warmupIterations: Math.min(iterations, 10), warmupTime: 100 };
  // Bandwidth: the SIMD copy kernel over the arena, the engine's typed-array copy, and an
  // in-place SIMD stream.
  const copyBench = new Bench(options);
  const copyStore = await ParameterStore.create({ backend: 'wasm' });
  const src = copyStore.parameter('src', n), dst = copyStore.parameter('dst', n);
  fill(src.data, 3);
  copyStore.kernels.copy(copyStore.dataBase + dst.offset, copyStore.dataBase + src.offset, n);
  if (!sameBits(dst.data, src.data)) throw new Error('copy kernel verification failed');
  const copySrc = new Float32Array(n), copyDst = new Float32Array(n);
  fill(copySrc, 4);
  copyBench.add('copy/wasm-simd', () => copyStore.kernels.copy(copyStore.dataBase + dst.offset, copyStore.dataBase + src.offset, n));
  copyBench.add('copy/typed-array', () => copyDst.set(copySrc));
  // x *= 1 - 2^-24 keeps values finite: no write-allocate traffic, a step's access pattern.
  copyBench.add('stream/wasm-scale', () => copyStore.kernels.scale(copyStore.dataBase + dst.offset, n, 1 - 2 ** -24));
  progress(`n=${n}: bandwidth…`);
  await copyBench.run();
  const wasmCopy = (8 * n) / (median(copyBench, 'copy/wasm-simd') / 1e3) / 1e9;
  const typedCopy = (8 * n) / (median(copyBench, 'copy/typed-array') / 1e3) / 1e9;
  const inPlace = (8 * n) / (median(copyBench, 'stream/wasm-scale') / 1e3) / 1e9;
  const copyBw = Math.max(wasmCopy, typedCopy);
  copyRows.push({ size: n, wasmSimdGBs: wasmCopy, typedArrayGBs: typedCopy, copyGBs: copyBw, inPlaceGBs: inPlace });

  for (const o of optimizers) {
    const { wasm: w, js: j } = await verifiedPair(o, n);
    const bench = new Bench(options);
    bench.add('wasm', () => { w.opt.step(); });
    bench.add('js', () => { j.opt.step(); });
    progress(`n=${n}: ${o.name}…`);
    await bench.run();
    for (const backend of ['wasm', 'js']) {
      const ms = median(bench, backend);
      const rooflineMs = (o.bytesPerParam * n) / (copyBw * 1e9) * 1e3;
      const inPlaceRooflineMs = (o.bytesPerParam * n) / (inPlace * 1e9) * 1e3;
      rows.push({
        optimizer: o.name, backend, size: n, medianMs: ms, mparamPerS: n / ms / 1e3,
        bytesPerParam: o.bytesPerParam, rooflineMs, rooflineFraction: rooflineMs / ms,
        inPlaceRooflineMs, inPlaceRooflineFraction: inPlaceRooflineMs / ms,
      });
    }
    w.store.dispose();
    j.store.dispose();
    (globalThis as { gc?: () => void }).gc?.();
  }
  copyStore.dispose();
}
progress('');

const machine = {
  cpu: os.cpus()[0]?.model ?? 'unknown', cores: os.cpus().length, memoryGiB: Math.round(os.totalmem() / 2 ** 30),
  platform: `${os.platform()} ${os.arch()}`, engine: `Node ${process.version} (V8 ${process.versions.v8})`, date: new Date().toISOString(),
};
const fmt = (x: number, d = 2) => x.toFixed(d);
console.log(`simdopt step benchmark: ${machine.cpu}, ${machine.cores} cores, ${machine.engine}, ${machine.date.slice(0, 10)}`);
console.log('\ncopy bandwidth (read + write bytes / s), same run:');
console.log('| size | wasm SIMD copy GB/s | TypedArray.set GB/s | copy roofline uses | wasm in-place scale GB/s |');
console.log('|---:|---:|---:|---:|---:|');
for (const c of copyRows) console.log(`| ${c.size} | ${fmt(c.wasmSimdGBs)} | ${fmt(c.typedArrayGBs)} | ${fmt(c.copyGBs)} | ${fmt(c.inPlaceGBs)} |`);
console.log('\n| optimizer | size | backend | median ms | Mparam/s | copy roofline ms | of copy roofline | of in-place roofline | wasm / js |');
console.log('|---|---:|---|---:|---:|---:|---:|---:|---:|');
for (const r of rows) {
  const js = rows.find((x) => x.optimizer === r.optimizer && x.size === r.size && x.backend === 'js')!;
  const ratio = r.backend === 'wasm' ? `${fmt(js.medianMs / r.medianMs, 1)}×` : '';
  console.log(`| ${r.optimizer} | ${r.size} | ${r.backend} | ${fmt(r.medianMs, 3)} | ${fmt(r.mparamPerS, 0)} | ${fmt(r.rooflineMs, 3)} | ${fmt(100 * r.rooflineFraction, 0)}% | ${fmt(100 * r.inPlaceRooflineFraction, 0)}% | ${ratio} |`);
}
writeFileSync(out, JSON.stringify({ machine, copy: copyRows, rows }, null, 2) + '\n');
console.log(`\nwrote ${out}`);
