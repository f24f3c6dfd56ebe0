/**
 * Diffusion workloads (issue "Latent diffusion", speed): the default UNet's training step
 * (batch 32), 50-step DDIM sampling of 8 latents, and one AUV-Fusion-style gradient step through
 * the default chain (inject at step 25 of 50, 25 steps back to z0, decoder, batch 8), all on the
 * default model architecture (16x16x4 latents for 64x64 images).
 */
import * as tf from '@tensorflow/tfjs';
import { fastAdam } from '../../src/core/kernels/adam.js';
import { Rng } from '../../src/core/rng.js';
import { toChainModel } from '../../src/attacks/auv-fusion/diffusion-adapter.js';
import { chainGrad, chainPlan } from '../../src/diffusion/chain.js';
import { DEFAULT_DIFFUSION_MODEL_CONFIG, LatentDiffusion } from '../../src/diffusion/model.js';
import { ddimSample } from '../../src/diffusion/sample.js';
import { registerWorkload } from '../workloads.js';

const latent = (n: number, seed: number): tf.Tensor4D => tf.tensor4d(new Rng(seed).normalArray(n * 16 * 16 * 4), [n, 16, 16, 4]);

registerWorkload<{ m: LatentDiffusion; z: tf.Tensor4D; opt: tf.Optimizer }>({
  name: 'unet-train-step',
  description: 'default UNet, DDPM epsilon loss, batch 32 latents 16x16x4, one Adam step',
  setup: () => ({ m: new LatentDiffusion(DEFAULT_DIFFUSION_MODEL_CONFIG, new Rng(1)), z: latent(32, 2), opt: fastAdam(1e-3) }),
  run: async ({ m, z, opt }) => {
    const l = opt.minimize(() => tf.mean(tf.square(tf.sub(m.predictNoise(z, Array.from({ length: 32 }, (_, i) => 31 * i)), z))) as tf.Scalar, true, m.unet.params.list())!;
    await l.data();
    l.dispose();
  },
  teardown: ({ m, z, opt }) => {
    m.dispose();
    z.dispose();
    opt.dispose();
  },
});

registerWorkload<{ m: LatentDiffusion; z: tf.Tensor4D }>({
  name: 'ddim-sample-50',
  description: '50 deterministic DDIM steps, batch 8, default UNet',
  setup: () => ({ m: new LatentDiffusion(DEFAULT_DIFFUSION_MODEL_CONFIG, new Rng(1)), z: latent(8, 3) }),
  run: async ({ m, z }) => {
    const out = ddimSample(m, z, { numSteps: 50 });
    await out.data();
    out.dispose();
  },
  teardown: ({ m, z }) => {
    m.dispose();
    z.dispose();
  },
});

registerWorkload<{ m: LatentDiffusion; z: tf.Tensor4D; target: tf.Tensor4D }>({
  name: 'attack-step',
  description: 'gradient of an image loss w.r.t. the injected latent through 25 DDIM steps + decoder, batch 8',
  setup: () => ({ m: new LatentDiffusion(DEFAULT_DIFFUSION_MODEL_CONFIG, new Rng(1)), z: latent(8, 4), target: tf.tensor4d(new Rng(5).uniformArray(8 * 64 * 64 * 3), [8, 64, 64, 3]) }),
  run: async ({ m, z, target }) => {
    const cm = toChainModel(m);
    const r = await chainGrad(cm, chainPlan(cm, 50, 25), z, 64, (x) => [tf.mean(tf.square(tf.sub(x, target))) as tf.Scalar]);
    await r.gradZt.data();
    tf.dispose([r.image, r.gradZt]);
  },
  teardown: ({ m, z, target }) => {
    m.dispose();
    tf.dispose([z, target]);
  },
  flops: 'counted',
});
