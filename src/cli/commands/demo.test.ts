import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { demoConfig, loadConfig } from '../../experiment/config.js';
import { resultsSchema } from '../../experiment/results.js';
import { runAndReport } from './experiment.js';

const root = mkdtempSync(path.join(tmpdir(), 'auv-demo-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('auv-fusion demo --profile tiny', () => {
  it('runs the whole default experiment on the tiny catalogue and writes results and report', async () => {
    const out = path.join(root, 'out');
    const cfg = loadConfig({ base: { ...demoConfig('tiny'), out, cacheDir: path.join(root, 'cache') } });
    const line = await runAndReport(cfg, true);
    expect(line).toContain('report.html');
    const results = resultsSchema.parse(JSON.parse(readFileSync(path.join(out, 'results.json'), 'utf8')));
    expect(results.manifest.seeds).toEqual([1, 2, 3]);
    const attacks = new Set(results.rows.map((r) => r.attack));
    for (const a of ['none', 'random', 'expa', 'insa', 'auv-fusion']) expect(attacks.has(a)).toBe(true);
    const victims = new Set(results.rows.map((r) => r.victim));
    for (const v of ['bpr-mf', 'vbpr', 'deepstyle', 'amr']) expect(victims.has(v)).toBe(true);
    // every HR row is a probability with a 3-seed interval
    for (const r of results.rows.filter((x) => x.metric === 'HR')) {
      expect(r.mean).toBeGreaterThanOrEqual(0);
      expect(r.mean).toBeLessThanOrEqual(1);
      expect(r.n).toBe(3);
    }
    expect(existsSync(path.join(out, 'report.html'))).toBe(true);
    expect(existsSync(path.join(out, 'results.csv'))).toBe(true);
  }, 900_000);
});
