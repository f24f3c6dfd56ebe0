/** `auv-fusion train encoders ...` commands: the victim, surrogate and semantic image encoders */
import type { Command } from 'commander';
import path from 'node:path';
import { ConfigError } from '../../core/errors.js';
import { openDataset } from '../../data/open.js';
import type { EncoderRole } from '../../encoders/encoder.js';
import { loadConfig } from '../../experiment/config.js';
import { ENCODER_ROLES, trainRoleEncoder } from '../../experiment/stages/prepare.js';
import { commandGroup } from './group.js';
import { seedOption, trainConfig } from './train-config.js';

export function registerTrainEncodersCommands(program: Command): void {
  commandGroup(program, 'train', 'Train models')
    .command('encoders')
    .description('Train the image encoders F (victim), G (surrogate) and C (semantic) exactly as `run` does (same options and seeds); saves <out>/<role>/')
    .requiredOption('--data <dir>', 'dataset folder, or synth:<profile>[:<seed>]')
    .requiredOption('--out <dir>', 'output folder (one sub-folder per role, each replaced atomically)')
    .option('--roles <list>', 'comma-separated roles', ENCODER_ROLES.join(','))
    .option('--config <file>', "experiment config (YAML/JSON): its 'encoders' options")
    .option('--epochs <n>', "training epochs (overrides the config's encoders.<role>.epochs)")
    .option('--seed <n>', "the experiment's first seed (`run` trains its encoders from seeds[0])", '1')
    .action(async (o: { data: string; out: string; roles: string; config?: string; epochs?: string; seed: string }) => {
      const roles = o.roles.split(',').map((r) => r.trim()) as EncoderRole[];
      for (const r of roles) if (!ENCODER_ROLES.includes(r)) throw new ConfigError(`unknown encoder role '${r}': allowed are ${ENCODER_ROLES.join(', ')}`);
      if (o.epochs !== undefined && !/^[1-9]\d*$/.test(o.epochs)) throw new ConfigError(`--epochs must be a positive integer, got '${o.epochs}'`);
      const cfg = loadConfig(trainConfig(o.data, o.config, [`seeds=[${seedOption(o.seed)}]`, ...(o.epochs ? roles.map((r) => `encoders.${r}.epochs=${o.epochs}`) : [])]));
      const ds = await openDataset(cfg.dataset);
      for (const role of roles) {
        const { encoder, report } = await trainRoleEncoder(ds, cfg, role);
        await encoder.save(path.join(o.out, role));
        const heads = Object.entries(report.headAccuracy).map(([k, a]) => `${k} ${(100 * a).toFixed(1)}%`);
        console.log(`${role}: ${report.objective}, ${report.seconds.toFixed(1)} s, loss ${report.lossCurve.at(-1)!.toFixed(3)}${heads.length ? `, training accuracy ${heads.join(', ')}` : ''} -> ${path.join(o.out, role)}`);
        encoder.dispose();
      }
    });
}
