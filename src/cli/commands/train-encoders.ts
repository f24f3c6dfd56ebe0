/** `auv-fusion train encoders ...` commands: the victim, surrogate and semantic image encoders */
import type { Command } from 'commander';
import path from 'node:path';
import { ConfigError } from '../../core/errors.js';
import { openDataset } from '../../data/open.js';
import type { EncoderRole } from '../../encoders/encoder.js';
import { trainEncoder } from '../../encoders/train.js';
import { commandGroup } from './group.js';

const ROLES: EncoderRole[] = ['victim', 'surrogate', 'semantic'];

export function registerTrainEncodersCommands(program: Command): void {
  commandGroup(program, 'train', 'Train models')
    .command('encoders')
    .description('Train the image encoders F (victim), G (surrogate) and C (semantic); saves <out>/<role>/')
    .requiredOption('--data <dir>', 'dataset folder, or synth:<profile>[:<seed>]')
    .requiredOption('--out <dir>', 'output folder (one sub-folder per role, each replaced atomically)')
    .option('--roles <list>', 'comma-separated roles', ROLES.join(','))
    .option('--epochs <n>', 'training epochs', '2')
    .option('--seed <n>', 'offset added to each role\'s default seed', '0')
    .action(async (o: { data: string; out: string; roles: string; epochs: string; seed: string }) => {
      const roles = o.roles.split(',').map((r) => r.trim()) as EncoderRole[];
      for (const r of roles) if (!ROLES.includes(r)) throw new ConfigError(`unknown encoder role '${r}': allowed are ${ROLES.join(', ')}`);
      const epochs = Number(o.epochs);
      const seed = Number(o.seed);
      if (!Number.isInteger(epochs) || epochs < 1) throw new ConfigError(`--epochs must be a positive integer, got '${o.epochs}'`);
      if (!Number.isInteger(seed) || seed < 0) throw new ConfigError(`--seed must be a non-negative integer, got '${o.seed}'`);
      const ds = await openDataset(o.data);
      for (const role of roles) {
        const { encoder, report } = await trainEncoder(ds, role, seed ? { seed: seed * 1000 + ROLES.indexOf(role) } : {}, { epochs });
        await encoder.save(path.join(o.out, role));
        const heads = Object.entries(report.headAccuracy).map(([k, a]) => `${k} ${(100 * a).toFixed(1)}%`);
        console.log(`${role}: ${report.objective}, ${report.seconds.toFixed(1)} s, loss ${report.lossCurve.at(-1)!.toFixed(3)}${heads.length ? `, training accuracy ${heads.join(', ')}` : ''} -> ${path.join(o.out, role)}`);
        encoder.dispose();
      }
    });
}
