/**
 * Results assembly: results.json rows, the manifest and the report's extras, built from the cells'
 * products (in memory after a local run, loaded from the artefact cache after a queued one), in
 * plan order, so that a local and a queued run write the same rows.
 */
import os from 'node:os';
import { attackTier } from '../../attacks/attack.js';
import { engineBackend } from '../../core/engine.js';
import { configHash } from '../../core/hash.js';
import type { ExperimentConfig } from '../config.js';
import { appliedConfig } from '../outputs.js';
import { RowCollector, frontierPoints, type ResultsFile } from '../results.js';
import { attacksNeed, cleanImages, evalUsersOf, releaseProducts, type ExperimentContext } from './context.js';
import { craftTargetsOf, targetChunks, type Cell } from './plan.js';
import { attackChunkProduct, evaluationProduct, metricsProduct, victimProduct } from './run-cell.js';

export const TOOL_VERSION = '0.1.0';

/** Sample images and curves the report draws (from the first seed). */
export interface ReportExtras {
  imageSize: number;
  samples: { item: string; index: number; clean: number[]; attacks: Record<string, number[]> }[];
  victimCurves: Record<string, { loss: number[]; validation: number[] }>;
  attackLogs: Record<string, { step: number; [k: string]: number }[]>;
  dataset: { name: string; users: number; items: number; interactions: number; targets: number; imageSize: number };
  evalUsers: number;
  targets: number;
}

async function newExtras(ctx: ExperimentContext): Promise<ReportExtras> {
  const { ds, targets } = ctx;
  const clean = await cleanImages(ctx);
  const size = ds.images.size;
  return {
    imageSize: size,
    samples: targets.slice(0, 4).map((t) => ({ item: ds.itemIds[t]!, index: t, clean: Array.from(clean.get(t)!), attacks: {} })),
    victimCurves: {},
    attackLogs: {},
    dataset: { name: ds.info.name, users: ds.userIds.length, items: ds.itemIds.length, interactions: ds.interactions.length, targets: targets.length, imageSize: size },
    evalUsers: evalUsersOf(ctx, ctx.cfg.seeds.at(-1)!).length,
    targets: targets.length,
  };
}

/** Add one cell's rows (and, for the first seed, its report extras). */
async function addCell(ctx: ExperimentContext, cell: Cell, rows: RowCollector, extras: ReportExtras): Promise<void> {
  const first = cell.seed === ctx.cfg.seeds[0];
  if (cell.stage === 'victim') {
    const v = await victimProduct(ctx, cell.seed, cell.victim!);
    if (first) extras.victimCurves[cell.victim!] = { loss: v.fit.lossCurve, validation: v.fit.validationCurve };
    const base = { victim: cell.victim!, attack: 'none', protocol: 'test' as const };
    const acc = v.accuracy;
    rows.add({ ...base, metric: 'HR', k: 10 }, cell.seed, [acc.hr10]);
    rows.add({ ...base, metric: 'NDCG', k: 10 }, cell.seed, [acc.ndcg10]);
    rows.add({ ...base, metric: 'AUC', k: null }, cell.seed, [acc.auc]);
    if (acc.coldAuc !== null && Number.isFinite(acc.coldAuc)) rows.add({ ...base, metric: 'coldAUC', k: null }, cell.seed, [acc.coldAuc]);
  } else if (cell.stage === 'attack' && first && cell.chunk === 0) {
    const name = cell.attack!;
    if ((cell.victim ?? null) !== (craftTargetsOf(ctx.cfg, ctx.attacks.get(name) ?? null)[0] ?? null)) return;
    const chunks = targetChunks(ctx.cfg, ctx.targets.length);
    const chunkOf = (t: number) => chunks.findIndex((c) => ctx.targets.indexOf(t) >= c.start && ctx.targets.indexOf(t) < c.end);
    extras.attackLogs[name] = (await attackChunkProduct(ctx, cell.seed, name, cell.victim ?? null, 0)).log;
    for (const s of extras.samples) {
      // only the chunks holding the report's sample targets are read
      const images = await (await attackChunkProduct(ctx, cell.seed, name, cell.victim ?? null, chunkOf(s.index))).images();
      s.attacks[name] = Array.from(images.get(s.index)!);
    }
  } else if (cell.stage === 'metrics') {
    for (const [metric, vals] of await metricsProduct(ctx, cell.seed, cell.attack!)) rows.add({ victim: 'any', attack: cell.attack!, protocol: 'full', metric, k: null }, cell.seed, vals);
  } else if (cell.stage === 'evaluate') {
    const ev = await evaluationProduct(ctx, cell.seed, cell.attack!, cell.victim!, cell.defence!);
    const base = { victim: cell.victim!, attack: cell.attack!, ...(cell.defence !== 'none' ? { defence: cell.defence! } : {}) };
    for (const k of ctx.cfg.ks) {
      if (ev.full) {
        rows.add({ ...base, protocol: 'full', metric: 'HR', k }, cell.seed, ev.full.map((p) => p.hr[k]!));
        rows.add({ ...base, protocol: 'full', metric: 'NDCG', k }, cell.seed, ev.full.map((p) => p.ndcg[k]!));
      }
      if (ev.aip) rows.add({ ...base, protocol: 'aip', metric: 'HR', k }, cell.seed, ev.aip.map((p) => p.hr[k]!));
    }
    if (ev.full) rows.add({ ...base, protocol: 'full', metric: 'meanRank', k: null }, cell.seed, ev.full.map((p) => p.meanRank));
  }
}

/** Rows and report extras being collected, cell by cell in plan order. */
export interface Assembly {
  rows: RowCollector;
  extras: ReportExtras;
}

export async function startAssembly(ctx: ExperimentContext): Promise<Assembly> {
  return { rows: new RowCollector(), extras: await newExtras(ctx) };
}

/** Add the rows of `cells` (in plan order). */
export async function addCells(ctx: ExperimentContext, asm: Assembly, cells: readonly Cell[]): Promise<void> {
  for (const cell of cells) await addCell(ctx, cell, asm.rows, asm.extras);
}

/** results.json (rows, manifest, frontier) from the collected rows. */
export function finishAssembly(ctx: ExperimentContext, asm: Assembly): { results: ResultsFile; extras: ReportExtras } {
  const { cfg } = ctx;
  const results: ResultsFile = {
    version: '1',
    config: appliedConfig(cfg, { surrogate: attacksNeed(ctx.attacks, 'surrogateRecommender'), diffusion: attacksNeed(ctx.attacks, 'diffusion') }),
    manifest: {
      toolVersion: TOOL_VERSION,
      configHash: configHash(cfg),
      seeds: cfg.seeds,
      timings: Object.fromEntries(Object.entries(ctx.timings).map(([k, v]) => [k, Math.round(v * 10) / 10])),
      machine: { platform: `${os.platform()} ${os.arch()}`, cpu: os.cpus()[0]?.model ?? 'unknown', cores: os.cpus().length, node: process.version, backend: engineBackend() },
      cache: { hits: ctx.cache.stats.hits.length, misses: ctx.cache.stats.misses.length },
      protocolText: protocolText(cfg, ctx.targets.length, asm.extras.evalUsers),
      dataset: asm.extras.dataset,
      tier: cfg.tier,
      ...(ctx.diffusionQuality ? { diffusionQuality: ctx.diffusionQuality } : {}),
      attackTiers: Object.fromEntries([...ctx.attacks].filter(([, a]) => a).map(([name, a]) => [name, attackTier(a!, cfg.tier)])),
    },
    rows: asm.rows.rows(),
  };
  results.frontier = frontierPoints(results.rows, cfg.attacks.map((s) => s.name), cfg.victims, cfg.ks);
  return { results, extras: asm.extras };
}

/** The cells of `plan` for one seed (the shared encoders cell counts as the first seed's). */
export function cellsOfSeed(plan: readonly Cell[], seed: number): Cell[] {
  return plan.filter((c) => c.seed === seed);
}

/**
 * results.json and the report's extras from the products of `plan`'s cells: in memory after a
 * local run, else loaded from the artefact cache (built there if absent). Products are released
 * seed by seed.
 */
export async function assembleResults(ctx: ExperimentContext, plan: readonly Cell[]): Promise<{ results: ResultsFile; extras: ReportExtras }> {
  const asm = await startAssembly(ctx);
  for (const seed of ctx.cfg.seeds) {
    await addCells(ctx, asm, cellsOfSeed(plan, seed));
    releaseProducts(ctx, `s${seed}/`);
  }
  return finishAssembly(ctx, asm);
}

/** How every number was computed, in words (for results.json and the report). */
export function protocolText(cfg: ExperimentConfig, targets: number, evalUsers: number): string {
  const seeds = cfg.seeds.length;
  return [
    `Full-ranking protocol (spec section 9): for each victim, attack, target item and evaluation user, the target's rank among all items not in the user's training set, with only that target's image replaced by its adversarial version (the other targets clean).`,
    `HR@k is the mean of [rank < k] and NDCG@k the mean of 1/log2(rank + 2) when rank < k, over ${targets} target items x ${evalUsers} evaluation users; k = ${cfg.ks.join(', ')}; meanRank is the mean 0-based rank over the same pairs. Attack 'none' is the same computation with the clean images.`,
    `Threat-model tier '${cfg.tier}': the attacker's encoder (what AUV-Fusion aligns through, EXPA/PGD pull features with, and the surrogate recommender is trained on) is ${cfg.tier === 'independent' ? "the attacker's own encoder G, trained independently of the victim's F (a transfer setting)" : "the victim's public feature extractor F (AIP's and the paper's setting: the extractor is public, the recommender is not)"}; attacks that read the victim's model (INSA) are white-box reference rows.`,
    `Each figure is computed per seed (seeds ${cfg.seeds.join(', ')}: victims, surrogate recommender, attacks and user sample re-run per seed; encoders and the diffusion model trained once) and reported as the mean over seeds with a 95% Student-t interval over the ${seeds} per-seed means${seeds < 2 ? ' (one seed: interval over targets)' : ''}; n is the number of values the interval is over; intervals are clipped to the metric's range.`,
    `White-box attacks (INSA) are crafted against each visual victim separately and have no row for the non-visual BPR-MF control; the other attacks craft one image per target used against every victim. Image metrics (SSIM with an 11x11 Gaussian window, sigma 1.5, as scikit-image; PSNR; L_inf; L2 on [0,1] pixels; semantic = cosine under the semantic encoder C) compare each adversarial image with its clean image. detectAUC is the held-out ROC AUC of a logistic-regression detector on victim-encoder features trained on half of the targets' clean/adversarial pairs.`,
    `Victim accuracy (protocol 'test'): HR@10, NDCG@10 and AUC of each user's held-out test item among all items not in the training set; coldAUC restricted to cold items (see src/evaluation/accuracy.ts).`,
  ].join('\n');
}
