/**
 * The experiment as a list of cells (issue 16): each cell is one stage for one seed (and attack,
 * victim, defence, target chunk), with the ids of the cells whose products it reads. A local run
 * executes the cells in plan order in one process (./run-cell.ts); a queue may run them anywhere
 * that shares the artefact cache, in any order that respects `deps`. Ids are stable and
 * deterministic: the same config and targets always give the same plan.
 */
import type { Attack } from '../../attacks/attack.js';
import { ConfigError } from '../../core/errors.js';
import { isVisualKind, type VictimKind } from '../../recommenders/recommender.js';
import type { ExperimentConfig } from '../config.js';
import { configuredAttacks } from './context.js';

export type CellStage = 'encoders' | 'victim' | 'attacker' | 'attack' | 'metrics' | 'evaluate';

export interface Cell {
  /** Stable id, unique in the plan (e.g. 's1/attack/insa/vbpr/c0'). */
  id: string;
  stage: CellStage;
  seed: number;
  /** Attack spec name (attack, metrics, evaluate). */
  attack?: string;
  /** The victim trained (victim), crafted against (attack, metrics; absent when crafted for every victim) or evaluated (evaluate). */
  victim?: VictimKind;
  /** Defence applied before evaluation ('none' for the undefended one). */
  defence?: string;
  /** Target chunk index (attack, when `attackChunk` > 0). */
  chunk?: number;
  /** Ids of the cells whose products this one reads. */
  deps: string[];
}

export const ENCODERS_CELL = 'encoders';
export const victimCellId = (seed: number, kind: VictimKind): string => `s${seed}/victim/${kind}`;
export const attackerCellId = (seed: number): string => `s${seed}/attacker`;
export const attackCellId = (seed: number, attack: string, craftedFor: VictimKind | null, chunk: number): string => `s${seed}/attack/${attack}/${craftedFor ?? 'any'}/c${chunk}`;
export const metricsCellId = (seed: number, attack: string): string => `s${seed}/metrics/${attack}`;
export const evaluateCellId = (seed: number, attack: string, victim: VictimKind, defence: string): string => `s${seed}/evaluate/${attack}/${victim}/${defence}`;

/** Whether an attack reads the victim's model (white-box: crafted against each visual victim). */
export function attackNeedsVictim(a: Attack | null): boolean {
  return a !== null && a.threat.knows.includes('victimModel');
}

/** The victims an attack's images are crafted against: each visual victim for white-box attacks, else one set (null) for all. */
export function craftTargetsOf(cfg: Pick<ExperimentConfig, 'victims'>, attack: Attack | null): (VictimKind | null)[] {
  return attackNeedsVictim(attack) ? cfg.victims.filter((v) => isVisualKind(v)) : [null];
}

/** Which crafted image set victim `kind` is evaluated on (undefined: none, e.g. a white-box attack on the non-visual control). */
export function imagesFor(attack: Attack | null, kind: VictimKind): VictimKind | null | undefined {
  if (!attackNeedsVictim(attack)) return null;
  return isVisualKind(kind) ? kind : undefined;
}

/** The non-visual control victim the AIP protocol needs (the first non-visual victim), or undefined. */
export function controlVictim(cfg: Pick<ExperimentConfig, 'victims'>): VictimKind | undefined {
  return cfg.victims.find((v) => !isVisualKind(v));
}

/** Target chunks: [start, end) index ranges into the target list (one chunk when `attackChunk` is 0). */
export function targetChunks(cfg: Pick<ExperimentConfig, 'attackChunk'>, nTargets: number): { index: number; start: number; end: number }[] {
  const size = cfg.attackChunk > 0 ? cfg.attackChunk : nTargets;
  const out: { index: number; start: number; end: number }[] = [];
  for (let s = 0, i = 0; s < nTargets; s += size, i++) out.push({ index: i, start: s, end: Math.min(nTargets, s + size) });
  return out;
}

function attackCells(cfg: ExperimentConfig, seed: number, name: string, attack: Attack, nTargets: number): Cell[] {
  const cells: Cell[] = [];
  for (const vk of craftTargetsOf(cfg, attack)) {
    const deps = [ENCODERS_CELL];
    if (vk) deps.push(victimCellId(seed, vk));
    if (attack.threat.knows.includes('surrogateRecommender')) deps.push(attackerCellId(seed));
    for (const c of targetChunks(cfg, nTargets)) {
      cells.push({ id: attackCellId(seed, name, vk, c.index), stage: 'attack', seed, attack: name, ...(vk ? { victim: vk } : {}), chunk: c.index, deps });
    }
  }
  return cells;
}

/**
 * Every cell of the experiment, in the order a local run executes them (seed-major; per seed the
 * victims, the attacker's models, then each attack's images, image metrics and evaluations).
 * Config mistakes that only the plan reveals (AIP without a non-visual control) are thrown here,
 * before any work.
 */
export function planExperiment(cfg: ExperimentConfig, targets: readonly number[]): Cell[] {
  const attacks = configuredAttacks(cfg);
  const control = controlVictim(cfg);
  if (cfg.protocols.includes('aip') && !control) throw new ConfigError(`protocols: 'aip' needs a non-visual control victim (bpr-mf) in 'victims' (got ${cfg.victims.join(', ')})`);
  const needsSurrogate = [...attacks.values()].some((a) => a?.threat.knows.includes('surrogateRecommender'));
  const cells: Cell[] = [{ id: ENCODERS_CELL, stage: 'encoders', seed: cfg.seeds[0]!, deps: [] }];
  for (const seed of cfg.seeds) {
    for (const kind of cfg.victims) cells.push({ id: victimCellId(seed, kind), stage: 'victim', seed, victim: kind, deps: [ENCODERS_CELL] });
    if (needsSurrogate) cells.push({ id: attackerCellId(seed), stage: 'attacker', seed, deps: [ENCODERS_CELL] });
    for (const [name, attack] of attacks) {
      const crafted = attack ? attackCells(cfg, seed, name, attack, targets.length) : [];
      cells.push(...crafted);
      const imageCells = (vk: VictimKind | null) => crafted.filter((c) => (c.victim ?? null) === vk).map((c) => c.id);
      const first = craftTargetsOf(cfg, attack)[0];
      if (attack && first !== undefined) cells.push({ id: metricsCellId(seed, name), stage: 'metrics', seed, attack: name, ...(first ? { victim: first } : {}), deps: [ENCODERS_CELL, ...imageCells(first)] });
      for (const kind of cfg.victims) {
        const vk = imagesFor(attack, kind);
        if (vk === undefined) continue; // a white-box attack has nothing to craft against a non-visual victim
        const deps = [ENCODERS_CELL, victimCellId(seed, kind), ...imageCells(vk)];
        if (cfg.protocols.includes('aip') && control !== kind) deps.push(victimCellId(seed, control!));
        for (const defence of ['none', ...cfg.defences]) cells.push({ id: evaluateCellId(seed, name, kind, defence), stage: 'evaluate', seed, attack: name, victim: kind, defence, deps });
      }
    }
  }
  return cells;
}
