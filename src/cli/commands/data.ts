/** `auv-fusion data synth|inspect ...` commands: datasets */
import type { Command } from 'commander';

export function registerDataCommands(program: Command): void {
  void program;
}
