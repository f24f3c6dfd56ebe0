import { describe, expect, it } from 'vitest';
import { openDataset } from './open.js';
import { ConfigError, InputError } from '../core/errors.js';

describe('openDataset', () => {
  it('generates synth:<profile>[:<seed>] in memory', async () => {
    const a = await openDataset('synth:tiny:5');
    expect(a.info.seed).toBe(5);
    expect(a.userIds.length).toBe(200);
    const b = await openDataset('synth:tiny', { seed: 5 });
    expect(b.interactions).toEqual(a.interactions);
    await expect(openDataset('synth:huge')).rejects.toThrow(ConfigError);
    await expect(openDataset('synth:tiny:x')).rejects.toThrow(ConfigError);
  });
  it('reads a folder otherwise', async () => {
    await expect(openDataset('/definitely/not/here')).rejects.toThrow(InputError);
  });
});
