// Param groups: what constructors accept, how a group is merged with the defaults, and the
// validation of its hyperparameters (at construction, before every step and on load).
import { Parameter } from '../store.js';
import { describe, kindOf, type Check } from '../validate.js';
import { checkStateOptions, type StateBufferSpec, type StateOptions, type StateShape } from './state.js';

/** A param group as passed to a constructor: its parameters and any options overriding the defaults. */
export type ParamGroupInput<O> = Partial<O> & {
  /** The group's parameters. */
  params: Parameter[];
};

/** What optimizers accept: a list of parameters, or a list of param groups. */
export type ParamsInput<O> = readonly Parameter[] | readonly ParamGroupInput<O>[];

/**
 * A live param group: its (frozen) parameter list and its hyperparameters. Writing a
 * hyperparameter (`group.lr = 0.01`, `group.betas = [0.9, 0.99]`) takes effect at the
 * next `step()`, which validates it first.
 */
export type ParamGroup<O> = O & {
  /** The group's parameters (fixed; add parameters with `addParamGroup`). */
  readonly params: readonly Parameter[];
};

/** The table an optimizer hands its base class. @internal */
export interface OptimizerSpec<O> {
  /** Class name used in messages and saved state. */
  readonly name: string;
  /**
   * Every state buffer the optimizer can hold (PyTorch's state keys, camelCase). Their element
   * type is the group's `stateDtype` (an optimizer whose checks include the state options,
   * STATE_CHECKS), else float32. `{ name, slots: true }` declares a family of buffers `name.0`,
   * `name.1`, ... (L-BFGS's history), for optimizers without the state options.
   */
  readonly buffers: readonly (string | { readonly name: string; readonly slots: true })[];
  /**
   * The shape of each buffer not shaped like its parameter, by name ({@link StateBufferSpec.shape}):
   * such a buffer is float32 with a layout of its own, so only an optimizer without the state
   * options declares any.
   */
  readonly shapes?: { readonly [name: string]: StateShape };
  /** Host-side per-group scalars kept as state (NAdam's muProduct). */
  readonly scalars?: readonly string[];
  /** A checker per option; any other key is an error. */
  readonly checks: { readonly [K in keyof O]-?: Check };
  /** Checks across options (e.g. Nesterov needs momentum). */
  readonly crossCheck?: (group: O, context: string) => void;
  /**
   * Options added after state dicts of this optimizer were first saved, each with the value a
   * saved param group that lacks it takes on load (as PyTorch's `__setstate__` sets defaults
   * for options newer than a pickled optimizer), so state saved before stays loadable.
   */
  readonly addedOptions?: { readonly [K in keyof O]?: O[K] };
  /**
   * `step` needs a closure that re-evaluates the loss and the gradients (L-BFGS): the optimizer
   * cannot step on gradients computed outside it (gradient accumulation, `stepArrays`, TF.js).
   */
  readonly closure?: true;
}

/**
 * Throws when `optimizer` steps only with a closure (L-BFGS), in `context`, which hands an
 * optimizer gradients computed outside its step. @internal
 */
export function refuseClosureDriven(context: string, optimizer: { readonly spec: OptimizerSpec<unknown> }): void {
  if (optimizer.spec.closure) {
    throw new Error(`${context}: ${optimizer.spec.name} cannot be used here: its step(closure) re-evaluates the loss and the gradients itself, ` +
      'several times per step, so it cannot step on gradients computed outside it');
  }
}

/** Every state buffer a spec declares. */
export function stateBufferSpecs(spec: OptimizerSpec<unknown>): StateBufferSpec[] {
  return spec.buffers.map((b) => {
    if (typeof b !== 'string') return b;
    const shape = spec.shapes?.[b];
    return shape === undefined ? { name: b } : { name: b, shape };
  });
}

/** Whether an optimizer takes the state options (`stateDtype`, ...). */
export function hasStateOptions(spec: OptimizerSpec<unknown>): boolean {
  return Object.prototype.hasOwnProperty.call(spec.checks, 'stateDtype');
}

/** A slot key `family.i` (i a whole number written without leading zeros), split; undefined for any other key. */
export function slotOf(key: string): { family: string; index: number } | undefined {
  const m = /^(.+)\.(0|[1-9][0-9]{0,8})$/.exec(key);
  return m ? { family: m[1], index: Number(m[2]) } : undefined;
}

/**
 * The declaration state key `key` falls under: the buffer of that name, or for a slot
 * `family.i`, the family declared with `slots`; undefined when the spec declares neither.
 */
export function bufferSpecOf(spec: OptimizerSpec<unknown>, key: string): StateBufferSpec | undefined {
  const specs = stateBufferSpecs(spec);
  const plain = specs.find((b) => !b.slots && b.name === key);
  if (plain !== undefined) return plain;
  const slot = slotOf(key);
  return slot === undefined ? undefined : specs.find((b) => b.slots === true && b.name === slot.family);
}

/**
 * Keys a scheduler records in a param group besides the optimizer's options (PyTorch's
 * `initial_lr` and CyclicLR's / OneCycleLR's `max_lr`, camelCase).
 */
export const SCHEDULER_GROUP_KEYS = ['initialLr', 'maxLr'] as const;

/** True for `{...}` literals and `JSON.parse` objects (not arrays, class instances or typed arrays). */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== 'object') return false;
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}

/** Throws on an option key the spec does not know (`params` allowed in a group). */
export function checkOptionKeys<O>(spec: OptimizerSpec<O>, options: object, context: string, allowParams: boolean): void {
  for (const key of Object.keys(options)) {
    if (allowParams && key === 'params') continue;
    if (!Object.prototype.hasOwnProperty.call(spec.checks, key)) {
      throw new Error(`${context}: unknown option ${JSON.stringify(key)} (valid: ${Object.keys(spec.checks).join(', ')})`);
    }
  }
}

/**
 * Reads a constructor's `params`: a list of Parameters (one group) or of param groups.
 * Names what is wrong: a Float32Array where a Parameter belongs, a mixed list.
 */
export function parseParams<O>(name: string, params: ParamsInput<O>): { inputs: ParamGroupInput<O>[]; single: boolean } {
  if (!Array.isArray(params) || params.length === 0) {
    throw new Error(`${name}: expected a non-empty array of parameters or of param groups, got ${Array.isArray(params) ? 'an empty array' : describe(params)}`);
  }
  const list = params as readonly unknown[];
  const single = list.every((p) => p instanceof Parameter);
  if (!single) {
    list.forEach((p, i) => {
      if (!(p instanceof Parameter) && !isPlainObject(p)) {
        throw new TypeError(`${name}: params[${i}] is ${kindOf(p)}, not a Parameter or a param group (register values with store.parameter(name, size) and pass the Parameter)`);
      }
    });
    const i = list.findIndex((p) => p instanceof Parameter);
    if (i >= 0) throw new TypeError(`${name}: params mixes Parameters and param groups (params[${i}] is ${String(list[i])}); pass either a list of Parameters or a list of { params: [...] } groups`);
  }
  return { inputs: single ? [{ params: params as Parameter[] } as ParamGroupInput<O>] : (params as ParamGroupInput<O>[]), single };
}

/**
 * Validates a group's hyperparameters: every option's value, and no key the optimizer does
 * not know (a misspelt `group.lrr = 0.5` would otherwise be ignored). Besides the options, a
 * group may hold the keys schedulers record ({@link SCHEDULER_GROUP_KEYS}).
 */
export function validateGroup<O>(spec: OptimizerSpec<O>, group: ParamGroup<O>, context: string): void {
  const checks = spec.checks as Record<string, Check>;
  for (const key of Object.keys(group)) {
    if (key === 'params' || Object.prototype.hasOwnProperty.call(checks, key)) continue;
    if ((SCHEDULER_GROUP_KEYS as readonly string[]).includes(key)) {
      const v = (group as Record<string, unknown>)[key];
      if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) throw new RangeError(`${context}: ${key} (recorded by a scheduler) must be a finite number >= 0, got ${describe(v)}`);
      continue;
    }
    throw new Error(`${context}: unknown hyperparameter ${JSON.stringify(key)} in the param group (valid: ${Object.keys(checks).join(', ')}; and ${SCHEDULER_GROUP_KEYS.join(', ')}, which schedulers record)`);
  }
  for (const key of Object.keys(checks)) checks[key]((group as Record<string, unknown>)[key], context);
  if (hasStateOptions(spec as OptimizerSpec<unknown>)) checkStateOptions(group as Partial<StateOptions>, context);
  spec.crossCheck?.(group, context);
}

/** Merges `defaults` into a group input, validates it, and returns the live group. */
export function prepareGroup<O>(spec: OptimizerSpec<O>, defaults: Readonly<O>, input: ParamGroupInput<O>, context: string): ParamGroup<O> {
  if (input === null || typeof input !== 'object' || Array.isArray(input)) {
    throw new TypeError(`${context}: a param group must be an object with params, got ${describe(input)}`);
  }
  checkOptionKeys(spec, input, context, true);
  const params = input.params as unknown;
  if (!Array.isArray(params) || params.length === 0) {
    throw new Error(`${context}: params must be a non-empty array of Parameters, got ${Array.isArray(params) ? 'an empty array' : kindOf(params)}`);
  }
  params.forEach((p, i) => {
    if (!(p instanceof Parameter)) throw new TypeError(`${context}: params[${i}] is ${kindOf(p)}, not a Parameter`);
  });
  const group = {} as Record<string, unknown>;
  for (const [k, v] of Object.entries(defaults)) group[k] = Array.isArray(v) ? [...v] : v;
  for (const [k, v] of Object.entries(input)) if (k !== 'params' && v !== undefined) group[k] = Array.isArray(v) ? [...v] : v;
  group.params = Object.freeze([...(params as Parameter[])]);
  const result = group as ParamGroup<O>;
  validateGroup(spec, result, context);
  return result;
}

/** A copy of a group's hyperparameters (everything but `params`). */
export function hyperparameters(group: object): Record<string, unknown> {
  return Object.fromEntries(Object.entries(group).filter(([k]) => k !== 'params').map(([k, v]) => [k, structuredClone(v)]));
}
