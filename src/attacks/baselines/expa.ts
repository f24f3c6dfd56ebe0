/**
 * EXPA, the expert attack of AIP (spec section 8): knows the tier's attacker encoder (the victim's F
 * in tier public-encoder, AIP's setting; its own G in 'independent') but not the
 * recommender. Pull F(x0 + delta) toward F(x_pop) in L2, x_pop the image of a popular training
 * item (default: the most popular item of the target's category, else the most popular overall).
 */
import * as tf from '@tensorflow/tfjs';
import { z } from 'zod';
import { loadImageBatch } from '../../data/dataset.js';
import type { Attack, AttackContext, AttackResult } from '../attack.js';
import { budgetToEps, parseParams } from '../projection.js';
import { optimizePixels } from '../pixel-optimize.js';
import { gradientParamsShape, requirePixels, runBatched } from './common.js';
import { popularItems } from './popularity.js';
import { referenceChooser } from './reference.js';

const schema = z.object({ ...gradientParamsShape, popular: z.enum(['category', 'overall']).default('category') });

export function createExpaAttack(params: Record<string, unknown> = {}): Attack {
  const p = parseParams('expa', schema, params);
  const eps = budgetToEps(p.budget);
  const lr = p.lr ?? (p.optimizer === 'adam' ? 0.01 : (2.5 * eps) / p.steps);
  return {
    name: 'expa',
    threat: { knows: ['surrogateEncoder', 'images', 'interactions'], norm: 'linf', budget: eps },
    params: { ...p, lr },
    async generate(targets: readonly number[], ctx: AttackContext): Promise<AttackResult> {
      const images = ctx.images();
      requirePixels(images, 'expa');
      const enc = ctx.surrogateEncoder(); // the tier's attacker encoder: F in public-encoder, G in independent
      const ds = ctx.dataset();
      const pop = popularItems(ctx);
      const popFor = referenceChooser(ds, pop, p.popular);
      return runBatched(images, targets, p.batchSize, async (x0, items, log) => {
        const xp = await loadImageBatch(images, items.map(popFor));
        const fPop = tf.tidy(() => enc.encode(xp));
        xp.dispose();
        const loss = (x: tf.Tensor4D) => enc.encode(x).sub(fPop).square().sum() as tf.Scalar;
        const adv = optimizePixels(x0, loss, {
          eps,
          steps: p.steps,
          optimizer: p.optimizer,
          lr,
          onLog: (step, l) => log({ step, featureDistance2: l / items.length }),
        });
        fPop.dispose();
        return adv;
      });
    },
  };
}
