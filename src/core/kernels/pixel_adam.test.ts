/**
 * The fused pixel Adam step + L-inf projection (native/pixel.cc through pixelAdamStep) against the
 * same step as tfjs ops on the cpu backend: the same bits, on the first step (zero moments) and a
 * later one, at the INSA batch's size (both threads) and an odd small size, with gradients of
 * every magnitude, exact zeros of both signs and pixels at the range's ends. With AUV_NATIVE=0 the
 * step runs as ops on wasm and must give the same bits too.
 */
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initEngine } from '../engine.js';
import { onBackend, testValues } from './compare.js';
import { nativeAddon, requestedNativeThreads } from './native.js';
import { pixelAdamOps, pixelAdamStep, type PixelAdamConfig } from './pixel_adam.js';

const addon = nativeAddon();

interface Inputs {
  x: Float32Array;
  g: Float32Array;
  m: Float32Array;
  v: Float32Array;
  x0: Float32Array;
}

/** Pixels in [0,1] (some exactly 0 or 1), x near x0 (a fifth on the ball's surface), gradients from 1e-9 to 1e3 with signed zeros. */
function inputs(n: number, eps: number): Inputs {
  const u = testValues(n, 7), w = testValues(n, 8), s = testValues(n, 9), t = testValues(n, 10);
  const x0 = new Float32Array(n), x = new Float32Array(n), g = new Float32Array(n), m = new Float32Array(n), v = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    x0[i] = i % 97 === 0 ? 0 : i % 89 === 0 ? 1 : (u[i]! + 1) / 2;
    x[i] = Math.min(1, Math.max(0, x0[i]! + eps * (i % 5 === 0 ? Math.sign(w[i]!) : w[i]!))); // a fifth on the ball
    g[i] = i % 53 === 0 ? 0 : i % 59 === 0 ? -0 : s[i]! * 10 ** Math.round(6 * t[i]! - 3) * (i % 7 === 0 ? 1e-6 : 1);
    m[i] = 0.1 * w[i]! * Math.abs(g[i]!);
    v[i] = 0.01 * g[i]! * g[i]! * (1 + u[i]!);
  }
  return { x, g, m, v, x0 };
}

function run(fn: typeof pixelAdamOps, d: Inputs, shape: number[], step: number, c: PixelAdamConfig, first: boolean): tf.Tensor[] {
  const t = (a: Float32Array) => tf.tensor(a, shape);
  return fn(t(d.x), t(d.g), first ? null : t(d.m), first ? null : t(d.v), t(d.x0), step, c);
}

const bits = (a: Float32Array) => new Uint32Array(a.buffer, a.byteOffset, a.length);

function sameBits(a: Float32Array, b: Float32Array): number {
  const [x, y] = [bits(a), bits(b)];
  let diff = 0;
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) diff++;
  return a.length === b.length ? diff : Infinity;
}

describe(`pixelAdamStep (${addon ? 'fused native kernel' : 'tfjs ops'} on wasm) against the ops on cpu`, () => {
  beforeAll(async () => {
    await initEngine({ backend: 'wasm' });
  });
  afterAll(() => {
    addon?.setThreads(requestedNativeThreads());
  });

  const shapes = [[16, 64, 64, 3], [3, 5, 7, 3]];
  for (const threads of addon ? [1, 2] : [1]) {
    for (const shape of shapes) {
      for (const [step, first] of [[1, true], [7, false]] as const) {
        it(`x ${shape}, step ${step}${first ? ' (zero moments)' : ''}, ${threads} thread(s): same bits`, async () => {
          addon?.setThreads(threads);
          const eps = 32 / 255;
          const c: PixelAdamConfig = { lr: eps / 4, b1: 0.9, b2: 0.999, epsAdam: 1e-8, eps };
          const d = inputs(shape.reduce((a, b) => a * b, 1), eps);
          const w = await onBackend('wasm', () => run(pixelAdamStep, d, shape, step, c, first));
          const cpu = await onBackend('cpu', () => run(pixelAdamOps, d, shape, step, c, first));
          for (let k = 0; k < 3; k++) expect(sameBits(w[k]!, cpu[k]!)).toBe(0);
          // The step moved pixels, and the projection bound some of them (ball and range).
          const [xn] = w;
          let moved = 0, atBall = 0, atRange = 0;
          for (let i = 0; i < xn!.length; i++) {
            if (xn![i] !== d.x[i]) moved++;
            if (Math.abs(xn![i]! - d.x0[i]!) >= eps * 0.999) atBall++;
            if (xn![i] === 0 || xn![i] === 1) atRange++;
          }
          expect(moved).toBeGreaterThan(xn!.length / 2);
          expect(atBall).toBeGreaterThan(0);
          expect(atRange).toBeGreaterThan(0);
        });
      }
    }
  }

  it('returns new tensors and leaves none behind', async () => {
    const before = tf.memory().numTensors;
    const x0 = tf.fill([2, 4, 4, 3], 0.5), g = tf.fill([2, 4, 4, 3], 1);
    const c: PixelAdamConfig = { lr: 0.01, b1: 0.9, b2: 0.999, epsAdam: 1e-8, eps: 0.1 };
    const [x1, m1, v1] = pixelAdamStep(x0, g, null, null, x0, 1, c);
    const [x2, m2, v2] = pixelAdamStep(x1, g, m1, v1, x0, 2, c);
    // Adam's first steps move by lr against the gradient's sign.
    expect(Math.abs(x1.dataSync()[0]! - (0.5 - 0.01))).toBeLessThan(1e-6);
    expect(Math.abs(x2.dataSync()[0]! - (0.5 - 0.02))).toBeLessThan(1e-6);
    tf.dispose([x0, g, x1, m1, v1, x2, m2, v2]);
    expect(tf.memory().numTensors).toBe(before);
  });

  it.runIf(addon !== null)('refuses short views and a lone moment instead of writing past them', () => {
    const a = new Float32Array(8), short = new Float32Array(7), sc = new Float32Array(9);
    expect(() => addon!.pixelAdam(a, a, a, a, a, short, a, a, sc)).toThrow(/needs 8/);
    expect(() => addon!.pixelAdam(a, a, a, null, a, a, a, a, sc)).toThrow(/both/);
  });
});
