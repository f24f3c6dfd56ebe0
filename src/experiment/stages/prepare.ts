/**
 * Preparation shared by every command that needs the experiment's models: the dataset's cache
 * identity, the encoders F, G, C and the attacker's surrogate recommender, each trained once and
 * cached by exactly what it depends on (../cache.ts). `auv-fusion run`, `attack` and the `train`
 * commands all go through these functions, so they train (and reuse) the same artefacts.
 */
import { createHash } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { ConfigError } from '../../core/errors.js';
import { configHash } from '../../core/hash.js';
import { writeJsonAtomic } from '../../core/fsutil.js';
import type { Dataset } from '../../data/dataset.js';
import { datasetContentKey } from '../../data/content-key.js';
import type { EncoderRole, ImageEncoder } from '../../encoders/encoder.js';
import { allItemFeatures } from '../../encoders/features.js';
import { loadEncoder } from '../../encoders/resnet.js';
import { trainEncoder } from '../../encoders/train.js';
import { PreferenceEncoder } from '../../preference/model.js';
import { trainSurrogate } from '../../preference/train.js';
import { isOnnxRole, loadOnnxRole } from '../../onnx/from-config.js';
import type { ArtefactCache } from '../cache.js';
import type { ExperimentConfig } from '../config.js';

export const ENCODER_ROLES: readonly EncoderRole[] = ['victim', 'surrogate', 'semantic'];

/**
 * Identity of a dataset for cache keys: its content key (a hash of every file of a folder, or of a
 * synthetic catalogue's parameters; ../../data/content-key.ts), so that a folder edited in place
 * never reuses artefacts of its old content. Carried into every artefact key.
 */
export type DatasetKey = Readonly<Record<string, unknown>>;

export async function datasetKey(cfg: Pick<ExperimentConfig, 'dataset' | 'cacheDir'>, ds: Dataset): Promise<DatasetKey> {
  const c = await datasetContentKey(cfg.dataset, ds, path.join(path.resolve(cfg.cacheDir), 'dataset-keys'));
  return { content: c.key, users: ds.userIds.length, items: ds.itemIds.length, interactions: ds.interactions.length, imageSize: ds.images.size };
}

/** The training seed of encoder `role` in an experiment whose first seed is `firstSeed` (`run` and `train encoders` share it). */
export function encoderSeed(firstSeed: number, role: EncoderRole): number {
  return firstSeed * 1009 + ENCODER_ROLES.indexOf(role) * 101 + 11;
}

/** The cache key of encoder `role` (what it depends on). */
export function encoderDeps(dataKey: DatasetKey, cfg: Pick<ExperimentConfig, 'encoders' | 'seeds'>, role: EncoderRole): unknown {
  return { data: dataKey, role, e: cfg.encoders[role], seed: cfg.seeds[0]! };
}

/** Train encoder `role` as the experiment does (its options, the seed derived from the first seed); `run` and `train encoders` share it. */
export function trainRoleEncoder(ds: Dataset, cfg: Pick<ExperimentConfig, 'encoders' | 'seeds'>, role: EncoderRole): ReturnType<typeof trainEncoder> {
  const e = cfg.encoders[role];
  if (isOnnxRole(e)) throw new ConfigError(`encoders.${role} is an ONNX file (${e.onnx}): there is nothing to train`);
  return trainEncoder(ds, role, { seed: encoderSeed(cfg.seeds[0]!, role) }, { epochs: e.epochs, batch: e.batch, lr: e.lr });
}

/** Train (or load from the cache) one encoder, from the config's first seed. */
export async function prepareEncoder(
  ds: Dataset,
  dataKey: DatasetKey,
  cfg: Pick<ExperimentConfig, 'encoders' | 'seeds'>,
  cache: ArtefactCache,
  role: EncoderRole,
  log: (msg: string) => void,
): Promise<{ value: ImageEncoder; hash: string; dir: string }> {
  const deps = encoderDeps(dataKey, cfg, role);
  const res = await cache.get(
    'encoder',
    deps,
    async (dir) => {
      log(`training encoder ${role}`);
      const { encoder, report } = await trainRoleEncoder(ds, cfg, role);
      await encoder.save(dir);
      await writeJsonAtomic(path.join(dir, 'report.json'), report);
      encoder.dispose();
    },
    (dir) => loadEncoder(dir),
  );
  return { ...res, dir: cache.key('encoder', deps).dir };
}

/**
 * The hash that stands for encoder `role` in every artefact key, without loading it: a trained
 * encoder's cache key, or an ONNX file's content hash with its role settings (src/onnx/from-config.ts).
 */
export function encoderHash(cache: ArtefactCache, dataKey: DatasetKey, cfg: Pick<ExperimentConfig, 'encoders' | 'seeds'>, role: EncoderRole): string {
  const e = cfg.encoders[role];
  if (!isOnnxRole(e)) return cache.key('encoder', encoderDeps(dataKey, cfg, role)).hash;
  return configHash({ onnx: onnxFileHash(e.onnx, `encoders.${role}.onnx`), settings: e });
}

/** SHA-256 of an ONNX file, read once per (path, size, mtime): every cell asks for the encoders' hashes. */
const onnxHashes = new Map<string, string>();
function onnxFileHash(file: string, key: string): string {
  try {
    const st = statSync(file);
    const id = `${path.resolve(file)}:${st.size}:${st.mtimeMs}`;
    let h = onnxHashes.get(id);
    if (!h) onnxHashes.set(id, (h = createHash('sha256').update(readFileSync(file)).digest('hex')));
    return h;
  } catch (err) {
    throw new ConfigError(`${key}: cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
}

/** Train (or load from the cache) the encoders F, G and C, from the config's first seed; ONNX roles are loaded first, so a bad file stops the run before any training. */
export async function prepareEncoders(
  ds: Dataset,
  dataKey: DatasetKey,
  cfg: Pick<ExperimentConfig, 'encoders' | 'seeds'>,
  cache: ArtefactCache,
  log: (msg: string) => void,
): Promise<{ encoders: Record<EncoderRole, ImageEncoder>; encHash: Record<EncoderRole, string> }> {
  const encoders = {} as Record<EncoderRole, ImageEncoder>;
  const encHash = {} as Record<EncoderRole, string>;
  for (const role of ENCODER_ROLES) {
    const e = cfg.encoders[role];
    if (!isOnnxRole(e)) continue;
    encoders[role] = (await loadOnnxRole(role, e)).encoder;
    encHash[role] = encoderHash(cache, dataKey, cfg, role);
  }
  for (const role of ENCODER_ROLES) {
    if (isOnnxRole(cfg.encoders[role])) continue;
    const res = await prepareEncoder(ds, dataKey, cfg, cache, role, log);
    encoders[role] = res.value;
    encHash[role] = res.hash;
  }
  return { encoders, encHash };
}

/** Train (or load) the attacker's surrogate preference encoder for one seed (spec section 5). */
export async function prepareSurrogate(
  ds: Dataset,
  dataKey: DatasetKey,
  cfg: Pick<ExperimentConfig, 'surrogate'>,
  cache: ArtefactCache,
  seed: number,
  features: { data: Float32Array; dim: number },
  encoderHash: string,
  log: (msg: string) => void,
): Promise<{ value: PreferenceEncoder; hash: string }> {
  return cache.get(
    'surrogate',
    { data: dataKey, config: cfg.surrogate, seed, encoder: encoderHash },
    async (dir) => {
      log(`seed ${seed}: training the surrogate preference encoder`);
      const { model } = await trainSurrogate(ds, features, cfg.surrogate, seed);
      await model.save(dir);
    },
    (dir) => PreferenceEncoder.load(dir),
  );
}

/** G features of every item, as the preference encoder takes them. */
export function surrogateFeatures(ds: Dataset, G: ImageEncoder): Promise<{ data: Float32Array; dim: number }> {
  return allItemFeatures(G, ds.images, ds.itemIds.length, 128);
}
