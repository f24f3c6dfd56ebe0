import type { Command } from 'commander';

/**
 * The sub-command group `name` of `program` (e.g. `train`, `data`), created on first use so that
 * several files can add sub-commands to the same group.
 */
export function commandGroup(program: Command, name: string, description: string): Command {
  const existing = program.commands.find((c) => c.name() === name);
  if (existing) return existing;
  return program.command(name).description(description);
}
