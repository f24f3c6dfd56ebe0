/**
 * Train the demo's victims on one dataset/seed with the demo's settings and print each fit's time,
 * epochs and final loss/validation (issue 15's victims-stage profile). The encoders come from the
 * cache (trained there by a demo run); F's features are extracted once.
 *   node --import tsx scripts/profile-victims.ts [--dataset synth:default:1] [--cache DIR] [--seed 1] [--victims vbpr,amr]
 * Prefix with `node --cpu-prof --cpu-prof-dir=DIR` for a profile.
 */
import * as tf from '@tensorflow/tfjs';
import { initEngine } from '../src/core/engine.js';
import { extractFeatures } from '../src/encoders/resnet.js';
import { createRecommender } from '../src/recommenders/models.js';
import type { VictimKind } from '../src/recommenders/recommender.js';
import { victimTrainingData } from '../src/recommenders/training-data.js';
import { attackerSetup } from './lib/attacker-setup.js';

function arg(name: string, dflt: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1]! : dflt;
}

async function main(): Promise<void> {
  await initEngine();
  const seed = Number(arg('seed', '1'));
  const s = await attackerSetup(arg('dataset', 'synth:default:1'), arg('cache', '.auv-cache'), seed);
  const all = Array.from({ length: s.ds.itemIds.length }, (_, i) => i);
  const t0 = Date.now();
  const feats = await extractFeatures(s.encoders.victim, s.ds.images, all, 128);
  process.stderr.write(`features ${feats.shape.join('x')} in ${((Date.now() - t0) / 1000).toFixed(1)} s\n`);
  const kinds = arg('victims', s.cfg.victims.join(',')).split(',') as VictimKind[];
  for (const kind of kinds) {
    const m = createRecommender(kind, { ...s.cfg.victimConfig, seed });
    const fit = await m.fit(victimTrainingData(s.ds, feats));
    const curve = fit.validationCurve.map((v) => v.toFixed(4)).join(' ');
    console.log(`${kind}: ${fit.seconds.toFixed(1)} s, ${fit.epochs} epochs (best ${fit.bestEpoch}), loss ${fit.lossCurve.at(-1)!.toFixed(6)}, val HR@10 ${curve}, tensors ${tf.memory().numTensors}`);
    m.dispose();
  }
  feats.dispose();
}

await main();
