/** `auv-fusion train diffusion ...` commands: the latent diffusion model */
import type { Command } from 'commander';

export function registerTrainDiffusionCommands(program: Command): void {
  void program;
}
