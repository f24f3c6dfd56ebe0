/**
 * Adapts the attacker's diffusion handle to the ChainModel the AUV-Fusion chain needs. Accepts a
 * ChainModel as is, or a LatentDiffusion-like object {scheduler, latentShape, imageSize, encode,
 * decode, predictNoise} whose scheduler exposes alphasCumprod and setTimesteps/timesteps
 * (diffusers-style, spec section 6).
 */
import * as tf from '@tensorflow/tfjs';
import { ConfigError } from '../../core/errors.js';
import { leadingTimesteps, type ChainModel } from '../../diffusion/chain.js';

interface SchedulerLike {
  alphasCumprod?: ArrayLike<number> | tf.Tensor;
  betas?: ArrayLike<number> | tf.Tensor;
  finalAlphaCumprod?: number;
  numTrainTimesteps?: number;
  config?: { numTrainTimesteps?: number; setAlphaToOne?: boolean; betaStart?: number; betaEnd?: number; betaSchedule?: string };
  timesteps?: ArrayLike<number> | tf.Tensor;
  setTimesteps?: (n: number) => unknown;
  previousTimestep?: (t: number) => number;
}

interface LatentDiffusionLike {
  scheduler: SchedulerLike;
  latentShape: readonly number[];
  imageSize: number;
  encode(x: tf.Tensor4D): tf.Tensor4D;
  decode(z: tf.Tensor4D): tf.Tensor4D;
  predictNoise(z: tf.Tensor4D, t: number | tf.Tensor): tf.Tensor4D;
}

function toArray(v: ArrayLike<number> | tf.Tensor): number[] {
  return v instanceof tf.Tensor ? Array.from(v.dataSync()) : Array.from(v);
}

function isChainModel(h: unknown): h is ChainModel {
  const m = h as Partial<ChainModel>;
  return !!m && typeof m.predictNoise === 'function' && typeof m.timesteps === 'function' && m.alphasCumprod !== undefined;
}

/** abar_t from the scheduler: alphasCumprod, else cumprod(1 - betas), else the beta config (linear | scaled_linear). */
function alphasCumprodOf(sch: SchedulerLike): number[] {
  if (sch.alphasCumprod) return toArray(sch.alphasCumprod);
  let betas: number[] | null = sch.betas ? toArray(sch.betas) : null;
  const c = sch.config;
  if (!betas && c && c.betaStart !== undefined && c.betaEnd !== undefined && c.numTrainTimesteps) {
    const T = c.numTrainTimesteps;
    const scaled = c.betaSchedule === 'scaled_linear' || c.betaSchedule === 'scaledLinear';
    const lo = scaled ? Math.sqrt(c.betaStart) : c.betaStart;
    const hi = scaled ? Math.sqrt(c.betaEnd) : c.betaEnd;
    betas = Array.from({ length: T }, (_, i) => {
      const b = T === 1 ? lo : lo + ((hi - lo) * i) / (T - 1);
      return scaled ? b * b : b;
    });
  }
  if (!betas) throw new ConfigError('attack auv-fusion: the diffusion scheduler exposes neither alphasCumprod nor betas');
  const out: number[] = [];
  let prod = 1;
  for (const b of betas) out.push((prod *= 1 - b));
  return out;
}

export function toChainModel(handle: unknown): ChainModel {
  if (isChainModel(handle)) return handle;
  const ld = handle as Partial<LatentDiffusionLike>;
  if (!ld || typeof ld.encode !== 'function' || typeof ld.decode !== 'function' || typeof ld.predictNoise !== 'function' || !ld.scheduler || !ld.latentShape) {
    throw new ConfigError('attack auv-fusion: the diffusion handle is not a latent diffusion model (needs scheduler, latentShape, encode, decode, predictNoise)');
  }
  const sch = ld.scheduler;
  const ac = alphasCumprodOf(sch);
  const T = sch.numTrainTimesteps ?? sch.config?.numTrainTimesteps ?? ac.length;
  const finalAc = sch.finalAlphaCumprod ?? (sch.config?.setAlphaToOne === false ? ac[0]! : 1);
  const [h, w, c] = ld.latentShape as [number, number, number];
  const m: LatentDiffusionLike = ld as LatentDiffusionLike;
  return {
    latentShape: [h, w, c],
    imageSize: m.imageSize,
    alphasCumprod: ac,
    finalAlphaCumprod: finalAc,
    encode: (x) => m.encode(x),
    decode: (z) => m.decode(z),
    predictNoise: (z, t) => m.predictNoise(z, t),
    ...(typeof sch.previousTimestep === 'function'
      ? {
          previousTimestep: (t: number, n: number) => {
            sch.setTimesteps?.(n);
            return sch.previousTimestep!(t);
          },
        }
      : {}),
    timesteps: (n) => {
      if (typeof sch.setTimesteps === 'function') {
        const r = sch.setTimesteps(n);
        const ts = (Array.isArray(r) || r instanceof tf.Tensor || ArrayBuffer.isView(r) ? r : sch.timesteps) as ArrayLike<number> | tf.Tensor | undefined;
        if (ts) return toArray(ts).map((v) => Math.round(v));
      }
      return leadingTimesteps(T, n);
    },
  };
}
