/**
 * Training of the latent diffusion model (spec section 6): first the VAE (L1 reconstruction +
 * beta * KL), then the UNet by DDPM epsilon-prediction on the VAE's latents (1000 timesteps).
 *
 * Checkpoints (weights, optimizer state, step, losses) are written atomically as a whole folder
 * every `checkpointEvery` steps; a run killed at any moment and started again resumes from the
 * last checkpoint and, because every batch and noise draw is derived from (seed, phase, step),
 * continues exactly as an uninterrupted run would.
 */
import { existsSync, promises as fs } from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { z } from 'zod';
import { fastAdam } from '../core/kernels/adam.js';
import { writeDirAtomic, writeFileAtomic } from '../core/fsutil.js';
import { Progress } from '../core/progress.js';
import { Rng } from '../core/rng.js';
import type { Dataset } from '../data/dataset.js';
import { DEFAULT_DIFFUSION_MODEL_CONFIG, LatentDiffusion, type DiffusionModelConfig } from './model.js';
import { DEFAULT_UNET_CONFIG } from './unet.js';
import { DEFAULT_VAE_CONFIG } from './vae.js';
import { assignVariables, loadModel, MANIFEST_FILE, saveModel, toTensor } from '../core/weights.js';

export interface DiffusionTrainConfig {
  model: DiffusionModelConfig;
  seed: number;
  vae: { steps: number; batch: number; lr: number; klWeight: number };
  unet: { steps: number; batch: number; lr: number };
  checkpointEvery: number;
  /** Fraction of items held out of training, for the reported reconstruction metrics. */
  holdoutFraction: number;
  /** At most this many training images are kept in memory (sampled by seed). */
  maxImages: number;
  /** Stored precision of the final weights. */
  dtype: 'float32' | 'float16';
}

export const DEFAULT_DIFFUSION_TRAIN_CONFIG: DiffusionTrainConfig = {
  model: DEFAULT_DIFFUSION_MODEL_CONFIG,
  seed: 1,
  vae: { steps: 1200, batch: 32, lr: 2e-3, klWeight: 1e-5 },
  unet: { steps: 2500, batch: 64, lr: 1e-3 },
  checkpointEvery: 100,
  holdoutFraction: 0.05,
  maxImages: 6000,
  dtype: 'float16',
};

const positiveInts = z.array(z.number().int().min(1)).min(1);
const modelSchema = z
  .object({
    /** Image size the model trains at (the dataset's size is used when it differs). */
    imageSize: z.number().int().min(8).default(DEFAULT_DIFFUSION_MODEL_CONFIG.imageSize),
    vae: z
      .object({ channels: positiveInts.default(DEFAULT_VAE_CONFIG.channels), latentChannels: z.number().int().min(1).default(DEFAULT_VAE_CONFIG.latentChannels), groups: z.number().int().min(1).default(DEFAULT_VAE_CONFIG.groups) })
      .strict()
      .prefault({}),
    unet: z
      .object({
        channels: positiveInts.default(DEFAULT_UNET_CONFIG.channels),
        groups: z.number().int().min(1).default(DEFAULT_UNET_CONFIG.groups),
        timeEmbedDim: z.number().int().min(2).default(DEFAULT_UNET_CONFIG.timeEmbedDim),
        attention: z.boolean().default(DEFAULT_UNET_CONFIG.attention),
      })
      .strict()
      .prefault({}),
    /** DDIM scheduler settings (diffusers' names); unset keys keep the shipped model's. */
    scheduler: z
      .object({
        numTrainTimesteps: z.number().int().min(2),
        betaStart: z.number().positive(),
        betaEnd: z.number().positive(),
        betaSchedule: z.enum(['linear', 'scaled_linear', 'squaredcos_cap_v2']),
        clipSample: z.boolean(),
        clipSampleRange: z.number().positive(),
        setAlphaToOne: z.boolean(),
        stepsOffset: z.number().int().min(0),
        predictionType: z.enum(['epsilon', 'sample', 'v_prediction']),
        timestepSpacing: z.enum(['leading', 'trailing', 'linspace']),
      })
      .partial()
      .strict()
      .transform((s) => ({ ...DEFAULT_DIFFUSION_MODEL_CONFIG.scheduler, ...s }))
      .prefault({}),
  })
  .strict();

/**
 * Settings of `auv-fusion train diffusion` (the experiment config's `diffusionTrain` key, read by
 * the experiment's loader); every default is DEFAULT_DIFFUSION_TRAIN_CONFIG's.
 */
export const DiffusionTrainSchema = z
  .object({
    model: modelSchema.prefault({}),
    /** Seed of the initial weights, batches and noise. */
    seed: z.number().int().min(0).default(DEFAULT_DIFFUSION_TRAIN_CONFIG.seed),
    vae: z
      .object({
        steps: z.number().int().min(0).default(DEFAULT_DIFFUSION_TRAIN_CONFIG.vae.steps),
        batch: z.number().int().min(1).default(DEFAULT_DIFFUSION_TRAIN_CONFIG.vae.batch),
        lr: z.number().positive().default(DEFAULT_DIFFUSION_TRAIN_CONFIG.vae.lr),
        klWeight: z.number().min(0).default(DEFAULT_DIFFUSION_TRAIN_CONFIG.vae.klWeight),
      })
      .strict()
      .prefault({}),
    unet: z
      .object({
        steps: z.number().int().min(0).default(DEFAULT_DIFFUSION_TRAIN_CONFIG.unet.steps),
        batch: z.number().int().min(1).default(DEFAULT_DIFFUSION_TRAIN_CONFIG.unet.batch),
        lr: z.number().positive().default(DEFAULT_DIFFUSION_TRAIN_CONFIG.unet.lr),
      })
      .strict()
      .prefault({}),
    /** Checkpoint every this many steps (a killed run resumes from the last one). */
    checkpointEvery: z.number().int().min(1).default(DEFAULT_DIFFUSION_TRAIN_CONFIG.checkpointEvery),
    /** Fraction of items held out of training, for the reported reconstruction metrics. */
    holdoutFraction: z.number().min(0).max(0.5).default(DEFAULT_DIFFUSION_TRAIN_CONFIG.holdoutFraction),
    /** At most this many training images in memory (sampled by seed). */
    maxImages: z.number().int().min(1).default(DEFAULT_DIFFUSION_TRAIN_CONFIG.maxImages),
    /** Stored precision of the final weights. */
    dtype: z.enum(['float32', 'float16']).default(DEFAULT_DIFFUSION_TRAIN_CONFIG.dtype),
  })
  .strict();

interface TrainState {
  phase: 'vae' | 'unet' | 'done';
  step: number;
  latentScale: number;
  vaeLoss: number[];
  unetLoss: number[];
  seconds: number;
}

export interface DiffusionTrainResult {
  model: LatentDiffusion;
  state: TrainState;
  holdout: number[];
  resumedFrom: { phase: string; step: number } | null;
}

export interface DiffusionTrainOptions {
  outDir: string;
  /** Stop after this many optimisation steps in this call (tests simulate a kill with it). */
  stopAfterSteps?: number;
  quiet?: boolean;
  /** Start from these weights instead of a fresh initialisation (fine-tuning; its config must be cfg.model). */
  init?: LatentDiffusion;
  /** Train on these items only (default: all); the holdout is drawn from them. */
  items?: readonly number[];
}

/** Items held out of diffusion training (for reported metrics) and the training pool, by seed. */
export function diffusionItemSplit(numItems: number, cfg: Pick<DiffusionTrainConfig, 'seed' | 'holdoutFraction' | 'maxImages'>): { holdout: number[]; pool: number[] } {
  const order = new Rng(cfg.seed).fork('diffusion-train').fork('holdout').shuffle(Array.from({ length: numItems }, (_, i) => i));
  const nHold = Math.max(1, Math.round(order.length * cfg.holdoutFraction));
  return { holdout: order.slice(0, nHold).sort((a, b) => a - b), pool: order.slice(nHold, nHold + cfg.maxImages) };
}

/** One training run: the model, its optimisers, the training images and the mutable progress. */
interface TrainRun {
  cfg: DiffusionTrainConfig;
  opts: DiffusionTrainOptions;
  rng: Rng;
  model: LatentDiffusion;
  vaeOpt: ReturnType<typeof fastAdam>;
  unetOpt: ReturnType<typeof fastAdam>;
  ckptDir: string;
  state: TrainState;
  /** Steps this call may still take (opts.stopAfterSteps). */
  budget: number;
  /** Wall-clock origin, so that `state.seconds` accumulates over resumed runs. */
  t0: number;
  poolSize: number;
  /** Training images `idx` (indices into the pool) as a batch. */
  batchOf(idx: Int32Array): tf.Tensor4D;
}

/** The pool's images in memory and a batch maker over them. */
async function poolBatches(ds: Dataset, pool: readonly number[], size: number): Promise<(idx: Int32Array) => tf.Tensor4D> {
  const per = size * size * 3;
  const images = new Float32Array(pool.length * per);
  for (let k = 0; k < pool.length; k++) images.set(await ds.images.load(pool[k] as number), k * per);
  return (idx) => {
    const buf = new Float32Array(idx.length * per);
    for (let k = 0; k < idx.length; k++) buf.set(images.subarray((idx[k] as number) * per, ((idx[k] as number) + 1) * per), k * per);
    return tf.tensor4d(buf, [idx.length, size, size, 3]);
  };
}

const OPTIMISERS = ['vae-opt', 'unet-opt'] as const;

/** Restore weights, optimiser state and progress from `run.ckptDir` when a checkpoint is there. */
async function resume(run: TrainRun): Promise<DiffusionTrainResult['resumedFrom']> {
  const { ckptDir, model } = run;
  if (!existsSync(path.join(ckptDir, MANIFEST_FILE))) return null;
  const file = await loadModel<TrainState>(ckptDir, 'diffusion-train-state');
  run.state = file.config;
  assignVariables(model.namedWeights(), file, ckptDir);
  for (const name of OPTIMISERS) {
    const prefix = `${name}/`;
    const slots = [...file.tensors].filter(([n]) => n.startsWith(prefix)).map(([n, h]) => ({ index: Number(n.slice(prefix.length).split(':')[0]), name: n.slice(prefix.length).split(':').slice(1).join(':'), tensor: toTensor(h) }));
    if (slots.length === 0) continue;
    await optimiserOf(run, name).setWeights(slots.sort((a, b) => a.index - b.index).map(({ name: n, tensor }) => ({ name: n, tensor })));
  }
  model.latentScale = run.state.latentScale;
  return { phase: run.state.phase, step: run.state.step };
}

function optimiserOf(run: TrainRun, name: (typeof OPTIMISERS)[number]): TrainRun['vaeOpt'] {
  return name === 'vae-opt' ? run.vaeOpt : run.unetOpt;
}

/** Weights, optimiser slots (`<opt>/<index>:<name>`) and progress, as one model folder replaced atomically. */
async function checkpoint(run: TrainRun): Promise<void> {
  const { model, state } = run;
  state.seconds = (Date.now() - run.t0) / 1000;
  const tensors: [string, tf.Tensor][] = [...model.namedWeights()];
  for (const name of OPTIMISERS) (await optimiserOf(run, name).getWeights()).forEach((w, i) => tensors.push([`${name}/${i}:${w.name}`, w.tensor]));
  await writeDirAtomic(run.ckptDir, (tmp) => saveModel(tmp, { kind: 'diffusion-train-state', config: state, tensors }));
}

/** Book-keeping after one optimisation step of `phase`: loss recorded, step counted, checkpoint on schedule. */
async function afterStep(run: TrainRun, phase: 'vae' | 'unet', lv: number, bar: Progress): Promise<void> {
  const { cfg, state } = run;
  if (!Number.isFinite(lv)) throw new Error(`${phase === 'vae' ? 'VAE' : 'UNet'} loss became ${lv} at step ${state.step}; lower ${phase}.lr`);
  (phase === 'vae' ? state.vaeLoss : state.unetLoss).push(lv);
  state.step++;
  run.budget--;
  bar.tick(1, `loss ${lv.toFixed(4)}`);
  if (state.step % cfg.checkpointEvery === 0 || state.step === cfg[phase].steps) await checkpoint(run);
}

/** Phase 1: VAE. L = |D(z) - x|_1 + beta * KL(q(z|x) || N(0, I)), z = mu + sigma * n. */
async function trainVae(run: TrainRun): Promise<void> {
  const { cfg, model, state } = run;
  const vaeVars = model.vae.params.list();
  const bar = new Progress('train VAE', cfg.vae.steps, { quiet: run.opts.quiet });
  bar.tick(state.step);
  while (state.step < cfg.vae.steps && run.budget > 0) {
    const r = run.rng.fork(`vae-step-${state.step}`);
    const idx = r.intArray(Math.min(cfg.vae.batch, run.poolSize), run.poolSize);
    const x = run.batchOf(idx);
    const lat = model.latentShape;
    const n = tf.tensor4d(r.normalArray(idx.length * lat[0] * lat[1] * lat[2]), [idx.length, ...lat]);
    const loss = run.vaeOpt.minimize(
      () => {
        const { mean, logvar } = model.vae.encodeMoments(x);
        const z = tf.add(mean, tf.mul(tf.exp(tf.mul(logvar, 0.5)), n)) as tf.Tensor4D;
        const rec = tf.mean(tf.abs(tf.sub(model.vae.decode(z), x)));
        const kl = tf.mul(0.5, tf.mean(tf.sub(tf.add(tf.square(mean), tf.exp(logvar)), tf.add(logvar, 1))));
        return tf.add(rec, tf.mul(kl, cfg.vae.klWeight)) as tf.Scalar;
      },
      true,
      vaeVars,
    )!;
    const lv = (await loss.data())[0] as number;
    tf.dispose([x, n, loss]);
    await afterStep(run, 'vae', lv, bar);
  }
  bar.finish();
  if (state.step >= cfg.vae.steps) {
    state.latentScale = model.latentScale = await latentScale(run);
    state.phase = 'unet';
    state.step = 0;
    await checkpoint(run);
  }
}

/** 1 / std of the latent means over the training pool (Stable Diffusion's scaling factor). */
async function latentScale(run: TrainRun): Promise<number> {
  const { model } = run;
  model.latentScale = 1;
  let s1 = 0;
  let s2 = 0;
  let cnt = 0;
  for (let k = 0; k < run.poolSize; k += 64) {
    const idx = Int32Array.from({ length: Math.min(64, run.poolSize - k) }, (_, j) => k + j);
    const x = run.batchOf(idx);
    const z = model.encode(x);
    const d = (await z.data()) as Float32Array;
    for (const v of d) {
      s1 += v;
      s2 += v * v;
    }
    cnt += d.length;
    tf.dispose([x, z]);
  }
  const std = Math.sqrt(Math.max(1e-12, s2 / cnt - (s1 / cnt) ** 2));
  return 1 / std;
}

/** Phase 2: UNet, DDPM epsilon objective: E_{z0,t,n} |eps_theta(sqrt(abar_t) z0 + sqrt(1-abar_t) n, t) - n|^2. */
async function trainUnet(run: TrainRun): Promise<void> {
  const { cfg, model, state } = run;
  const unetVars = model.unet.params.list();
  const T = model.scheduler.config.numTrainTimesteps;
  const bar = new Progress('train UNet', cfg.unet.steps, { quiet: run.opts.quiet });
  bar.tick(state.step);
  while (state.step < cfg.unet.steps && run.budget > 0) {
    const r = run.rng.fork(`unet-step-${state.step}`);
    const idx = r.intArray(Math.min(cfg.unet.batch, run.poolSize), run.poolSize);
    const ts = Array.from(r.intArray(idx.length, T));
    const lat = model.latentShape;
    const noiseArr = r.normalArray(idx.length * lat[0] * lat[1] * lat[2]);
    const postArr = r.normalArray(idx.length * lat[0] * lat[1] * lat[2]);
    const x = run.batchOf(idx);
    const zt = tf.tidy(() => {
      const { mean, logvar } = model.vae.encodeMoments(x);
      const z0 = tf.mul(tf.add(mean, tf.mul(tf.exp(tf.mul(logvar, 0.5)), tf.tensor(postArr, mean.shape))), model.latentScale);
      return model.scheduler.addNoise(z0, tf.tensor(noiseArr, mean.shape), ts) as tf.Tensor4D;
    });
    const noise = tf.tensor4d(noiseArr, [idx.length, ...lat]);
    const loss = run.unetOpt.minimize(() => tf.mean(tf.square(tf.sub(model.predictNoise(zt, ts), noise))) as tf.Scalar, true, unetVars)!;
    const lv = (await loss.data())[0] as number;
    tf.dispose([x, zt, noise, loss]);
    await afterStep(run, 'unet', lv, bar);
  }
  bar.finish();
  if (state.step >= cfg.unet.steps) state.phase = 'done';
}

/** Train (or resume training) on `ds`; the final model is written to `outDir`. */
export async function trainDiffusion(ds: Dataset, cfg: DiffusionTrainConfig, opts: DiffusionTrainOptions): Promise<DiffusionTrainResult> {
  const size = cfg.model.imageSize;
  if (ds.images.size !== size) throw new Error(`diffusion config imageSize ${size} differs from the dataset's ${ds.images.size}px images`);
  const split = diffusionItemSplit(opts.items?.length ?? ds.itemIds.length, cfg);
  const [holdout, pool] = [split.holdout, split.pool].map((l) => (opts.items ? l.map((k) => opts.items![k]!) : l)) as [number[], number[]];
  const run: TrainRun = {
    cfg,
    opts,
    rng: new Rng(cfg.seed).fork('diffusion-train'),
    batchOf: await poolBatches(ds, pool, size),
    poolSize: pool.length,
    model: opts.init ?? new LatentDiffusion(cfg.model, new Rng(cfg.seed).fork('diffusion-init')),
    ckptDir: path.join(opts.outDir, 'checkpoint'),
    state: { phase: 'vae', step: 0, latentScale: opts.init?.latentScale ?? 1, vaeLoss: [], unetLoss: [], seconds: 0 },
    vaeOpt: fastAdam(cfg.vae.lr),
    unetOpt: fastAdam(cfg.unet.lr),
    budget: opts.stopAfterSteps ?? Infinity,
    t0: 0,
  };
  const resumedFrom = await resume(run);
  run.t0 = Date.now() - run.state.seconds * 1000;
  if (run.state.phase === 'vae') await trainVae(run);
  if (run.state.phase === 'unet' && run.budget > 0) await trainUnet(run);
  const { model, state } = run;
  if (state.phase === 'done') {
    state.seconds = (Date.now() - run.t0) / 1000;
    model.training = {
      dataset: ds.info.name,
      seed: cfg.seed,
      vaeSteps: cfg.vae.steps,
      unetSteps: cfg.unet.steps,
      finalVaeLoss: mean(state.vaeLoss.slice(-50)),
      finalUnetLoss: mean(state.unetLoss.slice(-50)),
      seconds: Math.round(state.seconds),
      holdoutItems: holdout.length,
    };
    await model.save(opts.outDir, cfg.dtype);
    await writeFileAtomic(path.join(opts.outDir, 'curves.json'), JSON.stringify({ vaeLoss: state.vaeLoss, unetLoss: state.unetLoss }) + '\n');
    await writeFileAtomic(path.join(opts.outDir, 'train-config.json'), JSON.stringify(cfg, null, 2) + '\n');
  }
  run.vaeOpt.dispose();
  run.unetOpt.dispose();
  return { model, state, holdout, resumedFrom };
}

function mean(xs: number[]): number {
  return xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : NaN;
}
