/**
 * Input-transformation defences (spec section 10): JPEG re-compression, bit-depth reduction,
 * Gaussian blur and median-filter denoising. Each maps [0,1] images to [0,1] images of the same
 * size; `applyDefence` works on HWC Float32Arrays and `applyDefenceTensor` on NHWC batches.
 * (AMR adversarial training lives with the victims; the detector in src/evaluation/detector.ts.)
 */
import * as tf from '@tensorflow/tfjs';
import sharp from 'sharp';
import { z } from 'zod';
import { ConfigError } from '../core/errors.js';

export type DefenceName = 'none' | 'jpeg' | 'bit-depth' | 'gaussian-blur' | 'median';
export const DEFENCES: readonly DefenceName[] = ['none', 'jpeg', 'bit-depth', 'gaussian-blur', 'median'];

const schemas = {
  none: z.object({}),
  jpeg: z.object({ quality: z.number().int().min(1).max(100).default(75) }),
  'bit-depth': z.object({ bits: z.number().int().min(1).max(8).default(4) }),
  'gaussian-blur': z.object({ sigma: z.number().positive().max(10).default(1) }),
  median: z.object({ size: z.number().int().min(3).max(9).refine((v) => v % 2 === 1, 'must be odd').default(3) }),
} as const;

/** Validate defence parameters; a ConfigError names the defence, the parameter and the rule. */
export function defenceParams(name: string, params: Record<string, unknown> = {}): Record<string, number> {
  if (!(DEFENCES as readonly string[]).includes(name)) {
    throw new ConfigError(`unknown defence '${name}': allowed values are ${DEFENCES.join(', ')}`);
  }
  const schema = schemas[name as DefenceName].strict();
  const r = schema.safeParse(params);
  if (!r.success) {
    const i = r.error.issues[0]!;
    const key = i.path.join('.') || ((i as { keys?: string[] }).keys ?? []).join(', ');
    throw new ConfigError(`defence '${name}': parameter '${key}': ${i.message}`);
  }
  return r.data as Record<string, number>;
}

function toBytes(img: Float32Array): Uint8Array {
  const b = new Uint8Array(img.length);
  for (let i = 0; i < img.length; i++) b[i] = Math.round(Math.min(1, Math.max(0, img[i] as number)) * 255);
  return b;
}

/** JPEG encode at `quality` and decode again (sharp / libjpeg, 4:2:0 chroma subsampling). */
export async function jpegRecompress(img: Float32Array, size: number, quality: number): Promise<Float32Array> {
  const jpeg = await sharp(Buffer.from(toBytes(img)), { raw: { width: size, height: size, channels: 3 } })
    .jpeg({ quality })
    .toBuffer();
  const { data, info } = await sharp(jpeg).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  if (info.width !== size || info.height !== size || info.channels !== 3) {
    throw new Error(`jpeg defence: decoded ${info.width}x${info.height}x${info.channels}, expected ${size}x${size}x3`);
  }
  const out = new Float32Array(data.length);
  for (let i = 0; i < data.length; i++) out[i] = (data[i] as number) / 255;
  return out;
}

/** Quantise every channel to 2^bits levels (feature squeezing): round(x (2^b - 1)) / (2^b - 1). */
export function bitDepthReduce(img: Float32Array, bits: number): Float32Array {
  const levels = 2 ** bits - 1;
  const out = new Float32Array(img.length);
  for (let i = 0; i < img.length; i++) out[i] = Math.round(Math.min(1, Math.max(0, img[i] as number)) * levels) / levels;
  return out;
}

/** Index reflection at the border (scipy 'reflect': d c b a | a b c d). */
function reflect(i: number, n: number): number {
  let k = i;
  while (k < 0 || k >= n) k = k < 0 ? -k - 1 : 2 * n - k - 1;
  return k;
}

/** Separable Gaussian blur (truncate 3.5 sigma like scipy), reflected borders, per channel. */
export function gaussianBlur(img: Float32Array, size: number, sigma: number): Float32Array {
  const r = Math.max(1, Math.floor(3.5 * sigma + 0.5));
  const k = new Float64Array(2 * r + 1);
  let s = 0;
  for (let t = -r; t <= r; t++) s += k[t + r] = Math.exp(-(t * t) / (2 * sigma * sigma));
  for (let t = 0; t < k.length; t++) k[t] = (k[t] as number) / s;
  const w = img.length / (size * 3);
  const tmp = new Float64Array(img.length);
  const out = new Float32Array(img.length);
  for (let y = 0; y < size; y++)
    for (let x = 0; x < w; x++)
      for (let c = 0; c < 3; c++) {
        let acc = 0;
        for (let t = -r; t <= r; t++) acc += (k[t + r] as number) * (img[(y * w + reflect(x + t, w)) * 3 + c] as number);
        tmp[(y * w + x) * 3 + c] = acc;
      }
  for (let y = 0; y < size; y++)
    for (let x = 0; x < w; x++)
      for (let c = 0; c < 3; c++) {
        let acc = 0;
        for (let t = -r; t <= r; t++) acc += (k[t + r] as number) * (tmp[(reflect(y + t, size) * w + x) * 3 + c] as number);
        out[(y * w + x) * 3 + c] = acc;
      }
  return out;
}

/** Median filter over a `win` x `win` window per channel, reflected borders. */
export function medianFilter(img: Float32Array, size: number, win: number): Float32Array {
  const r = (win - 1) / 2;
  const w = img.length / (size * 3);
  const out = new Float32Array(img.length);
  const buf = new Float32Array(win * win);
  for (let y = 0; y < size; y++)
    for (let x = 0; x < w; x++)
      for (let c = 0; c < 3; c++) {
        let n = 0;
        for (let dy = -r; dy <= r; dy++)
          for (let dx = -r; dx <= r; dx++) buf[n++] = img[(reflect(y + dy, size) * w + reflect(x + dx, w)) * 3 + c] as number;
        buf.sort();
        out[(y * w + x) * 3 + c] = buf[(n - 1) / 2] as number;
      }
  return out;
}

/** Apply defence `name` to each HWC image (size x size x 3, values in [0,1]). */
export async function applyDefence(name: string, params: Record<string, unknown>, images: readonly Float32Array[], size: number): Promise<Float32Array[]> {
  const p = defenceParams(name, params);
  for (const img of images) {
    if (img.length !== size * size * 3) throw new ConfigError(`defence '${name}': image of ${img.length} values is not ${size}x${size}x3`);
  }
  const out: Float32Array[] = [];
  for (const img of images) {
    switch (name as DefenceName) {
      case 'none':
        out.push(Float32Array.from(img));
        break;
      case 'jpeg':
        out.push(await jpegRecompress(img, size, p.quality as number));
        break;
      case 'bit-depth':
        out.push(bitDepthReduce(img, p.bits as number));
        break;
      case 'gaussian-blur':
        out.push(gaussianBlur(img, size, p.sigma as number));
        break;
      case 'median':
        out.push(medianFilter(img, size, p.size as number));
        break;
    }
  }
  return out;
}

/** Apply defence `name` to an NHWC batch (square images); returns a new tensor. */
export async function applyDefenceTensor(name: string, params: Record<string, unknown>, images: tf.Tensor4D): Promise<tf.Tensor4D> {
  const [n, h, w, c] = images.shape;
  if (h !== w || c !== 3) throw new ConfigError(`defence '${name}': expected square RGB images, got ${h}x${w}x${c}`);
  const data = await images.data();
  const per = h * w * 3;
  const list = Array.from({ length: n }, (_, i) => (data as Float32Array).subarray(i * per, (i + 1) * per));
  const out = await applyDefence(name, params, list, h);
  const buf = new Float32Array(n * per);
  out.forEach((img, i) => buf.set(img, i * per));
  return tf.tensor4d(buf, [n, h, w, 3]);
}
