/**
 * Guided, masked DDIM editing (SDEdit with classifier-style guidance, as SC-DAG uses it): encode
 * the image, noise its latent to an intermediate timestep, sample back to t = 0 with the DDIM
 * scheduler's `step`, and after every step push the latent along the gradient of a guidance
 * objective evaluated on the step's predicted x0. A latent mask confines the edit: outside it the
 * latent is reset at every step to the original latent noised to that step (the blending of
 * ldm's DDIM sampler / RePaint), so the protected region follows the original's trajectory.
 *
 * The gradient is taken with respect to the predicted x0 latent (through the decoder and whatever
 * the objective applies), never through the UNet: one UNet forward per step, like SC-DAG.
 */
import * as tf from '@tensorflow/tfjs';
import { ConfigError } from '../core/errors.js';
import type { DDIMScheduler } from './scheduler.js';

/** What the editor needs from a latent diffusion model (LatentDiffusion satisfies it). */
export interface GuidedModel {
  readonly scheduler: DDIMScheduler;
  /** Latent shape [h, w, c] (NHWC). */
  readonly latentShape: readonly [number, number, number];
  encode(x: tf.Tensor4D): tf.Tensor4D;
  decode(z: tf.Tensor4D): tf.Tensor4D;
  predictNoise(z: tf.Tensor4D, t: number): tf.Tensor4D;
}

/**
 * The guidance objective to maximise, per sample: J(x0Latent) -> N values (one per sample, so the
 * gradient of their sum is each sample's own gradient). Differentiable in its argument.
 */
export type GuidanceObjective = (predX0: tf.Tensor4D) => tf.Tensor1D;

export interface GuidedEditOptions {
  /** Timestep to noise to (of the training schedule, e.g. 250 of 1000). */
  startTimestep: number;
  /** DDIM steps from the start timestep down to 0. */
  steps: number;
  /** DDIM eta (0: deterministic; > 0 draws fresh noise per step from `noise`). */
  eta: number;
  /** Guidance strength (0: the plain SDEdit reconstruction). */
  strength: number;
  objective?: GuidanceObjective;
  /** Editable fraction per latent cell, N x h x w x 1 in [0,1] (1 = free to change); absent: all editable. */
  latentMask?: tf.Tensor4D;
  /** Noise source (N x h x w x c standard normal), called once for the start and once per step when eta > 0. */
  noise: () => tf.Tensor4D;
  /** Called after each step with its index, timestep and the objective's batch mean at its predicted x0 (null without guidance). */
  onStep?: (step: number, timestep: number, objective: number | null) => void;
}

export interface GuidedPlan {
  /** Number of DDIM steps the scheduler is set to over the whole training schedule. */
  scheduleSteps: number;
  /** The timesteps actually visited, descending (the first is where the latent is noised to). */
  timesteps: number[];
}

/**
 * The schedule for `steps` DDIM steps from `startTimestep` to 0: the scheduler is set to
 * T / stride steps over its whole range (stride = floor(start / steps)), and sampling runs the
 * last `steps` of those timesteps at or below `startTimestep` (so it starts at most one stride
 * below it, e.g. 241 for 250 with 25 steps and diffusers' steps offset 1).
 */
export function guidedPlan(scheduler: DDIMScheduler, startTimestep: number, steps: number): GuidedPlan {
  const T = scheduler.config.numTrainTimesteps;
  if (!Number.isInteger(startTimestep) || startTimestep < 1 || startTimestep >= T)
    throw new ConfigError(`start timestep must be an integer in [1, ${T - 1}], got ${startTimestep}`);
  if (!Number.isInteger(steps) || steps < 1 || steps > startTimestep)
    throw new ConfigError(`number of guided DDIM steps must be an integer in [1, ${startTimestep}] (the start timestep), got ${steps}`);
  const stride = Math.max(1, Math.floor(startTimestep / steps));
  const scheduleSteps = Math.floor(T / stride);
  const all = scheduler.setTimesteps(scheduleSteps);
  const timesteps = all.filter((t) => t <= startTimestep).slice(-steps);
  if (timesteps.length === 0) throw new ConfigError(`no DDIM timestep at or below ${startTimestep} with ${scheduleSteps} steps`);
  return { scheduleSteps, timesteps };
}

/** sigma_t of DDIM at eta = 1 (the scale SC-DAG multiplies its guidance gradient by). */
function sigmaOne(scheduler: DDIMScheduler, t: number): number {
  return Math.sqrt(Math.max(0, scheduler.variance(t, scheduler.previousTimestep(t))));
}

/** The original latent at timestep t (t < 0: the clean latent). */
function noisedOriginal(scheduler: DDIMScheduler, z0: tf.Tensor4D, noise: tf.Tensor4D, t: number): tf.Tensor4D {
  return (t < 0 ? tf.clone(z0) : scheduler.addNoise(z0, noise, t)) as tf.Tensor4D;
}

/** Per-sample unit-RMS gradient (zero stays zero). */
function unitRms(g: tf.Tensor4D): tf.Tensor4D {
  return tf.tidy(() => {
    const rms = tf.sqrt(tf.mean(tf.square(g), [1, 2, 3], true));
    return tf.div(g, tf.add(rms, 1e-12)) as tf.Tensor4D;
  });
}

/**
 * Edit latents `z0` (N x h x w x c, the encoder's output) and return the edited clean latents
 * (caller owns). With strength 0 (or no objective) and no mask this is the plain DDIM
 * reconstruction from the start timestep with the given noise.
 */
export function guidedEdit(model: GuidedModel, z0: tf.Tensor4D, opts: GuidedEditOptions): tf.Tensor4D {
  const sch = model.scheduler;
  const plan = guidedPlan(sch, opts.startTimestep, opts.steps);
  const startNoise = opts.noise();
  let z = noisedOriginal(sch, z0, startNoise, plan.timesteps[0]!);
  const guide = opts.strength !== 0 && opts.objective !== undefined;
  const grad = guide ? tf.valueAndGrad((x: tf.Tensor) => tf.sum(opts.objective!(x as tf.Tensor4D)) as tf.Scalar) : null;
  try {
    for (const [k, t] of plan.timesteps.entries()) {
      const stepNoise = opts.eta > 0 ? opts.noise() : null;
      let objective: number | null = null;
      const next = tf.tidy(() => {
        const eps = model.predictNoise(z, t);
        const out = sch.step(eps, t, z, { eta: opts.eta, ...(stepNoise ? { noise: stepNoise } : {}) });
        let prev = out.prevSample as tf.Tensor4D;
        if (grad) {
          const { value, grad: g } = grad(out.predOriginalSample as tf.Tensor4D);
          if (opts.onStep) objective = (value.dataSync()[0] as number) / z0.shape[0];
          const dir = unitRms(opts.latentMask ? (tf.mul(g, opts.latentMask) as tf.Tensor4D) : (g as tf.Tensor4D));
          prev = tf.add(prev, tf.mul(dir, opts.strength * sigmaOne(sch, t))) as tf.Tensor4D;
        }
        if (opts.latentMask) {
          const keep = noisedOriginal(sch, z0, startNoise, sch.previousTimestep(t));
          prev = tf.add(tf.mul(prev, opts.latentMask), tf.mul(keep, tf.sub(1, opts.latentMask))) as tf.Tensor4D;
        }
        return prev;
      });
      stepNoise?.dispose();
      z.dispose();
      z = next;
      opts.onStep?.(k, t, objective);
    }
  } catch (err) {
    z.dispose();
    throw err;
  } finally {
    startNoise.dispose();
  }
  return z;
}
