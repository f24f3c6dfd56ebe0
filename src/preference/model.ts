/**
 * The attacker's surrogate recommender: a two-view preference encoder (spec section 5).
 *
 * ID view: LightGCN over the user-item graph, E^(l+1) = D^-1/2 A D^-1/2 E^(l), final = mean over
 * layers 0..L -> e_u,id, e_i,id. Visual view: h = mean over layers of S^l (G(x) P), S the normalised
 * item-item KNN graph of surrogate features; e_u,v = mean of h_i over u's training items.
 * Fusion e_u = e_u,id + e_u,v, score s(u,i) = e_u . (e_i,id + h_i), trained with BPR.
 * Cold items (no training interaction) have no ID signal: e_i,id = 0, so they score by h_i only.
 *
 * Views ('both' | 'id' | 'visual') select the ablations. For 'id' the projection P is not trained by
 * BPR, so after training it is fitted by ridge regression from G(x_i) to e_i,id over warm items; the
 * attack's alignment loss (eq. 6) then still has a map from images into the preference space.
 */
import * as tf from '@tensorflow/tfjs';
import { z } from 'zod';
import { ConfigError, InputError } from '../core/errors.js';
import { fastAdam } from '../core/kernels/adam.js';
import { tidyToHost } from '../core/host.js';
import { loadModel, requireTensor, saveModel, type HostTensor } from '../core/weights.js';
import { Progress } from '../core/progress.js';
import { Rng } from '../core/rng.js';
import { negativePool, sampleNegative } from '../data/negatives.js';
import { knnGraph, lightGcn, propagate, toTensorGraph, userItemGraph, userMeanGraph, type TensorGraph } from './graph.js';

export const PreferenceConfigSchema = z
  .object({
    /**
     * The surrogate's family: absent or 'lightgcn' = this file's two-view preference encoder (the
     * paper's); 'vbpr' = the attacker trains its own VBPR on the public interactions and the attacker
     * encoder's features (it assumes the VARS family, not its parameters) and uses it in its linear
     * form (src/recommenders/linear-view.ts); 'ensemble' = it trains one such recommender per family
     * in `members` (its guesses at the VARS family) and attacks the mean of their scores. Absent keeps
     * the cache keys of earlier runs.
     */
    model: z.enum(['lightgcn', 'vbpr', 'ensemble']).optional(),
    layers: z.number().int().min(0).max(8).default(3),
    dim: z.number().int().min(2).max(1024).default(64),
    k: z.number().int().min(1).max(200).default(10),
    lr: z.number().positive().max(1).default(0.005),
    epochs: z.number().int().min(1).max(10000).default(40),
    batchSize: z.number().int().min(1).default(2048),
    /** L2 weight on the batch's embeddings and P. */
    weightDecay: z.number().min(0).default(1e-4),
    views: z.enum(['both', 'id', 'visual']).default('both'),
    /** Ridge penalty of the post-hoc P fit for views = 'id'. */
    ridge: z.number().positive().default(1),
    /** Row-block size of the KNN similarity computation. */
    knnBlock: z.number().int().min(1).default(512),
    /** The families of an 'ensemble' surrogate (required there, refused elsewhere). */
    members: z.array(z.enum(['vbpr', 'deepstyle', 'amr'])).min(1).optional(),
  })
  .strict()
  .superRefine((c, ctx) => {
    if (c.model === 'ensemble' && !c.members) ctx.addIssue({ code: 'custom', path: ['members'], message: "model 'ensemble' needs a members list, e.g. [vbpr, deepstyle, amr]" });
    if (c.model !== 'ensemble' && c.members) ctx.addIssue({ code: 'custom', path: ['members'], message: "members is only read with model 'ensemble'" });
    if (c.members && new Set(c.members).size !== c.members.length) ctx.addIssue({ code: 'custom', path: ['members'], message: 'each family at most once' });
  });

export type PreferenceConfig = z.infer<typeof PreferenceConfigSchema>;

/** Validate a (partial) config; unknown keys or bad values throw ConfigError naming the key. */
export function preferenceConfig(input: unknown = {}): PreferenceConfig {
  const r = PreferenceConfigSchema.safeParse(input ?? {});
  if (!r.success) {
    const msg = r.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
    throw new ConfigError(`surrogate recommender config: ${msg}`);
  }
  return r.data;
}

export interface PreferenceTrainingData {
  numUsers: number;
  numItems: number;
  train: readonly (readonly number[])[];
  /** numItems x featDim surrogate features G(x_i), row-major. */
  features: Float32Array;
  featDim: number;
  /** Items never drawn as BPR negatives (the targets). */
  excludedNegatives?: ReadonlySet<number>;
}

export interface PreferenceFitReport {
  epochs: number;
  lossCurve: number[];
  seconds: number;
  secondsPerEpoch: number;
}

interface Buffers {
  /** Fused user embeddings e_u (numUsers x d). */
  user: Float32Array;
  /** ID item embeddings e_i,id (zero for cold items). */
  itemId: Float32Array;
  /** Visual item embeddings h_i. */
  itemVis: Float32Array;
  /** Projection P (featDim x d), with the feature standardisation folded in. */
  proj: Float32Array;
  /** Bias of the folded standardisation: P G(x) = G(x) proj + projBias. */
  projBias: Float32Array;
}

/** The trained surrogate: embeddings and the projection P, usable by the attack. */
export class PreferenceEncoder {
  private constructor(
    readonly config: PreferenceConfig,
    readonly numUsers: number,
    readonly numItems: number,
    readonly featDim: number,
    private readonly buf: Buffers,
  ) {}

  /** e_u for all users (numUsers x d), a fresh tensor the caller owns. */
  userEmbeddings(): tf.Tensor2D {
    return tf.tensor2d(this.buf.user, [this.numUsers, this.config.dim]);
  }
  /** Item vectors e_i,id + h_i (numItems x d) used in s(u,i). */
  itemEmbeddings(): tf.Tensor2D {
    const d = this.config.dim;
    const out = new Float32Array(this.numItems * d);
    for (let j = 0; j < out.length; j++) out[j] = this.buf.itemId[j]! + this.buf.itemVis[j]!;
    return tf.tensor2d(out, [this.numItems, d]);
  }
  /** The projection P as a featDim x d tensor (caller owns). */
  projection(): tf.Tensor2D {
    return tf.tensor2d(this.buf.proj, [this.featDim, this.config.dim]);
  }
  /** P G(x): surrogate features (N x featDim) into the preference space; differentiable (eq. 6). */
  project(features: tf.Tensor2D, proj?: tf.Tensor2D): tf.Tensor2D {
    if (features.shape[1] !== this.featDim) {
      throw new ConfigError(`surrogate features have ${features.shape[1]} dims; the surrogate recommender was trained on ${this.featDim}`);
    }
    return tf.tidy(() => tf.add(tf.matMul(features, proj ?? this.projection()), tf.tensor1d(this.buf.projBias)) as tf.Tensor2D);
  }
  /** Scores of `users` x `items` (numbers), s(u,i) = e_u . (e_i,id + h_i). */
  score(users: Int32Array, items: Int32Array): tf.Tensor2D {
    return tf.tidy(() => {
      const u = tf.gather(this.userEmbeddings(), users);
      const it = tf.gather(this.itemEmbeddings(), items);
      return tf.matMul(u, tf.transpose(it)) as tf.Tensor2D;
    });
  }
  /** Scores of every user for one item vector v (d), e.g. of a target item: numUsers values. */
  scoreVector(v: Float32Array): Float32Array {
    const d = this.config.dim;
    const out = new Float32Array(this.numUsers);
    for (let u = 0; u < this.numUsers; u++) {
      let s = 0;
      for (let j = 0; j < d; j++) s += this.buf.user[u * d + j]! * v[j]!;
      out[u] = s;
    }
    return out;
  }
  /** e_i,id + h_i of one item as a plain array. */
  itemVector(item: number): Float32Array {
    const d = this.config.dim;
    const out = new Float32Array(d);
    for (let j = 0; j < d; j++) out[j] = this.buf.itemId[item * d + j]! + this.buf.itemVis[item * d + j]!;
    return out;
  }
  /** e_i,id of one item alone (the ID view's part of s(u,i)), as a plain array. */
  itemIdVector(item: number): Float32Array {
    const d = this.config.dim;
    return this.buf.itemId.slice(item * d, (item + 1) * d);
  }
  /** Raw e_u rows (read-only view). */
  userEmbeddingArray(): Float32Array {
    return this.buf.user;
  }

  /**
   * A surrogate given in linear form (src/recommenders/linear-view.ts): user vectors, items' ID parts
   * and the map f P + c from features into item vectors; `features` (numItems x featDim) give the
   * items' current visual parts.
   */
  static fromLinear(
    cfg: PreferenceConfig,
    view: { dim: number; user: Float32Array; itemId: Float32Array; proj: Float32Array; projBias: Float32Array },
    features: Float32Array,
    featDim: number,
  ): PreferenceEncoder {
    const d = view.dim;
    const numUsers = view.user.length / d;
    const numItems = view.itemId.length / d;
    if (features.length !== numItems * featDim || view.proj.length !== featDim * d) {
      throw new InputError(`linear surrogate: ${features.length} feature values for ${numItems} items x ${featDim} dims, projection ${view.proj.length} for ${featDim} x ${d}`);
    }
    const { itemVis } = tidyToHost(() => ({
      itemVis: tf.add(tf.matMul(tf.tensor2d(features, [numItems, featDim]), tf.tensor2d(view.proj, [featDim, d])), tf.tensor1d(view.projBias)),
    }));
    return new PreferenceEncoder({ ...cfg, dim: d, views: 'both' }, numUsers, numItems, featDim, {
      user: view.user,
      itemId: view.itemId,
      itemVis: Float32Array.from(itemVis),
      proj: view.proj,
      projBias: view.projBias,
    });
  }

  /** Train the encoder with BPR (sec. 5). Deterministic given `rng`. */
  static async fit(data: PreferenceTrainingData, cfgIn: Partial<PreferenceConfig> | PreferenceConfig, rng: Rng): Promise<{ model: PreferenceEncoder; report: PreferenceFitReport }> {
    const cfg = preferenceConfig(cfgIn);
    const { numUsers, numItems, featDim } = data;
    if (data.features.length !== numItems * featDim) {
      throw new InputError(`surrogate features have ${data.features.length} values, expected ${numItems} x ${featDim}`);
    }
    const t0 = Date.now();
    // standardise features per dimension (z-score) for the KNN graph and the projection; the
    // standardisation is folded into P afterwards so project(G(x)) needs raw features only
    const z = standardise(data.features, numItems, featDim);
    const net = buildNetwork(data, cfg, z.zf, rng);
    const lossCurve = await trainBpr(net, data, cfg, rng.fork('pref-bpr'));
    const buf = await net.buffers();
    if (cfg.views === 'id') buf.proj = ridgeProjection(z.zf, featDim, buf.itemId, cfg.dim, net.warm, cfg.ridge);
    foldStandardisation(buf, z, featDim, cfg.dim);
    net.dispose();
    const seconds = (Date.now() - t0) / 1000;
    return {
      model: new PreferenceEncoder(cfg, numUsers, numItems, featDim, buf),
      report: { epochs: cfg.epochs, lossCurve, seconds, secondsPerEpoch: seconds / cfg.epochs },
    };
  }

  /** Write config and embeddings as a model folder (src/core/weights.ts). */
  async save(dir: string): Promise<void> {
    const { numUsers: U, numItems: I, featDim: F } = this;
    const d = this.config.dim;
    const b = this.buf;
    const tensors: [string, HostTensor][] = [
      ['user', { shape: [U, d], data: b.user }],
      ['itemId', { shape: [I, d], data: b.itemId }],
      ['itemVis', { shape: [I, d], data: b.itemVis }],
      ['proj', { shape: [F, d], data: b.proj }],
      ['projBias', { shape: [d], data: b.projBias }],
    ];
    await saveModel(dir, { kind: 'preference-encoder', config: { preference: this.config, numUsers: U, numItems: I, featDim: F }, tensors });
  }

  static async load(dir: string): Promise<PreferenceEncoder> {
    const file = await loadModel<{ preference: unknown; numUsers: number; numItems: number; featDim: number }>(dir, 'preference-encoder');
    const { numUsers: U, numItems: I, featDim: F } = file.config;
    const cfg = preferenceConfig(file.config.preference);
    const d = cfg.dim;
    const take = (name: string, shape: number[]): Float32Array => Float32Array.from(requireTensor(file, name, dir, shape).data);
    const buf: Buffers = { user: take('user', [U, d]), itemId: take('itemId', [I, d]), itemVis: take('itemVis', [I, d]), proj: take('proj', [F, d]), projBias: take('projBias', [d]) };
    return new PreferenceEncoder(cfg, U, I, F, buf);
  }
}

/** Per-dimension mean and standard deviation (+1e-6) of item features, and the z-scored features. */
function standardise(features: Float32Array, numItems: number, featDim: number): { mu: Float64Array; sd: Float64Array; zf: Float32Array } {
  const mu = new Float64Array(featDim);
  const sd = new Float64Array(featDim);
  for (let i = 0; i < numItems; i++) for (let a = 0; a < featDim; a++) mu[a] += features[i * featDim + a]! / numItems;
  for (let i = 0; i < numItems; i++) for (let a = 0; a < featDim; a++) sd[a] += (features[i * featDim + a]! - mu[a]!) ** 2 / numItems;
  for (let a = 0; a < featDim; a++) sd[a] = Math.sqrt(sd[a]!) + 1e-6;
  const zf = new Float32Array(numItems * featDim);
  for (let i = 0; i < numItems; i++) for (let a = 0; a < featDim; a++) zf[i * featDim + a] = (features[i * featDim + a]! - mu[a]!) / sd[a]!;
  return { mu, sd, zf };
}

/** Fold the standardisation into the projection: ((f - mu) / sd) P = f (P / sd) - (mu / sd) P. */
function foldStandardisation(buf: Buffers, z: { mu: Float64Array; sd: Float64Array }, featDim: number, d: number): void {
  for (let a = 0; a < featDim; a++) {
    for (let c = 0; c < d; c++) {
      const w = buf.proj[a * d + c]! / z.sd[a]!;
      buf.proj[a * d + c] = w;
      buf.projBias[c] = buf.projBias[c]! - z.mu[a]! * w;
    }
  }
}

/** The two-view network under training: graphs, parameters, and its forward pass. */
interface Network {
  readonly E0: tf.Variable<tf.Rank.R2>;
  readonly P: tf.Variable<tf.Rank.R2>;
  /** The trained variables of the configured views. */
  readonly vars: tf.Variable[];
  /** 1 for items with a training interaction. */
  readonly warm: Uint8Array;
  forward(): { user: tf.Tensor2D; itemId: tf.Tensor2D; itemVis: tf.Tensor2D };
  /** Host copies of the final embeddings and P (projBias zero). */
  buffers(): Promise<Buffers>;
  dispose(): void;
}

function buildNetwork(data: PreferenceTrainingData, cfg: PreferenceConfig, zf: Float32Array, rng: Rng): Network {
  const { numUsers, numItems, featDim } = data;
  const d = cfg.dim;
  const useId = cfg.views !== 'visual';
  const useVis = cfg.views !== 'id';
  // graphs (sec. 5)
  const ui = toTensorGraph(userItemGraph(data.train, numUsers, numItems));
  const um = toTensorGraph(userMeanGraph(data.train, numUsers, numItems));
  const ii = useVis ? toTensorGraph(knnGraph(zf, numItems, featDim, cfg.k, cfg.knnBlock)) : null;
  const warm = new Uint8Array(numItems);
  for (const items of data.train) for (const i of items) warm[i] = 1;
  const warmMask = tf.tensor2d(Float32Array.from(warm), [numItems, 1]);
  const feats = tf.tensor2d(zf, [numItems, featDim]);
  // parameters from the Rng (Xavier-like scales)
  const E0 = makeVariable(rng.fork('pref-emb').normalArray((numUsers + numItems) * d, 0.1), [numUsers + numItems, d]);
  const P = makeVariable(rng.fork('pref-proj').normalArray(featDim * d, 1 / Math.sqrt(featDim)), [featDim, d]);
  const vars: tf.Variable[] = [];
  if (useId) vars.push(E0);
  if (useVis) vars.push(P);
  const forward = (): { user: tf.Tensor2D; itemId: tf.Tensor2D; itemVis: tf.Tensor2D } =>
    tf.tidy(() => {
      let user = tf.zeros([numUsers, d]) as tf.Tensor2D;
      let itemId = tf.zeros([numItems, d]) as tf.Tensor2D;
      let itemVis = tf.zeros([numItems, d]) as tf.Tensor2D;
      if (useId) {
        const all = lightGcn(ui, E0, cfg.layers);
        user = tf.slice(all, [0, 0], [numUsers, d]);
        itemId = tf.mul(tf.slice(all, [numUsers, 0], [numItems, d]), warmMask); // cold: no ID signal
      }
      if (useVis && ii) {
        itemVis = lightGcn(ii, tf.matMul(feats, P), cfg.layers);
        user = tf.add(user, propagate(um, itemVis)); // e_u = e_u,id + e_u,v
      }
      return { user, itemId, itemVis };
    });
  const buffers = async (): Promise<Buffers> => {
    const f = forward();
    const buf: Buffers = {
      user: (await f.user.data()) as Float32Array,
      itemId: (await f.itemId.data()) as Float32Array,
      itemVis: (await f.itemVis.data()) as Float32Array,
      proj: (await P.data()) as Float32Array,
      projBias: new Float32Array(d),
    };
    tf.dispose([f.user, f.itemId, f.itemVis]);
    return buf;
  };
  const dispose = (): void => {
    for (const t of [E0, P, warmMask, feats]) t.dispose();
    ui.dispose();
    um.dispose();
    ii?.dispose();
  };
  return { E0, P, vars, warm, forward, buffers, dispose };
}

/** BPR loss of a batch of (user, positive, negative) triples, with L2 on the batch's layer-0 rows and on P. */
function bprLoss(net: Network, cfg: PreferenceConfig, numUsers: number, bu: Int32Array, bi: Int32Array, bj: Int32Array): tf.Scalar {
  return tf.tidy(() => {
    const f = net.forward();
    const tu = tf.tensor1d(bu, 'int32');
    const ti = tf.tensor1d(bi, 'int32');
    const tj = tf.tensor1d(bj, 'int32');
    const eu = tf.gather(f.user, tu);
    const vi = tf.add(tf.gather(f.itemId, ti), tf.gather(f.itemVis, ti));
    const vj = tf.add(tf.gather(f.itemId, tj), tf.gather(f.itemVis, tj));
    const x = tf.sum(tf.mul(eu, tf.sub(vi, vj)), 1);
    const bpr = tf.mean(tf.softplus(tf.neg(x))); // -log sigmoid(x); tf.logSigmoid has a broken gradient in tfjs 4.22
    let reg = tf.scalar(0);
    if (cfg.views !== 'visual') {
      const rows = tf.concat([tu, tf.add(ti, numUsers), tf.add(tj, numUsers)]);
      reg = tf.add(reg, tf.div(tf.sum(tf.square(tf.gather(net.E0, rows))), bu.length));
    }
    if (cfg.views !== 'id') reg = tf.add(reg, tf.sum(tf.square(net.P)));
    return tf.add(bpr, tf.mul(reg, cfg.weightDecay)) as tf.Scalar;
  });
}

/** Every training (user, item) pair, and each user's item set (for negative sampling). */
function bprPairs(train: readonly (readonly number[])[], numUsers: number): { pos: number[]; posUser: number[]; userSets: Set<number>[] } {
  const pos: number[] = [];
  const posUser: number[] = [];
  const userSets: Set<number>[] = [];
  for (let u = 0; u < numUsers; u++) {
    const s = new Set(train[u] ?? []);
    userSets.push(s);
    for (const i of s) {
      posUser.push(u);
      pos.push(i);
    }
  }
  return { pos, posUser, userSets };
}

/** BPR epochs with Adam over shuffled training pairs and sampled negatives; returns the mean loss per epoch. */
async function trainBpr(net: Network, data: PreferenceTrainingData, cfg: PreferenceConfig, sampler: Rng): Promise<number[]> {
  const { pos, posUser, userSets } = bprPairs(data.train, data.numUsers);
  const negPool = negativePool(data.numItems, data.excludedNegatives);
  if (pos.length === 0) throw new InputError('the surrogate recommender needs at least one training interaction');
  if (negPool.length < 2) throw new InputError('the surrogate recommender needs at least two items to sample negatives from');
  // the fused Adam update (src/core/kernels/adam.ts): tf.train.adam's arithmetic in one pass per variable
  const opt = fastAdam(cfg.lr);
  const lossCurve: number[] = [];
  const steps = Math.max(1, Math.ceil(pos.length / cfg.batchSize));
  const progress = new Progress('surrogate', cfg.epochs);
  const order = Int32Array.from(pos.keys());
  for (let ep = 0; ep < cfg.epochs; ep++) {
    sampler.shuffle(order);
    let lossSum = 0;
    const losses: tf.Scalar[] = [];
    for (let s = 0; s < steps; s++) {
      const lo = s * cfg.batchSize;
      const hi = Math.min(pos.length, lo + cfg.batchSize);
      const [bu, bi, bj] = [new Int32Array(hi - lo), new Int32Array(hi - lo), new Int32Array(hi - lo)];
      for (let q = lo; q < hi; q++) {
        const e = order[q]!;
        const u = posUser[e]!;
        bu[q - lo] = u;
        bi[q - lo] = pos[e]!;
        bj[q - lo] = sampleNegative(sampler, negPool, userSets[u]!, 20);
      }
      const l = opt.minimize(() => bprLoss(net, cfg, data.numUsers, bu, bi, bj), true, net.vars);
      if (l) losses.push(l);
    }
    for (const l of losses) {
      lossSum += (await l.data())[0]!;
      l.dispose();
    }
    const mean = lossSum / steps;
    if (!Number.isFinite(mean)) throw new Error(`surrogate training diverged at epoch ${ep + 1} (loss ${mean}); lower lr`);
    lossCurve.push(mean);
    progress.tick(1, `bpr ${mean.toFixed(4)}`);
  }
  progress.finish();
  opt.dispose();
  return lossCurve;
}

/** A trainable variable from host values (the temporary initial tensor is disposed). */
export function makeVariable(values: Float32Array, shape: [number, number]): tf.Variable<tf.Rank.R2> {
  const init = tf.tensor2d(values, shape);
  const v = tf.variable(init, true) as tf.Variable<tf.Rank.R2>;
  init.dispose();
  return v;
}

/** Ridge regression P = (F^T F + lambda I)^-1 F^T E over warm items (views = 'id'). */
export function ridgeProjection(features: Float32Array, featDim: number, target: Float32Array, d: number, rowsMask: Uint8Array, lambda: number): Float32Array {
  const n = rowsMask.length;
  const A = new Float64Array(featDim * featDim);
  const B = new Float64Array(featDim * d);
  for (let i = 0; i < n; i++) {
    if (!rowsMask[i]) continue;
    const fo = i * featDim;
    for (let a = 0; a < featDim; a++) {
      const fa = features[fo + a]!;
      if (fa === 0) continue;
      for (let b = 0; b < featDim; b++) A[a * featDim + b] += fa * features[fo + b]!;
      for (let c = 0; c < d; c++) B[a * d + c] += fa * target[i * d + c]!;
    }
  }
  for (let a = 0; a < featDim; a++) A[a * featDim + a] += lambda;
  // Cholesky A = L L^T, then solve for each column of B
  const L = new Float64Array(featDim * featDim);
  for (let i = 0; i < featDim; i++) {
    for (let j = 0; j <= i; j++) {
      let s = A[i * featDim + j]!;
      for (let q = 0; q < j; q++) s -= L[i * featDim + q]! * L[j * featDim + q]!;
      if (i === j) L[i * featDim + i] = Math.sqrt(Math.max(s, 1e-12));
      else L[i * featDim + j] = s / L[j * featDim + j]!;
    }
  }
  const out = new Float32Array(featDim * d);
  const y = new Float64Array(featDim);
  for (let c = 0; c < d; c++) {
    for (let i = 0; i < featDim; i++) {
      let s = B[i * d + c]!;
      for (let q = 0; q < i; q++) s -= L[i * featDim + q]! * y[q]!;
      y[i] = s / L[i * featDim + i]!;
    }
    for (let i = featDim - 1; i >= 0; i--) {
      let s = y[i]!;
      for (let q = i + 1; q < featDim; q++) s -= L[q * featDim + i]! * out[q * d + c]!;
      out[i * d + c] = s / L[i * featDim + i]!;
    }
  }
  return out;
}
