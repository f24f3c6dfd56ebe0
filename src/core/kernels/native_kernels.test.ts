/**
 * The native kernels (./native_kernels.ts) against the cpu backend, on the shapes the VAE, UNet
 * and encoders use (3x3 and 1x1, stride 1 and 2, 'same' and 'valid'), with sizes that leave
 * partial register tiles. Every case runs on whichever path is active: with the addon (the
 * default where it was built) and, in CI, again with AUV_NATIVE=0 (the wasm kernels), so both
 * paths pass the same checks. Cases run with 1 and 2 native threads.
 */
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initEngine } from '../engine.js';
import { adamUpdate } from './adam.js';
import { onBackend, relError, testValues } from './compare.js';
import { NATIVE_ADDON_PATH, nativeAddon, requestedNativeThreads } from './native.js';
import { isNativeKernel, NATIVE_KERNELS } from './native_kernels.js';
import { csrFromCoo, spmmInto } from './spmm.js';

type Pad = 'same' | 'valid';
const CONV: [number[], number[], number, Pad][] = [
  [[2, 9, 9, 5], [3, 3, 5, 7], 1, 'same'],
  [[2, 9, 9, 5], [3, 3, 5, 7], 2, 'same'],
  [[1, 8, 8, 4], [3, 3, 4, 3], 2, 'same'],
  [[3, 6, 7, 16], [1, 1, 16, 24], 1, 'same'],
  [[2, 8, 8, 6], [1, 1, 6, 10], 2, 'same'],
  [[1, 11, 11, 3], [3, 3, 3, 17], 1, 'valid'],
  [[2, 16, 16, 32], [3, 3, 32, 33], 1, 'same'], // a full GEMM block and a partial one
  [[1, 5, 5, 2], [4, 4, 2, 3], 2, 'same'],
  [[8, 6, 6, 5], [3, 3, 5, 7], 1, 'same'], // enough images for whole-image tasks per thread
  [[9, 7, 7, 3], [3, 3, 3, 4], 2, 'same'],
];
const size = (s: number[]) => s.reduce((a, b) => a * b, 1);

const addon = nativeAddon();
const threadCounts = addon ? [1, 2] : [1];

describe(`native kernels (${addon ? 'addon' : 'wasm fallback'})`, () => {
  beforeAll(async () => {
    await initEngine({ backend: 'wasm' });
  });
  afterAll(() => {
    addon?.setThreads(requestedNativeThreads());
  });

  it('are registered exactly when the addon is loaded', () => {
    for (const name of Object.keys(NATIVE_KERNELS)) expect(isNativeKernel(name)).toBe(addon !== null);
    if (process.env.AUV_NATIVE === '0') expect(addon).toBeNull();
    if (process.env.AUV_NATIVE === '1') expect(addon).not.toBeNull();
  });

  for (const threads of threadCounts) {
    for (const [xs, fs, s, p] of CONV) {
      it(`conv2d fwd + dx + dW match cpu: x ${xs} f ${fs} stride ${s} ${p}, ${threads} thread(s)`, async () => {
        addon?.setThreads(threads);
        const xv = testValues(size(xs), 3), fv = testValues(size(fs), 5);
        const f = () => {
          const x = tf.tensor4d(xv, xs as [number, number, number, number]);
          const w = tf.tensor4d(fv, fs as [number, number, number, number]);
          const y = tf.conv2d(x, w, s, p);
          const wy = tf.tensor(testValues(y.size, 7), y.shape); // dy not uniform
          const [dx, dw] = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, s, p).mul(wy).sum() as tf.Scalar)([x, w]);
          return [y, dx, dw];
        };
        const a = await onBackend('wasm', f);
        const b = await onBackend('cpu', f);
        for (let i = 0; i < 3; i++) expect(relError(a[i], b[i]), ['y', 'dx', 'dW'][i]).toBeLessThan(1e-5);
      });
    }

    const MM: [number[], number[], boolean, boolean][] = [
      [[37, 29], [29, 41], false, false],
      [[29, 37], [29, 41], true, false],
      [[37, 29], [41, 29], false, true],
      [[29, 37], [41, 29], true, true],
      [[130, 300], [300, 70], false, false], // several row blocks and K slices
      [[4, 9, 13], [4, 13, 6], false, false],
      [[4, 13, 9], [1, 6, 13], true, true], // b broadcast over the batch
      [[1, 9, 13], [5, 13, 6], false, false], // a broadcast
      [[2, 3, 9, 13], [3, 13, 6], false, false], // broadcast of a different rank: fallback kernel
    ];
    for (const [as, bs, ta, tb] of MM) {
      it(`matMul ${as} x ${bs} tA=${ta} tB=${tb} (and its gradients) match cpu, ${threads} thread(s)`, async () => {
        addon?.setThreads(threads);
        const av = testValues(size(as), 1), bv = testValues(size(bs), 2);
        const f = () => {
          const x = tf.tensor(av, as), w = tf.tensor(bv, bs);
          const y = tf.matMul(x, w, ta, tb);
          // tfjs' matMul gradient does not reduce broadcast batch dimensions: forward only there.
          if (!tf.util.arraysEqual(as.slice(0, -2), bs.slice(0, -2))) return [y];
          const g = tf.grads((p: tf.Tensor, q: tf.Tensor) => tf.matMul(p, q, ta, tb).square().sum() as tf.Scalar)([x, w]);
          return [y, ...g];
        };
        const a = await onBackend('wasm', f);
        const b = await onBackend('cpu', f);
        expect(a.length).toBe(b.length);
        for (let i = 0; i < a.length; i++) expect(relError(a[i], b[i])).toBeLessThan(1e-5);
      });
    }
  }

  it('topK gives the cpu values and indices (ties: lower index first)', async () => {
    for (const threads of threadCounts) {
      addon?.setThreads(threads);
      for (const [shape, k] of [[[300, 257], 23], [[7, 40], 40], [[5000], 1]] as [number[], number][]) {
        // Few distinct values, so that many ties must be broken by index.
        const xv = testValues(size(shape), 9).map((v) => Math.round(v * 8) / 8);
        const f = () => {
          const { values, indices } = tf.topk(tf.tensor(xv, shape), k);
          return [values, indices.toFloat()];
        };
        const a = await onBackend('wasm', f);
        const b = await onBackend('cpu', f);
        expect(Array.from(a[1])).toEqual(Array.from(b[1]));
        expect(Array.from(a[0])).toEqual(Array.from(b[0]));
      }
    }
  });

  it('gather (axis 0, axis 1, batchDims 1) and its gradient give the cpu bits', async () => {
    for (const threads of threadCounts) {
      addon?.setThreads(threads);
      const tv = testValues(300 * 64, 3);
      const ids = Int32Array.from({ length: 200 }, (_, i) => (i * 37) % 300);
      const f = () => {
        const t = tf.tensor2d(tv, [300, 64]);
        const i = tf.tensor1d(ids, 'int32');
        const w = tf.tensor2d(testValues(200 * 64, 4), [200, 64]);
        const g = tf.grad((tt: tf.Tensor) => tf.gather(tt, i).mul(w).sum() as tf.Scalar)(t);
        const ax1 = tf.gather(t.reshape([30, 10, 64]), tf.tensor1d([9, 0, 3, 3], 'int32'), 1);
        const bd = tf.gather(t.reshape([3, 100, 64]), tf.tensor2d([[1, 2], [99, 0], [5, 5]], [3, 2], 'int32'), 1, 1);
        return [tf.gather(t, i), g, ax1, bd];
      };
      const a = await onBackend('wasm', f);
      const b = await onBackend('cpu', f);
      for (let k = 0; k < 4; k++) expect(Buffer.from(a[k].buffer).equals(Buffer.from(b[k].buffer)), `output ${k}`).toBe(true);
    }
  });

  it('gather with an index out of range throws; segment sums drop out-of-range ids', async () => {
    const t = tf.zeros([2000, 4]);
    expect(() => tf.gather(t, tf.tensor1d([1, 2000], 'int32')).dataSync()).toThrow(/2000 is not in \[0, 1999\]/);
    t.dispose();
    const xv = testValues(600 * 4, 5);
    const sid = Int32Array.from({ length: 600 }, (_, i) => (i % 7 === 0 ? -1 : i % 7 === 1 ? 50 : i % 50));
    const f = () => tf.unsortedSegmentSum(tf.tensor2d(xv, [600, 4]), tf.tensor1d(sid, 'int32'), 50);
    const [a] = await onBackend('wasm', f);
    const [b] = await onBackend('cpu', f);
    expect(relError(a, b)).toBeLessThan(1e-6);
  });

  it('matMul with mismatched inner sizes still throws', () => {
    expect(() => tf.matMul(tf.ones([3, 4]), tf.ones([5, 6]))).toThrow();
  });
});

describe.skipIf(!addon)('native addon calls', () => {
  it('Adam gives the same bits as the JS update', () => {
    const n = 100_003;
    const x = testValues(n, 1), g = testValues(n, 2), m = testValues(n, 3).map(Math.abs), v = testValues(n, 4).map(Math.abs);
    const attrs = { lr: 1e-3, b1: 0.9, b2: 0.999, eps: 1e-7, c1: 1 - 0.9 ** 3, c2: 1 - 0.999 ** 3 };
    const js = [new Float32Array(n), new Float32Array(n), new Float32Array(n)];
    adamUpdate(x, g, m, v, js[0], js[1], js[2], attrs);
    const nat = [new Float32Array(n), new Float32Array(n), new Float32Array(n)];
    addon!.setThreads(2);
    addon!.adam(x, g, m, v, nat[0], nat[1], nat[2], attrs.lr, attrs.b1, attrs.b2, attrs.eps, attrs.c1, attrs.c2);
    for (let i = 0; i < 3; i++) expect(Buffer.from(nat[i].buffer).equals(Buffer.from(js[i].buffer))).toBe(true);
  });

  it('works in place on a shared wasm memory (as with wasm threads)', () => {
    const mem = new WebAssembly.Memory({ initial: 1, maximum: 4, shared: true });
    const a = new Float32Array(mem.buffer, 64, 6), b = new Float32Array(mem.buffer, 128, 6), c = new Float32Array(mem.buffer, 256, 4);
    a.set([1, 2, 3, 4, 5, 6]); // 2x3
    b.set([1, 0, 0, 1, 1, 1]); // 3x2
    addon!.batchMatMul(a, b, c, Int32Array.from([1, 0, 0, 2, 2, 3, 0, 0]));
    expect(Array.from(c)).toEqual([4, 5, 10, 11]);
  });

  it('refuses views too short for the shape instead of writing past them', () => {
    const p = Int32Array.from([1, 0, 0, 4, 4, 4, 0, 0]);
    expect(() => addon!.batchMatMul(new Float32Array(16), new Float32Array(16), new Float32Array(15), p)).toThrow(/argument 2 has 15 elements, needs 16/);
    expect(() => addon!.conv2d(new Float32Array(4), new Float32Array(4), new Float32Array(4), Int32Array.from([1]))).toThrow(/Int32Array of length 15/);
  });

  it('gives the filter gradient the same bits with 1 and 2 threads', () => {
    const p = Int32Array.from([16, 10, 10, 8, 10, 10, 12, 3, 3, 1, 1, 1, 1, 1, 1]);
    const x = testValues(16 * 10 * 10 * 8, 1), dy = testValues(16 * 10 * 10 * 12, 2);
    const runs = [1, 2].map((t) => {
      addon!.setThreads(t);
      const df = new Float32Array(9 * 8 * 12);
      addon!.conv2dBackpropFilter(x, dy, df, p);
      return df;
    });
    addon!.setThreads(requestedNativeThreads());
    expect(Buffer.from(runs[0].buffer).equals(Buffer.from(runs[1].buffer))).toBe(true);
  });

  it('spmm gives the same bits as the JS kernel (both sum in double, in non-zero order)', () => {
    const rows = 500, cols = 400, d = 37, nnz = 6000;
    const r = new Int32Array(nnz), c = new Int32Array(nnz);
    const u = testValues(2 * nnz, 5);
    for (let k = 0; k < nnz; k++) {
      r[k] = Math.floor(((u[k] + 1) / 2) * rows);
      c[k] = Math.floor(((u[nnz + k] + 1) / 2) * cols);
    }
    const a = csrFromCoo(rows, cols, r, c, testValues(nnz, 6));
    const x = testValues(cols * d, 7);
    const js = new Float32Array(rows * d), nat = new Float32Array(rows * d);
    spmmInto(a, x, d, js);
    addon!.setThreads(2);
    addon!.spmm(a.indptr, a.indices, a.values, x, nat, rows, cols, d);
    expect(Buffer.from(nat.buffer).equals(Buffer.from(js.buffer))).toBe(true);
    const bad = Int32Array.from(a.indices);
    bad[17] = cols;
    expect(() => addon!.spmm(a.indptr, bad, a.values, x, nat, rows, cols, d)).toThrow(/column index out of range/);
  });

  it('is the file the build step writes', () => {
    expect(NATIVE_ADDON_PATH.endsWith('native/build/auv_native.node')).toBe(true);
  });
});
