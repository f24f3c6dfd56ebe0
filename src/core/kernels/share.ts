/**
 * Copy-free wasm kernels for the three ops that only relabel their input: Identity, Cast to the
 * input's own dtype, and Transpose whose permutation moves no element (only size-1 axes move,
 * e.g. the [0, 1] transposes in tf.gather's gradient). The output shares the input's data
 * (one more backend reference), as the cpu backend's Identity and Cast and the wasm backend's own
 * Reshape do; the stock wasm kernels copy. tfjs tensors are immutable (a Variable's assign swaps
 * its data and never writes into it; every kernel writes only its own outputs), so sharing is
 * safe. tfjs calls Identity for every tensor it keeps for a gradient (Engine.clone in
 * saveTensorsForBackwardMode: ~130 whole-table copies per VBPR step), Cast to float32 in the
 * gradients of Square, Multiply and others, and Transpose twice in every gather gradient.
 * Anything else falls back to the kernel registered before.
 */
import * as tf from '@tensorflow/tfjs';
import type { Info, WasmBackend } from './wasm_ops.js';

type Attrs = Record<string, unknown>;
/** Returns the shared output, or null to hand the call to the previous kernel. */
type ShareFunc = (be: WasmBackend, x: Info, attrs: Attrs) => Info | null;

function share(be: WasmBackend, x: Info, shape: number[]): Info {
  be.incRef(x.dataId);
  return { dataId: x.dataId, shape, dtype: x.dtype };
}

/** True when transposing `shape` by `perm` keeps every element where it is (row-major). */
export function isNoOpPermutation(shape: readonly number[], perm: readonly number[]): boolean {
  let last = -1;
  for (const p of perm) {
    if (shape[p] === 1) continue;
    if (p < last) return false;
    last = p;
  }
  return true;
}

const SHARED: Record<string, ShareFunc> = {
  Identity: (be, x) => (x.dtype === 'string' ? null : share(be, x, [...x.shape])),
  Cast: (be, x, attrs) => (x.dtype !== 'string' && attrs.dtype === x.dtype ? share(be, x, [...x.shape]) : null),
  Transpose: (be, x, attrs) => {
    const perm = attrs.perm as number[];
    if (x.dtype === 'string' || perm.length !== x.shape.length || !isNoOpPermutation(x.shape, perm)) return null;
    return share(be, x, perm.map((p) => x.shape[p]!));
  },
};

type ShareKernelConfig = tf.KernelConfig & { auvShared: true };

/**
 * Replace Identity, Cast and Transpose on wasm by their sharing versions, keeping the registered
 * kernels (and their setup) as the fallback. Call before the wasm backend initialises.
 */
export function registerSharingKernels(): void {
  for (const [name, fast] of Object.entries(SHARED)) {
    const prev = tf.getKernel(name, 'wasm') as (tf.KernelConfig & Partial<ShareKernelConfig>) | undefined;
    if (!prev) throw new Error(`wasm kernel ${name} is not registered`);
    if (prev.auvShared) continue;
    const cfg: ShareKernelConfig = {
      kernelName: name,
      backendName: 'wasm',
      setupFunc: prev.setupFunc,
      disposeFunc: prev.disposeFunc,
      kernelFunc: (args) => fast(args.backend as unknown as WasmBackend, (args.inputs as Record<string, Info>).x!, args.attrs as Attrs) ?? prev.kernelFunc(args),
      auvShared: true,
    };
    tf.unregisterKernel(name, 'wasm');
    tf.registerKernel(cfg);
  }
}
