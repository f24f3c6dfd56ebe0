// The shipped diffusion checkpoint was converted to the one weight-file format (src/core/weights.ts)
// by scripts/convert-diffusion-checkpoint.ts: the converter gives bit-identical outputs, and the
// committed tensors.bin is byte for byte the old weights.bin.
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, describe, expect, it } from 'vitest';
import { Rng } from '../src/core/rng.js';
import { fromHalf, MANIFEST_FILE, toHalf } from '../src/core/weights.js';
import { defaultCheckpointDir, LatentDiffusion, loadDiffusion, type DiffusionModelConfig } from '../src/diffusion/model.js';
import { compareOutputs, convertDiffusionCheckpoint, LEGACY_FILES } from '../scripts/convert-diffusion-checkpoint.js';
import { TINY_DIFFUSION_CONFIG } from './diffusion.js';

const tiny: DiffusionModelConfig = TINY_DIFFUSION_CONFIG;
const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

/** The old layout (model.json + weights.json + weights.bin, float16), written as the old save() did. */
async function writeLegacy(dir: string, m: LatentDiffusion): Promise<void> {
  const entries: { name: string; shape: number[]; offset: number; length: number }[] = [];
  const halves: number[] = [];
  for (const [name, v] of m.namedWeights()) {
    const data = await v.data();
    entries.push({ name, shape: v.shape, offset: halves.length, length: data.length });
    for (const x of data) halves.push(toHalf(x));
  }
  writeFileSync(path.join(dir, 'weights.bin'), new Uint8Array(Uint16Array.from(halves).buffer));
  writeFileSync(path.join(dir, 'weights.json'), JSON.stringify({ format: 'auv-tensors/1', dtype: 'float16', entries }));
  writeFileSync(path.join(dir, 'model.json'), JSON.stringify({ format: 'auv-diffusion/1', config: m.config, latentScale: 0.75, training: { steps: 3 } }));
}

describe('diffusion checkpoint conversion', () => {
  it('converts the old layout in place; the converted model gives bit-identical outputs', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'auv-convert-'));
    dirs.push(dir);
    const original = new LatentDiffusion(tiny, new Rng(5));
    await writeLegacy(dir, original);
    const r = await convertDiffusionCheckpoint(dir);
    expect(r.tensors).toBe(original.namedWeights().size);
    for (const f of LEGACY_FILES) expect(existsSync(path.join(dir, f))).toBe(false);
    expect(existsSync(path.join(dir, MANIFEST_FILE))).toBe(true);

    // Independent of the converter's own check: the old weights (float16-rounded) in a fresh model.
    const expected = new LatentDiffusion(tiny, new Rng(99));
    for (const [name, v] of expected.namedWeights()) {
      const src = await original.namedWeights().get(name)!.data();
      const t = tf.tensor(Float32Array.from(src, (x) => fromHalf(toHalf(x))), v.shape);
      v.assign(t);
      t.dispose();
    }
    expected.latentScale = 0.75;
    const converted = await LatentDiffusion.load(dir);
    expect(converted.latentScale).toBe(0.75);
    expect(converted.training).toEqual({ steps: 3 });
    expect(await compareOutputs(expected, converted, 3)).toBeGreaterThan(0);
    for (const m of [original, expected, converted]) m.dispose();
  });

  it('the shipped checkpoint is the converted one: tensors.bin is the old weights.bin byte for byte', async () => {
    const dir = defaultCheckpointDir();
    // sha256 of assets/diffusion/default/weights.bin before the conversion (commit e8bd333).
    const sha = createHash('sha256').update(readFileSync(path.join(dir, 'tensors.bin'))).digest('hex');
    expect(sha).toBe('c5bfcdad78b82d3f6b6ac9c66320ce05493d90378886339cb17c90f104b74d15');
    const m = await loadDiffusion();
    expect(m.latentScale).toBe(0.5394182763255372);
    expect(m.namedWeights().size).toBe(170);
    m.dispose();
  });
});
