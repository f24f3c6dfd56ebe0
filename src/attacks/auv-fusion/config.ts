/**
 * AUV-Fusion parameters (spec section 7), named ablation variants and the sweep helper.
 * Defaults the paper does not give (l1, l2, l3, lr, steps) are fixed here and documented.
 */
import { z } from 'zod';
import { ConfigError } from '../../core/errors.js';
import { parseParams } from '../projection.js';

export const auvFusionSchema = z.object({
  /** Loss weights of eq. 6: L = l1 L_CLIP + l2 L_SSIM + l3 L_align + penalty ||delta||^2. */
  l1: z.number().min(0).default(0.5),
  l2: z.number().min(0).default(0.3),
  l3: z.number().min(0).default(1.0),
  /** Weight of the mean-square penalty on delta (eq. 6, "small L2 penalty"). */
  penalty: z.number().min(0).default(1e-3),
  /** Injection strength eta of eq. 4. */
  eta: z.number().min(0).default(1.0),
  /** DDIM steps n (eq. 5) and the injection index (default floor(n/2) for 'regenerate', floor(3n/4) for 'residual'; eq. 3). */
  ddimSteps: z.number().int().min(1).max(1000).default(50),
  injectIndex: z.number().int().min(0).optional(),
  /**
   * Target user group U (eq. 1; objective.ts): all training users (the paper's default, and ours:
   * on `default` the surrogate's own HR@k over all users is higher along the all-user direction than
   * along any per-target group's at every norm, README "AUV-Fusion"), the top-N users by the
   * surrogate's score of the clean target, the k-means cluster of e_u whose centroid scores it
   * highest, or an explicit segment.
   */
  group: z.enum(['all', 'top-n', 'cluster', 'segment']).default('all'),
  topN: z.number().int().min(1).default(100),
  clusters: z.number().int().min(1).default(40),
  segment: z.array(z.number().int().min(0)).optional(),
  /**
   * Alignment objective: 'cosine' (the paper's L_align = 1 - cos(P G(x), e_U)) or 'margin'
   * (score-aware: mean over U of T softplus((tau_u - s_u(x)) / T), tau_u the user's marginK-th
   * best clean surrogate score).
   */
  objective: z.enum(['cosine', 'margin']).default('margin'),
  marginK: z.number().int().min(1).default(5),
  temperature: z.number().positive().default(0.1),
  /**
   * Output composition: 'residual' x_adv = clip(x0 + D(chain(z_t + eta delta)) - D(chain(z_t))),
   * which is x0 exactly at delta = 0, or the paper's full regeneration clip(D(chain(z_t + eta delta))).
   */
  compose: z.enum(['residual', 'regenerate']).default('residual'),
  /**
   * Render-time floor on SSIM(x_adv, x0), met by the SSIM-shaped refinement below (or, with
   * ssimRefineSteps 0, by `floorMode`); 0 = off. Default 0.88: the refined images then average SSIM
   * about 0.9, the imperceptibility of round 4's default (halving delta under a 0.8 floor gave 0.89-0.90),
   * so the two compare at equal SSIM (README "AUV-Fusion after issue 14", round 5).
   */
  ssimFloor: z.number().min(0).max(1).default(0.88),
  /**
   * How the floor is met: 'halve-delta' halves delta and re-renders (up to 6 times, then delta = 0);
   * 'project' scales the pixel difference x_adv - x0 to the largest factor in [0,1] that meets the
   * floor, by bisection (issue 14; residual composition or pixel space only, where delta = 0 gives
   * x0: with full regeneration it falls back to 'halve-delta'). Absent = 'halve-delta' (kept out of
   * the parsed parameters so that the attack's cache keys do not change).
   */
  floorMode: z.enum(['halve-delta', 'project']).optional(),
  /**
   * SSIM-shaped pixel refinement (issue 14): after the diffusion render, this many Adam steps on the
   * pixel residual maximise the per-target alignment objective under SSIM(x, x0) >= ssimFloor
   * (src/attacks/ssim-constraint.ts; starts from the rendered residual, replaces floorMode; residual
   * composition or pixel space only, full regeneration keeps the halving; off when l3 = 0, as the
   * refinement optimises the alignment objective alone, which 'no-align' removes). 0 = off (round 4's
   * default: variant 'halve'). On by default since round 5: at equal SSIM it moves the targets
   * further on every victim than halving delta does (README).
   */
  ssimRefineSteps: z.number().int().min(0).default(20),
  ssimRefineLr: z.number().positive().optional(),
  /** Generator: the amortised MLP of eq. 2, or a free per-image delta (ablation 'per-image'). */
  generator: z.enum(['mlp', 'free']).default('mlp'),
  hidden: z.number().int().min(1).default(256),
  /** Where delta acts: the diffusion latent (eqs. 3-5) or pixels directly (ablation 'no-latent'). */
  space: z.enum(['latent', 'pixel']).default('latent'),
  /** Pixel ablation: x_adv = clip(x0 + pixelScale * delta, 0, 1), delta in [-1,1] (tanh). */
  pixelScale: z.number().positive().max(1).default(32 / 255),
  /** Preference view used for e_u and P (ablations 'id-only', 'visual-only'). */
  views: z.enum(['both', 'id', 'visual']).default('both'),
  /** Adam on phi (eq. 7): steps, learning rate, targets per minibatch. */
  steps: z.number().int().min(0).default(20),
  lr: z.number().positive().default(0.01),
  batchSize: z.number().int().min(1).default(8),
  /** Optional per-image refinement of delta after the MLP (eq. 7): Adam steps per target batch. */
  refineSteps: z.number().int().min(0).default(6),
  refineLr: z.number().positive().default(0.02),
  /** Std of the output layer's initial weights (small: training starts near the clean round trip). */
  outInitStd: z.number().min(0).default(1e-3),
});

export type AuvFusionParams = z.infer<typeof auvFusionSchema>;

/** The named ablations (spec section 7) as parameter overrides. */
export const VARIANT_OVERRIDES: Readonly<Record<string, Partial<AuvFusionParams>>> = {
  full: {},
  /** The paper's exact method: global group, cosine L_align, full regeneration, amortised MLP only. */
  paper: { group: 'all', objective: 'cosine', compose: 'regenerate', refineSteps: 0, ssimFloor: 0, ssimRefineSteps: 0 },
  /**
   * The SSIM-shaped refinement at the threshold (SSIM >= 0.8) with twice the default's steps
   * (40: on the tuning seed 4, 20 -> 40 steps doubled VBPR HR@5, README).
   */
  'ssim-refine': { ssimRefineSteps: 40, ssimFloor: 0.8, floorMode: 'project' },
  /** Round 4's default: no refinement, the 0.8 floor met by halving delta. */
  halve: { ssimRefineSteps: 0, ssimFloor: 0.8 },
  cosine: { objective: 'cosine' },
  regenerate: { compose: 'regenerate' },
  'top-n-group': { group: 'top-n' },
  cluster: { group: 'cluster' },
  'no-align': { l3: 0 },
  /** Pixel perturbation within pixelScale (L_inf), without the SSIM-shaped refinement (which is not L_inf-bounded). */
  'no-latent': { space: 'pixel', ssimRefineSteps: 0 },
  'id-only': { views: 'id' },
  'visual-only': { views: 'visual' },
  'per-image': { generator: 'free' },
  refine: { refineSteps: 12 },
  'no-refine': { refineSteps: 0 },
  'top-n': { group: 'top-n' },
};

/** Variant names accepted after 'auv-fusion/' (besides key=value sweeps). */
export const AUV_FUSION_VARIANTS: readonly string[] = Object.keys(VARIANT_OVERRIDES).filter((v) => v !== 'full');

const SWEEPABLE = ['eta', 'l1', 'l2', 'l3', 'ddimSteps', 'injectIndex', 'steps', 'lr', 'topN', 'penalty', 'refineSteps', 'refineLr', 'clusters', 'marginK', 'temperature', 'ssimFloor', 'ssimRefineSteps', 'ssimRefineLr'] as const;

/**
 * Parse a variant: a named ablation ('no-align'), or comma-separated key=value overrides of
 * numeric parameters ('eta=0.5', 'ddimSteps=20,injectIndex=10'), or both joined by '+'
 * ('no-align+eta=0.5').
 */
export function variantOverrides(variant: string | undefined): Partial<AuvFusionParams> {
  if (!variant) return {};
  const out: Record<string, unknown> = {};
  for (const part of variant.split('+')) {
    if (part in VARIANT_OVERRIDES) {
      Object.assign(out, VARIANT_OVERRIDES[part]);
      continue;
    }
    for (const kv of part.split(',')) {
      const m = /^([A-Za-z0-9]+)=(-?[0-9.eE+-]+)$/.exec(kv.trim());
      if (!m || !(SWEEPABLE as readonly string[]).includes(m[1]!)) {
        throw new ConfigError(
          `unknown AUV-Fusion variant '${part}': allowed values are ${AUV_FUSION_VARIANTS.join(', ')} or key=value with key in ${SWEEPABLE.join(', ')}`,
        );
      }
      const v = Number(m[2]);
      if (!Number.isFinite(v)) throw new ConfigError(`AUV-Fusion variant '${kv}': '${m[2]}' is not a number`);
      out[m[1]!] = v;
    }
  }
  return out as Partial<AuvFusionParams>;
}

/** Validate params (with the variant's overrides applied on top). */
export function auvFusionParams(params: Record<string, unknown> = {}, variant?: string): AuvFusionParams {
  const merged = { ...params, ...variantOverrides(variant) };
  const p = parseParams(variant ? `auv-fusion/${variant}` : 'auv-fusion', auvFusionSchema, merged);
  const inj = p.injectIndex ?? Math.floor((p.ddimSteps * (p.compose === 'residual' ? 3 : 2)) / 4);
  if (inj >= p.ddimSteps) throw new ConfigError(`attack 'auv-fusion': parameter 'injectIndex' must be below ddimSteps (${p.ddimSteps}), got ${inj}`);
  if (p.group === 'segment' && (!p.segment || p.segment.length === 0)) {
    throw new ConfigError(`attack 'auv-fusion': group 'segment' needs a non-empty 'segment' list of user indices`);
  }
  return { ...p, injectIndex: inj };
}

/**
 * Expand a parameter grid into attack names: sweepVariants({eta: [0.5, 2], l3: [0, 1]}) ->
 * ['auv-fusion/eta=0.5,l3=0', 'auv-fusion/eta=0.5,l3=1', 'auv-fusion/eta=2,l3=0', ...].
 */
export function sweepVariants(grid: Readonly<Partial<Record<(typeof SWEEPABLE)[number], readonly number[]>>>, base?: string): string[] {
  let combos: string[][] = [[]];
  for (const [k, values] of Object.entries(grid)) {
    if (!(SWEEPABLE as readonly string[]).includes(k)) throw new ConfigError(`cannot sweep '${k}': allowed keys are ${SWEEPABLE.join(', ')}`);
    if (!values || values.length === 0) continue;
    combos = combos.flatMap((c) => values.map((v) => [...c, `${k}=${v}`]));
  }
  return combos.map((c) => 'auv-fusion/' + [base, c.join(',')].filter((s) => s).join('+'));
}
