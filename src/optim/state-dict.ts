// The optimizer state dict: its format, and the validation every load goes through (a copy
// of the input is checked, and only that copy is applied).
import { KERNELS_WASM_SHA256 } from '../generated/kernels-wasm.js';
import type { Parameter } from '../store.js';
import { bufferSpecOf, hasStateOptions, isPlainObject, slotOf, stateBufferSpecs, type OptimizerSpec, type ParamGroup } from './groups.js';
import { DTYPES, STATE_DEFAULTS, dtypeOf, stateShape, type StateValues } from './state.js';
import { describe, kindOf } from '../validate.js';

/**
 * One parameter's saved state: its step count, buffers, and host-side scalars. A buffer is a
 * Float32Array (float32 state) or the raw bits of a low-precision one (`{ dtype: 'bfloat16',
 * data }`, `{ dtype: 'int8', data, scales, blockSize }`).
 */
export interface ParamStateEntry {
  /** Steps taken. */
  step: number;
  [key: string]: number | StateValues;
}

/**
 * An optimizer's saved state (PyTorch's `optimizer.state_dict()`, camelCase): plain data with
 * typed arrays, which survives `structuredClone`. `state` is keyed by parameter index, in
 * param-group order, as PyTorch keys it; `paramNames`, `paramSizes` and `paramShapes` let a
 * mismatch be reported by name.
 */
export interface OptimizerStateDict {
  /** Marks an optimizer state dict. */
  format: 'simdopt-optimizer';
  /** Format version: 2 (low-precision state and the state options); version 1 (float32 only) still loads. */
  version: 1 | 2;
  /** SHA-256 of the kernel module that produced the state. */
  kernelHash: string;
  /** The optimizer's class name. */
  optimizer: string;
  /** Each group's hyperparameters, and the indices of its parameters. */
  paramGroups: (Record<string, unknown> & {
    /** Indices of the group's parameters (in group order across all groups). */
    params: number[];
  })[];
  /** Each parameter's state, keyed by parameter index. */
  state: Record<number, ParamStateEntry>;
  /** The parameters' names, by index. */
  paramNames: string[];
  /** The parameters' sizes, by index. */
  paramSizes: number[];
  /** The parameters' shapes, by index (absent in state saved before shapes existed; then only sizes are checked). */
  paramShapes?: number[][];
}

/** Options of {@link Optimizer.loadStateDict}. */
export interface LoadStateOptions {
  /** Accept state saved by a different kernel build (default false: such state is refused). */
  ignoreKernelHash?: boolean;
}

/** What the checks need of an optimizer. @internal */
export interface StateDictHost<O> {
  readonly spec: OptimizerSpec<O>;
  readonly paramGroups: readonly ParamGroup<O>[];
  validateGroup(group: ParamGroup<O>, context: string): void;
}

/** Names of an optimizer's state buffers (a family of slots as `name.<i>`). @internal */
export function bufferNames(spec: OptimizerSpec<unknown>): string[] {
  return stateBufferSpecs(spec).map((b) => (b.slots ? `${b.name}.<i>` : b.name));
}

/**
 * The state buffers that saved entries hold, in a fixed order: the spec's buffers in their
 * order, a family's slots by index after its place. @internal
 */
export function savedBufferKeys(spec: OptimizerSpec<unknown>, entries: readonly object[]): string[] {
  const present = new Set(entries.flatMap((e) => Object.keys(e)));
  return stateBufferSpecs(spec).flatMap((b) => {
    if (!b.slots) return present.has(b.name) ? [b.name] : [];
    return [...present].filter((k) => slotOf(k)?.family === b.name).sort((x, y) => slotOf(x)!.index - slotOf(y)!.index);
  });
}

/**
 * Why `value` cannot be a state buffer of `size` elements, or undefined when it can: a
 * Float32Array of that length, or an array of that many numbers with no holes, or (with
 * `lowPrecision`, for optimizer state) a low-precision buffer's raw data (any dtype: loading
 * converts it to the group's). @internal
 */
export function bufferProblem(value: unknown, size: number, lowPrecision = false): string | undefined {
  const dtype = lowPrecision ? dtypeOf(value) : undefined;
  if (dtype !== undefined && dtype !== 'float32') {
    const why = DTYPES[dtype].problem(value, size);
    return why === undefined ? undefined : `(${dtype}) ${why}`;
  }
  if (ArrayBuffer.isView(value)) {
    if (!(value instanceof Float32Array)) return `is ${kindOf(value)}; state buffers are Float32Arrays (or arrays of numbers${lowPrecision ? ", or a bfloat16 or int8 state's { dtype, data, ... }" : ''})`;
    return value.length === size ? undefined : `has length ${value.length}, expected ${size}`;
  }
  if (!Array.isArray(value)) return `is ${kindOf(value)}, not a Float32Array of length ${size}`;
  if (value.length !== size) return `has length ${value.length}, expected ${size}`;
  for (let i = 0; i < size; i++) {
    if (!(i in value)) return `has a hole at index ${i}`;
    if (typeof value[i] !== 'number') return `holds ${describe(value[i])} (${typeof value[i]}) at index ${i}, not a number`;
  }
  return undefined;
}

/** Whether `a` is the shape `b`. @internal */
export const sameShape = (a: unknown, b: readonly number[]) => Array.isArray(a) && a.length === b.length && a.every((x, i) => x === b[i]);

/**
 * Copies `input` (reading every property once: a getter that throws, a proxy or a function
 * is refused), validates the copy against `host` and returns it. Loading applies only this
 * copy, so nothing the caller holds can change between the checks and the load. Throws an
 * Error saying what is wrong. @internal
 */
export function checkedStateDict<O>(host: StateDictHost<O>, input: unknown, options: LoadStateOptions): OptimizerStateDict {
  const name = host.spec.name;
  const fail = (why: string): never => { throw new Error(`${name}.loadStateDict: ${why}; nothing was changed`); };
  if (input === null || typeof input !== 'object') fail(`expected a state dict object, got ${describe(input)}`);
  let copy: unknown;
  try {
    copy = structuredClone(input);
  } catch (e) {
    fail(`the state dict cannot be read as plain data (${(e as Error).message})`);
  }
  const s = copy as Partial<OptimizerStateDict>;
  if (s.format !== 'simdopt-optimizer') fail(`not an optimizer state dict (format ${describe(s.format)})`);
  if (s.version !== 1 && s.version !== 2) fail(`unsupported state dict version ${describe(s.version)} (this library reads versions 1 and 2)`);
  if (s.kernelHash !== KERNELS_WASM_SHA256 && !options.ignoreKernelHash) {
    fail(`the state was saved by kernel build ${String(s.kernelHash).slice(0, 12)}…, this is ${KERNELS_WASM_SHA256.slice(0, 12)}… (pass { ignoreKernelHash: true } to load it anyway)`);
  }
  if (s.optimizer !== name) fail(`the state was saved from ${describe(s.optimizer)}, not ${name}`);
  const params: Parameter[] = host.paramGroups.flatMap((g) => g.params);
  if (!Array.isArray(s.paramNames) || !Array.isArray(s.paramSizes)) fail('paramNames and paramSizes are missing');
  const names = s.paramNames!, sizes = s.paramSizes!;
  if (names.length !== params.length || sizes.length !== params.length) {
    fail(`the state holds ${names.length} parameters (${names.map((n) => describe(n)).join(', ')}), this optimizer has ${params.length} (${params.map((p) => p.name).join(', ')})`);
  }
  params.forEach((p, i) => {
    if (names[i] !== p.name || sizes[i] !== p.size) {
      fail(`parameter ${i} is ${describe(names[i])} of size ${describe(sizes[i])} in the state, but ${JSON.stringify(p.name)} of size ${p.size} here`);
    }
  });
  if (s.paramShapes !== undefined) {
    if (!Array.isArray(s.paramShapes) || s.paramShapes.length !== params.length) fail('paramShapes must hold one shape per parameter');
    params.forEach((p, i) => {
      if (!sameShape(s.paramShapes![i], p.shape)) fail(`parameter ${i} (${JSON.stringify(p.name)}) has shape ${describe(s.paramShapes![i])} in the state, but ${describe(p.shape)} here`);
    });
  }
  if (!Array.isArray(s.paramGroups) || s.paramGroups.length !== host.paramGroups.length) {
    fail(`the state has ${Array.isArray(s.paramGroups) ? s.paramGroups.length : 'no'} param groups, this optimizer has ${host.paramGroups.length}`);
  }
  if (!isPlainObject(s.state)) fail(`state must be an object keyed by parameter index, got ${describe(s.state)}`);
  const indices = Object.keys(s.state!);
  const extra = indices.filter((k) => !(String(Number(k)) === k && Number(k) >= 0 && Number(k) < params.length));
  if (extra.length > 0) fail(`state holds entries for no parameter of this optimizer: ${extra.map((k) => JSON.stringify(k)).join(', ')} (parameters are 0 to ${params.length - 1})`);
  const specs = new Map(stateBufferSpecs(host.spec as OptimizerSpec<unknown>).map((b) => [b.name, b]));
  const buffers = [...specs.keys()];
  const lowPrecision = hasStateOptions(host.spec as OptimizerSpec<unknown>);
  let index = 0;
  s.paramGroups!.forEach((g, gi) => {
    const context = `${name}.loadStateDict: param group ${gi}`;
    if (!isPlainObject(g)) fail(`param group ${gi} is not an object`);
    const expected = host.paramGroups[gi].params.map(() => index++);
    if (!Array.isArray(g.params) || g.params.length !== expected.length || g.params.some((x, k) => x !== expected[k])) {
      fail(`param group ${gi} lists parameters ${describe(g.params)}, expected ${describe(expected)}`);
    }
    // Options added after a state dict was saved take their defaults (as PyTorch's __setstate__
    // does): the state options (state saved before them is float32 state) and the spec's own.
    const added: Record<string, unknown> = { ...(lowPrecision ? STATE_DEFAULTS : {}), ...(host.spec.addedOptions ?? {}) };
    for (const key of Object.keys(host.spec.checks)) {
      if (key in g) continue;
      if (!Object.prototype.hasOwnProperty.call(added, key)) fail(`param group ${gi} lacks ${key}`);
      (g as Record<string, unknown>)[key] = structuredClone(added[key]);
    }
    // The group keeps its own element type: the saved buffers are converted to it on load.
    const own = (host.paramGroups[gi] as Record<string, unknown>).stateDtype;
    const saved = { ...g, params: host.paramGroups[gi].params } as unknown as ParamGroup<O>;
    const candidate = { ...g, ...(own === undefined ? {} : { stateDtype: own }), params: host.paramGroups[gi].params } as unknown as ParamGroup<O>;
    try {
      host.validateGroup(saved, context);
      host.validateGroup(candidate, context);
    } catch (e) {
      fail((e as Error).message.replace(`${context}: `, `param group ${gi}: `));
    }
    // Parameters of a group may differ in step count and in the state they hold: one frozen
    // for a while (`requiresGrad` false) did not step with the others, as in PyTorch.
    for (const pi of expected) {
      const entry = s.state![pi] as Record<string, unknown> | undefined;
      const pname = JSON.stringify(params[pi].name);
      if (!isPlainObject(entry)) fail(`no state for parameter ${pi} (${pname})`);
      if (!Number.isSafeInteger(entry!.step) || (entry!.step as number) < 0) fail(`invalid step ${describe(entry!.step)} for parameter ${pi} (${pname})`);
      for (const [key, value] of Object.entries(entry!)) {
        if (key === 'step') continue;
        if (host.spec.scalars?.includes(key)) {
          // Any number: a step with non-finite gradients can leave one non-finite (Prodigy's dNumerator), and a save must keep it.
          if (typeof value !== 'number') fail(`state ${key} of parameter ${pi} (${pname}) is ${describe(value)}, not a number`);
          continue;
        }
        if (bufferSpecOf(host.spec as OptimizerSpec<unknown>, key) === undefined) fail(`unknown state ${JSON.stringify(key)} for parameter ${pi} (${pname}); ${name} keeps ${buffers.join(', ')}`);
        const spec = specs.get(key);
        const shape = stateShape(spec, params[pi].shape);
        if (shape === undefined) fail(`state ${key} of parameter ${pi} (${pname}): ${name} keeps no ${key} for a parameter of shape ${describe(params[pi].shape)}`);
        // A buffer of its own shape is float32 (see StateBufferSpec.shape).
        const why = bufferProblem(value, shape!.reduce((a, b) => a * b, 1), spec?.shape === undefined && lowPrecision);
        if (why !== undefined) fail(`state ${key} of parameter ${pi} (${pname}) ${why}`);
      }
    }
  });
  return s as OptimizerStateDict;
}
