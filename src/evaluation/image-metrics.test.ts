import { readFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import type { ImageEncoder } from '../encoders/encoder.js';
import { Rng } from '../core/rng.js';
import { gaussianKernel1d, l2, linf, psnr, semanticSimilarity, ssim, ssimArrays } from './image-metrics.js';

interface Case { name: string; h: number; w: number; c: number; a: string; b: string; ssim: number; psnr: number }
const golden = JSON.parse(readFileSync(new URL('./__fixtures__/ssim_golden.json', import.meta.url), 'utf8')) as { cases: Case[] };
const decode = (b64: string) => Float32Array.from(Buffer.from(b64, 'base64'), (v) => v / 255);

describe('gaussianKernel1d', () => {
  it('has 11 taps for sigma 1.5, truncate 3.5, sums to 1 and is symmetric', () => {
    const k = gaussianKernel1d(1.5, 3.5);
    expect(k.length).toBe(11);
    expect(k.reduce((s, v) => s + v, 0)).toBeCloseTo(1, 12);
    expect(k[0]).toBeCloseTo(k[10] as number, 15);
    expect(k[5]).toBeGreaterThan(k[4] as number);
  });
});

describe('ssim against scikit-image golden values', () => {
  it(`covers ${golden.cases.length} pairs (random, structured, 1 and 3 channels, 16-64 px)`, () => {
    expect(golden.cases.length).toBeGreaterThanOrEqual(10);
  });
  for (const c of golden.cases) {
    it(`${c.name}: tensor ssim, array ssim and psnr match to 1e-4`, () => {
      const a = decode(c.a);
      const b = decode(c.b);
      const s = tf.tidy(() => ssim(tf.tensor4d(a, [1, c.h, c.w, c.c]), tf.tensor4d(b, [1, c.h, c.w, c.c])).dataSync()[0] as number);
      expect(Math.abs(s - c.ssim)).toBeLessThan(1e-4);
      expect(Math.abs(ssimArrays(a, b, c.h, c.c) - c.ssim)).toBeLessThan(1e-6);
      expect(Math.abs(psnr(a, b) - c.psnr)).toBeLessThan(1e-4);
    });
  }
  it('computes per-image values for a batch', () => {
    const cs = golden.cases.filter((c) => c.h === 32 && c.c === 3);
    const A = tf.tensor4d(Float32Array.from(cs.flatMap((c) => [...decode(c.a)])), [cs.length, 32, 32, 3]);
    const B = tf.tensor4d(Float32Array.from(cs.flatMap((c) => [...decode(c.b)])), [cs.length, 32, 32, 3]);
    const s = ssim(A, B);
    const v = s.dataSync();
    cs.forEach((c, i) => expect(Math.abs((v[i] as number) - c.ssim)).toBeLessThan(1e-4));
    tf.dispose([A, B, s]);
  });
});

describe('ssim hand-checkable cases and gradients', () => {
  const rng = new Rng(3);
  it('is 1 for identical images and below 1 otherwise', () => {
    const a = rng.uniformArray(20 * 20 * 3);
    expect(ssimArrays(a, a, 20)).toBeCloseTo(1, 10);
    const t = tf.tensor4d(a, [1, 20, 20, 3]);
    const s = ssim(t, t);
    expect(s.dataSync()[0]).toBeCloseTo(1, 5);
    const b = Float32Array.from(a, (v) => v * 0.5);
    expect(ssimArrays(a, b, 20)).toBeLessThan(0.99);
    tf.dispose([t, s]);
  });
  it('is differentiable: the gradient matches finite differences and ascent raises SSIM', () => {
    const a = tf.tensor4d(Float32Array.from({ length: 16 * 16 * 3 }, (_, i) => 0.5 + 0.3 * Math.sin(i / 7)), [1, 16, 16, 3]);
    let x = tf.tidy(() => a.add(tf.tensor4d(rng.uniformArray(16 * 16 * 3, -0.2, 0.2), [1, 16, 16, 3])).clipByValue(0, 1)) as tf.Tensor4D;
    const f = (xi: tf.Tensor) => ssim(a, xi as tf.Tensor4D).sum();
    const g = tf.grad(f);
    // Finite difference at one interior pixel.
    const idx = (8 * 16 + 8) * 3 + 1;
    const gr0 = g(x);
    const h = 1e-2;
    const bump = tf.tensor4d(Float32Array.from({ length: 16 * 16 * 3 }, (_, i) => (i === idx ? h : 0)), [1, 16, 16, 3]);
    const fd = tf.tidy(() => ((f(x.add(bump)).dataSync()[0] as number) - (f(x.sub(bump)).dataSync()[0] as number)) / (2 * h));
    expect(Math.abs((gr0.dataSync()[idx] as number) - fd)).toBeLessThan(0.05 * Math.abs(fd) + 1e-4);
    const s0 = f(x).dataSync()[0] as number;
    for (let i = 0; i < 20; i++) {
      const gr = g(x);
      const nx = tf.tidy(() => x.add(gr.sign().mul(0.005)));
      tf.dispose([x, gr]);
      x = nx as tf.Tensor4D;
    }
    expect(f(x).dataSync()[0] as number).toBeGreaterThan(s0 + 0.05);
    tf.dispose([a, x, gr0, bump]);
  });
  it('does not leak tensors', () => {
    const a = tf.tensor4d(rng.uniformArray(2 * 16 * 16 * 3), [2, 16, 16, 3]);
    const b = tf.tensor4d(rng.uniformArray(2 * 16 * 16 * 3), [2, 16, 16, 3]);
    const n0 = tf.memory().numTensors;
    for (let i = 0; i < 5; i++) ssim(a, b).dispose();
    expect(tf.memory().numTensors).toBe(n0);
    tf.dispose([a, b]);
  });
  it('rejects images smaller than the window and mismatched shapes', () => {
    const a = tf.zeros([1, 8, 8, 3]) as tf.Tensor4D;
    const b = tf.zeros([1, 16, 16, 3]) as tf.Tensor4D;
    expect(() => ssim(a, a)).toThrow(/smaller/);
    expect(() => ssim(a, b)).toThrow(/shapes differ/);
    tf.dispose([a, b]);
  });
});

describe('psnr, linf, l2', () => {
  it('PSNR of a known MSE: constant offset 0.1 gives 20 dB', () => {
    const a = new Float32Array(300).fill(0.5);
    const b = new Float32Array(300).fill(0.6);
    expect(psnr(a, b)).toBeCloseTo(20, 4);
    expect(psnr(a, a)).toBe(Infinity);
    expect(linf(a, b)).toBeCloseTo(0.1, 6);
    expect(l2(a, b)).toBeCloseTo(Math.sqrt(300 * 0.01), 4);
  });
  it('linf picks the largest difference and l2 is the Euclidean norm', () => {
    expect(linf([0, 0, 0], [0.1, -0.3, 0.2])).toBeCloseTo(0.3, 12);
    expect(l2([0, 0], [0.3, 0.4])).toBeCloseTo(0.5, 12);
    expect(() => l2([0], [0, 1])).toThrow(/lengths differ/);
  });
});

describe('semanticSimilarity', () => {
  it('is the cosine of encoder features: 1 for the same image, lower for a different one', () => {
    const rng = new Rng(5);
    const W = tf.tensor2d(rng.normalArray(12 * 12 * 3 * 8), [12 * 12 * 3, 8]);
    const enc: ImageEncoder = {
      description: { kind: 'linear', inputSize: 12, featureDim: 8, pixelRange: [0, 1], normalization: { mean: [0, 0, 0], std: [1, 1, 1] } },
      encode: (x) => x.reshape([x.shape[0], -1]).matMul(W) as tf.Tensor2D,
      trainableVariables: () => [],
      dispose: () => W.dispose(),
    };
    const a = tf.tensor4d(rng.uniformArray(2 * 12 * 12 * 3), [2, 12, 12, 3]);
    const b = tf.tensor4d(rng.uniformArray(2 * 12 * 12 * 3), [2, 12, 12, 3]);
    const same = semanticSimilarity(enc, a, a).dataSync();
    const diff = semanticSimilarity(enc, a, b).dataSync();
    expect(same[0]).toBeCloseTo(1, 5);
    expect(same[1]).toBeCloseTo(1, 5);
    expect(diff[0] as number).toBeLessThan(0.999);
    tf.dispose([a, b]);
    enc.dispose();
  });
});
