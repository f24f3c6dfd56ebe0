/**
 * Experiment configuration (spec section 11), RecBole-style: typed, commented, layered as
 * built-in defaults < config file (YAML or JSON) < CLI `--set key.path=value` overrides, and
 * validated with zod. Any mistake is reported with the key path and the allowed values.
 */
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { TIERS } from '../attacks/attack.js';
import { createAttack } from '../attacks/registry.js';
import { ConfigError, InputError } from '../core/errors.js';
import { decodeUtf8 } from '../data/utf8.js';
import { DEFENCES } from '../defences/index.js';
import { DiffusionFitSchema } from '../diffusion/fit.js';
import { DiffusionTrainSchema } from '../diffusion/train.js';
import { OnnxRoleSchema, type OnnxRoleConfig } from '../onnx/from-config.js';
import { PreferenceConfigSchema } from '../preference/model.js';
import { RecommenderOptionsSchema } from '../recommenders/config-schema.js';

const victimKind = z.enum(['bpr-mf', 'vbpr', 'deepstyle', 'amr']);
const protocol = z.enum(['full', 'aip']);

const encoderSchema = z
  .object({
    /** Training epochs of the encoder. */
    epochs: z.number().int().min(1).max(200).default(3),
    /** Mini-batch size. */
    batch: z.number().int().min(2).max(1024).default(64),
    /** Adam learning rate. */
    lr: z.number().positive().default(3e-3),
  })
  .strict();

/** A role's encoder: an ONNX file when the entry has an `onnx` key, else the settings of a network trained here. */
const roleSchema = z.unknown().transform((v, ctx): OnnxRoleConfig | z.infer<typeof encoderSchema> => {
  const onnx = typeof v === 'object' && v !== null && 'onnx' in v;
  const r = (onnx ? OnnxRoleSchema : encoderSchema).safeParse(v ?? {});
  if (r.success) return r.data;
  for (const i of r.error.issues) ctx.issues.push({ ...i, input: v } as never);
  return z.NEVER;
}).prefault({});

/** Defences applied on top of the undefended evaluation (which always runs: 'none' is not listed). */
const DEFENCE_NAMES = DEFENCES.filter((d) => d !== 'none');
const defenceName = z.string().superRefine((d, ctx) => {
  if (d === 'none') ctx.addIssue({ code: 'custom', message: `'none' is not a defence: the undefended evaluation always runs; list only defences (${DEFENCE_NAMES.join(', ')})` });
  else if (!DEFENCE_NAMES.includes(d as never)) ctx.addIssue({ code: 'custom', message: `unknown defence '${d}': allowed values are ${DEFENCE_NAMES.join(', ')}` });
});

const attackSchema = z
  .object({
    /**
     * Attack identifier: none, random, insa, expa, pgd, fgsm, auv-fusion, auv-fusion/<variant>;
     * '@label' names a second configuration of the same attack (e.g. insa@eps8 with budget 8).
     */
    name: z.string().min(1),
    /** Parameters validated by the attack itself (budget, steps, ...). */
    params: z.record(z.string(), z.unknown()).default({}),
  })
  .strict();

export const experimentSchema = z
  .object({
    /** Human-readable name shown in the report. */
    name: z.string().default('auv-fusion experiment'),
    /** Dataset: a folder in the generic format, or synth:<tiny|default|large>[:<seed>]. */
    dataset: z.string().min(1).default('synth:default:1'),
    /** Seeds: victims, surrogate and attacks are re-run per seed; figures are means over seeds. */
    seeds: z.array(z.number().int().min(0)).min(1).default([1, 2, 3]),
    /**
     * Threat-model tier (issue 14; src/attacks/attack.ts TIERS): public-encoder (the victim's feature
     * extractor F is public, its recommender is not: the attacker's encoder is F), independent (the
     * attacker's encoder is its own G), white-box. Attacks needing more than the tier (INSA) are
     * white-box reference rows.
     */
    tier: z.enum(TIERS).default('public-encoder'),
    /** Cut-offs for HR@k and NDCG@k (mean target rank is reported beside them). */
    ks: z.array(z.number().int().min(1)).min(1).default([5, 10, 20, 50]),
    /** Evaluation protocols: full ranking (default) and AIP's two-stage protocol. */
    protocols: z.array(protocol).min(1).default(['full']),
    /** Evaluation users per seed (0: every user with training interactions). */
    evalUsers: z.number().int().min(0).default(0),
    /** Attack at most this many targets (0: all targets of the dataset). */
    maxTargets: z.number().int().min(0).default(0),
    /**
     * Attack the targets in chunks of this many, one cell (and cache artefact) per chunk, so a queue
     * can spread one attack over workers (0: all targets in one cell). Part of the attack's cache
     * key: a chunked run is the same whether local or queued, but attacks that learn across
     * targets (AUV-Fusion's amortised perturbation) see only their chunk.
     */
    attackChunk: z.number().int().min(0).default(0),
    /** Image encoders (spec section 4), trained once per experiment on the first seed, or ONNX files ({ onnx: path, ... }; src/onnx/from-config.ts). */
    encoders: z
      .object({ victim: roleSchema, surrogate: roleSchema, semantic: roleSchema })
      .strict()
      .prefault({}),
    /** Victim recommenders (spec section 3). */
    victims: z.array(victimKind).min(1).default(['bpr-mf', 'vbpr', 'deepstyle', 'amr']),
    /** The victim recommenders' options (k, kVisual, lr, weightDecay, batch, epochs, ...; src/recommenders/config-schema.ts). */
    victimConfig: RecommenderOptionsSchema.prefault({}),
    /** The surrogate preference encoder's options (spec section 5; src/preference/model.ts). */
    surrogate: PreferenceConfigSchema.prefault({}),
    /** Latent diffusion model: 'default' (the shipped checkpoint) or a checkpoint folder. */
    diffusion: z.string().default('default'),
    /**
     * Fit the diffusion model to the dataset's non-target images before the attacks use it
     * (src/diffusion/fit.ts; written `diffusion: fit` or `diffusion: { from, fit: {...} }` in a config).
     */
    diffusionFit: DiffusionFitSchema.optional(),
    /**
     * Training a diffusion model from scratch with `auv-fusion train diffusion` (src/diffusion/train.ts:
     * model, seed, vae, unet, checkpointEvery, holdoutFraction, maxImages, dtype). A run does not
     * train one: it uses the checkpoint named by `diffusion`.
     */
    diffusionTrain: DiffusionTrainSchema.optional(),
    /** Attacks, each run on every target for every seed. */
    attacks: z
      .array(attackSchema)
      .min(1)
      .default([{ name: 'none', params: {} }, { name: 'random', params: {} }, { name: 'expa', params: {} }, { name: 'insa', params: {} }, { name: 'auv-fusion', params: {} }]),
    /** Defences applied to adversarial images before re-evaluation (jpeg, bit-depth, gaussian-blur, median). */
    defences: z.array(defenceName).default([]),
    /** Train and report the clean-vs-adversarial detector (ROC AUC per attack). */
    detector: z.boolean().default(true),
    /** Where trained artefacts are cached by config hash. */
    cacheDir: z.string().default('.auv-cache'),
    /** Output folder for results.json, results.csv, report.html. */
    out: z.string().default('auv-out'),
  })
  .strict()
  .superRefine((c, ctx) => {
    // results rows are keyed by attack name: the same name twice would merge two attacks' numbers
    const seen = new Set<string>();
    c.attacks.forEach((a, i) => {
      if (seen.has(a.name)) ctx.addIssue({ code: 'custom', path: ['attacks', i, 'name'], message: `repeats attack '${a.name}'; each attack may appear once (give the second one a label, e.g. 'insa@eps8' or 'auv-fusion@eta0.5')` });
      seen.add(a.name);
      // every attack's parameters are checked by the attack itself, before any work starts
      if (a.name === 'none') {
        if (Object.keys(a.params).length > 0) ctx.addIssue({ code: 'custom', path: ['attacks', i, 'params'], message: `attack 'none' takes no parameters` });
        return;
      }
      try {
        createAttack(a.name, a.params);
      } catch (err) {
        if (!(err instanceof ConfigError)) throw err;
        ctx.addIssue({ code: 'custom', path: ['attacks', i], message: err.message });
      }
    });
    const defs = new Set<string>();
    c.defences.forEach((d, i) => {
      if (defs.has(d)) ctx.addIssue({ code: 'custom', path: ['defences', i], message: `repeats defence '${d}'; each defence may appear once` });
      defs.add(d);
    });
  });

export type ExperimentConfig = z.infer<typeof experimentSchema>;
export type AttackSpec = ExperimentConfig['attacks'][number];

/** Format zod issues as "key.path: message (allowed: ...)", one line ('; ' between issues). */
export function formatIssues(error: z.ZodError, source: string, raw?: unknown): string {
  return error.issues
    .map((i) => {
      const key = i.path.length ? i.path.join('.') : '(top level)';
      const issue = i as z.core.$ZodIssue & { values?: unknown[]; keys?: string[]; expected?: string; minimum?: unknown; maximum?: unknown; origin?: string; inclusive?: boolean };
      if (issue.code === 'unrecognized_keys' && issue.keys) {
        const shape = shapeAt(i.path);
        return `${source}: unknown key ${issue.keys.map((k) => `'${[...i.path, k].join('.')}'`).join(', ')}${shape ? `; allowed keys: ${shape.join(', ')}` : ''}`;
      }
      let msg = i.message;
      const got = raw === undefined ? '' : gotText(valueAt(raw, i.path));
      if (issue.code === 'invalid_value' && issue.values) msg = `must be one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}${got}`;
      else if (issue.code === 'invalid_type') msg = `must be ${issue.expected === 'int' ? 'an integer' : issue.expected === 'array' ? 'a list' : issue.expected === 'object' ? 'a mapping of keys to values' : `a ${issue.expected}`}${got}`;
      else if (issue.code === 'too_small' || issue.code === 'too_big') {
        const bound = issue.code === 'too_small' ? issue.minimum : issue.maximum;
        const op = issue.code === 'too_small' ? (issue.inclusive === false ? '>' : '>=') : issue.inclusive === false ? '<' : '<=';
        msg = issue.origin === 'array' || issue.origin === 'string' ? `must have ${issue.code === 'too_small' ? 'at least' : 'at most'} ${String(bound)} ${issue.origin === 'array' ? 'entries' : 'characters'}${got}` : `must be ${op} ${String(bound)}${got}`;
      }
      return `${source}: '${key}' ${msg}`;
    })
    .join('; ');
}

/** The value at `path` in a raw (unvalidated) config, or undefined. */
function valueAt(raw: unknown, path: readonly PropertyKey[]): unknown {
  let cur = raw;
  for (const p of path) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[String(p)];
  }
  return cur;
}

function gotText(v: unknown): string {
  if (v === undefined) return ' (missing)';
  const t = JSON.stringify(v);
  return `, got ${t === undefined ? String(v) : t.length > 60 ? t.slice(0, 57) + '...' : t}`;
}

function shapeAt(path: readonly PropertyKey[]): string[] | null {
  // an encoder role is a trained network's settings or an ONNX file (roleSchema)
  if (path.length === 2 && path[0] === 'encoders') return [`${Object.keys(encoderSchema.shape).join(', ')} (a trained encoder) or ${Object.keys(OnnxRoleSchema.shape).join(', ')} (an ONNX file)`];
  let s: z.ZodType = experimentSchema;
  for (const p of path) {
    const inner = unwrap(s);
    if (inner instanceof z.ZodObject) s = (inner.shape as Record<string, z.ZodType>)[String(p)] ?? s;
    else if (inner instanceof z.ZodArray) s = inner.element as z.ZodType;
    else return null;
  }
  const obj = unwrap(s);
  return obj instanceof z.ZodObject ? Object.keys(obj.shape) : null;
}

function unwrap(s: z.ZodType): z.ZodType {
  // peel default / prefault / optional wrappers (each keeps its inner schema in def.innerType)
  let cur = s;
  for (let i = 0; i < 5; i++) {
    const inner = (cur as unknown as { _zod: { def: { innerType?: z.ZodType } } })._zod.def.innerType;
    if (!inner) break;
    cur = inner;
  }
  return cur;
}

/** Validate a plain object as an experiment config. */
export function parseConfig(raw: unknown, source = 'config'): ExperimentConfig {
  raw = diffusionShorthand(raw);
  const r = experimentSchema.safeParse(raw ?? {});
  if (!r.success) throw new ConfigError(formatIssues(r.error, source, raw ?? {}));
  return r.data;
}

/** `diffusion: fit` and `diffusion: { from?, fit? }` as `diffusion: <checkpoint>` + `diffusionFit`. */
function diffusionShorthand(raw: unknown): unknown {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) return raw;
  const d = (raw as Record<string, unknown>).diffusion;
  if (d === 'fit') return { ...raw, diffusion: 'default', diffusionFit: {} };
  if (d === null || typeof d !== 'object' || Array.isArray(d)) return raw;
  const { from, fit, ...rest } = d as Record<string, unknown>;
  const extra = Object.keys(rest);
  if (extra.length > 0) throw new ConfigError(`config: unknown key ${extra.map((k) => `'diffusion.${k}'`).join(', ')}; allowed keys: from, fit`);
  return { ...raw, diffusion: from ?? 'default', diffusionFit: fit ?? {} };
}

/** Read a YAML/JSON config file (without validation). */
export function readConfigFile(file: string): Record<string, unknown> {
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (err) {
    throw new InputError(`cannot read config (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`, file);
  }
  const text = decodeUtf8(bytes, file);
  let value: unknown;
  try {
    value = parseYaml(text);
  } catch (err) {
    throw new InputError(`not valid YAML: ${(err as Error).message.split('\n')[0]}`, file);
  }
  if (value === null || value === undefined) return {};
  if (typeof value !== 'object' || Array.isArray(value)) throw new InputError('the config must be a mapping of keys to values', file);
  return value as Record<string, unknown>;
}

/** Apply `key.path=value` overrides (value parsed as YAML: numbers, lists, booleans). */
export function applyOverrides(base: Record<string, unknown>, sets: readonly string[]): Record<string, unknown> {
  const out = structuredClone(base);
  for (const s of sets) {
    const m = /^([A-Za-z][\w.-]*)=(.*)$/s.exec(s);
    if (!m) throw new ConfigError(`--set '${s}' must look like key.path=value`);
    const keys = m[1]!.split('.');
    let cur: Record<string, unknown> = out;
    for (const k of keys.slice(0, -1)) {
      if (cur[k] === undefined || cur[k] === null || typeof cur[k] !== 'object') cur[k] = {};
      cur = cur[k] as Record<string, unknown>;
    }
    try {
      cur[keys.at(-1)!] = parseYaml(m[2]!) as unknown;
    } catch (err) {
      throw new ConfigError(`--set '${s}': the value is not valid YAML (${(err as Error).message.split('\n')[0]})`);
    }
  }
  return out;
}

/** defaults < file < overrides, validated. */
export function loadConfig(opts: { file?: string; base?: Record<string, unknown>; sets?: readonly string[] } = {}): ExperimentConfig {
  const fromFile = opts.file ? readConfigFile(opts.file) : {};
  const merged = applyOverrides({ ...(opts.base ?? {}), ...fromFile }, opts.sets ?? []);
  return parseConfig(merged, opts.file ?? 'config');
}

/** The demo's settings per profile (spec section 11; sized for a 2-core CPU). */
export function demoConfig(profile: 'tiny' | 'default'): Record<string, unknown> {
  const tiny = profile === 'tiny';
  return {
    name: `AUV-Fusion demo (${profile} synthetic catalogue)`,
    dataset: `synth:${profile}:1`,
    seeds: [1, 2, 3],
    // F and G learn three label sets (category, colour, pattern); 4 epochs reach most of what 8 do.
    encoders: { victim: { epochs: 4 }, surrogate: { epochs: 4 }, semantic: { epochs: 2 } },
    victimConfig: tiny ? { epochs: 15 } : {},
    surrogate: tiny ? { epochs: 10 } : { epochs: 15 },
    evalUsers: tiny ? 0 : 1000,
    diffusion: 'default',
    attacks: [
      { name: 'none', params: {} },
      { name: 'random', params: { budget: 32 } },
      { name: 'expa', params: { budget: 32 } },
      { name: 'insa', params: { budget: 32 } },
      // 20 DDIM steps (injection at 15 under the residual composition), 8 amortised Adam steps and
      // 2 per-target refinement steps keep the demo inside its time budget; `auv-fusion run`
      // configs use the paper's 50.
      { name: 'auv-fusion', params: tiny ? { ddimSteps: 10, steps: 3, refineSteps: 2 } : { ddimSteps: 20, steps: 8, refineSteps: 2 } },
    ],
  };
}
