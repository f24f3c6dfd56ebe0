/** `auv-fusion train surrogate ...` commands: the attacker's preference encoder */
import type { Command } from 'commander';

export function registerTrainSurrogateCommands(program: Command): void {
  void program;
}
