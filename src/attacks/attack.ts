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
  | 'surrogateEncoder' // the attacker's own encoder G
  | 'semanticEncoder' // the semantic encoder C
  | 'victimEncoder' // the victim's feature extractor F
  | 'victimModel' // the victim recommender's parameters
  | 'surrogateRecommender' // the attacker's preference encoder (trained on public interactions)
  | 'diffusion'; // the attacker's latent diffusion model

export interface ThreatModel {
  knows: readonly Knowledge[];
  /** Perturbation norm and budget; for generative attacks, 'none' with a perceptual constraint. */
  norm: 'linf' | 'l2' | 'none';
  /** Budget in [0,1] pixel units (e.g. 32/255), or null when the attack has no hard norm budget. */
  budget: number | null;
}

/** Everything an attack may ask for; each getter throws unless the knowledge was granted. */
export interface AttackContext {
  readonly rng: Rng;
  /** Dataset metadata (ids, categories, targets); needs 'images' or 'interactions'. */
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
  surrogateEncoder?: ImageEncoder;
  semanticEncoder?: ImageEncoder;
  victimEncoder?: ImageEncoder;
  victimModel?: Recommender;
  surrogateRecommender?: unknown;
  diffusion?: unknown;
}

/** Build the context for `attack`, granting only what its threat model declares. */
export function makeAttackContext(attack: Pick<Attack, 'name' | 'threat'>, res: AttackResources): AttackContext {
  const knows = new Set(attack.threat.knows);
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
      return res.dataset;
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
