import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../core/errors.js';
import { parseConfig } from '../config.js';
import { runExperiment } from '../runner.js';
import { assembleResults } from './assemble.js';
import { closeExperiment, openExperiment } from './context.js';
import { planExperiment, type Cell } from './plan.js';
import { runCell } from './run-cell.js';

const root = mkdtempSync(path.join(tmpdir(), 'auv-stages-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

function count(plan: Cell[], stage: Cell['stage'], seed?: number): number {
  return plan.filter((c) => c.stage === stage && (seed === undefined || c.seed === seed)).length;
}

describe('planExperiment', () => {
  const cfg = parseConfig({
    seeds: [1, 2],
    victims: ['bpr-mf', 'vbpr', 'amr'],
    attacks: [{ name: 'none' }, { name: 'random' }, { name: 'insa' }, { name: 'auv-fusion' }],
    defences: ['jpeg'],
    attackChunk: 3,
  });
  const targets = [10, 11, 12, 13, 14, 15, 16, 17]; // 3 chunks: 3 + 3 + 2
  const plan = planExperiment(cfg, targets);

  it('has every cell once, each after the cells it reads', () => {
    const ids = plan.map((c) => c.id);
    expect(new Set(ids).size).toBe(ids.length);
    const seen = new Set<string>();
    for (const c of plan) {
      for (const d of c.deps) expect(seen.has(d), `${c.id} reads ${d} before it is planned`).toBe(true);
      seen.add(c.id);
    }
    expect(planExperiment(cfg, targets)).toEqual(plan); // deterministic
  });

  it('plans the expected cells per seed', () => {
    expect(count(plan, 'encoders')).toBe(1);
    for (const seed of [1, 2]) {
      expect(count(plan, 'victim', seed)).toBe(3);
      expect(count(plan, 'attacker', seed)).toBe(1); // auv-fusion reads the surrogate recommender
      // random and auv-fusion: one image set x 3 chunks; insa: one per visual victim (vbpr, amr) x 3 chunks
      expect(count(plan, 'attack', seed)).toBe(3 + 2 * 3 + 3);
      expect(count(plan, 'metrics', seed)).toBe(3);
      // (none, random, auv-fusion) x 3 victims + insa x 2 visual victims, each undefended and under jpeg
      expect(count(plan, 'evaluate', seed)).toBe((3 * 3 + 2) * 2);
    }
    expect(plan.some((c) => c.stage === 'evaluate' && c.attack === 'insa' && c.victim === 'bpr-mf')).toBe(false);
  });

  it('wires the dependencies', () => {
    const byId = new Map(plan.map((c) => [c.id, c]));
    const insa = byId.get('s2/attack/insa/amr/c1')!;
    expect(insa.deps).toEqual(['encoders', 's2/victim/amr']);
    expect(byId.get('s1/attack/auv-fusion/any/c2')!.deps).toEqual(['encoders', 's1/attacker']);
    expect(byId.get('s1/evaluate/insa/vbpr/jpeg')!.deps).toEqual(['encoders', 's1/victim/vbpr', 's1/attack/insa/vbpr/c0', 's1/attack/insa/vbpr/c1', 's1/attack/insa/vbpr/c2']);
    expect(byId.get('s1/evaluate/none/amr/none')!.deps).toEqual(['encoders', 's1/victim/amr']);
    expect(byId.get('s1/metrics/insa')!.deps).toEqual(['encoders', 's1/attack/insa/vbpr/c0', 's1/attack/insa/vbpr/c1', 's1/attack/insa/vbpr/c2']);
  });

  it('refuses the AIP protocol without a non-visual control, before any work', () => {
    expect(() => planExperiment(parseConfig({ victims: ['vbpr'], protocols: ['aip'] }), targets)).toThrow(ConfigError);
    const aip = planExperiment(parseConfig({ seeds: [1], victims: ['bpr-mf', 'vbpr'], protocols: ['full', 'aip'], attacks: [{ name: 'none' }] }), targets);
    expect(aip.find((c) => c.id === 's1/evaluate/none/vbpr/none')!.deps).toContain('s1/victim/bpr-mf');
  });
});

describe('runCell', () => {
  const config = (name: string) =>
    parseConfig({
      name,
      dataset: 'synth:tiny:1',
      seeds: [1],
      victims: ['bpr-mf', 'vbpr'],
      encoders: { victim: { epochs: 1 }, surrogate: { epochs: 1 }, semantic: { epochs: 1 } },
      victimConfig: { epochs: 3 },
      maxTargets: 8,
      attackChunk: 5,
      evalUsers: 40,
      protocols: ['full', 'aip'],
      defences: ['jpeg'],
      attacks: [{ name: 'none' }, { name: 'random', params: { budget: 16 } }, { name: 'insa', params: { steps: 2 } }],
      cacheDir: path.join(root, 'cache-' + name),
      out: path.join(root, 'out-' + name),
    });

  it('cells run one by one in separate contexts (as queued workers would) give the in-process rows', async () => {
    const local = await runExperiment(config('local'), { quiet: true });
    const cfg = config('queued');
    const quiet = () => undefined;
    const first = await openExperiment(cfg, quiet);
    const plan = planExperiment(cfg, first.targets);
    await closeExperiment(first);
    expect(plan.filter((c) => c.stage === 'attack').map((c) => c.id)).toEqual(['s1/attack/random/any/c0', 's1/attack/random/any/c1', 's1/attack/insa/vbpr/c0', 's1/attack/insa/vbpr/c1']);
    for (const cell of plan) {
      const ctx = await openExperiment(cfg, quiet); // nothing in memory: deps come from the cache
      await runCell(ctx, cell);
      await closeExperiment(ctx);
    }
    // assembling needs the attacks' hashes, not their pixels: only chunk 0 (the report's sample
    // images) is read, so every other chunk's images can be gone
    const attackDir = path.join(cfg.cacheDir, 'attack');
    let removed = 0;
    for (const h of readdirSync(attackDir).filter((d) => !d.startsWith('.'))) {
      const done = JSON.parse(readFileSync(path.join(attackDir, h, '.complete'), 'utf8')) as { deps: { chunk?: { index: number } } };
      if ((done.deps.chunk?.index ?? 0) > 0) {
        rmSync(path.join(attackDir, h, 'images.f32'));
        removed++;
      }
    }
    expect(removed).toBe(2);
    const ctx = await openExperiment(cfg, quiet);
    const { results } = await assembleResults(ctx, plan);
    await closeExperiment(ctx);
    expect(ctx.cache.stats.misses).toEqual([]); // every product was already in the cache
    expect(results.rows).toEqual(local.results.rows);
    expect(results.rows.some((r) => r.protocol === 'aip' && r.attack === 'insa')).toBe(true);
    expect(existsSync(path.join(attackDir))).toBe(true);
  }, 900_000);
});
