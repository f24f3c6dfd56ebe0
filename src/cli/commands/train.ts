/** `auv-fusion train encoders|victims ...` commands: image encoders and victim recommenders */
import type { Command } from 'commander';

export function registerTrainCommands(program: Command): void {
  void program;
}
