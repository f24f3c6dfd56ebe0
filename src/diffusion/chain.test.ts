import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { chainPlan, ddimStep, type ChainModel } from './chain.js';
import { DDIMScheduler, type PredictionType } from './scheduler.js';

/** A chain model whose "UNet" is a fixed non-linear function of (z, t), over `scheduler`. */
function model(scheduler: DDIMScheduler): ChainModel {
  return {
    latentShape: [2, 2, 3],
    imageSize: 8,
    scheduler,
    encode: (x) => x,
    decode: (z) => z,
    predictNoise: (z, t) => tf.tidy(() => tf.mul(tf.sin(tf.mul(z, 3)), 1 + t / 500) as tf.Tensor4D),
  };
}

describe('the attack chain steps with the scheduler', () => {
  for (const predictionType of ['epsilon', 'v_prediction'] as PredictionType[]) {
    it(`ddimStep equals DDIMScheduler.step (${predictionType}, clipSample)`, async () => {
      const sch = new DDIMScheduler({ predictionType, clipSample: true, clipSampleRange: 0.8, stepsOffset: 1, setAlphaToOne: false });
      const m = model(sch);
      const n = 8;
      const plan = chainPlan(m, n, 2);
      const ref = new DDIMScheduler(sch.toJSON());
      ref.setTimesteps(n);
      expect(plan.steps.map((s) => s.t)).toEqual(ref.timesteps.slice(2));
      expect(plan.steps.map((s) => s.tPrev)).toEqual(ref.timesteps.slice(2).map((t) => ref.previousTimestep(t)));
      let z = tf.randomNormal([2, 2, 2, 3], 0, 1.5, 'float32', 7) as tf.Tensor4D;
      for (const s of plan.steps) {
        const a = ddimStep(m, z, s.t, s.tPrev);
        const out = m.predictNoise(z, s.t);
        const b = ref.step(out, s.t, z).prevSample;
        expect(Array.from(await a.data())).toEqual(Array.from(await b.data()));
        tf.dispose([out, b, z]);
        z = a;
      }
      z.dispose();
    });
  }

  it('honours the prediction type (v-prediction is not read as noise)', async () => {
    const z = tf.randomNormal([1, 2, 2, 3], 0, 1, 'float32', 3) as tf.Tensor4D;
    const eps = ddimStep(model(new DDIMScheduler({ clipSample: false })), z, 500, 400);
    const v = ddimStep(model(new DDIMScheduler({ clipSample: false, predictionType: 'v_prediction' })), z, 500, 400);
    const d = Math.max(...Array.from(await tf.sub(eps, v).abs().data()));
    expect(d).toBeGreaterThan(1e-3);
    tf.dispose([z, eps, v]);
  });
});
