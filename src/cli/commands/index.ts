/** Registers every command group. Each file in this folder owns its commands. */
import type { Command } from 'commander';
import { registerExperimentCommands } from './experiment.js';
import { registerDataCommands } from './data.js';
import { registerDataImportCommands } from './data-import.js';
import { registerTrainCommands } from './train.js';
import { registerTrainEncodersCommands } from './train-encoders.js';
import { registerTrainDiffusionCommands } from './train-diffusion.js';
import { registerTrainSurrogateCommands } from './train-surrogate.js';
import { registerAttackCommands } from './attack.js';
import { registerMetricsCommands } from './metrics.js';
import { registerWorkerCommands } from './worker.js';

export function registerCommands(program: Command): void {
  registerExperimentCommands(program); // demo, run
  registerDataCommands(program); // data synth | inspect
  registerDataImportCommands(program); // data import
  registerTrainEncodersCommands(program); // train encoders
  registerTrainCommands(program); // train victims
  registerTrainDiffusionCommands(program); // train diffusion
  registerTrainSurrogateCommands(program); // train surrogate
  registerAttackCommands(program); // attack <name>
  registerMetricsCommands(program); // metrics image
  registerWorkerCommands(program); // worker --queue URL
}
