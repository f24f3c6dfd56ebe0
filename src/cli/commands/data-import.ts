/** `auv-fusion data import ...` commands: real-world dataset loaders */
import type { Command } from 'commander';

export function registerDataImportCommands(program: Command): void {
  void program;
}
