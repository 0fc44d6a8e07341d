// An exact JSON form of state dicts: typed arrays and the numbers JSON cannot spell survive
// the round trip bit for bit.

/** Float32 data is stored little-endian, as every JavaScript engine in use lays it out. */
export function assertLittleEndian(context: string): void {
  if (new Uint8Array(new Uint16Array([1]).buffer)[0] !== 1) throw new Error(`${context}: needs a little-endian host`);
}

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const B64_INDEX = new Int16Array(128).fill(-1);
for (let i = 0; i < B64.length; i++) B64_INDEX[B64.charCodeAt(i)] = i;

function toBase64(bytes: Uint8Array): string {
  let out = '';
  for (let i = 0; i < bytes.length; i += 3) {
    const a = bytes[i], b = bytes[i + 1] ?? 0, c = bytes[i + 2] ?? 0;
    const n = (a << 16) | (b << 8) | c;
    out += B64[n >> 18] + B64[(n >> 12) & 63] + (i + 1 < bytes.length ? B64[(n >> 6) & 63] : '=') + (i + 2 < bytes.length ? B64[n & 63] : '=');
  }
  return out;
}

function fromBase64(text: string, context: string): Uint8Array {
  if (text.length % 4 !== 0) throw new Error(`${context}: invalid base64 (length ${text.length} is not a multiple of 4)`);
  const pad = text.endsWith('==') ? 2 : text.endsWith('=') ? 1 : 0;
  const out = new Uint8Array((text.length / 4) * 3 - pad);
  let o = 0;
  for (let i = 0; i < text.length; i += 4) {
    let n = 0;
    for (let k = 0; k < 4; k++) {
      const ch = text.charCodeAt(i + k);
      const last = i + 4 === text.length;
      if (ch === 61 /* = */ && last && k >= 4 - pad) { n <<= 6; continue; }
      const v = ch < 128 ? B64_INDEX[ch] : -1;
      if (v < 0) throw new Error(`${context}: invalid base64 character ${JSON.stringify(text[i + k])} at ${i + k}`);
      n = (n << 6) | v;
    }
    out[o++] = (n >> 16) & 255;
    if (o < out.length) out[o++] = (n >> 8) & 255;
    if (o < out.length) out[o++] = n & 255;
  }
  return out;
}

const FLOAT32 = '$float32';
const NUMBER = '$number';
/** The typed arrays written exactly, by their key: float32 values, and low-precision state's raw bfloat16 and int8 data. */
const TYPED = { [FLOAT32]: Float32Array, $uint16: Uint16Array, $uint8: Uint8Array } as const;
const TYPED_KEYS = Object.keys(TYPED) as (keyof typeof TYPED)[];
const SPECIAL: Record<string, number> = { NaN, Infinity, '-Infinity': -Infinity, '-0': -0 };

/**
 * Serialises a state dict (an optimizer's {@link Optimizer.stateDict}, a scheduler's, or any
 * plain data holding `Float32Array`s) as JSON that {@link stateDictFromJSON} reads back
 * exactly: each `Float32Array` becomes `{ "$float32": "<base64 of its little-endian bytes>" }`
 * (every bit kept, NaN payloads and -0 included), the `Uint16Array`s and `Uint8Array`s of
 * bfloat16 and int8 optimizer state likewise `{ "$uint16": ... }` and `{ "$uint8": ... }`, and
 * each number JSON cannot write (NaN, ±Infinity, -0) becomes `{ "$number": "NaN" }`. Other
 * typed arrays are refused.
 *
 * @example
 * writeFileSync('opt.json', stateDictToJSON(opt.stateDict()));
 * opt.loadStateDict(stateDictFromJSON(readFileSync('opt.json', 'utf8')));
 */
export function stateDictToJSON(stateDict: object, space?: number): string {
  const context = 'stateDictToJSON';
  assertLittleEndian(context);
  if (stateDict === null || typeof stateDict !== 'object') throw new TypeError(`${context}: expected a state dict object, got ${String(stateDict)}`);
  return JSON.stringify(stateDict, (key, value: unknown) => {
    for (const k of TYPED_KEYS) {
      if (value instanceof TYPED[k]) return { [k]: toBase64(new Uint8Array(value.buffer, value.byteOffset, value.byteLength)) };
    }
    if (ArrayBuffer.isView(value)) throw new TypeError(`${context}: ${JSON.stringify(key)} is a ${value.constructor.name}; only Float32Arrays (and the Uint16Arrays and Uint8Arrays of low-precision state) are written exactly`);
    if (typeof value === 'number' && (!Number.isFinite(value) || Object.is(value, -0))) return { [NUMBER]: Object.is(value, -0) ? '-0' : String(value) };
    if (value !== null && typeof value === 'object' && !Array.isArray(value) && [...TYPED_KEYS, NUMBER].some((k) => k in value)) {
      throw new Error(`${context}: ${JSON.stringify(key)} holds a key ${[...TYPED_KEYS, NUMBER].join(', ')}, which this format reserves`);
    }
    return value;
  }, space);
}

/**
 * Reads JSON written by {@link stateDictToJSON} back into a state dict with `Float32Array`s
 * and exact numbers, ready for `loadStateDict`. Malformed encodings throw.
 */
export function stateDictFromJSON<T = Record<string, unknown>>(json: string): T {
  const context = 'stateDictFromJSON';
  assertLittleEndian(context);
  if (typeof json !== 'string') throw new TypeError(`${context}: expected a JSON string, got ${json === null ? 'null' : typeof json}`);
  return JSON.parse(json, (key, value: unknown) => {
    if (value === null || typeof value !== 'object' || Array.isArray(value)) return value;
    const keys = Object.keys(value);
    if (keys.includes(NUMBER) || TYPED_KEYS.some((k) => keys.includes(k))) {
      if (keys.length !== 1) throw new Error(`${context}: ${JSON.stringify(key)}: an encoded value has exactly one key, got ${keys.join(', ')}`);
      const text = (value as Record<string, unknown>)[keys[0]];
      if (typeof text !== 'string') throw new Error(`${context}: ${JSON.stringify(key)}: ${keys[0]} must be a string`);
      if (keys[0] === NUMBER) {
        if (!Object.prototype.hasOwnProperty.call(SPECIAL, text)) throw new Error(`${context}: ${JSON.stringify(key)}: unknown number ${JSON.stringify(text)}`);
        return SPECIAL[text];
      }
      const bytes = fromBase64(text, `${context}: ${JSON.stringify(key)}`);
      const Typed = TYPED[keys[0] as keyof typeof TYPED];
      if (bytes.length % Typed.BYTES_PER_ELEMENT !== 0) throw new Error(`${context}: ${JSON.stringify(key)}: ${bytes.length} bytes is not a whole number of ${keys[0] === FLOAT32 ? 'float32' : keys[0].slice(1)} values`);
      return new Typed(bytes.buffer as ArrayBuffer, 0, bytes.length / Typed.BYTES_PER_ELEMENT);
    }
    return value;
  }) as T;
}
