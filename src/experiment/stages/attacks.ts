/** Stage 'attack': one attack's adversarial images for one seed, crafted-for victim and target chunk. */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { makeAttackContext, type Attack, type AttackContext, type AttackResources } from '../../attacks/attack.js';
import type { ImageEncoder } from '../../encoders/encoder.js';
import type { Recommender } from '../../recommenders/recommender.js';
import { writeJsonAtomic } from '../../core/fsutil.js';
import { Rng } from '../../core/rng.js';
import type { VictimKind } from '../../recommenders/recommender.js';
import { diffusionKey } from '../diffusion-stage.js';
import { attackerEncoder, attackerEncoderHash, diffusionOf, encoderHashes, encodersOf, timed, type ExperimentContext } from './context.js';
import { targetChunks } from './plan.js';
import type { AttackerProduct, VictimProduct } from './victims.js';

export type AttackLog = { step: number; [k: string]: number }[];

/** target -> adversarial image (size x size x 3, [0,1]), read from the artefact when first asked for. */
export type LazyImages = () => Promise<Map<number, Float32Array>>;

/** `load` once, on first call (the evaluation and metrics keys need only the hash, not the pixels). */
export function once<T>(load: () => Promise<T>): () => Promise<T> {
  let p: Promise<T> | undefined;
  return () => (p ??= load());
}

export interface AttackProduct {
  /** The images, loaded on demand: a submitter assembling a queued run needs only `hash`. */
  images: LazyImages;
  log: AttackLog;
  /** Cache hash of the artefact the images came from. */
  hash: string;
}

/**
 * Run `attack` on `targets` and check its output at the attack boundary: one image per target,
 * every pixel in [0,1]. Shared by the runner and `auv-fusion attack`.
 */
export async function craftImages(attack: Attack, targets: readonly number[], actx: AttackContext): Promise<{ images: Map<number, Float32Array>; seconds: number; log: AttackLog }> {
  const out = await attack.generate(targets, actx);
  for (const t of targets) {
    const img = out.images.get(t);
    if (!img) throw new Error(`attack ${attack.name} returned no image for target ${t}`);
    for (let i = 0; i < img.length; i++) if (!(img[i]! >= 0 && img[i]! <= 1)) throw new Error(`attack ${attack.name}: pixel outside [0,1] for target ${t}`);
  }
  return { images: out.images, seconds: out.seconds, log: out.log as AttackLog };
}

/** The targets of chunk `chunk` (all targets when the config does not chunk). */
export function chunkTargets(ctx: Pick<ExperimentContext, 'cfg' | 'targets'>, chunk: number): number[] {
  const c = targetChunks(ctx.cfg, ctx.targets.length)[chunk];
  if (!c) throw new Error(`no target chunk ${chunk} (${ctx.targets.length} targets, attackChunk ${ctx.cfg.attackChunk})`);
  return ctx.targets.slice(c.start, c.end);
}

async function saveImages(dir: string, targets: readonly number[], images: ReadonlyMap<number, Float32Array>, per: number): Promise<void> {
  const buf = new Float32Array(targets.length * per);
  targets.forEach((t, k) => buf.set(images.get(t)!, k * per));
  await fs.writeFile(path.join(dir, 'images.f32'), new Uint8Array(buf.buffer));
}

async function loadImages(dir: string, targets: readonly number[], per: number): Promise<Map<number, Float32Array>> {
  const raw = await fs.readFile(path.join(dir, 'images.f32'));
  const buf = new Float32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength));
  const images = new Map<number, Float32Array>();
  targets.forEach((t, k) => images.set(t, buf.subarray(k * per, (k + 1) * per)));
  return images;
}

/** The random stream of attack `name` for `seed`, crafted against `craftedFor` (null: every victim); `run` and `attack` share it. */
export function attackRng(seed: number, name: string, craftedFor: VictimKind | null): Rng {
  return new Rng(seed).fork(`attack:${name}:${craftedFor ?? 'any'}`);
}

/**
 * What attack `attack` may read, in the experiment's tier: the encoders F, G (the tier's attacker
 * encoder) and C, the attacker's surrogate recommender and diffusion model, each prepared (cached)
 * only when the attack declares it; `given` supplies the victim (the experiment's, or a saved one).
 */
export async function attackResources(
  ctx: ExperimentContext,
  attack: Attack,
  rng: Rng,
  given: { victimModel?: Recommender; victimEncoder?: ImageEncoder; attacker?: AttackerProduct },
): Promise<AttackResources> {
  const knows = new Set<string>(attack.threat.knows);
  const res: AttackResources = { rng, dataset: ctx.ds, tier: ctx.cfg.tier };
  if (given.victimModel) res.victimModel = given.victimModel;
  if (given.victimEncoder) res.victimEncoder = given.victimEncoder;
  if (['victimEncoder', 'surrogateEncoder', 'semanticEncoder', 'surrogateRecommender'].some((k) => knows.has(k))) {
    const { encoders } = await encodersOf(ctx);
    res.victimEncoder ??= encoders.victim;
    res.surrogateEncoder = (await attackerEncoder(ctx)).encoder;
    res.semanticEncoder = encoders.semantic;
  }
  if (given.attacker) res.surrogateRecommender = given.attacker.model;
  if (knows.has('diffusion')) res.diffusion = await diffusionOf(ctx);
  return res;
}

/** Craft (or load) the images of attack `name` for one seed, crafted-for victim (null: any) and target chunk. */
export async function attackStage(
  ctx: ExperimentContext,
  cell: { seed: number; name: string; craftedFor: VictimKind | null; chunk: number },
  victim: VictimProduct | undefined,
  attacker: AttackerProduct | undefined,
): Promise<AttackProduct> {
  const attack = ctx.attacks.get(cell.name);
  if (!attack) throw new Error(`attack cell for '${cell.name}', which is not an attack of this experiment`);
  const { cfg, ds } = ctx;
  const encHash = encoderHashes(ctx);
  const attackerHash = attackerEncoderHash(ctx);
  const knows = new Set<string>(attack.threat.knows);
  const targets = chunkTargets(ctx, cell.chunk);
  const chunked = cfg.attackChunk > 0;
  const deps = {
    attack: attack.name,
    params: attack.params,
    seed: cell.seed,
    targets,
    data: ctx.dataKey,
    enc: attack.threat.knows.map((k) => ({ victimEncoder: encHash.victim, surrogateEncoder: attackerHash, semanticEncoder: encHash.semantic })[k as string] ?? k),
    victim: victim?.hash ?? null,
    surrogate: knows.has('surrogateRecommender') ? attacker?.hash : null,
    diffusion: knows.has('diffusion') ? diffusionKey(cfg, ctx.dataKey, ctx.ds.images.size, ctx.cache) : null,
    ...(chunked ? { chunk: { size: cfg.attackChunk, index: cell.chunk } } : {}),
  };
  const per = ds.images.size * ds.images.size * 3;
  const res = await timed(ctx, `attack:${cell.name}`, () =>
    ctx.cache.get(
      'attack',
      deps,
      async (dir) => {
        const vk = cell.craftedFor;
        ctx.log(`seed ${cell.seed}: ${attack.name}${vk ? ` against ${vk}` : ''} on ${targets.length} targets${chunked ? ` (chunk ${cell.chunk})` : ''}`);
        const rng = attackRng(cell.seed, attack.name, vk);
        const resources = await attackResources(ctx, attack, chunked ? rng.fork(`chunk:${cell.chunk}`) : rng, { ...(victim ? { victimModel: victim.model } : {}), ...(attacker ? { attacker } : {}) });
        const out = await craftImages(attack, targets, makeAttackContext(attack, resources));
        await saveImages(dir, targets, out.images, per);
        await writeJsonAtomic(path.join(dir, 'log.json'), { seconds: out.seconds, log: out.log });
      },
      async (dir) => {
        const log = JSON.parse(await fs.readFile(path.join(dir, 'log.json'), 'utf8')) as { log: AttackLog };
        return { images: once(() => loadImages(dir, targets, per)), log: log.log };
      },
    ),
  );
  return { ...res.value, hash: res.hash };
}
