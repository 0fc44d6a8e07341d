// Generates the kernels from their definitions (src/kernels/defs/): one source, two targets.
// Each element-wise kernel's body is traced once per combination of its specialisation flags;
// identical programs are merged; every remaining program becomes an AssemblyScript SIMD loop
// (f32x4 lanes, one partial vector for the tail) and a JS loop (Math.fround after every
// rounding operation), and the export dispatches on the flag bits. Written by the build
// (scripts/build-wasm.mjs runs this before asc):
//
//   assembly/generated/kernels.ts         the SIMD kernels and abiVersion() (compiled by asc)
//   assembly/generated/selftest-cases.ts  the self-test driver's calls (src/kernels/selftest-cases.ts)
//   src/generated/kernels-js.ts           the JS twins, same signatures as the exports
//   src/generated/kernels-api.ts          ABI version, kernel metadata (arrays, scalars, flag bits),
//                                         the raw signatures and the typed named-argument wrappers
//
// and, with --docs, docs/ABI.md (committed; test/kernels.test.ts checks it is up to date):
//
//   node --import tsx scripts/gen-kernels.ts [--docs]
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { ABI_FINGERPRINT, ABI_VERSION, HAND_WRITTEN, KERNELS, REDUCTIONS, type HandWrittenExport } from '../src/kernels/defs/index.js';
import { RuntimeFlag, fixRuntimeFlag, trace, type KernelDef, type Node, type Program } from '../src/kernels/dsl.js';
import { SELFTEST_CASES } from '../src/kernels/selftest-cases.js';
import { BLOCK_ELEMENTS, STATE_SCRATCH_BYTES, INT8_SHIFT, MANTISSA_BITS } from '../src/kernels/lowp.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const RESERVED = new Set([
  'n', 'i', 'j', 'q', 'lanes', 'flags', 'heap', 'mem', 'end', 'need', 'fround', 'load', 'store', 'a', 's', 'f',
  // the low-precision variants' arguments and locals
  'index', 'key', 'stochastic', 'full', 'tail', 'len', 'start', 'blockLen', 'b', 'scratch',
]);

// ---------------------------------------------------------------------------------------------
// Analysis: trace every specialisation, check the definition against its traces.

/** One generated specialisation (a distinct traced program). */
interface Spec {
  /** Function name, from the fewest flags that select it. */
  readonly fn: string;
  readonly program: Program;
  /** Dispatch keys (specialisation flag bits, runtime flags shifted out) that run it. */
  readonly keys: number[];
  /** A low-precision variant's: the float32 specialisation of the same program. */
  readonly floatFn?: string;
}

/**
 * The element type of a kernel's state arrays: each definition with state arrays gives three
 * exports, `<name>` (float32), `<name>_bf16` and `<name>_int8`, generated from the same traces.
 */
export type Variant = 'float32' | 'bfloat16' | 'int8';

/** Export-name suffix of each variant. */
export const VARIANT_SUFFIX: Readonly<Record<Variant, string>> = { float32: '', bfloat16: '_bf16', int8: '_int8' };

/** A kernel definition with its traces, as one export (one variant of the definition). */
export interface Analysed {
  readonly def: KernelDef;
  /** The export's name: the definition's, plus the variant's suffix. */
  readonly name: string;
  readonly variant: Variant;
  /** The arrays the body sees (the definition's), in order. */
  readonly bodyArrays: readonly string[];
  /** The definition's state arrays (those whose element type follows the variant). */
  readonly stateArrays: readonly string[];
  /** Array arguments at the ABI: the body's, then (int8) one scale array `<state>Scale` per state array. */
  readonly arrays: readonly string[];
  /** Integer arguments after `n` (bfloat16: `index`, the first element's position for stochastic rounding, and `key`). */
  readonly ints: readonly string[];
  readonly scalars: readonly string[];
  /** All flags, bit 0 first (bfloat16 adds `stochastic` last). */
  readonly flags: readonly string[];
  readonly runtime: readonly string[];
  /** Specialisation flags (bit `runtime.length + k` for flag k). */
  readonly spec: readonly string[];
  readonly specs: readonly Spec[];
  /** Index into `specs` for each dispatch key. */
  readonly specOfKey: readonly number[];
  /** For each array and scalar: whether each dispatch key uses it. */
  readonly uses: ReadonlyMap<string, readonly boolean[]>;
  /** For each array and scalar: when it is used, in words ('always' when always). */
  readonly when: ReadonlyMap<string, string>;
}

function fail(message: string): never {
  throw new Error(`gen-kernels: ${message}`);
}

/** Traces `def` for every flag combination and checks it. */
export function analyse(def: KernelDef): Analysed {
  const arrays = Object.keys(def.arrays), scalars = Object.keys(def.scalars), flags = Object.keys(def.flags);
  const runtime = flags.filter((f) => def.flags[f].runtime);
  const spec = flags.filter((f) => !def.flags[f].runtime);
  if (flags.slice(0, runtime.length).some((f) => !def.flags[f].runtime)) fail(`${def.name}: runtime flags must come first`);
  for (const name of [...arrays, ...scalars]) {
    if (RESERVED.has(name) || !/^[a-z][A-Za-z0-9]*$/.test(name)) fail(`${def.name}: argument name ${name} is reserved or not camelCase`);
  }
  if (new Set([...arrays, ...scalars]).size !== arrays.length + scalars.length) fail(`${def.name}: an array and a scalar share a name`);
  if (flags.length > 16) fail(`${def.name}: too many flags`);

  const assignment = (key: number, fixed?: { flag: string; value: boolean }) => {
    const values: Record<string, boolean | RuntimeFlag> = {};
    for (const r of runtime) values[r] = fixed?.flag === r ? fixed.value : new RuntimeFlag(r);
    spec.forEach((f, k) => { values[f] = (key & (1 << k)) !== 0; });
    return values;
  };
  const keyCount = 1 << spec.length;
  const specs: { program: Program; keys: number[] }[] = [];
  const specOfKey: number[] = [];
  const byText = new Map<string, number>();
  for (let key = 0; key < keyCount; key++) {
    const program = trace(def, assignment(key));
    // A runtime flag must act only through negIf: fixing it in the trace gives what tracing with the boolean gives.
    for (const flag of runtime) {
      for (const value of [false, true]) {
        if (fixRuntimeFlag(program, flag, value).text !== trace(def, assignment(key, { flag, value })).text) {
          fail(`${def.name}: runtime flag ${flag} is used other than through negIf (flags ${describeKey(spec, key)})`);
        }
      }
    }
    for (const name of program.arrays) {
      const decl = def.arrays[name];
      if (decl.when !== undefined && !spec.includes(decl.when)) fail(`${def.name}: array ${name}: unknown flag ${decl.when}`);
      if (decl.when !== undefined && (key & (1 << spec.indexOf(decl.when))) === 0) {
        fail(`${def.name}: array ${name} is declared to be used only with ${decl.when}, but flags ${describeKey(spec, key)} use it`);
      }
    }
    for (const name of arrays) {
      if (def.arrays[name].when === undefined && !program.arrays.has(name)) {
        fail(`${def.name}: array ${name} is not used with flags ${describeKey(spec, key)}: declare the flag it needs (when)`);
      }
    }
    let index = byText.get(program.text);
    if (index === undefined) {
      index = specs.length;
      specs.push({ program, keys: [] });
      byText.set(program.text, index);
    }
    specs[index].keys.push(key);
    specOfKey.push(index);
  }
  spec.forEach((f, k) => {
    if (specOfKey.every((s, key) => s === specOfKey[key ^ (1 << k)])) fail(`${def.name}: flag ${f} changes nothing`);
  });
  for (const r of runtime) {
    if (!specs.some((s) => s.program.runtimeFlags.has(r))) fail(`${def.name}: runtime flag ${r} is never used`);
  }
  const uses = new Map<string, boolean[]>();
  const when = new Map<string, string>();
  for (const name of [...arrays, ...scalars]) {
    const used = specOfKey.map((s) => {
      const p = specs[s].program;
      return p.arrays.has(name) || p.scalars.has(name);
    });
    if (!used.some(Boolean)) fail(`${def.name}: ${name} is never used`);
    uses.set(name, used);
    when.set(name, condition(spec, used));
  }
  const named = specs.map((s) => {
    const key = [...s.keys].sort((a, b) => popcount(a) - popcount(b) || a - b)[0];
    const set = spec.filter((_, k) => (key & (1 << k)) !== 0);
    return { ...s, fn: `${def.name}_${set.length ? set.join('_') : 'base'}` };
  });
  const stateArrays = arrays.filter((x) => def.arrays[x].state !== undefined);
  for (const x of stateArrays) {
    if (def.arrays[x].access !== 'readwrite') fail(`${def.name}: state array ${x} must be readwrite`);
    if (!['signed', 'unsigned'].includes(def.arrays[x].state!)) fail(`${def.name}: state array ${x}: state must be 'signed' or 'unsigned'`);
    if (arrays.includes(`${x}Scale`) || scalars.includes(`${x}Scale`)) fail(`${def.name}: ${x}Scale would name both an argument and ${x}'s int8 scales`);
  }
  for (const s of named) {
    // A state array is decoded before the element loop and encoded after it: a body that reads one must write it back.
    for (const x of stateArrays) if (s.program.loaded.has(x) && !s.program.stored.has(x)) fail(`${def.name}: state array ${x} is loaded but not stored (flags ${s.keys.map((k) => describeKey(spec, k)).join(' ')})`);
  }
  return {
    def, name: def.name, variant: 'float32', bodyArrays: arrays, stateArrays, arrays, ints: [], scalars, flags, runtime, spec, specs: named, specOfKey, uses, when,
  };
}

/** The exports of a definition: the float32 one, and with state arrays its bfloat16 and int8 variants. */
export function variants(a: Analysed): Analysed[] {
  if (a.stateArrays.length === 0) return [a];
  const rename = (v: Variant) => a.specs.map((s) => ({ ...s, fn: s.fn.replace(a.def.name, a.def.name + VARIANT_SUFFIX[v]), floatFn: s.fn }));
  if (a.stateArrays.length > STATE_SCRATCH_BYTES / (4 * BLOCK_ELEMENTS)) fail(`${a.def.name}: more state arrays than the int8 scratch holds`);
  // Both run block by block through the host's scratch (one per call or thread slice).
  const withScratch = (extra: Map<string, readonly boolean[]>, words: Map<string, string>) => {
    const uses = new Map([...a.uses, ...extra, ['scratch', a.specOfKey.map(() => true)]]);
    const when = new Map([...a.when, ...words, ['scratch', 'always']]);
    return { uses, when };
  };
  const bf16: Analysed = {
    ...a, name: a.name + VARIANT_SUFFIX.bfloat16, variant: 'bfloat16', arrays: [...a.arrays, 'scratch'], ints: ['index', 'key'], flags: [...a.flags, 'stochastic'],
    specs: rename('bfloat16'), ...withScratch(new Map(), new Map()),
  };
  const scales = a.stateArrays.map((x) => `${x}Scale`);
  const int8: Analysed = {
    ...a, name: a.name + VARIANT_SUFFIX.int8, variant: 'int8', arrays: [...a.arrays, ...scales, 'scratch'], specs: rename('int8'),
    ...withScratch(new Map(a.stateArrays.map((x, i) => [scales[i], a.uses.get(x)!])), new Map(a.stateArrays.map((x, i) => [scales[i], a.when.get(x)!]))),
  };
  return [a, bf16, int8];
}

function popcount(x: number): number {
  let c = 0;
  for (; x; x &= x - 1) c++;
  return c;
}

function describeKey(spec: readonly string[], key: number): string {
  const set = spec.filter((_, k) => (key & (1 << k)) !== 0);
  return set.length ? `{ ${set.join(', ')} }` : '{}';
}

/** A short sum of products over the specialisation flags that is true exactly for the used keys. */
export function condition(spec: readonly string[], used: readonly boolean[]): string {
  if (used.every(Boolean)) return 'always';
  const k = spec.length;
  // Terms: for each flag 0 (must be clear), 1 (must be set) or 2 (either).
  const terms: number[][] = [];
  const total = 3 ** k;
  for (let t = 0; t < total; t++) {
    const lits: number[] = [];
    for (let i = 0, x = t; i < k; i++, x = Math.floor(x / 3)) lits.push(x % 3);
    terms.push(lits);
  }
  const covers = (lits: number[], key: number) => lits.every((l, i) => l === 2 || l === ((key >> i) & 1));
  const implicants = terms.filter((lits) => used.every((u, key) => u || !covers(lits, key)));
  const size = (lits: number[]) => lits.filter((l) => l !== 2).length;
  const chosen: number[][] = [];
  const left = new Set(used.flatMap((u, key) => (u ? [key] : [])));
  while (left.size) {
    let best = implicants[0], bestCount = -1;
    for (const lits of implicants) {
      const count = [...left].filter((key) => covers(lits, key)).length;
      if (count > bestCount || (count === bestCount && size(lits) < size(best))) { best = lits; bestCount = count; }
    }
    chosen.push(best);
    for (const key of [...left]) if (covers(best, key)) left.delete(key);
  }
  return chosen.map((lits) => lits.flatMap((l, i) => (l === 2 ? [] : [l ? spec[i] : `not ${spec[i]}`])).join(' and ')).join(', or ');
}

// ---------------------------------------------------------------------------------------------
// AssemblyScript.

function asLiteral(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (!Number.isFinite(v)) return v > 0 ? 'Infinity' : '-Infinity';
  if (Object.is(v, -0)) return '-0.0';
  const s = String(v);
  return /[.e]/.test(s) ? s : `${s}.0`;
}

function asExpr(n: Node, ref: (i: number) => string): string {
  const [a, b] = n.args.map(ref);
  switch (n.op) {
    case 'load': return `load(${n.name!}, lanes)`;
    case 'scalar': return n.name!;
    case 'const': return `f32x4.splat(${asLiteral(n.value!)})`;
    case 'add': case 'sub': case 'mul': case 'div': case 'min': case 'max': return `f32x4.${n.op}(${a}, ${b})`;
    case 'sqrt': case 'abs': case 'neg': return `f32x4.${n.op}(${a})`;
    case 'sign': return `v128.or(v128.and(f32x4.gt(${a}, f32x4.splat(0.0)), f32x4.splat(1.0)), v128.and(f32x4.lt(${a}, f32x4.splat(0.0)), f32x4.splat(-1.0)))`;
    case 'signflip': return `v128.xor(${a}, ${n.name!}Sign)`;
  }
}

/** Local names v0, v1, ... of the nodes that get one (scalars and literals are written in place). */
function localNames(p: Program): (string | undefined)[] {
  let next = 0;
  return p.nodes.map((n) => (n.op === 'scalar' || n.op === 'const' ? undefined : `v${next++}`));
}

/** Statements of a program over `lanes` lanes (scalars are v128 parameters of the same name). */
function asBody(p: Program): string[] {
  const names = localNames(p);
  const ref = (i: number): string => names[i] ?? asExpr(p.nodes[i], ref);
  const lines: string[] = [];
  const stores = (at: number) => p.stores.filter((s) => s.at === at).forEach((s) => lines.push(`store(${s.array}, ${ref(s.value)}, lanes);`));
  p.nodes.forEach((n, i) => {
    stores(i);
    if (names[i]) lines.push(`const ${names[i]} = ${asExpr(n, ref)};`);
  });
  stores(p.nodes.length);
  return lines;
}

function specArgs(a: Analysed, p: Program) {
  return {
    arrays: a.arrays.filter((x) => p.arrays.has(x)),
    runtime: a.runtime.filter((r) => p.runtimeFlags.has(r)),
    scalars: a.scalars.filter((x) => p.scalars.has(x)),
  };
}

function docComment(lines: string[], indent = ''): string {
  return [`${indent}/**`, ...lines.map((l) => (l ? `${indent} * ${l}` : `${indent} *`)), `${indent} */`].join('\n');
}

function wrap(text: string, width = 96): string[] {
  const out: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/).filter(Boolean)) {
    if (line && line.length + 1 + word.length > width) { out.push(line); line = word; } else line = line ? `${line} ${word}` : word;
  }
  if (line) out.push(line);
  return out;
}

function exportDoc(a: Analysed): string[] {
  const d = a.def.doc;
  const lines = [...wrap(`${d.summary} Over \`n\` f32 elements at byte offsets ${a.arrays.map((x) => `\`${x}\``).join(', ')}.`), ''];
  lines.push(...d.rule.split('\n').map((l) => `    ${l}`));
  if (d.notes) lines.push('', ...wrap(d.notes));
  if (a.flags.length) lines.push('', `Flags: ${a.flags.map((f, i) => `${f} = ${1 << i}`).join(', ')} (docs/ABI.md).`);
  return lines;
}

function flagKeyExpr(a: Analysed, flagsVar: string): string {
  const mask = (1 << a.spec.length) - 1;
  return a.runtime.length ? `(${flagsVar} >>> ${a.runtime.length}) & ${mask}` : `${flagsVar} & ${mask}`;
}

/** The body arrays a specialisation uses, its state arrays among them, its runtime flags and scalars. */
function specParts(a: Analysed, p: Program) {
  const { arrays, runtime, scalars } = specArgs(a, p);
  const states = arrays.filter((x) => a.stateArrays.includes(x));
  return { arrays, runtime, scalars, states, loaded: states.filter((x) => p.loaded.has(x)), stored: states.filter((x) => p.stored.has(x)) };
}

/**
 * The arguments an export passes to one of its specialisations (both targets): the arrays the
 * program uses, (int8) their scales and (bfloat16, int8) the scratch, n, (bfloat16) the
 * rounding arguments, the runtime flags (as `flag` names them) and the scalars.
 */
function specCallArgs(a: Analysed, s: Spec, flag: (r: string) => string): string[] {
  const { arrays, runtime, scalars, states } = specParts(a, s.program);
  const lowp = a.variant === 'bfloat16' ? ['index', 'key', 'stochastic'] : [];
  const scales = a.variant === 'float32' ? [] : [...(a.variant === 'int8' ? states.map((x) => `${x}Scale`) : []), 'scratch'];
  return [...arrays, ...scales, 'n', ...lowp, ...runtime.map(flag), ...scalars];
}

/** The ordinal of a state array among its definition's state arrays (its scratch and rounding stream). */
function ordinal(a: Analysed, x: string): number {
  return a.stateArrays.indexOf(x);
}

function asKernel(a: Analysed): string {
  const d = a.def;
  const out: string[] = [];
  out.push(`// ${'-'.repeat(94)}`);
  out.push(`// ${a.name}: JS twin \`${a.name}\` in src/generated/kernels-js.ts. Mirrors ${d.doc.mirrors}.`);
  out.push(`// Definition: src/kernels/defs/${d.name}.ts${a.variant === 'float32' ? '' : `, state arrays in ${a.variant}`}. ${a.specs.length} specialisation${a.specs.length > 1 ? 's' : ''}.`);
  for (const s of a.specs) {
    out.push('', `// flags ${s.keys.map((k) => describeKey(a.spec, k)).join(' ')}`);
    out.push(...(a.variant === 'float32' ? asLoopFloat32(a, s) : asLoopBlocks(a, s)));
  }
  out.push('');
  out.push(docComment(exportDoc(a)));
  out.push(`export function ${a.name}(${abiParams(a, 'usize', 'i32', 'f32', 'u32').join(', ')}): void {`);
  a.runtime.forEach((r) => {
    out.push(`  const ${r}Sign = signMask((flags & ${1 << a.flags.indexOf(r)}) != 0);`);
  });
  if (a.variant === 'bfloat16') out.push(`  const stochastic = (flags & ${1 << a.flags.indexOf('stochastic')}) != 0;`);
  const call = (s: Spec) => `${s.fn}(${specCallArgs(a, s, (r) => `${r}Sign`).join(', ')});`;
  if (a.specs.length === 1) {
    out.push(`  ${call(a.specs[0])}`);
  } else {
    out.push(`  switch (${flagKeyExpr(a, 'flags')}) {`);
    for (const s of a.specs) {
      out.push(`    ${s.keys.map((k) => `case ${k}:`).join(' ')}`);
      out.push(`      ${call(s)}`);
      out.push('      return;');
    }
    out.push('  }');
  }
  out.push('}');
  return out.join('\n');
}

/** The export's parameters, typed with the given type names (pointer, i32, f32, flags). */
function abiParams(a: Analysed, ptr: string, int: string, f32: string, flags: string): string[] {
  return [...a.arrays.map((x) => `${x}: ${ptr}`), `n: ${int}`, ...a.ints.map((x) => `${x}: ${int}`), ...a.scalars.map((x) => `${x}: ${f32}`), ...(a.flags.length ? [`flags: ${flags}`] : [])];
}

/** A float32 specialisation: an @inline body over `lanes` lanes and its loop (whole vectors, then the tail). */
function asLoopFloat32(a: Analysed, s: Spec): string[] {
  const out: string[] = [];
  const { arrays, runtime, scalars } = specParts(a, s.program);
  const ptrParams = arrays.map((x) => `${x}: usize`).join(', ');
  const vecParams = [...runtime.map((r) => `${r}Sign: v128`), ...scalars.map((x) => `${x}: v128`)];
  out.push('// @ts-ignore: decorator');
  out.push(`@inline function ${s.fn}_body(${[ptrParams, 'lanes: i32', ...vecParams].join(', ')}): void {`);
  for (const l of asBody(s.program)) out.push(`  ${l}`);
  out.push('}');
  out.push('');
  // Its own function (not inlined into the export): the register allocator then sees only this
  // loop and the scalars it uses.
  out.push(`function ${s.fn}(${[ptrParams, 'n: i32', ...runtime.map((r) => `${r}Sign: v128`), ...scalars.map((x) => `${x}: f32`)].join(', ')}): void {`);
  for (const x of scalars) out.push(`  const v_${x} = f32x4.splat(${x});`);
  const loopArgs = [...runtime.map((r) => `${r}Sign`), ...scalars.map((x) => `v_${x}`)];
  const first = arrays[0];
  out.push(`  const end = ${first} + (<usize>(n & ~3) << 2);`);
  out.push(`  while (${first} < end) {`);
  out.push(`    ${s.fn}_body(${[...arrays, '4', ...loopArgs].join(', ')});`);
  out.push(`    ${arrays.map((x) => `${x} += 16;`).join(' ')}`);
  out.push('  }');
  out.push('  const lanes = n & 3;');
  out.push(`  if (lanes != 0) ${s.fn}_body(${[...arrays, 'lanes', ...loopArgs].join(', ')});`);
  out.push('}');
  return out;
}

/**
 * A bfloat16 or int8 specialisation: block by block (BLOCK_ELEMENTS elements; int8: one scale
 * per state array), each state array's block decoded into its part of the host's scratch, the
 * float32 specialisation of the same program run over the block with the scratch as its state,
 * and the scratch encoded back (assembly/lowp.ts): bfloat16 rounded to nearest or
 * stochastically (`index` is the position of the call's first element in the state buffers),
 * int8 with the block's new scales.
 */
function asLoopBlocks(a: Analysed, s: Spec): string[] {
  const out: string[] = [];
  const { arrays, runtime, scalars, states, loaded, stored } = specParts(a, s.program);
  const int8 = a.variant === 'int8';
  const kind = (x: string) => (a.def.arrays[x].state === 'signed' ? 'Signed' : 'Unsigned');
  const scales = int8 ? states.map((x) => `${x}Scale`) : [];
  const lowp = int8 ? [] : ['index: i32', 'key: u32', 'stochastic: bool'];
  out.push(`function ${s.fn}(${[...arrays.map((x) => `${x}: usize`), ...scales.map((x) => `${x}: usize`), 'scratch: usize', 'n: i32', ...lowp, ...runtime.map((r) => `${r}Sign: v128`), ...scalars.map((x) => `${x}: f32`)].join(', ')}): void {`);
  for (const x of states) out.push(`  const t_${x} = scratch + ${4 * BLOCK_ELEMENTS * ordinal(a, x)};`);
  if (!int8) for (const x of stored) out.push(`  const k_${x} = arrayKey(key, ${ordinal(a, x)});`);
  out.push('  while (n > 0) {');
  out.push(`    const len = min<i32>(n, ${BLOCK_ELEMENTS});`);
  for (const x of loaded) out.push(int8 ? `    decode${kind(x)}Block(${x}, t_${x}, len, f32.load(${x}Scale));` : `    decodeBf16Block(${x}, t_${x}, len);`);
  out.push(`    ${s.floatFn!}(${[...arrays.map((x) => (states.includes(x) ? `t_${x}` : x)), 'len', ...runtime.map((r) => `${r}Sign`), ...scalars].join(', ')});`);
  for (const x of stored) out.push(int8 ? `    f32.store(${x}Scale, encode${kind(x)}Block(t_${x}, ${x}, len));` : `    encodeBf16Block(t_${x}, ${x}, len, stochastic, k_${x}, index);`);
  const bytes = int8 ? 1 : 2;
  out.push(`    ${arrays.map((x) => `${x} += ${states.includes(x) ? bytes * BLOCK_ELEMENTS : 4 * BLOCK_ELEMENTS};`).join(' ')}`);
  out.push(`    ${[...scales.map((x) => `${x} += 4;`), ...(int8 ? [] : [`index += ${BLOCK_ELEMENTS};`])].join(' ')} n -= ${BLOCK_ELEMENTS};`);
  out.push('  }');
  out.push('}');
  return out;
}

const GENERATED = 'Generated by scripts/gen-kernels.ts from src/kernels/defs/: do not edit.';

export function renderAssembly(all: readonly Analysed[]): string {
  return [
    `// ${GENERATED}`,
    '//',
    '// The SIMD kernels: per distinct flag combination an @inline body over f32x4 lanes and a loop',
    '// function (splats its scalars, whole vectors, then one partial vector of 1-3 lanes: see',
    '// assembly/common.ts), and the export, which dispatches on the flag bits. A loop is its own',
    '// function rather than inlined into the export so that the register allocator sees one loop and',
    '// only its scalars (inlined, the big exports ran up to 30% slower). Each kernel\'s JS twin is the',
    '// function of the same name in src/generated/kernels-js.ts, generated from the same trace.',
    '// A kernel with state arrays also has a bfloat16 and an int8 variant (`<name>_bf16`,',
    '// `<name>_int8`): the same body, its state arrays loaded and stored through assembly/lowp.ts.',
    'import { load, store, signMask } from "../common";',
    'import { arrayKey, decodeBf16Block, decodeSignedBlock, decodeUnsignedBlock, encodeBf16Block, encodeSignedBlock, encodeUnsignedBlock } from "../lowp";',
    '',
    `/** ABI version of the exported kernels (src/kernels/defs/index.ts). */`,
    'export function abiVersion(): i32 {',
    `  return ${ABI_VERSION};`,
    '}',
    '',
    ...all.map((a) => `${asKernel(a)}\n`),
  ].join('\n');
}

/** The int8 and bfloat16 constants of src/kernels/lowp.ts, for assembly/lowp.ts. */
export function renderLowpConfig(): string {
  return [
    '// Generated by scripts/gen-kernels.ts from src/kernels/lowp.ts: do not edit.',
    '',
    '/** Elements per int8 block. */',
    `export const BLOCK_ELEMENTS: i32 = ${BLOCK_ELEMENTS};`,
    '/** Mantissa bits of the int8 maps. */',
    `export const MANTISSA_BITS: i32 = ${MANTISSA_BITS};`,
    '/** Bits of a float32 below the int8 maps\' precision. */',
    `export const INT8_SHIFT: i32 = ${INT8_SHIFT};`,
    '',
  ].join('\n');
}

export function renderSelftestAssembly(all: readonly Analysed[]): string {
  const byName = new Map(all.map((a) => [a.name, a]));
  const calls: string[] = [];
  for (const c of SELFTEST_CASES) {
    const a = byName.get(c.kernel) ?? fail(`selftest case: unknown kernel ${c.kernel}`);
    for (const flags of c.flags) {
      const ptrs = a.arrays.map((x) => (c.arrays[x] === undefined ? '0' : `s${c.arrays[x]}`));
      const scalars = a.scalars.map((x) => asLiteral(Math.fround(c.scalars[x] ?? 0)));
      const bits = flagBits(a, flags);
      calls.push(`${c.kernel}(${[...ptrs, 'n', ...scalars, ...(a.flags.length ? [String(bits)] : [])].join(', ')}); break; // ${JSON.stringify(flags)}`);
    }
  }
  return [
    `// ${GENERATED}`,
    '// The self-test driver\'s kernel calls, from src/kernels/selftest-cases.ts.',
    `import { ${all.filter((a) => SELFTEST_CASES.some((c) => c.kernel === a.name)).map((a) => a.name).join(', ')} } from "./kernels";`,
    '',
    '/** Number of cases. */',
    `export const CASE_COUNT: i32 = ${calls.length};`,
    '',
    '/** Runs case `c` over `n` elements of the five slots at byte offsets s0..s4. */',
    'export function runCase(c: i32, s0: usize, s1: usize, s2: usize, s3: usize, s4: usize, n: i32): void {',
    '  switch (c) {',
    ...calls.map((call, i) => `    case ${i}: ${call}`),
    '  }',
    '}',
    '',
  ].join('\n');
}

function flagBits(a: Analysed, flags: Readonly<Record<string, boolean>>): number {
  let bits = 0;
  for (const [k, v] of Object.entries(flags)) {
    const i = a.flags.indexOf(k);
    if (i < 0) fail(`${a.def.name}: unknown flag ${k}`);
    if (v) bits |= 1 << i;
  }
  return bits;
}

// ---------------------------------------------------------------------------------------------
// JS twins.

function jsExpr(n: Node, ref: (i: number) => string, load: (array: string) => string): string {
  const [a, b] = n.args.map(ref);
  switch (n.op) {
    case 'load': return load(n.name!);
    case 'scalar': return n.name!;
    case 'const': return Object.is(n.value, -0) ? '-0' : String(n.value);
    case 'add': return `fround(${a} + ${b})`;
    case 'sub': return `fround(${a} - ${b})`;
    case 'mul': return `fround(${a} * ${b})`;
    case 'div': return `fround(${a} / ${b})`;
    case 'sqrt': return `fround(Math.sqrt(${a}))`;
    case 'min': return `Math.min(${a}, ${b})`;
    case 'max': return `Math.max(${a}, ${b})`;
    case 'abs': return `Math.abs(${a})`;
    case 'neg': return `-${a}`;
    case 'sign': return `(${a} > 0 ? 1 : ${a} < 0 ? -1 : 0)`;
    case 'signflip': return `(${n.name!} ? -${a} : ${a})`;
  }
}

/** The loop body's statements: element `i` of arrays, element `j` of the state arrays' scratch in the low-precision variants. */
function jsBody(p: Program, states: readonly string[], indent: string): string[] {
  const out: string[] = [];
  const names = localNames(p);
  const at = (x: string) => (states.includes(x) ? `t_${x}[j]` : `a_${x}[i]`);
  const ref = (i: number): string => names[i] ?? jsExpr(p.nodes[i], ref, at);
  const stores = (k: number) => p.stores.filter((s) => s.at === k).forEach((st) => out.push(`${indent}${at(st.array)} = ${ref(st.value)};`));
  p.nodes.forEach((n, i) => {
    stores(i);
    if (names[i]) out.push(`${indent}const ${names[i]} = ${jsExpr(n, ref, at)};`);
  });
  stores(p.nodes.length);
  return out;
}

function jsSpec(a: Analysed, s: Spec): string[] {
  const p = s.program;
  const parts = specParts(a, p);
  const { arrays, runtime, scalars } = parts;
  // In the float32 kernel, state arrays are arrays like the others.
  const [states, loaded, stored] = a.variant === 'float32' ? [[], [], []] : [parts.states, parts.loaded, parts.stored];
  const lowp = a.variant === 'bfloat16' ? ['index: number', 'key: number', 'stochastic: boolean'] : [];
  const scales = a.variant === 'int8' ? states.map((x) => `${x}Scale`) : [];
  const params = ['mem: TwinMemory', ...arrays.map((x) => `${x}: number`), ...scales.map((x) => `${x}: number`), ...(a.variant !== 'float32' ? ['_scratch: number'] : []),
    'n: number', ...lowp, ...runtime.map((r) => `${r}: boolean`), ...scalars.map((x) => `${x}: number`)];
  const out = [`function ${s.fn}(${params.join(', ')}): void {`];
  // Each array as a Float32Array of exactly n elements over the memory block that holds it (a
  // block never splits an array): indexed from 0, which engines optimise best.
  const plain = arrays.filter((x) => !states.includes(x));
  if (plain.length) out.push(`  const ${plain.map((x) => `a_${x} = mem.view(${x}, n)`).join(', ')};`);
  if (a.variant === 'float32') {
    // A pure copy: set moves the bits (a memmove when both are in one block) as the SIMD loads and stores do.
    if (p.nodes.length === 1 && p.nodes[0].op === 'load' && p.stores.length === 1 && p.stores[0].value === 0) {
      const src = p.nodes[0].name!, dst = p.stores[0].array;
      out.push(`  a_${dst}.set(a_${src});`, '}');
      return out;
    }
    // Only moves (a swap): through Int32Array views of the same memory, so that every bit moves as
    // the SIMD loads and stores move it (a NaN keeps its payload, which a float read need not).
    if (p.nodes.every((n) => n.op === 'load')) {
      out.push(`  const ${arrays.map((x) => `b_${x} = new Int32Array(a_${x}.buffer, a_${x}.byteOffset, n)`).join(', ')};`);
      out.push('  for (let i = 0; i < n; i++) {');
      const movesAt = (at: number) => p.stores.filter((s) => s.at === at).forEach((s) => out.push(`    b_${s.array}[i] = v${s.value};`));
      p.nodes.forEach((n, i) => {
        movesAt(i);
        out.push(`    const v${i} = b_${n.name!}[i];`);
      });
      movesAt(p.nodes.length);
      out.push('  }', '}');
      return out;
    }
    out.push('  for (let i = 0; i < n; i++) {', ...jsBody(p, [], '    '), '  }', '}');
    return out;
  }
  // Low precision: chunks of BLOCK_ELEMENTS; each state array decoded into its float32 scratch,
  // updated there, and encoded back (src/kernels/lowp.ts).
  const int8 = a.variant === 'int8';
  const signed = (x: string) => String(a.def.arrays[x].state === 'signed');
  for (const x of states) {
    out.push(`  const c_${x} = mem.${int8 ? 'u8' : 'u16'}(${x}, n), t_${x} = scratch(${ordinal(a, x)});`);
    if (int8) out.push(`  const s_${x} = mem.view(${x}Scale, blockCount(n));`);
    else if (stored.includes(x)) out.push(`  const k_${x} = arrayKey(key, ${ordinal(a, x)});`);
  }
  out.push(`  for (let start = 0, b = 0; start < n; start += ${BLOCK_ELEMENTS}, b++) {`);
  out.push(`    const blockLen = Math.min(${BLOCK_ELEMENTS}, n - start);`);
  for (const x of loaded) {
    out.push(int8 ? `    int8Decode(c_${x}, start, blockLen, s_${x}[b], ${signed(x)}, ${ordinal(a, x)});` : `    bf16Decode(c_${x}, start, blockLen, ${ordinal(a, x)});`);
  }
  out.push('    for (let j = 0; j < blockLen; j++) {', '      const i = start + j;', ...jsBody(p, states, '      '), '    }');
  for (const x of stored) {
    out.push(int8 ? `    s_${x}[b] = int8Encode(c_${x}, start, blockLen, ${signed(x)}, ${ordinal(a, x)});`
      : `    bf16Encode(c_${x}, start, blockLen, ${ordinal(a, x)}, stochastic, index + start, k_${x});`);
  }
  out.push('  }', '}');
  return out;
}

function jsKernel(a: Analysed): string {
  const d = a.def;
  const out: string[] = [`// ${'-'.repeat(94)}`, `// ${a.name}: twin of the SIMD kernel \`${a.name}\` (assembly/generated/kernels.ts). Mirrors ${d.doc.mirrors}.`, ''];
  for (const s of a.specs) out.push(`// flags ${s.keys.map((k) => describeKey(a.spec, k)).join(' ')}`, ...jsSpec(a, s), '');
  out.push(docComment([...exportDoc(a), '', 'The JS twin of the SIMD export of the same name: same arguments after `mem` (which finds each array\'s heap), same float32 bits.']));
  out.push(`export function ${a.name}(${['mem: TwinMemory', ...abiParams(a, 'number', 'number', 'number', 'number')].join(', ')}): void {`);
  for (const x of a.scalars) out.push(`  ${x} = fround(${x});`);
  for (const r of a.runtime) out.push(`  const ${r} = (flags & ${1 << a.flags.indexOf(r)}) !== 0;`);
  if (a.variant === 'bfloat16') out.push(`  const stochastic = (flags & ${1 << a.flags.indexOf('stochastic')}) !== 0;`);
  const call = (s: Spec) => `${s.fn}(${['mem', ...specCallArgs(a, s, (r) => r)].join(', ')});`;
  if (a.specs.length === 1) out.push(`  ${call(a.specs[0])}`);
  else {
    out.push(`  switch (${flagKeyExpr(a, 'flags')}) {`);
    for (const s of a.specs) out.push(`    ${s.keys.map((k) => `case ${k}:`).join(' ')}`, `      ${call(s)}`, '      return;');
    out.push('  }');
  }
  out.push('}');
  return out.join('\n');
}

export function renderJs(all: readonly Analysed[]): string {
  return [
    `// ${GENERATED}`,
    '//',
    '// The JS twins of the SIMD kernels: the same traced programs, each operation rounded to float32',
    '// (Math.fround after + - * / sqrt; abs, neg, min, max and sign are exact on float32 values), so',
    '// they give the SIMD kernels\' bits. Arguments as the WASM exports, after `mem`, which gives each',
    '// array as a Float32Array of its n elements (the js backend\'s arena is a list of blocks that',
    '// never move; an array lies in one block). The low-precision variants (`<name>_bf16`,',
    '// `<name>_int8`) keep their state arrays in bfloat16 or blockwise int8 (src/kernels/lowp.ts).',
    '/* eslint-disable */',
    'import { arrayKey, bf16Decode, bf16Encode, blockCount, int8Decode, int8Encode, scratch } from \'../kernels/lowp.js\';',
    '',
    'const fround = Math.fround;',
    '',
    '/** The memory the twins run over: typed arrays of `count` elements at a byte address (inside one block). */',
    'export interface TwinMemory {',
    '  view(address: number, count: number): Float32Array;',
    '  u16(address: number, count: number): Uint16Array;',
    '  u8(address: number, count: number): Uint8Array;',
    '}',
    '',
    ...all.map((a) => `${jsKernel(a)}\n`),
  ].join('\n');
}

// ---------------------------------------------------------------------------------------------
// The TypeScript API: metadata, raw signatures, named wrappers.

function pascal(name: string): string {
  return name[0].toUpperCase() + name.slice(1);
}

function accessWords(access: string): string {
  return access === 'readwrite' ? 'read and written' : access === 'read' ? 'read' : 'written';
}

/** The TypeScript name stem of an export's types: `Adam`, `AdamBf16`, `AdamInt8`. */
function typeStem(a: Analysed): string {
  return pascal(a.name.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase()));
}

/** The doc line of an array argument (a body array, or an int8 scale array). */
function arrayDoc(a: Analysed, x: string): { doc: string; access: string } {
  const decl = a.def.arrays[x];
  if (x === 'scratch' && !decl) return { doc: `scratch for the decoded blocks, ${STATE_SCRATCH_BYTES} bytes (16-byte aligned) per call or thread slice, not overlapping any array`, access: 'readwrite' };
  if (decl) return { doc: a.variant !== 'float32' && decl.state ? `${decl.doc} (${a.variant === 'int8' ? `int8 codes, ${decl.state} map` : 'bfloat16'})` : decl.doc, access: decl.access };
  const state = x.slice(0, -'Scale'.length);
  return { doc: `int8 scales of ${state}: one float32 (the block's absmax) per ${BLOCK_ELEMENTS} elements`, access: 'readwrite' };
}

/** The doc line of a flag. */
function flagDoc(a: Analysed, f: string): string {
  return f === 'stochastic' && !(f in a.def.flags) ? 'round the stored state stochastically (else to nearest, ties to even)' : a.def.flags[f].doc;
}

function apiKernelTypes(a: Analysed): string[] {
  const P = typeStem(a);
  const out: string[] = [];
  out.push(`/** Arrays of \`${a.name}\`: byte offsets into the arena. */`);
  out.push(`export interface ${P}Arrays {`);
  for (const x of a.arrays) {
    const w = a.when.get(x)!;
    const { doc, access } = arrayDoc(a, x);
    out.push(`  /** ${pascal(doc)} (${accessWords(access)}${w === 'always' ? '' : `; used when ${w}, may be omitted otherwise`}). */`);
    out.push(`  readonly ${x}${w === 'always' ? '' : '?'}: number;`);
  }
  out.push('}');
  if (a.scalars.length) {
    out.push(`/** Scalar hyperparameters of \`${a.name}\` (float32). */`);
    out.push(`export interface ${P}Scalars {`);
    for (const x of a.scalars) {
      const w = a.when.get(x)!;
      out.push(`  /** ${pascal(a.def.scalars[x])}${w === 'always' ? '' : ` (used when ${w}, may be omitted otherwise)`}. */`);
      out.push(`  readonly ${x}${w === 'always' ? '' : '?'}: number;`);
    }
    out.push('}');
  }
  if (a.flags.length) {
    out.push(`/** Flags of \`${a.name}\` (omitted: false). */`);
    out.push(`export interface ${P}Flags {`);
    a.flags.forEach((f, i) => {
      out.push(`  /** ${pascal(flagDoc(a, f))} (bit ${1 << i}). */`);
      out.push(`  readonly ${f}?: boolean;`);
    });
    out.push('}');
  }
  return out;
}

function apiSignature(a: Analysed): string {
  const P = typeStem(a);
  return [`arrays: ${P}Arrays`, 'n: number', ...(a.scalars.length ? [`scalars: ${P}Scalars`] : []), ...(a.flags.length ? [`flags?: ${P}Flags`] : []),
    ...(a.ints.length ? ['ints?: BfloatArgs'] : [])].join(', ');
}

function rawSignature(a: Analysed): string {
  return abiParams(a, 'number', 'number', 'number', 'number').join(', ');
}

function apiWrapper(a: Analysed): string[] {
  const name = a.name;
  const upper = name.toUpperCase();
  const out: string[] = [];
  const params = ['a', 'n', ...(a.scalars.length ? ['s'] : []), ...(a.flags.length ? ['f'] : []), ...(a.ints.length ? ['x'] : [])];
  out.push(`    ${name}(${params.join(', ')}) {`);
  const conditional = [...a.arrays, ...a.scalars].some((v) => a.when.get(v) !== 'always');
  if (a.flags.length) out.push(`      const flags = flagBits('${name}', ${upper}_FLAGS, f);`);
  if (conditional) out.push(`      const need = ${upper}_NEED[${flagKeyExpr(a, 'flags')}];`);
  const args: string[] = [];
  [...a.arrays, ...a.scalars].forEach((v, bit) => {
    const isArray = bit < a.arrays.length;
    const w = a.when.get(v)!;
    const needed = w === 'always' ? 'true' : `(need & ${1 << bit}) !== 0`;
    args.push(`${isArray ? 'address' : 'scalar'}(${isArray ? 'a' : 's'}.${v}, ${needed}, '${name}', '${v}', '${w}')`);
  });
  args.splice(a.arrays.length, 0, 'n', ...a.ints.map((v) => `x?.${v} ?? 0`));
  if (a.flags.length) args.push('flags');
  out.push(`      ${name}(`);
  out.push(`        ${args.join(',\n        ')},`);
  out.push('      );');
  out.push('    },');
  return out;
}

/** Every state array name with its int8 range; a name must have one range in every kernel. */
function stateRanges(all: readonly Analysed[]): [string, string][] {
  const ranges = new Map<string, string>();
  for (const a of all) {
    for (const x of a.stateArrays) {
      const r = a.def.arrays[x].state!;
      if (ranges.has(x) && ranges.get(x) !== r) fail(`state array ${x} is ${ranges.get(x)} in one kernel and ${r} in ${a.def.name}`);
      ranges.set(x, r);
    }
  }
  return [...ranges].sort(([x], [y]) => (x < y ? -1 : 1));
}

/** Per argument, the bytes (or elements, for `index`) it advances per element: what thread slicing offsets it by. */
function strides(a: Analysed): number[] {
  const array = (x: string) => {
    if (x === 'scratch') return 0;
    if (!a.stateArrays.includes(x)) return a.arrays.indexOf(x) >= a.bodyArrays.length ? 4 / BLOCK_ELEMENTS : 4;
    return a.variant === 'bfloat16' ? 2 : a.variant === 'int8' ? 1 : 4;
  };
  return [...a.arrays.map(array), 0, ...a.ints.map((x) => (x === 'index' ? 1 : 0)), ...a.scalars.map(() => 0), ...(a.flags.length ? [0] : [])];
}

/** Per argument, the bytes it advances per thread slice: each slice of a low-precision call gets its own scratch. */
function sliceStrides(a: Analysed): number[] {
  return strides(a).map((_, i) => (a.arrays[i] === 'scratch' ? STATE_SCRATCH_BYTES : 0));
}

export function renderApi(all: readonly Analysed[]): string {
  const out: string[] = [
    `// ${GENERATED}`,
    '//',
    '// The kernel module\'s ABI as TypeScript: its version, what each element-wise kernel takes (arrays,',
    '// scalars, flag bits), the raw exports\' signatures, and the named-argument wrappers the library',
    '// calls (`kernels.adam({ param, grad, ... }, n, { beta1, ... }, { amsgrad: true })`).',
    '',
    '/** ABI version the TypeScript side expects of the kernel module (its `abiVersion()` export). */',
    `export const KERNEL_ABI_VERSION = ${ABI_VERSION};`,
    '',
    '/** An element-wise kernel at the ABI: `name(...arrays, n, ...ints, ...scalars, flags)`. @internal */',
    'export interface ElementwiseKernelInfo {',
    '  readonly name: string;',
    '  /** The definition it comes from (the float32 export\'s name). */',
    '  readonly base: string;',
    '  /** The element type of its state arrays. */',
    '  readonly variant: \'float32\' | \'bfloat16\' | \'int8\';',
    '  /** Array arguments (byte offsets), in order; int8 variants end with their scale arrays. */',
    '  readonly arrays: readonly string[];',
    '  /** The state arrays (their element type follows the variant), with the range of their int8 map. */',
    '  readonly state: Readonly<Record<string, \'signed\' | \'unsigned\'>>;',
    '  /** Integer arguments after n (bfloat16: index, key). */',
    '  readonly ints: readonly string[];',
    '  /** Scalar arguments (f32), in order. */',
    '  readonly scalars: readonly string[];',
    '  /** Flag bits by name (empty when the kernel takes no flags argument). */',
    '  readonly flags: Readonly<Record<string, number>>;',
    '  /** Every argument\'s advance per element (bytes; elements for index; 0: not offset): a thread slice from element k adds k times it. */',
    '  readonly strides: readonly number[];',
    '  /** Every argument\'s advance per thread slice (bytes): the scratch of the low-precision variants, one per slice. */',
    '  readonly sliceStrides: readonly number[];',
    '  /** Position of n among the arguments. */',
    '  readonly n: number;',
    '  /** Thread slices (and calls) start on multiples of this many elements: a vector, or an int8 block. */',
    '  readonly granule: number;',
    '}',
    '',
    '/** The element-wise kernels, in export order. @internal */',
    'export const ELEMENTWISE_KERNELS: readonly ElementwiseKernelInfo[] = [',
    ...all.map((a) => `  { name: '${a.name}', base: '${a.def.name}', variant: '${a.variant}', arrays: [${a.arrays.map((x) => `'${x}'`).join(', ')}], ` +
      `state: { ${a.stateArrays.map((x) => `${x}: '${a.def.arrays[x].state}'`).join(', ')} }, ints: [${a.ints.map((x) => `'${x}'`).join(', ')}], ` +
      `scalars: [${a.scalars.map((x) => `'${x}'`).join(', ')}], flags: { ${a.flags.map((f, i) => `${f}: ${1 << i}`).join(', ')} }, ` +
      `strides: [${strides(a).join(', ')}], sliceStrides: [${sliceStrides(a).join(', ')}], n: ${a.arrays.length}, granule: ${a.variant === 'int8' ? BLOCK_ELEMENTS : 4} },`),
    '];',
    '',
    '/** The int8 map of each state array name (the same in every kernel that has it). @internal */',
    `export const STATE_RANGES: Readonly<Record<string, 'signed' | 'unsigned'>> = { ${stateRanges(all).map(([x, r]) => `${x}: '${r}'`).join(', ')} };`,
    '',
    '/** What a bfloat16 variant takes besides its arrays, scalars and flags. @internal */',
    'export interface BfloatArgs {',
    '  /** The position of the call\'s first element in its state buffers (stochastic rounding draws element i\'s bits from index + i). */',
    '  readonly index?: number;',
    '  /** The stochastic-rounding key of this call (src/kernels/lowp.ts roundingKey). */',
    '  readonly key?: number;',
    '}',
    '',
    '/** The hand-written reductions: `name(x, n)`, and `dot(x, y, n)`. @internal */',
    `export const REDUCTION_NAMES = [${REDUCTIONS.map((r) => `'${r.name}'`).join(', ')}] as const;`,
    '',
    '/** Every kernel export (abiVersion aside), in export order. @internal */',
    `export const KERNEL_NAMES = [${[...all.map((a) => a.name), ...HAND_WRITTEN.map((r) => r.name)].map((x) => `'${x}'`).join(', ')}] as const;`,
    '',
    '/** The exports as WebAssembly (or a JS twin bound to its heap) presents them: positional. @internal */',
    'export interface RawKernels {',
    ...all.map((a) => `  ${a.name}(${rawSignature(a)}): void;`),
    ...HAND_WRITTEN.map((r) => `  ${r.name}(${r.args.map((x) => `${x.name}: number`).join(', ')}): ${r.result === 'void' ? 'void' : 'number'};`),
    '}',
    '',
  ];
  for (const a of all) out.push(...apiKernelTypes(a), '');
  out.push('/**');
  out.push(' * The kernels of a backend, with hyperparameters by name: arrays (byte offsets into the arena),');
  out.push(' * the element count, scalars (rounded to float32) and flags. An array or scalar the given flags');
  out.push(' * do not use may be omitted; one they use must be given (an array at a nonzero address).');
  out.push(' * @internal');
  out.push(' */');
  out.push('export interface Kernels {');
  for (const a of all) {
    out.push(`  /** ${a.def.doc.summary}${a.variant === 'float32' ? '' : ` State arrays in ${a.variant}.`} */`);
    out.push(`  ${a.name}(${apiSignature(a)}): void;`);
  }
  for (const r of HAND_WRITTEN) {
    out.push(`  /** ${r.summary} */`);
    out.push(`  ${r.name}(${r.args.map((x) => `${x.name}: number`).join(', ')}): ${r.result === 'void' ? 'void' : 'number'};`);
  }
  out.push('}', '');
  for (const a of all) {
    if (a.flags.length) out.push(`const ${a.name.toUpperCase()}_FLAGS: ReadonlyMap<string, number> = new Map([${a.flags.map((f, i) => `['${f}', ${1 << i}]`).join(', ')}]);`);
    if ([...a.arrays, ...a.scalars].some((x) => a.when.get(x) !== 'always')) {
      const need = a.specOfKey.map((_, key) => [...a.arrays, ...a.scalars].reduce((m, x, bit) => m | (a.uses.get(x)![key] ? 1 << bit : 0), 0));
      out.push(`/** Per dispatch key: bit k set when argument k (arrays, then scalars) is used. */`);
      out.push(`const ${a.name.toUpperCase()}_NEED: readonly number[] = [${need.join(', ')}];`);
    }
  }
  out.push(
    '',
    'function flagBits(kernel: string, bits: ReadonlyMap<string, number>, flags: object | undefined): number {',
    '  let out = 0;',
    '  if (flags === undefined) return out;',
    '  for (const key in flags) {',
    '    const bit = bits.get(key);',
    '    if (bit === undefined) throw new Error(`kernels.${kernel}: unknown flag ${JSON.stringify(key)} (its flags: ${[...bits.keys()].join(\', \')})`);',
    '    if ((flags as Record<string, unknown>)[key]) out |= bit;',
    '  }',
    '  return out;',
    '}',
    '',
    'function address(value: number | undefined, needed: boolean, kernel: string, name: string, when: string): number {',
    '  if (!needed) return value ?? 0;',
    '  if (!(value! > 0)) {',
    '    throw new Error(`kernels.${kernel}: array ${name} is needed (used ${when === \'always\' ? \'always\' : `when ${when}`}) but ${value === undefined ? \'was not given\' : `has address ${String(value)}`}`);',
    '  }',
    '  return value!;',
    '}',
    '',
    'function scalar(value: number | undefined, needed: boolean, kernel: string, name: string, when: string): number {',
    '  if (value !== undefined) return value;',
    '  if (needed) throw new Error(`kernels.${kernel}: scalar ${name} is needed (used ${when === \'always\' ? \'always\' : `when ${when}`}) but was not given`);',
    '  return 0;',
    '}',
    '',
    '/** Wraps positional kernels (WASM exports, JS twins, a thread pool) in the named API. @internal */',
    'export function bindKernels(raw: RawKernels): Kernels {',
    `  const { ${[...all.map((a) => a.name), ...HAND_WRITTEN.map((r) => r.name)].join(', ')} } = raw;`,
    '  return {',
  );
  for (const a of all) out.push(...apiWrapper(a));
  for (const r of HAND_WRITTEN) out.push(`    ${r.name},`);
  out.push('  };', '}', '');
  return out.join('\n');
}

// ---------------------------------------------------------------------------------------------
// docs/ABI.md

const TYPE_WORDS: Record<string, string> = { ptr: 'i32', i32: 'i32', f32: 'f32', f64: 'f64', u32: 'i32' };

interface AbiExport { name: string; params: [string, string][]; result: string }

function abiExports(all: readonly Analysed[]): AbiExport[] {
  return [
    ...all.map((a) => ({
      name: a.name,
      params: [...a.arrays.map((x): [string, string] => [x, 'ptr']), ['n', 'i32'] as [string, string], ...a.ints.map((x): [string, string] => [x, 'i32']),
        ...a.scalars.map((x): [string, string] => [x, 'f32']), ...(a.flags.length ? [['flags', 'u32'] as [string, string]] : [])],
      result: 'void',
    })),
    ...HAND_WRITTEN.map((r: HandWrittenExport) => ({ name: r.name, params: r.args.map((x): [string, string] => [x.name, x.type]), result: r.result })),
    { name: 'abiVersion', params: [], result: 'i32' },
  ];
}

/** Fingerprint of everything the ABI fixes: exports, argument names, order and types, flag bits. */
export function abiFingerprint(all: readonly Analysed[]): string {
  const shape = {
    exports: abiExports(all), flags: all.map((a) => [a.name, a.flags.map((f, i) => [f, 1 << i])]),
    // The low-precision formats are part of the ABI: their constants are in the fingerprint.
    ...(all.some((a) => a.variant !== 'float32') ? { lowp: [BLOCK_ELEMENTS, MANTISSA_BITS, STATE_SCRATCH_BYTES] } : {}),
  };
  return createHash('sha256').update(JSON.stringify(shape)).digest('hex').slice(0, 16);
}

export function renderAbiDoc(all: readonly Analysed[]): string {
  const sig = (e: AbiExport) => `${e.name}(${e.params.map(([n, t]) => `${n}: ${TYPE_WORDS[t]}`).join(', ')})${e.result === 'void' ? '' : ` -> ${e.result}`}`;
  const exports = abiExports(all);
  const out: string[] = [
    '# simdopt kernel module ABI',
    '',
    `<!-- ${GENERATED} Regenerate with \`node --import tsx scripts/gen-kernels.ts --docs\`. -->`,
    '',
    `ABI version **${ABI_VERSION}** (the \`abiVersion()\` export; fingerprint \`${abiFingerprint(all)}\`).`,
    '',
    '`simdopt.wasm` (in the package as `dist/simdopt.wasm`) is a WebAssembly module with 128-bit SIMD.',
    'It imports one thing, `env.memory` (a `WebAssembly.Memory`; the module reserves none of it and',
    'allocates nothing), and exports the functions below (and, as AssemblyScript does, that memory),',
    'so any runtime can call it without a loader. The library instantiates the same kernels over a',
    'shared memory for its worker threads.',
    '',
    '## Conventions',
    '',
    '- **Arrays** are little-endian float32 at byte offsets (`i32`) into the imported memory, 4-byte',
    '  aligned (16-byte alignment is faster), of `n` elements each, any `n >= 0`. Arrays of one call',
    '  must not overlap, except that a kernel reads and writes each of its arrays in place. The kernels',
    '  process whole 4-lane vectors and finish with one partial vector (1-3 lanes loaded, the rest zero,',
    '  only the loaded lanes stored), so nothing outside `[offset, offset + 4n)` is read or written.',
    '- **Scalars** are `f32` hyperparameters, computed once per step by the host.',
    '- **Flags** are an `i32` bit set, bits in the order listed for each kernel; other bits must be 0.',
    '  An array or scalar is used only under the flags its table says; otherwise any value (say 0) may be',
    '  passed. Results do not depend on the thread or call boundaries: every element is independent.',
    '- **Results** are bit-identical to the JS twins (`src/generated/kernels-js.ts`) for every input;',
    '  NaN payloads may differ.',
    '- **Low-precision state.** A kernel with optimizer state arrays also has two variants from the same',
    '  definition: `<name>_bf16`, whose state arrays hold bfloat16 (2 bytes an element; `index` and `key`',
    '  seed stochastic rounding when the `stochastic` flag is set, else stores round to nearest, ties to',
    `  even), and \`<name>_int8\`, whose state arrays hold one byte an element in blocks of ${BLOCK_ELEMENTS}, each`,
    '  with a float32 scale in the array `<state>Scale` (its block\'s largest finite |value|); a call',
    `  starts on a block (thread slices are whole blocks). The formats (the signed and unsigned 8-bit maps,`,
    '  rounding, NaN and infinities) are defined in `src/kernels/lowp.ts` and `assembly/lowp.ts`.',
    '',
    '## Exports',
    '',
    '| export | signature |',
    '|---|---|',
    ...exports.map((e) => `| \`${e.name}\` | \`${sig(e)}\` |`),
    '',
  ];
  for (const a of all) {
    const d = a.def;
    const e = exports.find((x) => x.name === a.name)!;
    if (a.variant !== 'float32') {
      const states = a.stateArrays.map((x) => `\`${x}\``).join(', ');
      out.push(`### \`${a.name}\``, '', '```', sig(e), '```', '');
      out.push(a.variant === 'bfloat16'
        ? `\`${d.name}\` with its state arrays (${states}) in bfloat16, and after the arrays \`scratch\`, ${STATE_SCRATCH_BYTES} bytes the kernel widens blocks into (its own per call; not read before written). After \`n\`: \`index\`, the position of the first element in the state buffers, and \`key\`, the call's stochastic-rounding key (element i of state array k rounds with the top 16 bits of hash32(index + i + hash32(key + (k + 1)·0x9e3779b9))). Flag \`stochastic\` (bit ${1 << a.flags.indexOf('stochastic')}) rounds stochastically; otherwise to nearest, ties to even.`
        : `\`${d.name}\` with its state arrays (${states}) as int8 codes, blocks of ${BLOCK_ELEMENTS} elements from the first, and after the arrays one scale array per state array (${a.stateArrays.map((x) => `\`${x}Scale\``).join(', ')}: a float32 per block, read and written) and \`scratch\`, ${STATE_SCRATCH_BYTES} bytes the kernel decodes blocks into (its own per call; not read before written). Maps: ${a.stateArrays.map((x) => `\`${x}\` ${d.arrays[x].state}`).join(', ')}.`, '');
      out.push(`Arguments and flags otherwise as \`${d.name}\`. ${a.specs.length} specialised loops.`, '');
      continue;
    }
    out.push(`### \`${a.name}\``, '', '```', sig(e), '```', '', d.doc.summary, '', '```', d.doc.rule, '```', '');
    out.push(`Mirrors ${d.doc.mirrors}.${d.doc.notes ? ` ${d.doc.notes}` : ''}`, '');
    out.push('| argument | type | meaning | used |', '|---|---|---|---|');
    for (const x of a.arrays) out.push(`| \`${x}\` | i32 (offset) | ${d.arrays[x].doc}, ${accessWords(d.arrays[x].access)} | ${a.when.get(x)} |`);
    out.push('| `n` | i32 | number of elements | always |');
    for (const x of a.scalars) out.push(`| \`${x}\` | f32 | ${d.scalars[x]} | ${a.when.get(x)} |`);
    if (a.flags.length) out.push('| `flags` | i32 | bit set, below | always |');
    out.push('');
    if (a.flags.length) {
      out.push('| flag | bit | meaning |', '|---|---|---|');
      a.flags.forEach((f, i) => out.push(`| \`${f}\` | ${1 << i} | ${d.flags[f].doc}${d.flags[f].runtime ? ' (a sign-mask xor at run time)' : ''} |`));
      out.push('');
    }
    out.push(`${a.specs.length} specialised loop${a.specs.length > 1 ? 's' : ''} (${1 << a.spec.length} flag combination${a.spec.length ? 's' : ''}${a.runtime.length ? `, ${a.runtime.join(', ')} at run time` : ''}).`, '');
  }
  for (const r of HAND_WRITTEN) {
    const e = exports.find((x) => x.name === r.name)!;
    out.push(`### \`${r.name}\``, '', '```', sig(e), '```', '', `${r.summary}${r.result === 'void' ? '' : ` Returns ${r.resultDoc}.`} Hand-written (${r.source}).`, '');
  }
  out.push('### `abiVersion`', '', '```', 'abiVersion() -> i32', '```', '', `Returns ${ABI_VERSION}. A host checks it before calling anything else.`, '');
  out.push(
    '## Self-test module',
    '',
    '`build/selftest.wasm` bundles the kernels with a driver (`assembly/selftest.ts`, cases from',
    '`src/kernels/selftest-cases.ts`) and its own memory, and imports nothing: `run()` returns an FNV-1a',
    'hash of everything the kernels produced, which the same driver over the JS twins reproduces',
    '(`wasm-interp build/selftest.wasm --run-all-exports`).',
    '',
  );
  return out.join('\n');
}

// ---------------------------------------------------------------------------------------------

/** Every kernel, analysed. */
export function analyseAll(): Analysed[] {
  const names = new Set<string>();
  for (const def of KERNELS) {
    if (names.has(def.name)) fail(`two kernels are named ${def.name}`);
    names.add(def.name);
  }
  for (const r of HAND_WRITTEN) if (names.has(r.name)) fail(`${r.name} is both generated and hand-written`);
  const all = KERNELS.map(analyse).flatMap(variants);
  for (const a of all.filter((x) => x.variant !== 'float32')) if (KERNELS.some((d) => d.name === a.name)) fail(`${a.name} is both a kernel and a variant of ${a.def.name}`);
  return all;
}

function writeIfChanged(path: string, text: string): void {
  let previous: string | undefined;
  try { previous = readFileSync(path, 'utf8'); } catch { /* new */ }
  if (previous === text) return;
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, text);
}

function main(): void {
  const all = analyseAll();
  const fingerprint = abiFingerprint(all);
  if (fingerprint !== ABI_FINGERPRINT) {
    fail(`the kernel ABI changed (fingerprint ${fingerprint}, recorded ${ABI_FINGERPRINT} for version ${ABI_VERSION}): ` +
      `bump ABI_VERSION in src/kernels/defs/index.ts and set ABI_FINGERPRINT = '${fingerprint}'`);
  }
  writeIfChanged(join(root, 'assembly', 'generated', 'kernels.ts'), renderAssembly(all));
  writeIfChanged(join(root, 'assembly', 'generated', 'lowp-config.ts'), renderLowpConfig());
  writeIfChanged(join(root, 'assembly', 'generated', 'selftest-cases.ts'), renderSelftestAssembly(all));
  writeIfChanged(join(root, 'src', 'generated', 'kernels-js.ts'), renderJs(all));
  writeIfChanged(join(root, 'src', 'generated', 'kernels-api.ts'), renderApi(all));
  if (process.argv.includes('--docs')) writeIfChanged(join(root, 'docs', 'ABI.md'), renderAbiDoc(all));
  const loops = all.reduce((s, a) => s + a.specs.length, 0);
  console.log(`kernels: ${all.length} element-wise kernels, ${loops} specialised loops generated (ABI ${ABI_VERSION})`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) main();
