import { readFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { DDIMScheduler, type DDIMSchedulerConfig } from './scheduler.js';

interface GoldenCase {
  config: DDIMSchedulerConfig;
  numSteps: number;
  eta: number;
  timesteps: number[];
  alphasCumprodAt: Record<string, number>;
  finalAlphaCumprod: number;
  trajectory: number[][];
  predOriginal: number[][];
  addNoiseT: number;
  addNoise: number[];
}
const golden = JSON.parse(readFileSync(new URL('./__fixtures__/ddim-golden.json', import.meta.url), 'utf8')) as {
  sample: number[];
  noise: number[];
  noiseGrowth: number;
  cases: GoldenCase[];
};

/** The toy model of scripts/golden/ddim_golden.py. */
function toyModel(x: tf.Tensor, t: number, T: number): tf.Tensor {
  return tf.tidy(() => tf.add(tf.mul(tf.sin(tf.add(x, t / T)), 0.3), tf.mul(x, 0.1)));
}

function expectClose(actual: ArrayLike<number>, expected: readonly number[], tol: number): void {
  expect(actual.length).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) expect(Math.abs((actual[i] as number) - (expected[i] as number))).toBeLessThan(tol);
}

describe('DDIMScheduler against diffusers-derived golden values', () => {
  for (const [k, c] of golden.cases.entries()) {
    it(`case ${k}: ${c.config.betaSchedule}/${c.config.timestepSpacing}/${c.config.predictionType} eta=${c.eta}`, () => {
      const s = new DDIMScheduler(c.config);
      expect([...s.setTimesteps(c.numSteps)]).toEqual(c.timesteps);
      for (const [t, a] of Object.entries(c.alphasCumprodAt)) expect(s.alphasCumprod[Number(t)]).toBeCloseTo(a, 12);
      expect(s.finalAlphaCumprod).toBeCloseTo(c.finalAlphaCumprod, 12);
      let x = tf.tensor1d(golden.sample);
      for (const [j, t] of c.timesteps.entries()) {
        const mo = toyModel(x, t, c.config.numTrainTimesteps);
        const noise = tf.mul(tf.tensor1d(golden.noise), 1 + golden.noiseGrowth * j);
        const out = s.step(mo, t, x, { eta: c.eta, noise });
        expectClose(out.predOriginalSample.dataSync(), c.predOriginal[j]!, 2e-4);
        expectClose(out.prevSample.dataSync(), c.trajectory[j]!, 2e-4);
        tf.dispose([x, mo, noise, out.predOriginalSample]);
        x = out.prevSample as tf.Tensor1D;
      }
      x.dispose();
      const added = s.addNoise(tf.tensor1d(golden.sample), tf.tensor1d(golden.noise), c.addNoiseT);
      expectClose(added.dataSync(), c.addNoise, 1e-5);
      added.dispose();
    });
  }
});

describe('DDIMScheduler algebra', () => {
  it('a step with the true noise recovers x0 exactly (eta 0, epsilon)', () => {
    const s = new DDIMScheduler({ clipSample: false });
    s.setTimesteps(50);
    const x0 = tf.tensor1d([0.3, -0.7, 1.2, 0.05]);
    const eps = tf.tensor1d([1.1, 0.4, -0.9, 2.0]);
    const t = s.timesteps[10]!;
    const zt = s.addNoise(x0, eps, t);
    const out = s.step(eps, t, zt);
    expectClose(out.predOriginalSample.dataSync(), [0.3, -0.7, 1.2, 0.05], 1e-5);
    // and the previous sample is the forward process at t_prev with the same noise
    const expected = s.addNoise(x0, eps, s.previousTimestep(t));
    expectClose(out.prevSample.dataSync(), Array.from(expected.dataSync()), 1e-5);
    tf.dispose([x0, eps, zt, out.prevSample, out.predOriginalSample, expected]);
  });
  it('per-sample addNoise equals scalar addNoise row by row', () => {
    const s = new DDIMScheduler();
    const x = tf.tensor2d([[1, 2], [3, 4]]);
    const n = tf.tensor2d([[0.5, -0.5], [1, 0]]);
    const both = s.addNoise(x, n, [10, 700]).arraySync() as number[][];
    const r0 = s.addNoise(tf.tensor1d([1, 2]), tf.tensor1d([0.5, -0.5]), 10).arraySync() as number[];
    const r1 = s.addNoise(tf.tensor1d([3, 4]), tf.tensor1d([1, 0]), 700).arraySync() as number[];
    expectClose(both[0]!, r0, 1e-6);
    expectClose(both[1]!, r1, 1e-6);
  });
  it('validates its config and step order', () => {
    expect(() => new DDIMScheduler({ predictionType: 'x' as never })).toThrow(/predictionType/);
    const s = new DDIMScheduler();
    expect(() => s.step(tf.scalar(0), 10, tf.scalar(0))).toThrow(/setTimesteps/);
    expect(() => s.setTimesteps(0)).toThrow(/DDIM steps/);
    s.setTimesteps(50);
    expect(() => s.step(tf.scalar(0), s.timesteps[0]!, tf.scalar(0), { eta: 1 })).toThrow(/noise/);
    expect(JSON.parse(JSON.stringify(s.toJSON()))).toEqual(s.config);
  });
});
