/** `auv-fusion train victims ...`: victim recommenders, trained as `run` trains them */
import type { Command } from 'commander';
import path from 'node:path';
import { ConfigError } from '../../core/errors.js';
import { openDataset } from '../../data/open.js';
import { numItems } from '../../data/dataset.js';
import { tasteAffinity } from '../../data/synth/catalogue.js';
import { extractFeatures, loadEncoder } from '../../encoders/resnet.js';
import { evaluateAccuracy } from '../../evaluation/accuracy.js';
import { loadConfig } from '../../experiment/config.js';
import { createRecommender } from '../../recommenders/models.js';
import { victimTrainingData } from '../../recommenders/training-data.js';
import { isVisualKind, type VictimKind } from '../../recommenders/recommender.js';
import { commandGroup } from './group.js';
import { seedOption, trainConfig } from './train-config.js';

const KINDS: VictimKind[] = ['bpr-mf', 'vbpr', 'deepstyle', 'amr'];

export function registerTrainCommands(program: Command): void {
  commandGroup(program, 'train', 'Train models')
    .command('victims')
    .description('Train victim recommenders (BPR-MF, VBPR, DeepStyle, AMR) on the features of encoder F, with the experiment config\'s victimConfig; saves <out>/<kind>/')
    .requiredOption('--data <dir>', 'dataset folder, or synth:<profile>[:<seed>]')
    .option('--encoder <dir>', 'victim encoder F saved by `train encoders` (<out>/victim); needed for visual kinds')
    .requiredOption('--out <dir>', 'output folder')
    .option('--kinds <list>', 'comma-separated kinds', KINDS.join(','))
    .option('--config <file>', "experiment config (YAML/JSON): its 'victimConfig' options")
    .option('--seed <n>', 'random seed', '1')
    .option('--epochs <n>', 'maximum epochs (early stopping on validation HR@10; overrides victimConfig.epochs)')
    .action(async (o: { data: string; encoder?: string; out: string; kinds: string; config?: string; seed: string; epochs?: string }) => {
      const kinds = o.kinds.split(',').map((k) => k.trim()) as VictimKind[];
      for (const k of kinds) if (!KINDS.includes(k)) throw new ConfigError(`unknown victim kind '${k}': allowed are ${KINDS.join(', ')}`);
      const seed = seedOption(o.seed);
      if (o.epochs !== undefined && !/^[1-9]\d*$/.test(o.epochs)) throw new ConfigError(`--epochs must be a positive integer, got '${o.epochs}'`);
      const cfg = loadConfig(trainConfig(o.data, o.config, [`seeds=[${seed}]`, ...(o.epochs ? [`victimConfig.epochs=${o.epochs}`] : [])]));
      const visual = kinds.some((k) => isVisualKind(k));
      if (visual && !o.encoder) throw new ConfigError('visual victims need --encoder <dir> (the victim encoder F)');
      const ds = await openDataset(cfg.dataset);
      const all = Array.from({ length: numItems(ds) }, (_, i) => i);
      let feats;
      if (visual) {
        const enc = await loadEncoder(o.encoder!);
        feats = await extractFeatures(enc, ds.images, all, 128);
        enc.dispose();
      }
      const affinity = tasteAffinity(ds);
      for (const kind of kinds) {
        const m = createRecommender(kind, { ...cfg.victimConfig, seed });
        const rep = await m.fit(victimTrainingData(ds, feats));
        const acc = await evaluateAccuracy(m, { train: ds.split.train, test: ds.split.test, numItems: numItems(ds), coldItems: ds.targets, ...(affinity ? { affinity } : {}) });
        await m.save(path.join(o.out, kind));
        console.log(`${kind}: ${rep.epochs} epochs, ${rep.seconds.toFixed(1)} s, test HR@10 ${acc.hr10.toFixed(3)} NDCG@10 ${acc.ndcg10.toFixed(3)} AUC ${acc.auc.toFixed(3)} -> ${path.join(o.out, kind)}`);
        m.dispose();
      }
      feats?.dispose();
    });
}
