// The kernel DSL: each element-wise kernel is written once, as a definition (src/kernels/defs/)
// whose body is an ordinary TypeScript function over scalar float32 operations. The build
// (scripts/gen-kernels.ts) calls the body once per flag combination with tracing values, and
// from each trace writes both the AssemblyScript SIMD kernel (one f32x4 lane per element) and
// the JS twin (Math.fround after every rounding operation), so the two cannot drift apart.
//
// The body sees its flags as plain booleans (a trace is one specialisation), its scalar
// hyperparameters and loaded elements as `Val`s, and builds the update with the operations
// below; it may branch on flags but never on values. The operations are exactly those whose
// float32 results every engine agrees on: + - * / sqrt (correctly rounded), abs, neg, min,
// max (exact) and sign (comparisons). No fused multiply-add, no reassociation: the order the
// body writes is the order both targets compute.
//
// Nothing here runs in the library: the generated code does. This module is imported only by
// the generator (and, for their types, by the definitions).

/** How a kernel uses one of its arrays. */
export type Access = 'read' | 'write' | 'readwrite';

/** One array argument of a kernel (a byte offset into the memory at the ABI). */
export interface ArrayDecl {
  readonly access: Access;
  /** What the array holds (one line, for the ABI document and the typed wrapper). */
  readonly doc: string;
  /**
   * The array is touched only when this flag is set; callers may omit it otherwise. The
   * generator checks the trace agrees (the array is never used with the flag clear).
   */
  readonly when?: string;
  /**
   * Marks an optimizer state array: its element type follows the call's state dtype. Besides
   * the float32 kernel, the generator writes `<name>_bf16` (state arrays in bfloat16) and
   * `<name>_int8` (blockwise int8 with a float32 scale per block, in the signed or unsigned map:
   * src/kernels/lowp.ts) from the same body. The value is the range the int8 map covers:
   * `'signed'` for first moments and momentum, `'unsigned'` for values that are never negative
   * (second moments, sums). A state array must be read and written (`readwrite`).
   */
  readonly state?: 'signed' | 'unsigned';
}

/** One flag of a kernel: a bit of its `flags` argument, in declaration order from bit 0. */
export interface FlagDecl {
  /** What the flag does (one line). */
  readonly doc: string;
  /**
   * Decided at run time instead of by specialisation: the body may use such a flag only
   * through {@link negIf}, which the SIMD kernel computes as an exact sign-mask xor (so it
   * costs no second copy of every loop). Runtime flags come first in the declaration.
   */
  readonly runtime?: true;
}

/** The documentation of a kernel, rendered into the generated code and docs/ABI.md. */
export interface KernelDoc {
  /** One line: what the kernel does. */
  readonly summary: string;
  /** The update rule per element, as lines of pseudo-code. */
  readonly rule: string;
  /** The PyTorch function (or paper) it mirrors. */
  readonly mirrors: string;
  /** Host-side scalars and deliberate differences from the reference, if any. */
  readonly notes?: string;
}

/** A traced float32 value: one element of the JS twin, one lane of the SIMD kernel. */
export class Val {
  /** @internal */
  constructor(readonly tracer: object, readonly id: number) {}
}

/** A value or a float32 literal (rounded to float32 by both targets). */
export type Operand = Val | number;

/** The body's handle on one array: at most one load, then at most one store, per element. */
export interface ArrayRef {
  /** This element's value. */
  load(): Val;
  /** Writes this element (after any load of it). */
  store(value: Operand): void;
}

/** A runtime flag's value during tracing: usable only through {@link negIf}. */
export class RuntimeFlag {
  constructor(readonly name: string) {}
}

type FlagValues<FL> = { readonly [K in keyof FL]: FL[K] extends { runtime: true } ? RuntimeFlag | boolean : boolean };

/** An element-wise kernel: its arguments in ABI order and its body, written once. */
export interface KernelDef<
  A extends Record<string, ArrayDecl> = Record<string, ArrayDecl>,
  S extends Record<string, string> = Record<string, string>,
  FL extends Record<string, FlagDecl> = Record<string, FlagDecl>,
> {
  /** The export's name (and the JS twin's, and the typed wrapper's). */
  readonly name: string;
  readonly doc: KernelDoc;
  /** Array arguments, in ABI order (before `n`). */
  readonly arrays: A;
  /** Scalar hyperparameters (float32), in ABI order (after `n`), each with one line of doc. */
  readonly scalars: S;
  /** Flags, bit 0 first (the last argument, when there are any). */
  readonly flags: FL;
  /** The update of one element. */
  readonly body: (arrays: { readonly [K in keyof A]: ArrayRef }, scalars: { readonly [K in keyof S]: Val }, flags: FlagValues<FL>) => void;
}

/** Declares a kernel (an identity function that gives the body its argument types). */
export function defineKernel<A extends Record<string, ArrayDecl>, S extends Record<string, string>, FL extends Record<string, FlagDecl>>(
  def: KernelDef<A, S, FL>,
): KernelDef<A, S, FL> {
  return def;
}

// ---------------------------------------------------------------------------------------------
// Operations. Each records a node in the active trace (identical nodes are shared).

/** a + b, rounded to float32. */
export function add(a: Operand, b: Operand): Val { return op('add', a, b); }
/** a - b, rounded to float32. */
export function sub(a: Operand, b: Operand): Val { return op('sub', a, b); }
/** a * b, rounded to float32. */
export function mul(a: Operand, b: Operand): Val { return op('mul', a, b); }
/** a / b, rounded to float32. */
export function div(a: Operand, b: Operand): Val { return op('div', a, b); }
/** sqrt(a), rounded to float32. */
export function sqrt(a: Operand): Val { return op('sqrt', a); }
/** min(a, b) with NaN propagation and -0 < +0 (Math.min, f32x4.min). */
export function min(a: Operand, b: Operand): Val { return op('min', a, b); }
/** max(a, b) with NaN propagation and -0 < +0 (Math.max, f32x4.max). */
export function max(a: Operand, b: Operand): Val { return op('max', a, b); }
/** |a| (exact). */
export function abs(a: Operand): Val { return op('abs', a); }
/** -a (exact: flips the sign bit). */
export function neg(a: Operand): Val { return op('neg', a); }
/** 1 when a > 0, -1 when a < 0, else 0 (zeros and NaN), as torch.sign computes it. */
export function sign(a: Operand): Val { return op('sign', a); }

/**
 * `flag ? -x : x`. With a runtime flag (see {@link FlagDecl.runtime}) the SIMD kernel keeps
 * one loop for both and flips the sign with an xor of a mask made once per call; the JS twin
 * negates. Both are exact, so the choice is invisible in the results.
 */
export function negIf(flag: boolean | RuntimeFlag, x: Operand): Val {
  if (flag instanceof RuntimeFlag) return op('signflip', x, undefined, flag.name);
  return flag ? neg(x) : lift(x);
}

// ---------------------------------------------------------------------------------------------
// Tracing (used by the generator).

/** Operations of a traced program. */
export type OpName =
  | 'load' | 'scalar' | 'const'
  | 'add' | 'sub' | 'mul' | 'div' | 'min' | 'max'
  | 'sqrt' | 'abs' | 'neg' | 'sign' | 'signflip';

/** One node of a traced program; `args` index earlier nodes. */
export interface Node {
  readonly op: OpName;
  readonly args: readonly number[];
  /** The array (load), scalar (scalar) or runtime flag (signflip) it names. */
  readonly name?: string;
  /** The literal (const). */
  readonly value?: number;
}

/** A traced specialisation: live nodes in program order and the stores, in order. */
export interface Program {
  readonly nodes: readonly Node[];
  /** Stores in program order; `at` is how many nodes precede the store (it comes after node `at - 1`). */
  readonly stores: readonly { readonly array: string; readonly value: number; readonly at: number }[];
  /** Arrays loaded or stored, scalars read, runtime flags used. */
  readonly arrays: ReadonlySet<string>;
  readonly loaded: ReadonlySet<string>;
  readonly stored: ReadonlySet<string>;
  readonly scalars: ReadonlySet<string>;
  readonly runtimeFlags: ReadonlySet<string>;
  /** Canonical text: equal texts are the same program. */
  readonly text: string;
}

class Tracer {
  readonly nodes: Node[] = [];
  readonly #keys = new Map<string, number>();
  readonly stores: { array: string; value: number; at: number }[] = [];
  readonly loads = new Map<string, number>();

  node(n: Node): Val {
    const key = `${n.op}(${n.args.join(',')})${n.name ?? ''}${n.value === undefined ? '' : literalKey(n.value)}`;
    let id = this.#keys.get(key);
    if (id === undefined) {
      id = this.nodes.length;
      this.nodes.push(n);
      this.#keys.set(key, id);
    }
    return new Val(this, id);
  }
}

let active: Tracer | undefined;

function current(): Tracer {
  if (!active) throw new Error('kernel DSL operations can only be used inside a kernel body being traced');
  return active;
}

function lift(x: Operand): Val {
  const t = current();
  if (typeof x === 'number') return t.node({ op: 'const', args: [], value: Math.fround(x) });
  if (!(x instanceof Val) || x.tracer !== t) throw new Error('kernel DSL: an operand is not a value of this trace');
  return x;
}

function op(name: OpName, a: Operand, b?: Operand, flag?: string): Val {
  const t = current();
  const args = b === undefined ? [lift(a).id] : [lift(a).id, lift(b).id];
  return t.node(flag === undefined ? { op: name, args } : { op: name, args, name: flag });
}

function literalKey(v: number): string {
  return Object.is(v, -0) ? '-0' : String(v);
}

/**
 * Runs `def`'s body with the given flag values (booleans, or a {@link RuntimeFlag} for a
 * runtime flag) and returns the program it traced, dead values removed.
 */
export function trace(def: KernelDef, flags: Readonly<Record<string, boolean | RuntimeFlag>>): Program {
  const t = new Tracer();
  const refs: Record<string, ArrayRef> = {};
  for (const [name, decl] of Object.entries(def.arrays)) {
    refs[name] = {
      load() {
        if (decl.access === 'write') throw new Error(`${def.name}: array ${name} is declared write-only but the body loads it`);
        if (t.loads.has(name)) throw new Error(`${def.name}: the body loads ${name} twice (load once and reuse the value)`);
        if (t.stores.some((s) => s.array === name)) throw new Error(`${def.name}: the body loads ${name} after storing it`);
        const v = t.node({ op: 'load', args: [], name });
        t.loads.set(name, v.id);
        return v;
      },
      store(value) {
        if (decl.access === 'read') throw new Error(`${def.name}: array ${name} is declared read-only but the body stores it`);
        if (t.stores.some((s) => s.array === name)) throw new Error(`${def.name}: the body stores ${name} twice`);
        const v = withTracer(t, () => lift(value));
        t.stores.push({ array: name, value: v.id, at: t.nodes.length });
      },
    };
  }
  const scalars: Record<string, Val> = {};
  for (const name of Object.keys(def.scalars)) scalars[name] = t.node({ op: 'scalar', args: [], name });
  withTracer(t, () => def.body(refs, scalars, flags as never));
  return finish(t.nodes, t.stores);
}

/**
 * `program` with the runtime flag `flag` fixed to `value` (its sign flips become negations or
 * vanish), canonicalised as a fresh trace would be: the generator compares it with the trace
 * made with the boolean, to prove the body used the flag only through {@link negIf}.
 */
export function fixRuntimeFlag(program: Program, flag: string, value: boolean): Program {
  const t = new Tracer();
  const map: number[] = [];
  const stores: { array: string; value: number; at: number }[] = [];
  withTracer(t, () => {
    const storeAt = (count: number) => {
      for (const s of program.stores) if (s.at === count) stores.push({ array: s.array, value: map[s.value], at: t.nodes.length });
    };
    program.nodes.forEach((n, i) => {
      storeAt(i);
      const args = n.args.map((a) => map[a]);
      if (n.op === 'signflip' && n.name === flag) map[i] = value ? t.node({ op: 'neg', args }).id : args[0];
      else map[i] = t.node({ ...n, args }).id;
    });
    storeAt(program.nodes.length);
  });
  return finish(t.nodes, stores);
}

function withTracer<T>(t: Tracer, run: () => T): T {
  const outer = active;
  active = t;
  try {
    return run();
  } finally {
    active = outer;
  }
}

/** Keeps the nodes the stores depend on, renumbered in program order. */
function finish(all: readonly Node[], stores: readonly { array: string; value: number; at: number }[]): Program {
  const live = new Array<boolean>(all.length).fill(false);
  const mark = (i: number): void => {
    if (live[i]) return;
    live[i] = true;
    all[i].args.forEach(mark);
  };
  stores.forEach((s) => mark(s.value));
  const renumber: number[] = [];
  const nodes: Node[] = [];
  all.forEach((n, i) => {
    if (!live[i]) return;
    renumber[i] = nodes.length;
    nodes.push({ ...n, args: n.args.map((a) => renumber[a]) });
  });
  const liveBefore = (at: number) => live.slice(0, at).filter(Boolean).length;
  const out = stores.map((s) => ({ array: s.array, value: renumber[s.value], at: liveBefore(s.at) }));
  const loaded = new Set(nodes.filter((n) => n.op === 'load').map((n) => n.name!));
  const stored = new Set(out.map((s) => s.array));
  const lines: string[] = [];
  const storesAt = (at: number) => out.filter((s) => s.at === at).forEach((s) => lines.push(`store ${s.array} %${s.value}`));
  nodes.forEach((n, i) => {
    storesAt(i);
    lines.push(`%${i} = ${n.op}${n.name ? ` ${n.name}` : ''}${n.value === undefined ? '' : ` ${literalKey(n.value)}`}${n.args.map((a) => ` %${a}`).join('')}`);
  });
  storesAt(nodes.length);
  const text = lines.join('\n');
  return {
    nodes,
    stores: out,
    arrays: new Set([...loaded, ...stored]),
    loaded,
    stored,
    scalars: new Set(nodes.filter((n) => n.op === 'scalar').map((n) => n.name!)),
    runtimeFlags: new Set(nodes.filter((n) => n.op === 'signflip').map((n) => n.name!)),
    text,
  };
}
