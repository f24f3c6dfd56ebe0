/**
 * The pixel attacks' optimisation step (src/attacks/pixel-optimize.ts: INSA / EXPA's Adam on the
 * pixels, then the L-inf projection): defined here as tfjs ops (`pixelAdamOps`, ~20 element-wise
 * kernels over the batch) and, where the native addon runs on wasm, computed by one fused kernel
 * ('AuvPixelAdam', native/pixel.cc) that does exactly the same float32 operations in the same order
 * (no fused multiply-add): the same bits, one pass instead of ~20 tfjs dispatches and tensors.
 */
import * as tf from '@tensorflow/tfjs';
import { nativeAddon } from './native.js';
import type { Info, WasmBackend } from './wasm_ops.js';

const KERNEL = 'AuvPixelAdam';

/** Adam's constants, the learning rate and the L-inf radius (pixel units). */
export interface PixelAdamConfig {
  lr: number;
  b1: number;
  b2: number;
  epsAdam: number;
  /** L-inf radius around x0. */
  eps: number;
}

/** Project `x` into the L_inf ball of radius eps around x0 and into [0,1]. */
export function projectLinf(x: tf.Tensor, x0: tf.Tensor, eps: number): tf.Tensor {
  return tf.tidy(() => tf.minimum(tf.maximum(x, x0.sub(eps)), x0.add(eps)).clipByValue(0, 1));
}

/**
 * Adam step `step` (1-based) on pixels x with gradient g and moments m, v (null: zeros, the first
 * step), then the projection around x0, as tfjs ops. Returns [x', m', v'] (caller disposes).
 */
export function pixelAdamOps(
  x: tf.Tensor, g: tf.Tensor, m: tf.Tensor | null, v: tf.Tensor | null, x0: tf.Tensor, step: number, c: PixelAdamConfig,
): [tf.Tensor, tf.Tensor, tf.Tensor] {
  return tf.tidy(() => {
    const m2 = (m ?? tf.zerosLike(x0)).mul(c.b1).add(g.mul(1 - c.b1));
    const v2 = (v ?? tf.zerosLike(x0)).mul(c.b2).add(g.square().mul(1 - c.b2));
    const mh = m2.div(1 - c.b1 ** step);
    const vh = v2.div(1 - c.b2 ** step);
    const upd = mh.div(vh.sqrt().add(c.epsAdam)).mul(c.lr);
    return [projectLinf(x.sub(upd), x0, c.eps), m2, v2];
  });
}

/** The numbers the ops multiply, divide and add, in the kernel's order (pixel.cc). */
function scalars(step: number, c: PixelAdamConfig): number[] {
  return [c.b1, 1 - c.b1, c.b2, 1 - c.b2, 1 - c.b1 ** step, 1 - c.b2 ** step, c.epsAdam, c.lr, c.eps];
}

let registered = false;
function register(): void {
  if (registered) return;
  registered = true;
  tf.registerKernel({
    kernelName: KERNEL,
    backendName: 'wasm',
    kernelFunc: ({ inputs, backend, attrs }) => {
      const be = backend as unknown as WasmBackend;
      const { x, g, m, v, x0 } = inputs as Record<string, Info | undefined>;
      const outs = [be.makeOutput(x!.shape, 'float32'), be.makeOutput(x!.shape, 'float32'), be.makeOutput(x!.shape, 'float32')];
      // Views after every allocation (a heap growth detaches older views).
      const h = (t: Info | undefined) => (t ? (be.typedArrayFromHeap(t) as Float32Array) : null);
      // float32 operands as tfjs makes them from the numbers (Float32Array rounds to nearest).
      const sc = Float32Array.from(attrs!.scalars as number[]);
      nativeAddon()!.pixelAdam(h(x)!, h(g)!, h(m), h(v), h(x0)!, h(outs[0])!, h(outs[1])!, h(outs[2])!, sc);
      return outs;
    },
  });
}

/**
 * The step of `pixelAdamOps`, by the fused kernel where the addon runs on the wasm backend
 * (float32 tensors of one shape), else by the ops. Same bits either way; [x', m', v'].
 */
export function pixelAdamStep(
  x: tf.Tensor, g: tf.Tensor, m: tf.Tensor | null, v: tf.Tensor | null, x0: tf.Tensor, step: number, c: PixelAdamConfig,
): [tf.Tensor, tf.Tensor, tf.Tensor] {
  const ts = [x, g, x0, ...(m ? [m] : []), ...(v ? [v] : [])];
  const fused = nativeAddon() !== null && tf.getBackend() === 'wasm' && (m === null) === (v === null) &&
    ts.every((t) => t.dtype === 'float32' && tf.util.arraysEqual(t.shape, x.shape));
  if (!fused) return pixelAdamOps(x, g, m, v, x0, step, c);
  register();
  const inputs: tf.NamedTensorMap = m && v ? { x, g, m, v, x0 } : { x, g, x0 };
  return tf.engine().runKernel(KERNEL, inputs, { scalars: scalars(step, c) }) as [tf.Tensor, tf.Tensor, tf.Tensor];
}
