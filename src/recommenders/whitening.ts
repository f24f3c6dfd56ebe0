/**
 * PCA whitening of item features, the victims' fixed feature preprocessing (spec section 3 uses
 * f_i = F(x_i); this is the affine map applied to F(x_i) inside the model, so the score stays
 * differentiable in the raw features):
 *
 *   f_white = (f - mu) U_d diag(lambda_1..d)^(-1/2) / sqrt(d)
 *
 * with U_d the top-d principal directions of the training items' features and lambda their
 * variances: every kept direction gets variance 1/d (expected norm 1), the rest is dropped.
 *
 * Why: an encoder's features carry the looks that matter (category, colour, pattern) in a few
 * low-variance directions next to high-variance nuisance (position, scale, lighting). Scaled as
 * they come, VBPR fits the nuisance and gains nothing from images; whitened, the informative
 * directions weigh as much as the rest (README, "Victims").
 *
 * The directions come from block subspace iteration on the covariance (seeded, so deterministic)
 * followed by an exact Jacobi eigendecomposition of the small projected matrix (Rayleigh-Ritz).
 */
import * as tf from '@tensorflow/tfjs';
import { tidyToHost } from '../core/host.js';
import { Rng } from '../core/rng.js';

export interface Whitening {
  /** Feature mean, 1 x D. */
  mean: tf.Tensor2D;
  /** Whitening projection, D x d. */
  projection: tf.Tensor2D;
  /** Variance of each kept principal direction (descending). */
  variances: number[];
  /** Share of the total variance the kept directions hold. */
  varianceKept: number;
}

export interface WhiteningOptions {
  /** At most this many directions. */
  maxDims: number;
  /** Directions with variance below this fraction of the largest are dropped (numerical rank). */
  minRelativeVariance?: number;
  /** Subspace-iteration steps. */
  iterations?: number;
  seed?: number;
}

/** Symmetric eigendecomposition by cyclic Jacobi rotations: A = V diag(w) V^T (A row-major n x n). */
export function symmetricEigen(a: Float64Array, n: number): { values: Float64Array; vectors: Float64Array } {
  const m = Float64Array.from(a);
  const v = new Float64Array(n * n);
  for (let i = 0; i < n; i++) v[i * n + i] = 1;
  for (let sweep = 0; sweep < 100; sweep++) {
    let off = 0;
    let diag = 0;
    for (let i = 0; i < n; i++) {
      diag += m[i * n + i]! * m[i * n + i]!;
      for (let j = i + 1; j < n; j++) off += m[i * n + j]! * m[i * n + j]!;
    }
    if (off <= 1e-22 * Math.max(diag, 1e-300)) break;
    for (let p = 0; p < n; p++) {
      for (let q = p + 1; q < n; q++) {
        const apq = m[p * n + q]!;
        if (Math.abs(apq) < 1e-300) continue;
        const theta = (m[q * n + q]! - m[p * n + p]!) / (2 * apq);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        for (let k = 0; k < n; k++) {
          const mkp = m[k * n + p]!;
          const mkq = m[k * n + q]!;
          m[k * n + p] = c * mkp - s * mkq;
          m[k * n + q] = s * mkp + c * mkq;
        }
        for (let k = 0; k < n; k++) {
          const mpk = m[p * n + k]!;
          const mqk = m[q * n + k]!;
          m[p * n + k] = c * mpk - s * mqk;
          m[q * n + k] = s * mpk + c * mqk;
        }
        for (let k = 0; k < n; k++) {
          const vkp = v[k * n + p]!;
          const vkq = v[k * n + q]!;
          v[k * n + p] = c * vkp - s * vkq;
          v[k * n + q] = s * vkp + c * vkq;
        }
      }
    }
  }
  const values = new Float64Array(n);
  for (let i = 0; i < n; i++) values[i] = m[i * n + i]!;
  return { values, vectors: v };
}

/**
 * Orthonormalise the columns of q (rows x cols, row-major) in place (modified Gram-Schmidt). The
 * columns are copied out to contiguous rows first: the same operations in the same order (so the
 * same bits) as along the strided columns, without a cache miss per element.
 */
function orthonormalise(q: Float64Array, rows: number, cols: number): void {
  const c = new Float64Array(rows * cols);
  for (let r = 0; r < rows; r++) for (let j = 0; j < cols; j++) c[j * rows + r] = q[r * cols + j]!;
  for (let j = 0; j < cols; j++) {
    const cj = j * rows;
    for (let k = 0; k < j; k++) {
      const ck = k * rows;
      let dot = 0;
      for (let r = 0; r < rows; r++) dot += c[cj + r]! * c[ck + r]!;
      for (let r = 0; r < rows; r++) c[cj + r]! -= dot * c[ck + r]!;
    }
    let norm = 0;
    for (let r = 0; r < rows; r++) norm += c[cj + r]! ** 2;
    norm = Math.sqrt(norm);
    for (let r = 0; r < rows; r++) c[cj + r] = norm > 1e-300 ? c[cj + r]! / norm : 0;
  }
  for (let r = 0; r < rows; r++) for (let j = 0; j < cols; j++) q[r * cols + j] = c[j * rows + r]!;
}

interface HostWhitening {
  mean: Float32Array;
  projection: Float32Array;
  variances: number[];
  varianceKept: number;
}

/**
 * Maps already fitted, by features tensor and options: the visual victims of one seed (VBPR,
 * DeepStyle, AMR) whiten the same features with the same seed. A tensor's values never change
 * (tfjs tensors are immutable), so a map fitted on it stays valid while it lives.
 */
const fitted = new WeakMap<tf.Tensor, Map<string, HostWhitening>>();

/**
 * Fit the whitening map on `features` (N x D, one row per item); the caller owns the returned
 * tensors. Deterministic: a repeated call on the same tensor and options returns the first fit.
 */
export function fitWhitening(features: tf.Tensor2D, opts: WhiteningOptions): Whitening {
  const key = JSON.stringify([opts.maxDims, opts.minRelativeVariance ?? null, opts.iterations ?? null, opts.seed ?? 0]);
  let byOpts = fitted.get(features);
  if (!byOpts) fitted.set(features, (byOpts = new Map()));
  let w = byOpts.get(key);
  if (!w) {
    const f = fitWhiteningOnce(features, opts);
    w = { mean: f.mean.dataSync() as Float32Array, projection: f.projection.dataSync() as Float32Array, variances: f.variances, varianceKept: f.varianceKept };
    tf.dispose([f.mean, f.projection]);
    byOpts.set(key, w);
  }
  const d = features.shape[1];
  return {
    mean: tf.tensor2d(w.mean, [1, d]),
    projection: tf.tensor2d(w.projection, [d, w.projection.length / d]),
    variances: [...w.variances],
    varianceKept: w.varianceKept,
  };
}

function fitWhiteningOnce(features: tf.Tensor2D, opts: WhiteningOptions): Whitening {
  const [n, d] = features.shape;
  const minRel = opts.minRelativeVariance ?? 1e-6;
  const m = Math.max(1, Math.min(d, n, opts.maxDims + 8)); // a few extra directions speed convergence
  const mean = tf.tidy(() => features.mean(0, true) as tf.Tensor2D);
  const cov = tf.tidy(() => {
    const x = features.sub(mean);
    return x.transpose().matMul(x).div(Math.max(1, n)) as tf.Tensor2D;
  });
  const c = Float64Array.from(cov.dataSync());
  let trace = 0;
  for (let i = 0; i < d; i++) trace += c[i * d + i]!;
  // Block subspace iteration Q <- orth(C Q), starting from a seeded Gaussian block.
  let q = Float64Array.from(new Rng(opts.seed ?? 0).fork('whitening').normalArray(d * m, 1));
  orthonormalise(q, d, m);
  const iterations = opts.iterations ?? 60;
  for (let it = 0; it < iterations; it++) {
    q = Float64Array.from(tidyToHost(() => ({ next: cov.matMul(tf.tensor2d(Float32Array.from(q), [d, m])) })).next);
    orthonormalise(q, d, m);
  }
  // Rayleigh-Ritz: T = Q^T C Q (m x m), T = V diag(w) V^T; directions U = Q V.
  const cq = new Float64Array(d * m);
  for (let i = 0; i < d; i++)
    for (let k = 0; k < d; k++) {
      const cik = c[i * d + k]!;
      if (cik === 0) continue;
      for (let j = 0; j < m; j++) cq[i * m + j]! += cik * q[k * m + j]!;
    }
  const t = new Float64Array(m * m);
  for (let a = 0; a < m; a++)
    for (let b = 0; b < m; b++) {
      let s = 0;
      for (let i = 0; i < d; i++) s += q[i * m + a]! * cq[i * m + b]!;
      t[a * m + b] = s;
    }
  for (let a = 0; a < m; a++) for (let b = a + 1; b < m; b++) t[a * m + b] = t[b * m + a] = (t[a * m + b]! + t[b * m + a]!) / 2;
  const { values, vectors } = symmetricEigen(t, m);
  const order = Array.from({ length: m }, (_, k) => k).sort((a, b) => values[b]! - values[a]!);
  const top = Math.max(values[order[0]!]!, 0);
  const kept = order.filter((k) => values[k]! > minRel * top && values[k]! > 0).slice(0, opts.maxDims);
  const dims = Math.max(1, kept.length);
  const proj = new Float32Array(d * dims);
  const variances: number[] = [];
  kept.forEach((k, col) => {
    const lambda = values[k]!;
    variances.push(lambda);
    const scale = 1 / Math.sqrt(lambda * dims);
    for (let i = 0; i < d; i++) {
      let u = 0;
      for (let a = 0; a < m; a++) u += q[i * m + a]! * vectors[a * m + k]!;
      proj[i * dims + col] = u * scale;
    }
  });
  cov.dispose();
  const sumKept = variances.reduce((s, x) => s + x, 0);
  return { mean, projection: tf.tensor2d(proj, [d, dims]), variances, varianceKept: trace > 0 ? sumKept / trace : 1 };
}
