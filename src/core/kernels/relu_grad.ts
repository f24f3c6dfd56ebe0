/**
 * ReLU's gradient as one kernel where the native addon runs on wasm ('AuvReluGrad': the addon's
 * binary op 6, dy * step(x)) instead of tfjs' three (Step, Cast, Multiply) and their
 * intermediate tensors: the same values (a product with exactly 1, 0, or NaN where x is NaN, as
 * tfjs' Step gives). Every encoder block runs one per step of a white-box attack. Other backends, and
 * every backend when the addon is off, keep tfjs' gradient.
 */
import * as tf from '@tensorflow/tfjs';
import type { NativeAddon } from './native.js';
import type { WasmBackend } from './wasm_ops.js';

const KERNEL = 'AuvReluGrad';
const RELU_GRAD_OP = 6;
let stock: tf.GradConfig | undefined;

/** Register the kernel and replace Relu's gradient (idempotent). */
export function registerReluGradient(addon: NativeAddon): void {
  if (stock) return;
  const prev = tf.getGradient('Relu');
  if (!prev) throw new Error('tfjs registers no gradient for Relu');
  stock = prev;
  tf.registerKernel({
    kernelName: KERNEL,
    backendName: 'wasm',
    kernelFunc: ({ inputs, backend }) => {
      const be = backend as unknown as WasmBackend;
      const { dy, x } = inputs as { dy: tf.TensorInfo; x: tf.TensorInfo };
      const out = be.makeOutput(x.shape, 'float32');
      const n = tf.util.sizeFromShape(x.shape);
      const f32 = (t: tf.TensorInfo) => be.typedArrayFromHeap(t) as Float32Array;
      addon.binary(RELU_GRAD_OP, f32(dy), f32(x), f32(out), Int32Array.of(1, n, 1, 1));
      return out;
    },
  });
  tf.registerGradient({
    kernelName: 'Relu',
    inputsToSave: ['x'],
    gradFunc: (dy, saved, attrs) => {
      const [x] = saved as [tf.Tensor];
      const d = Array.isArray(dy) ? dy[0]! : dy;
      const fused = tf.getBackend() === 'wasm' && x.dtype === 'float32' && d.dtype === 'float32' && x.size > 0 &&
        tf.util.arraysEqual(x.shape, d.shape);
      if (!fused) return prev.gradFunc(dy, saved, attrs);
      return { x: () => tf.engine().runKernel(KERNEL, { dy: d, x }) as tf.Tensor };
    },
  });
}
