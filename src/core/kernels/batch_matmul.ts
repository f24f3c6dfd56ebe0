/**
 * Fast transposed matMul on wasm: tfjs' BatchMatMul/_FusedMatMul with transposeA/transposeB are
 * 10-37x slower than transposing explicitly and running the plain kernel (engine-notes), so the
 * registered kernels are replaced by wrappers that do exactly that.
 */
import * as tf from '@tensorflow/tfjs';
import { free, transpose, type Info, type WasmBackend } from './wasm_ops.js';

function swapLast(backend: WasmBackend, t: Info): Info {
  const r = t.shape.length;
  const perm = [...Array(r).keys()];
  perm[r - 2] = r - 1;
  perm[r - 1] = r - 2;
  return transpose(backend, t, perm);
}

/** Wrap a matMul kernel so that it only ever sees transposeA = transposeB = false. */
function untransposed(orig: tf.KernelFunc): tf.KernelFunc {
  return ({ inputs, backend, attrs }) => {
    const a0 = attrs as { transposeA?: boolean; transposeB?: boolean };
    if (!a0.transposeA && !a0.transposeB) return orig({ inputs, backend, attrs });
    const be = backend as unknown as WasmBackend;
    const a = a0.transposeA ? swapLast(be, inputs.a as Info) : (inputs.a as Info);
    const b = a0.transposeB ? swapLast(be, inputs.b as Info) : (inputs.b as Info);
    try {
      return orig({
        inputs: { ...inputs, a, b },
        backend,
        attrs: { ...attrs, transposeA: false, transposeB: false },
      });
    } finally {
      if (a0.transposeA) free(be, a);
      if (a0.transposeB) free(be, b);
    }
  };
}

/** Replace the registered wasm kernel `name` with the explicit-transpose wrapper (once). */
export function overrideMatMulKernel(name: 'BatchMatMul' | '_FusedMatMul'): void {
  const orig = tf.getKernel(name, 'wasm');
  if (!orig) throw new Error(`wasm kernel ${name} is not registered`);
  if ((orig as { auvWrapped?: boolean }).auvWrapped) return;
  tf.unregisterKernel(name, 'wasm');
  const cfg: tf.KernelConfig & { auvWrapped: boolean } = {
    kernelName: name,
    backendName: 'wasm',
    // The original setup binds the wasm function that the original kernelFunc calls.
    setupFunc: orig.setupFunc,
    disposeFunc: orig.disposeFunc,
    kernelFunc: untransposed(orig.kernelFunc),
    auvWrapped: true,
  };
  tf.registerKernel(cfg);
}
