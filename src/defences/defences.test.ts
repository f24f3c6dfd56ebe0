import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../core/errors.js';
import { Rng } from '../core/rng.js';
import { applyDefence, applyDefenceTensor, bitDepthReduce, gaussianBlur, medianFilter } from './index.js';

const size = 16;
const rng = new Rng(11);
const smooth = Float32Array.from({ length: size * size * 3 }, (_, i) => {
  const p = Math.floor(i / 3);
  return 0.5 + 0.3 * Math.sin((p % size) / 3) * Math.cos(Math.floor(p / size) / 4);
});
const noisy = Float32Array.from(smooth, (v) => Math.min(1, Math.max(0, v + rng.uniform(-0.1, 0.1))));
const dist = (a: Float32Array, b: Float32Array) => Math.sqrt(a.reduce((s, v, i) => s + (v - (b[i] as number)) ** 2, 0));

describe('defences', () => {
  it('bit-depth reduction quantises to 2^bits levels', () => {
    const out = bitDepthReduce(Float32Array.of(0, 0.2, 0.49, 0.51, 1), 1);
    expect([...out]).toEqual([0, 0, 0, 1, 1]);
    const levels = new Set(bitDepthReduce(noisy, 3));
    expect(levels.size).toBeLessThanOrEqual(8);
  });
  it('median filter removes an isolated spike and keeps a constant image', () => {
    const flat = new Float32Array(size * size * 3).fill(0.4);
    const spike = Float32Array.from(flat);
    spike[(5 * size + 5) * 3] = 1;
    const out = medianFilter(spike, size, 3);
    expect(out[(5 * size + 5) * 3]).toBeCloseTo(0.4, 6);
    expect(medianFilter(flat, size, 5).every((v) => Math.abs(v - 0.4) < 1e-6)).toBe(true);
  });
  it('Gaussian blur preserves constants and the mean, and denoises', () => {
    const flat = new Float32Array(size * size * 3).fill(0.7);
    expect(gaussianBlur(flat, size, 1.5).every((v) => Math.abs(v - 0.7) < 1e-5)).toBe(true);
    const b = gaussianBlur(noisy, size, 1);
    expect(dist(b, smooth)).toBeLessThan(dist(noisy, smooth));
  });
  it('JPEG re-compression round-trips near the input and is lossy at low quality', async () => {
    const [q95] = await applyDefence('jpeg', { quality: 95 }, [smooth], size);
    const [q10] = await applyDefence('jpeg', { quality: 10 }, [noisy], size);
    expect(q95!.length).toBe(smooth.length);
    expect(dist(q95!, smooth) / Math.sqrt(smooth.length)).toBeLessThan(0.03);
    expect(dist(q10!, noisy)).toBeGreaterThan(dist(q95!, smooth));
  });
  it('every defence keeps images in [0,1] with the same shape (arrays and tensors)', async () => {
    for (const [name, params] of [['none', {}], ['jpeg', { quality: 50 }], ['bit-depth', { bits: 2 }], ['gaussian-blur', { sigma: 2 }], ['median', { size: 5 }]] as const) {
      const out = await applyDefence(name, params, [noisy, smooth], size);
      expect(out.length).toBe(2);
      for (const img of out) {
        expect(img.length).toBe(size * size * 3);
        expect(img.every((v) => v >= 0 && v <= 1)).toBe(true);
      }
      const t = tf.tensor4d(Float32Array.from([...noisy, ...smooth]), [2, size, size, 3]);
      const o = await applyDefenceTensor(name, params, t);
      expect(o.shape).toEqual([2, size, size, 3]);
      expect(Array.from(o.dataSync().subarray(size * size * 3))).toEqual(Array.from(out[1]!));
      tf.dispose([t, o]);
    }
  });
  it('rejects unknown defences and bad parameters with a ConfigError naming them', async () => {
    await expect(applyDefence('sharpen', {}, [smooth], size)).rejects.toThrow(/unknown defence 'sharpen'.*jpeg/);
    await expect(applyDefence('jpeg', { quality: 0 }, [smooth], size)).rejects.toThrow(ConfigError);
    await expect(applyDefence('median', { size: 4 }, [smooth], size)).rejects.toThrow(/'size'.*odd/);
    await expect(applyDefence('bit-depth', { levels: 2 }, [smooth], size)).rejects.toThrow(/levels/);
  });
});
