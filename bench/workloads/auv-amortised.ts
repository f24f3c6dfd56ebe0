/**
 * AUV-Fusion's amortised training on the `default` catalogue's 60 cold-start targets (issue 5,
 * speed): one full `generate()` with the demo's settings (20 DDIM steps, injection at 15 under the
 * residual composition, 8 Adam steps on the MLP over minibatches of 8 targets, 2 per-target
 * refinement steps per minibatch, then every target rendered and refined in pixels under the SSIM
 * floor: 20 SSIM-shaped Adam steps, the default since round 5). The shipped diffusion checkpoint; the default surrogate and semantic
 * encoder architectures at their initial weights and a one-epoch surrogate recommender (the
 * arithmetic, hence the time, does not depend on how well they are trained). Time per target = run / 60.
 */
import { makeAttackContext, type Attack } from '../../src/attacks/attack.js';
import { createAttack } from '../../src/attacks/registry.js';
import { Rng } from '../../src/core/rng.js';
import { synthesizeCatalogue, type SynthDataset } from '../../src/data/index.js';
import { loadDiffusion, type LatentDiffusion } from '../../src/diffusion/model.js';
import { DEFAULT_ENCODER_CONFIGS, ResNetEncoder, extractFeatures } from '../../src/encoders/resnet.js';
import { PreferenceEncoder } from '../../src/preference/model.js';
import { registerWorkload } from '../workloads.js';

interface Ctx {
  ds: SynthDataset;
  G: ResNetEncoder;
  C: ResNetEncoder;
  pref: PreferenceEncoder;
  diffusion: LatentDiffusion;
  attack: Attack;
}

registerWorkload<Ctx>({
  name: 'auv-amortised-default',
  description: 'AUV-Fusion generate() for the 60 default targets (demo settings): 8 MLP + 16 refinement Adam steps through 5 of 20 DDIM steps, then the renders and 20 SSIM-shaped pixel steps per minibatch',
  runs: 3,
  setup: async () => {
    const ds = synthesizeCatalogue({ profile: 'default', seed: 1 });
    const G = new ResNetEncoder({ ...DEFAULT_ENCODER_CONFIGS.surrogate });
    const C = new ResNetEncoder({ ...DEFAULT_ENCODER_CONFIGS.semantic });
    const n = ds.itemIds.length;
    const f = await extractFeatures(G, ds.images, Array.from({ length: n }, (_, i) => i), 256);
    const features = (await f.data()) as Float32Array;
    f.dispose();
    const { model: pref } = await PreferenceEncoder.fit(
      { numUsers: ds.userIds.length, numItems: n, train: ds.split.train, features, featDim: G.description.featureDim, excludedNegatives: new Set(ds.targets) },
      { epochs: 1 },
      new Rng(1).fork('bench-surrogate'),
    );
    const diffusion = await loadDiffusion();
    const attack = createAttack('auv-fusion', { ddimSteps: 20, steps: 8, refineSteps: 2 });
    return { ds, G, C, pref, diffusion, attack };
  },
  // one full generate() is the unit; the first timed run is its own warm-up
  warmup: () => undefined,
  run: async ({ ds, G, C, pref, diffusion, attack }) => {
    const ctx = makeAttackContext(attack, { rng: new Rng(1), dataset: ds, surrogateEncoder: G, semanticEncoder: C, surrogateRecommender: pref, diffusion });
    const res = await attack.generate(ds.targets, ctx);
    if (res.images.size !== ds.targets.length) throw new Error(`auv-fusion returned ${res.images.size} images for ${ds.targets.length} targets`);
  },
  teardown: ({ G, C, diffusion }) => {
    G.dispose();
    C.dispose();
    diffusion.dispose();
  },
});
