/** `auv-fusion demo|run ...` commands: the main job */
import type { Command } from 'commander';

export function registerExperimentCommands(program: Command): void {
  void program;
}
