// Records test/golden/hashes.json: the golden program's hash for every optimizer case, on the
// wasm backend with one thread. Run it only on code whose results are meant to be pinned
// (before a refactor that must not change any bits), then commit the file:
//
//   npx tsx scripts/record-golden.ts
//
// test/golden.test.ts checks wasm (1 and 2 threads) and js against these values.
import { writeFileSync } from 'node:fs';
import { KERNELS_WASM_SHA256 } from '../src/index.js';
import { GOLDEN_DESCRIPTION, GOLDEN_PROGRAM_VERSION, goldenHash } from '../test/golden/program.js';
import { OPTIMIZER_CASES } from '../test/registry.js';

const out = new URL('../test/golden/hashes.json', import.meta.url);
const record: Record<string, unknown> = {
  program: {
    version: GOLDEN_PROGRAM_VERSION,
    description: GOLDEN_DESCRIPTION,
    source: 'test/golden/program.ts (goldenHash)',
    recordedWith: 'wasm backend, 1 thread',
    // For information only (not compared): the kernel build the hashes were recorded with.
    kernelsSha256: KERNELS_WASM_SHA256,
  },
};
for (const c of OPTIMIZER_CASES) {
  record[c.name] = await goldenHash(c.name, 'wasm', 1);
  console.log(`${c.name.padEnd(40)} ${record[c.name] as string}`);
}
writeFileSync(out, `${JSON.stringify(record, null, 2)}\n`);
console.log(`wrote ${OPTIMIZER_CASES.length} hashes to test/golden/hashes.json`);
