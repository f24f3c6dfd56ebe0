import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, KnowledgeError } from '../../core/errors.js';
import { Rng } from '../../core/rng.js';
import { loadImageBatch } from '../../data/dataset.js';
import { synthesizeCatalogue, type SynthDataset } from '../../data/index.js';
import type { ImageEncoder } from '../../encoders/encoder.js';
import type { Recommender } from '../../recommenders/recommender.js';
import { type Attack, type AttackResources, attackTier, makeAttackContext, tierKnowledge } from '../attack.js';
import { linearEncoder, linearRecommender } from '../../../test/attacks/doubles.js';
import { createAttack, listAttacks } from '../registry.js';
import { popularItems } from './popularity.js';
import { ssimArrays } from '../../evaluation/image-metrics.js';

let ds: SynthDataset;
let enc: ImageEncoder;
let rec: Recommender;
let targets: number[];
const dim = 8;

beforeAll(async () => {
  ds = synthesizeCatalogue({ profile: 'tiny', seed: 7, overrides: { numUsers: 60, numItems: 80, numTargets: 4, imageSize: 16 } });
  enc = linearEncoder(16, dim);
  const all = await loadImageBatch(ds.images, ds.itemIds.map((_, i) => i));
  const f = enc.encode(all);
  rec = linearRecommender(ds.userIds.length, ds.itemIds.length, dim, f);
  tf.dispose([all, f]);
  targets = ds.targets.slice(0, 3);
});
afterAll(() => {
  rec.dispose();
  enc.dispose();
});

function resources(seed = 1): AttackResources {
  return { rng: new Rng(seed), dataset: ds, victimEncoder: enc, surrogateEncoder: enc, victimModel: rec };
}

async function run(attack: Attack, seed = 1) {
  return attack.generate(targets, makeAttackContext(attack, resources(seed)));
}

async function clean(item: number): Promise<Float32Array> {
  return ds.images.load(item);
}

async function meanScore(images: Map<number, Float32Array>): Promise<number> {
  const users = Int32Array.from(ds.userIds.map((_, u) => u).filter((u) => (ds.split.train[u]?.length ?? 0) > 0));
  let tot = 0;
  for (const [item, img] of images) {
    const s = tf.tidy(() => rec.scoreWithFeatures(users, Int32Array.of(item), enc.encode(tf.tensor4d(img, [1, 16, 16, 3]))).mean().dataSync()[0] as number);
    tot += s;
  }
  return tot / images.size;
}

const fast = { insa: { steps: 15 }, expa: { steps: 15 }, pgd: { steps: 8, classifierIterations: 60 }, fgsm: { classifierIterations: 60 }, random: {} } as Record<string, Record<string, unknown>>;

describe('baseline attacks: budget and range', () => {
  for (const name of ['random', 'insa', 'expa', 'pgd', 'fgsm']) {
    for (const budget of [8, 32]) {
      it(`${name} at ${budget}/255 stays within the L_inf budget and in [0,1]`, async () => {
        const attack = createAttack(name, { ...fast[name], budget });
        expect(attack.threat.budget).toBeCloseTo(budget / 255, 9);
        const n0 = tf.memory().numTensors;
        const res = await run(attack);
        expect(tf.memory().numTensors).toBe(n0);
        expect([...res.images.keys()].sort()).toEqual([...targets].sort());
        let maxDiff = 0;
        for (const [item, img] of res.images) {
          const x0 = await clean(item);
          expect(img.length).toBe(x0.length);
          for (let i = 0; i < img.length; i++) {
            const v = img[i] as number;
            expect(v >= 0 && v <= 1).toBe(true);
            maxDiff = Math.max(maxDiff, Math.abs(v - (x0[i] as number)));
          }
        }
        expect(maxDiff).toBeLessThanOrEqual(budget / 255 + 1e-6);
        expect(maxDiff).toBeGreaterThan(budget / 255 / 4); // it did perturb
      });
    }
  }
});

describe('baseline attacks: effect', () => {
  it('INSA (Adam and sign variants) raises the victim mean score above clean and random', async () => {
    const cleanImgs = new Map<number, Float32Array>();
    for (const t of targets) cleanImgs.set(t, await clean(t));
    const s0 = await meanScore(cleanImgs);
    const sr = await meanScore((await run(createAttack('random', { budget: 32 }))).images);
    const insa = await run(createAttack('insa', { budget: 32, steps: 15 }));
    const si = await meanScore(insa.images);
    const ss = await meanScore((await run(createAttack('insa', { budget: 32, steps: 15, optimizer: 'sign' }))).images);
    expect(si).toBeGreaterThan(s0 + 0.1);
    expect(si).toBeGreaterThan(sr + 0.1);
    expect(ss).toBeGreaterThan(s0 + 0.1);
    const first = insa.log.find((r) => r.step === 1)!;
    const last = insa.log.filter((r) => r.batch === 0).at(-1)!;
    expect(last.meanScore as number).toBeGreaterThan(first.meanScore as number);
  });

  it('INSA with constraint ssim: every output meets the SSIM floor, the frame is untouched, the score rises (full resolution and grid)', async () => {
    const cleanImgs = new Map<number, Float32Array>();
    for (const t of targets) cleanImgs.set(t, await clean(t));
    const s0 = await meanScore(cleanImgs);
    for (const grid of [undefined, 4]) {
      const attack = createAttack('insa', { constraint: 'ssim', ssimFloor: 0.8, steps: 15, border: 2, ...(grid ? { grid } : {}) });
      expect(attack.threat).toMatchObject({ norm: 'ssim', budget: 0.8 });
      const n0 = tf.memory().numTensors;
      const res = await run(attack);
      expect(tf.memory().numTensors).toBe(n0);
      for (const [item, img] of res.images) {
        const x0 = await clean(item);
        expect(ssimArrays(img, x0, 16)).toBeGreaterThanOrEqual(0.8 - 1e-4);
        for (let i = 0; i < 16; i++) {
          for (let j = 0; j < 16; j++) {
            if (i >= 2 && i < 14 && j >= 2 && j < 14) continue;
            for (let c = 0; c < 3; c++) expect(img[(i * 16 + j) * 3 + c]).toBe(x0[(i * 16 + j) * 3 + c]);
          }
        }
      }
      expect(await meanScore(res.images)).toBeGreaterThan(s0 + (grid ? 0.05 : 0.1));
    }
    expect(() => createAttack('insa', { constraint: 'ssim', optimizer: 'sign' })).toThrow(/'optimizer'/);
    await expect(run(createAttack('insa', { constraint: 'ssim', grid: 32 }))).rejects.toThrow(/'grid'.*exceeds/);
  });

  it('EXPA moves the target features toward the popular item of its category', async () => {
    const res = await run(createAttack('expa', { budget: 32, steps: 20 }));
    const ctx = makeAttackContext(createAttack('expa'), resources());
    const pop = popularItems(ctx);
    for (const t of targets) {
      const p = pop.byCategory![ds.itemCategory![t] as number]!;
      const popItem = p >= 0 ? p : pop.overall;
      const [x0, xa, xp] = [await clean(t), res.images.get(t)!, await ds.images.load(popItem)];
      const dist = (a: Float32Array) =>
        tf.tidy(() => enc.encode(tf.tensor4d(a, [1, 16, 16, 3])).sub(enc.encode(tf.tensor4d(xp, [1, 16, 16, 3]))).square().sum().dataSync()[0] as number);
      expect(dist(xa)).toBeLessThan(dist(x0));
    }
  });

  it('PGD raises the classifier loss toward the popular category over its steps; FGSM runs one step', async () => {
    const res = await run(createAttack('pgd', { budget: 32, steps: 8, classifierIterations: 60 }));
    expect(res.log[0]!.classifierTrainAccuracy as number).toBeGreaterThan(0.3);
    const rows = res.log.filter((r) => r.batch === 0 && r.crossEntropy !== undefined);
    expect(rows.at(-1)!.crossEntropy as number).toBeLessThan(rows[0]!.crossEntropy as number);
    const f = await run(createAttack('fgsm', { budget: 16, classifierIterations: 60 }));
    expect(f.log.filter((r) => r.crossEntropy !== undefined).every((r) => r.step === 1)).toBe(true);
  });

  it('random noise is deterministic given the seed and differs across seeds', async () => {
    const a = await run(createAttack('random', { budget: 16 }), 5);
    const b = await run(createAttack('random', { budget: 16 }), 5);
    const c = await run(createAttack('random', { budget: 16 }), 6);
    expect(a.images.get(targets[0]!)).toEqual(b.images.get(targets[0]!));
    expect(a.images.get(targets[0]!)).not.toEqual(c.images.get(targets[0]!));
  });
});

describe('threat models', () => {
  it('declare what each attack knows: only INSA reads the victim model', () => {
    for (const name of ['random', 'expa', 'pgd', 'fgsm']) expect(createAttack(name).threat.knows).not.toContain('victimModel');
    expect(createAttack('insa').threat.knows).toEqual(expect.arrayContaining(['victimModel', 'victimEncoder']));
    expect(createAttack('random').threat.knows).toEqual(['images']);
  });
  it('an attack cannot read what it does not declare', () => {
    const ctx = makeAttackContext(createAttack('expa'), resources());
    expect(() => ctx.victimModel()).toThrow(KnowledgeError);
    const rctx = makeAttackContext(createAttack('random'), resources());
    expect(() => rctx.victimEncoder()).toThrow(KnowledgeError);
    expect(() => rctx.trainInteractions()).toThrow(KnowledgeError);
  });
  it('tiers grant exactly their knowledge; INSA is a white-box reference in a black-box tier', () => {
    const blackBox = ['interactions', 'images', 'surrogateEncoder', 'semanticEncoder', 'surrogateRecommender', 'diffusion'];
    expect([...tierKnowledge('public-encoder')].sort()).toEqual([...blackBox].sort());
    expect([...tierKnowledge('independent')].sort()).toEqual([...blackBox].sort());
    expect([...tierKnowledge('white-box')].sort()).toEqual([...blackBox, 'victimEncoder', 'victimModel'].sort());
    expect(attackTier(createAttack('expa'), 'independent')).toBe('independent');
    expect(attackTier(createAttack('auv-fusion'), 'public-encoder')).toBe('public-encoder');
    expect(attackTier(createAttack('insa'), 'public-encoder')).toBe('white-box');
    // EXPA reads the tier's attacker encoder, never F directly
    const ctx = makeAttackContext(createAttack('expa'), { ...resources(), tier: 'independent' });
    expect(ctx.surrogateEncoder()).toBe(enc);
    expect(() => ctx.victimEncoder()).toThrow(KnowledgeError);
  });
  it('the dataset an attack sees has no held-out validation or test items', () => {
    const view = makeAttackContext(createAttack('expa'), resources()).dataset();
    expect(Array.from(ds.split.test).some((x) => x >= 0)).toBe(true);
    expect(Array.from(view.split.test).every((x) => x === -1)).toBe(true);
    expect(Array.from(view.split.validation).every((x) => x === -1)).toBe(true);
    expect(view.split.train).toBe(ds.split.train);
  });
  it('EXPA, PGD and random never touch the victim model even when it is provided', async () => {
    let touched = 0;
    const spy = new Proxy(rec, { get: (t, k, r) => { touched++; return Reflect.get(t, k, r); } });
    for (const name of ['random', 'expa', 'fgsm']) {
      const attack = createAttack(name, fast[name]);
      await attack.generate(targets.slice(0, 1), makeAttackContext(attack, { ...resources(), victimModel: spy }));
    }
    expect(touched).toBe(0);
  });
});

describe('parameters and registry', () => {
  it('rejects a budget outside 8/16/32 naming the parameter and allowed values', () => {
    expect(() => createAttack('insa', { budget: 10 })).toThrow(ConfigError);
    expect(() => createAttack('insa', { budget: 10 })).toThrow(/'budget'.*8, 16, 32/);
    expect(() => createAttack('expa', { stepz: 3 })).toThrow(/stepz/);
    expect(() => createAttack('pgd', { steps: 0 })).toThrow(/'steps'/);
    expect(() => createAttack('insa', { optimizer: 'sgd' })).toThrow(/'optimizer'/);
  });
  it('lists SPAF as unavailable with a reason and refuses to create it', () => {
    const spaf = listAttacks().find((a) => a.name === 'spaf')!;
    expect(spaf.available).toBe(false);
    expect(spaf.reason).toMatch(/not identified/);
    expect(() => createAttack('spaf')).toThrow(/not available/);
    expect(() => createAttack('nope')).toThrow(/unknown attack 'nope'.*random/);
    for (const n of ['random', 'insa', 'expa', 'pgd', 'fgsm']) expect(listAttacks().find((a) => a.name === n)?.available).toBe(true);
  });
  it('wires AUV-Fusion and its variants', () => {
    expect(listAttacks()[0]).toMatchObject({ name: 'auv-fusion', available: true });
    const a = createAttack('auv-fusion/no-align');
    expect(a.name).toBe('auv-fusion/no-align');
    expect(a.threat.knows).not.toContain('victimModel');
    expect(a.threat.knows).not.toContain('victimEncoder');
  });
  it("an '@label' names a second configuration of the same attack and changes nothing else", () => {
    const a = createAttack('insa@eps8', { budget: 8 });
    expect(a.name).toBe('insa');
    expect(a.threat.budget).toBeCloseTo(8 / 255);
    expect(createAttack('auv-fusion/no-align@b').name).toBe('auv-fusion/no-align');
    expect(() => createAttack('insa@')).toThrow(/label after '@'/);
    expect(() => createAttack('insa@a b')).toThrow(/label after '@'/);
    expect(() => createAttack('nope@x')).toThrow(/unknown attack/);
  });
});
