/** Registers every command group. Each group owns one file in this folder. */
import type { Command } from 'commander';
import { registerDataCommands } from './data.js';
import { registerTrainCommands } from './train.js';
import { registerAttackCommands } from './attack.js';
import { registerMetricsCommands } from './metrics.js';
import { registerExperimentCommands } from './experiment.js';

export function registerCommands(program: Command): void {
  registerExperimentCommands(program); // demo, run
  registerDataCommands(program); // data synth | inspect | import
  registerTrainCommands(program); // train encoders | victims | surrogate | diffusion
  registerAttackCommands(program); // attack <name>
  registerMetricsCommands(program); // metrics image
}
