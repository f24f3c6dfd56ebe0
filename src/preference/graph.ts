/**
 * Sparse graphs for the preference encoder (spec section 5). A graph is a list of weighted
 * directed edges (src -> dst); propagation is out[dst] += w * in[src]. Never a dense
 * users x items matrix: the default and large catalogues only fit sparsely.
 */
import * as tf from '@tensorflow/tfjs';
import { csrFromCoo, SparseMatrix } from '../core/kernels/spmm.js';

export interface SparseGraph {
  /** Number of destination nodes (rows of the propagation matrix). */
  numNodes: number;
  /** Number of source nodes (columns); defaults to numNodes. */
  numSrc?: number;
  src: Int32Array;
  dst: Int32Array;
  weight: Float32Array;
}

/**
 * Normalised bipartite adjacency D^-1/2 A D^-1/2 of the user-item graph (LightGCN, sec. 5).
 * Nodes 0..numUsers-1 are users, numUsers..numUsers+numItems-1 items. Duplicate (u,i) pairs count once.
 */
export function userItemGraph(train: readonly (readonly number[])[], numUsers: number, numItems: number): SparseGraph {
  const userDeg = new Int32Array(numUsers);
  const itemDeg = new Int32Array(numItems);
  const pairs: number[] = [];
  for (let u = 0; u < numUsers; u++) {
    const seen = new Set<number>();
    for (const i of train[u] ?? []) {
      if (i < 0 || i >= numItems) throw new Error(`userItemGraph: item ${i} of user ${u} outside [0, ${numItems})`);
      if (seen.has(i)) continue;
      seen.add(i);
      pairs.push(u, i);
      userDeg[u]++;
      itemDeg[i]++;
    }
  }
  const m = pairs.length / 2;
  const src = new Int32Array(2 * m);
  const dst = new Int32Array(2 * m);
  const weight = new Float32Array(2 * m);
  for (let e = 0; e < m; e++) {
    const u = pairs[2 * e]!;
    const i = pairs[2 * e + 1]!;
    const w = 1 / Math.sqrt(userDeg[u]! * itemDeg[i]!);
    src[2 * e] = u;
    dst[2 * e] = numUsers + i;
    weight[2 * e] = w;
    src[2 * e + 1] = numUsers + i;
    dst[2 * e + 1] = u;
    weight[2 * e + 1] = w;
  }
  return { numNodes: numUsers + numItems, src, dst, weight };
}

/**
 * Row-normalised user <- item graph: out[u] = (1/|N_u|) sum_{i in N_u} in[i] (the degree-normalised
 * mean of item vectors over a user's training items, sec. 5 visual view). Nodes: items as sources,
 * users as destinations (numNodes = numUsers).
 */
export function userMeanGraph(train: readonly (readonly number[])[], numUsers: number, numItems: number): SparseGraph {
  const src: number[] = [];
  const dst: number[] = [];
  const w: number[] = [];
  for (let u = 0; u < numUsers; u++) {
    const items = [...new Set(train[u] ?? [])];
    for (const i of items) {
      src.push(i);
      dst.push(u);
      w.push(1 / items.length);
    }
  }
  return { numNodes: numUsers, numSrc: numItems, src: Int32Array.from(src), dst: Int32Array.from(dst), weight: Float32Array.from(w) };
}

/** Reference propagation in plain JS (for tests and host-side use): out[dst] += w * x[src]. */
export function propagateJs(g: SparseGraph, x: Float32Array, dim: number, numOut = g.numNodes): Float32Array {
  const out = new Float32Array(numOut * dim);
  for (let e = 0; e < g.src.length; e++) {
    const s = g.src[e]! * dim;
    const d = g.dst[e]! * dim;
    const w = g.weight[e]!;
    for (let j = 0; j < dim; j++) out[d + j] += w * x[s + j]!;
  }
  return out;
}

/**
 * A graph prepared for differentiable propagation: a CSR matrix (rows = destinations) run by the
 * AuvSpMM kernel (src/core/kernels/spmm.ts), whose gradient is the transposed product.
 */
export interface TensorGraph {
  numNodes: number;
  numSrc: number;
  matrix: SparseMatrix | null;
  dispose(): void;
}

export function toTensorGraph(g: SparseGraph): TensorGraph {
  const numSrc = g.numSrc ?? g.numNodes;
  const matrix = g.src.length === 0 ? null : new SparseMatrix(csrFromCoo(g.numNodes, numSrc, g.dst, g.src, g.weight));
  return { numNodes: g.numNodes, numSrc, matrix, dispose: () => undefined };
}

/** Differentiable sparse propagation: out = A x (no dense matrix). */
export function propagate(g: TensorGraph, x: tf.Tensor2D): tf.Tensor2D {
  if (!g.matrix) return tf.zeros([g.numNodes, x.shape[1]]) as tf.Tensor2D;
  return g.matrix.matMul(x);
}

/** LightGCN layer combination: mean over layers 0..L of A^l x (sec. 5). */
export function lightGcn(g: TensorGraph, x: tf.Tensor2D, layers: number): tf.Tensor2D {
  return tf.tidy(() => {
    let cur = x;
    let sum: tf.Tensor2D = x;
    for (let l = 0; l < layers; l++) {
      cur = propagate(g, cur);
      sum = tf.add(sum, cur);
    }
    return tf.div(sum, layers + 1) as tf.Tensor2D;
  });
}

/**
 * Item-item KNN graph from cosine similarity of features (sec. 5 visual view): the k most similar
 * other items per item (similarities clipped at 0), symmetrised as S = max(S_knn, S_knn^T), and
 * normalised D^-1/2 S D^-1/2. Similarities are computed in row blocks of `blockSize`, so memory is
 * blockSize x n, never n x n.
 */
export function knnGraph(features: Float32Array, n: number, dim: number, k: number, blockSize = 512): SparseGraph {
  if (features.length !== n * dim) throw new Error(`knnGraph: features have ${features.length} values, expected ${n}x${dim}`);
  const kk = Math.max(0, Math.min(k, n - 1));
  const nbr = new Int32Array(n * kk);
  const sim = new Float32Array(n * kk);
  if (kk > 0) {
    const unit = tf.tidy(() => {
      const f = tf.tensor2d(features, [n, dim]);
      return tf.div(f, tf.add(tf.norm(f, 2, 1, true), 1e-8)) as tf.Tensor2D;
    });
    const unitT = tf.transpose(unit) as tf.Tensor2D;
    for (let start = 0; start < n; start += blockSize) {
      const rows = Math.min(blockSize, n - start);
      const s = tf.tidy(() => tf.matMul(tf.slice(unit, [start, 0], [rows, dim]), unitT));
      const vals = s.dataSync() as Float32Array;
      s.dispose();
      for (let r = 0; r < rows; r++) {
        const i = start + r;
        const row = vals.subarray(r * n, (r + 1) * n);
        // partial selection of the kk largest (excluding self); n is at most ~1e5, kk small
        const best: number[] = [];
        for (let j = 0; j < n; j++) {
          if (j === i) continue;
          const v = row[j]!;
          if (best.length < kk) {
            best.push(j);
            if (best.length === kk) best.sort((a, b) => row[a]! - row[b]!);
          } else if (v > row[best[0]!]!) {
            // insert keeping ascending order
            let p = 1;
            while (p < kk && row[best[p]!]! < v) p++;
            for (let q = 0; q < p - 1; q++) best[q] = best[q + 1]!;
            best[p - 1] = j;
          }
        }
        if (best.length < kk) best.sort((a, b) => row[a]! - row[b]!);
        for (let q = 0; q < kk; q++) {
          const j = best[kk - 1 - q]!;
          nbr[i * kk + q] = j;
          sim[i * kk + q] = Math.max(0, row[j]!);
        }
      }
    }
    unit.dispose();
    unitT.dispose();
  }
  // symmetrise: weight(i,j) = max over both directions
  const w = new Map<number, number>();
  const key = (a: number, b: number): number => a * n + b;
  for (let i = 0; i < n; i++) {
    for (let q = 0; q < kk; q++) {
      const j = nbr[i * kk + q]!;
      const v = sim[i * kk + q]!;
      if (v <= 0) continue;
      const a = Math.min(i, j);
      const b = Math.max(i, j);
      const old = w.get(key(a, b));
      if (old === undefined || v > old) w.set(key(a, b), v);
    }
  }
  const deg = new Float64Array(n);
  for (const [kv, v] of w) {
    const a = Math.floor(kv / n);
    const b = kv % n;
    deg[a] += v;
    deg[b] += v;
  }
  const m = w.size;
  const src = new Int32Array(2 * m);
  const dst = new Int32Array(2 * m);
  const weight = new Float32Array(2 * m);
  let e = 0;
  for (const [kv, v] of w) {
    const a = Math.floor(kv / n);
    const b = kv % n;
    const nw = v / Math.sqrt(deg[a]! * deg[b]!);
    src[e] = a;
    dst[e] = b;
    weight[e] = nw;
    e++;
    src[e] = b;
    dst[e] = a;
    weight[e] = nw;
    e++;
  }
  return { numNodes: n, src, dst, weight };
}
