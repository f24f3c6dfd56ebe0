import * as tf from '@tensorflow/tfjs';
import { afterAll, describe, expect, it } from 'vitest';
import { BACKENDS, engineBackend, initEngine, type BackendName } from './engine.js';
import { ConfigError } from './errors.js';

describe('initEngine', () => {
  const saved = process.env.AUV_BACKEND;
  afterAll(async () => {
    if (saved === undefined) delete process.env.AUV_BACKEND;
    else process.env.AUV_BACKEND = saved;
    await initEngine();
  });

  it('selects wasm by default', async () => {
    delete process.env.AUV_BACKEND;
    expect(await initEngine()).toBe('wasm');
    expect(tf.getBackend()).toBe('wasm');
    expect(engineBackend()).toBe('wasm');
  });

  it('selects cpu on request, by option and by AUV_BACKEND', async () => {
    expect(await initEngine({ backend: 'cpu' })).toBe('cpu');
    expect(tf.getBackend()).toBe('cpu');
    expect(await initEngine({ backend: 'wasm' })).toBe('wasm');
    process.env.AUV_BACKEND = 'cpu';
    expect(await initEngine()).toBe('cpu');
    expect(tf.getBackend()).toBe('cpu');
    delete process.env.AUV_BACKEND;
    expect(await initEngine()).toBe('wasm');
  });

  it('rejects an unknown backend with a clear ConfigError', async () => {
    await expect(initEngine({ backend: 'webgpu' as BackendName })).rejects.toThrow(ConfigError);
    await expect(initEngine({ backend: 'webgpu' as BackendName })).rejects.toThrow(/unknown backend 'webgpu'.*wasm, cpu/);
    process.env.AUV_BACKEND = 'gpu';
    await expect(initEngine()).rejects.toThrow(/unknown backend 'gpu'/);
    delete process.env.AUV_BACKEND;
    expect(tf.getBackend()).toBe('wasm');
  });

  it('registers the missing wasm kernels', () => {
    expect(BACKENDS).toEqual(['wasm', 'cpu']);
    for (const k of ['Conv2DBackpropFilter', 'UnsortedSegmentSum', 'Conv2DBackpropInput', 'BatchMatMul']) {
      expect(tf.getKernel(k, 'wasm')).toBeDefined();
    }
  });
});
