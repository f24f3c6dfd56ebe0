/** `auv-fusion metrics image ...` commands: image metrics */
import type { Command } from 'commander';

export function registerMetricsCommands(program: Command): void {
  void program;
}
