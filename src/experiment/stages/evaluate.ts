/** Stage 'evaluate': one victim under one attack's images (and one defence) for one seed, by every configured protocol. */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { writeJsonAtomic } from '../../core/fsutil.js';
import { applyDefence } from '../../defences/index.js';
import { featuresOfImages } from '../../encoders/features.js';
import { evaluateAip } from '../../evaluation/aip-protocol.js';
import { evaluateTargets } from '../../evaluation/full-ranking.js';
import type { Recommender, VictimKind } from '../../recommenders/recommender.js';
import { encoderHashes, encodersOf, evalUsersOf, timed, type ExperimentContext } from './context.js';
import { attackNeedsVictim } from './plan.js';

export interface Evaluation {
  full?: { hr: Record<string, number>; ndcg: Record<string, number>; meanRank: number }[];
  aip?: { hr: Record<string, number> }[];
}

export interface EvaluateInput {
  seed: number;
  name: string;
  kind: VictimKind;
  defence: string;
  victim: { model: Recommender; hash: string };
  /** The non-visual control (AIP protocol), when the config asks for it. */
  control?: Recommender;
  /** The images evaluated (the clean ones for attack 'none'), read only when the evaluation is not cached, and the artefact hash(es) they came from (null: clean). */
  images: () => Promise<ReadonlyMap<number, Float32Array>>;
  imagesHash: string | string[] | null;
}

async function evaluate(ctx: ExperimentContext, inp: EvaluateInput, attacked: boolean): Promise<Evaluation> {
  const { cfg, ds, targets } = ctx;
  const size = ds.images.size;
  const { encoders } = await encodersOf(ctx);
  const users = evalUsersOf(ctx, inp.seed);
  const images = await inp.images();
  let used = images;
  if (inp.defence !== 'none') {
    const defended = await applyDefence(inp.defence, {}, targets.map((t) => images.get(t)!), size);
    used = new Map(targets.map((t, k) => [t, defended[k]!]));
  }
  const adv = attacked || inp.defence !== 'none' ? await featuresOfImages(encoders.victim, used, size) : null;
  const out: Evaluation = {};
  if (cfg.protocols.includes('full')) out.full = (await evaluateTargets(inp.victim.model, targets, adv, users, { train: ds.split.train, ks: cfg.ks, numItems: ds.itemIds.length })).perTarget;
  if (cfg.protocols.includes('aip') && inp.control) out.aip = (await evaluateAip(inp.victim.model, inp.control, targets, adv, users, { test: ds.split.test, ks: cfg.ks })).perTarget;
  return out;
}

/** Evaluate (or load the cached evaluation of) one victim under one attack and defence. */
export async function evaluateStage(ctx: ExperimentContext, inp: EvaluateInput): Promise<Evaluation> {
  const { cfg, targets } = ctx;
  const attack = ctx.attacks.get(inp.name) ?? null;
  const encHash = encoderHashes(ctx);
  const deps = {
    victim: inp.victim.hash,
    attack: inp.name,
    params: attack?.params ?? {},
    images: inp.imagesHash,
    seed: inp.seed,
    defence: inp.defence,
    protocols: cfg.protocols,
    ks: cfg.ks,
    users: evalUsersOf(ctx, inp.seed),
    targets,
    encoder: encHash.victim,
    craftedFor: attackNeedsVictim(attack) ? inp.kind : null,
  };
  const res = await timed(ctx, 'evaluation', () =>
    ctx.cache.get(
      'eval',
      deps,
      async (dir) => writeJsonAtomic(path.join(dir, 'eval.json'), await evaluate(ctx, inp, attack !== null)),
      async (dir) => JSON.parse(await fs.readFile(path.join(dir, 'eval.json'), 'utf8')) as Evaluation,
    ),
  );
  return res.value;
}
