/**
 * Image metrics (spec section 9, imperceptibility): SSIM, PSNR, L_inf, L2 and semantic similarity.
 *
 * `ssim` matches scikit-image's
 *   structural_similarity(a, b, channel_axis=-1, data_range=1, gaussian_weights=True, sigma=1.5,
 *                         use_sample_covariance=False)
 * skimage filters with scipy's gaussian_filter (truncate 3.5 -> radius 5, an 11-tap kernel) and
 * then crops (win-1)/2 = 5 pixels per border before averaging. Every kept pixel's window lies
 * inside the image, so the 'reflect' boundary never enters the result: a 'valid' filter gives the
 * cropped map exactly. The separable filter is two matMuls with banded matrices, differentiable on
 * every backend (no depthwise-conv gradients needed).
 */
import * as tf from '@tensorflow/tfjs';
import type { ImageEncoder } from '../encoders/encoder.js';
import { cosineRows } from '../core/similarity.js';

export interface SsimOptions {
  sigma?: number;
  /** scipy's truncate: radius = floor(truncate * sigma + 0.5). */
  truncate?: number;
  k1?: number;
  k2?: number;
  dataRange?: number;
}

const DEFAULTS: Required<SsimOptions> = { sigma: 1.5, truncate: 3.5, k1: 0.01, k2: 0.03, dataRange: 1 };

/** scipy.ndimage._gaussian_kernel1d (order 0): normalised exp(-x^2 / (2 sigma^2)), x in [-r, r]. */
export function gaussianKernel1d(sigma: number, truncate: number): Float64Array {
  const radius = Math.floor(truncate * sigma + 0.5);
  const k = new Float64Array(2 * radius + 1);
  let sum = 0;
  for (let x = -radius; x <= radius; x++) {
    const v = Math.exp((-0.5 / (sigma * sigma)) * x * x);
    k[x + radius] = v;
    sum += v;
  }
  for (let i = 0; i < k.length; i++) k[i] = (k[i] as number) / sum;
  return k;
}

/** n x (n - 2r) matrix M with (X M)[., j] = sum_t k[t] X[., j + t] (valid correlation). */
function bandMatrix(n: number, k: Float64Array): tf.Tensor2D {
  const taps = k.length;
  const out = n - taps + 1;
  const m = new Float32Array(n * out);
  for (let j = 0; j < out; j++) for (let t = 0; t < taps; t++) m[(j + t) * out + j] = k[t] as number;
  return tf.tensor2d(m, [n, out]);
}

/**
 * Per-image SSIM of two NHWC batches in [0, dataRange] (N x H x W x C, H and W >= 11 by default).
 * Mean over channels of the mean SSIM map (cropped as skimage does). Differentiable in a and b.
 */
export function ssim(a: tf.Tensor4D, b: tf.Tensor4D, opts: SsimOptions = {}): tf.Tensor1D {
  const o = { ...DEFAULTS, ...opts };
  const [n, h, w, c] = a.shape;
  if (b.shape.some((d, i) => d !== a.shape[i])) {
    throw new Error(`ssim: shapes differ: [${a.shape.join(',')}] vs [${b.shape.join(',')}]`);
  }
  const k = gaussianKernel1d(o.sigma, o.truncate);
  if (h < k.length || w < k.length) {
    throw new Error(`ssim: images of ${h}x${w} are smaller than the ${k.length}x${k.length} window`);
  }
  const c1 = (o.k1 * o.dataRange) ** 2;
  const c2 = (o.k2 * o.dataRange) ** 2;
  return tf.tidy(() => {
    const mw = bandMatrix(w, k);
    const mh = bandMatrix(h, k);
    const ho = h - k.length + 1;
    const wo = w - k.length + 1;
    // [N,H,W,C] -> [N*C, H, W]
    const planes = (t: tf.Tensor4D) => t.transpose([0, 3, 1, 2]).reshape([n * c, h, w]);
    const x = planes(a);
    const y = planes(b);
    const stack = tf.concat([x, y, x.mul(x), y.mul(y), x.mul(y)], 0); // [5NC, H, W]
    const m = 5 * n * c;
    // Filter along W, then along H (each as a matMul after moving the axis last).
    const fw = tf.matMul(stack.reshape([m * h, w]), mw).reshape([m, h, wo]);
    const fh = tf.matMul(fw.transpose([0, 2, 1]).reshape([m * wo, h]), mh).reshape([5, n * c, wo * ho]);
    const [ux, uy, uxx, uyy, uxy] = tf.unstack(fh, 0) as [tf.Tensor2D, tf.Tensor2D, tf.Tensor2D, tf.Tensor2D, tf.Tensor2D];
    // Population covariances (use_sample_covariance=False): cov_norm = 1.
    const uxux = ux.mul(ux);
    const uyuy = uy.mul(uy);
    const uxuy = ux.mul(uy);
    const vx = uxx.sub(uxux);
    const vy = uyy.sub(uyuy);
    const vxy = uxy.sub(uxuy);
    const num = uxuy.mul(2).add(c1).mul(vxy.mul(2).add(c2));
    const den = uxux.add(uyuy).add(c1).mul(vx.add(vy).add(c2));
    const s = num.div(den); // [N*C, Ho*Wo]
    return s.reshape([n, c * ho * wo]).mean(1) as tf.Tensor1D;
  });
}

/**
 * SSIM of two HWC images held as plain arrays (size x size x channels), computed in float64
 * on the host: a reference for `ssim` and a cheap metric for the CLI.
 */
export function ssimArrays(a: ArrayLike<number>, b: ArrayLike<number>, size: number, channels = 3, opts: SsimOptions = {}): number {
  const o = { ...DEFAULTS, ...opts };
  const h = size;
  const w = a.length / (size * channels);
  if (!Number.isInteger(w) || a.length !== b.length) {
    throw new Error(`ssimArrays: lengths ${a.length}/${b.length} do not fit size ${size} x ${channels} channels`);
  }
  const k = gaussianKernel1d(o.sigma, o.truncate);
  const r = (k.length - 1) / 2;
  if (h < k.length || w < k.length) throw new Error(`ssimArrays: ${h}x${w} is smaller than the window`);
  const c1 = (o.k1 * o.dataRange) ** 2;
  const c2 = (o.k2 * o.dataRange) ** 2;
  const ho = h - 2 * r;
  const wo = w - 2 * r;
  const filt = (f: (p: number) => number, ch: number): Float64Array => {
    const tmp = new Float64Array(h * wo);
    for (let i = 0; i < h; i++) {
      for (let j = 0; j < wo; j++) {
        let s = 0;
        for (let t = 0; t < k.length; t++) s += (k[t] as number) * f((i * w + j + t) * channels + ch);
        tmp[i * wo + j] = s;
      }
    }
    const out = new Float64Array(ho * wo);
    for (let i = 0; i < ho; i++) {
      for (let j = 0; j < wo; j++) {
        let s = 0;
        for (let t = 0; t < k.length; t++) s += (k[t] as number) * (tmp[(i + t) * wo + j] as number);
        out[i * wo + j] = s;
      }
    }
    return out;
  };
  let total = 0;
  for (let ch = 0; ch < channels; ch++) {
    const A = (p: number) => a[p] as number;
    const B = (p: number) => b[p] as number;
    const ux = filt(A, ch);
    const uy = filt(B, ch);
    const uxx = filt((p) => A(p) * A(p), ch);
    const uyy = filt((p) => B(p) * B(p), ch);
    const uxy = filt((p) => A(p) * B(p), ch);
    let sum = 0;
    for (let p = 0; p < ux.length; p++) {
      const mx = ux[p] as number;
      const my = uy[p] as number;
      const vx = (uxx[p] as number) - mx * mx;
      const vy = (uyy[p] as number) - my * my;
      const vxy = (uxy[p] as number) - mx * my;
      sum += ((2 * mx * my + c1) * (2 * vxy + c2)) / ((mx * mx + my * my + c1) * (vx + vy + c2));
    }
    total += sum / ux.length;
  }
  return total / channels;
}

function checkSameLength(a: ArrayLike<number>, b: ArrayLike<number>, what: string): void {
  if (a.length !== b.length) throw new Error(`${what}: lengths differ (${a.length} vs ${b.length})`);
  if (a.length === 0) throw new Error(`${what}: empty images`);
}

/** Mean squared error of two equal-length arrays. */
export function mse(a: ArrayLike<number>, b: ArrayLike<number>): number {
  checkSameLength(a, b, 'mse');
  let s = 0;
  for (let i = 0; i < a.length; i++) {
    const d = (a[i] as number) - (b[i] as number);
    s += d * d;
  }
  return s / a.length;
}

/** PSNR in dB for data range `dataRange` (skimage's peak_signal_noise_ratio); Infinity when equal. */
export function psnr(a: ArrayLike<number>, b: ArrayLike<number>, dataRange = 1): number {
  const m = mse(a, b);
  return m === 0 ? Infinity : 10 * Math.log10((dataRange * dataRange) / m);
}

/** Largest absolute pixel difference. */
export function linf(a: ArrayLike<number>, b: ArrayLike<number>): number {
  checkSameLength(a, b, 'linf');
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs((a[i] as number) - (b[i] as number)));
  return m;
}

/** Euclidean norm of the difference (over all pixels and channels). */
export function l2(a: ArrayLike<number>, b: ArrayLike<number>): number {
  checkSameLength(a, b, 'l2');
  let s = 0;
  for (let i = 0; i < a.length; i++) {
    const d = (a[i] as number) - (b[i] as number);
    s += d * d;
  }
  return Math.sqrt(s);
}

/** Per-image cosine similarity of the features of two NHWC batches under `encoder` (the semantic C). */
export function semanticSimilarity(encoder: ImageEncoder, a: tf.Tensor4D, b: tf.Tensor4D): tf.Tensor1D {
  return tf.tidy(() => cosineRows(encoder.encode(a), encoder.encode(b)));
}

export interface ImagePairMetrics {
  ssim: number;
  psnr: number;
  linf: number;
  l2: number;
}

/** All pixel metrics of one HWC pair (size x size x channels). */
export function imagePairMetrics(a: ArrayLike<number>, b: ArrayLike<number>, size: number, channels = 3): ImagePairMetrics {
  return { ssim: ssimArrays(a, b, size, channels), psnr: psnr(a, b), linf: linf(a, b), l2: l2(a, b) };
}
