/**
 * Victim recommenders (spec section 3), trained with BPR (pairwise, Adam):
 *   BPR-MF:    s = b_i + p_u.q_i
 *   VBPR:      s = a + b_u + b_i + g_u.g_i + t_u.(E f_i) + b'.f_i
 *   DeepStyle: s = p_u.(E f_i - l_c(i) + q_i)
 *   AMR:       VBPR trained with L = L_BPR(f) + lambda L_BPR(f + Delta), Delta = eps g/||g||, g = dL/df.
 * Features are preprocessed inside the model by a fixed affine map fitted on the catalogue's
 * item features at fit time:
 * PCA whitening to at most `whitenDims` directions, each of variance 1/d (./whitening.ts), or with
 * whitenDims 0 a centring and one global scale (unit expected norm). `scoreWithFeatures` takes raw
 * F(x) features and stays differentiable in them.
 * Items with no training interaction (cold / target items) get their ID terms (b_i, g_i, q_i) set to
 * zero after fitting, so their score comes only from the visual terms.
 */
import * as tf from '@tensorflow/tfjs';
import path from 'node:path';
import { fastAdam } from '../core/kernels/adam.js';
import { Rng } from '../core/rng.js';
import { ConfigError, InputError } from '../core/errors.js';
import { writeDirAtomic } from '../core/fsutil.js';
import { loadModel, MANIFEST_FILE, requireTensor, saveModel, toTensor, type HostTensor } from '../core/weights.js';
import { Progress } from '../core/progress.js';
import { isVisualKind, type FitReport, type Recommender, type TrainingData, type VictimKind } from './recommender.js';
import { fitWhitening } from './whitening.js';
import { negativePool, sampleNegative } from '../data/negatives.js';
import { dotTerm, itemTerm, pairSum, scoreMatrix, userTerm, type ScoreTerm } from './score-terms.js';

export interface RecommenderConfig {
  /** Latent ID dimension K. */
  k: number;
  /** Visual latent dimension K' (VBPR/AMR). */
  kVisual: number;
  lr: number;
  weightDecay: number;
  batch: number;
  epochs: number;
  /** Evaluate validation HR@10 every `evalEvery` epochs; stop after `patience` evaluations without gain. */
  evalEvery: number;
  patience: number;
  /**
   * Users sampled for the validation HR@10 (0 = all). All by default: with 500 of 2000 users the
   * early stop followed noise (one VBPR seed stopped at epoch 10 with test HR@10 0.068, 0.095 with all).
   */
  evalUsers: number;
  seed: number;
  /** AMR adversarial budget and weight. */
  amrEps: number;
  amrLambda: number;
  /** AMR: plain VBPR epochs before the adversarial term switches on (as in the AMR paper). */
  amrWarmup: number;
  /**
   * Visual models: PCA-whiten the item features to at most this many directions (./whitening.ts);
   * 0 = only centre them and divide by one global scale.
   */
  whitenDims: number;
}

/**
 * Defaults: the AIP values (K=K'=100, lr 1e-4, batch 512) need hundreds of epochs; on the
 * synthetic catalogues K=K'=32, lr 5e-3, batch 1024 converge in ~10-30 epochs (seconds).
 */
let nextVarId = 0;

export const DEFAULT_RECOMMENDER_CONFIG: RecommenderConfig = {
  k: 32,
  kVisual: 32,
  lr: 5e-3,
  weightDecay: 1e-4,
  batch: 1024,
  epochs: 40,
  evalEvery: 2,
  patience: 3,
  evalUsers: 0,
  seed: 1,
  amrEps: 0.1,
  amrLambda: 1,
  amrWarmup: 4,
  whitenDims: 64,
};

const PARAMS: Record<VictimKind, string[]> = {
  'bpr-mf': ['bi', 'P', 'Q'],
  vbpr: ['a', 'bu', 'bi', 'gu', 'gi', 'tu', 'E', 'bp'],
  amr: ['a', 'bu', 'bi', 'gu', 'gi', 'tu', 'E', 'bp'],
  deepstyle: ['P', 'Q', 'E', 'L'],
};

/** The `config` of a recommender's model folder. */
interface SavedConfig {
  victim: VictimKind;
  recommender: RecommenderConfig;
  numUsers: number;
  numItems: number;
  featureDim: number;
  numCategories: number;
}

export class LatentRecommender implements Recommender {
  readonly visual: boolean;
  readonly config: RecommenderConfig;
  private vars = new Map<string, tf.Variable>();
  /** Raw item features (numItems x D); the feature map f -> (f - fMean) fProj, or (f - fMean) / fStd. */
  private feats: tf.Tensor2D | null = null;
  private fMean: tf.Tensor2D | null = null;
  private fStd: tf.Tensor2D | null = null;
  private fProj: tf.Tensor2D | null = null;
  /** During fit only: every item's preprocessed features norm(feats), computed once (items x visualDim). */
  private fitFn: tf.Tensor2D | null = null;
  /**
   * After fit: norm(feats) for `score`, computed on first use and dropped when the features change,
   * so scoring user blocks against a large catalogue does not gather and re-project every item's
   * raw features per block (the rows equal norm(gather(feats)) bit for bit, as fitFn's do).
   */
  private scoreFn: tf.Tensor2D | null = null;
  private itemCat: Int32Array | null = null;
  private catT: tf.Tensor1D | null = null;
  private seen: Set<number>[] = [];
  numUsers = 0;
  numItems = 0;
  featureDim = 0;
  numCategories = 0;

  /** Dimension of the preprocessed features the visual terms see (E and b' have this many rows). */
  get visualDim(): number {
    return this.fProj ? this.fProj.shape[1] : this.featureDim;
  }

  constructor(
    readonly kind: VictimKind,
    config: Partial<RecommenderConfig> = {},
  ) {
    this.config = { ...DEFAULT_RECOMMENDER_CONFIG, ...config };
    this.visual = isVisualKind(kind);
    for (const [key, v] of Object.entries(this.config)) {
      if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) throw new ConfigError(`recommender config: ${key} must be a non-negative number, got ${String(v)}`);
    }
    if (this.config.k < 1 || this.config.batch < 1) throw new ConfigError('recommender config: k and batch must be >= 1');
  }

  /** Each item's category index (DeepStyle's c(i)), or null for the other kinds. */
  itemCategories(): Int32Array | null {
    return this.itemCat;
  }

  /** A model parameter by name (a, bu, bi, P, Q, gu, gi, tu, E, bp, L). */
  param(name: string): tf.Variable {
    return this.v(name);
  }

  private v(name: string): tf.Variable {
    const x = this.vars.get(name);
    if (!x) throw new Error(`recommender ${this.kind}: not fitted (no parameter ${name})`);
    return x;
  }

  private shapes(): Record<string, number[]> {
    const { k, kVisual } = this.config;
    const [U, I, D, C] = [this.numUsers, this.numItems, this.visualDim, Math.max(1, this.numCategories)];
    return { a: [1], bu: [U], bi: [I], P: [U, k], Q: [I, k], gu: [U, k], gi: [I, k], tu: [U, kVisual], E: [D, this.kind === 'deepstyle' ? k : kVisual], bp: [D], L: [C, k] };
  }

  private initVars(rng: Rng): void {
    const sh = this.shapes();
    for (const name of PARAMS[this.kind]) {
      const shape = sh[name]!;
      const n = shape.reduce((a, b) => a * b, 1);
      const zero = ['a', 'bu', 'bi', 'bp'].includes(name) || name === 'L';
      const std = name === 'E' ? 1 / Math.sqrt(Math.max(1, this.visualDim)) : 0.01;
      const init = tf.tensor(zero ? new Float32Array(n) : rng.fork(name).normalArray(n, std), shape);
      this.vars.set(name, tf.variable(init, true, `${this.kind}-${name}-${nextVarId++}`));
      init.dispose();
    }
  }

  private checkFeatures(features: tf.Tensor2D, rows: number, what: string): void {
    if (features.shape[1] !== this.featureDim) throw new InputError(`${what}: feature dimension ${features.shape[1]} does not match the model's ${this.featureDim}`);
    if (features.shape[0] !== rows) throw new InputError(`${what}: ${features.shape[0]} feature rows for ${rows} items (every item needs visual features)`);
  }

  private setFeaturesInternal(features: tf.Tensor2D): void {
    const data = features.dataSync();
    for (let i = 0; i < data.length; i++) {
      if (!Number.isFinite(data[i]!)) {
        throw new InputError(`item ${Math.floor(i / this.featureDim)} has no usable visual features (non-finite value); ${this.kind} cannot score it`);
      }
    }
    this.feats?.dispose();
    this.scoreFn?.dispose();
    this.scoreFn = null;
    this.feats = tf.keep(features.clone());
  }

  /** The fitted feature preprocessing applied to raw features (items x D -> items x visualDim). */
  preprocess(features: tf.Tensor2D): tf.Tensor2D {
    if (!this.fMean) throw new Error(`recommender ${this.kind}: no feature preprocessing (not a fitted visual model)`);
    return tf.tidy(() => this.norm(features));
  }

  /** Preprocessed features (section 3 terms use these as f): whitened, or centred and globally scaled. */
  private norm(f: tf.Tensor2D): tf.Tensor2D {
    const centred: tf.Tensor2D = f.sub(this.fMean!);
    return this.fProj ? tf.matMul(centred, this.fProj) : centred.div(this.fStd!);
  }

  /**
   * The victim's score formula (section 3, as in this file's header), written once: its terms in
   * the formula's order, over gathered user rows `u` and item rows `i` with preprocessed item
   * features fn (one row per item of `i`). `pairScore` sums them for aligned pairs (training),
   * `scoreWithFeatures` for every user x item (scoring); a test checks that the two agree.
   */
  private scoreTerms(u: tf.Tensor1D, i: tf.Tensor1D, fn: tf.Tensor2D | null): ScoreTerm[] {
    const rows = (name: string, idx: tf.Tensor1D): tf.Tensor => tf.gather(this.v(name), idx);
    switch (this.kind) {
      case 'bpr-mf': // b_i + p_u.q_i
        return [itemTerm(rows('bi', i)), dotTerm(rows('P', u), rows('Q', i))];
      case 'vbpr':
      case 'amr': // a + b_u + b_i + g_u.g_i + t_u.(E f_i) + b'.f_i
        return [
          itemTerm(rows('bi', i)),
          userTerm(rows('bu', u)),
          userTerm(this.v('a')),
          dotTerm(rows('gu', u), rows('gi', i)),
          dotTerm(rows('tu', u), tf.matMul(fn!, this.v('E'))),
          itemTerm(tf.matMul(fn!, this.v('bp').reshape([-1, 1])).reshape([-1])),
        ];
      case 'deepstyle': // p_u.(E f_i - l_c(i) + q_i)
        return [dotTerm(rows('P', u), tf.matMul(fn!, this.v('E')).sub(tf.gather(this.v('L'), tf.gather(this.catT!, i))).add(rows('Q', i)))];
    }
  }

  /** Scores of aligned (user, item) pairs with normalised item features fn (B x D). */
  private pairScore(u: tf.Tensor1D, i: tf.Tensor1D, fn: tf.Tensor2D | null): tf.Tensor1D {
    return pairSum(this.scoreTerms(u, i, fn));
  }

  async fit(d: TrainingData): Promise<FitReport> {
    const t0 = Date.now();
    const cfg = this.config;
    const rng = new Rng(cfg.seed).fork(`recommender-${this.kind}`);
    this.dispose();
    this.numUsers = d.numUsers;
    this.numItems = d.numItems;
    this.seen = d.train.map((l) => new Set(l));
    if (this.visual) {
      if (!d.itemFeatures) throw new InputError(`${this.kind} is a visual recommender: training needs item features`);
      this.featureDim = d.itemFeatures.shape[1];
      this.checkFeatures(d.itemFeatures, d.numItems, `${this.kind} fit`);
      this.setFeaturesInternal(d.itemFeatures);
      if (cfg.whitenDims > 0) {
        const w = fitWhitening(d.itemFeatures, { maxDims: Math.round(cfg.whitenDims), seed: cfg.seed });
        this.fMean = tf.keep(w.mean);
        this.fProj = tf.keep(w.projection);
      } else {
        const { mean, variance } = tf.moments(d.itemFeatures, 0, true);
        this.fMean = tf.keep(mean as tf.Tensor2D);
        this.fStd = tf.keep(tf.tidy(() => tf.onesLike(variance).mul(variance.sum().sqrt().add(1e-6))) as tf.Tensor2D);
        variance.dispose();
      }
    }
    if (this.kind === 'deepstyle') {
      if (!d.itemCategory) throw new InputError('DeepStyle needs item categories (l_c(i)); the dataset has none');
      this.itemCat = Int32Array.from(d.itemCategory);
      this.numCategories = d.numCategories ?? Math.max(...this.itemCat) + 1;
      this.catT = tf.keep(tf.tensor1d(this.itemCat, 'int32'));
    }
    this.initVars(rng.fork('init'));
    const pairs: [number, number][] = [];
    d.train.forEach((l, u) => {
      for (const i of l) pairs.push([u, i]);
    });
    if (pairs.length === 0) throw new InputError('no training interactions');
    const negPool = negativePool(d.numItems, d.excludedNegatives);
    if (negPool.length === 0) throw new InputError('every item is excluded from negative sampling');
    // The fused Adam update (src/core/kernels/adam.ts): tf.train.adam's arithmetic in one pass per
    // variable instead of ~12 ops over every table; results equal to float rounding.
    const opt = fastAdam(cfg.lr);
    // The feature map is fixed during training: preprocess every item once (the rows are what
    // norm(gather(feats)) gives, bit for bit), instead of per batch and per validation block.
    this.fitFn = this.visual ? tf.keep(this.preprocess(this.feats!)) : null;
    const varList = [...this.vars.values()];
    const lossCurve: number[] = [];
    const validationCurve: number[] = [];
    let best = -1;
    let bestEpoch = 0;
    let bad = 0;
    let snapshot: Map<string, tf.Tensor> | null = null;
    const sampler = rng.fork('sampler');
    const evalRng = rng.fork('eval');
    const valUsers = evalRng.shuffle(Array.from(d.validation).flatMap((it, u) => (it >= 0 && d.train[u]!.length > 0 ? [u] : [])));
    const evalUsers = cfg.evalUsers > 0 ? valUsers.slice(0, cfg.evalUsers) : valUsers;
    const progress = new Progress(`train ${this.kind}`, cfg.epochs);
    let epoch = 0;
    for (; epoch < cfg.epochs; epoch++) {
      sampler.shuffle(pairs);
      let tot = 0;
      for (let s = 0; s < pairs.length; s += cfg.batch) {
        const b = pairs.slice(s, s + cfg.batch);
        const neg = b.map(([u]) => sampleNegative(sampler, negPool, this.seen[u]!));
        const loss = this.step(opt, varList, b, Int32Array.from(neg), epoch);
        tot += loss * b.length;
      }
      lossCurve.push(tot / pairs.length);
      if (evalUsers.length > 0 && ((epoch + 1) % cfg.evalEvery === 0 || epoch === cfg.epochs - 1)) {
        const hr = await this.validationHr(evalUsers, d.validation);
        validationCurve.push(hr);
        if (hr > best) {
          best = hr;
          bestEpoch = epoch;
          bad = 0;
          if (snapshot) tf.dispose([...snapshot.values()]);
          snapshot = new Map([...this.vars].map(([k, x]) => [k, tf.keep(x.clone())]));
        } else if (++bad >= cfg.patience) {
          progress.tick(1, `loss ${lossCurve.at(-1)!.toFixed(4)} val HR@10 ${hr.toFixed(3)} (early stop)`);
          epoch++;
          break;
        }
        progress.tick(1, `loss ${lossCurve.at(-1)!.toFixed(4)} val HR@10 ${hr.toFixed(3)}`);
      } else progress.tick(1, `loss ${lossCurve.at(-1)!.toFixed(4)}`);
    }
    progress.finish();
    this.fitFn?.dispose();
    this.fitFn = null;
    if (snapshot) {
      for (const [k, x] of snapshot) this.v(k).assign(x);
      tf.dispose([...snapshot.values()]);
    } else bestEpoch = epoch - 1;
    opt.dispose();
    this.zeroColdIdTerms(d);
    return { epochs: epoch, lossCurve, validationCurve, bestEpoch, seconds: (Date.now() - t0) / 1000 };
  }

  /** Cold items carry no ID signal: their b_i / g_i / q_i are zero (section 3, cold-start). */
  private zeroColdIdTerms(d: TrainingData): void {
    const warm = new Float32Array(d.numItems);
    for (const l of d.train) for (const i of l) warm[i] = 1;
    tf.tidy(() => {
      const m = tf.tensor1d(warm);
      for (const name of ['bi', 'gi', 'Q']) {
        const x = this.vars.get(name);
        if (!x) continue;
        x.assign(x.rank === 1 ? x.mul(m) : x.mul(m.reshape([-1, 1])));
      }
    });
  }

  private step(opt: tf.Optimizer, varList: tf.Variable[], b: [number, number][], neg: Int32Array, epoch: number): number {
    const cfg = this.config;
    const ut = tf.tensor1d(Int32Array.from(b, (p) => p[0]), 'int32');
    const pt = tf.tensor1d(Int32Array.from(b, (p) => p[1]), 'int32');
    const nt = tf.tensor1d(neg, 'int32');
    const fp = this.visual ? tf.gather(this.fitFn!, pt) : null;
    const fn = this.visual ? tf.gather(this.fitFn!, nt) : null;
    const bpr = (a: tf.Tensor2D | null, c: tf.Tensor2D | null) => tf.softplus(this.pairScore(ut, nt, c).sub(this.pairScore(ut, pt, a))).mean();
    // AMR (section 3): Delta = eps g / ||g|| per item, g = dL_BPR/df, held constant in the update.
    let dp: tf.Tensor2D | null = null;
    let dn: tf.Tensor2D | null = null;
    if (this.kind === 'amr' && epoch >= cfg.amrWarmup) {
      [dp, dn] = tf.tidy(() => {
        const g = tf.grads((a: tf.Tensor, c: tf.Tensor) => bpr(a as tf.Tensor2D, c as tf.Tensor2D))([fp!, fn!]);
        const unit = (x: tf.Tensor) => x.div(x.norm('euclidean', 1, true).add(1e-12)).mul(cfg.amrEps) as tf.Tensor2D;
        return [unit(g[0]!), unit(g[1]!)];
      });
    }
    const l = opt.minimize(() => {
      let loss = bpr(fp, fn);
      if (dp && dn) loss = loss.add(bpr(fp!.add(dp), fn!.add(dn)).mul(cfg.amrLambda));
      // L2 weight decay: per-sample on the embedding rows used in this batch (mean over the batch),
      // and once per step on the shared visual maps E, b' (not divided by the batch size).
      let rowReg = tf.scalar(0);
      let sharedReg = tf.scalar(0);
      for (const [name, x] of this.vars) {
        if (name === 'a' || name === 'L') continue;
        const idx = ['bu', 'P', 'gu', 'tu'].includes(name) ? ut : ['bi', 'Q', 'gi'].includes(name) ? tf.concat([pt, nt]) : null;
        if (idx) rowReg = rowReg.add(tf.gather(x, idx).square().sum());
        else sharedReg = sharedReg.add(x.square().sum());
      }
      return loss.add(rowReg.mul(cfg.weightDecay / b.length)).add(sharedReg.mul(cfg.weightDecay)) as tf.Scalar;
    }, true, varList)!;
    const out = l.dataSync()[0]!;
    tf.dispose([ut, pt, nt, l, fp, fn, dp, dn].filter((x) => x !== null) as tf.Tensor[]);
    return out;
  }

  private async validationHr(users: number[], validation: Int32Array): Promise<number> {
    let hits = 0;
    const all = tf.tensor1d(Int32Array.from({ length: this.numItems }, (_, i) => i), 'int32');
    for (let s = 0; s < users.length; s += 256) {
      const b = users.slice(s, s + 256);
      // score(b, all items) on the features preprocessed once for this fit
      const m = tf.tidy(() => scoreMatrix(this.scoreTerms(tf.tensor1d(Int32Array.from(b), 'int32'), all, this.fitFn)));
      const d = await m.data();
      m.dispose();
      b.forEach((u, r) => {
        const row = d.subarray(r * this.numItems, (r + 1) * this.numItems);
        const t = validation[u]!;
        const x = row[t]!;
        let rank = 0;
        const seen = this.seen[u]!;
        for (let i = 0; i < row.length && rank < 10; i++) if (row[i]! > x && i !== t && !seen.has(i)) rank++;
        if (rank < 10) hits++;
      });
    }
    all.dispose();
    return hits / Math.max(1, users.length);
  }

  score(users: Int32Array, items: Int32Array): tf.Tensor2D {
    for (const i of items) if (i < 0 || i >= this.numItems) throw new InputError(`item index ${i} out of range (model has ${this.numItems} items)`);
    if (!this.visual) return tf.tidy(() => this.scoreWithFeatures(users, items, tf.zeros([0, 0]) as tf.Tensor2D));
    for (const u of users) if (u < 0 || u >= this.numUsers) throw new InputError(`user index ${u} out of range (model has ${this.numUsers} users)`);
    this.scoreFn ??= tf.keep(this.preprocess(this.feats!));
    const fn = this.scoreFn;
    return tf.tidy(() => scoreMatrix(this.scoreTerms(tf.tensor1d(users, 'int32'), tf.tensor1d(items, 'int32'), tf.gather(fn, tf.tensor1d(items, 'int32')))));
  }

  /** Scores of aligned pairs, s(users[k], items[k]), on the fitted features: the form BPR trains on. */
  scorePairs(users: Int32Array, items: Int32Array): tf.Tensor1D {
    if (users.length !== items.length) throw new InputError(`scorePairs: ${users.length} users for ${items.length} items (pairs must align)`);
    for (const i of items) if (i < 0 || i >= this.numItems) throw new InputError(`item index ${i} out of range (model has ${this.numItems} items)`);
    for (const u of users) if (u < 0 || u >= this.numUsers) throw new InputError(`user index ${u} out of range (model has ${this.numUsers} users)`);
    return tf.tidy(() => {
      const it = tf.tensor1d(items, 'int32');
      return this.pairScore(tf.tensor1d(users, 'int32'), it, this.visual ? this.norm(tf.gather(this.feats!, it)) : null);
    });
  }

  scoreWithFeatures(users: Int32Array, items: Int32Array, features: tf.Tensor2D): tf.Tensor2D {
    if (this.visual) this.checkFeatures(features, items.length, `${this.kind} scoreWithFeatures`);
    for (const u of users) if (u < 0 || u >= this.numUsers) throw new InputError(`user index ${u} out of range (model has ${this.numUsers} users)`);
    return tf.tidy(() => scoreMatrix(this.scoreTerms(tf.tensor1d(users, 'int32'), tf.tensor1d(items, 'int32'), this.visual ? this.norm(features) : null)));
  }

  setItemFeatures(features: tf.Tensor2D): void {
    if (!this.visual) return;
    this.checkFeatures(features, this.numItems, `${this.kind} setItemFeatures`);
    this.setFeaturesInternal(features);
  }

  async rank(user: number, k: number, excludeSeen: boolean): Promise<number[]> {
    const s = this.score(Int32Array.of(user), Int32Array.from({ length: this.numItems }, (_, i) => i));
    const row = await s.data();
    s.dispose();
    const seen = this.seen[user] ?? new Set<number>();
    const idx: number[] = [];
    for (let i = 0; i < this.numItems; i++) if (!excludeSeen || !seen.has(i)) idx.push(i);
    return idx.sort((a, b) => row[b]! - row[a]! || a - b).slice(0, k);
  }

  /** Items in user u's training set. */
  trainItems(user: number): ReadonlySet<number> {
    return this.seen[user] ?? new Set();
  }

  /** Write the fitted model as a model folder (src/core/weights.ts), replacing `dir` atomically. */
  async save(dir: string): Promise<void> {
    const named: [string, tf.Tensor | HostTensor][] = [...this.vars];
    if (this.feats) named.push(['__feats', this.feats], ['__fMean', this.fMean!], this.fProj ? ['__fProj', this.fProj] : ['__fStd', this.fStd!]);
    const offsets = new Int32Array(this.seen.length + 1);
    this.seen.forEach((s, u) => (offsets[u + 1] = offsets[u]! + s.size));
    const items = Int32Array.from(this.seen.flatMap((s) => [...s]));
    named.push(['__seenOffsets', { shape: [offsets.length], data: offsets }], ['__seenItems', { shape: [items.length], data: items }]);
    if (this.itemCat) named.push(['__itemCategory', { shape: [this.itemCat.length], data: Int32Array.from(this.itemCat) }]);
    const config: SavedConfig = { victim: this.kind, recommender: this.config, numUsers: this.numUsers, numItems: this.numItems, featureDim: this.featureDim, numCategories: this.numCategories };
    await writeDirAtomic(dir, (tmp) => saveModel(tmp, { kind: 'recommender', config, tensors: named }));
  }

  /** Restore from a folder written by `save` (see `loadRecommender`). */
  static async load(dir: string): Promise<LatentRecommender> {
    const file = await loadModel<SavedConfig>(dir, 'recommender');
    const cfg = file.config;
    if (!(cfg.victim in PARAMS)) throw new InputError(`unknown recommender kind '${String(cfg.victim)}'`, path.join(dir, MANIFEST_FILE));
    const m = new LatentRecommender(cfg.victim, cfg.recommender);
    m.numUsers = cfg.numUsers;
    m.numItems = cfg.numItems;
    m.featureDim = cfg.featureDim;
    m.numCategories = cfg.numCategories;
    const offsets = requireTensor(file, '__seenOffsets', dir, [cfg.numUsers + 1]).data;
    const items = requireTensor(file, '__seenItems', dir).data;
    m.seen = Array.from({ length: cfg.numUsers }, (_, u) => new Set(items.subarray(offsets[u]!, offsets[u + 1]!)));
    const cat = file.tensors.get('__itemCategory');
    if (cat) {
      m.itemCat = Int32Array.from(cat.data);
      m.catT = tf.keep(tf.tensor1d(m.itemCat, 'int32'));
    }
    if (m.visual) {
      m.feats = toTensor(requireTensor(file, '__feats', dir, [cfg.numItems, cfg.featureDim])) as tf.Tensor2D;
      m.fMean = toTensor(requireTensor(file, '__fMean', dir)) as tf.Tensor2D;
      const proj = file.tensors.get('__fProj');
      if (proj) m.fProj = toTensor(proj) as tf.Tensor2D;
      else m.fStd = toTensor(requireTensor(file, '__fStd', dir)) as tf.Tensor2D;
    }
    const shapes = m.shapes();
    for (const name of PARAMS[m.kind]) {
      const x = toTensor(requireTensor(file, name, dir, shapes[name]));
      m.vars.set(name, tf.variable(x, true, `${m.kind}-${name}-${nextVarId++}`));
      x.dispose();
    }
    return m;
  }

  dispose(): void {
    tf.dispose([...this.vars.values()]);
    this.vars.clear();
    tf.dispose([this.feats, this.fMean, this.fStd, this.fProj, this.fitFn, this.scoreFn, this.catT].filter((x) => x !== null) as tf.Tensor[]);
    this.feats = this.fMean = this.fStd = this.fProj = this.fitFn = this.scoreFn = null;
    this.catT = null;
  }
}

export function createRecommender(kind: VictimKind, config: Partial<RecommenderConfig> = {}): LatentRecommender {
  if (!(kind in PARAMS)) throw new ConfigError(`unknown recommender kind "${String(kind)}" (bpr-mf, vbpr, deepstyle, amr)`);
  return new LatentRecommender(kind, config);
}

export function loadRecommender(dir: string): Promise<LatentRecommender> {
  return LatentRecommender.load(dir);
}
