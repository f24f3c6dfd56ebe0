#!/usr/bin/env node
/**
 * The `auv-fusion` command line. Each command group lives in ./commands/<group>.ts and registers
 * itself on the program.
 *
 * One error path: every failure a user can cause (bad input or config, a missing or unwritable
 * path, an unknown command or option) prints one line `auv-fusion: error: ...` naming the file or
 * key and exits 1. Anything else is a bug: one line and exit 2, with the stack trace only under
 * `--debug`.
 */
import { Command, CommanderError, Option } from 'commander';
import { readFileSync } from 'node:fs';
import { ConfigError, InputError, KnowledgeError, userFsError } from '../core/errors.js';
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
    .option('--debug', 'print the stack trace of any error')
    .hook('preAction', async (thisCommand) => {
      const opts = thisCommand.opts<{ backend: BackendName; quiet?: boolean }>();
      if (opts.quiet) process.env.AUV_QUIET = '1';
      await initEngine({ backend: opts.backend });
    });
  registerCommands(program);
  // commander's own errors (unknown option, missing argument, bad choice) come back as exceptions
  const quietErrors = (c: Command): void => {
    c.exitOverride().configureOutput({ outputError: () => undefined });
    c.commands.forEach(quietErrors);
  };
  quietErrors(program);
  return program;
}

/**
 * The first command word that names no command (e.g. `serve` in `auv-fusion serve --help`,
 * which commander would answer with the global help and exit 0), as an error text; else null.
 */
export function unknownCommand(program: Command, args: readonly string[]): string | null {
  let cur = program;
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--') return null;
    if (a.startsWith('-')) {
      const opt = cur.options.find((o) => o.long === a || o.short === a);
      if (opt && (opt.required || opt.optional) && !a.includes('=')) i++; // skip its value
      continue;
    }
    if (cur.commands.length === 0) return null; // a positional argument of a leaf command
    const next = cur.commands.find((c) => c.name() === a || c.aliases().includes(a));
    if (!next) {
      if (a === 'help') return null;
      const where = cur === program ? '' : ` of '${cur.name()}'`;
      return `unknown command '${a}'${where}: allowed commands are ${cur.commands.map((c) => c.name()).join(', ')}`;
    }
    cur = next;
  }
  return null;
}

/** The one line for a user-caused error, or null for a bug. */
function userMessage(err: unknown): string | null {
  if (err instanceof InputError || err instanceof ConfigError || err instanceof KnowledgeError) return err.message;
  if (err instanceof CommanderError) return err.message.replace(/^error: /, '');
  const fsErr = userFsError(err);
  if (fsErr) return fsErr.message;
  if (err instanceof Error && err.name === 'YAMLParseError') return `not valid YAML: ${err.message.split('\n')[0]}`;
  return null;
}

/** Run the CLI on `argv` (as process.argv); returns the exit code and prints any error. */
export async function main(argv: string[]): Promise<number> {
  const debug = argv.includes('--debug');
  const program = buildProgram();
  try {
    const unknown = unknownCommand(program, argv.slice(2));
    if (unknown) throw new ConfigError(unknown);
    await program.parseAsync(argv);
    return 0;
  } catch (err) {
    if (err instanceof CommanderError && (err.exitCode === 0 || err.code === 'commander.helpDisplayed' || err.code === 'commander.version')) return 0;
    if (err instanceof CommanderError && err.code === 'commander.help') return 1; // no command given: the help went to stderr
    const line = userMessage(err);
    if (debug && err instanceof Error) process.stderr.write(`${err.stack ?? err.message}\n`);
    if (line !== null) {
      process.stderr.write(`auv-fusion: error: ${line.replace(/\s*\n\s*/g, '; ')}\n`);
      return 1;
    }
    const msg = err instanceof Error ? err.message.split('\n')[0] : String(err);
    process.stderr.write(`auv-fusion: internal error: ${msg}${debug ? '' : ' (a bug; rerun with --debug for the stack trace)'}\n`);
    return 2;
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
