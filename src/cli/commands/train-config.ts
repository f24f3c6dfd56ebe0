/** The `train` commands' configs: the experiment's loader and schema (built-in defaults < --config file < command-line options). */
import { ConfigError } from '../../core/errors.js';

/** loadConfig options for a train command: the experiment config `file` (if any), the dataset and `sets`. */
export function trainConfig(data: string, file: string | undefined, sets: readonly string[]): { file?: string; sets: string[] } {
  return { ...(file ? { file } : {}), sets: [`dataset=${data}`, ...sets] };
}

/** --seed as a non-negative integer. */
export function seedOption(text: string): number {
  const seed = Number(text);
  if (!Number.isInteger(seed) || seed < 0 || text.trim() === '') throw new ConfigError(`--seed must be a non-negative integer, got '${text}'`);
  return seed;
}
