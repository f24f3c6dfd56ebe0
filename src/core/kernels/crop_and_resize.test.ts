/**
 * CropAndResize (bilinear) on the active path (the addon, or tfjs-wasm's kernel with AUV_NATIVE=0)
 * against a float32 emulation of tfjs-wasm's arithmetic (TensorFlow's formula, one rounding per
 * operation, no fused multiply-add): the same bits, so encoder training gives the same weights
 * on both paths. Also: extrapolation outside the image, flipped boxes, a bad box index.
 */
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initEngine } from '../engine.js';
import { testValues } from './compare.js';
import { nativeAddon, requestedNativeThreads } from './native.js';
import { wasmPathKernelFunc } from './native_kernels.js';

const fr = Math.fround;
const addon = nativeAddon();

/** tfjs-wasm's bilinear crop in float32 arithmetic. */
function reference(img: Float32Array, shape: number[], boxes: number[], boxInd: number[], ch: number, cw: number, extra: number): Float32Array {
  const [, H, W, C] = shape as [number, number, number, number];
  const out = new Float32Array(boxInd.length * ch * cw * C);
  boxInd.forEach((bi, b) => {
    const [y1, x1, y2, x2] = boxes.slice(b * 4, b * 4 + 4).map(fr) as [number, number, number, number];
    const hs = fr(fr(fr(y2 - y1) * (H - 1)) / (ch - 1));
    const ws = fr(fr(fr(x2 - x1) * (W - 1)) / (cw - 1));
    for (let y = 0; y < ch; y++) {
      const iny = fr(fr(y1 * (H - 1)) + fr(y * hs));
      for (let x = 0; x < cw; x++) {
        const inx = fr(fr(x1 * (W - 1)) + fr(x * ws));
        for (let k = 0; k < C; k++) {
          const at = ((b * ch + y) * cw + x) * C + k;
          if (iny < 0 || iny > H - 1 || inx < 0 || inx > W - 1) {
            out[at] = extra;
            continue;
          }
          const [ty, by, lx, rx] = [Math.floor(iny), Math.ceil(iny), Math.floor(inx), Math.ceil(inx)];
          const [yl, xl] = [fr(iny - ty), fr(inx - lx)];
          const px = (yy: number, xx: number) => img[((bi * H + yy) * W + xx) * C + k]!;
          const t = fr(px(ty, lx) + fr(fr(px(ty, rx) - px(ty, lx)) * xl));
          const u = fr(px(by, lx) + fr(fr(px(by, rx) - px(by, lx)) * xl));
          out[at] = fr(t + fr(fr(u - t) * yl));
        }
      }
    }
  });
  return out;
}

describe(`CropAndResize (${addon ? 'addon' : 'wasm kernel'})`, () => {
  beforeAll(async () => {
    await initEngine({ backend: 'wasm' });
  });
  afterAll(() => {
    addon?.setThreads(requestedNativeThreads());
  });

  const shape = [5, 64, 48, 3];
  const img = testValues(5 * 64 * 48 * 3, 9).map((v) => (v + 1) / 2);
  const boxes: number[] = [];
  const s = testValues(40 * 4, 4).map((v) => (v + 1) / 2);
  for (let b = 0; b < 40; b++) {
    const sc = 0.7 + 0.3 * s[b * 4]!;
    const y0 = s[b * 4 + 1]! * (1 - sc), x0 = s[b * 4 + 2]! * (1 - sc);
    boxes.push(...(b % 2 ? [y0, x0 + sc, y0 + sc, x0] : [y0, x0, y0 + sc, x0 + sc]));
  }
  boxes.splice(0, 4, -0.2, 0.1, 1.3, 0.9); // partly outside: extrapolation
  const boxInd = Array.from({ length: 40 }, (_, b) => (b * 3) % 5);

  for (const threads of addon ? [1, 2] : [1]) {
    for (const [ch, cw] of [[64, 48], [17, 33]] as const) {
      it(`crops ${ch}x${cw}: tfjs-wasm's float32 bits, ${threads} thread(s)`, () => {
        addon?.setThreads(threads);
        const got = tf.tidy(() => tf.image.cropAndResize(tf.tensor4d(img, shape as [number, number, number, number]), tf.tensor2d(boxes, [40, 4]), tf.tensor1d(boxInd, 'int32'), [ch, cw], 'bilinear', 0.25).dataSync());
        const want = reference(img, shape, boxes, boxInd, ch, cw, 0.25);
        expect(Buffer.from(got.buffer, got.byteOffset, got.byteLength).equals(Buffer.from(want.buffer))).toBe(true);
      });
    }
  }

  it('the wasm kernel (the fallback) gives the same bits', () => {
    const kernel = wasmPathKernelFunc('CropAndResize')!;
    const be = tf.backend() as unknown as { readSync(id: tf.DataId): Float32Array; disposeData(id: tf.DataId): void };
    const [im, bx, bi] = [tf.tensor4d(img, shape as [number, number, number, number]), tf.tensor2d(boxes, [40, 4]), tf.tensor1d(boxInd, 'int32')];
    const out = kernel({ inputs: { image: im, boxes: bx, boxInd: bi }, backend: tf.backend(), attrs: { cropSize: [17, 33], method: 'bilinear', extrapolationValue: 0.25 } }) as tf.TensorInfo;
    const got = Float32Array.from(be.readSync(out.dataId));
    be.disposeData(out.dataId);
    tf.dispose([im, bx, bi]);
    expect(Array.from(got)).toEqual(Array.from(reference(img, shape, boxes, boxInd, 17, 33, 0.25)));
  });

  // (tfjs-wasm's kernel does not check; the addon does)
  it.skipIf(!addon)('rejects a box index outside the batch', () => {
    expect(() => tf.tidy(() => tf.image.cropAndResize(tf.zeros([2, 8, 8, 3]) as tf.Tensor4D, tf.tensor2d([0, 0, 1, 1], [1, 4]), tf.tensor1d([2], 'int32'), [4, 4]))).toThrow();
  });
});
