/**
 * Attack registry (spec section 8): `createAttack(name, params)` for every attack the toolkit
 * implements, and `listAttacks()` with availability. SPAF is named by the paper but not
 * identifiable anywhere here: it is listed as unavailable, never invented.
 */
import { AUV_FUSION_VARIANTS, createAuvFusionAttack } from './auv-fusion/index.js';
import { ConfigError } from '../core/errors.js';
import type { Attack } from './attack.js';
import { createExpaAttack } from './baselines/expa.js';
import { createInsaAttack } from './baselines/insa.js';
import { createFgsmAttack, createPgdAttack } from './baselines/pgd.js';
import { createRandomAttack } from './baselines/random.js';
import { createScDagAttack } from './sc-dag/attack.js';

export interface AttackInfo {
  name: string;
  available: boolean;
  description: string;
  /** Why it is unavailable. */
  reason?: string;
}

type Factory = (params: Record<string, unknown>, variant?: string) => Attack;

const factories = new Map<string, Factory>([
  ['random', (p) => createRandomAttack(p)],
  ['insa', (p) => createInsaAttack(p)],
  ['expa', (p) => createExpaAttack(p)],
  ['pgd', (p) => createPgdAttack(p)],
  ['fgsm', (p) => createFgsmAttack(p)],
  ['sc-dag', (p) => createScDagAttack(p)],
]);

const INFOS: AttackInfo[] = [
  { name: 'random', available: true, description: 'uniform noise in [-eps, eps] (the floor)' },
  { name: 'insa', available: true, description: 'AIP insider: white-box, maximise the victim mean score (Adam or sign steps)' },
  { name: 'expa', available: true, description: 'AIP expert: pull F(x) toward F(x_pop) of a popular item' },
  { name: 'pgd', available: true, description: 'TAaMR-style PGD toward the popular category of a classifier on F' },
  { name: 'fgsm', available: true, description: 'TAaMR-style single signed step toward the popular category' },
  {
    name: 'sc-dag',
    available: true,
    description: 'SC-DAG-style guided, masked diffusion editing: DDIM from t=250 pushed toward a popular item\'s encoder features, edits confined by a foreground mask',
  },
  {
    name: 'spaf',
    available: false,
    description: 'named by the AUV-Fusion paper as a baseline',
    reason: 'SPAF is not identified by any available source (no paper, code or equations); it is not implemented rather than invented',
  },
];

/** AUV-Fusion and its ablation variants (src/attacks/auv-fusion). */
const auvFusion: { create: Factory; variants: readonly string[] } = { create: createAuvFusionAttack, variants: AUV_FUSION_VARIANTS };

/** Every known attack with its availability. */
export function listAttacks(): AttackInfo[] {
  const list = INFOS.map((i) => ({ ...i }));
  list.unshift({
    name: 'auv-fusion',
    available: true,
    description: 'AUV-Fusion: latent-diffusion attack driven by the user-preference graph model' +
      (auvFusion.variants.length ? ` (variants: ${auvFusion.variants.join(', ')})` : ''),
  });
  return list;
}

/**
 * Create attack `name` ('random', 'insa', 'expa', 'pgd', 'fgsm', 'sc-dag', 'auv-fusion[/variant]'), optionally
 * followed by '@label' (e.g. 'insa@eps8'): the label only names a second configuration of the same
 * attack in an experiment (results rows are keyed by the full name); it changes nothing else.
 */
export function createAttack(name: string, params: Record<string, unknown> = {}): Attack {
  const at = name.indexOf('@');
  if (at >= 0 && !/^[\w.=+-]+$/.test(name.slice(at + 1))) {
    throw new ConfigError(`attack '${name}': the label after '@' must be letters, digits or . = + - _ (e.g. 'insa@eps8')`);
  }
  const [base, variant] = (at >= 0 ? name.slice(0, at) : name).split('/', 2) as [string, string | undefined];
  if (base === 'auv-fusion') {
    return auvFusion.create(params, variant);
  }
  const info = INFOS.find((i) => i.name === base);
  if (info && !info.available) throw new ConfigError(`attack '${base}' is not available: ${info.reason}`);
  const f = factories.get(base);
  if (!f || variant !== undefined) {
    const names = listAttacks().filter((i) => i.available).map((i) => i.name);
    throw new ConfigError(`unknown attack '${name}': allowed values are ${names.join(', ')}`);
  }
  return f(params);
}
