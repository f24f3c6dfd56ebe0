import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, describe, expect, it } from 'vitest';
import { InputError } from './errors.js';
import { fromHalf, loadModel, MANIFEST_FILE, requireTensor, saveModel, TENSORS_FILE, toHalf, type HostTensor } from './weights.js';

describe('float16 conversion', () => {
  it('rounds to the nearest half (ties to even), saturates to infinity, keeps subnormals', () => {
    expect(toHalf(1)).toBe(0x3c00);
    expect(toHalf(-2)).toBe(0xc000);
    expect(toHalf(65504)).toBe(0x7bff);
    expect(toHalf(70000)).toBe(0x7c00);
    expect(toHalf(1 + 2 ** -11)).toBe(0x3c00); // tie, even mantissa kept
    expect(toHalf(1 + 3 * 2 ** -11)).toBe(0x3c02); // tie, rounded up to even
    expect(toHalf(2 ** -24)).toBe(0x0001); // smallest subnormal
    expect(toHalf(2 ** -26)).toBe(0); // below half of it
    expect(Number.isNaN(fromHalf(toHalf(NaN)))).toBe(true);
    for (const v of [0.5, -3.25, 1024, 2 ** -20, 0.1]) expect(Math.abs(fromHalf(toHalf(v)) - v)).toBeLessThanOrEqual(Math.abs(v) * 2 ** -11);
  });
});

describe('model folders (manifest.json + tensors.bin)', () => {
  const dirs: string[] = [];
  const tmp = (): string => {
    const d = mkdtempSync(path.join(tmpdir(), 'auv-weights-'));
    dirs.push(d);
    return d;
  };
  afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

  const sample = (): [string, tf.Tensor | HostTensor][] => [
    ['w', tf.tensor2d([1.5, -2, 0.1, 3e-8, 7, 8], [2, 3])],
    ['ids', { shape: [4], data: Int32Array.of(3, -1, 0, 2147483647) }],
    ['bias', { shape: [2], data: Float32Array.of(0.25, -0.5) }],
  ];

  it('round-trips float32 and int32 exactly, float16 to within half precision, and keeps other files', async () => {
    const dir = tmp();
    writeFileSync(path.join(dir, 'report.json'), '{}');
    await saveModel(dir, { kind: 'recommender', config: { a: 1, nested: { b: [2] } }, tensors: sample() });
    const m = await loadModel<{ a: number }>(dir, 'recommender');
    expect(m.kind).toBe('recommender');
    expect(m.config).toEqual({ a: 1, nested: { b: [2] } });
    expect([...m.tensors.keys()]).toEqual(['w', 'ids', 'bias']);
    expect(m.tensors.get('w')!.shape).toEqual([2, 3]);
    expect(Array.from(m.tensors.get('w')!.data)).toEqual(Array.from(Float32Array.of(1.5, -2, 0.1, 3e-8, 7, 8)));
    expect(m.tensors.get('ids')!.data).toBeInstanceOf(Int32Array);
    expect(Array.from(m.tensors.get('ids')!.data)).toEqual([3, -1, 0, 2147483647]);
    expect(existsSync(path.join(dir, 'report.json'))).toBe(true);
    const manifest = JSON.parse(readFileSync(path.join(dir, MANIFEST_FILE), 'utf8'));
    expect(manifest.tensors.map((t: { offset: number }) => t.offset)).toEqual([0, 24, 40]);
    expect(statSync(path.join(dir, TENSORS_FILE)).size).toBe(48);

    const d16 = tmp();
    await saveModel(d16, { kind: 'recommender', config: {}, tensors: sample() }, 'float16');
    const h = await loadModel(d16, 'recommender');
    expect(statSync(path.join(d16, TENSORS_FILE)).size).toBe(12 + 16 + 4);
    expect(Array.from(h.tensors.get('ids')!.data)).toEqual([3, -1, 0, 2147483647]); // ints stay int32
    const w = h.tensors.get('w')!.data;
    [1.5, -2, 0.1, 3e-8, 7, 8].forEach((v, i) => expect(Math.abs(w[i]! - v)).toBeLessThanOrEqual(Math.abs(v) * 2 ** -11 + 2 ** -24));
  });

  /** A valid folder, then `corrupt` applied to it; returns the folder. */
  const corrupted = async (corrupt: (dir: string, manifest: Record<string, any>) => void): Promise<string> => {
    const dir = tmp();
    await saveModel(dir, { kind: 'image-encoder', config: {}, tensors: sample() });
    const manifest = JSON.parse(readFileSync(path.join(dir, MANIFEST_FILE), 'utf8'));
    corrupt(dir, manifest);
    return dir;
  };
  const rewrite = (dir: string, m: unknown): void => writeFileSync(path.join(dir, MANIFEST_FILE), JSON.stringify(m));

  it('names the file and what is wrong for a corrupt or foreign folder', async () => {
    const cases: [string, (dir: string, m: Record<string, any>) => void, RegExp][] = [
      ['truncated tensors.bin', (d) => truncateSync(path.join(d, TENSORS_FILE), 40), /tensors\.bin: truncated: the manifest's 3 tensors need 48 bytes, the file has 40/],
      ['trailing bytes', (d) => writeFileSync(path.join(d, TENSORS_FILE), new Uint8Array(52)), /tensors\.bin: 4 bytes beyond the 48/],
      ['shape edited (byte length mismatch)', (d, m) => ((m.tensors[0].shape = [2, 2]), rewrite(d, m)), /manifest\.json: tensor 'ids' starts at byte 24, but the tensors before it end at byte 16 \(shape\/byte-length mismatch\)/],
      ['last shape edited', (d, m) => ((m.tensors[2].shape = [3]), rewrite(d, m)), /tensors\.bin: truncated: the manifest's 3 tensors need 52 bytes, the file has 48/],
      ['unknown kind', (d, m) => ((m.kind = 'transformer'), rewrite(d, m)), /manifest\.json: unknown model kind 'transformer' \(known: image-encoder,/],
      ['unknown dtype', (d, m) => ((m.tensors[1].dtype = 'int8'), rewrite(d, m)), /manifest\.json: tensor 'ids' has unknown dtype 'int8'/],
      ['other format', (d, m) => ((m.format = 'safetensors'), rewrite(d, m)), /manifest\.json: not a model manifest \(format 'safetensors'/],
      ['newer version', (d, m) => ((m.version = 2), rewrite(d, m)), /manifest\.json: model manifest version 2 is not supported/],
      ['malformed JSON', (d) => writeFileSync(path.join(d, MANIFEST_FILE), '{"format": '), /manifest\.json: malformed model manifest/],
      ['tensors.bin missing', (d) => rmSync(path.join(d, TENSORS_FILE)), /tensors\.bin: cannot read the model's tensors \(ENOENT\)/],
      ['manifest missing', (d) => rmSync(path.join(d, MANIFEST_FILE)), /manifest\.json: not a model folder \(manifest\.json missing\)/],
    ];
    for (const [what, corrupt, message] of cases) {
      const dir = await corrupted(corrupt);
      const err = await loadModel(dir, 'image-encoder').then(
        () => null,
        (e: unknown) => e,
      );
      expect(err, what).toBeInstanceOf(InputError);
      expect((err as Error).message, what).toMatch(message);
    }
  });

  it('refuses a folder of another kind, and names a missing or misshapen tensor', async () => {
    const dir = await corrupted(() => undefined);
    await expect(loadModel(dir, 'recommender')).rejects.toThrow(/manifest\.json: this folder holds a 'image-encoder' model, not a 'recommender'/);
    const m = await loadModel(dir, 'image-encoder');
    expect(() => requireTensor(m, 'gone', dir)).toThrow(/the image-encoder has no tensor 'gone'/);
    expect(() => requireTensor(m, 'w', dir, [3, 2])).toThrow(/tensor 'w' has shape 2x3, the image-encoder expects 3x2/);
    expect(requireTensor(m, 'w', dir, [2, 3]).shape).toEqual([2, 3]);
  });
});
