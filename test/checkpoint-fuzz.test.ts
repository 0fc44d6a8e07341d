// Mutation fuzz of checkpoints (a few hundred per backend; scripts/fuzz-checkpoints.ts runs the
// full count): every mutated checkpoint is either refused with a clear error, everything left
// bit for bit as it was, or loads exactly what its bytes encode.
import { describe, expect, it } from 'vitest';
import { BACKENDS } from './helpers.js';
import { MUTATIONS, runFuzz } from './fuzz/checkpoint-fuzz.js';

describe('mutated checkpoints load exactly or are refused with nothing changed', () => {
  for (const backend of BACKENDS) {
    it(`${backend}: 360 mutations of every kind`, async () => {
      const outcomes = await runFuzz(backend, 360, backend === 'wasm' ? 11 : 12);
      const failures = outcomes.filter((o) => 'failure' in o);
      expect(failures.slice(0, 5)).toEqual([]);
      // Every kind ran; float edits under a recomputed CRC load (their bytes are valid), and
      // raw bit flips and truncations never do (the checksum catches them).
      const by = (kind: string, loaded: boolean) => outcomes.filter((o) => o.kind === kind && 'loaded' in o && o.loaded === loaded).length;
      for (const kind of Object.keys(MUTATIONS)) expect(outcomes.filter((o) => o.kind === kind).length, kind).toBe(40);
      expect(by('float data edits, CRC recomputed', true)).toBe(40);
      expect(by('bit flips', true)).toBe(0);
      expect(by('truncation', true)).toBe(0);
      expect(by('header value edits, CRC recomputed', false)).toBeGreaterThan(10);
    });
  }

  it('int8 state (16- and 8-bit blocks, scales), both backends: 180 mutations of every kind', async () => {
    for (const backend of BACKENDS) {
      const outcomes = await runFuzz(backend, 180, 13, 'int8');
      expect(outcomes.filter((o) => 'failure' in o).slice(0, 5)).toEqual([]);
      const by = (kind: string, loaded: boolean) => outcomes.filter((o) => o.kind === kind && 'loaded' in o && o.loaded === loaded).length;
      expect(by('float data edits, CRC recomputed', true)).toBe(20);
      expect(by('bit flips', true)).toBe(0);
    }
  });
});
