/**
 * Adapts the attacker's diffusion handle to the ChainModel the AUV-Fusion chain needs: a
 * LatentDiffusion-like object {scheduler, latentShape, imageSize, encode, decode, predictNoise}
 * whose scheduler is a DDIMScheduler (used as is), or a diffusers-style scheduler config from which
 * one is built (spec section 6). The chain then steps with the scheduler's own `step`.
 */
import type * as tf from '@tensorflow/tfjs';
import { ConfigError } from '../../core/errors.js';
import type { ChainModel, ChainScheduler } from '../../diffusion/chain.js';
import { DDIMScheduler, DEFAULT_DDIM_CONFIG, type DDIMSchedulerConfig } from '../../diffusion/scheduler.js';

interface LatentDiffusionLike {
  scheduler: Partial<ChainScheduler> & { config?: Partial<DDIMSchedulerConfig> };
  latentShape: readonly number[];
  imageSize: number;
  encode(x: tf.Tensor4D): tf.Tensor4D;
  decode(z: tf.Tensor4D): tf.Tensor4D;
  predictNoise(z: tf.Tensor4D, t: number): tf.Tensor4D;
}

/** The handle's scheduler when it steps itself (a DDIMScheduler), else a DDIMScheduler built from its config. */
function chainScheduler(sch: LatentDiffusionLike['scheduler']): ChainScheduler {
  if (typeof sch.stepTo === 'function' && typeof sch.timestepsFor === 'function' && typeof sch.previousTimestepFor === 'function' && sch.alphasCumprod) return sch as ChainScheduler;
  if (!sch.config) throw new ConfigError('attack auv-fusion: the diffusion scheduler is neither a DDIMScheduler nor has a config (numTrainTimesteps, betaStart, betaEnd, betaSchedule, ...)');
  const known = Object.keys(DEFAULT_DDIM_CONFIG) as (keyof DDIMSchedulerConfig)[];
  return new DDIMScheduler(Object.fromEntries(known.filter((k) => sch.config![k] !== undefined).map((k) => [k, sch.config![k]])) as Partial<DDIMSchedulerConfig>);
}

export function toChainModel(handle: unknown): ChainModel {
  const ld = handle as Partial<LatentDiffusionLike> | null;
  if (!ld || typeof ld.encode !== 'function' || typeof ld.decode !== 'function' || typeof ld.predictNoise !== 'function' || !ld.scheduler || !ld.latentShape) {
    throw new ConfigError('attack auv-fusion: the diffusion handle is not a latent diffusion model (needs scheduler, latentShape, encode, decode, predictNoise)');
  }
  const m = ld as LatentDiffusionLike;
  const [h, w, c] = m.latentShape as [number, number, number];
  return {
    latentShape: [h, w, c],
    imageSize: m.imageSize,
    scheduler: chainScheduler(m.scheduler),
    encode: (x) => m.encode(x),
    decode: (z) => m.decode(z),
    predictNoise: (z, t) => m.predictNoise(z, t),
  };
}
