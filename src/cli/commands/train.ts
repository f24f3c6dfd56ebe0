/** `auv-fusion train ...` commands. */
import type { Command } from 'commander';

export function registerTrainCommands(program: Command): void {
  void program;
}
