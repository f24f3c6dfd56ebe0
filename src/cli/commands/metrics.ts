/** `auv-fusion metrics ...` commands. */
import type { Command } from 'commander';

export function registerMetricsCommands(program: Command): void {
  void program;
}
