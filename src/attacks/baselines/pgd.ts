/**
 * PGD and FGSM in the style of TAaMR (spec section 8): a category classifier is trained on the
 * victim encoder's features of training items; the target image is pushed, by signed gradient
 * steps under the L_inf budget, toward the most popular category (most training interactions).
 */
import * as tf from '@tensorflow/tfjs';
import { z } from 'zod';
import { InputError } from '../../core/errors.js';
import type { Attack, AttackContext, AttackResult } from '../attack.js';
import { budgetSchema, budgetToEps, parseParams } from '../projection.js';
import { optimizePixels } from '../pixel-optimize.js';
import { extractFeatures } from '../../encoders/resnet.js';
import { trainSoftmaxClassifier } from './classifier.js';
import { requirePixels, runBatched } from './common.js';
import { popularCategory, popularItems } from './popularity.js';

const pgdSchema = z.object({
  budget: budgetSchema.default(32),
  steps: z.number().int().min(1).max(10_000).default(20),
  stepSize: z.number().positive().max(1).optional(),
  randomStart: z.boolean().default(false),
  batchSize: z.number().int().min(1).max(1024).default(16),
  classifierIterations: z.number().int().min(1).max(100_000).default(200),
});
const fgsmSchema = pgdSchema.pick({ budget: true, batchSize: true, classifierIterations: true });

function makeSignAttack(kind: 'pgd' | 'fgsm', params: Record<string, unknown>): Attack {
  const p =
    kind === 'pgd'
      ? parseParams('pgd', pgdSchema, params)
      : { ...parseParams('fgsm', fgsmSchema, params), steps: 1, stepSize: undefined, randomStart: false };
  const eps = budgetToEps(p.budget);
  const stepSize = kind === 'fgsm' ? eps : (p.stepSize ?? (2.5 * eps) / p.steps);
  return {
    name: kind,
    threat: { knows: ['surrogateEncoder', 'images', 'interactions'], norm: 'linf', budget: eps },
    params: kind === 'pgd' ? { ...p, stepSize } : { budget: p.budget, batchSize: p.batchSize, classifierIterations: p.classifierIterations },
    async generate(targets: readonly number[], ctx: AttackContext): Promise<AttackResult> {
      const images = ctx.images();
      requirePixels(images, kind);
      const ds = ctx.dataset();
      if (!ds.itemCategory || ds.categoryNames.length < 2) {
        throw new InputError(`attack '${kind}' needs item categories (at least 2) to train its classifier; this dataset has none`);
      }
      const enc = ctx.surrogateEncoder(); // the tier's attacker encoder: F in public-encoder, G in independent
      const rng = ctx.rng.fork(`attack-${kind}`);
      const { counts } = popularItems(ctx);
      const targetSet = new Set(targets);
      const trainItems: number[] = [];
      for (let i = 0; i < counts.length; i++) if (!targetSet.has(i) && (ds.itemCategory[i] as number) >= 0) trainItems.push(i);
      const numClasses = ds.categoryNames.length;
      const feats = await extractFeatures(enc, images, trainItems, 64);
      const labels = Int32Array.from(trainItems, (i) => ds.itemCategory![i] as number);
      const clf = trainSoftmaxClassifier(feats, labels, numClasses, rng.fork('classifier'), { iterations: p.classifierIterations });
      feats.dispose();
      const popCat = popularCategory(ds.itemCategory, counts, numClasses);
      try {
        const result = await runBatched(images, targets, p.batchSize, (x0, items, log) => {
          const y = tf.tidy(() => tf.oneHot(tf.fill([items.length], popCat, 'int32') as tf.Tensor1D, numClasses).toFloat());
          const loss = (x: tf.Tensor4D) =>
            tf.losses.softmaxCrossEntropy(y, clf.logits(enc.encode(x)), undefined, undefined, tf.Reduction.SUM) as tf.Scalar;
          const init = p.randomStart ? tf.tensor(rng.uniformArray(x0.size, -eps, eps), x0.shape) as tf.Tensor4D : undefined;
          const adv = optimizePixels(x0, loss, {
            eps,
            steps: p.steps,
            optimizer: 'sign',
            lr: stepSize,
            init,
            onLog: (step, l) => log({ step, crossEntropy: l / items.length }),
          });
          tf.dispose([y, init]);
          return adv;
        });
        result.log.unshift({ step: 0, classifierTrainAccuracy: clf.trainAccuracy, popularCategory: popCat });
        return result;
      } finally {
        clf.dispose();
      }
    },
  };
}

export function createPgdAttack(params: Record<string, unknown> = {}): Attack {
  return makeSignAttack('pgd', params);
}

export function createFgsmAttack(params: Record<string, unknown> = {}): Attack {
  return makeSignAttack('fgsm', params);
}
