/**
 * Attack contract shared by AUV-Fusion and the baselines (in the spirit of torchattacks/ART):
 * an attack is an object with a name, validated parameters, a declared threat model (what it
 * knows) and `generate(targets, context)`, which returns adversarial images in [0,1].
 *
 * The context is built by `makeAttackContext`, which only hands over what the attack declares it
 * knows: asking for anything else throws a KnowledgeError, so a black-box attack can never read
 * the victim.
 */
import { KnowledgeError } from '../core/errors.js';
import type { Rng } from '../core/rng.js';
import type { Dataset, ImageSource } from '../data/dataset.js';
import type { ImageEncoder } from '../encoders/encoder.js';
import type { Recommender } from '../recommenders/recommender.js';

/** Pieces of knowledge an attack may be granted. */
export type Knowledge =
  | 'interactions' // public training interactions
  | 'images' // item images
  | 'surrogateEncoder' // the attacker's encoder: the victim's F in tiers public-encoder / white-box, its own G in 'independent'
  | 'semanticEncoder' // the semantic encoder C
  | 'victimEncoder' // the victim's feature extractor F
  | 'victimModel' // the victim recommender's parameters
  | 'surrogateRecommender' // the attacker's preference encoder (trained on public interactions)
  | 'diffusion'; // the attacker's latent diffusion model

/**
 * Threat-model tiers (issue 14). 'public-encoder' (the paper's and AIP's setting, the default): the
 * victim's feature extractor is public, its recommender is not, so `surrogateEncoder` is backed by
 * F. 'independent': the attacker has only its own encoder G (a transfer study). 'white-box': the
 * victim's model and encoder too (INSA). An attack runs in the tier of the experiment when what it
 * declares is inside that tier's knowledge; otherwise (INSA in a black-box tier) it is a
 * white-box reference row.
 */
export const TIERS = ['public-encoder', 'independent', 'white-box'] as const;
export type Tier = (typeof TIERS)[number];

const BLACK_BOX: readonly Knowledge[] = ['interactions', 'images', 'surrogateEncoder', 'semanticEncoder', 'surrogateRecommender', 'diffusion'];

/** Exactly the knowledge a tier grants. */
export function tierKnowledge(tier: Tier): readonly Knowledge[] {
  return tier === 'white-box' ? [...BLACK_BOX, 'victimEncoder', 'victimModel'] : BLACK_BOX;
}

/** The tier an attack runs in within an experiment of tier `tier` (see TIERS). */
export function attackTier(attack: Pick<Attack, 'threat'>, tier: Tier): Tier {
  const granted = new Set(tierKnowledge(tier));
  return attack.threat.knows.every((k) => granted.has(k)) ? tier : 'white-box';
}

export interface ThreatModel {
  knows: readonly Knowledge[];
  /**
   * Perturbation norm and budget; 'ssim' = a floor on SSIM(x_adv, x0) (budget: the floor); for
   * generative attacks, 'none' with a perceptual constraint.
   */
  norm: 'linf' | 'l2' | 'ssim' | 'none';
  /** Budget in [0,1] pixel units (e.g. 32/255), the SSIM floor for 'ssim', or null when the attack has no hard budget. */
  budget: number | null;
}

/** Everything an attack may ask for; each getter throws unless the knowledge was granted. */
export interface AttackContext {
  readonly rng: Rng;
  /** Dataset metadata (ids, categories, targets, training split); needs 'images' or 'interactions'. The held-out validation and test items are withheld (all -1). */
  dataset(): Dataset;
  images(): ImageSource;
  trainInteractions(): readonly (readonly number[])[];
  surrogateEncoder(): ImageEncoder;
  semanticEncoder(): ImageEncoder;
  victimEncoder(): ImageEncoder;
  victimModel(): Recommender;
  /** Opaque handles, typed by the modules that provide them. */
  surrogateRecommender<T = unknown>(): T;
  diffusion<T = unknown>(): T;
}

export interface AttackStepLog {
  step: number;
  [metric: string]: number;
}

export interface AttackResult {
  /** Target item index -> adversarial image (size*size*3 floats in [0,1]). */
  images: Map<number, Float32Array>;
  log: AttackStepLog[];
  seconds: number;
}

export interface Attack {
  /** Identifier used in results and configs ("random", "insa", "auv-fusion/no-align", ...). */
  readonly name: string;
  readonly threat: ThreatModel;
  /** The validated parameters (for the report and the cache key). */
  readonly params: Readonly<Record<string, unknown>>;
  generate(targets: readonly number[], ctx: AttackContext): Promise<AttackResult>;
}

export interface AttackResources {
  rng: Rng;
  dataset: Dataset;
  /** The experiment's tier (default 'public-encoder'): the context grants what the attack declares, within its tier's knowledge. */
  tier?: Tier;
  surrogateEncoder?: ImageEncoder;
  semanticEncoder?: ImageEncoder;
  victimEncoder?: ImageEncoder;
  victimModel?: Recommender;
  surrogateRecommender?: unknown;
  diffusion?: unknown;
}

/** The dataset as an attacker sees it: the training split only (validation and test items withheld). */
export function publicView(ds: Dataset): Dataset {
  const hidden = new Int32Array(ds.split.test.length).fill(-1);
  return { ...ds, split: { train: ds.split.train, validation: hidden, test: hidden } };
}

/**
 * Build the context for `attack`, granting only what its threat model declares and its tier
 * (attackTier) allows.
 */
export function makeAttackContext(attack: Pick<Attack, 'name' | 'threat'>, res: AttackResources): AttackContext {
  const tier = attackTier(attack, res.tier ?? 'public-encoder');
  const allowed = new Set(tierKnowledge(tier));
  const knows = new Set(attack.threat.knows.filter((k) => allowed.has(k)));
  const view = publicView(res.dataset);
  const need = <T>(k: Knowledge, value: T | undefined): T => {
    if (!knows.has(k)) {
      throw new KnowledgeError(`attack '${attack.name}' does not declare '${k}' in its threat model and may not read it`);
    }
    if (value === undefined) throw new KnowledgeError(`attack '${attack.name}' needs '${k}', but the experiment provides none`);
    return value;
  };
  return {
    rng: res.rng,
    dataset: () => {
      if (!knows.has('images') && !knows.has('interactions')) need('images', undefined);
      return view;
    },
    images: () => need('images', res.dataset.images),
    trainInteractions: () => need('interactions', res.dataset.split.train),
    surrogateEncoder: () => need('surrogateEncoder', res.surrogateEncoder),
    semanticEncoder: () => need('semanticEncoder', res.semanticEncoder),
    victimEncoder: () => need('victimEncoder', res.victimEncoder),
    victimModel: () => need('victimModel', res.victimModel),
    surrogateRecommender: <T>() => need('surrogateRecommender', res.surrogateRecommender) as T,
    diffusion: <T>() => need('diffusion', res.diffusion) as T,
  };
}
