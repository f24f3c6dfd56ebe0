/** Random uniform noise in [-eps, eps] (spec section 8): the floor every attack must beat. */
import * as tf from '@tensorflow/tfjs';
import { z } from 'zod';
import type { Attack, AttackContext, AttackResult } from '../attack.js';
import { budgetToEps, budgetSchema, parseParams, projectLinf } from '../projection.js';
import { requirePixels, runBatched } from './common.js';

const schema = z.object({ budget: budgetSchema.default(32), batchSize: z.number().int().min(1).max(1024).default(64) });

export function createRandomAttack(params: Record<string, unknown> = {}): Attack {
  const p = parseParams('random', schema, params);
  const eps = budgetToEps(p.budget);
  return {
    name: 'random',
    threat: { knows: ['images'], norm: 'linf', budget: eps },
    params: p,
    async generate(targets: readonly number[], ctx: AttackContext): Promise<AttackResult> {
      const images = ctx.images();
      requirePixels(images, 'random');
      const rng = ctx.rng.fork('attack-random');
      return runBatched(images, targets, p.batchSize, (x0) => {
        const noise = rng.uniformArray(x0.size, -eps, eps);
        return tf.tidy(() => projectLinf(x0.add(tf.tensor(noise, x0.shape)), x0, eps) as tf.Tensor4D);
      });
    },
  };
}
