// A check for optimizers whose step does more than one kernel call per parameter (LAMB's
// update in a scratch array and its norms, LARS's norms): with bfloat16 or int8 state, each
// step must be the float32 step taken from the dequantised state, its new state rounded into
// the dtype. A float32 twin of the optimizer starts every step from the low-precision run's
// state (decoded exactly) and must give the same parameter bits.
import { expect } from 'vitest';
import { ParameterStore, type Parameter } from '../src/index.js';
import type { AnyOptimizer } from '../src/optim/optimizer.js';
import { DTYPES, stateRange, type QuantizedState } from '../src/optim/state.js';
import { expectSameBits, prng } from './helpers.js';

/**
 * Steps `make(params, stateOptions)` and its float32 twin `make(params, {})` over parameters of
 * `sizes` for `steps` steps on `backend`, the twin's state set from the low-precision run's
 * before each step; expects the same parameters after every step, and the low-precision state
 * to be the twin's rounded into its dtype (the host's encoding exactly; with stochastic
 * rounding, each bfloat16 value the twin's rounded down or up).
 */
export async function expectFloat32Shadow(
  backend: 'wasm' | 'js', sizes: readonly number[], make: (params: Parameter[], stateOptions: Record<string, unknown>) => AnyOptimizer,
  stateOptions: { stateDtype: 'bfloat16' | 'int8'; stochasticRounding?: boolean }, steps: number, seed: number,
): Promise<void> {
  const rand = prng(seed);
  const init = sizes.map((n) => Float32Array.from({ length: n }, () => rand() * 2 - 1));
  const storeLow = await ParameterStore.create({ backend }), store32 = await ParameterStore.create({ backend });
  const low = init.map((v, k) => storeLow.parameter(`p${k}`, v)), f32 = init.map((v, k) => store32.parameter(`p${k}`, v));
  const optLow = make(low, stateOptions), opt32 = make(f32, {});
  const dtype = stateOptions.stateDtype;
  for (let s = 0; s < steps; s++) {
    const grads = sizes.map((n) => Float32Array.from({ length: n }, () => (rand() * 2 - 1) * (1 + s)));
    low.forEach((p, k) => p.grad.set(grads[k]));
    f32.forEach((p, k) => {
      p.grad.set(grads[k]);
      const from = optLow.state(low[k]) as Record<string, unknown>, to = opt32.state(p) as Record<string, unknown>;
      for (const [name, view] of Object.entries(to)) if (view instanceof Float32Array) view.set(from[name] as Float32Array);
    });
    optLow.step();
    opt32.step();
    low.forEach((p, k) => {
      expectSameBits(p.data, f32[k].data, `step ${s + 1}, p${k} (${dtype})`);
      const raw = optLow.rawState(p) as Record<string, unknown>, twin = opt32.state(f32[k]) as Record<string, unknown>;
      const names = Object.keys(twin).filter((name) => twin[name] instanceof Float32Array);
      expect(names.length, 'state buffers').toBeGreaterThan(0);
      for (const name of names) {
        const q = raw[name] as QuantizedState, values = twin[name] as Float32Array;
        expect(q.dtype, name).toBe(dtype);
        if (stateOptions.stochasticRounding) {
          const upper = new Uint32Array(values.buffer, values.byteOffset, values.length);
          const off = Array.from(q.data).findIndex((b, i) => b !== upper[i] >>> 16 && b !== (upper[i] >>> 16) + 1);
          expect(off, `step ${s + 1}, p${k}.${name}: first element not the float32 value rounded down or up`).toBe(-1);
        } else {
          const encoded = DTYPES[dtype].encode(values, stateRange(name)) as QuantizedState;
          expect(Array.from(q.data), `step ${s + 1}, p${k}.${name} (${dtype} data)`).toEqual(Array.from(encoded.data));
          if (dtype === 'int8') expectSameBits(q.scales!, encoded.scales!, `step ${s + 1}, p${k}.${name} scales`);
        }
      }
    });
  }
  storeLow.dispose();
  store32.dispose();
}
