import { spawnSync } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { wasmThreads } from '../engine.js';
import { requestedWasmThreads } from './threads.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

/** Start a fresh process with AUV_WASM_THREADS=value; it prints threads and a checksum, then must exit. */
function probe(value: string): { threads: number; sum: number; cpus: number } {
  const code = `
    const { initEngine, wasmThreads, tf } = await import('./src/core/engine.ts');
    await initEngine();
    const a = tf.tensor2d(Float32Array.from({ length: 256 * 256 }, (_, i) => ((i * 7919) % 97) / 97 - 0.5), [256, 256]);
    const w = tf.tensor4d(Float32Array.from({ length: 3 * 3 * 8 * 8 }, (_, i) => ((i * 31) % 17) / 17 - 0.5), [3, 3, 8, 8]);
    const x = a.reshape([4, 32, 64, 8]);
    const g = tf.grad((f) => tf.conv2d(x, f, 1, 'same').square().sum())(w);
    const sum = tf.matMul(a, a).sum().dataSync()[0] + g.sum().dataSync()[0];
    console.log(JSON.stringify({ threads: wasmThreads(), sum, cpus: (await import('node:os')).cpus().length }));`;
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], {
    cwd: root,
    env: { ...process.env, AUV_WASM_THREADS: value, AUV_BACKEND: 'wasm' },
    encoding: 'utf8',
    timeout: 60_000,
  });
  expect(r.status, r.stderr).toBe(0);
  return JSON.parse(r.stdout.trim().split('\n').pop()!) as { threads: number; sum: number; cpus: number };
}

describe('wasm threads', () => {
  it('this process runs with the requested thread count', () => {
    const want = Math.min(requestedWasmThreads(), 8);
    expect(wasmThreads()).toBe(want > 1 ? want : 1);
  });

  it('AUV_WASM_THREADS=0 and =2 give the same results, and both processes exit', () => {
    const one = probe('0');
    const two = probe('2');
    expect(one.threads).toBe(1);
    expect(two.threads).toBe(2);
    expect(two.cpus).toBe(os.cpus().length); // the os.cpus shim is undone
    expect(Math.abs(two.sum - one.sum)).toBeLessThanOrEqual(1e-4 * Math.abs(one.sum));
  });

  it('defaults to one thread where the native addon runs, unless AUV_WASM_THREADS says otherwise', () => {
    const saved = process.env.AUV_WASM_THREADS;
    const savedVitest = process.env.VITEST;
    try {
      delete process.env.AUV_WASM_THREADS;
      delete process.env.VITEST;
      expect(requestedWasmThreads(true)).toBe(1);
      expect(requestedWasmThreads(false)).toBe(os.cpus().length);
      process.env.AUV_WASM_THREADS = '2';
      expect(requestedWasmThreads(true)).toBe(2);
    } finally {
      if (saved === undefined) delete process.env.AUV_WASM_THREADS;
      else process.env.AUV_WASM_THREADS = saved;
      if (savedVitest !== undefined) process.env.VITEST = savedVitest;
    }
  });

  it('rejects a malformed AUV_WASM_THREADS', () => {
    const saved = process.env.AUV_WASM_THREADS;
    process.env.AUV_WASM_THREADS = 'many';
    try {
      expect(() => requestedWasmThreads()).toThrow(/AUV_WASM_THREADS/);
    } finally {
      if (saved === undefined) delete process.env.AUV_WASM_THREADS;
      else process.env.AUV_WASM_THREADS = saved;
    }
  });
});
