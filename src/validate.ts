// The one validation module: optimizers, schedules, the LR range test, clipping and state
// loading check their inputs here, so every message has the same shape:
//
//   <context>: invalid <label>: <value> (must be <what>)          a value of the right type, out of range
//   <context>: <label> must be <a type>, got <value> (<type>)     a value of the wrong type
//   <context>: option <label> is required                         a required option left out
//   <context>: unknown option "<key>" (valid: a, b, c)            a key no one reads
//   <context>: <why>; nothing was changed                         a state dict or checkpoint refused

/** A checker throws an Error naming the option and the value when the value is invalid. */
export type Check = (value: unknown, context: string) => void;

/** Formats a value for an error message. */
export function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'bigint') return `${value}n`;
  if (Array.isArray(value)) return `[${value.map(describe).join(', ')}]`;
  if (typeof value === 'number' && Object.is(value, -0)) return '-0';
  if (typeof value === 'function') return value.name ? `function ${value.name}` : 'a function';
  return String(value);
}

/** Names what a value is, for messages: `a Float32Array`, `an array`, `Parameter("w", 3)`, `the number 3`. */
export function kindOf(value: unknown): string {
  if (value === null || value === undefined) return String(value);
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') {
    const ctor = (value as object).constructor as { name?: unknown } | undefined;
    // A Parameter (or any class with its own toString) names itself: `Parameter("w", 3)`.
    if (ctor !== Object && typeof (value as { toString?: unknown }).toString === 'function' && (value as object).toString !== Object.prototype.toString && !ArrayBuffer.isView(value)) return String(value);
    const n = typeof ctor?.name === 'string' && ctor.name !== '' ? ctor.name : 'Object';
    return `${/^[AEIO]/.test(n) ? 'an' : 'a'} ${n}`;
  }
  return `the ${typeof value} ${describe(value)}`;
}

function typeName(value: unknown): string {
  return value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value;
}

/** The text of an invalid value, without the context: `invalid gamma: NaN (must be finite)`. */
export function problem(label: string, value: unknown, mustBe: string): string {
  return `invalid ${label}: ${describe(value)} (must be ${mustBe})`;
}

/**
 * Throws the library's RangeError for a value out of range:
 * `<context>: invalid <label>: <value> (must be <mustBe>)`.
 * @example invalid('StepLR', 'stepSize', 0, 'a whole number >= 1')
 */
export function invalid(context: string, label: string, value: unknown, mustBe: string): never {
  throw new RangeError(`${context}: ${problem(label, value, mustBe)}`);
}

/**
 * Throws the library's TypeError for a value of the wrong type:
 * `<context>: <label> must be <mustBe>, got <value> (<type>)` (an object is named by its
 * class: `got a Float32Array`).
 */
export function wrongType(context: string, label: string, value: unknown, mustBe: string): never {
  const got = value !== null && typeof value === 'object' && !Array.isArray(value) ? kindOf(value) : `${describe(value)} (${typeName(value)})`;
  throw new TypeError(`${context}: ${label} must be ${mustBe}, got ${got}`);
}

/** Throws the library's error for a required option left out: `<context>: option <label> is required[, <hint>]`. */
export function required(context: string, label: string, hint?: string): never {
  throw new TypeError(`${context}: option ${label} is required${hint ? `, ${hint}` : ''}`);
}

/** Throws unless `options` is an object whose keys are all in `allowed`. */
export function checkKeys(context: string, options: object, allowed: readonly string[]): void {
  if (options === null || typeof options !== 'object') wrongType(context, 'options', options, 'an object');
  for (const key of Object.keys(options)) {
    if (!allowed.includes(key)) throw new Error(`${context}: unknown option ${JSON.stringify(key)} (valid: ${allowed.join(', ')})`);
  }
}

/** Bounds of a number option (each optional; exclusive when asked), and whether it must be whole. */
export interface NumberRange {
  /** Lower bound. */
  min?: number;
  /** Upper bound. */
  max?: number;
  /** The lower bound itself is out of range. */
  minExclusive?: boolean;
  /** The upper bound itself is out of range. */
  maxExclusive?: boolean;
  /** Only whole numbers. */
  integer?: boolean;
}

/** What a range admits, in words: `>= 0`, `in (0, 1]`, `a whole number >= 1`, `finite`. */
function rangeText(r: NumberRange): string {
  const lo = r.min !== undefined && r.min !== -Infinity, hi = r.max !== undefined && r.max !== Infinity;
  const bounds = lo && hi ? `in ${r.minExclusive ? '(' : '['}${r.min}, ${r.max}${r.maxExclusive ? ')' : ']'}`
    : lo ? `${r.minExclusive ? '>' : '>='} ${r.min}`
      : hi ? `${r.maxExclusive ? '<' : '<='} ${r.max}` : '';
  return r.integer ? `a whole number${bounds ? ` ${bounds}` : ''}` : bounds || 'finite';
}

/**
 * Checks a finite number within `range` and returns it: a TypeError when it is no number, a
 * RangeError naming the option, the value and the range otherwise.
 * @example checkNumber('OneCycleLR', 'pctStart', 1.5, { min: 0, max: 1 }); // invalid pctStart: 1.5 (must be in [0, 1])
 */
export function checkNumber(context: string, label: string, value: unknown, range: NumberRange = {}): number {
  const { min = -Infinity, max = Infinity, minExclusive = false, maxExclusive = false, integer = false } = range;
  if (typeof value !== 'number') wrongType(context, label, value, integer ? 'a whole number' : 'a number');
  if (!Number.isFinite(value)) invalid(context, label, value, integer ? rangeText(range) : 'finite');
  if (!((minExclusive ? value > min : value >= min) && (maxExclusive ? value < max : value <= max) && (!integer || Number.isInteger(value)))) {
    invalid(context, label, value, rangeText(range));
  }
  return value;
}

/** Checks that `value` is one of `allowed` and returns it. */
export function checkOneOf<T extends string | number>(context: string, label: string, value: unknown, allowed: readonly T[]): T {
  if (!allowed.includes(value as T)) {
    invalid(context, label, value, allowed.length === 1 ? describe(allowed[0]) : `${allowed.slice(0, -1).map(describe).join(', ')} or ${describe(allowed[allowed.length - 1])}`);
  }
  return value as T;
}

/** What an option must be, for {@link checkRule}: a number in a range, a list of them, a boolean, a function or one of some strings. */
export type Rule =
  | ({ type: 'number' } & NumberRange)
  | ({ type: 'numbers' } & NumberRange)
  | { type: 'boolean' }
  | { type: 'function' }
  | { type: 'oneOf'; values: readonly string[] };

/** Checks `value` against `rule` and returns it. */
export function checkRule(context: string, label: string, value: unknown, rule: Rule): unknown {
  switch (rule.type) {
    case 'number': return checkNumber(context, label, value, rule);
    case 'numbers':
      if (!Array.isArray(value)) wrongType(context, label, value, `an array of ${rule.integer ? 'whole numbers' : 'numbers'}`);
      value.forEach((v, i) => checkNumber(context, `${label}[${i}]`, v, rule));
      return value;
    case 'oneOf': return checkOneOf(context, label, value, rule.values);
    default:
      if (typeof value !== rule.type) wrongType(context, label, value, `a ${rule.type}`);
      return value;
  }
}

/**
 * Expands an option given once or once per param group to one value per group; an array of
 * another length is refused.
 */
export function perGroup<T>(context: string, label: string, value: T | readonly T[], groups: number): T[] {
  if (!Array.isArray(value)) return new Array<T>(groups).fill(value as T);
  if (value.length !== groups) {
    invalid(context, label, value, `a single value or an array of ${groups}, one per param group`);
  }
  return [...value] as T[];
}

/** The refusal of a state dict or checkpoint: throws `<context>: <why>; nothing was changed`. */
export function refuse(context: string): (why: string) => never {
  return (why) => { throw new Error(`${context}: ${why}; nothing was changed`); };
}

// ---- checkers of optimizer options (one per option, in each optimizer's table) --------------

/** A finite number >= `min` (and < `below` when given). `label` reads like "learning rate (lr)". */
export function number(label: string, min = 0, below = Infinity): Check {
  return (value, context) => { checkNumber(context, label, value, { min, max: below, maxExclusive: true }); };
}

/** A finite number in [min, max], both ends included (PyTorch's "0.0 <= rho <= 1.0"). */
export function between(label: string, min: number, max: number): Check {
  return (value, context) => { checkNumber(context, label, value, { min, max }); };
}

/** A boolean. */
export function boolean(label: string): Check {
  return (value, context) => { checkRule(context, label, value, { type: 'boolean' }); };
}

/**
 * `count` numbers (a pair by default; Adan and AdEMAMix take three), each in [0, 1)
 * (PyTorch's message: "Invalid beta parameter at index 0: 1.2").
 */
export function betas(count: 2 | 3 = 2): Check {
  return (value, context) => {
    if (!Array.isArray(value) || value.length !== count) wrongType(context, 'betas', value, `an array of ${count === 2 ? 'two' : 'three'} numbers`);
    value.forEach((v, i) => number(`beta parameter at index ${i}`, 0, 1)(v, context));
  };
}
