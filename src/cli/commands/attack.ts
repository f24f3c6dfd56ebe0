/** `auv-fusion attack <name> ...` commands: every attack */
import type { Command } from 'commander';

export function registerAttackCommands(program: Command): void {
  void program;
}
