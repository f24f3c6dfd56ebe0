/**
 * SSIM-shaped pixel perturbations (issue 14): an SSIM floor as the attack's constraint instead of an
 * L_inf ball, and an optional low-frequency parameterisation of the perturbation.
 *
 * SSIM (src/evaluation/image-metrics.ts: 11-tap Gaussian window, per channel, data range 1) barely
 * moves under a smooth shift of the local mean and punishes high-frequency noise in flat regions,
 * so an L_inf ball is about the worst shape of budget to spend against it. Here:
 *   - `projectSsimFloor`: per image, the largest scale s in [0,1] with SSIM(x0 + s (x - x0), x0) >=
 *     floor, by bisection (SSIM falls monotonically along the segment in practice; the search keeps
 *     only scales it has checked, so the result always meets the floor);
 *   - `upsampleGrid`: a perturbation held on a coarse g x g grid, bilinearly upsampled (two matMuls
 *     with fixed interpolation matrices, differentiable on every backend);
 *   - `optimizeSsimConstrained`: Adam on the perturbation (full-resolution or grid), maximising a
 *     per-image objective minus an adaptive hinge on (floor + margin - SSIM)_+, projected onto the
 *     floor after every step; it returns, per image, the best objective value seen at a feasible
 *     iterate.
 */
import * as tf from '@tensorflow/tfjs';
import { gaussianKernel1d, ssim } from '../evaluation/image-metrics.js';

/**
 * size x grid bilinear interpolation matrix (half-pixel centres, as resize with
 * align_corners = false): row i holds the weights of the grid cells that output pixel i reads.
 */
export function bilinearUpsampleMatrix(size: number, grid: number): Float32Array {
  if (!(grid >= 1 && grid <= size)) throw new Error(`bilinearUpsampleMatrix: grid ${grid} must lie in [1, ${size}]`);
  const m = new Float32Array(size * grid);
  for (let i = 0; i < size; i++) {
    const src = Math.min(Math.max(((i + 0.5) * grid) / size - 0.5, 0), grid - 1);
    const lo = Math.floor(src);
    const hi = Math.min(lo + 1, grid - 1);
    const t = src - lo;
    m[i * grid + lo] = (m[i * grid + lo] as number) + (1 - t);
    m[i * grid + hi] = (m[i * grid + hi] as number) + t;
  }
  return m;
}

/** Bilinear upsampling of an N x g x g x C batch to N x size x size x C (differentiable in w). */
export function upsampleGrid(w: tf.Tensor4D, size: number): tf.Tensor4D {
  const [n, g, g2, c] = w.shape;
  if (g !== g2) throw new Error(`upsampleGrid: grid must be square, got ${g}x${g2}`);
  if (g === size) return w.clone();
  return tf.tidy(() => {
    const u = tf.tensor2d(bilinearUpsampleMatrix(size, g), [size, g]);
    const p = n * c;
    const planes = w.transpose([0, 3, 1, 2]).reshape([p * g, g]); // [P*g(rows), g(cols)]
    const cols = tf.matMul(planes, u, false, true).reshape([p, g, size]); // interpolate columns
    const rows = tf.matMul(cols.transpose([0, 2, 1]).reshape([p * size, g]), u, false, true); // [P*size(cols), size(rows)]
    return rows.reshape([n, c, size, size]).transpose([0, 3, 2, 1]) as tf.Tensor4D;
  });
}

/** Radius of the SSIM window at the metric's defaults (sigma 1.5, truncate 3.5): 5. */
export function ssimWindowRadius(): number {
  return (gaussianKernel1d(1.5, 3.5).length - 1) / 2;
}

/** size x size mask: 1 inside, 0 within `border` pixels of the edge. */
export function interiorMask(size: number, border: number): Float32Array {
  if (!(border >= 0 && 2 * border < size)) throw new Error(`interiorMask: border ${border} leaves no interior in ${size}x${size}`);
  const m = new Float32Array(size * size);
  for (let i = border; i < size - border; i++) m.fill(1, i * size + border, i * size + size - border);
  return m;
}

/**
 * Per image, the largest s in [0,1] (to 2^-iters) with SSIM(x0 + s (x - x0), x0) >= floor; images
 * already at or above the floor keep s = 1. Returns the projected batch (caller disposes) and s.
 */
export async function projectSsimFloor(x: tf.Tensor4D, x0: tf.Tensor4D, floor: number, iters = 10): Promise<{ x: tf.Tensor4D; scale: number[] }> {
  const n = x.shape[0];
  const d = tf.sub(x, x0) as tf.Tensor4D;
  const at = (s: number[]): tf.Tensor4D => tf.tidy(() => tf.add(x0, tf.mul(d, tf.tensor4d(s, [n, 1, 1, 1]))) as tf.Tensor4D);
  const ssimOf = async (xs: tf.Tensor4D): Promise<number[]> => {
    const t = ssim(xs, x0);
    const v = Array.from(await t.data());
    t.dispose();
    return v;
  };
  const full = await ssimOf(x);
  const lo: number[] = full.map((v) => (v >= floor ? 1 : 0));
  const hi = full.map(() => 1);
  const open = full.map((v) => v < floor);
  if (open.some((o) => o)) {
    for (let it = 0; it < iters; it++) {
      const mid = lo.map((l, q) => (open[q] ? (l + hi[q]!) / 2 : l));
      const xm = at(mid);
      const v = await ssimOf(xm);
      xm.dispose();
      v.forEach((sv, q) => {
        if (!open[q]) return;
        if (sv >= floor) lo[q] = mid[q]!;
        else hi[q] = mid[q]!;
      });
    }
  }
  const out = at(lo);
  d.dispose();
  return { x: out, scale: lo };
}

export interface SsimConstrainedOptions {
  /** SSIM(x, x0) every returned image meets. */
  floor: number;
  steps: number;
  /** Adam learning rate on the perturbation's parameters (pixel units). */
  lr: number;
  /** Perturbation grid: size = full resolution; g < size = a g x g grid upsampled bilinearly. */
  grid: number;
  /**
   * Pixels within `border` of the image edge stay unchanged. SSIM's valid windows (radius 5 at the
   * default sigma 1.5) barely weigh the outer 5-pixel frame, so an attack left free there spends it
   * on visible noise that the metric does not see; default: the SSIM window radius.
   */
  border?: number;
  /** The hinge acts below floor + margin, so the SSIM gradient shapes the step before the floor is hit. */
  margin?: number;
  /** Optional starting perturbation (N x size x size x C; full resolution only, grid = size). */
  init?: tf.Tensor4D;
  /** Called with (step, mean objective, mean SSIM) of the current iterate. */
  onLog?: (step: number, objective: number, ssim: number) => void;
}

/**
 * Maximise `objective(x)` (one value per image, higher is better; each image's value must depend
 * only on its own image) over x = x0 + delta, subject to SSIM(x, x0) >= floor and x in [0,1].
 * Returns the best feasible iterate per image (x0 itself if no step was feasible and improving).
 */
export async function optimizeSsimConstrained(
  x0: tf.Tensor4D,
  objective: (x: tf.Tensor4D) => tf.Tensor1D,
  o: SsimConstrainedOptions,
): Promise<tf.Tensor4D> {
  const [n, size, , c] = x0.shape;
  const margin = o.margin ?? 0.02;
  const b1 = 0.9;
  const b2 = 0.999;
  if (o.init && o.grid !== size) throw new Error(`optimizeSsimConstrained: an initial perturbation needs grid = ${size}, got ${o.grid}`);
  let w: tf.Tensor4D = o.init ? o.init.clone() : tf.zeros([n, o.grid, o.grid, c]);
  let m: tf.Tensor4D = tf.zerosLike(w);
  let v: tf.Tensor4D = tf.zerosLike(w);
  const lambda = new Array<number>(n).fill(0);
  const mask = tf.tensor4d(interiorMask(size, o.border ?? ssimWindowRadius()), [1, size, size, 1]);
  const perturbed = (wi: tf.Tensor4D): tf.Tensor4D => tf.tidy(() => tf.clipByValue(tf.add(x0, tf.mul(upsampleGrid(wi, size), mask)), 0, 1) as tf.Tensor4D);
  const clean = await (async () => {
    const t = tf.tidy(() => objective(x0));
    const a = Array.from(await t.data());
    t.dispose();
    return a;
  })();
  const best = clean.slice();
  let bestX = x0.clone();
  for (let step = 1; step <= o.steps; step++) {
    const lam = tf.tensor1d(lambda);
    let parts: { obj: tf.Tensor1D; s: tf.Tensor1D } | null = null;
    const grad = tf.tidy(() => {
      const r = tf.valueAndGrad((wi: tf.Tensor) => {
        const x = perturbed(wi as tf.Tensor4D);
        const obj = objective(x);
        const s = ssim(x, x0);
        parts = { obj: tf.keep(obj.clone()), s: tf.keep(s.clone()) };
        const hinge = tf.relu(tf.sub(o.floor + margin, s));
        return tf.sub(tf.mul(lam, hinge), obj).sum() as tf.Scalar;
      })(w);
      return r.grad as tf.Tensor4D;
    });
    lam.dispose();
    const { obj, s } = parts as unknown as { obj: tf.Tensor1D; s: tf.Tensor1D };
    const objV = Array.from(await obj.data());
    const ssimV = Array.from(await s.data());
    tf.dispose([obj, s]);
    // Keep the best feasible iterate per image (the objective was measured at the current x).
    {
      const keepNew = objV.map((val, q) => ssimV[q]! >= o.floor && val > best[q]!);
      if (keepNew.some((k) => k)) {
        const cur = perturbed(w);
        const mask = tf.tensor4d(keepNew.map((k) => (k ? 1 : 0)), [n, 1, 1, 1]);
        const next = tf.tidy(() => tf.add(tf.mul(cur, mask), tf.mul(bestX, tf.sub(1, mask))) as tf.Tensor4D);
        tf.dispose([cur, mask, bestX]);
        bestX = next;
        keepNew.forEach((k, q) => k && (best[q] = objV[q]!));
      }
    }
    // Dual update: the hinge weight tracks the objective gained per unit of SSIM spent.
    ssimV.forEach((sv, q) => {
      const rate = Math.max(objV[q]! - clean[q]!, 1e-6) / Math.max(1 - sv, 1e-3);
      lambda[q] = sv < o.floor + margin ? Math.max(lambda[q]! * 1.5, rate) : lambda[q]! * 0.7;
    });
    o.onLog?.(step, objV.reduce((a, b) => a + b, 0) / n, ssimV.reduce((a, b) => a + b, 0) / n);
    if (step === o.steps) {
      grad.dispose();
      break;
    }
    // Adam step on w, then pull the image back onto the floor (scale the perturbation) and re-express it in w.
    const stepped = tf.tidy(() => {
      const m2 = m.mul(b1).add(grad.mul(1 - b1));
      const v2 = v.mul(b2).add(grad.square().mul(1 - b2));
      const upd = m2.div(1 - b1 ** step).div(v2.div(1 - b2 ** step).sqrt().add(1e-8)).mul(o.lr);
      tf.dispose([m, v]);
      m = tf.keep(m2) as tf.Tensor4D;
      v = tf.keep(v2) as tf.Tensor4D;
      return w.sub(upd) as tf.Tensor4D;
    });
    grad.dispose();
    const xs = perturbed(stepped);
    const proj = await projectSsimFloor(xs, x0, o.floor);
    xs.dispose();
    proj.x.dispose();
    w.dispose();
    w = tf.tidy(() => tf.mul(stepped, tf.tensor4d(proj.scale, [n, 1, 1, 1])) as tf.Tensor4D);
    stepped.dispose();
  }
  tf.dispose([w, m, v, mask]);
  return bestX;
}
