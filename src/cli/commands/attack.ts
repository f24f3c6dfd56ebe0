/**
 * `auv-fusion attack <name> --data DIR [--budget 8|16|32] [--victim-dir DIR] [--config FILE] --out DIR`: run one
 * attack on the dataset's target items; writes one PNG per target (named by item id), and
 * attack-log.json (parameters, threat model, per-target image metrics, optimisation log).
 */
import { Option, type Command } from 'commander';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { ConfigError } from '../../core/errors.js';
import { writeDirAtomic } from '../../core/fsutil.js';
import { writeFileAtomic } from '../../core/fsutil.js';
import type { Dataset } from '../../data/dataset.js';
import { encodePngRgb } from '../../data/png.js';
import type { ImageEncoder } from '../../encoders/encoder.js';
import { imagePairMetrics } from '../../evaluation/image-metrics.js';
import type { Recommender } from '../../recommenders/recommender.js';
import { loadRecommender } from '../../recommenders/models.js';
import { loadEncoder } from '../../encoders/resnet.js';
import { makeAttackContext, type Attack } from '../../attacks/attack.js';
import { createAttack, listAttacks } from '../../attacks/registry.js';
import { loadConfig } from '../../experiment/config.js';
import { attackResources, attackRng, craftImages } from '../../experiment/stages/attacks.js';
import { closeExperiment, openExperiment } from '../../experiment/stages/context.js';
import { attackerProduct } from '../../experiment/stages/run-cell.js';

interface AttackOpts {
  data: string;
  budget?: string;
  victimDir?: string;
  encoderDir?: string;
  out: string;
  seed: string;
  steps?: string;
  optimizer?: string;
  maxTargets?: string;
  param: string[];
  config?: string;
}

function collect(v: string, prev: string[]): string[] {
  return [...prev, v];
}

/** key=value -> number | boolean | string. */
export function parseParamArgs(list: readonly string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const kv of list) {
    const m = /^([A-Za-z][\w-]*)=(.*)$/.exec(kv);
    if (!m) throw new ConfigError(`--param '${kv}' must look like key=value`);
    const raw = m[2]!;
    out[m[1]!] = raw === 'true' ? true : raw === 'false' ? false : raw !== '' && Number.isFinite(Number(raw)) ? Number(raw) : raw;
  }
  return out;
}

/**
 * Load a saved victim recommender and its encoder F. Uses `loadRecommender(dir)` from
 * src/recommenders and `loadEncoder(dir)` from src/encoders; the encoder folder defaults to
 * <victim-dir>/encoder, then <victim-dir>/../encoders/victim.
 */
export async function loadVictim(victimDir: string, encoderDir?: string): Promise<{ model: Recommender; encoder: ImageEncoder }> {
  if (!existsSync(victimDir)) throw new ConfigError(`--victim-dir '${victimDir}' does not exist (train one with 'auv-fusion train victims')`);
  const candidates = encoderDir ? [encoderDir] : [path.join(victimDir, 'encoder'), path.join(victimDir, '..', 'encoders', 'victim')];
  const encDir = candidates.find((d) => existsSync(d));
  if (!encDir) throw new ConfigError(`no victim encoder found (looked in ${candidates.join(', ')}); pass --encoder-dir`);
  return { model: await loadRecommender(victimDir), encoder: await loadEncoder(encDir) };
}

export async function runAttackCommand(name: string, o: AttackOpts): Promise<string> {
  const params = parseParamArgs(o.param);
  if (o.budget !== undefined) params.budget = Number(o.budget);
  if (o.steps !== undefined) params.steps = Number(o.steps);
  if (o.optimizer !== undefined) params.optimizer = o.optimizer;
  const attack = createAttack(name, params);
  const seed = Number(o.seed);
  if (!Number.isInteger(seed) || seed < 0) throw new ConfigError(`--seed must be a non-negative integer, got '${o.seed}'`);
  const maxTargets = o.maxTargets === undefined ? 0 : Number(o.maxTargets);
  if (!Number.isInteger(maxTargets) || maxTargets < (o.maxTargets === undefined ? 0 : 1)) throw new ConfigError(`--max-targets must be a positive integer, got '${o.maxTargets}'`);
  const knows = new Set(attack.threat.knows);
  const needsVictim = knows.has('victimModel') || knows.has('victimEncoder');
  if (needsVictim && !o.victimDir) throw new ConfigError(`attack '${attack.name}' needs the victim ('${[...knows].join("', '")}'): pass --victim-dir`);
  // the experiment's stages: the dataset, targets and the attacker's own models (encoders G and C,
  // surrogate recommender, diffusion model) are opened, trained or loaded exactly as `auv-fusion run` does
  const cfg = loadConfig({ ...(o.config ? { file: o.config } : {}), sets: [`dataset=${o.data}`, `seeds=[${seed}]`, `maxTargets=${maxTargets}`] });
  const ctx = await openExperiment(cfg, (msg) => process.stderr.write(msg + '\n'));
  const victim = needsVictim ? await loadVictim(o.victimDir!, o.encoderDir) : undefined;
  try {
    const { ds, targets } = ctx;
    const attacker = knows.has('surrogateRecommender') ? await attackerProduct(ctx, seed) : undefined;
    const given = { ...(victim ? { victimEncoder: victim.encoder, ...(knows.has('victimModel') ? { victimModel: victim.model } : {}) } : {}), ...(attacker ? { attacker } : {}) };
    const rng = attackRng(seed, attack.name, knows.has('victimModel') ? victim!.model.kind : null);
    const result = await craftImages(attack, targets, makeAttackContext(attack, await attackResources(ctx, attack, rng, given)));
    await writeAttackOutput(o.out, { attack, ds, targets, seed, result });
    return `${attack.name}: ${targets.length} targets in ${result.seconds.toFixed(1)} s -> ${path.resolve(o.out)}`;
  } finally {
    victim?.model.dispose();
    victim?.encoder.dispose();
    await closeExperiment(ctx);
  }
}

/** One PNG per target (named by item id) and attack-log.json, written atomically into `out`. */
async function writeAttackOutput(
  out: string,
  a: { attack: Attack; ds: Dataset; targets: readonly number[]; seed: number; result: { images: Map<number, Float32Array>; seconds: number; log: unknown } },
): Promise<void> {
  const { attack, ds, targets, seed, result } = a;
  const size = ds.images.size;
  const perTarget: Record<string, unknown>[] = [];
  await writeDirAtomic(out, async (tmp) => {
    for (const t of targets) {
      const adv = result.images.get(t)!;
      const clean = await ds.images.load(t);
      const m = imagePairMetrics(clean, adv, size);
      perTarget.push({ item: ds.itemIds[t], index: t, ...m, psnr: Number.isFinite(m.psnr) ? m.psnr : null });
      await writeFileAtomic(path.join(tmp, `${ds.itemIds[t]}.png`), encodePngRgb(adv, size, size));
    }
    const mean = (k: string) => perTarget.reduce((s, r) => s + ((r[k] as number | null) ?? 0), 0) / perTarget.length;
    await writeFileAtomic(
      path.join(tmp, 'attack-log.json'),
      JSON.stringify(
        {
          attack: attack.name,
          params: attack.params,
          threat: attack.threat,
          dataset: ds.info,
          seed,
          seconds: result.seconds,
          mean: { ssim: mean('ssim'), psnr: mean('psnr'), linf: mean('linf'), l2: mean('l2') },
          targets: perTarget,
          log: result.log,
        },
        null,
        2,
      ) + '\n',
    );
  });
}

export function registerAttackCommands(program: Command): void {
  program
    .command('attack <name>')
    .description(`Run one attack on the target items (${listAttacks().map((a) => a.name + (a.available ? '' : ' [unavailable]')).join(', ')})`)
    .requiredOption('--data <dir>', 'dataset folder or synth:<profile>[:<seed>]')
    .addOption(new Option('--budget <n>', 'L_inf budget in 1/255 units').choices(['8', '16', '32']))
    .option('--victim-dir <dir>', 'saved victim recommender (from auv-fusion train victims)')
    .option('--encoder-dir <dir>', 'saved victim encoder F (default: <victim-dir>/encoder)')
    .option('--steps <n>', 'optimisation steps')
    .option('--optimizer <name>', 'adam | sign (INSA, EXPA)')
    .option('--max-targets <n>', 'attack only the first n targets')
    .option('--param <key=value>', 'any other attack parameter (repeatable)', collect, [])
    .option('--config <file>', "experiment config (YAML/JSON) for the attacker's encoders, surrogate and diffusion model (auv-fusion)")
    .option('--seed <n>', 'random seed', '1')
    .requiredOption('--out <dir>', 'output folder (one PNG per target + attack-log.json), replaced atomically')
    .action(async (name: string, o: AttackOpts) => {
      process.stdout.write((await runAttackCommand(name, o)) + '\n');
    });
}
