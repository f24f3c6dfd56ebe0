/**
 * The canonical benchmark graph: 10,000 users, 20,000 items, 200,000 (user, item) interactions
 * drawn uniformly from a seed (repeats allowed, as in the PyTorch twin).
 */
import { Rng } from '../src/core/rng.js';

export const N_USERS = 10_000;
export const N_ITEMS = 20_000;
export const N_INTERACTIONS = 200_000;
export const SEED = 1234;

export interface BenchGraph {
  nUsers: number;
  nItems: number;
  users: Int32Array;
  items: Int32Array;
}

export function benchGraph(seed = SEED): BenchGraph {
  const rng = new Rng(seed).fork('bench-graph');
  return {
    nUsers: N_USERS,
    nItems: N_ITEMS,
    users: rng.fork('users').intArray(N_INTERACTIONS, N_USERS),
    items: rng.fork('items').intArray(N_INTERACTIONS, N_ITEMS),
  };
}

/** Fisher-Yates permutation of 0..n-1. */
export function permutation(rng: Rng, n: number): Int32Array {
  const p = new Int32Array(n);
  for (let i = 0; i < n; i++) p[i] = i;
  for (let i = n - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    const t = p[i];
    p[i] = p[j];
    p[j] = t;
  }
  return p;
}

/** Triplet batch k of an epoch: (u, pos) from the permuted interactions, neg uniform. */
export function tripletBatch(
  g: BenchGraph,
  perm: Int32Array,
  k: number,
  batch: number,
  rng: Rng,
): { u: Int32Array; pos: Int32Array; neg: Int32Array } {
  const start = k * batch;
  const n = Math.min(batch, perm.length - start);
  const u = new Int32Array(n), pos = new Int32Array(n), neg = new Int32Array(n);
  for (let j = 0; j < n; j++) {
    const e = perm[start + j];
    u[j] = g.users[e];
    pos[j] = g.items[e];
    neg[j] = rng.int(g.nItems);
  }
  return { u, pos, neg };
}
