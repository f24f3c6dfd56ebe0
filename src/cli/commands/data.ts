/** `auv-fusion data ...` commands. */
import type { Command } from 'commander';

export function registerDataCommands(program: Command): void {
  void program;
}
