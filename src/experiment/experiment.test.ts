import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { ConfigError } from '../core/errors.js';
import { synthesizeCatalogue } from '../data/index.js';
import { DEFAULT_DIFFUSION_TRAIN_CONFIG, trainDiffusion } from '../diffusion/train.js';
import { renderReport } from '../report/html.js';
import { loadConfig, parseConfig } from './config.js';
import { attackFamily, meanCi, resultsSchema, RowCollector, valueAtSsim } from './results.js';
import { runExperiment } from './runner.js';

const root = mkdtempSync(path.join(tmpdir(), 'auv-exp-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const repo = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..', '..');

describe('experiment config', () => {
  it('fills defaults and layers file < --set', () => {
    const c = parseConfig({});
    expect(c.seeds).toEqual([1, 2, 3]);
    expect(c.victims).toEqual(['bpr-mf', 'vbpr', 'deepstyle', 'amr']);
    expect(c.encoders.victim).toEqual({ epochs: 3, batch: 64, lr: 3e-3 }); // nested defaults are filled too
    const file = path.join(root, 'c.yaml');
    writeFileSync(file, stringify({ seeds: [4], ks: [5] }));
    const l = loadConfig({ file, sets: ['ks=[5,10]', 'encoders.victim.epochs=2'] });
    expect(l.seeds).toEqual([4]);
    expect(l.ks).toEqual([5, 10]);
    expect(l.encoders.victim).toMatchObject({ epochs: 2 });
  });
  it('names the key and the allowed values on a mistake', () => {
    expect(() => parseConfig({ victims: ['vbpr', 'dvbpr'] })).toThrow(/'victims\.1' must be one of "bpr-mf", "vbpr", "deepstyle", "amr"/);
    expect(() => parseConfig({ protocols: ['fast'] })).toThrow(/'protocols\.0' must be one of "full", "aip"/);
    expect(() => parseConfig({ seed: 3 })).toThrow(/unknown key 'seed'; allowed keys: .*seeds/);
    expect(() => parseConfig({ encoders: { victim: { epoch: 3 } } })).toThrow(/unknown key 'encoders\.victim\.epoch'; allowed keys: epochs, batch, lr/);
    expect(() => parseConfig({ seeds: [] })).toThrow(ConfigError);
    expect(() => loadConfig({ sets: ['oops'] })).toThrow(/key\.path=value/);
    expect(() => parseConfig({ attacks: [{ name: 'insa' }, { name: 'insa' }] })).toThrow(/'attacks\.1\.name' repeats attack 'insa'/);
  });
  it('computes t intervals', () => {
    const r = meanCi([1, 2, 3]);
    expect(r.mean).toBe(2);
    expect(r.ci95[0]).toBeCloseTo(2 - 4.303 / Math.sqrt(3), 6);
    expect(meanCi([]).mean).toBeNull();
  });
  it('keeps each seed\'s value in ascending seed order, whatever order the cells arrive in', () => {
    const key = { victim: 'vbpr', attack: 'a', protocol: 'full' as const, metric: 'HR' as const, k: 5 };
    const c = new RowCollector();
    c.add(key, 3, [0.5, 0.5]);
    c.add(key, 1, [0, 1]);
    c.add(key, 2, [0.2]);
    c.add({ ...key, attack: 'one-seed' }, 1, [0.1, 0.3]);
    const [r, single] = c.rows();
    expect(r!.perSeed).toEqual([0.5, 0.2, 0.5]);
    expect(r!.mean).toBeCloseTo(0.4, 12);
    expect(r!.n).toBe(3);
    expect(single!.perSeed).toBeUndefined();
    expect(resultsSchema.shape.rows.element.safeParse(r).success).toBe(true);
  });
});

describe('frontier', () => {
  it('groups configurations into families and interpolates at matched SSIM', () => {
    expect(attackFamily('insa@b8')).toBe('insa');
    expect(attackFamily('auv-fusion/ssimFloor=0.9@s90')).toBe('auv-fusion');
    expect(attackFamily('auv-fusion/paper+eta=0.5')).toBe('auv-fusion/paper');
    const pt = (attack: string, ssim: number, hr: number) => ({ attack, family: attackFamily(attack), ssim, victims: { vbpr: { 'HR@5': hr, meanRank: 100 - 100 * hr } } });
    const pts = [pt('insa@b4', 0.95, 0.01), pt('insa@b8', 0.85, 0.03), pt('random', 0.6, 0)];
    expect(valueAtSsim(pts, 'insa', 'vbpr', 'HR@5', 0.9)).toBeCloseTo(0.02, 10);
    expect(valueAtSsim(pts, 'insa', 'vbpr', 'HR@5', 0.8)).toBeNull();
    expect(valueAtSsim(pts, 'random', 'vbpr', 'HR@5', 0.6)).toBe(0);
    expect(valueAtSsim(pts, 'random', 'vbpr', 'HR@5', 0.7)).toBeNull();
  });
});

describe('experiment runner (tiny)', () => {
  let diffusionDir = '';
  beforeAll(async () => {
    // a small diffusion checkpoint for the tiny catalogue, trained by the project's own code
    diffusionDir = path.join(root, 'diffusion');
    const ds = synthesizeCatalogue({ profile: 'tiny', seed: 1 });
    const r = await trainDiffusion(
      ds,
      {
        ...DEFAULT_DIFFUSION_TRAIN_CONFIG,
        model: { imageSize: 32, vae: { channels: [8, 8, 8], latentChannels: 4, groups: 4 }, unet: { channels: [8, 16], groups: 4, timeEmbedDim: 8, attention: true }, scheduler: { clipSample: false } },
        vae: { steps: 3, batch: 8, lr: 1e-3, klWeight: 1e-5 },
        unet: { steps: 3, batch: 8, lr: 1e-3 },
        dtype: 'float32',
      },
      { outDir: diffusionDir, quiet: true },
    );
    r.model.dispose();
  });

  const config = (name: string, extra: Record<string, unknown> = {}) =>
    parseConfig({
      name,
      dataset: 'synth:tiny:1',
      seeds: [1],
      victims: ['bpr-mf', 'vbpr'],
      encoders: { victim: { epochs: 1 }, surrogate: { epochs: 1 }, semantic: { epochs: 1 } },
      victimConfig: { epochs: 4 },
      surrogate: { epochs: 2 },
      maxTargets: 8,
      evalUsers: 60,
      diffusion: diffusionDir,
      attacks: [{ name: 'none' }, { name: 'random', params: { budget: 16 } }, { name: 'insa', params: { steps: 3 } }, { name: 'auv-fusion', params: { ddimSteps: 4, steps: 1, batchSize: 4, refineSteps: 1 } }],
      cacheDir: path.join(root, 'cache-' + name),
      out: path.join(root, 'out-' + name),
      ...extra,
    });

  it('writes schema-valid results and a report, and reuses the cache on a second run', async () => {
    const cfg = config('a');
    const first = await runExperiment(cfg, { quiet: true });
    const json = JSON.parse(readFileSync(first.files.json, 'utf8'));
    expect(() => resultsSchema.parse(json)).not.toThrow();
    expect(readFileSync(first.files.csv, 'utf8').split('\n')[0]).toBe('victim,attack,protocol,defence,metric,k,mean,ci95_lo,ci95_hi,n');
    const hr = (attack: string, victim = 'vbpr') => first.results.rows.find((r) => r.victim === victim && r.attack === attack && r.metric === 'HR' && r.k === 5 && r.protocol === 'full');
    for (const a of ['none', 'random', 'insa', 'auv-fusion']) expect(hr(a)?.mean).toBeTypeOf('number');
    expect(hr('insa', 'bpr-mf')).toBeUndefined(); // white-box attack has no non-visual victim row
    expect(first.results.rows.some((r) => r.metric === 'SSIM' && r.attack === 'random' && r.mean! > 0 && r.mean! < 1)).toBe(true);
    expect(first.results.manifest.cache.hits).toBe(0);
    // mean rank rows and the frontier points (one per attack configuration), tier recorded
    expect(first.results.rows.some((r) => r.metric === 'meanRank' && r.attack === 'auv-fusion' && r.victim === 'vbpr' && r.mean! >= 0)).toBe(true);
    const fr = first.results.frontier!;
    expect(fr.map((p) => p.attack)).toEqual(['random', 'insa', 'auv-fusion']);
    for (const p of fr) {
      expect(p.ssim).toBeTypeOf('number');
      expect(p.victims.vbpr!['HR@5']).toBeTypeOf('number');
      expect(p.victims.vbpr!.meanRank).toBeTypeOf('number');
    }
    expect(first.results.manifest.tier).toBe('public-encoder');
    expect(first.results.manifest.attackTiers).toEqual({ random: 'public-encoder', insa: 'white-box', 'auv-fusion': 'public-encoder' });
    const html = renderReport(first.results, first.extras);
    expect(html).toContain('<canvas id="scatter"');
    expect(html).toContain('<canvas id="frontier0"');
    expect(html).toContain('Exposure vs imperceptibility');
    expect(html).not.toMatch(/https?:\/\/[^"' ]*\.(js|css)/); // self-contained
    const second = await runExperiment(cfg, { quiet: true });
    expect(second.results.manifest.cache.misses).toBe(0);
    expect(second.results.rows).toEqual(first.results.rows);
  });

  it('resumes after kill -9 and ends with the same results as an uninterrupted run', async () => {
    const ref = await runExperiment(config('ref'), { quiet: true });
    const cfg = config('killed');
    const file = path.join(root, 'killed.json');
    writeFileSync(file, JSON.stringify(cfg));
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(repo, 'src/cli/main.ts'), '--quiet', 'run', file], {
      cwd: repo,
      env: { ...process.env, AUV_WASM_THREADS: '1', AUV_QUIET: '1' },
      stdio: 'ignore',
    });
    // kill once the victims are cached (mid-run), before the attacks finish
    const victimsDir = path.join(cfg.cacheDir, 'victim');
    const t0 = Date.now();
    while (Date.now() - t0 < 240_000) {
      if (existsSync(victimsDir) && readdirSync(victimsDir).filter((d) => !d.startsWith('.')).length >= 1) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    expect(existsSync(path.join(cfg.out, 'results.json'))).toBe(false);
    const resumed = await runExperiment(cfg, { quiet: true });
    expect(resumed.results.manifest.cache.hits).toBeGreaterThan(0);
    expect(resumed.results.rows).toEqual(ref.results.rows);
  });
});
