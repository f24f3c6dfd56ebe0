/**
 * amazon-men-scale: the pipeline pieces a 1000-target audit needs at Amazon Men's size (34,244 users
 * x 110,636 items, ~255k interactions; src/data/synth/scale.ts). Setup (timed per stage, reported,
 * not the workload's median): generate the compact catalogue; extract F's 512-d features of every
 * item, images rendered on demand 256 at a time, streamed into one N x D Float32Array; train one
 * VBPR victim for EPOCHS epochs. One run = the full-ranking protocol (src/evaluation/full-ranking.ts)
 * for the 1000 cold targets over every user: each user scored against all items in blocks of
 * BLOCK users, target ranks among the user's non-training items, the targets' adversarial-feature
 * path taken (here with their clean features: an attack's output takes the same path).
 * Reported: each stage's seconds, the evaluation's RSS / tfjs-tensor / wasm-heap high-water marks,
 * and HR@10 / mean rank (sanity, not a result: F is an untrained, seeded encoder, see below).
 *
 * F is the project's victim ResNet (DEFAULT_ENCODER_CONFIGS.victim) at its seeded random
 * initialisation: training F on 110k items is a separate cost (encoders/train.ts) and the features'
 * quality does not change any stage's cost. AUV_SCALE_FRACTION=f (0 < f <= 1) shrinks users, items
 * and targets by f for a quick check.
 */
import * as tf from '@tensorflow/tfjs';
import { synthesizeScaleCatalogue, type ScaleCatalogue } from '../../src/data/synth/scale.js';
import { DEFAULT_ENCODER_CONFIGS, ResNetEncoder, extractFeatureRows } from '../../src/encoders/resnet.js';
import { createRecommender, type LatentRecommender } from '../../src/recommenders/models.js';
import { evaluateTargets, type RankableModel, type TargetEvaluation } from '../../src/evaluation/full-ranking.js';
import { registerWorkload } from '../workloads.js';

const SEED = 1, EPOCHS = 5, BLOCK = 512, FEATURE_BATCH = 256;

interface Ctx {
  cat: ScaleCatalogue;
  victim: LatentRecommender;
  targets: number[];
  adv: Map<number, Float32Array>;
  users: number[];
  train: Int32Array[];
  stages: Record<string, number>;
  peak: { rssMb: number; tensorMb: number; wasmHeapMb: number };
  last: TargetEvaluation | null;
}

function fraction(): number {
  const raw = process.env.AUV_SCALE_FRACTION;
  if (raw === undefined || raw === '') return 1;
  const f = Number(raw);
  if (!(f > 0 && f <= 1)) throw new Error(`AUV_SCALE_FRACTION must be a number in (0, 1], got '${raw}'`);
  return f;
}

const mb = (bytes: number): number => Math.round(bytes / 2 ** 20);

/** The wasm backend's linear memory (it only grows, so this is its high-water mark); 0 on cpu. */
function wasmHeapBytes(): number {
  const w = (tf.backend() as unknown as { wasm?: { HEAPU8?: Uint8Array } }).wasm;
  return w?.HEAPU8?.byteLength ?? 0;
}

function log(msg: string): void {
  process.stderr.write(`  amazon-men-scale: ${msg}\n`);
}

async function timed<T>(ctx: Pick<Ctx, 'stages'>, name: string, f: () => Promise<T> | T): Promise<T> {
  const t0 = performance.now();
  const out = await f();
  ctx.stages[`${name}S`] = +((performance.now() - t0) / 1000).toFixed(1);
  ctx.stages[`${name}MaxRssMb`] = Math.round(process.resourceUsage().maxRSS / 1024);
  log(`${name} ${ctx.stages[`${name}S`]} s, max RSS so far ${ctx.stages[`${name}MaxRssMb`]} MB`);
  return out;
}

/** The victim with each score block sampled for memory (RSS, live tensors, wasm heap). */
function metered(ctx: Ctx, total: number): RankableModel {
  let done = 0;
  const t0 = performance.now();
  return {
    visual: ctx.victim.visual,
    score(users, items) {
      const s = ctx.victim.score(users, items);
      const p = ctx.peak;
      p.rssMb = Math.max(p.rssMb, mb(process.memoryUsage().rss));
      p.tensorMb = Math.max(p.tensorMb, mb(tf.memory().numBytes));
      p.wasmHeapMb = Math.max(p.wasmHeapMb, mb(wasmHeapBytes()));
      done += users.length;
      if (total > BLOCK && (done / BLOCK) % 10 === 0) {
        const el = (performance.now() - t0) / 1000;
        log(`evaluated ${done}/${total} users, ${el.toFixed(0)} s, ETA ${((el / done) * (total - done)).toFixed(0)} s`);
      }
      return s;
    },
    scoreWithFeatures: (users, items, features) => ctx.victim.scoreWithFeatures(users, items, features),
  };
}

async function evaluate(ctx: Ctx, users: number[]): Promise<TargetEvaluation> {
  const model = Object.assign(metered(ctx, users.length), { numItems: ctx.cat.numItems });
  return evaluateTargets(model, ctx.targets, ctx.adv, users, { train: ctx.train, ks: [5, 10, 20], block: BLOCK });
}

async function setup(): Promise<Ctx> {
  const f = fraction();
  const stages: Record<string, number> = {};
  const cat = await timed({ stages }, 'generate', () =>
    synthesizeScaleCatalogue({
      seed: SEED,
      overrides: f < 1 ? { numUsers: Math.round(34_244 * f), numItems: Math.round(110_636 * f), numTargets: Math.max(10, Math.round(1000 * f)) } : {},
    }),
  );
  log(`${cat.numUsers} users x ${cat.numItems} items, ${cat.numInteractions} interactions (${cat.train.total} in train), ${cat.targets.length} targets, ${cat.images.size} px`);
  const encoder = new ResNetEncoder(DEFAULT_ENCODER_CONFIGS.victim);
  const dim = encoder.description.featureDim;
  const all = Array.from({ length: cat.numItems }, (_, i) => i);
  const t0 = performance.now();
  const rows = await timed({ stages }, 'features', () =>
    extractFeatureRows(encoder, cat.images, all, FEATURE_BATCH, (done, total) => {
      if (done % (FEATURE_BATCH * 40) === 0 || done === total) {
        const el = (performance.now() - t0) / 1000;
        log(`features ${done}/${total}, ${el.toFixed(0)} s, ETA ${((el / done) * (total - done)).toFixed(0)} s`);
      }
    }),
  );
  encoder.dispose();
  const targets = Array.from(cat.targets);
  const adv = new Map(targets.map((t) => [t, rows.slice(t * dim, (t + 1) * dim)]));
  const train = cat.train.views();
  const victim = createRecommender('vbpr', { epochs: EPOCHS, evalEvery: EPOCHS, evalUsers: 2000, seed: SEED });
  await timed({ stages }, 'victim', async () => {
    const feats = tf.tensor2d(rows, [cat.numItems, dim]);
    const rep = await victim.fit({
      numUsers: cat.numUsers,
      numItems: cat.numItems,
      train,
      validation: cat.validation,
      excludedNegatives: new Set(targets),
      itemFeatures: feats,
      itemCategory: cat.itemCategory,
      numCategories: cat.categoryNames.length,
    });
    feats.dispose();
    log(`VBPR ${rep.epochs} epochs, loss ${rep.lossCurve.map((x) => x.toFixed(3)).join(' ')}, val HR@10 (2000 users) ${rep.validationCurve.map((x) => x.toFixed(4)).join(' ')}`);
  });
  const users = Array.from({ length: cat.numUsers }, (_, u) => u);
  return { cat, victim, targets, adv, users, train, stages, peak: { rssMb: 0, tensorMb: 0, wasmHeapMb: 0 }, last: null };
}

registerWorkload<Ctx>({
  name: 'amazon-men-scale',
  description: `Amazon-Men size (34k users x 111k items): full-ranking evaluation of 1000 cold targets for one VBPR victim (${EPOCHS} epochs), every user, blocks of ${BLOCK}; setup stages reported`,
  setup,
  // Warm-up: one block of users (also builds the victim's preprocessed item features once).
  async warmup(ctx) {
    await evaluate(ctx, ctx.users.slice(0, BLOCK));
  },
  async run(ctx) {
    const rssBefore = Math.round(process.resourceUsage().maxRSS / 1024);
    ctx.last = await evaluate(ctx, ctx.users);
    ctx.stages.maxRssBeforeEvalMb = rssBefore;
  },
  report(ctx) {
    const e = ctx.last;
    return {
      ...ctx.stages,
      users: ctx.cat.numUsers,
      items: ctx.cat.numItems,
      interactions: ctx.cat.numInteractions,
      targets: ctx.targets.length,
      evalPeakRssMb: ctx.peak.rssMb,
      evalPeakTensorMb: ctx.peak.tensorMb,
      wasmHeapMb: ctx.peak.wasmHeapMb,
      ...(e ? { hr10: +e.hr[10]!.toFixed(5), meanRank: Math.round(e.perTarget.reduce((a, p) => a + p.meanRank, 0) / e.perTarget.length) } : {}),
    };
  },
  teardown(ctx) {
    ctx.victim.dispose();
  },
  runs: 1,
  onlyWhenNamed: true,
});
