/**
 * The attacker's diffusion model in an experiment (issue 18): the checkpoint named by `diffusion`
 * ('default' = the shipped one), fitted to the dataset's non-target images when `diffusionFit` is
 * set, and the quality gate (../evaluation/diffusion-quality.ts) on a fixed sample of non-target
 * items, before and after fitting. Everything is cached: the fitted model by (dataset content key,
 * base checkpoint, fit settings), the gate by (model, dataset, sample).
 *
 * A fit in progress checkpoints into <cacheDir>/diffusion-fit-work/<hash>/ (atomic folders,
 * ../diffusion/train.ts), so a killed run resumes it where it stopped; the finished model is
 * published as a write-once cache entry and the work folder removed.
 */
import { existsSync, promises as fs } from 'node:fs';
import path from 'node:path';
import { writeJsonAtomic } from '../core/fsutil.js';
import { MANIFEST_FILE } from '../core/weights.js';
import type { Dataset } from '../data/dataset.js';
import { fitDiffusion } from '../diffusion/fit.js';
import { LatentDiffusion, loadDiffusion } from '../diffusion/model.js';
import { DEFAULT_QUALITY_OPTIONS, diffusionQuality, qualitySample, type DiffusionQuality } from '../evaluation/diffusion-quality.js';
import type { ArtefactCache } from './cache.js';
import type { ExperimentConfig } from './config.js';
import type { DatasetKey } from './runner.js';

/** Items the quality gate measures. */
export const QUALITY_ITEMS = 32;

export interface DiffusionStage {
  model: LatentDiffusion;
  /** Identity of the model in attack cache keys. */
  key: unknown;
  /** Gate of the base model (when fitted) and of the model the attacks use. */
  quality: { before: DiffusionQuality | null; after: DiffusionQuality };
}

async function gate(model: LatentDiffusion, modelKey: unknown, ds: Dataset, dataKey: DatasetKey, cache: ArtefactCache): Promise<DiffusionQuality> {
  const items = qualitySample(ds.itemIds.length, ds.targets, QUALITY_ITEMS, DEFAULT_QUALITY_OPTIONS.seed);
  const res = await cache.get(
    'diffusion-quality',
    { model: modelKey, data: dataKey, items, options: DEFAULT_QUALITY_OPTIONS },
    async (dir) => writeJsonAtomic(path.join(dir, 'quality.json'), await diffusionQuality(model, ds.images, items)),
    async (dir) => JSON.parse(await fs.readFile(path.join(dir, 'quality.json'), 'utf8')) as DiffusionQuality,
  );
  return res.value;
}

/** What the fitted model's cache entry depends on. */
function fitDeps(cfg: Pick<ExperimentConfig, 'diffusion' | 'diffusionFit'>, dataKey: DatasetKey, imageSize: number): unknown {
  return { data: dataKey, from: cfg.diffusion, fit: cfg.diffusionFit, imageSize };
}

/** The identity of the attacker's diffusion model in attack cache keys, without loading or fitting it. */
export function diffusionKey(cfg: Pick<ExperimentConfig, 'diffusion' | 'diffusionFit'>, dataKey: DatasetKey, imageSize: number, cache: ArtefactCache): unknown {
  return cfg.diffusionFit ? { fitted: cache.key('diffusion-fit', fitDeps(cfg, dataKey, imageSize)).hash } : cfg.diffusion;
}

/** Load (and fit, when configured) the attacker's diffusion model, and run its quality gate. */
export async function prepareDiffusion(
  cfg: Pick<ExperimentConfig, 'diffusion' | 'diffusionFit' | 'cacheDir'>,
  ds: Dataset,
  dataKey: DatasetKey,
  cache: ArtefactCache,
  log: (msg: string) => void,
): Promise<DiffusionStage> {
  const from = cfg.diffusion === 'default' ? undefined : cfg.diffusion;
  const base = await loadDiffusion(from);
  const baseKey = cfg.diffusion;
  const warn = (q: DiffusionQuality, which: string): void => {
    log(`diffusion quality (${which}): reconstruction SSIM ${q.reconSsim.toFixed(3)}, round-trip SSIM ${q.roundTripSsim.toFixed(3)} on ${q.items} non-target items`);
    if (q.warning) log(`warning: ${q.warning}`);
  };
  const before = await gate(base, baseKey, ds, dataKey, cache);
  if (!cfg.diffusionFit) {
    warn(before, cfg.diffusion);
    return { model: base, key: baseKey, quality: { before: null, after: before } };
  }
  warn(before, `${cfg.diffusion}, before fitting`);
  base.dispose();
  const fit = cfg.diffusionFit;
  const deps = fitDeps(cfg, dataKey, ds.images.size);
  const work = path.join(path.resolve(cfg.cacheDir), 'diffusion-fit-work', cache.key('diffusion-fit', deps).hash);
  const res = await cache.get(
    'diffusion-fit',
    deps,
    async (dir) => {
      const resuming = existsSync(path.join(work, 'checkpoint', MANIFEST_FILE));
      log(`${resuming ? 'resuming' : 'fitting'} the diffusion model to the dataset's non-target images (${fit.vaeSteps} VAE + ${fit.unetSteps} UNet steps, batch ${fit.batch}; checkpoints in ${work})`);
      const r = await fitDiffusion(ds, fit, { outDir: work, ...(from ? { from } : {}) });
      r.model.dispose();
      for (const f of await fs.readdir(work)) if (f !== 'checkpoint') await fs.copyFile(path.join(work, f), path.join(dir, f));
    },
    (dir) => LatentDiffusion.load(dir),
  );
  await fs.rm(work, { recursive: true, force: true });
  const key = diffusionKey(cfg, dataKey, ds.images.size, cache);
  const after = await gate(res.value, key, ds, dataKey, cache);
  warn(after, 'fitted');
  return { model: res.value, key, quality: { before, after } };
}
