/**
 * What every stage of an experiment shares: the config, the artefact cache, the opened dataset and
 * its targets, the attacks, and lazily prepared resources (encoders, clean features, the diffusion
 * model). Products of cells (./plan.ts) are kept in memory while the run needs them; a cell whose
 * product is not in memory is loaded from the cache (or built) by ./run-cell.ts.
 */
import path from 'node:path';
import type * as tf from '@tensorflow/tfjs';
import type { Attack } from '../../attacks/attack.js';
import { createAttack } from '../../attacks/registry.js';
import { ConfigError } from '../../core/errors.js';
import { Rng } from '../../core/rng.js';
import { CachedImageSource, type Dataset } from '../../data/dataset.js';
import { openDataset } from '../../data/open.js';
import type { LatentDiffusion } from '../../diffusion/model.js';
import { prepareDiffusion, type DiffusionStage } from '../diffusion-stage.js';
import type { EncoderRole, ImageEncoder } from '../../encoders/encoder.js';
import { extractFeatures } from '../../encoders/resnet.js';
import { ArtefactCache } from '../cache.js';
import type { ExperimentConfig } from '../config.js';
import { datasetKey, ENCODER_ROLES, encoderHash, prepareEncoders, surrogateFeatures, type DatasetKey } from './prepare.js';

export interface Encoders {
  encoders: Record<EncoderRole, ImageEncoder>;
  encHash: Record<EncoderRole, string>;
}

export interface ExperimentContext {
  readonly cfg: ExperimentConfig;
  readonly cache: ArtefactCache;
  readonly ds: Dataset;
  readonly dataKey: DatasetKey;
  /** Target item indices the experiment attacks (maxTargets applied). */
  readonly targets: readonly number[];
  /** Each configured attack by spec name (null for 'none'). */
  readonly attacks: ReadonlyMap<string, Attack | null>;
  readonly log: (msg: string) => void;
  /** Seconds spent per stage name (for the manifest). */
  readonly timings: Record<string, number>;
  /** Products of cells by cell id (see ./run-cell.ts); released per seed by `releaseSeed`. */
  readonly products: Map<string, unknown>;
  /** Lazily prepared shared resources. */
  readonly lazy: Map<string, Promise<unknown>>;
  /** The diffusion model's quality gate, once the model was prepared in this process (results.json manifest). */
  diffusionQuality?: DiffusionStage['quality'];
}

/** Create each configured attack (spec name -> Attack, null for 'none'). */
export function configuredAttacks(cfg: Pick<ExperimentConfig, 'attacks'>): Map<string, Attack | null> {
  return new Map(cfg.attacks.map((a) => [a.name, a.name === 'none' ? null : createAttack(a.name, a.params)]));
}

/** Whether any configured attack reads `knowledge` (e.g. 'diffusion', 'surrogateRecommender'). */
export function attacksNeed(attacks: ReadonlyMap<string, Attack | null>, knowledge: string): boolean {
  return [...attacks.values()].some((a) => a?.threat.knows.includes(knowledge as never));
}

/** Open the dataset and the cache: everything a cell needs before it runs. */
export async function openExperiment(cfg: ExperimentConfig, log: (msg: string) => void): Promise<ExperimentContext> {
  const timings: Record<string, number> = {};
  const t0 = performance.now();
  const ds0 = await openDataset(cfg.dataset);
  const ds: Dataset = { ...ds0, images: new CachedImageSource(ds0.images), split: ds0.split } as Dataset;
  if (!ds.images.hasPixels) throw new ConfigError(`dataset '${cfg.dataset}' has no pixel images; the experiment runner needs images (feature-only datasets support feature-space attacks only)`);
  const targets = cfg.maxTargets > 0 ? ds.targets.slice(0, cfg.maxTargets) : [...ds.targets];
  if (targets.length === 0) throw new ConfigError(`dataset '${cfg.dataset}' has no target items`);
  const dataKey = await datasetKey(cfg, ds);
  timings.data = (performance.now() - t0) / 1000;
  for (const w of (ds0 as { warnings?: readonly string[] }).warnings ?? []) log(`warning: ${w}`);
  log(`data: ${ds.userIds.length} users, ${ds.itemIds.length} items, ${targets.length} targets, ${ds.images.size}px`);
  const cache = new ArtefactCache(path.resolve(cfg.cacheDir));
  return { cfg, cache, ds, dataKey, targets, attacks: configuredAttacks(cfg), log, timings, products: new Map(), lazy: new Map() };
}

/** Time `fn` under stage `name` (summed over calls). */
export async function timed<T>(ctx: Pick<ExperimentContext, 'timings'>, name: string, fn: () => Promise<T>): Promise<T> {
  const t0 = performance.now();
  try {
    return await fn();
  } finally {
    ctx.timings[name] = (ctx.timings[name] ?? 0) + (performance.now() - t0) / 1000;
  }
}

function once<T>(ctx: ExperimentContext, key: string, make: () => Promise<T>): Promise<T> {
  let p = ctx.lazy.get(key) as Promise<T> | undefined;
  if (!p) ctx.lazy.set(key, (p = make()));
  return p;
}

/** The encoders F, G, C (trained once, from the first seed). */
export function encodersOf(ctx: ExperimentContext): Promise<Encoders> {
  return once(ctx, 'encoders', () => timed(ctx, 'encoders', () => prepareEncoders(ctx.ds, ctx.dataKey, ctx.cfg, ctx.cache, ctx.log)));
}

/** The cache hashes of the encoders F, G, C (their keys), without training or loading them. */
export function encoderHashes(ctx: Pick<ExperimentContext, 'cfg' | 'cache' | 'dataKey'>): Record<EncoderRole, string> {
  const out = {} as Record<EncoderRole, string>;
  for (const role of ENCODER_ROLES) out[role] = encoderHash(ctx.cache, ctx.dataKey, ctx.cfg, role);
  return out;
}

/** The hash of the tier's attacker encoder (F, or G when independent). */
export function attackerEncoderHash(ctx: Pick<ExperimentContext, 'cfg' | 'cache' | 'dataKey'>): string {
  const h = encoderHashes(ctx);
  return ctx.cfg.tier === 'independent' ? h.surrogate : h.victim;
}

/** F features of every item (the victims' clean features). */
export function cleanVictimFeatures(ctx: ExperimentContext): Promise<tf.Tensor2D> {
  return once(ctx, 'cleanF', async () => {
    const { encoders } = await encodersOf(ctx);
    return timed(ctx, 'features', () => extractFeatures(encoders.victim, ctx.ds.images, Array.from({ length: ctx.ds.itemIds.length }, (_, i) => i), 128));
  });
}

/** The tier's attacker encoder: F when the extractor is public (public-encoder, white-box), G when independent. */
export async function attackerEncoder(ctx: ExperimentContext): Promise<{ encoder: ImageEncoder; hash: string }> {
  const { encoders, encHash } = await encodersOf(ctx);
  return ctx.cfg.tier === 'independent' ? { encoder: encoders.surrogate, hash: encHash.surrogate } : { encoder: encoders.victim, hash: encHash.victim };
}

/** Attacker-encoder features of every item (what the surrogate recommender is trained on). */
export function attackerFeatures(ctx: ExperimentContext): Promise<{ data: Float32Array; dim: number }> {
  return once(ctx, 'cleanG', async () => {
    const { encoder } = await attackerEncoder(ctx);
    return timed(ctx, 'features', () => surrogateFeatures(ctx.ds, encoder));
  });
}

/** The attacker's latent diffusion model (fitted to the dataset when configured) with its quality gate (../diffusion-stage.ts). */
export function diffusionStageOf(ctx: ExperimentContext): Promise<DiffusionStage> {
  return once(ctx, 'diffusion', () =>
    timed(ctx, 'diffusion', async () => {
      const d = await prepareDiffusion(ctx.cfg, ctx.ds, ctx.dataKey, ctx.cache, ctx.log);
      ctx.diffusionQuality = d.quality;
      return d;
    }),
  );
}

/** The attacker's latent diffusion model. */
export async function diffusionOf(ctx: ExperimentContext): Promise<LatentDiffusion> {
  return (await diffusionStageOf(ctx)).model;
}

/** The clean images of the targets. */
export function cleanImages(ctx: ExperimentContext): Promise<Map<number, Float32Array>> {
  return once(ctx, 'cleanImages', async () => {
    const m = new Map<number, Float32Array>();
    for (const t of ctx.targets) m.set(t, await ctx.ds.images.load(t));
    return m;
  });
}

/** Users with training interactions. */
export function trainUsers(ds: Dataset): number[] {
  return ds.userIds.map((_, u) => u).filter((u) => (ds.split.train[u]?.length ?? 0) > 0);
}

/** The evaluation users of `seed` (a seeded sample of `evalUsers` training users, or all of them). */
export function evalUsersOf(ctx: Pick<ExperimentContext, 'cfg' | 'ds'>, seed: number): number[] {
  const users = trainUsers(ctx.ds);
  const n = ctx.cfg.evalUsers;
  return n > 0 && n < users.length ? new Rng(seed).fork('eval-users').shuffle([...users]).slice(0, n).sort((a, b) => a - b) : users;
}

/** Dispose every product held in memory whose id starts with `prefix` (e.g. one seed's models). */
export function releaseProducts(ctx: ExperimentContext, prefix = ''): void {
  for (const [id, p] of ctx.products) {
    if (!id.startsWith(prefix)) continue;
    (p as { dispose?: () => void }).dispose?.();
    ctx.products.delete(id);
  }
}

/** Release everything: products, features, encoders, the diffusion model. */
export async function closeExperiment(ctx: ExperimentContext): Promise<void> {
  releaseProducts(ctx);
  for (const [key, p] of ctx.lazy) {
    const v = (await p.catch(() => undefined)) as unknown;
    if (key === 'encoders' && v) for (const e of Object.values((v as Encoders).encoders)) e.dispose();
    else if (key === 'diffusion' && v) (v as DiffusionStage).model.dispose();
    else (v as { dispose?: () => void } | undefined)?.dispose?.();
  }
  ctx.lazy.clear();
}
