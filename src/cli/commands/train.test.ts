import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openDataset } from '../../data/open.js';
import { extractFeatures, loadEncoder } from '../../encoders/resnet.js';
import { ArtefactCache } from '../../experiment/cache.js';
import { parseConfig } from '../../experiment/config.js';
import { datasetKey, prepareEncoder } from '../../experiment/stages/prepare.js';
import { buildProgram } from '../main.js';

const root = mkdtempSync(path.join(tmpdir(), 'auv-train-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('auv-fusion train encoders', () => {
  it('reproduces the encoder `run` trains (same options, same derived seed)', async () => {
    const out = path.join(root, 'enc');
    await buildProgram().parseAsync(['node', 'auv-fusion', 'train', 'encoders', '--data', 'synth:tiny', '--out', out, '--roles', 'victim', '--epochs', '1', '--seed', '2']);
    const cfg = parseConfig({ dataset: 'synth:tiny', seeds: [2, 3], encoders: { victim: { epochs: 1 } }, cacheDir: path.join(root, 'cache') });
    const ds = await openDataset(cfg.dataset);
    const fromRun = await prepareEncoder(ds, await datasetKey(cfg, ds), cfg, new ArtefactCache(cfg.cacheDir), 'victim', () => undefined);
    const fromCommand = await loadEncoder(path.join(out, 'victim'));
    const items = [0, 1, 2, 3, 4];
    const a = await extractFeatures(fromRun.value, ds.images, items);
    const b = await extractFeatures(fromCommand, ds.images, items);
    expect(Array.from(await b.data())).toEqual(Array.from(await a.data()));
    a.dispose();
    b.dispose();
    fromRun.value.dispose();
    fromCommand.dispose();
  }, 300_000);

  it('rejects a bad --epochs with a one-line error naming the option', async () => {
    const program = buildProgram().exitOverride();
    await expect(program.parseAsync(['node', 'auv-fusion', 'train', 'encoders', '--data', 'synth:tiny', '--out', path.join(root, 'x'), '--epochs', 'two'])).rejects.toThrow(/--epochs must be a positive integer/);
  });
});
