import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PNG } from 'pngjs';
import { chromium } from 'playwright-core';
import { afterAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../experiment/config.js';
import { runExperiment } from '../experiment/runner.js';
import { renderReport } from './html.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const root = mkdtempSync(path.join(tmpdir(), 'auv-report-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('report.html in headless Chromium', () => {
  // In CI the browser is installed by .ci/run: a missing one is a failure there, not a skip.
  it.runIf(process.env.CI === 'true' && !existsSync(CHROMIUM))('finds Chromium in CI', () => {
    expect.fail(`CI=true but no Chromium at ${CHROMIUM}: .ci/run must install it (apt-get install chromium)`);
  });
  it.skipIf(!existsSync(CHROMIUM))('renders with no console errors, draws its charts, and is not blank', async () => {
    const cfg = parseConfig({
      name: 'report test',
      dataset: 'synth:tiny:2',
      seeds: [1, 2],
      victims: ['bpr-mf', 'vbpr'],
      encoders: { victim: { epochs: 1 }, surrogate: { epochs: 1 }, semantic: { epochs: 1 } },
      victimConfig: { epochs: 3 },
      maxTargets: 8,
      evalUsers: 50,
      attacks: [{ name: 'none' }, { name: 'random', params: { budget: 16 } }, { name: 'expa', params: { steps: 3 } }],
      defences: ['jpeg'],
      cacheDir: path.join(root, 'cache'),
      out: path.join(root, 'out'),
    });
    const run = await runExperiment(cfg, { quiet: true });
    const file = path.join(root, 'out', 'report.html');
    writeFileSync(file, renderReport(run.results, run.extras));
    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    try {
      const page = await browser.newPage({ viewport: { width: 1280, height: 1600 } });
      const errors: string[] = [];
      page.on('console', (m) => {
        if (m.type() === 'error') errors.push(m.text());
      });
      page.on('pageerror', (e) => errors.push(String(e)));
      const requests: string[] = [];
      page.on('request', (r) => {
        if (!r.url().startsWith('file:') && !r.url().startsWith('data:')) requests.push(r.url());
      });
      await page.goto('file://' + file);
      await page.waitForFunction(() => (window as unknown as { Chart?: { instances: object } }).Chart !== undefined);
      expect(errors).toEqual([]);
      expect(requests).toEqual([]); // self-contained: no network
      const charts = await page.evaluate(() => Object.keys((window as unknown as { Chart: { instances: object } }).Chart.instances).length);
      expect(charts).toBeGreaterThanOrEqual(4);
      expect(await page.locator('table').first().locator('tr').count()).toBe(1 + 2 * 3); // header + victims x attacks
      expect(await page.locator('.grid img').count()).toBeGreaterThan(0);
      const shot = PNG.sync.read(await page.screenshot({ fullPage: false }));
      let sum = 0;
      let sq = 0;
      for (let i = 0; i < shot.data.length; i += 4) {
        const g = (shot.data[i]! + shot.data[i + 1]! + shot.data[i + 2]!) / 3;
        sum += g;
        sq += g * g;
      }
      const n = shot.data.length / 4;
      const variance = sq / n - (sum / n) ** 2;
      expect(variance).toBeGreaterThan(100); // not a blank page
      writeFileSync(path.join(root, 'shot.png'), PNG.sync.write(shot));
      if (process.env.AUV_KEEP_SCREENSHOT) writeFileSync(process.env.AUV_KEEP_SCREENSHOT, PNG.sync.write(shot));
    } finally {
      await browser.close();
    }
  });
});
