/** `auv-fusion train encoders|victims ...` commands: image encoders and victim recommenders */
import type { Command } from 'commander';
import path from 'node:path';
import { ConfigError } from '../../core/errors.js';
import { openDataset } from '../../data/open.js';
import { numItems } from '../../data/dataset.js';
import { extractFeatures, loadEncoder } from '../../encoders/resnet.js';
import { createRecommender } from '../../recommenders/models.js';
import { victimTrainingData } from '../../recommenders/training-data.js';
import type { VictimKind } from '../../recommenders/recommender.js';
import { evaluateAccuracy } from '../../evaluation/accuracy.js';
import { commandGroup } from './group.js';

const KINDS: VictimKind[] = ['bpr-mf', 'vbpr', 'deepstyle', 'amr'];

export function registerTrainCommands(program: Command): void {
  commandGroup(program, 'train', 'Train models')
    .command('victims')
    .description('Train victim recommenders (BPR-MF, VBPR, DeepStyle, AMR) on the features of encoder F; saves <out>/<kind>/')
    .requiredOption('--data <dir>', 'dataset folder, or synth:<profile>[:<seed>]')
    .option('--encoder <dir>', 'victim encoder F saved by `train encoders` (<out>/victim); needed for visual kinds')
    .requiredOption('--out <dir>', 'output folder')
    .option('--kinds <list>', 'comma-separated kinds', KINDS.join(','))
    .option('--seed <n>', 'random seed', '1')
    .option('--epochs <n>', 'maximum epochs (early stopping on validation HR@10)')
    .action(async (o: { data: string; encoder?: string; out: string; kinds: string; seed: string; epochs?: string }) => {
      const kinds = o.kinds.split(',').map((k) => k.trim()) as VictimKind[];
      for (const k of kinds) if (!KINDS.includes(k)) throw new ConfigError(`unknown victim kind '${k}': allowed are ${KINDS.join(', ')}`);
      const seed = Number(o.seed);
      if (!Number.isInteger(seed) || seed < 0) throw new ConfigError(`--seed must be a non-negative integer, got '${o.seed}'`);
      const epochs = o.epochs === undefined ? undefined : Number(o.epochs);
      if (epochs !== undefined && (!Number.isInteger(epochs) || epochs < 1)) throw new ConfigError(`--epochs must be a positive integer, got '${o.epochs}'`);
      const visual = kinds.some((k) => k !== 'bpr-mf');
      if (visual && !o.encoder) throw new ConfigError('visual victims need --encoder <dir> (the victim encoder F)');
      const ds = await openDataset(o.data, { seed });
      const all = Array.from({ length: numItems(ds) }, (_, i) => i);
      let feats;
      if (visual) {
        const enc = await loadEncoder(o.encoder!);
        feats = await extractFeatures(enc, ds.images, all, 256);
        enc.dispose();
      }
      for (const kind of kinds) {
        const m = createRecommender(kind, { seed, ...(epochs ? { epochs } : {}) });
        const rep = await m.fit(victimTrainingData(ds, feats));
        const acc = await evaluateAccuracy(m, { train: ds.split.train, test: ds.split.test, numItems: numItems(ds) });
        await m.save(path.join(o.out, kind));
        console.log(`${kind}: ${rep.epochs} epochs, ${rep.seconds.toFixed(1)} s, test HR@10 ${acc.hr10.toFixed(3)} NDCG@10 ${acc.ndcg10.toFixed(3)} AUC ${acc.auc.toFixed(3)} -> ${path.join(o.out, kind)}`);
        m.dispose();
      }
      feats?.dispose();
    });
}
