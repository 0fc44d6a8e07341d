// Copies between TF.js tensors and the arena, by the fastest route each backend offers, and
// never leaving TF.js holding memory of the arena.
//
// Reading (gradients; variables changed from outside): tfjs-backend-wasm keeps every tensor
// in its own WebAssembly heap and offers a view of it (`typedArrayFromHeap`, what its own
// kernels use), so its tensors are read with one `set` from that view; `dataSync` would
// first copy into a new array (measured: 10 ms against 1.2 ms for 4M parameters). Every
// other backend is read with `dataSync` (tfjs-backend-cpu returns its own array: one copy).
//
// Writing (the updated parameters): each variable is assigned a new tensor, one `assign`
// per variable (`Variable.assign` in tensor.js takes the new tensor's data and releases the
// old; the tensor is disposed at once, so the count of tensors does not grow).
// tfjs-backend-wasm's `write` copies the values into its heap, so it is given a view of the
// arena; every other backend is given a fresh copy, because tfjs-backend-cpu keeps the very
// array it is given (backend_cpu.js `write`), and a view of the arena there would alias it.
// Writing into a variable's heap memory in place would be faster, but the wasm backend's
// matrix products cache their weights packed (XNNPACK) under the tensor's id until it is
// disposed, so a weight changed in place is not seen (tested: training then goes wrong).
import { backend as activeBackend, tensor, type Tensor, type Variable } from '@tensorflow/tfjs-core';

/** What tfjs-backend-wasm offers beyond every backend: views of tensors in its heap. */
interface HeapBackend {
  refCount(dataId: object): number;
  typedArrayFromHeap(info: { dataId: object; shape: number[]; dtype: string }): Float32Array;
}

/** The active backend when it keeps tensors in a heap it gives views of (tfjs-backend-wasm). */
function heapBackend(): HeapBackend | undefined {
  const b = activeBackend() as unknown as Partial<HeapBackend>;
  return typeof b.typedArrayFromHeap === 'function' && typeof b.refCount === 'function' ? (b as HeapBackend) : undefined;
}

/** Copies a float32 tensor's values into `out` (of its size). */
export function readTensor(t: Tensor, out: Float32Array): void {
  const heap = heapBackend();
  // refCount is 0 for a tensor this backend does not hold (made before a setBackend).
  if (heap !== undefined && heap.refCount(t.dataId) > 0) out.set(heap.typedArrayFromHeap(t));
  else out.set(t.dataSync() as Float32Array);
}

/**
 * Assigns `values` (the variable's size) to a float32 variable as a new tensor that owns its
 * memory; returns the variable's new data id.
 */
export function writeVariable(v: Variable, values: Float32Array): object {
  const t = tensor(heapBackend() !== undefined ? values : values.slice(), v.shape, 'float32');
  v.assign(t);
  t.dispose();
  return v.dataId;
}
