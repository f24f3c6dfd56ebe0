/**
 * Running one cell of the plan (./plan.ts). Each cell's product is kept in `ctx.products` under its
 * id while the run needs it; a product that is not in memory (a queued worker, or a seed already
 * released) is loaded from the artefact cache, or built there if absent, by the same stage
 * function. So `runCell` leaves the cell's artefact in the cache and returns its product.
 */
import type { VictimKind } from '../../recommenders/recommender.js';
import { cleanImages, encodersOf, type Encoders, type ExperimentContext } from './context.js';
import { attackStage, once, type AttackLog, type AttackProduct, type LazyImages } from './attacks.js';
import { evaluateStage, type Evaluation } from './evaluate.js';
import { metricsStage, type ImageMetricValues } from './metrics.js';
import { attackCellId, attackerCellId, controlVictim, craftTargetsOf, evaluateCellId, imagesFor, metricsCellId, targetChunks, victimCellId, type Cell } from './plan.js';
import { attackerStage, victimStage, type AttackerProduct, type VictimProduct } from './victims.js';

async function memo<T>(ctx: ExperimentContext, id: string, make: () => Promise<T>): Promise<T> {
  if (ctx.products.has(id)) return ctx.products.get(id) as T;
  const v = await make();
  ctx.products.set(id, v);
  return v;
}

export function victimProduct(ctx: ExperimentContext, seed: number, kind: VictimKind): Promise<VictimProduct> {
  return memo(ctx, victimCellId(seed, kind), () => victimStage(ctx, seed, kind));
}

export function attackerProduct(ctx: ExperimentContext, seed: number): Promise<AttackerProduct> {
  return memo(ctx, attackerCellId(seed), () => attackerStage(ctx, seed));
}

/** One target chunk of an attack's images. */
export function attackChunkProduct(ctx: ExperimentContext, seed: number, name: string, craftedFor: VictimKind | null, chunk: number): Promise<AttackProduct> {
  return memo(ctx, attackCellId(seed, name, craftedFor, chunk), async () => {
    const attack = ctx.attacks.get(name);
    const knows = new Set<string>(attack?.threat.knows ?? []);
    const victim = craftedFor ? await victimProduct(ctx, seed, craftedFor) : undefined;
    const attacker = knows.has('surrogateRecommender') ? await attackerProduct(ctx, seed) : undefined;
    return attackStage(ctx, { seed, name, craftedFor, chunk }, victim, attacker);
  });
}

/** An attack's images over every target chunk, the hash(es) of the artefacts they came from, and the first chunk's log. */
export async function attackImages(ctx: ExperimentContext, seed: number, name: string, craftedFor: VictimKind | null): Promise<{ images: LazyImages; hash: string | string[]; log: AttackLog }> {
  const parts: AttackProduct[] = [];
  for (const c of targetChunks(ctx.cfg, ctx.targets.length)) parts.push(await attackChunkProduct(ctx, seed, name, craftedFor, c.index));
  if (parts.length === 1) return parts[0]!;
  const images = once(async () => new Map((await Promise.all(parts.map((p) => p.images()))).flatMap((m) => [...m])));
  return { images, hash: parts.map((p) => p.hash), log: parts[0]!.log };
}

export async function metricsProduct(ctx: ExperimentContext, seed: number, name: string): Promise<ImageMetricValues> {
  return memo(ctx, metricsCellId(seed, name), async () => {
    const first = craftTargetsOf(ctx.cfg, ctx.attacks.get(name) ?? null)[0];
    if (first === undefined) throw new Error(`attack '${name}' has no crafted images (no visual victim)`);
    const imgs = await attackImages(ctx, seed, name, first);
    return metricsStage(ctx, seed, name, imgs.images, imgs.hash);
  });
}

export async function evaluationProduct(ctx: ExperimentContext, seed: number, name: string, kind: VictimKind, defence: string): Promise<Evaluation> {
  return memo(ctx, evaluateCellId(seed, name, kind, defence), async () => {
    const attack = ctx.attacks.get(name) ?? null;
    const vk = imagesFor(attack, kind);
    if (vk === undefined) throw new Error(`attack '${name}' has no images crafted for victim ${kind}`);
    const imgs = attack ? await attackImages(ctx, seed, name, vk) : { images: () => cleanImages(ctx), hash: null };
    const victim = await victimProduct(ctx, seed, kind);
    const control = controlVictim(ctx.cfg);
    const aipControl = ctx.cfg.protocols.includes('aip') && control ? (await victimProduct(ctx, seed, control)).model : undefined;
    return evaluateStage(ctx, { seed, name, kind, defence, victim, ...(aipControl ? { control: aipControl } : {}), images: imgs.images, imagesHash: imgs.hash });
  });
}

export type CellProduct = Encoders | VictimProduct | AttackerProduct | AttackProduct | ImageMetricValues | Evaluation;

/** Run one cell: its product is left in the artefact cache (and in `ctx.products`) and returned. */
export async function runCell(ctx: ExperimentContext, cell: Cell): Promise<CellProduct> {
  switch (cell.stage) {
    case 'encoders':
      return encodersOf(ctx);
    case 'victim':
      return victimProduct(ctx, cell.seed, need(cell, 'victim'));
    case 'attacker':
      return attackerProduct(ctx, cell.seed);
    case 'attack':
      return attackChunkProduct(ctx, cell.seed, need(cell, 'attack'), cell.victim ?? null, cell.chunk ?? 0);
    case 'metrics':
      return metricsProduct(ctx, cell.seed, need(cell, 'attack'));
    case 'evaluate':
      return evaluationProduct(ctx, cell.seed, need(cell, 'attack'), need(cell, 'victim'), cell.defence ?? 'none');
  }
}

function need<K extends 'attack' | 'victim'>(cell: Cell, key: K): NonNullable<Cell[K]> {
  const v = cell[key];
  if (v === undefined) throw new Error(`cell '${cell.id}' (${cell.stage}) has no ${key}`);
  return v as NonNullable<Cell[K]>;
}
