import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { Rng } from '../core/rng.js';
import { ssim } from '../evaluation/image-metrics.js';
import { bilinearUpsampleMatrix, optimizeSsimConstrained, projectSsimFloor, upsampleGrid } from './ssim-constraint.js';

/** Flat colour blocks with a little texture, like the synthetic garments. */
function images(n: number, size: number, seed: number): tf.Tensor4D {
  const rng = new Rng(seed);
  const a = new Float32Array(n * size * size * 3);
  for (let q = 0; q < n; q++) {
    const base = [rng.next(), rng.next(), rng.next()].map((v) => 0.2 + 0.6 * v);
    for (let i = 0; i < size; i++) {
      for (let j = 0; j < size; j++) {
        for (let c = 0; c < 3; c++) {
          const inside = i > size / 4 && i < (3 * size) / 4 && j > size / 4 && j < (3 * size) / 4;
          a[((q * size + i) * size + j) * 3 + c] = inside ? base[c]! + 0.05 * rng.next() : 0.95;
        }
      }
    }
  }
  return tf.tensor4d(a, [n, size, size, 3]);
}

describe('bilinear upsampling of a coarse perturbation grid', () => {
  it('rows of the interpolation matrix sum to 1 and a constant grid upsamples to the constant', () => {
    const m = bilinearUpsampleMatrix(16, 4);
    for (let i = 0; i < 16; i++) {
      let s = 0;
      for (let g = 0; g < 4; g++) s += m[i * 4 + g]!;
      expect(s).toBeCloseTo(1, 6);
    }
    const up = upsampleGrid(tf.fill([2, 4, 4, 3], 0.3) as tf.Tensor4D, 16);
    expect(up.shape).toEqual([2, 16, 16, 3]);
    const v = up.dataSync();
    for (const x of v) expect(x).toBeCloseTo(0.3, 6);
    up.dispose();
  });

  it('matches a host-side bilinear interpolation per channel and axis', () => {
    const rng = new Rng(5);
    const g = 3;
    const size = 12;
    const w = Float32Array.from({ length: g * g * 3 }, () => rng.next() - 0.5);
    const up = upsampleGrid(tf.tensor4d(w, [1, g, g, 3]), size).dataSync();
    const m = bilinearUpsampleMatrix(size, g);
    for (let i = 0; i < size; i++) {
      for (let j = 0; j < size; j++) {
        for (let c = 0; c < 3; c++) {
          let ref = 0;
          for (let a = 0; a < g; a++) for (let b = 0; b < g; b++) ref += m[i * g + a]! * m[j * g + b]! * w[(a * g + b) * 3 + c]!;
          expect(up[(i * size + j) * 3 + c]).toBeCloseTo(ref, 5);
        }
      }
    }
  });

  it('gradient check: d/dw of an SSIM hinge plus a linear term through the upsampled grid agrees with finite differences', () => {
    const x0 = images(1, 16, 2);
    const w0 = tf.randomUniform([1, 4, 4, 3], -0.05, 0.05, 'float32', 7) as tf.Tensor4D;
    const f = (w: tf.Tensor4D): tf.Scalar =>
      tf.tidy(() => {
        const x = tf.add(x0, upsampleGrid(w, 16)) as tf.Tensor4D;
        return tf.add(tf.relu(tf.sub(0.999, ssim(x, x0, { truncate: 2 }))).sum(), tf.mean(tf.mul(x, 0.3))) as tf.Scalar;
      });
    const g = tf.grad((w: tf.Tensor) => f(w as tf.Tensor4D))(w0).dataSync();
    const base = w0.dataSync();
    const h = 1e-3;
    for (const k of [0, 7, 20, 47]) {
      const plus = Float32Array.from(base);
      const minus = Float32Array.from(base);
      plus[k] = plus[k]! + h;
      minus[k] = minus[k]! - h;
      const fp = f(tf.tensor4d(plus, w0.shape)).dataSync()[0]!;
      const fm = f(tf.tensor4d(minus, w0.shape)).dataSync()[0]!;
      expect(g[k]!).toBeCloseTo((fp - fm) / (2 * h), 2);
    }
    tf.dispose([x0, w0]);
  });
});

describe('SSIM floor', () => {
  it('projection keeps images above the floor untouched and pulls the others exactly onto it', async () => {
    const x0 = images(3, 24, 1);
    const noise = tf.randomUniform(x0.shape, -1, 1, 'float32', 3);
    // image 0: tiny change (above the floor); images 1-2: heavy noise (far below)
    const amp = tf.tensor4d([0.002, 0.3, 0.5], [3, 1, 1, 1]);
    const x = tf.clipByValue(tf.add(x0, tf.mul(noise, amp)), 0, 1) as tf.Tensor4D;
    const before = ssim(x, x0).dataSync();
    expect(before[0]!).toBeGreaterThan(0.9);
    expect(before[1]!).toBeLessThan(0.8);
    const { x: p, scale } = await projectSsimFloor(x, x0, 0.9, 14);
    const after = ssim(p, x0).dataSync();
    expect(scale[0]).toBe(1);
    for (const q of [1, 2]) {
      expect(scale[q]!).toBeLessThan(1);
      expect(after[q]!).toBeGreaterThanOrEqual(0.9);
      expect(after[q]!).toBeLessThan(0.905);
    }
    tf.dispose([x0, noise, amp, x, p]);
  });

  it('the constrained optimiser raises its objective and every output meets the floor (full resolution and grid)', async () => {
    const x0 = images(2, 24, 4);
    // objective: mean of the red channel minus the blue one (per image)
    const objective = (x: tf.Tensor4D): tf.Tensor1D =>
      tf.tidy(() => tf.sub(tf.slice(x, [0, 0, 0, 0], [-1, -1, -1, 1]), tf.slice(x, [0, 0, 0, 2], [-1, -1, -1, 1])).mean([1, 2, 3]) as tf.Tensor1D);
    const clean = objective(x0).dataSync();
    for (const grid of [24, 4]) {
      const adv = await optimizeSsimConstrained(x0, objective, { floor: 0.85, steps: 12, lr: 0.05, grid });
      const s = ssim(adv, x0).dataSync();
      const obj = objective(adv).dataSync();
      for (let q = 0; q < 2; q++) {
        expect(s[q]!).toBeGreaterThanOrEqual(0.85);
        expect(obj[q]!).toBeGreaterThan(clean[q]! + 0.01);
      }
      const range = tf.tidy(() => [tf.min(adv).dataSync()[0]!, tf.max(adv).dataSync()[0]!]);
      expect(range[0]).toBeGreaterThanOrEqual(0);
      expect(range[1]).toBeLessThanOrEqual(1);
      adv.dispose();
    }
    x0.dispose();
  });
});
