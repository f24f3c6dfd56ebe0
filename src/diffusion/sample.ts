/** Deterministic DDIM sampling with a LatentDiffusion (no gradients). */
import * as tf from '@tensorflow/tfjs';
import type { LatentDiffusion } from './model.js';

export interface SampleOptions {
  numSteps: number;
  /** Start at this index of the n-step schedule (0: from pure noise). */
  startIndex?: number;
  /** DDIM eta; > 0 needs `noiseFor(stepIndex)`. */
  eta?: number;
  noiseFor?: (stepIndex: number) => tf.Tensor4D;
}

/** Run DDIM from `zt` (at timestep index startIndex) down to z0; returns z0 (caller owns). */
export function ddimSample(model: LatentDiffusion, zt: tf.Tensor4D, opts: SampleOptions): tf.Tensor4D {
  const s = model.scheduler;
  const ts = s.setTimesteps(opts.numSteps);
  let z = tf.clone(zt);
  for (let k = opts.startIndex ?? 0; k < ts.length; k++) {
    const next = tf.tidy(() => {
      const eps = model.predictNoise(z, ts[k]!);
      const noise = (opts.eta ?? 0) > 0 && opts.noiseFor ? opts.noiseFor(k) : undefined;
      return s.step(eps, ts[k]!, z, { eta: opts.eta ?? 0, ...(noise ? { noise } : {}) }).prevSample as tf.Tensor4D;
    });
    z.dispose();
    z = next;
  }
  return z;
}
