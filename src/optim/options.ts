// Validation of optimizer options: one checker per option, driven by a table in each
// optimizer, so construction, param groups and every step() apply the same rules.

/** A checker throws an Error naming the option and the value when the value is invalid. */
export type Check = (value: unknown, context: string) => void;

/** Formats a value for an error message. */
export function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'bigint') return `${value}n`;
  if (Array.isArray(value)) return `[${value.map(describe).join(', ')}]`;
  if (typeof value === 'number' && Object.is(value, -0)) return '-0';
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

function requireNumber(value: unknown, label: string, context: string): number {
  if (typeof value !== 'number') {
    throw new TypeError(`${context}: ${label} must be a number, got ${describe(value)} (${typeName(value)})`);
  }
  if (!Number.isFinite(value)) throw new RangeError(`${context}: invalid ${label}: ${describe(value)} (must be finite)`);
  return value;
}

/** A finite number >= `min` (and < `below` when given). `label` reads like "learning rate (lr)". */
export function number(label: string, min = 0, below = Infinity): Check {
  return (value, context) => {
    const v = requireNumber(value, label, context);
    if (v < min || v >= below) {
      const range = below === Infinity ? `>= ${min}` : `in [${min}, ${below})`;
      throw new RangeError(`${context}: invalid ${label}: ${describe(v)} (must be ${range})`);
    }
  };
}

/** A finite number in [min, max], both ends included (PyTorch's "0.0 <= rho <= 1.0"). */
export function between(label: string, min: number, max: number): Check {
  return (value, context) => {
    const v = requireNumber(value, label, context);
    if (v < min || v > max) throw new RangeError(`${context}: invalid ${label}: ${describe(v)} (must be in [${min}, ${max}])`);
  };
}

/** A boolean. */
export function boolean(label: string): Check {
  return (value, context) => {
    if (typeof value !== 'boolean') {
      throw new TypeError(`${context}: ${label} must be a boolean, got ${describe(value)} (${typeName(value)})`);
    }
  };
}

/** A pair of numbers, each in [0, 1) (PyTorch's message: "Invalid beta parameter at index 0: 1.2"). */
export function betas(): Check {
  return (value, context) => {
    if (!Array.isArray(value) || value.length !== 2) {
      throw new TypeError(`${context}: betas must be an array of two numbers, got ${describe(value)}`);
    }
    for (let i = 0; i < 2; i++) {
      const v = value[i] as unknown;
      if (typeof v !== 'number') {
        throw new TypeError(`${context}: beta parameter at index ${i} must be a number, got ${describe(v)} (${typeName(v)})`);
      }
      if (!(v >= 0 && v < 1)) throw new RangeError(`${context}: invalid beta parameter at index ${i}: ${describe(v)} (must be in [0, 1))`);
    }
  };
}
