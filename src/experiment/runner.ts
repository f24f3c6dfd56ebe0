/**
 * The experiment runner (spec section 11): data -> encoders -> victims -> surrogate -> diffusion ->
 * every attack on every target -> evaluation under each protocol for every seed -> results ->
 * report. Every trained artefact and every evaluated figure is cached by the hash of what it
 * depends on (./cache.ts), so a second run reuses them and a killed run resumes.
 *
 * Seeds: the encoders (F, G, C) are trained once, from the first seed; the victims, the surrogate
 * recommender, the attacks and the evaluation-user sample are re-run for every seed.
 */
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { attackTier, makeAttackContext, type Attack, type AttackResources } from '../attacks/attack.js';
import { createAttack } from '../attacks/registry.js';
import { engineBackend } from '../core/engine.js';
import { ConfigError } from '../core/errors.js';
import { writeFileAtomic, writeJsonAtomic } from '../core/fsutil.js';
import { configHash } from '../core/hash.js';
import { Progress } from '../core/progress.js';
import { Rng } from '../core/rng.js';
import { CachedImageSource, type Dataset } from '../data/dataset.js';
import { datasetContentKey } from '../data/content-key.js';
import { openDataset } from '../data/open.js';
import { applyDefence } from '../defences/index.js';
import type { LatentDiffusion } from '../diffusion/model.js';
import type { EncoderRole, ImageEncoder } from '../encoders/encoder.js';
import { extractFeatures, loadEncoder } from '../encoders/resnet.js';
import { trainEncoder } from '../encoders/train.js';
import { evaluateAccuracy } from '../evaluation/accuracy.js';
import { evaluateAip } from '../evaluation/aip-protocol.js';
import { evaluateDetector } from '../evaluation/detector.js';
import { evaluateTargets } from '../evaluation/full-ranking.js';
import { imagePairMetrics } from '../evaluation/image-metrics.js';
import { isOnnxRole, loadOnnxRole } from '../onnx/from-config.js';
import { PreferenceEncoder } from '../preference/model.js';
import { trainSurrogate } from '../preference/train.js';
import type { FitReport, Recommender, VictimKind } from '../recommenders/recommender.js';
import { createRecommender, loadRecommender } from '../recommenders/models.js';
import { victimTrainingData } from '../recommenders/training-data.js';
import { ArtefactCache } from './cache.js';
import { prepareDiffusion } from './diffusion-stage.js';
import type { AttackSpec, ExperimentConfig } from './config.js';
import { appliedConfig, preflightPaths, RunLog } from './outputs.js';
import { RowCollector, frontierPoints, rowsToCsv, type ResultsFile } from './results.js';

export const TOOL_VERSION = '0.1.0';

/** Sample images and curves the report draws (from the first seed). */
export interface ReportExtras {
  imageSize: number;
  samples: { item: string; index: number; clean: number[]; attacks: Record<string, number[]> }[];
  victimCurves: Record<string, { loss: number[]; validation: number[] }>;
  attackLogs: Record<string, { step: number; [k: string]: number }[]>;
  dataset: { name: string; users: number; items: number; interactions: number; targets: number; imageSize: number };
  evalUsers: number;
  targets: number;
}

export interface RunOutput {
  results: ResultsFile;
  extras: ReportExtras;
  outDir: string;
  files: { json: string; csv: string; log: string };
}

interface Stage {
  timings: Record<string, number>;
  log: (msg: string) => void;
}

async function timed<T>(st: Stage, name: string, fn: () => Promise<T>): Promise<T> {
  const t0 = performance.now();
  try {
    return await fn();
  } finally {
    st.timings[name] = (st.timings[name] ?? 0) + (performance.now() - t0) / 1000;
  }
}

const ROLES: readonly EncoderRole[] = ['victim', 'surrogate', 'semantic'];

/** Stack item images into one Float32Array (targets x size*size*3). */
async function packImages(ds: Dataset, items: readonly number[]): Promise<Float32Array> {
  const per = ds.images.size * ds.images.size * 3;
  const out = new Float32Array(items.length * per);
  for (let k = 0; k < items.length; k++) out.set(await ds.images.load(items[k]!), k * per);
  return out;
}

/** Features of explicit images (item -> image) under `encoder`, as item -> feature vector. */
async function featuresOf(encoder: ImageEncoder, images: ReadonlyMap<number, Float32Array>, size: number): Promise<Map<number, Float32Array>> {
  const items = [...images.keys()];
  const out = new Map<number, Float32Array>();
  const per = size * size * 3;
  for (let s = 0; s < items.length; s += 64) {
    const part = items.slice(s, s + 64);
    const buf = new Float32Array(part.length * per);
    part.forEach((i, k) => buf.set(images.get(i)!, k * per));
    const f = tf.tidy(() => encoder.encode(tf.tensor4d(buf, [part.length, size, size, 3])));
    const d = (await f.data()) as Float32Array;
    f.dispose();
    const dim = d.length / part.length;
    part.forEach((i, k) => out.set(i, d.slice(k * dim, (k + 1) * dim)));
  }
  return out;
}

function attackNeedsVictim(a: Attack): boolean {
  return a.threat.knows.includes('victimModel');
}

/**
 * Identity of a dataset for cache keys: its content key (a hash of every file of a folder, or of a
 * synthetic catalogue's parameters; ../data/content-key.ts), so that a folder edited in place
 * never reuses artefacts of its old content. Carried into every artefact key.
 */
/** What identifies a dataset in every artefact key (its content hash and sizes). */
export type DatasetKey = Readonly<Record<string, unknown>>;

export async function datasetKey(cfg: Pick<ExperimentConfig, 'dataset' | 'cacheDir'>, ds: Dataset): Promise<DatasetKey> {
  const c = await datasetContentKey(cfg.dataset, ds, path.join(path.resolve(cfg.cacheDir), 'dataset-keys'));
  return { content: c.key, users: ds.userIds.length, items: ds.itemIds.length, interactions: ds.interactions.length, imageSize: ds.images.size };
}

/** Train (or load from the cache) the encoders F, G and C, from the config's first seed. */
export async function prepareEncoders(
  ds: Dataset,
  dataKey: DatasetKey,
  cfg: Pick<ExperimentConfig, 'encoders' | 'seeds'>,
  cache: ArtefactCache,
  log: (msg: string) => void,
): Promise<{ encoders: Record<EncoderRole, ImageEncoder>; encHash: Record<EncoderRole, string> }> {
  const encSeed = cfg.seeds[0]!;
  const encoders = {} as Record<EncoderRole, ImageEncoder>;
  const encHash = {} as Record<EncoderRole, string>;
  // ONNX files first: a bad file is reported before any training (src/onnx/from-config.ts)
  for (const role of ROLES) {
    const e = cfg.encoders[role];
    if (isOnnxRole(e)) ({ encoder: encoders[role], hash: encHash[role] } = await loadOnnxRole(role, e));
  }
  for (const [r, role] of ROLES.entries()) {
    const e = cfg.encoders[role];
    if (isOnnxRole(e)) continue;
    const res = await cache.get(
      'encoder',
      { data: dataKey, role, e, seed: encSeed },
      async (dir) => {
        log(`training encoder ${role}`);
        const { encoder, report } = await trainEncoder(ds, role, { seed: encSeed * 1009 + r * 101 + 11 }, { epochs: e.epochs, batch: e.batch, lr: e.lr });
        await encoder.save(dir);
        await writeJsonAtomic(path.join(dir, 'report.json'), report);
        encoder.dispose();
      },
      (dir) => loadEncoder(dir),
    );
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
export async function surrogateFeatures(ds: Dataset, G: ImageEncoder): Promise<{ data: Float32Array; dim: number }> {
  const t = await extractFeatures(G, ds.images, Array.from({ length: ds.itemIds.length }, (_, i) => i), 128);
  const data = (await t.data()) as Float32Array;
  const dim = t.shape[1];
  t.dispose();
  return { data, dim };
}

type PlannedAttack = { spec: AttackSpec; attack: Attack | null };

/**
 * Run the experiment described by `cfg`; writes results.json, results.csv and run.log into cfg.out.
 * Paths are checked before any work (./outputs.ts); a failure is recorded in run.log (appended,
 * never truncated) and rethrown, leaving any earlier results untouched.
 */
export async function runExperiment(cfg: ExperimentConfig, opts: { quiet?: boolean } = {}): Promise<RunOutput> {
  const attacks: PlannedAttack[] = cfg.attacks.map((a) => ({ spec: a, attack: a.name === 'none' ? null : createAttack(a.name, a.params) }));
  preflightPaths(cfg, attacks.some((a) => a.attack?.threat.knows.includes('diffusion')));
  const runLog = new RunLog(path.resolve(cfg.out), opts.quiet === true);
  try {
    return await runStages(cfg, attacks, runLog.log, opts);
  } catch (err) {
    runLog.failed(err);
    throw err;
  }
}

async function runStages(cfg: ExperimentConfig, attacks: PlannedAttack[], log: (msg: string) => void, opts: { quiet?: boolean }): Promise<RunOutput> {
  const outDir = path.resolve(cfg.out);
  const logFile = path.join(outDir, 'run.log');
  const st: Stage = { timings: {}, log };
  const cache = new ArtefactCache(path.resolve(cfg.cacheDir));
  const cfgHash = configHash(cfg);
  st.log(`experiment '${cfg.name}' (config ${cfgHash}), seeds ${cfg.seeds.join(', ')}, cache ${cache.root}`);

  // ---- data
  const ds0 = await timed(st, 'data', () => openDataset(cfg.dataset));
  const ds: Dataset = { ...ds0, images: new CachedImageSource(ds0.images), split: ds0.split } as Dataset;
  if (!ds.images.hasPixels) throw new ConfigError(`dataset '${cfg.dataset}' has no pixel images; the experiment runner needs images (feature-only datasets support feature-space attacks only)`);
  const targets = cfg.maxTargets > 0 ? ds.targets.slice(0, cfg.maxTargets) : [...ds.targets];
  if (targets.length === 0) throw new ConfigError(`dataset '${cfg.dataset}' has no target items`);
  const size = ds.images.size;
  const nItems = ds.itemIds.length;
  const dataKey = await timed(st, 'data', () => datasetKey(cfg, ds));
  for (const w of (ds0 as { warnings?: readonly string[] }).warnings ?? []) st.log(`warning: ${w}`);
  st.log(`data: ${ds.userIds.length} users, ${nItems} items, ${targets.length} targets, ${size}px`);
  const needs = (k: string): boolean => attacks.some((a) => a.attack?.threat.knows.includes(k as never));

  // ---- encoders F, G, C (trained once, first seed)
  const { encoders, encHash } = await timed(st, 'encoders', () => prepareEncoders(ds, dataKey, cfg, cache, st.log));
  const all = Array.from({ length: nItems }, (_, i) => i);
  const F = encoders.victim;
  const cleanF = await timed(st, 'features', () => extractFeatures(F, ds.images, all, 128));
  // the tier's attacker encoder: F when the extractor is public (public-encoder, white-box), G when independent
  const attackerEncoder = cfg.tier === 'independent' ? encoders.surrogate : F;
  const attackerHash = cfg.tier === 'independent' ? encHash.surrogate : encHash.victim;
  const cleanG = needs('surrogateRecommender') ? await timed(st, 'features', () => surrogateFeatures(ds, attackerEncoder)) : null;
  const cleanImages = new Map<number, Float32Array>();
  for (const t of targets) cleanImages.set(t, await ds.images.load(t));

  // ---- diffusion (the attacker's)
  let diffusion: LatentDiffusion | undefined;
  const diff = needs('diffusion') ? await timed(st, 'diffusion', () => prepareDiffusion(cfg, ds, dataKey, cache, st.log)) : null;
  if (diff) diffusion = diff.model;

  const rows = new RowCollector();
  const extras: ReportExtras = {
    imageSize: size,
    samples: targets.slice(0, 4).map((t) => ({ item: ds.itemIds[t]!, index: t, clean: Array.from(cleanImages.get(t)!), attacks: {} })),
    victimCurves: {},
    attackLogs: {},
    dataset: { name: ds.info.name, users: ds.userIds.length, items: nItems, interactions: ds.interactions.length, targets: targets.length, imageSize: size },
    evalUsers: 0,
    targets: targets.length,
  };
  const trainUsers = ds.userIds.map((_, u) => u).filter((u) => (ds.split.train[u]?.length ?? 0) > 0);
  const synth = ds as Partial<{ tastes: { category: number[]; colour: number[]; pattern: number[] }[]; attributes: { category: number; colour: number; pattern: number }[] }>;
  const affinity =
    synth.tastes && synth.attributes
      ? (u: number, i: number) => {
          const t = synth.tastes![u]!;
          const a = synth.attributes![i]!;
          return t.category[a.category]! * t.colour[a.colour]! * t.pattern[a.pattern]!;
        }
      : undefined;

  const bar = new Progress('experiment', cfg.seeds.length * (cfg.victims.length + attacks.length), { quiet: opts.quiet });
  for (const seed of cfg.seeds) {
    const rng = new Rng(seed);
    const evalUsers = cfg.evalUsers > 0 && cfg.evalUsers < trainUsers.length ? rng.fork('eval-users').shuffle([...trainUsers]).slice(0, cfg.evalUsers).sort((a, b) => a - b) : trainUsers;
    extras.evalUsers = evalUsers.length;

    // ---- victims
    const victims = new Map<VictimKind, { model: Recommender; hash: string; fit: FitReport }>();
    for (const kind of cfg.victims) {
      const res = await timed(st, 'victims', () =>
        cache.get(
          'victim',
          { data: dataKey, kind, config: cfg.victimConfig, seed, encoder: encHash.victim },
          async (dir) => {
            st.log(`seed ${seed}: training victim ${kind}`);
            const m = createRecommender(kind, { ...cfg.victimConfig, seed });
            const fit = await m.fit(victimTrainingData(ds, cleanF));
            await m.save(dir);
            await writeJsonAtomic(path.join(dir, 'fit.json'), fit);
            m.dispose();
          },
          async (dir) => ({ model: await loadRecommender(dir), fit: JSON.parse(await fs.readFile(path.join(dir, 'fit.json'), 'utf8')) as FitReport }),
        ),
      );
      victims.set(kind, { ...res.value, hash: res.hash });
      if (seed === cfg.seeds[0]) extras.victimCurves[kind] = { loss: res.value.fit.lossCurve, validation: res.value.fit.validationCurve };
      // the victim's own accuracy on the test split (protocol 'test')
      const acc = await timed(st, 'evaluation', () =>
        cache.get(
          'accuracy',
          { victim: res.hash, targets },
          async (dir) => {
            const a = await evaluateAccuracy(res.value.model, { train: ds.split.train, test: ds.split.test, numItems: nItems, coldItems: ds.targets, ...(affinity ? { affinity } : {}) });
            await writeJsonAtomic(path.join(dir, 'accuracy.json'), a);
          },
          async (dir) => JSON.parse(await fs.readFile(path.join(dir, 'accuracy.json'), 'utf8')) as { hr10: number; ndcg10: number; auc: number; coldAuc: number | null },
        ),
      );
      const base = { victim: kind, attack: 'none', protocol: 'test' as const };
      rows.add({ ...base, metric: 'HR', k: 10 }, seed, [acc.value.hr10]);
      rows.add({ ...base, metric: 'NDCG', k: 10 }, seed, [acc.value.ndcg10]);
      rows.add({ ...base, metric: 'AUC', k: null }, seed, [acc.value.auc]);
      if (acc.value.coldAuc !== null && Number.isFinite(acc.value.coldAuc)) rows.add({ ...base, metric: 'coldAUC', k: null }, seed, [acc.value.coldAuc]);
      bar.tick(1, `seed ${seed} ${kind}`);
    }

    // ---- surrogate preference encoder (the attacker's recommender)
    let surrogate: { model: PreferenceEncoder; hash: string } | undefined;
    if (cleanG) {
      const res = await timed(st, 'surrogate', () => prepareSurrogate(ds, dataKey, cfg, cache, seed, cleanG, attackerHash, st.log));
      surrogate = { model: res.value, hash: res.hash };
    }

    // ---- attacks and their evaluation
    for (const { spec, attack } of attacks) {
      // white-box attacks are crafted against each visual victim; the others once for all victims
      const craftFor: (VictimKind | null)[] = attack && attackNeedsVictim(attack) ? cfg.victims.filter((v) => v !== 'bpr-mf') : [null];
      const imagesByVictim = new Map<VictimKind | null, Map<number, Float32Array>>();
      // the attack artefact each image set came from: evaluations are keyed by it, so a change of
      // what the images depend on (e.g. the tier's attacker encoder) is never served a stale evaluation
      const imagesHash = new Map<VictimKind | null, string | null>();
      for (const vk of craftFor) {
        if (!attack) {
          imagesByVictim.set(null, cleanImages);
          continue;
        }
        const v = vk ? victims.get(vk)! : undefined;
        const deps = {
          attack: attack.name,
          params: attack.params,
          seed,
          targets,
          data: dataKey,
          enc: attack.threat.knows.map((k) => ({ victimEncoder: encHash.victim, surrogateEncoder: attackerHash, semanticEncoder: encHash.semantic })[k as string] ?? k),
          victim: v?.hash ?? null,
          surrogate: attack.threat.knows.includes('surrogateRecommender') ? surrogate?.hash : null,
          diffusion: attack.threat.knows.includes('diffusion') ? diff?.key : null,
        };
        const res = await timed(st, `attack:${spec.name}`, () =>
          cache.get(
            'attack',
            deps,
            async (dir) => {
              st.log(`seed ${seed}: ${attack.name}${vk ? ` against ${vk}` : ''} on ${targets.length} targets`);
              const resources: AttackResources = {
                rng: new Rng(seed).fork(`attack:${attack.name}:${vk ?? 'any'}`),
                dataset: ds,
                tier: cfg.tier,
                victimEncoder: F,
                surrogateEncoder: attackerEncoder,
                semanticEncoder: encoders.semantic,
                ...(v ? { victimModel: v.model } : {}),
                ...(surrogate ? { surrogateRecommender: surrogate.model } : {}),
                ...(diffusion ? { diffusion } : {}),
              };
              const out = await attack.generate(targets, makeAttackContext(attack, resources));
              const per = size * size * 3;
              const buf = new Float32Array(targets.length * per);
              targets.forEach((t, k) => {
                const img = out.images.get(t);
                if (!img) throw new Error(`attack ${attack.name} returned no image for target ${t}`);
                for (let i = 0; i < img.length; i++) if (!(img[i]! >= 0 && img[i]! <= 1)) throw new Error(`attack ${attack.name}: pixel outside [0,1] for target ${t}`);
                buf.set(img, k * per);
              });
              await fs.writeFile(path.join(dir, 'images.f32'), new Uint8Array(buf.buffer));
              await writeJsonAtomic(path.join(dir, 'log.json'), { seconds: out.seconds, log: out.log });
            },
            async (dir) => {
              const raw = await fs.readFile(path.join(dir, 'images.f32'));
              const buf = new Float32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength));
              const per = size * size * 3;
              const images = new Map<number, Float32Array>();
              targets.forEach((t, k) => images.set(t, buf.subarray(k * per, (k + 1) * per)));
              const log = JSON.parse(await fs.readFile(path.join(dir, 'log.json'), 'utf8')) as { log: { step: number; [k: string]: number }[] };
              return { images, log: log.log };
            },
          ),
        );
        imagesByVictim.set(vk, res.value.images);
        imagesHash.set(vk, res.hash);
        if (seed === cfg.seeds[0] && (vk === null || vk === craftFor[0])) {
          extras.attackLogs[spec.name] = res.value.log;
          for (const s of extras.samples) s.attacks[spec.name] = Array.from(res.value.images.get(s.index)!);
        }
      }

      // image metrics (against the clean image) and detectability, from the first crafted set
      const advImages = imagesByVictim.get(craftFor[0] ?? null)!;
      if (attack) {
        const m = targets.map((t) => imagePairMetrics(cleanImages.get(t)!, advImages.get(t)!, size));
        const row = (metric: 'SSIM' | 'PSNR' | 'Linf' | 'L2', vals: number[]) => rows.add({ victim: 'any', attack: spec.name, protocol: 'full', metric, k: null }, seed, vals);
        row('SSIM', m.map((x) => x.ssim));
        row('PSNR', m.map((x) => (Number.isFinite(x.psnr) ? x.psnr : NaN)));
        row('Linf', m.map((x) => x.linf));
        row('L2', m.map((x) => x.l2));
        const sem = await semanticSim(encoders.semantic, cleanImages, advImages, size);
        rows.add({ victim: 'any', attack: spec.name, protocol: 'full', metric: 'semantic', k: null }, seed, sem);
        if (cfg.detector && targets.length >= 8) {
          const det = await timed(st, 'detector', () => evaluateDetector({ encoder: F, clean: cleanImages, adversarial: advImages, size, rng: new Rng(seed).fork(`detector:${spec.name}`) }));
          rows.add({ victim: 'any', attack: spec.name, protocol: 'full', metric: 'detectAUC', k: null }, seed, [det.auc]);
        }
      }

      // ranking evaluation for every victim (and defence)
      for (const [kind, v] of victims) {
        const imgKey = attack && attackNeedsVictim(attack) ? (kind === 'bpr-mf' ? null : kind) : null;
        const imgs = imagesByVictim.get(imgKey);
        if (!imgs) continue; // a white-box attack has nothing to craft against a non-visual victim
        for (const defence of ['none', ...cfg.defences]) {
          const ev = await timed(st, 'evaluation', () =>
            cache.get(
              'eval',
              { victim: v.hash, attack: spec.name, params: attack?.params ?? {}, images: imagesHash.get(imgKey) ?? null, seed, defence, protocols: cfg.protocols, ks: cfg.ks, users: evalUsers, targets, encoder: encHash.victim, craftedFor: attack && attackNeedsVictim(attack) ? kind : null },
              async (dir) => {
                let used = imgs;
                if (defence !== 'none') {
                  const list = targets.map((t) => imgs.get(t)!);
                  const defended = await applyDefence(defence, {}, list, size);
                  used = new Map(targets.map((t, k) => [t, defended[k]!]));
                }
                const adv = attack || defence !== 'none' ? await featuresOf(F, used, size) : null;
                const out: Record<string, unknown> = {};
                if (cfg.protocols.includes('full')) {
                  const r = await evaluateTargets(v.model, targets, adv, evalUsers, { train: ds.split.train, ks: cfg.ks, numItems: nItems });
                  out.full = r.perTarget;
                }
                if (cfg.protocols.includes('aip') && victims.has('bpr-mf')) {
                  const r = await evaluateAip(v.model, victims.get('bpr-mf')!.model, targets, adv, evalUsers, { test: ds.split.test, ks: cfg.ks });
                  out.aip = r.perTarget;
                }
                await writeJsonAtomic(path.join(dir, 'eval.json'), out);
              },
              async (dir) => JSON.parse(await fs.readFile(path.join(dir, 'eval.json'), 'utf8')) as { full?: { hr: Record<string, number>; ndcg: Record<string, number>; meanRank: number }[]; aip?: { hr: Record<string, number> }[] },
            ),
          );
          const base = { victim: kind, attack: spec.name, ...(defence !== 'none' ? { defence } : {}) };
          for (const k of cfg.ks) {
            if (ev.value.full) {
              rows.add({ ...base, protocol: 'full', metric: 'HR', k }, seed, ev.value.full.map((p) => p.hr[k]!));
              rows.add({ ...base, protocol: 'full', metric: 'NDCG', k }, seed, ev.value.full.map((p) => p.ndcg[k]!));
            }
            if (ev.value.aip) rows.add({ ...base, protocol: 'aip', metric: 'HR', k }, seed, ev.value.aip.map((p) => p.hr[k]!));
          }
          if (ev.value.full) rows.add({ ...base, protocol: 'full', metric: 'meanRank', k: null }, seed, ev.value.full.map((p) => p.meanRank));
        }
      }
      bar.tick(1, `seed ${seed} ${spec.name}`);
    }
    for (const v of victims.values()) v.model.dispose();

  }
  bar.finish();
  cleanF.dispose();
  for (const e of Object.values(encoders)) e.dispose();
  diffusion?.dispose();

  const results: ResultsFile = {
    version: '1',
    config: appliedConfig(cfg, { surrogate: cleanG !== null, diffusion: diffusion !== undefined }),
    manifest: {
      toolVersion: TOOL_VERSION,
      configHash: cfgHash,
      seeds: cfg.seeds,
      timings: Object.fromEntries(Object.entries(st.timings).map(([k, v]) => [k, Math.round(v * 10) / 10])),
      machine: { platform: `${os.platform()} ${os.arch()}`, cpu: os.cpus()[0]?.model ?? 'unknown', cores: os.cpus().length, node: process.version, backend: engineBackend() },
      cache: { hits: cache.stats.hits.length, misses: cache.stats.misses.length },
      protocolText: protocolText(cfg, targets.length, extras.evalUsers),
      dataset: extras.dataset,
      tier: cfg.tier,
      ...(diff ? { diffusionQuality: diff.quality } : {}),
      attackTiers: Object.fromEntries(attacks.filter((a) => a.attack).map((a) => [a.spec.name, attackTier(a.attack!, cfg.tier)])),
    },
    rows: rows.rows(),
  };
  results.frontier = frontierPoints(results.rows, attackNames(cfg.attacks), cfg.victims, cfg.ks);
  const files = { json: path.join(outDir, 'results.json'), csv: path.join(outDir, 'results.csv'), log: logFile };
  await writeJsonAtomic(files.json, results);
  await writeFileAtomic(files.csv, rowsToCsv(results.rows));
  st.log(`wrote ${files.json} (${results.rows.length} rows); cache hits ${cache.stats.hits.length}, misses ${cache.stats.misses.length}`);
  return { results, extras, outDir, files };
}

async function semanticSim(C: ImageEncoder, clean: ReadonlyMap<number, Float32Array>, adv: ReadonlyMap<number, Float32Array>, size: number): Promise<number[]> {
  const a = await featuresOf(C, clean, size);
  const b = await featuresOf(C, adv, size);
  return [...adv.keys()].map((i) => {
    const x = a.get(i)!;
    const y = b.get(i)!;
    let dot = 0;
    let nx = 0;
    let ny = 0;
    for (let k = 0; k < x.length; k++) {
      dot += x[k]! * y[k]!;
      nx += x[k]! * x[k]!;
      ny += y[k]! * y[k]!;
    }
    return dot / Math.sqrt(nx * ny + 1e-12);
  });
}

/** How every number was computed, in words (for results.json and the report). */
export function protocolText(cfg: ExperimentConfig, targets: number, evalUsers: number): string {
  const seeds = cfg.seeds.length;
  return [
    `Full-ranking protocol (spec section 9): for each victim, attack, target item and evaluation user, the target's rank among all items not in the user's training set, with only that target's image replaced by its adversarial version (the other targets clean).`,
    `HR@k is the mean of [rank < k] and NDCG@k the mean of 1/log2(rank + 2) when rank < k, over ${targets} target items x ${evalUsers} evaluation users; k = ${cfg.ks.join(', ')}; meanRank is the mean 0-based rank over the same pairs. Attack 'none' is the same computation with the clean images.`,
    `Threat-model tier '${cfg.tier}': the attacker's encoder (what AUV-Fusion aligns through, EXPA/PGD pull features with, and the surrogate recommender is trained on) is ${cfg.tier === 'independent' ? "the attacker's own encoder G, trained independently of the victim's F (a transfer setting)" : "the victim's public feature extractor F (AIP's and the paper's setting: the extractor is public, the recommender is not)"}; attacks that read the victim's model (INSA) are white-box reference rows.`,
    `Each figure is computed per seed (seeds ${cfg.seeds.join(', ')}: victims, surrogate recommender, attacks and user sample re-run per seed; encoders and the diffusion model trained once) and reported as the mean over seeds with a 95% Student-t interval over the ${seeds} per-seed means${seeds < 2 ? ' (one seed: interval over targets)' : ''}; n is the number of values the interval is over; intervals are clipped to the metric's range.`,
    `White-box attacks (INSA) are crafted against each visual victim separately and have no row for the non-visual BPR-MF control; the other attacks craft one image per target used against every victim. Image metrics (SSIM with an 11x11 Gaussian window, sigma 1.5, as scikit-image; PSNR; L_inf; L2 on [0,1] pixels; semantic = cosine under the semantic encoder C) compare each adversarial image with its clean image. detectAUC is the held-out ROC AUC of a logistic-regression detector on victim-encoder features trained on half of the targets' clean/adversarial pairs.`,
    `Victim accuracy (protocol 'test'): HR@10, NDCG@10 and AUC of each user's held-out test item among all items not in the training set; coldAUC restricted to cold items (see src/evaluation/accuracy.ts).`,
  ].join('\n');
}

/** The attack spec names in the order the config gives them. */
export function attackNames(specs: readonly AttackSpec[]): string[] {
  return specs.map((s) => s.name);
}
