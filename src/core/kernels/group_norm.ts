/**
 * GroupNorm (Wu & He 2018) over NHWC with affine parameters, optionally followed by SiLU, as one
 * op. With the native addon on wasm it is one kernel ('AuvGroupNorm') and one gradient kernel
 * ('AuvGroupNormGrad', all three gradients at once), each two to four passes over the tensor; elsewhere (cpu backend, wasm
 * without the addon) it is the composite of tfjs ops (moments, normalise, affine, x*sigmoid(x)),
 * about thirty passes forward and backward. Both compute the same function to float rounding.
 */
import * as tf from '@tensorflow/tfjs';
import { nativeAddon, type NativeAddon } from './native.js';
import type { Info, WasmBackend } from './wasm_ops.js';

const KERNEL = 'AuvGroupNorm';
const GRAD = 'AuvGroupNormGrad';

interface GnAttrs {
  groups: number;
  eps: number;
  silu: boolean;
}

export interface GroupNormOptions {
  /** Added to the variance (default 1e-5). */
  eps?: number;
  /** Apply SiLU (x * sigmoid(x)) to the result (default false). */
  silu?: boolean;
}

function params(x: Info, a: GnAttrs): Int32Array {
  const [n, h, w, c] = x.shape;
  return Int32Array.from([n, h * w, c, a.groups, a.silu ? 1 : 0]);
}

const f32 = (be: WasmBackend, t: Info) => be.typedArrayFromHeap(t) as Float32Array;

function kernels(addon: NativeAddon): tf.KernelConfig[] {
  return [
    {
      kernelName: KERNEL,
      backendName: 'wasm',
      kernelFunc: ({ inputs, backend, attrs }) => {
        const be = backend as unknown as WasmBackend;
        const { x, gamma, beta } = inputs as Record<string, Info>;
        const a = attrs as unknown as GnAttrs;
        const y = be.makeOutput(x.shape, 'float32');
        addon.groupNorm(f32(be, x), f32(be, gamma), f32(be, beta), f32(be, y), params(x, a), a.eps);
        return y;
      },
    },
    {
      kernelName: GRAD,
      backendName: 'wasm',
      kernelFunc: ({ inputs, backend, attrs }) => {
        const be = backend as unknown as WasmBackend;
        const { dy, x, gamma, beta } = inputs as Record<string, Info>;
        const a = attrs as unknown as GnAttrs;
        const outs = [be.makeOutput(x.shape, 'float32'), be.makeOutput(gamma.shape, 'float32'), be.makeOutput(beta.shape, 'float32')];
        addon.groupNormGrad(f32(be, dy), f32(be, x), f32(be, gamma), f32(be, beta), ...outs.map((o) => f32(be, o)) as [Float32Array, Float32Array, Float32Array], params(x, a), a.eps);
        return outs;
      },
    },
  ];
}

let registered = false;
function register(addon: NativeAddon): void {
  if (registered) return;
  registered = true;
  for (const k of kernels(addon)) if (!tf.getKernel(k.kernelName, 'wasm')) tf.registerKernel(k);
}

/**
 * The fused op with its gradient. tf.customGrad, not tf.registerGradient: its gradient function
 * returns all three gradients from one kernel call (per-input gradient closures would each run
 * inside their own tidy, which disposes the other two).
 */
function fusedOp(attrs: GnAttrs) {
  const a = attrs as unknown as tf.NamedAttrMap;
  return tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [x, gamma, beta] = args as tf.Tensor[];
    (args[3] as tf.GradSaveFunc)([x, gamma, beta]);
    return {
      value: tf.engine().runKernel(KERNEL, { x, gamma, beta }, a) as tf.Tensor,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) =>
        tf.engine().runKernel(GRAD, { dy, x: saved[0], gamma: saved[1], beta: saved[2] }, a) as tf.Tensor[],
    };
  });
}

/** The fused kernel runs here (wasm backend with the addon loaded). */
export function fusedGroupNormActive(): boolean {
  return tf.getBackend() === 'wasm' && nativeAddon() !== null;
}

/** The composite tfjs-ops form (the reference, and the path without the addon). */
export function groupNormComposite(x: tf.Tensor4D, gamma: tf.Tensor1D, beta: tf.Tensor1D, groups: number, opts: GroupNormOptions = {}): tf.Tensor4D {
  return tf.tidy(() => {
    const [n, h, w, c] = x.shape;
    const xr = tf.reshape(x, [n, h * w, groups, c / groups]);
    const { mean, variance } = tf.moments(xr, [1, 3], true);
    const xn = tf.mul(tf.sub(xr, mean), tf.rsqrt(tf.add(variance, opts.eps ?? 1e-5)));
    const y = tf.add(tf.mul(tf.reshape(xn, [n, h, w, c]), gamma), beta);
    return (opts.silu ? tf.mul(y, tf.sigmoid(y)) : y) as tf.Tensor4D;
  });
}

/** y = GroupNorm(x) * gamma + beta over `groups` channel groups, then SiLU if opts.silu. */
export function groupNorm(x: tf.Tensor4D, gamma: tf.Tensor1D, beta: tf.Tensor1D, groups: number, opts: GroupNormOptions = {}): tf.Tensor4D {
  const c = x.shape[3];
  if (!Number.isInteger(groups) || groups < 1 || c % groups !== 0) throw new Error(`groupNorm: ${c} channels are not divisible into ${groups} groups`);
  if (gamma.size !== c || beta.size !== c) throw new Error(`groupNorm: gamma and beta need ${c} values, got ${gamma.size} and ${beta.size}`);
  const addon = nativeAddon();
  if (!addon || tf.getBackend() !== 'wasm' || x.dtype !== 'float32' || x.size === 0) return groupNormComposite(x, gamma, beta, groups, opts);
  register(addon);
  const attrs: GnAttrs = { groups, eps: opts.eps ?? 1e-5, silu: opts.silu === true };
  return fusedOp(attrs)(x, gamma, beta) as tf.Tensor4D;
}
