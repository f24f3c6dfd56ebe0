/**
 * The differentiable DDIM chain used by AUV-Fusion (spec section 7, eqs. 3-5) with bounded memory.
 *
 * Forward: z_t = sqrt(abar_t) z0 + sqrt(1-abar_t) noise (eq. 3), z~_t = z_t + eta delta (eq. 4),
 * deterministic DDIM (eta_ddim = 0) from t down to 0 (eq. 5). Backward: when the whole chain's
 * tape fits the memory budget (chainTapeBudget(), measured per step on the first checkpointed call
 * for each latent batch shape), one tf.grad over chain + decoder + loss; otherwise the gradient
 * with respect to z~0 is carried back one DDIM step at a time by recomputing that step's UNet
 * forward under tf.grad (activation checkpointing), so memory holds one UNet tape plus the
 * per-step latents. Both run the same operations in the same order on the same values, so they
 * give the same bits (tested); the taped path skips the recomputed UNet forwards.
 */
import * as tf from '@tensorflow/tfjs';
import { ConfigError } from '../core/errors.js';
import type { DDIMScheduler } from './scheduler.js';

/** The scheduler operations the chain uses (a DDIMScheduler: predictionType and clipSample honoured). */
export type ChainScheduler = Pick<DDIMScheduler, 'alphasCumprod' | 'timestepsFor' | 'previousTimestepFor' | 'stepTo'>;

/** What the chain needs from a latent diffusion model (a LatentDiffusion is one; src/attacks/auv-fusion/diffusion-adapter.ts adapts others). */
export interface ChainModel {
  /** Latent shape [h, w, c] (NHWC). */
  readonly latentShape: readonly [number, number, number];
  /** Image side of decoder outputs. */
  readonly imageSize: number;
  /** VAE encoder E: images N x S x S x 3 in [0,1] -> latents N x h x w x c (deterministic). */
  encode(x: tf.Tensor4D): tf.Tensor4D;
  /** VAE decoder D: latents -> images (not yet clipped). Differentiable. */
  decode(z: tf.Tensor4D): tf.Tensor4D;
  /** UNet output (noise, v or sample per the scheduler's predictionType) at (z_t, t), differentiable in z_t. */
  predictNoise(z: tf.Tensor4D, t: number): tf.Tensor4D;
  /** The model's DDIM scheduler: timesteps, abar_t and the step itself. */
  readonly scheduler: ChainScheduler;
}

/** One deterministic DDIM step z_t -> z_prev (eq. 5's update): the scheduler's own step. */
export function ddimStep(model: ChainModel, z: tf.Tensor4D, t: number, tPrev: number): tf.Tensor4D {
  return tf.tidy(() => model.scheduler.stepTo(model.predictNoise(z, t), t, tPrev, z).prevSample as tf.Tensor4D);
}

export interface ChainPlan {
  /** Timesteps from the injection step down: ts[0] = t_inject, ..., with tPrev per step. */
  steps: { t: number; tPrev: number }[];
  /** abar at the injection step. */
  alphaBar: number;
}

/** The steps run after injecting at index `injectIndex` of n DDIM steps (eq. 3). */
export function chainPlan(model: ChainModel, n: number, injectIndex: number): ChainPlan {
  const ts = model.scheduler.timestepsFor(n);
  if (injectIndex < 0 || injectIndex >= ts.length) throw new Error(`injectIndex ${injectIndex} outside [0, ${ts.length})`);
  const steps = ts.slice(injectIndex).map((t) => ({ t, tPrev: model.scheduler.previousTimestepFor(t, n) }));
  return { steps, alphaBar: model.scheduler.alphasCumprod[ts[injectIndex]!] as number };
}

/** z_t = sqrt(abar) z0 + sqrt(1 - abar) noise (eq. 3). */
export function noisyLatent(z0: tf.Tensor4D, noise: tf.Tensor4D, alphaBar: number): tf.Tensor4D {
  return tf.tidy(() => tf.add(tf.mul(z0, Math.sqrt(alphaBar)), tf.mul(noise, Math.sqrt(1 - alphaBar))) as tf.Tensor4D);
}

/** Run the chain without gradients; returns z~0 (caller owns). */
export function runChain(model: ChainModel, plan: ChainPlan, zt: tf.Tensor4D): tf.Tensor4D {
  let z = tf.clone(zt);
  for (const s of plan.steps) {
    const next = ddimStep(model, z, s.t, s.tPrev);
    z.dispose();
    z = next;
  }
  return z;
}

/** x = clip(D(z), 0, 1), resized to `size` when the decoder's side differs (eq. 5). */
export function decodeImage(model: ChainModel, z: tf.Tensor4D, size: number): tf.Tensor4D {
  return tf.tidy(() => {
    let x = model.decode(z);
    if (x.shape[1] !== size || x.shape[2] !== size) x = tf.image.resizeBilinear(x, [size, size]);
    return tf.clipByValue(x, 0, 1) as tf.Tensor4D;
  });
}

export interface ChainGradResult {
  /** Loss value (scalar, mean over the batch as returned by lossFn). */
  loss: number;
  /** Components reported by lossFn (host numbers). */
  parts: number[];
  /** x_adv = clip(D(z~0), 0, 1) (caller owns). */
  image: tf.Tensor4D;
  /** dL / d z~_t (caller owns); dL/d delta = eta * this (eq. 4). */
  gradZt: tf.Tensor4D;
}

/** Bytes of the chain's tape (UNet activations kept for the backward) per DDIM step, per model and latent batch shape. */
const stepTapeBytes = new WeakMap<ChainModel, Map<string, number>>();

/**
 * The most bytes chainGrad may hold as one tape of the whole chain (AUV_CHAIN_TAPE_MB, default
 * 1024); 0 always checkpoints.
 */
export function chainTapeBudget(): number {
  const raw = process.env.AUV_CHAIN_TAPE_MB;
  const mb = raw === undefined || raw === '' ? 1024 : Number(raw);
  if (!Number.isFinite(mb) || mb < 0) throw new ConfigError(`AUV_CHAIN_TAPE_MB must be a number of megabytes >= 0, got '${raw}'`);
  return mb * 2 ** 20;
}

/**
 * Loss and its gradient with respect to the injected latent z~_t through every DDIM step and the
 * decoder. `lossFn(x)` returns [total, ...parts] scalars for images x in [0,1].
 * mode 'auto' tapes the whole chain when its measured tape fits chainTapeBudget(), else checkpoints.
 */
export async function chainGrad(
  model: ChainModel,
  plan: ChainPlan,
  ztTilde: tf.Tensor4D,
  size: number,
  lossFn: (x: tf.Tensor4D) => tf.Scalar[],
  mode: 'auto' | 'checkpoint' | 'tape' = 'auto',
): Promise<ChainGradResult> {
  if (mode === 'tape' || (mode === 'auto' && chainGradPath(model, plan, ztTilde.shape) === 'tape')) return chainGradTaped(model, plan, ztTilde, size, lossFn);
  return chainGradCheckpointed(model, plan, ztTilde, size, lossFn, ztTilde.shape.join('x'));
}

/** The path chainGrad's 'auto' mode takes for latents of this shape: 'tape' once a checkpointed call measured a step's tape and the chain's fits the budget. */
export function chainGradPath(model: ChainModel, plan: ChainPlan, shape: readonly number[]): 'tape' | 'checkpoint' {
  const perStep = stepTapeBytes.get(model)?.get(shape.join('x'));
  return perStep !== undefined && perStep * plan.steps.length <= chainTapeBudget() ? 'tape' : 'checkpoint';
}

/** The decoder + loss on the chain's output x~0: the image (kept) and the loss parts (kept). */
function decodeAndLoss(model: ChainModel, z: tf.Tensor4D, size: number, lossFn: (x: tf.Tensor4D) => tf.Scalar[], keep: { image?: tf.Tensor4D; parts?: tf.Tensor1D }): tf.Scalar {
  const x = decodeImage(model, z, size);
  // the forward pass's image is x_adv itself: keep it rather than decoding z~0 a second time
  keep.image = tf.keep(tf.clone(x));
  const out = lossFn(x);
  keep.parts = tf.keep(tf.stack(out.map((s) => tf.clone(s))) as tf.Tensor1D);
  return out[0]!;
}

async function finish(keep: { image?: tf.Tensor4D; parts?: tf.Tensor1D }, gradZt: tf.Tensor4D): Promise<ChainGradResult> {
  const parts = Array.from(await keep.parts!.data());
  keep.parts!.dispose();
  return { loss: parts[0]!, parts, image: keep.image!, gradZt };
}

/** One tape over chain + decoder + loss (memory: every step's UNet activations). */
async function chainGradTaped(model: ChainModel, plan: ChainPlan, ztTilde: tf.Tensor4D, size: number, lossFn: (x: tf.Tensor4D) => tf.Scalar[]): Promise<ChainGradResult> {
  const keep: { image?: tf.Tensor4D; parts?: tf.Tensor1D } = {};
  const g = tf.grad((z: tf.Tensor) => {
    let zk = z as tf.Tensor4D;
    for (const s of plan.steps) zk = ddimStep(model, zk, s.t, s.tPrev);
    return decodeAndLoss(model, zk, size, lossFn, keep);
  })(ztTilde) as tf.Tensor4D;
  return finish(keep, g);
}

/** Checkpointed: each step's UNet forward is run again under tf.grad on the way back; measures the tape of one step. */
async function chainGradCheckpointed(
  model: ChainModel,
  plan: ChainPlan,
  ztTilde: tf.Tensor4D,
  size: number,
  lossFn: (x: tf.Tensor4D) => tf.Scalar[],
  key: string,
): Promise<ChainGradResult> {
  // forward, keeping only the latents at each step (checkpoints)
  const zs: tf.Tensor4D[] = [tf.clone(ztTilde)];
  for (const s of plan.steps) zs.push(ddimStep(model, zs[zs.length - 1]!, s.t, s.tPrev));
  const z0 = zs[zs.length - 1]!;
  // gradient at z~0 through decoder + loss
  const keep: { image?: tf.Tensor4D; parts?: tf.Tensor1D } = {};
  const gZ0 = tf.grad((z: tf.Tensor) => decodeAndLoss(model, z as tf.Tensor4D, size, lossFn, keep))(z0) as tf.Tensor4D;
  // back through the DDIM steps, recomputing each step's forward (checkpointing)
  let g = gZ0;
  let tape = 0;
  for (let k = plan.steps.length - 1; k >= 0; k--) {
    const s = plan.steps[k]!;
    const next = tf.grad((z: tf.Tensor) => {
      const before = tf.memory().numBytes;
      const out = ddimStep(model, z as tf.Tensor4D, s.t, s.tPrev);
      tape = Math.max(tape, tf.memory().numBytes - before);
      return out;
    })(zs[k]!, g) as tf.Tensor4D;
    g.dispose();
    g = next;
  }
  if (!stepTapeBytes.has(model)) stepTapeBytes.set(model, new Map());
  stepTapeBytes.get(model)!.set(key, tape);
  for (const z of zs) z.dispose();
  return finish(keep, g);
}
