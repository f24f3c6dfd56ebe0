/**
 * SC-DAG-style attack (Semantic-Constrained Diffusion Attacks, CIKM 2025; method learnt from the
 * public KDEGroup/SC-DAG code, written anew on this toolkit's diffusion model): encode the target's
 * image, noise its latent to an intermediate timestep (250 of 1000), and sample back with DDIM
 * while, at every step, the gradient of the cosine similarity between the encoder features of the
 * decoded predicted x0 and those of a reference (popular) item pushes the latent. A foreground
 * mask confines the edit (latent blending at every step, then a pixel composite, so protected
 * pixels are the clean image's). The reference is chosen as EXPA chooses it
 * (../baselines/reference.ts), so the two differ only in how they change the image.
 *
 * Threat model: public interactions, item images, the attacker's encoder for the tier
 * (`surrogateEncoder`) and its diffusion model; never the recommender.
 */
import * as tf from '@tensorflow/tfjs';
import { z } from 'zod';
import { ConfigError } from '../../core/errors.js';
import type { Dataset } from '../../data/dataset.js';
import { loadImageBatch } from '../../data/dataset.js';
import { guidedEdit, type GuidedModel } from '../../diffusion/guided.js';
import { DDIMScheduler } from '../../diffusion/scheduler.js';
import type { ImageEncoder } from '../../encoders/encoder.js';
import type { Attack, AttackContext, AttackResult } from '../attack.js';
import { requirePixels, runBatched } from '../baselines/common.js';
import { popularReference } from '../baselines/reference.js';
import { parseParams } from '../projection.js';
import { estimateForeground, growMask, DEFAULT_FOREGROUND } from './foreground.js';

export const scDagSchema = z.object({
  /** Guidance strength (the budget knob): latent step per DDIM step, in units of DDIM's sigma_t at eta 1, along the unit-RMS gradient. */
  strength: z.number().min(0).max(100).default(1),
  /** Timestep the latent is noised to (of the 1000 training timesteps; SC-DAG: 250). */
  t: z.number().int().min(1).max(999).default(250),
  /** DDIM steps from t down to 0 (SC-DAG's code runs 51; 10 keeps a 2-core run short). */
  steps: z.number().int().min(1).max(1000).default(10),
  /** DDIM eta (SC-DAG samples with 1; 0 is deterministic given the start noise). */
  eta: z.number().min(0).max(1).default(1),
  /** Weight of SC-DAG's second guidance term, cosine similarity to the clean image's own features. */
  keep: z.number().min(0).max(10).default(1),
  /** Where edits may happen: outside the product (SC-DAG's code regenerates the non-product region), on it, or anywhere. */
  region: z.enum(['background', 'foreground', 'all']).default('background'),
  /** Pixels the estimated or given foreground is grown by before it splits the regions (a margin around the product edge). */
  margin: z.number().int().min(0).max(8).default(1),
  /** Reference item: as EXPA ('category': the most popular item of the target's category). */
  popular: z.enum(['category', 'overall']).default('category'),
  batchSize: z.number().int().min(1).max(256).default(8),
});
export type ScDagParams = z.infer<typeof scDagSchema>;

/** The diffusion handle as the guided editor needs it (the runner passes a LatentDiffusion). */
function toGuidedModel(handle: unknown): GuidedModel {
  const m = handle as Partial<GuidedModel> | null;
  if (!m || !(m.scheduler instanceof DDIMScheduler) || typeof m.encode !== 'function' || typeof m.decode !== 'function' || typeof m.predictNoise !== 'function' || !m.latentShape)
    throw new ConfigError("attack 'sc-dag': the diffusion handle is not a latent diffusion model (needs a DDIMScheduler, latentShape, encode, decode, predictNoise)");
  return m as GuidedModel;
}

/** Editable-pixel masks (N x S x S x 1, 1 = may change) of `items`, and how many were estimated. */
async function editableMasks(ds: Dataset, items: readonly number[], p: ScDagParams): Promise<{ masks: tf.Tensor4D; estimated: number; foreground: number | null }> {
  const s = ds.images.size;
  const buf = new Float32Array(items.length * s * s);
  let estimated = 0;
  let fgSum = 0;
  if (p.region === 'all') return { masks: tf.ones([items.length, s, s, 1]), estimated: 0, foreground: null };
  for (const [k, item] of items.entries()) {
    let fg: Float32Array;
    if (ds.itemMasks?.has(item)) {
      if (ds.itemMasks.size !== s) throw new ConfigError(`attack 'sc-dag': item masks are ${ds.itemMasks.size}px but images ${s}px`);
      fg = await ds.itemMasks.load(item);
    } else {
      fg = estimateForeground(await ds.images.load(item), s, DEFAULT_FOREGROUND).mask;
      estimated++;
    }
    if (p.margin > 0) fg = growMask(fg, s, p.margin);
    for (let i = 0; i < s * s; i++) {
      fgSum += fg[i]!;
      buf[k * s * s + i] = p.region === 'foreground' ? fg[i]! : 1 - fg[i]!;
    }
  }
  return { masks: tf.tensor4d(buf, [items.length, s, s, 1]), estimated, foreground: fgSum / (items.length * s * s) };
}

/** Decode latents to images of side `size` in [0,1]. */
function decodeTo(model: GuidedModel, z: tf.Tensor4D, size: number): tf.Tensor4D {
  return tf.tidy(() => {
    let x = model.decode(z);
    if (x.shape[1] !== size || x.shape[2] !== size) x = tf.image.resizeBilinear(x, [size, size]);
    return tf.clipByValue(x, 0, 1) as tf.Tensor4D;
  });
}

/** Per-row cosine similarity of two N x d matrices. */
function rowCosine(a: tf.Tensor2D, b: tf.Tensor2D): tf.Tensor1D {
  return tf.tidy(() => tf.div(tf.sum(tf.mul(a, b), 1), tf.add(tf.mul(tf.norm(a, 2, 1), tf.norm(b, 2, 1)), 1e-12)) as tf.Tensor1D);
}

/** Edit one batch: x0 (N x S x S x 3) toward the reference images' features. */
function editBatch(model: GuidedModel, enc: ImageEncoder, x0: tf.Tensor4D, xRef: tf.Tensor4D, editable: tf.Tensor4D, p: ScDagParams, noise: () => tf.Tensor4D, onStep: (step: number, t: number, objective: number | null) => void): tf.Tensor4D {
  const size = x0.shape[1];
  const [h, w] = model.latentShape;
  const keepT = tf.sub(1, editable);
  const fRef = tf.tidy(() => enc.encode(xRef));
  const fOrig = tf.tidy(() => enc.encode(x0));
  // editable fraction per latent cell: the area mean over the cell's pixels (bilinear when the sizes do not divide)
  const latentMask = p.region === 'all' ? undefined : (tf.tidy(() => (size % h === 0 && size / h === size / w ? tf.avgPool(editable, size / h, size / h, 'valid') : tf.image.resizeBilinear(editable, [h, w]))) as tf.Tensor4D);
  const composite = (x: tf.Tensor4D): tf.Tensor4D => tf.add(tf.mul(x, editable), tf.mul(x0, keepT)) as tf.Tensor4D;
  const objective = (predX0: tf.Tensor4D): tf.Tensor1D =>
    tf.tidy(() => {
      const f = enc.encode(composite(decodeTo(model, predX0, size)));
      const sim = rowCosine(f, fRef);
      return (p.keep > 0 ? tf.add(sim, tf.mul(rowCosine(f, fOrig), p.keep)) : sim) as tf.Tensor1D;
    });
  const z0 = model.encode(x0);
  try {
    const z = guidedEdit(model, z0, { startTimestep: p.t, steps: p.steps, eta: p.eta, strength: p.strength, objective, noise, onStep, ...(latentMask ? { latentMask } : {}) });
    const out = tf.tidy(() => composite(decodeTo(model, z, size)));
    z.dispose();
    return out;
  } finally {
    tf.dispose([z0, fRef, fOrig, keepT, ...(latentMask ? [latentMask] : [])]);
  }
}

export function createScDagAttack(params: Record<string, unknown> = {}): Attack {
  const p = parseParams('sc-dag', scDagSchema, params);
  if (p.steps > p.t) throw new ConfigError(`attack 'sc-dag': parameter 'steps' (${p.steps}) must be at most 't' (${p.t})`);
  return {
    name: 'sc-dag',
    threat: { knows: ['interactions', 'images', 'surrogateEncoder', 'diffusion'], norm: 'none', budget: null },
    params: { ...p },
    async generate(targets: readonly number[], ctx: AttackContext): Promise<AttackResult> {
      const images = ctx.images();
      requirePixels(images, 'sc-dag');
      const ds = ctx.dataset();
      const enc = ctx.surrogateEncoder();
      const model = toGuidedModel(ctx.diffusion());
      const refFor = popularReference(ctx, p.popular);
      const [h, w, c] = model.latentShape;
      let seen = 0;
      return runBatched(images, targets, p.batchSize, async (x0, items, log) => {
        const t0 = performance.now();
        const rng = ctx.rng.fork(`sc-dag:batch:${seen}`);
        seen += items.length;
        const noise = (): tf.Tensor4D => tf.tensor4d(rng.normalArray(items.length * h * w * c), [items.length, h, w, c]);
        const xRef = await loadImageBatch(images, items.map(refFor));
        const { masks, estimated, foreground } = await editableMasks(ds, items, p);
        try {
          const adv = editBatch(model, enc, x0, xRef, masks, p, noise, (step, _t, objective) => log({ step, ...(objective !== null ? { guidance: objective } : {}) }));
          const seconds = (performance.now() - t0) / 1000;
          log({ step: p.steps, targets: items.length, masksEstimated: estimated, ...(foreground !== null ? { foregroundFraction: foreground } : {}), secondsPerTarget: seconds / items.length });
          return adv;
        } finally {
          tf.dispose([xRef, masks]);
        }
      });
    },
  };
}
