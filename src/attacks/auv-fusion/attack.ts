/**
 * AUV-Fusion (spec section 7): a preference-driven latent perturbation injected mid-way through a
 * deterministic DDIM chain.
 *
 * Design decision (documented in the report): with the default group U = all training users, e_U
 * (eq. 1) is one vector for every target, so MLP_phi(e_U) (eq. 2) is one *universal* latent
 * perturbation shared by all targets; per-target differences come from each target's own latent
 * z0 (and its noise) passing through the same DDIM chain, and from the optional per-image
 * refinement (eq. 7). The 'top-n' group gives each target its own e_U (its top-N users under the
 * surrogate), and 'per-image' replaces the MLP with a free delta per target.
 *
 * Threat model: interactions, images, the attacker's surrogate encoder G, semantic encoder C,
 * surrogate recommender and diffusion model. Never the victim: reading it throws KnowledgeError.
 */
import * as tf from '@tensorflow/tfjs';
import { ConfigError, InputError } from '../../core/errors.js';
import { fastAdam } from '../../core/kernels/adam.js';
import { Progress } from '../../core/progress.js';
import { cosineRows } from '../../core/similarity.js';
import { Rng } from '../../core/rng.js';
import { loadImageBatch } from '../../data/dataset.js';
import { allItemFeatures } from '../../encoders/features.js';
import { ssim } from '../../evaluation/image-metrics.js';
import type { ImageEncoder } from '../../encoders/encoder.js';
import { PreferenceEncoder } from '../../preference/model.js';
import type { Attack, AttackContext, AttackResult, AttackStepLog } from '../attack.js';
import { chainGrad, chainPlan, decodeImage, noisyLatent, runChain, type ChainModel, type ChainPlan } from '../../diffusion/chain.js';
import { auvFusionParams, type AuvFusionParams } from './config.js';
import { toChainModel } from './diffusion-adapter.js';
import { optimizeSsimConstrained, projectSsimFloor } from '../ssim-constraint.js';
import { DeltaMlp } from './generator.js';
import { groupMeans, marginBatch, marginHits, marginLoss, marginLossPerTarget, targetGroups, userThresholds, type MarginBatch } from './objective.js';

/** What the attack accepts as its surrogate recommender: one encoder, or one per view. */
export type SurrogateHandle = PreferenceEncoder | Partial<Record<'both' | 'id' | 'visual', PreferenceEncoder>>;

/** Per-target tensors prepared once (all NHWC). */
interface Prepared {
  items: number[];
  x0: tf.Tensor4D;
  /** C(x0). */
  sem0: tf.Tensor2D;
  /** Normalised e_U per target (eq. 1). */
  eU: tf.Tensor2D;
  /** z_t (eq. 3), latent space only. */
  zt: tf.Tensor4D | null;
  /** D(chain(z_t)), the clean round trip, for the residual composition (latent space only). */
  xRef: tf.Tensor4D | null;
  /** Group embeddings and thresholds of the margin objective. */
  margin: MarginBatch | null;
}

/** Rows `idx` of a tensor along axis 0 (tf.gather; gradients are not needed here). */
function rows<T extends tf.Tensor>(t: T, idx: number[]): T {
  return tf.tidy(() => tf.gather(t, tf.tensor1d(idx, 'int32')) as T);
}

/** Pick (or train, from public data only) the preference encoder of the requested view. */
async function resolvePreference(ctx: AttackContext, view: AuvFusionParams['views'], rng: Rng): Promise<PreferenceEncoder> {
  const h = ctx.surrogateRecommender<SurrogateHandle>();
  if (h instanceof PreferenceEncoder) {
    if (h.config.views === view) return h;
  } else if (h && typeof h === 'object') {
    const m = h[view];
    if (m) return m;
  }
  const base = h instanceof PreferenceEncoder ? h : (Object.values(h ?? {})[0] as PreferenceEncoder | undefined);
  if (!base) throw new ConfigError(`attack 'auv-fusion': the surrogate recommender handle holds no PreferenceEncoder`);
  // train the requested view on the same public data with the same settings
  const ds = ctx.dataset();
  const G = ctx.surrogateEncoder();
  const numItems = ds.itemIds.length;
  const { data: features } = await allItemFeatures(G, ctx.images(), numItems, 64);
  const train = ctx.trainInteractions();
  const { model } = await PreferenceEncoder.fit(
    { numUsers: train.length, numItems, train, features, featDim: G.description.featureDim, excludedNegatives: new Set(ds.targets) },
    { ...base.config, views: view },
    rng.fork(`surrogate-${view}`),
  );
  return model;
}

/** e_U per target (eq. 1): normalised mean of e_u over the target's user group (objective.ts). */
export function groupEmbeddings(pref: PreferenceEncoder, p: AuvFusionParams, targets: readonly number[], train: readonly (readonly number[])[], rng?: Rng): Float32Array {
  const groups = targetGroups(p, targets, train, pref.userEmbeddingArray(), pref.config.dim, (i) => pref.itemVector(i), rng ?? new Rng(0));
  return groupMeans(pref.userEmbeddingArray(), pref.config.dim, groups);
}

export class AuvFusionAttack implements Attack {
  readonly threat = {
    knows: ['interactions', 'images', 'surrogateEncoder', 'semanticEncoder', 'surrogateRecommender', 'diffusion'] as const,
    norm: 'none' as const,
    budget: null,
  };
  readonly p: AuvFusionParams;
  constructor(
    readonly name: string,
    params: AuvFusionParams,
  ) {
    this.p = params;
  }
  get params(): Readonly<Record<string, unknown>> {
    return this.p;
  }

  async generate(targets: readonly number[], ctx: AttackContext): Promise<AttackResult> {
    const t0 = Date.now();
    const p = this.p;
    const images = ctx.images();
    if (!images.hasPixels) throw new InputError(`attack '${this.name}' needs item images; this dataset has only precomputed features`);
    const train = ctx.trainInteractions();
    const G = ctx.surrogateEncoder();
    const C = ctx.semanticEncoder();
    const rng = ctx.rng.fork('auv-fusion');
    const pref = await resolvePreference(ctx, p.views, rng);
    if (pref.featDim !== G.description.featureDim) {
      throw new ConfigError(`surrogate recommender was trained on ${pref.featDim}-dim features but the surrogate encoder gives ${G.description.featureDim}`);
    }
    const model: ChainModel | null = p.space === 'latent' ? toChainModel(ctx.diffusion()) : null;
    const plan: ChainPlan | null = model ? chainPlan(model, p.ddimSteps, p.injectIndex!) : null;
    const size = images.size;
    const d = pref.config.dim;
    const out = new Map<number, Float32Array>();
    if (targets.length === 0) return { images: out, log: [], seconds: 0 };

    // U and e_U per target (eq. 1), tau_u for the margin objective, the projection P (eq. 6)
    const E = pref.userEmbeddingArray();
    const groups = targetGroups(p, targets, train, E, d, (i) => pref.itemVector(i), rng.fork('groups'));
    const eUAll = groupMeans(E, d, groups);
    const tau = p.objective === 'margin' ? userThresholds(pref, groups.flat(), train, p.marginK) : null;
    const proj = pref.projection();
    const deltaShape: number[] = model ? [...model.latentShape] : [size, size, 3];
    const run = new GenerateRun(this.name, p, t0, { G, C, pref, proj, model, plan, size, d, deltaShape });
    const ops = run.ops();
    const prep = await run.prepare(targets, ctx, { groups, eUAll, tau }, ops);
    const finalDelta = await run.optimise(prep, ops, rng);
    await run.refine(prep, finalDelta, ops);
    await run.finalImages(prep, finalDelta, ops, out);
    run.dispose(prep, finalDelta);
    return { images: out, log: run.log, seconds: (Date.now() - t0) / 1000 };
  }
}

/** The attacker's models and the shapes one generate() call works with. */
interface RunModels {
  G: ImageEncoder;
  C: ImageEncoder;
  pref: PreferenceEncoder;
  /** P (eq. 6), owned by the run. */
  proj: tf.Tensor2D;
  model: ChainModel | null;
  plan: ChainPlan | null;
  size: number;
  d: number;
  deltaShape: number[];
}

type RunOps = ReturnType<GenerateRun['ops']>;

/**
 * One generate() call, in phases: prepare every target (x0, C(x0), z_t), optimise delta (the MLP of
 * eq. 7, or a free delta per image), refine it per image, render the final images with the SSIM
 * floor and log the reference statistics. `ops()` holds the operations the phases share (rendering,
 * the loss of eq. 6, its gradient through the chain, an Adam step).
 */
class GenerateRun {
  readonly log: AttackStepLog[] = [];

  constructor(
    readonly name: string,
    readonly p: AuvFusionParams,
    readonly t0: number,
    readonly m: RunModels,
  ) {}

  ops() {
    const { p, t0, log } = this;
    const { model, plan, size, pref, G, C, proj } = this.m;
    /** D(chain(z)) without gradients. */
    const render0 = (z: tf.Tensor4D): tf.Tensor4D => {
      const z0 = runChain(model!, plan!, z);
      const x = decodeImage(model!, z0, size);
      z0.dispose();
      return x;
    };
    /** The output image for a decoded chain output xDec: residual composition or full regeneration. */
    const compose = (b: Prepared, xDec: tf.Tensor4D): tf.Tensor4D =>
      b.xRef ? (tf.tidy(() => tf.clipByValue(tf.add(b.x0, tf.sub(xDec, b.xRef!)), 0, 1)) as tf.Tensor4D) : xDec;

    // eq. 6: L = l1 L_CLIP + l2 L_SSIM + l3 L_align, per batch mean; returns [total, clip, ssim, align]
    const lossFn = (b: Prepared, x: tf.Tensor4D): tf.Scalar[] => {
      const lClip = tf.mean(tf.sub(1, cosineRows(C.encode(x), b.sem0))) as tf.Scalar;
      const lSsim = tf.mean(tf.sub(1, ssim(x, b.x0))) as tf.Scalar;
      const h = pref.project(G.encode(x), proj);
      const lAlign = b.margin ? marginLoss(b.margin, h, p.temperature) : (tf.mean(tf.sub(1, cosineRows(h, b.eU))) as tf.Scalar);
      const total = tf.addN([tf.mul(lClip, p.l1), tf.mul(lSsim, p.l2), tf.mul(lAlign, p.l3)]) as tf.Scalar;
      return [total, lClip, lSsim, lAlign];
    };

    /** x_adv for a delta (no gradient), eqs. 4-5 or the pixel ablation. */
    const render = (b: Prepared, delta: tf.Tensor4D | null): tf.Tensor4D => {
      if (model && plan && b.zt) {
        if (!delta && b.xRef) return tf.clone(b.x0);
        const zt = delta ? tf.tidy(() => tf.add(b.zt!, tf.mul(delta, p.eta)) as tf.Tensor4D) : tf.clone(b.zt);
        const xDec = render0(zt);
        const x = compose(b, xDec);
        if (x !== xDec) xDec.dispose();
        zt.dispose();
        return x;
      }
      return tf.tidy(() => (delta ? tf.clipByValue(tf.add(b.x0, tf.mul(delta, p.pixelScale * p.eta)), 0, 1) : tf.clone(b.x0)) as tf.Tensor4D);
    };

    /** SSIM-shaped pixel refinement of a rendered x (ssimRefineSteps): starts from x - x0, meets the floor. */
    const ssimRefine = (b: Prepared, x: tf.Tensor4D): Promise<tf.Tensor4D> => {
      const init = tf.sub(x, b.x0) as tf.Tensor4D;
      const objective = (xi: tf.Tensor4D): tf.Tensor1D => {
        const h = pref.project(G.encode(xi), proj);
        return (b.margin ? tf.neg(marginLossPerTarget(b.margin, h, p.temperature)) : cosineRows(h, b.eU)) as tf.Tensor1D;
      };
      const out = optimizeSsimConstrained(b.x0, objective, { floor: p.ssimFloor, steps: p.ssimRefineSteps, lr: p.ssimRefineLr ?? 0.02, grid: size, init });
      return out.finally(() => init.dispose());
    };

    /**
     * x_adv for the final delta; with ssimFloor > 0 and ssimRefineSteps > 0 (the default) the
     * SSIM-shaped refinement meets the floor; with ssimRefineSteps 0 each target whose SSIM to x0 is
     * below the floor gets its delta halved (up to 6 times; then delta = 0, which is x0 itself under the residual
     * composition), or with floorMode 'project' gets its pixel difference x_adv - x0 scaled onto the
     * floor. Returns the per-target scales applied.
     */
    const renderWithFloor = async (b: Prepared, delta: tf.Tensor4D): Promise<{ x: tf.Tensor4D; scale: number[] }> => {
      const scale = b.items.map(() => 1);
      let x = render(b, delta);
      if (p.ssimFloor <= 0) return { x, scale };
      if (p.ssimRefineSteps > 0 && p.l3 > 0 && (b.xRef || !model)) {
        const r = await ssimRefine(b, x);
        x.dispose();
        return { x: r, scale };
      }
      if (p.floorMode === 'project' && (b.xRef || !model)) {
        const r = await projectSsimFloor(x, b.x0, p.ssimFloor);
        x.dispose();
        return r;
      }
      for (let round = 0; round <= 6; round++) {
        const sv = tf.tidy(() => ssim(x, b.x0));
        const vals = Array.from(await sv.data());
        sv.dispose();
        const low = vals.map((v) => v < p.ssimFloor);
        if (!low.some((l) => l)) break;
        low.forEach((l, q) => l && (scale[q] = round === 6 ? 0 : scale[q]! / 2));
        const scaled = tf.tidy(() => tf.mul(delta, tf.tensor4d(scale, [scale.length, 1, 1, 1])) as tf.Tensor4D);
        x.dispose();
        x = render(b, scaled);
        scaled.dispose();
      }
      return { x, scale };
    };

    /** dL/d delta for batch b at `delta` (eq. 6 through eqs. 4-5), plus the loss parts. */
    const deltaGrad = async (b: Prepared, delta: tf.Tensor4D): Promise<{ g: tf.Tensor4D; parts: number[] }> => {
      if (model && plan && b.zt) {
        const zt = tf.tidy(() => tf.add(b.zt!, tf.mul(delta, p.eta)) as tf.Tensor4D);
        const r = await chainGrad(model, plan, zt, size, (x) => lossFn(b, compose(b, x)));
        const g = tf.tidy(() => tf.mul(r.gradZt, p.eta) as tf.Tensor4D);
        tf.dispose([zt, r.gradZt, r.image]);
        return { g, parts: r.parts };
      }
      let partsT: tf.Tensor1D | null = null;
      const g = tf.grad((dl: tf.Tensor) => {
        const x = tf.clipByValue(tf.add(b.x0, tf.mul(dl, p.pixelScale * p.eta)), 0, 1) as tf.Tensor4D;
        const o = lossFn(b, x);
        partsT = tf.keep(tf.stack(o.map((s) => tf.clone(s))) as tf.Tensor1D);
        return o[0]!;
      })(delta) as tf.Tensor4D;
      const pt = partsT as unknown as tf.Tensor1D;
      const parts = Array.from(await pt.data());
      pt.dispose();
      return { g, parts };
    };

    /** One Adam step on `vars`, where delta = deltaFn() is differentiable in vars (eq. 7). */
    const step = async (b: Prepared, deltaFn: () => tf.Tensor4D, vars: tf.Variable[], opt: tf.Optimizer): Promise<number[]> => {
      const delta = tf.tidy(deltaFn);
      const { g, parts } = await deltaGrad(b, delta);
      const penT = tf.tidy(() => tf.mean(tf.square(delta)));
      const pen = (await penT.data())[0]!;
      penT.dispose();
      const { grads, value } = tf.variableGrads(
        () => tf.tidy(() => {
          const dl = deltaFn();
          // sum(delta * dL/ddelta) has the chain's gradient; plus the L2 penalty on delta (eq. 6)
          return tf.add(tf.sum(tf.mul(dl, g)), tf.mul(tf.mean(tf.square(dl)), p.penalty)) as tf.Scalar;
        }),
        vars,
      );
      opt.applyGradients(grads);
      tf.dispose([delta, g, value, ...Object.values(grads)]);
      const total = parts[0]! + p.penalty * pen;
      return [total, parts[1]!, parts[2]!, parts[3]!, pen];
    };

    const pushLog = (stepNo: number, parts: number[], extra: Record<string, number> = {}): void => {
      log.push({ step: stepNo, total: parts[0]!, L_CLIP: parts[1]!, L_SSIM: parts[2]!, L_align: parts[3]!, deltaMs: parts[4]!, seconds: (Date.now() - t0) / 1000, ...extra });
    };

    return { render0, compose, lossFn, render, renderWithFloor, deltaGrad, step, pushLog };
  }

  /** Every target's prepared tensors, in batches of p.batchSize. */
  async prepare(targets: readonly number[], ctx: AttackContext, g: { groups: number[][]; eUAll: Float32Array; tau: ReadonlyMap<number, number> | null }, ops: RunOps): Promise<Prepared[]> {
    const { p } = this;
    const { model, plan, pref, C, d } = this.m;
    const { groups, eUAll, tau } = g;
    const { render0 } = ops;
    const images = ctx.images();
    // prepare every target once: x0, C(x0), z_t (eq. 3) with noise from the run's seed per target
    const prep: Prepared[] = [];
    for (let s = 0; s < targets.length; s += p.batchSize) {
      const items = targets.slice(s, s + p.batchSize);
      const x0 = await loadImageBatch(images, items);
      const sem0 = tf.tidy(() => C.encode(x0));
      const eU = tf.tensor2d(eUAll.subarray(s * d, (s + items.length) * d), [items.length, d]);
      let zt: tf.Tensor4D | null = null;
      if (model && plan) {
        const [h, w, c] = model.latentShape;
        const noise = new Float32Array(items.length * h * w * c);
        items.forEach((it, k) => noise.set(ctx.rng.fork('auv-noise').fork(String(it)).normalArray(h * w * c), k * h * w * c));
        zt = tf.tidy(() => noisyLatent(model.encode(x0), tf.tensor4d(noise, [items.length, h, w, c]), plan.alphaBar));
      }
      const xRef = zt && model && plan && p.compose === 'residual' ? render0(zt) : null;
      const margin = tau ? marginBatch(pref, items, groups.slice(s, s + items.length), tau) : null;
      prep.push({ items: [...items], x0, sem0, eU, zt, xRef, margin });
    }
    return prep;
  }

  /** The final delta of every prepared batch: the MLP trained over minibatches (eq. 7), or a free delta per batch. */
  async optimise(prep: readonly Prepared[], ops: RunOps, rng: Rng): Promise<tf.Tensor4D[]> {
    const { p } = this;
    const { d, deltaShape } = this.m;
    const { step, pushLog } = ops;
    // final deltas per prepared batch (tensors), from the MLP or free optimisation
    const finalDelta: tf.Tensor4D[] = [];
    const batchRng = rng.fork('batches');
    if (p.generator === 'mlp') {
      const mlp = new DeltaMlp(d, p.hidden, deltaShape, rng.fork('mlp'), p.outInitStd);
      const opt = fastAdam(p.lr);
      const progress = new Progress(this.name, p.steps);
      // amortised training over minibatches of targets (eq. 7); the prepared batches are the minibatches
      let order: number[] = [];
      for (let s = 0; s < p.steps; s++) {
        if (order.length === 0) order = batchRng.shuffle(prep.map((_, k) => k));
        const b = prep[order.pop()!]!;
        const parts = await step(b, () => mlp.apply(b.eU) as tf.Tensor4D, mlp.vars, opt);
        pushLog(s, parts, { targets: b.items.length });
        progress.tick(1, `L_align ${parts[3]!.toFixed(4)} total ${parts[0]!.toFixed(4)}`);
      }
      progress.finish();
      opt.dispose();
      for (const b of prep) finalDelta.push(tf.tidy(() => mlp.apply(b.eU) as tf.Tensor4D));
      mlp.dispose();
    } else {
      // per-image ablation: a free delta = tanh(w) per target, `steps` Adam steps per batch
      const progress = new Progress(this.name, p.steps * prep.length);
      let s = 0;
      for (const b of prep) {
        const w0 = tf.zeros([b.items.length, ...deltaShape]);
        const w = tf.variable(w0, true);
        w0.dispose();
        const opt = fastAdam(p.lr);
        for (let k = 0; k < p.steps; k++, s++) {
          const parts = await step(b, () => tf.tanh(w) as tf.Tensor4D, [w], opt);
          pushLog(s, parts, { targets: b.items.length });
          progress.tick(1, `L_align ${parts[3]!.toFixed(4)}`);
        }
        finalDelta.push(tf.tidy(() => tf.tanh(w) as tf.Tensor4D));
        opt.dispose();
        w.dispose();
      }
      progress.finish();
    }
    return finalDelta;
  }

  /** Per-image refinement (refineSteps > 0): finalDelta[k] becomes delta + r_k. */
  async refine(prep: readonly Prepared[], finalDelta: tf.Tensor4D[], ops: RunOps): Promise<void> {
    const { p, log } = this;
    const { step, pushLog } = ops;
    // optional per-image refinement delta_i = delta_mlp + r_i (eq. 7)
    if (p.refineSteps > 0) {
      let s = log.length;
      for (let k = 0; k < prep.length; k++) {
        const b = prep[k]!;
        const base = finalDelta[k]!;
        const r0 = tf.zerosLike(base);
        const r = tf.variable(r0, true);
        r0.dispose();
        const opt = fastAdam(p.refineLr);
        for (let q = 0; q < p.refineSteps; q++, s++) {
          const parts = await step(b, () => tf.add(base, r) as tf.Tensor4D, [r], opt);
          pushLog(s, parts, { refine: 1, targets: b.items.length });
        }
        finalDelta[k] = tf.tidy(() => tf.add(base, r) as tf.Tensor4D);
        base.dispose();
        r.dispose();
        opt.dispose();
      }
    }

  }

  /** The adversarial images into `out`, and the final log entry of reference statistics. */
  async finalImages(prep: readonly Prepared[], finalDelta: readonly tf.Tensor4D[], ops: RunOps, out: Map<number, Float32Array>): Promise<void> {
    const { log, t0 } = this;
    const { pref, G, proj, size } = this.m;
    const { renderWithFloor, render } = ops;
    // final images (with the SSIM floor's per-target scaling of delta), and reference statistics
    const acc = { ssimAdv: 0, ssimRoundTrip: 0, cosAlignAdv: 0, cosAlignRoundTrip: 0, cosAlignClean: 0, groupHitsAdv: 0, groupHitsClean: 0, deltaScale: 0 };
    let n = 0;
    for (let k = 0; k < prep.length; k++) {
      const b = prep[k]!;
      const { x: xAdv, scale } = await renderWithFloor(b, finalDelta[k]!);
      const xRec = b.xRef ? tf.clone(b.xRef) : render(b, null);
      const stats = tf.tidy(() => {
        const hAdv = pref.project(G.encode(xAdv), proj);
        const hClean = pref.project(G.encode(b.x0), proj);
        const al = (h: tf.Tensor2D) => tf.sum(cosineRows(h, b.eU));
        const hits = (h: tf.Tensor2D) => (b.margin ? tf.mul(marginHits(b.margin, h), b.items.length) : tf.scalar(NaN));
        return tf.stack([tf.sum(ssim(xAdv, b.x0)), tf.sum(ssim(xRec, b.x0)), al(hAdv), al(pref.project(G.encode(xRec), proj)), al(hClean), hits(hAdv), hits(hClean)]);
      });
      const sv = await stats.data();
      (['ssimAdv', 'ssimRoundTrip', 'cosAlignAdv', 'cosAlignRoundTrip', 'cosAlignClean', 'groupHitsAdv', 'groupHitsClean'] as const).forEach((key, q) => (acc[key] += sv[q]!));
      acc.deltaScale += scale.reduce((a, v) => a + v, 0);
      n += b.items.length;
      const px = (await xAdv.data()) as Float32Array;
      const per = size * size * 3;
      b.items.forEach((it, q) => out.set(it, px.slice(q * per, (q + 1) * per)));
      tf.dispose([xAdv, xRec, stats]);
    }
    log.push({ step: log.length, final: 1, ...Object.fromEntries(Object.entries(acc).map(([key, v]) => [key, v / n])), seconds: (Date.now() - t0) / 1000 });

  }

  dispose(prep: readonly Prepared[], finalDelta: tf.Tensor4D[]): void {
    for (const b of prep) {
      tf.dispose([b.x0, b.sem0, b.eU, ...(b.zt ? [b.zt] : []), ...(b.xRef ? [b.xRef] : [])]);
      if (b.margin) tf.dispose([b.margin.E, b.margin.tau, b.margin.w, b.margin.eid]);
    }
    tf.dispose(finalDelta);
    this.m.proj.dispose();
  }
}

/** Factory used by the registry: `createAuvFusionAttack(params, 'no-align')`. */
export function createAuvFusionAttack(params: Record<string, unknown> = {}, variant?: string): Attack {
  const p = auvFusionParams(params, variant);
  return new AuvFusionAttack(variant ? `auv-fusion/${variant}` : 'auv-fusion', p);
}
