/** `auv-fusion train encoders ...` commands: the victim, surrogate and semantic image encoders */
import type { Command } from 'commander';

export function registerTrainEncodersCommands(program: Command): void {
  void program;
}
