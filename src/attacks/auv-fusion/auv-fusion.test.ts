import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, KnowledgeError } from '../../core/errors.js';
import { Rng } from '../../core/rng.js';
import { synthesizeCatalogue, type SynthDataset } from '../../data/index.js';
import { loadImageBatch } from '../../data/dataset.js';
import { PreferenceEncoder } from '../../preference/model.js';
import { makeAttackContext, type AttackResources } from '../attack.js';
import { ssim } from '../../evaluation/image-metrics.js';
import { chainGrad, chainPlan, ddimStep, decodeImage } from '../../diffusion/chain.js';
import { auvFusionParams, sweepVariants, variantOverrides } from './config.js';
import { DeltaMlp } from './generator.js';
import { createAuvFusionAttack, AUV_FUSION_VARIANTS } from './index.js';
import { tinyDiffusion, tinyEncoder } from '../../../test/attacks/testkit.js';

describe('config and variants', () => {
  it('parses named variants, key=value sweeps and rejects unknown ones', () => {
    expect(variantOverrides('no-align')).toEqual({ l3: 0 });
    expect(variantOverrides('no-align+eta=0.5')).toEqual({ l3: 0, eta: 0.5 });
    expect(auvFusionParams({}, 'paper+ddimSteps=20').injectIndex).toBe(10);
    expect(auvFusionParams({}, 'paper').injectIndex).toBe(25);
    expect(auvFusionParams({}, 'ddimSteps=20').injectIndex).toBe(15); // residual composition: a later injection
    expect(auvFusionParams({}, 'paper')).toMatchObject({ group: 'all', objective: 'cosine', compose: 'regenerate', refineSteps: 0, generator: 'mlp' });
    expect(auvFusionParams({})).toMatchObject({ group: 'all', objective: 'margin', compose: 'residual', ssimFloor: 0.88, ssimRefineSteps: 20 });
    expect(auvFusionParams({}, 'halve')).toMatchObject({ ssimFloor: 0.8, ssimRefineSteps: 0 }); // round 4's default
    expect(auvFusionParams({}, 'ssim-refine')).toMatchObject({ ssimFloor: 0.8, ssimRefineSteps: 40 });
    expect(auvFusionParams({}, 'paper')).toMatchObject({ ssimFloor: 0, ssimRefineSteps: 0 });
    expect(() => auvFusionParams({}, 'bogus')).toThrow(ConfigError);
    expect(() => auvFusionParams({ etta: 1 })).toThrow(/etta/);
    expect(() => auvFusionParams({ ddimSteps: 10, injectIndex: 10 })).toThrow(/injectIndex/);
    expect(sweepVariants({ eta: [0.5, 2], l3: [0, 1] })).toEqual([
      'auv-fusion/eta=0.5,l3=0', 'auv-fusion/eta=0.5,l3=1', 'auv-fusion/eta=2,l3=0', 'auv-fusion/eta=2,l3=1',
    ]);
    for (const v of AUV_FUSION_VARIANTS) expect(() => createAuvFusionAttack({}, v)).not.toThrow();
    expect(createAuvFusionAttack({}, 'eta=0.5').name).toBe('auv-fusion/eta=0.5');
  });
});

describe('generator and chain', () => {
  it('MLP output has the latent shape and lies in [-1,1]', async () => {
    const mlp = new DeltaMlp(8, 16, [4, 4, 4], new Rng(1), 0.5);
    const e = tf.randomNormal([3, 8], 0, 1, 'float32', 1) as tf.Tensor2D;
    const o = mlp.apply(e);
    expect(o.shape).toEqual([3, 4, 4, 4]);
    const v = await o.data();
    expect(Math.max(...v)).toBeLessThanOrEqual(1);
    expect(Math.min(...v)).toBeGreaterThanOrEqual(-1);
    tf.dispose([e, o]);
    mlp.dispose();
  });

  it('checkpointed chain gradient equals a full-tape gradient, and reaches the MLP weights', async () => {
    const m = tinyDiffusion(new Rng(2), 16);
    const plan = chainPlan(m, 10, 5);
    expect(plan.steps.length).toBe(5);
    const zt = tf.randomNormal([2, 4, 4, 4], 0, 1, 'float32', 3) as tf.Tensor4D;
    const target = tf.randomUniform([2, 16, 16, 3], 0, 1, 'float32', 4) as tf.Tensor4D;
    const lossFn = (x: tf.Tensor4D) => [tf.mean(tf.square(tf.sub(x, target))) as tf.Scalar];
    const r = await chainGrad(m, plan, zt, 16, lossFn);
    const full = tf.grad((z: tf.Tensor) => {
      let cur = z as tf.Tensor4D;
      for (const s of plan.steps) cur = ddimStep(m, cur, s.t, s.tPrev);
      return lossFn(decodeImage(m, cur, 16))[0]!;
    })(zt);
    const a = await r.gradZt.data();
    const b = await full.data();
    let maxAbs = 0;
    for (let i = 0; i < a.length; i++) maxAbs = Math.max(maxAbs, Math.abs(b[i]!));
    expect(maxAbs).toBeGreaterThan(0);
    for (let i = 0; i < a.length; i++) expect(Math.abs(a[i]! - b[i]!)).toBeLessThan(1e-4 * maxAbs + 1e-7);
    // through the MLP: d/dphi sum(delta * g) is non-zero for every weight matrix
    const mlp = new DeltaMlp(8, 16, [4, 4, 4], new Rng(5), 0.1);
    const e = tf.ones([2, 8]) as tf.Tensor2D;
    const { grads, value } = tf.variableGrads(() => tf.sum(tf.mul(mlp.apply(e), r.gradZt)) as tf.Scalar, mlp.vars);
    for (const v of mlp.vars) expect((await tf.abs(grads[v.name]!).sum().data())[0]).toBeGreaterThan(0);
    tf.dispose([zt, target, r.gradZt, r.image, full, e, value, ...Object.values(grads)]);
    mlp.dispose();
    m.dispose();
  });
});

describe('AUV-Fusion attack on a tiny catalogue', () => {
  let ds: SynthDataset;
  let res: AttackResources;
  const size = 32;
  beforeAll(async () => {
    ds = synthesizeCatalogue({ profile: 'tiny', seed: 3 });
    const G = tinyEncoder(new Rng(11), size, 16);
    const C = tinyEncoder(new Rng(12), size, 16);
    const n = ds.itemIds.length;
    const x = await loadImageBatch(ds.images, Array.from({ length: n }, (_, i) => i));
    const f = G.encode(x);
    const features = (await f.data()) as Float32Array;
    tf.dispose([x, f]);
    const { model } = await PreferenceEncoder.fit(
      { numUsers: ds.userIds.length, numItems: n, train: ds.split.train, features, featDim: 16, excludedNegatives: new Set(ds.targets) },
      { epochs: 3, dim: 16 },
      new Rng(4),
    );
    res = { rng: new Rng(9), dataset: ds, surrogateEncoder: G, semanticEncoder: C, surrogateRecommender: model, diffusion: tinyDiffusion(new Rng(13), size) };
  });

  it('never reads the victim: the context refuses victim knowledge', () => {
    const atk = createAuvFusionAttack({});
    expect(atk.threat.knows).not.toContain('victimModel');
    expect(atk.threat.knows).not.toContain('victimEncoder');
    const ctx = makeAttackContext(atk, { ...res, victimModel: {} as never, victimEncoder: {} as never });
    expect(() => ctx.victimModel()).toThrow(KnowledgeError);
    expect(() => ctx.victimEncoder()).toThrow(KnowledgeError);
  });

  it('L_align falls, images are valid, a fixed seed gives identical images, no tensor leaks', async () => {
    const targets = ds.targets.slice(0, 4);
    const params = { steps: 12, batchSize: 2, ddimSteps: 6, lr: 0.01, outInitStd: 0.01 };
    const atk = createAuvFusionAttack(params, 'paper');
    const before = tf.memory().numTensors;
    const r1 = await atk.generate(targets, makeAttackContext(atk, { ...res, rng: new Rng(9) }));
    expect(tf.memory().numTensors).toBe(before);
    expect(r1.images.size).toBe(4);
    for (const img of r1.images.values()) {
      expect(img.length).toBe(size * size * 3);
      expect(Math.min(...img)).toBeGreaterThanOrEqual(0);
      expect(Math.max(...img)).toBeLessThanOrEqual(1);
    }
    const steps = r1.log.filter((l) => l.final === undefined);
    if (process.env.P6_DEBUG) console.log(JSON.stringify(steps.map((l) => [l.total, l.L_align, l.L_SSIM, l.L_CLIP].map((v) => v!.toFixed(3)))));
    expect(steps.length).toBe(12);
    const first = (steps[0]!.L_align! + steps[1]!.L_align!) / 2;
    const last = (steps[10]!.L_align! + steps[11]!.L_align!) / 2;
    expect(last).toBeLessThan(first);
    const fin = r1.log[r1.log.length - 1]!;
    expect(fin.final).toBe(1);
    expect(fin.ssimRoundTrip).toBeGreaterThan(-1);
    expect(fin.cosAlignAdv).toBeGreaterThan(fin.cosAlignRoundTrip!);
    const r2 = await atk.generate(targets, makeAttackContext(atk, { ...res, rng: new Rng(9) }));
    for (const t of targets) expect(Array.from(r2.images.get(t)!)).toEqual(Array.from(r1.images.get(t)!));
    expect(tf.memory().numTensors).toBe(before);
  });

  it('delta = 0 reproduces the input under the residual composition (the paper regenerates it)', async () => {
    const targets = ds.targets.slice(0, 2);
    const zero = { steps: 0, refineSteps: 0, outInitStd: 0, batchSize: 2, ddimSteps: 6, ssimFloor: 0 };
    const atk = createAuvFusionAttack(zero);
    const r = await atk.generate(targets, makeAttackContext(atk, res));
    const paper = createAuvFusionAttack(zero, 'paper');
    const rp = await paper.generate(targets, makeAttackContext(paper, res));
    const x0 = await loadImageBatch(ds.images, targets);
    const batch = (m: Map<number, Float32Array>) => tf.tensor4d(Float32Array.from(targets.flatMap((t) => Array.from(m.get(t)!))), x0.shape);
    const [a, b] = [batch(r.images), batch(rp.images)];
    const sr = Array.from(await ssim(a, x0).data());
    const sp = Array.from(await ssim(b, x0).data());
    for (const v of sr) expect(v).toBeGreaterThanOrEqual(0.99);
    expect(Math.max(...sp)).toBeLessThan(0.99); // full regeneration pays the round trip
    tf.dispose([a, b, x0]);
  });

  it("floorMode 'project' scales the residual exactly onto the SSIM floor; 'halve-delta' overshoots it", async () => {
    const targets = ds.targets.slice(0, 2);
    const base = { steps: 4, refineSteps: 2, batchSize: 2, ddimSteps: 6, outInitStd: 0.01, lr: 0.05, refineLr: 0.1, ssimRefineSteps: 0 };
    const x0 = await loadImageBatch(ds.images, targets);
    const ssimOf = async (params: Record<string, unknown>): Promise<number[]> => {
      const atk = createAuvFusionAttack({ ...base, ...params });
      const r = await atk.generate(targets, makeAttackContext(atk, res));
      const a = tf.tensor4d(Float32Array.from(targets.flatMap((t) => Array.from(r.images.get(t)!))), x0.shape);
      const v = Array.from(await ssim(a, x0).data());
      a.dispose();
      return v;
    };
    const free = await ssimOf({ ssimFloor: 0 });
    const floor = (Math.max(...free) + 1) / 2; // every target starts below it (the optimisation does not see the floor)
    const projected = await ssimOf({ ssimFloor: floor, floorMode: 'project' });
    const halved = await ssimOf({ ssimFloor: floor, floorMode: 'halve-delta' });
    for (let q = 0; q < targets.length; q++) {
      expect(projected[q]!).toBeGreaterThanOrEqual(floor - 1e-4);
      expect(projected[q]!).toBeLessThan(floor + 0.01);
      expect(halved[q]!).toBeGreaterThanOrEqual(floor - 1e-4);
      expect(projected[q]!).toBeLessThanOrEqual(halved[q]! + 1e-4);
    }
    x0.dispose();
  });

  it("the SSIM-shaped pixel refinement (the default since round 5) meets the floor and aligns better than the floored render", async () => {
    const targets = ds.targets.slice(0, 2);
    const base = { steps: 3, refineSteps: 1, batchSize: 2, ddimSteps: 6, outInitStd: 0.01, lr: 0.05, ssimFloor: 0.9 };
    const x0 = await loadImageBatch(ds.images, targets);
    const runIt = async (variant?: string) => {
      const atk = createAuvFusionAttack({ ...base, ...(variant ? { ssimRefineSteps: 8 } : { floorMode: 'project', ssimRefineSteps: 0 }) }, variant);
      const r = await atk.generate(targets, makeAttackContext(atk, res));
      const a = tf.tensor4d(Float32Array.from(targets.flatMap((t) => Array.from(r.images.get(t)!))), x0.shape);
      const st = ssim(a, x0);
      const s = Array.from(await st.data());
      tf.dispose([a, st]);
      return { s, hits: r.log.at(-1)!.groupHitsAdv!, cos: r.log.at(-1)!.cosAlignAdv! };
    };
    const plain = await runIt();
    // the default refines (ssimRefineSteps 8 from the parameters here); the named variant sets its own floor and steps
    const refined = await runIt('ssimFloor=0.9');
    for (const v of refined.s) expect(v).toBeGreaterThanOrEqual(0.9 - 1e-4);
    expect(refined.cos).toBeGreaterThan(plain.cos);
    // no tensors left behind once the first run has filled the context's caches
    const m0 = tf.memory().numTensors;
    await runIt('ssimFloor=0.9');
    expect(tf.memory().numTensors).toBe(m0);
    x0.dispose();
  });

  it("'no-align' (l3 = 0) skips the refinement, which would optimise the alignment it removes", async () => {
    const targets = ds.targets.slice(0, 2);
    const run = async (params: Record<string, unknown>) => {
      const atk = createAuvFusionAttack({ steps: 2, batchSize: 2, ddimSteps: 4, refineSteps: 1, outInitStd: 0.01, ...params }, 'no-align');
      return (await atk.generate(targets, makeAttackContext(atk, { ...res, rng: new Rng(3) }))).images;
    };
    const [on, off] = [await run({}), await run({ ssimRefineSteps: 0 })];
    for (const t of targets) expect(Array.from(on.get(t)!)).toEqual(Array.from(off.get(t)!));
  });

  it('the margin objective and a per-target group raise the surrogate score of the target', async () => {
    const targets = ds.targets.slice(0, 2);
    const atk = createAuvFusionAttack({ steps: 6, refineSteps: 4, batchSize: 2, ddimSteps: 6, group: 'top-n', topN: 10, outInitStd: 0.01, lr: 0.05, refineLr: 0.1, ssimFloor: 0 });
    const r = await atk.generate(targets, makeAttackContext(atk, res));
    const steps = r.log.filter((l) => l.final === undefined);
    expect(steps.at(-1)!.L_align!).toBeLessThan(steps[0]!.L_align!);
    const fin = r.log.at(-1)!;
    expect(fin.ssimAdv).toBeLessThan(1);
    expect(fin.cosAlignAdv).toBeGreaterThan(fin.cosAlignClean!);
  });

  it('ablations run: no-latent keeps pixels in [0,1], per-image and refine and top-n work, id-only trains its own view', async () => {
    const targets = ds.targets.slice(0, 2);
    const before = tf.memory().numTensors;
    for (const v of ['no-latent', 'per-image', 'refine', 'top-n', 'cluster', 'id-only', 'no-align', 'paper']) {
      const atk = createAuvFusionAttack({ steps: 2, batchSize: 2, ddimSteps: 4, refineSteps: 2 }, v);
      const r = await atk.generate(targets, makeAttackContext(atk, res));
      expect(r.images.size).toBe(2);
      for (const img of r.images.values()) {
        expect(Math.min(...img)).toBeGreaterThanOrEqual(0);
        expect(Math.max(...img)).toBeLessThanOrEqual(1);
      }
      if (v === 'no-latent') {
        const x0 = await ds.images.load(targets[0]!);
        const adv = r.images.get(targets[0]!)!;
        let linf = 0;
        for (let i = 0; i < x0.length; i++) linf = Math.max(linf, Math.abs(adv[i]! - x0[i]!));
        expect(linf).toBeLessThanOrEqual(32 / 255 + 1e-6);
      }
    }
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('registry routing', () => {
  it('the attack registry loads AUV-Fusion and its variants by name', async () => {
    const reg = await import('../registry.js');
    const a = reg.createAttack('auv-fusion/no-align', { steps: 1 });
    expect(a.name).toBe('auv-fusion/no-align');
    expect((a.params as { l3: number }).l3).toBe(0);
    expect(reg.listAttacks().find((i) => i.name === 'auv-fusion')?.available).toBe(true);
  });
});

describe('diffusion adapter', () => {
  it('adapts a LatentDiffusion-style handle (a diffusers-style scheduler config) to the chain model', async () => {
    const { toChainModel } = await import('./diffusion-adapter.js');
    const base = tinyDiffusion(new Rng(1), 16);
    const handle = {
      scheduler: { config: { numTrainTimesteps: 1000, betaStart: 1e-4, betaEnd: 0.02, betaSchedule: 'linear' as const, stepsOffset: 1, clipSample: false } },
      latentShape: [4, 4, 4] as [number, number, number],
      imageSize: 16,
      encode: base.encode,
      decode: base.decode,
      predictNoise: base.predictNoise,
    };
    const m = toChainModel(handle);
    expect(m.scheduler.timestepsFor(10)[0]).toBe(901); // the scheduler's own spacing (steps_offset 1) is used
    expect(m.scheduler.alphasCumprod[0]).toBeCloseTo(base.scheduler.alphasCumprod[0] as number, 8);
    expect(m.scheduler.alphasCumprod[999]).toBeCloseTo(base.scheduler.alphasCumprod[999] as number, 6);
    expect(toChainModel(base).scheduler).toBe(base.scheduler); // a DDIMScheduler is used as is
    expect(() => toChainModel({})).toThrow(ConfigError);
    expect(() => toChainModel({ ...handle, scheduler: {} })).toThrow(ConfigError);
    base.dispose();
  });
});

describe('target user groups (eq. 1)', () => {
  it("'all' gives one unit e_U for every target, 'top-n' per-target vectors, 'segment' the segment mean", async () => {
    const { groupEmbeddings } = await import('./attack.js');
    const ds = synthesizeCatalogue({ profile: 'tiny', seed: 5 });
    const n = ds.itemIds.length;
    const feats = new Rng(1).normalArray(n * 6);
    const { model } = await PreferenceEncoder.fit(
      { numUsers: ds.userIds.length, numItems: n, train: ds.split.train, features: feats, featDim: 6, excludedNegatives: new Set(ds.targets) },
      { epochs: 2, dim: 8 },
      new Rng(2),
    );
    const t = ds.targets.slice(0, 3);
    const all = groupEmbeddings(model, auvFusionParams({ group: 'all' }), t, ds.split.train);
    expect(Array.from(all.slice(0, 8))).toEqual(Array.from(all.slice(8, 16)));
    expect(Math.hypot(...all.slice(0, 8))).toBeCloseTo(1, 5);
    const top = groupEmbeddings(model, auvFusionParams({ group: 'top-n', topN: 5 }), t, ds.split.train);
    expect(Array.from(top.slice(0, 8))).not.toEqual(Array.from(top.slice(8, 16)));
    const seg = groupEmbeddings(model, auvFusionParams({ group: 'segment', segment: [3] }), t, ds.split.train);
    const e3 = model.userEmbeddingArray().slice(3 * 8, 4 * 8);
    const nrm = Math.hypot(...e3);
    for (let j = 0; j < 8; j++) expect(seg[j]).toBeCloseTo(e3[j]! / nrm, 5);
    expect(() => auvFusionParams({ group: 'segment' })).toThrow(/segment/);
  });
});
