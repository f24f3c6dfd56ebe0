/**
 * Cross-backend checking used by the kernel tests and benchmarks: run a function on a named
 * backend with inputs given as plain arrays, and compare results by relative error.
 */
import * as tf from '@tensorflow/tfjs';

/** Run `fn` on `backend` and return its outputs as Float32Arrays; restores the previous backend. */
export async function onBackend(
  backend: 'wasm' | 'cpu',
  fn: () => tf.Tensor | tf.Tensor[],
): Promise<Float32Array[]> {
  const prev = tf.getBackend();
  await tf.setBackend(backend);
  try {
    // (read after the tidy: a tidy returning typed arrays walks every element)
    const list = tf.tidy(() => {
      const r = fn();
      return Array.isArray(r) ? r : [r];
    });
    const out = list.map((t) => Float32Array.from(t.dataSync() as Float32Array));
    tf.dispose(list);
    return out;
  } finally {
    await tf.setBackend(prev);
  }
}

/** max |a-b| / max(1e-6, max |b|): a scale-aware relative error. */
export function relError(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Infinity;
  let num = 0, den = 1e-6;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i] - b[i]);
    if (!(d <= num)) num = Number.isNaN(d) ? Infinity : Math.max(num, d);
    den = Math.max(den, Math.abs(b[i]));
  }
  return num / den;
}

/** Deterministic pseudo-random values in [-1, 1) (LCG), so both backends see identical inputs. */
export function testValues(n: number, seed = 1): Float32Array {
  const out = new Float32Array(n);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s / 2147483648 - 1;
  }
  return out;
}
