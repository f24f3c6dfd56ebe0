import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, KnowledgeError } from '../../core/errors.js';
import { Rng } from '../../core/rng.js';
import type { Dataset, ItemMaskSource } from '../../data/dataset.js';
import { synthesizeCatalogue, type SynthDataset } from '../../data/index.js';
import { guidedPlan } from '../../diffusion/guided.js';
import { LatentDiffusion, type DiffusionModelConfig } from '../../diffusion/model.js';
import { ddimSample } from '../../diffusion/sample.js';
import type { ImageEncoder } from '../../encoders/encoder.js';
import { linearEncoder, linearRecommender } from '../../../test/attacks/doubles.js';
import { makeAttackContext, type AttackResources } from '../attack.js';
import { popularReference } from '../baselines/reference.js';
import { createAttack, listAttacks } from '../registry.js';
import { estimateForeground, growMask } from './foreground.js';

const S = 16;
const tinyModel: DiffusionModelConfig = {
  imageSize: S,
  vae: { channels: [8, 8, 8], latentChannels: 4, groups: 4 },
  unet: { channels: [8, 16], groups: 4, timeEmbedDim: 8, attention: false },
  scheduler: { numTrainTimesteps: 1000, betaSchedule: 'scaled_linear', betaStart: 0.00085, betaEnd: 0.012, clipSample: false, setAlphaToOne: false, stepsOffset: 1 },
};
const fast = { t: 250, steps: 3, batchSize: 4 };

let ds: SynthDataset;
let enc: ImageEncoder;
let model: LatentDiffusion;
let targets: number[];

beforeAll(() => {
  ds = synthesizeCatalogue({ profile: 'tiny', seed: 7, overrides: { numUsers: 60, numItems: 80, numTargets: 4, imageSize: S } });
  enc = linearEncoder(S, 8);
  model = new LatentDiffusion(tinyModel, new Rng(3));
  targets = ds.targets.slice(0, 3);
});
afterAll(() => {
  enc.dispose();
  model.dispose();
});

function resources(dataset: Dataset = ds, seed = 1): AttackResources {
  return { rng: new Rng(seed), dataset, surrogateEncoder: enc, diffusion: model };
}

async function run(params: Record<string, unknown>, dataset: Dataset = ds) {
  const attack = createAttack('sc-dag', { ...fast, ...params });
  return attack.generate(targets, makeAttackContext(attack, resources(dataset)));
}

/** Mean cosine similarity between F(image) and F(reference image) over the targets. */
async function meanCosineToReference(images: Map<number, Float32Array>): Promise<number> {
  const attack = createAttack('sc-dag', fast);
  const refFor = popularReference(makeAttackContext(attack, resources()), 'category');
  let tot = 0;
  for (const [item, img] of images) {
    const ref = await ds.images.load(refFor(item));
    tot += tf.tidy(() => {
      const f = enc.encode(tf.tensor4d(Float32Array.from([...img, ...ref]), [2, S, S, 3]));
      const [a, b] = tf.unstack(f);
      return tf.div(tf.sum(tf.mul(a!, b!)), tf.mul(tf.norm(a!), tf.norm(b!))).dataSync()[0] as number;
    });
  }
  return tot / images.size;
}

describe('sc-dag attack', () => {
  it('is in the registry with its threat model (encoder, diffusion, public data; never the recommender)', () => {
    expect(listAttacks().find((a) => a.name === 'sc-dag')?.available).toBe(true);
    const a = createAttack('sc-dag@s1', { strength: 1 });
    expect(a.name).toBe('sc-dag');
    expect([...a.threat.knows].sort()).toEqual(['diffusion', 'images', 'interactions', 'surrogateEncoder']);
    expect(a.threat.norm).toBe('none');
    expect(() => createAttack('sc-dag', { strength: -1 })).toThrow(ConfigError);
    expect(() => createAttack('sc-dag', { region: 'inside' })).toThrow(/region/);
    expect(() => createAttack('sc-dag', { t: 10, steps: 20 })).toThrow(/steps/);
  });

  it('knowledge gate: reading the recommender or the victim encoder throws', () => {
    const a = createAttack('sc-dag', fast);
    const all = enc.encode(tf.zeros([1, S, S, 3]));
    const rec = linearRecommender(ds.userIds.length, ds.itemIds.length, 8, tf.tile(all, [ds.itemIds.length, 1]) as tf.Tensor2D);
    all.dispose();
    const ctx = makeAttackContext(a, { ...resources(), victimModel: rec, victimEncoder: enc });
    expect(() => ctx.victimModel()).toThrow(KnowledgeError);
    expect(() => ctx.victimEncoder()).toThrow(KnowledgeError);
    rec.dispose();
  });

  it('with zero guidance and no mask returns the plain DDIM reconstruction from t', async () => {
    const res = await run({ strength: 0, eta: 0, region: 'all' });
    // the same computation with the sampler of src/diffusion/sample.ts and the attack's noise stream
    const [h, w, c] = model.latentShape;
    const noise = new Rng(1).fork('sc-dag:batch:0').normalArray(targets.length * h * w * c);
    const plan = guidedPlan(model.scheduler, 250, 3);
    const all = model.scheduler.setTimesteps(plan.scheduleSteps);
    const x0 = tf.tensor4d(Float32Array.from((await Promise.all(targets.map((t) => ds.images.load(t)))).flatMap((a) => [...a])), [targets.length, S, S, 3]);
    const expected = tf.tidy(() => {
      const zt = model.scheduler.addNoise(model.encode(x0), tf.tensor4d(noise, [targets.length, h, w, c]), plan.timesteps[0]!) as tf.Tensor4D;
      const z = ddimSample(model, zt, { numSteps: plan.scheduleSteps, startIndex: all.indexOf(plan.timesteps[0]!) });
      return tf.clipByValue(model.decode(z), 0, 1).dataSync() as Float32Array;
    });
    x0.dispose();
    expect(plan.timesteps.length).toBe(3);
    let maxDiff = 0;
    targets.forEach((t, k) => {
      const got = res.images.get(t)!;
      for (let i = 0; i < got.length; i++) maxDiff = Math.max(maxDiff, Math.abs(got[i]! - expected[k * S * S * 3 + i]!));
    });
    expect(maxDiff).toBeLessThan(1e-5);
  });

  it('guidance raises the feature similarity to the reference item (lowers the distance)', async () => {
    const plain = await run({ strength: 0, region: 'all' });
    const guided = await run({ strength: 3, region: 'all' });
    const c0 = await meanCosineToReference(plain.images);
    const c1 = await meanCosineToReference(guided.images);
    expect(c1).toBeGreaterThan(c0 + 0.02);
    expect(guided.log.some((r) => typeof r.guidance === 'number')).toBe(true);
    expect(guided.log.at(-1)?.secondsPerTarget).toBeGreaterThan(0);
  });

  it('keeps the pixels the estimated mask protects, edits the others, stays in [0,1] and leaks no tensors', async () => {
    const n0 = tf.memory().numTensors;
    const res = await run({ strength: 3, region: 'background', margin: 1 });
    expect(tf.memory().numTensors).toBe(n0);
    for (const t of targets) {
      const x0 = await ds.images.load(t);
      const fg = growMask(estimateForeground(x0, S).mask, S, 1);
      const adv = res.images.get(t)!;
      let keptMax = 0;
      let editedMax = 0;
      for (let p = 0; p < S * S; p++)
        for (let ch = 0; ch < 3; ch++) {
          const v = adv[p * 3 + ch]!;
          expect(v >= 0 && v <= 1).toBe(true);
          const d = Math.abs(v - x0[p * 3 + ch]!);
          if (fg[p]) keptMax = Math.max(keptMax, d);
          else editedMax = Math.max(editedMax, d);
        }
      expect(keptMax).toBeLessThan(1e-6);
      expect(editedMax).toBeGreaterThan(0.01);
    }
  });

  it('uses a dataset mask where one is given, and the region switch inverts what is protected', async () => {
    // a mask protecting the left half of every image
    const half = Float32Array.from({ length: S * S }, (_, p) => ((p % S) < S / 2 ? 1 : 0));
    const itemMasks: ItemMaskSource = { size: S, has: () => true, load: async () => half };
    const withMasks: Dataset = { ...ds, itemMasks };
    for (const region of ['background', 'foreground'] as const) {
      const res = await run({ strength: 3, region, margin: 0 }, withMasks);
      expect(res.log.at(-1)?.masksEstimated).toBe(0);
      for (const t of targets) {
        const x0 = await ds.images.load(t);
        const adv = res.images.get(t)!;
        for (let p = 0; p < S * S; p++) {
          const protectedPixel = region === 'background' ? half[p] === 1 : half[p] === 0;
          if (protectedPixel) for (let ch = 0; ch < 3; ch++) expect(Math.abs(adv[p * 3 + ch]! - x0[p * 3 + ch]!)).toBeLessThan(1e-6);
        }
      }
    }
  });

  it('is deterministic given the seed', async () => {
    const a = await run({ strength: 1 });
    const b = await run({ strength: 1 });
    for (const t of targets) expect(a.images.get(t)).toEqual(b.images.get(t));
  });
});

describe('foreground estimation', () => {
  /** A light, slightly shaded background with a dark ring whose hole has the background colour, plus a bright square. */
  function scene(size: number): { image: Float32Array; truth: Uint8Array } {
    const rng = new Rng(5);
    const image = new Float32Array(size * size * 3);
    const truth = new Uint8Array(size * size);
    for (let y = 0; y < size; y++)
      for (let x = 0; x < size; x++) {
        const p = y * size + x;
        const r = Math.hypot(x - 12, y - 12);
        const ring = r <= 8; // the hole (r < 3) is foreground too: it is enclosed by the object
        const square = x >= 20 && x < 28 && y >= 18 && y < 28;
        const bg = 0.93 - 0.04 * (y / size);
        const col = ring && r >= 3 ? [0.15, 0.2, 0.5] : square ? [0.9, 0.3, 0.2] : [bg, bg, bg - 0.01];
        for (let c = 0; c < 3; c++) image[p * 3 + c] = Math.min(1, Math.max(0, col[c]! + rng.normal() * 0.01));
        truth[p] = ring || square ? 1 : 0;
      }
    return { image, truth };
  }

  it('finds a product on a plain background, holes enclosed by it included', () => {
    const size = 32;
    const { image, truth } = scene(size);
    const m = estimateForeground(image, size);
    let inter = 0;
    let union = 0;
    for (let p = 0; p < size * size; p++) {
      inter += m.mask[p]! && truth[p]! ? 1 : 0;
      union += m.mask[p]! || truth[p]! ? 1 : 0;
    }
    expect(inter / union).toBeGreaterThan(0.9);
    expect(m.mask[12 * size + 12]).toBe(1); // the hole's centre
    expect(m.mask[0]).toBe(0);
    expect(m.background[0]).toBeGreaterThan(0.85);
  });

  it('finds nothing in an image that is all background, and growMask grows and shrinks', () => {
    const size = 16;
    const image = new Float32Array(size * size * 3).fill(0.95);
    expect(estimateForeground(image, size).fraction).toBe(0);
    const dot = new Float32Array(size * size);
    dot[8 * size + 8] = 1;
    const grown = growMask(dot, size, 2);
    expect(grown.reduce((a, b) => a + b, 0)).toBe(25);
    expect(growMask(grown, size, -2).reduce((a, b) => a + b, 0)).toBe(1);
  });
});
