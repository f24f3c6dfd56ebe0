import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { Rng } from '../core/rng.js';
import type { ImageEncoder } from '../encoders/encoder.js';
import { evaluateDetector, rocAuc, trainLogisticRegression } from './detector.js';

describe('rocAuc', () => {
  it('is 1 for perfect separation, 0 for inverted and 0.5 for all ties', () => {
    expect(rocAuc([0.1, 0.2, 0.8, 0.9], [0, 0, 1, 1])).toBe(1);
    expect(rocAuc([0.9, 0.8, 0.2, 0.1], [0, 0, 1, 1])).toBe(0);
    expect(rocAuc([0.5, 0.5, 0.5, 0.5], [0, 1, 0, 1])).toBe(0.5);
  });
  it('matches a hand count with ties (pairs: positive > negative, ties 1/2)', () => {
    // pos {0.4, 0.7}, neg {0.4, 0.2, 0.9}: pairs 0.4: >0.2 (1), =0.4 (0.5); 0.7: >0.4, >0.2 (2) => 3.5/6
    expect(rocAuc([0.4, 0.7, 0.4, 0.2, 0.9], [1, 1, 0, 0, 0])).toBeCloseTo(3.5 / 6, 12);
    expect(Number.isNaN(rocAuc([0.1, 0.2], [1, 1]))).toBe(true);
  });
});

describe('logistic regression detector', () => {
  it('separates two shifted Gaussian clouds', () => {
    const rng = new Rng(1);
    const n = 200;
    const dim = 4;
    const x = new Float32Array(n * dim);
    const y = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      y[i] = i % 2;
      for (let d = 0; d < dim; d++) x[i * dim + d] = rng.normal() + (d === 0 ? 2 * (y[i] as number) : 0);
    }
    const m = trainLogisticRegression(x, y, dim);
    expect(rocAuc(m.predict(x, n), y)).toBeGreaterThan(0.85);
  });

  const enc: ImageEncoder = {
    // mean brightness and high-frequency energy per channel: noise is visible in the second
    description: { kind: 'stats', inputSize: 8, featureDim: 2, pixelRange: [0, 1], normalization: { mean: [0, 0, 0], std: [1, 1, 1] } },
    encode: (x) =>
      tf.tidy(() => {
        const n = x.shape[0];
        const dx = tf.slice(x, [0, 0, 1, 0], [-1, -1, x.shape[2] - 1, -1]).sub(tf.slice(x, [0, 0, 0, 0], [-1, -1, x.shape[2] - 1, -1]));
        return tf.stack([x.reshape([n, -1]).mean(1), dx.abs().reshape([n, -1]).mean(1)], 1) as tf.Tensor2D;
      }),
    trainableVariables: () => [],
    dispose: () => {},
  };

  it('detects strong noise on held-out items and not a null attack', async () => {
    const rng = new Rng(2);
    const clean = new Map<number, Float32Array>();
    const noisy = new Map<number, Float32Array>();
    const same = new Map<number, Float32Array>();
    for (let i = 0; i < 30; i++) {
      const base = rng.uniform(0.2, 0.8);
      const img = Float32Array.from({ length: 8 * 8 * 3 }, () => base + rng.uniform(-0.02, 0.02));
      clean.set(i, img);
      noisy.set(i, Float32Array.from(img, (v) => Math.min(1, Math.max(0, v + rng.uniform(-0.12, 0.12)))));
      same.set(i, Float32Array.from(img));
    }
    const r = await evaluateDetector({ encoder: enc, clean, adversarial: noisy, size: 8, rng: new Rng(3) });
    expect(r.auc).toBeGreaterThan(0.9);
    expect(new Set([...r.trainItems, ...r.testItems]).size).toBe(30);
    expect(r.trainItems.some((i) => r.testItems.includes(i))).toBe(false);
    const r0 = await evaluateDetector({ encoder: enc, clean, adversarial: same, size: 8, rng: new Rng(3) });
    expect(r0.auc).toBeCloseTo(0.5, 6);
  });
});
