// Times optimizer steps of two builds of this package side by side, interleaved in one
// process, so a change can be checked for speed against the build before it:
//
//   node scripts/compare-builds.mjs <dist of the build before> <dist of this build> [sizes] [reps]
//
// e.g. `git worktree add /tmp/before HEAD~3 && (cd /tmp/before && npm ci && npm run build)`,
// then `node scripts/compare-builds.mjs /tmp/before/dist dist 1000000,16000000 15`.
// Prints the median step time of each build per optimizer, backend, threads and size, and the
// ratio (this build / before: below 1 is faster). Each build first checks that both give the
// same bits after a few steps, so it times what it verified.
import { pathToFileURL } from 'node:url';
import { resolve } from 'node:path';

const [beforeDir, afterDir, sizesArg = '1000000,16000000', repsArg = '15'] = process.argv.slice(2);
if (!beforeDir || !afterDir) {
  console.error('usage: node scripts/compare-builds.mjs <dist before> <dist after> [sizes] [reps]');
  process.exit(2);
}
const load = (dir) => import(pathToFileURL(resolve(dir, 'index.js')).href);
const builds = { before: await load(beforeDir), after: await load(afterDir) };
const sizes = sizesArg.split(',').map(Number);
const reps = Number(repsArg);

const CONFIGS = [
  { label: 'Adam', make: (lib, ps) => new lib.Adam(ps, { lr: 1e-3 }) },
  { label: 'SGD momentum', make: (lib, ps) => new lib.SGD(ps, { lr: 1e-2, momentum: 0.9 }) },
  { label: 'RMSprop centered', make: (lib, ps) => new lib.RMSprop(ps, { centered: true, momentum: 0.5 }) },
];
// One thread each: two thread pools in one process compete for the cores (one's workers spin
// while the other's hand off), which makes interleaved threaded timings meaningless; time
// threads with one build per process instead.
const ENGINES = [
  { backend: 'wasm', threads: 1 },
  { backend: 'js', threads: 1 },
];

async function setup(lib, engine, config, size) {
  const store = await lib.ParameterStore.create(engine);
  // Four parameters, as a small network's layers: the group is several runs.
  const params = [0.5, 0.25, 0.125, 0.125].map((f, i) => store.parameter(`p${i}`, Math.round(size * f)));
  let seed = 1;
  for (const p of params) {
    const d = p.data, g = p.grad;
    for (let i = 0; i < p.size; i++) { seed = (seed * 1103515245 + 12345) >>> 0; d[i] = seed / 2 ** 32 - 0.5; g[i] = (seed >>> 7) / 2 ** 25 - 0.5; }
  }
  const opt = config.make(lib, params);
  return { store, params, opt };
}

const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s[Math.floor(s.length / 2)]; };

console.log(`| optimizer | backend | threads | size | before (ms) | after (ms) | after / before |`);
console.log(`|---|---|---:|---:|---:|---:|---:|`);
for (const size of sizes) {
  for (const engine of ENGINES) {
    if (engine.backend === 'js' && size > 4_000_000) continue; // minutes per step set: skip
    for (const config of CONFIGS) {
      const runs = { before: await setup(builds.before, engine, config, size), after: await setup(builds.after, engine, config, size) };
      // Check before timing: both builds give the same bits after 3 steps.
      for (let s = 0; s < 3; s++) { runs.before.opt.step(); runs.after.opt.step(); }
      runs.before.params.forEach((p, i) => {
        const a = new Uint32Array(p.data.slice().buffer), b = new Uint32Array(runs.after.params[i].data.slice().buffer);
        for (let k = 0; k < a.length; k++) if (a[k] !== b[k]) throw new Error(`${config.label} ${engine.backend}: the builds differ at ${p.name}[${k}]`);
      });
      const times = { before: [], after: [] };
      for (let r = 0; r < reps; r++) {
        for (const which of r % 2 ? ['after', 'before'] : ['before', 'after']) {
          const t0 = performance.now();
          runs[which].opt.step();
          times[which].push(performance.now() - t0);
        }
      }
      const b = median(times.before), a = median(times.after);
      console.log(`| ${config.label} | ${engine.backend} | ${engine.threads} | ${size.toLocaleString('en')} | ${b.toFixed(2)} | ${a.toFixed(2)} | ${(a / b).toFixed(3)} |`);
      runs.before.store.dispose();
      runs.after.store.dispose();
    }
  }
}
