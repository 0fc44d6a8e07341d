// The full mutation fuzz of checkpoints: `npx tsx scripts/fuzz-checkpoints.ts [count] [seed]`
// (default 10,000 per backend, seed 1). Prints the counts by mutation kind and outcome, and
// the refusal reasons; exits 1 if any mutated checkpoint was loaded wrongly or refused with a
// change (test/fuzz/checkpoint-fuzz.ts defines the mutations and the oracle).
import { runFuzz, type Outcome } from '../test/fuzz/checkpoint-fuzz.js';

const count = Number(process.argv[2] ?? 10000);
const seed = Number(process.argv[3] ?? 1);
let bad = 0;
for (const backend of ['wasm', 'js'] as const) {
  const started = performance.now();
  const outcomes: Outcome[] = await runFuzz(backend, count, seed);
  const table = new Map<string, number>();
  const reasons = new Map<string, number>();
  for (const o of outcomes) {
    const key = `${o.kind}: ${'failure' in o ? 'FAILED' : o.loaded ? 'loaded exactly' : 'refused, unchanged'}`;
    table.set(key, (table.get(key) ?? 0) + 1);
    if ('failure' in o) { bad++; if (bad <= 20) console.log(`FAILURE (${o.kind}): ${o.failure}`); }
    else if (!o.loaded) reasons.set(o.reason, (reasons.get(o.reason) ?? 0) + 1);
  }
  const loaded = outcomes.filter((o) => 'loaded' in o && o.loaded).length;
  const refused = outcomes.filter((o) => 'loaded' in o && !o.loaded).length;
  console.log(`\n${backend}: ${outcomes.length} mutated checkpoints in ${((performance.now() - started) / 1000).toFixed(1)} s: ${loaded} loaded exactly, ${refused} refused with nothing changed, ${outcomes.length - loaded - refused} failures`);
  for (const [k, n] of [...table].sort()) console.log(`  ${String(n).padStart(6)}  ${k}`);
  console.log('  refusal reasons (numbers and strings elided):');
  for (const [k, n] of [...reasons].sort((a, b) => b[1] - a[1]).slice(0, 25)) console.log(`  ${String(n).padStart(6)}  ${k}`);
}
process.exit(bad > 0 ? 1 : 0);
