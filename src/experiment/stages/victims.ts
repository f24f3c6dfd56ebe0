/** Stage 'victim': one victim recommender for one seed, trained on F's clean features, and its own accuracy. */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { writeJsonAtomic } from '../../core/fsutil.js';
import { tasteAffinity } from '../../data/synth/catalogue.js';
import { evaluateAccuracy } from '../../evaluation/accuracy.js';
import { PreferenceEncoder } from '../../preference/model.js';
import { createRecommender, loadRecommender } from '../../recommenders/models.js';
import type { FitReport, Recommender, VictimKind } from '../../recommenders/recommender.js';
import { victimTrainingData } from '../../recommenders/training-data.js';
import { attackerEncoderHash, attackerFeatures, cleanVictimFeatures, encoderHashes, timed, type ExperimentContext } from './context.js';
import { prepareSurrogate } from './prepare.js';

export interface Accuracy {
  hr10: number;
  ndcg10: number;
  auc: number;
  coldAuc: number | null;
}

export interface VictimProduct {
  model: Recommender;
  fit: FitReport;
  hash: string;
  accuracy: Accuracy;
  dispose(): void;
}

async function readJson<T>(file: string): Promise<T> {
  return JSON.parse(await fs.readFile(file, 'utf8')) as T;
}

/** Train (or load) victim `kind` for `seed`, and its accuracy on the test split (protocol 'test'). */
export async function victimStage(ctx: ExperimentContext, seed: number, kind: VictimKind): Promise<VictimProduct> {
  const { cfg, ds, cache } = ctx;
  const encHash = encoderHashes(ctx);
  const res = await timed(ctx, 'victims', () =>
    cache.get(
      'victim',
      { data: ctx.dataKey, kind, config: cfg.victimConfig, seed, encoder: encHash.victim },
      async (dir) => {
        ctx.log(`seed ${seed}: training victim ${kind}`);
        const m = createRecommender(kind, { ...cfg.victimConfig, seed });
        const fit = await m.fit(victimTrainingData(ds, await cleanVictimFeatures(ctx)));
        await m.save(dir);
        await writeJsonAtomic(path.join(dir, 'fit.json'), fit);
        m.dispose();
      },
      async (dir) => ({ model: await loadRecommender(dir), fit: await readJson<FitReport>(path.join(dir, 'fit.json')) }),
    ),
  );
  const affinity = tasteAffinity(ds);
  const acc = await timed(ctx, 'evaluation', () =>
    cache.get(
      'accuracy',
      { victim: res.hash, targets: ctx.targets },
      async (dir) => {
        const a = await evaluateAccuracy(res.value.model, { train: ds.split.train, test: ds.split.test, numItems: ds.itemIds.length, coldItems: ds.targets, ...(affinity ? { affinity } : {}) });
        await writeJsonAtomic(path.join(dir, 'accuracy.json'), a);
      },
      (dir) => readJson<Accuracy>(path.join(dir, 'accuracy.json')),
    ),
  );
  const model = res.value.model;
  return { model, fit: res.value.fit, hash: res.hash, accuracy: acc.value, dispose: () => model.dispose() };
}

export interface AttackerProduct {
  model: PreferenceEncoder;
  hash: string;
}

/** Stage 'attacker': the attacker's surrogate preference encoder for `seed`, on the tier's attacker-encoder features. */
export async function attackerStage(ctx: ExperimentContext, seed: number): Promise<AttackerProduct> {
  const features = await attackerFeatures(ctx);
  const res = await timed(ctx, 'surrogate', () => prepareSurrogate(ctx.ds, ctx.dataKey, ctx.cfg, ctx.cache, seed, features, attackerEncoderHash(ctx), ctx.log));
  return { model: res.value, hash: res.hash };
}
