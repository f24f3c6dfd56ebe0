/** `auv-fusion experiment ...` commands. */
import type { Command } from 'commander';

export function registerExperimentCommands(program: Command): void {
  void program;
}
