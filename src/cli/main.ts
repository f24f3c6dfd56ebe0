#!/usr/bin/env node
/**
 * The `auv-fusion` command line. Each command group lives in ./commands/<group>.ts and registers
 * itself on the program. Errors a user can fix (bad input, bad config) print one line and exit 1.
 */
import { Command, Option } from 'commander';
import { readFileSync } from 'node:fs';
import { ConfigError, InputError, KnowledgeError } from '../core/errors.js';
import { initEngine, BACKENDS, type BackendName } from '../core/engine.js';
import { registerCommands } from './commands/index.js';

const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };

export function buildProgram(): Command {
  const program = new Command();
  program
    .name('auv-fusion')
    .description('Red-team visually-aware recommender systems: AUV-Fusion, victims, baselines, evaluation, report.')
    .version(pkg.version)
    .addOption(new Option('--backend <name>', 'tensor backend').choices([...BACKENDS]).default('wasm'))
    .option('--quiet', 'no progress bars')
    .hook('preAction', async (thisCommand) => {
      const opts = thisCommand.opts<{ backend: BackendName; quiet?: boolean }>();
      if (opts.quiet) process.env.AUV_QUIET = '1';
      await initEngine({ backend: opts.backend });
    });
  registerCommands(program);
  return program;
}

export async function main(argv: string[]): Promise<number> {
  try {
    await buildProgram().parseAsync(argv);
    return 0;
  } catch (err) {
    if (err instanceof InputError || err instanceof ConfigError || err instanceof KnowledgeError) {
      process.stderr.write(`auv-fusion: error: ${err.message}\n`);
      return 1;
    }
    throw err;
  }
}

const invokedDirectly = process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').pop() ?? '');
if (invokedDirectly) {
  main(process.argv).then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      process.stderr.write(`auv-fusion: internal error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
      process.exitCode = 2;
    },
  );
}
