// A float32 buffer in the arena laid out like a list of parameters (each segment padded as the
// parameter's, so that a run of adjacent parameters is one kernel call over both), for the
// utilities that shadow the parameters: the averaged model's averages and the gradient
// accumulator's sums. And the checks their state dicts share.
import { activeRuns } from './optim/frozen.js';
import { layoutGroup, type GroupState, type Run } from './optim/state.js';
import { bufferProblem, sameShape } from './optim/state-dict.js';
import type { Parameter, ParameterStore } from './store.js';
import { describe } from './validate.js';

/** One float32 value per element of each of `params`, in the arena. @internal */
export class ParamBuffer {
  readonly #layout: GroupState;
  readonly #address: number;

  constructor(readonly store: ParameterStore, readonly params: readonly Parameter[]) {
    this.#layout = layoutGroup(params, 'float32');
    this.#address = store.allocate(this.#layout.elements * 4);
  }

  /** The runs of adjacent parameters; with `activeOnly`, of those not frozen. */
  runs(activeOnly = false): readonly Run[] {
    return activeOnly ? activeRuns(this.params, this.#layout) : this.#layout.runs;
  }

  /** Byte address of this buffer's part of `run`. */
  at(run: Run): number {
    return this.#address + 4 * run.state;
  }

  /** A live view of parameter `i`'s values (its `size` elements). */
  view(i: number): Float32Array {
    return this.store.view(this.#address + 4 * this.#layout.paramOffsets[i], this.params[i].size);
  }
}

/** What a saved utility state says of its parameters. @internal */
export interface SavedParams {
  /** The parameters' names, in order. */
  paramNames: string[];
  /** Their sizes. */
  paramSizes: number[];
  /** Their shapes. */
  paramShapes: number[][];
}

/** The names, sizes and shapes of `params`, as a state dict records them. @internal */
export function savedParams(params: readonly Parameter[]): SavedParams {
  return { paramNames: params.map((p) => p.name), paramSizes: params.map((p) => p.size), paramShapes: params.map((p) => [...p.shape]) };
}

/** Throws through `fail` unless `s` records exactly `params` (names, sizes, shapes, in order). @internal */
export function checkSavedParams(fail: (why: string) => never, s: Partial<SavedParams>, params: readonly Parameter[]): void {
  const { paramNames: names, paramSizes: sizes, paramShapes: shapes } = s;
  if (!Array.isArray(names) || !Array.isArray(sizes) || !Array.isArray(shapes)) fail('paramNames, paramSizes and paramShapes are missing');
  if (names!.length !== params.length || sizes!.length !== params.length || shapes!.length !== params.length) {
    fail(`the state holds ${names!.length} parameters (${names!.map((n) => describe(n)).join(', ')}), this has ${params.length} (${params.map((p) => p.name).join(', ')})`);
  }
  params.forEach((p, i) => {
    if (names![i] !== p.name || sizes![i] !== p.size || !sameShape(shapes![i], p.shape)) {
      fail(`parameter ${i} is ${describe(names![i])} of size ${describe(sizes![i])} and shape ${describe(shapes![i])} in the state, but ${JSON.stringify(p.name)} of size ${p.size} and shape ${describe(p.shape)} here`);
    }
  });
}

/** Throws through `fail` unless `value` holds one buffer per parameter of its size (`label` names it). @internal */
export function checkSavedBuffers(fail: (why: string) => never, value: unknown, params: readonly Parameter[], label: string): ArrayLike<number>[] {
  if (!Array.isArray(value) || value.length !== params.length) fail(`${label} must be an array of ${params.length} buffers, one per parameter, got ${Array.isArray(value) ? `${value.length}` : describe(value)}`);
  (value as unknown[]).forEach((v, i) => {
    const why = bufferProblem(v, params[i].size);
    if (why !== undefined) fail(`${label}[${i}] (${JSON.stringify(params[i].name)}) ${why}`);
  });
  return value as ArrayLike<number>[];
}

/** A private copy of a state dict (a getter that throws, a proxy or a function is refused through `fail`). @internal */
export function copyState(fail: (why: string) => never, input: unknown): Record<string, unknown> {
  if (input === null || typeof input !== 'object' || Array.isArray(input)) fail(`expected a state dict object, got ${describe(input)}`);
  try {
    return structuredClone(input) as Record<string, unknown>;
  } catch (e) {
    return fail(`the state dict cannot be read as plain data (${(e as Error).message})`);
  }
}
