import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { DEFAULT_DIFFUSION_TRAIN_CONFIG, DiffusionTrainSchema } from '../../diffusion/train.js';
import { defaultCheckpointDir } from '../../diffusion/model.js';
import { main } from '../main.js';
import { diffusionTrainConfig } from './train-diffusion.js';

const root = mkdtempSync(path.join(tmpdir(), 'auv-train-diff-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** The CLI in-process: exit code and stderr. */
async function cli(...args: string[]): Promise<{ code: number; err: string }> {
  let err = '';
  const o = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
  const e = vi.spyOn(process.stderr, 'write').mockImplementation((s) => ((err += String(s)), true));
  try {
    return { code: await main(['node', 'auv-fusion', '--quiet', ...args]), err };
  } finally {
    o.mockRestore();
    e.mockRestore();
  }
}

describe('auv-fusion train diffusion: its config through the experiment loader', () => {
  it('defaults are the training defaults; the shipped config file gives the shipped checkpoint\'s settings', () => {
    expect(DiffusionTrainSchema.parse({})).toEqual(DEFAULT_DIFFUSION_TRAIN_CONFIG);
    const shipped = JSON.parse(readFileSync(path.join(defaultCheckpointDir(), 'train-config.json'), 'utf8'));
    const { dataset, train } = diffusionTrainConfig('synth:default:1', path.resolve('configs/diffusion-default.yaml'), undefined);
    expect(dataset).toBe('synth:default:1');
    expect(train).toEqual(shipped);
    expect(diffusionTrainConfig('synth:tiny', undefined, '7').train.seed).toBe(7);
  });

  it('a config mistake exits 1 with one line naming the key, before any training (no output folder)', async () => {
    const cases: [string, string, RegExp][] = [
      ['typo.yaml', 'diffusionTrain:\n  vae: { stpes: 5 }\n', /typo\.yaml: unknown key 'diffusionTrain\.vae\.stpes'; allowed keys: steps, batch, lr, klWeight/],
      ['negative.yaml', 'diffusionTrain:\n  unet: { lr: -1 }\n', /negative\.yaml: 'diffusionTrain\.unet\.lr' must be > 0, got -1/],
      ['dtype.yaml', 'diffusionTrain: { dtype: bfloat16 }\n', /dtype\.yaml: 'diffusionTrain\.dtype' must be one of "float32", "float16", got "bfloat16"/],
      ['scheduler.yaml', 'diffusionTrain:\n  model: { scheduler: { predictionType: x0 } }\n', /'diffusionTrain\.model\.scheduler\.predictionType' must be one of "epsilon", "sample", "v_prediction"/],
    ];
    for (const [name, text, message] of cases) {
      const file = path.join(root, name);
      writeFileSync(file, text);
      const out = path.join(root, `out-${name}`);
      const r = await cli('train', 'diffusion', '--data', 'synth:tiny', '--config', file, '--out', out);
      expect(r.code, name).toBe(1);
      const lines = r.err.split('\n').filter((l) => l.startsWith('auv-fusion: error:'));
      expect(lines, r.err).toHaveLength(1);
      expect(lines[0]).toMatch(message);
      expect(existsSync(out), name).toBe(false);
    }
    const bad = await cli('train', 'diffusion', '--data', 'synth:tiny', '--seed', 'two', '--out', path.join(root, 'seed'));
    expect(bad.code).toBe(1);
    expect(bad.err).toMatch(/--seed must be a non-negative integer, got 'two'/);
  });
});
