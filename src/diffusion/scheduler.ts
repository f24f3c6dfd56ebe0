/**
 * DDIM scheduler (Song et al. 2021) with the interface and numerics of diffusers' `DDIMScheduler`
 * (spec section 6): `setTimesteps(n)`, `timesteps`, `step(eps, t, z, {eta, noise})` and
 * `addNoise(z0, noise, t)`, on tfjs tensors. Schedule arithmetic runs in float64 on the host, as
 * diffusers computes it in float64 numpy/torch before casting.
 */
import * as tf from '@tensorflow/tfjs';
import { ConfigError } from '../core/errors.js';

export type BetaSchedule = 'linear' | 'scaled_linear' | 'squaredcos_cap_v2';
export type PredictionType = 'epsilon' | 'sample' | 'v_prediction';
export type TimestepSpacing = 'leading' | 'trailing' | 'linspace';

export interface DDIMSchedulerConfig {
  readonly numTrainTimesteps: number;
  readonly betaStart: number;
  readonly betaEnd: number;
  readonly betaSchedule: BetaSchedule;
  readonly clipSample: boolean;
  readonly clipSampleRange: number;
  readonly setAlphaToOne: boolean;
  readonly stepsOffset: number;
  readonly predictionType: PredictionType;
  readonly timestepSpacing: TimestepSpacing;
}

/** diffusers' DDIMScheduler defaults. */
export const DEFAULT_DDIM_CONFIG: DDIMSchedulerConfig = Object.freeze({
  numTrainTimesteps: 1000,
  betaStart: 0.0001,
  betaEnd: 0.02,
  betaSchedule: 'linear',
  clipSample: true,
  clipSampleRange: 1.0,
  setAlphaToOne: true,
  stepsOffset: 0,
  predictionType: 'epsilon',
  timestepSpacing: 'leading',
});

export interface StepOptions {
  /** DDIM eta (0: deterministic). */
  eta?: number;
  /** Noise for eta > 0 (diffusers' variance_noise); required when eta > 0. */
  noise?: tf.Tensor;
  /** Re-derive the model output from the clipped x0 (diffusers' use_clipped_model_output). */
  useClippedModelOutput?: boolean;
}

export interface StepOutput {
  prevSample: tf.Tensor;
  predOriginalSample: tf.Tensor;
}

/** Beta schedule of length T as float64 (diffusers' betas). */
export function makeBetas(cfg: Pick<DDIMSchedulerConfig, 'numTrainTimesteps' | 'betaStart' | 'betaEnd' | 'betaSchedule'>): Float64Array {
  const T = cfg.numTrainTimesteps;
  const out = new Float64Array(T);
  const lin = (a: number, b: number, i: number): number => (T === 1 ? a : a + ((b - a) * i) / (T - 1));
  if (cfg.betaSchedule === 'linear') {
    for (let i = 0; i < T; i++) out[i] = lin(cfg.betaStart, cfg.betaEnd, i);
  } else if (cfg.betaSchedule === 'scaled_linear') {
    // linspace in sqrt-beta space, squared (the Stable Diffusion schedule)
    for (let i = 0; i < T; i++) out[i] = lin(Math.sqrt(cfg.betaStart), Math.sqrt(cfg.betaEnd), i) ** 2;
  } else if (cfg.betaSchedule === 'squaredcos_cap_v2') {
    // Glide cosine schedule: beta_i = min(1 - abar(t2)/abar(t1), 0.999)
    const abar = (t: number): number => Math.cos(((t + 0.008) / 1.008) * (Math.PI / 2)) ** 2;
    for (let i = 0; i < T; i++) out[i] = Math.min(1 - abar((i + 1) / T) / abar(i / T), 0.999);
  } else {
    throw new ConfigError(`betaSchedule '${String(cfg.betaSchedule)}' is not one of linear, scaled_linear, squaredcos_cap_v2`);
  }
  return out;
}

export class DDIMScheduler {
  readonly config: DDIMSchedulerConfig;
  readonly betas: Float64Array;
  readonly alphasCumprod: Float64Array;
  /** abar used after the final step (1 with setAlphaToOne, else abar_0). */
  readonly finalAlphaCumprod: number;
  private numInferenceSteps: number | null = null;
  private ts: number[] = [];

  constructor(config: Partial<DDIMSchedulerConfig> = {}) {
    const cfg = { ...DEFAULT_DDIM_CONFIG, ...config };
    if (!Number.isInteger(cfg.numTrainTimesteps) || cfg.numTrainTimesteps < 1)
      throw new ConfigError(`numTrainTimesteps must be a positive integer, got ${cfg.numTrainTimesteps}`);
    if (!['epsilon', 'sample', 'v_prediction'].includes(cfg.predictionType))
      throw new ConfigError(`predictionType '${cfg.predictionType}' is not one of epsilon, sample, v_prediction`);
    if (!['leading', 'trailing', 'linspace'].includes(cfg.timestepSpacing))
      throw new ConfigError(`timestepSpacing '${cfg.timestepSpacing}' is not one of leading, trailing, linspace`);
    this.config = Object.freeze(cfg);
    this.betas = makeBetas(cfg);
    this.alphasCumprod = new Float64Array(this.betas.length);
    let prod = 1;
    for (let i = 0; i < this.betas.length; i++) this.alphasCumprod[i] = prod *= 1 - (this.betas[i] as number);
    this.finalAlphaCumprod = cfg.setAlphaToOne ? 1 : (this.alphasCumprod[0] as number);
  }

  /** Serialisable config (for checkpoints). */
  toJSON(): DDIMSchedulerConfig {
    return { ...this.config };
  }

  /** The sampling timesteps, descending, after setTimesteps. */
  get timesteps(): readonly number[] {
    return this.ts;
  }

  get numSteps(): number | null {
    return this.numInferenceSteps;
  }

  /** Choose the n inference timesteps (diffusers' set_timesteps, per timestepSpacing). */
  setTimesteps(n: number): readonly number[] {
    const out = this.timestepsFor(n);
    this.numInferenceSteps = n;
    this.ts = out;
    return out;
  }

  /** The n inference timesteps, descending, without changing the scheduler's state (what setTimesteps(n) sets). */
  timestepsFor(n: number): number[] {
    const T = this.config.numTrainTimesteps;
    if (!Number.isInteger(n) || n < 1 || n > T) throw new ConfigError(`number of DDIM steps must be an integer in [1, ${T}], got ${n}`);
    const out: number[] = [];
    if (this.config.timestepSpacing === 'linspace') {
      for (let i = n - 1; i >= 0; i--) out.push(roundHalfEven(n === 1 ? 0 : ((T - 1) * i) / (n - 1)));
    } else if (this.config.timestepSpacing === 'leading') {
      const ratio = Math.floor(T / n);
      for (let i = n - 1; i >= 0; i--) out.push(i * ratio + this.config.stepsOffset);
    } else {
      const ratio = T / n;
      // np.round(np.arange(T, 0, -ratio)) - 1
      for (let v = T; v > 0 && out.length < Math.ceil(T / ratio); v -= ratio) out.push(roundHalfEven(v) - 1);
    }
    return out;
  }

  /** diffusers' previous timestep rule: t - T // n. */
  previousTimestep(t: number): number {
    if (this.numInferenceSteps === null) throw new Error('DDIMScheduler: call setTimesteps(n) before step()');
    return this.previousTimestepFor(t, this.numInferenceSteps);
  }

  /** The previous timestep of t with n inference steps (t - T // n), without the scheduler's state. */
  previousTimestepFor(t: number, n: number): number {
    return t - Math.floor(this.config.numTrainTimesteps / n);
  }

  /** sigma_t^2 of DDIM eq. 16: (1 - abar_prev)/(1 - abar_t) * (1 - abar_t/abar_prev). */
  variance(t: number, tPrev: number): number {
    const a = this.alphasCumprod[t] as number;
    const ap = tPrev >= 0 ? (this.alphasCumprod[tPrev] as number) : this.finalAlphaCumprod;
    return ((1 - ap) / (1 - a)) * (1 - a / ap);
  }

  /**
   * One reverse step z_t -> z_{t_prev} (DDIM eq. 12). Differentiable in `modelOutput` and `sample`
   * (clipping, when enabled, passes gradients only inside the range).
   */
  step(modelOutput: tf.Tensor, t: number, sample: tf.Tensor, opts: StepOptions = {}): StepOutput {
    return this.stepTo(modelOutput, t, this.previousTimestep(t), sample, opts);
  }

  /**
   * `step` to an explicit previous timestep `tPrev` (negative: past the last step), without the
   * scheduler's state: what the attack's differentiable chain (./chain.ts) runs, step by step.
   */
  stepTo(modelOutput: tf.Tensor, t: number, tPrev: number, sample: tf.Tensor, opts: StepOptions = {}): StepOutput {
    const eta = opts.eta ?? 0;
    if (t < 0 || t >= this.alphasCumprod.length) throw new Error(`timestep ${t} outside the schedule`);
    const a = this.alphasCumprod[t] as number;
    const ap = tPrev >= 0 ? (this.alphasCumprod[tPrev] as number) : this.finalAlphaCumprod;
    const b = 1 - a;
    return tf.tidy(() => {
      let x0: tf.Tensor;
      let eps: tf.Tensor;
      // predicted x0 (eq. 12, "predicted x_0") and the matching noise estimate
      if (this.config.predictionType === 'epsilon') {
        x0 = tf.div(tf.sub(sample, tf.mul(modelOutput, Math.sqrt(b))), Math.sqrt(a));
        eps = modelOutput;
      } else if (this.config.predictionType === 'sample') {
        x0 = modelOutput;
        eps = tf.div(tf.sub(sample, tf.mul(x0, Math.sqrt(a))), Math.sqrt(b));
      } else {
        x0 = tf.sub(tf.mul(sample, Math.sqrt(a)), tf.mul(modelOutput, Math.sqrt(b)));
        eps = tf.add(tf.mul(modelOutput, Math.sqrt(a)), tf.mul(sample, Math.sqrt(b)));
      }
      if (this.config.clipSample) {
        const r = this.config.clipSampleRange;
        x0 = tf.clipByValue(x0, -r, r);
      }
      const std = eta * Math.sqrt(this.variance(t, tPrev));
      if (opts.useClippedModelOutput) eps = tf.div(tf.sub(sample, tf.mul(x0, Math.sqrt(a))), Math.sqrt(b));
      // "direction pointing to x_t" and x_{t-1} without noise (eq. 12)
      const direction = tf.mul(eps, Math.sqrt(Math.max(0, 1 - ap - std * std)));
      let prev = tf.add(tf.mul(x0, Math.sqrt(ap)), direction);
      if (eta > 0) {
        if (!opts.noise) throw new Error('DDIMScheduler.step: eta > 0 needs opts.noise (drawn from the run seed)');
        prev = tf.add(prev, tf.mul(opts.noise, std));
      }
      return { prevSample: prev, predOriginalSample: x0 };
    });
  }

  /** Forward process q(z_t | z_0): sqrt(abar_t) z0 + sqrt(1 - abar_t) noise; t scalar or per-sample. */
  addNoise(original: tf.Tensor, noise: tf.Tensor, t: number | readonly number[]): tf.Tensor {
    return tf.tidy(() => {
      if (typeof t === 'number') {
        const a = this.alphasCumprod[t] as number;
        return tf.add(tf.mul(original, Math.sqrt(a)), tf.mul(noise, Math.sqrt(1 - a)));
      }
      if (t.length !== original.shape[0]) throw new Error(`addNoise: ${t.length} timesteps for a batch of ${original.shape[0]}`);
      const bshape = [t.length, ...original.shape.slice(1).map(() => 1)];
      const sa = tf.tensor(t.map((ti) => Math.sqrt(this.alphasCumprod[ti] as number)), bshape);
      const sb = tf.tensor(t.map((ti) => Math.sqrt(1 - (this.alphasCumprod[ti] as number))), bshape);
      return tf.add(tf.mul(original, sa), tf.mul(noise, sb));
    });
  }
}

/** numpy's round (half to even). */
function roundHalfEven(v: number): number {
  const f = Math.floor(v);
  const d = v - f;
  if (Math.abs(d - 0.5) < 1e-9) return f % 2 === 0 ? f : f + 1;
  return Math.round(v);
}
