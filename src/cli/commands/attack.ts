/** `auv-fusion attack ...` commands. */
import type { Command } from 'commander';

export function registerAttackCommands(program: Command): void {
  void program;
}
