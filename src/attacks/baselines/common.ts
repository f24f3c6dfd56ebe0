/** Shared plumbing of the baseline attacks: parameter schemas, batching over targets, results. */
import * as tf from '@tensorflow/tfjs';
import { z } from 'zod';
import type { ImageSource } from '../../data/dataset.js';
import { loadImageBatch } from '../../data/dataset.js';
import { InputError } from '../../core/errors.js';
import type { AttackResult, AttackStepLog } from '../attack.js';
import { batches, budgetSchema } from '../projection.js';

/** Parameters common to the gradient attacks. */
export const gradientParamsShape = {
  budget: budgetSchema.default(32),
  steps: z.number().int().min(1).max(10_000).default(30),
  lr: z.number().positive().max(1).optional(),
  optimizer: z.enum(['adam', 'sign']).default('adam'),
  batchSize: z.number().int().min(1).max(1024).default(16),
};

export function requirePixels(images: ImageSource, attack: string): void {
  if (!images.hasPixels) {
    throw new InputError(`attack '${attack}' perturbs pixels, but this dataset has only precomputed features`);
  }
}

/**
 * Run `perBatch` on the target images in batches; collects per-target adversarial images (HWC
 * Float32Array) and the step log (each log row tagged with its batch index).
 */
export async function runBatched(
  images: ImageSource,
  targets: readonly number[],
  batchSize: number,
  perBatch: (x0: tf.Tensor4D, items: number[], log: (row: AttackStepLog) => void) => tf.Tensor4D | Promise<tf.Tensor4D>,
): Promise<AttackResult> {
  const t0 = Date.now();
  const out = new Map<number, Float32Array>();
  const log: AttackStepLog[] = [];
  const per = images.size * images.size * 3;
  let bi = 0;
  for (const items of batches(targets, batchSize)) {
    const x0 = await loadImageBatch(images, items);
    const batchIndex = bi++;
    const adv = await perBatch(x0, items, (row) => log.push({ batch: batchIndex, ...row }));
    const data = await adv.data();
    tf.dispose([x0, adv]);
    items.forEach((item, k) => out.set(item, Float32Array.from(data.subarray(k * per, (k + 1) * per))));
  }
  return { images: out, log, seconds: (Date.now() - t0) / 1000 };
}
