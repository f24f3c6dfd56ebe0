/**
 * The schema of the victim recommenders' options (`victimConfig` in an experiment), derived from
 * DEFAULT_RECOMMENDER_CONFIG: every key optional with its default filled in, unknown keys, wrong
 * types and out-of-range values refused. The seed is not an option: the experiment's seeds drive it.
 */
import { z } from 'zod';
import { DEFAULT_RECOMMENDER_CONFIG as D } from './models.js';

export const RecommenderOptionsSchema = z
  .object({
    /** Latent ID dimension K. */
    k: z.number().int().min(1).max(1024).default(D.k),
    /** Visual latent dimension K' (VBPR, AMR, DeepStyle). */
    kVisual: z.number().int().min(1).max(1024).default(D.kVisual),
    /** Adam learning rate. */
    lr: z.number().positive().max(1).default(D.lr),
    /** L2 weight decay. */
    weightDecay: z.number().min(0).max(1).default(D.weightDecay),
    /** BPR triples per mini-batch. */
    batch: z.number().int().min(1).max(1 << 20).default(D.batch),
    /** Most training epochs (early stopping may end sooner). */
    epochs: z.number().int().min(1).max(10_000).default(D.epochs),
    /** Validate every this many epochs. */
    evalEvery: z.number().int().min(1).max(10_000).default(D.evalEvery),
    /** Validations without a gain before stopping. */
    patience: z.number().int().min(1).max(10_000).default(D.patience),
    /** Users sampled for validation (0: all). */
    evalUsers: z.number().int().min(0).default(D.evalUsers),
    /** AMR adversarial budget. */
    amrEps: z.number().min(0).max(10).default(D.amrEps),
    /** AMR adversarial weight. */
    amrLambda: z.number().min(0).max(100).default(D.amrLambda),
    /** AMR plain-VBPR warm-up epochs. */
    amrWarmup: z.number().int().min(0).max(10_000).default(D.amrWarmup),
    /** PCA-whitening directions of the item features (0: centre and scale only). */
    whitenDims: z.number().int().min(0).max(4096).default(D.whitenDims),
  })
  .strict();

export type RecommenderOptions = z.infer<typeof RecommenderOptionsSchema>;
