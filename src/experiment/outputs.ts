/**
 * What an experiment writes outside the cache, made safe for a user's mistakes and for failures:
 *
 * - `preflightPaths` checks, before any work, that the output and cache folders can be created and
 *   written (not a file, not read-only) and that a named dataset folder or diffusion checkpoint
 *   exists; each problem is one InputError naming the path.
 * - `RunLog` appends each run to `<out>/run.log` (a separator line, then the run's messages; never
 *   truncated), so a failing run neither wipes the log of the run whose results.json sits beside it
 *   nor hides its own error: the error and a note on which results remain are the section's last
 *   lines. results.json / results.csv / report.html are only ever replaced atomically by a run that
 *   succeeded.
 */
import { accessSync, appendFileSync, constants, existsSync, mkdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { InputError, userFsError } from '../core/errors.js';
import { MANIFEST_FILE } from '../core/weights.js';
import type { ExperimentConfig } from './config.js';

/** Create `dir` if needed and check that it is a writable folder; `what` names the config key. */
export function ensureWritableDir(dir: string, what: string): void {
  const abs = path.resolve(dir);
  try {
    const st = statSync(abs, { throwIfNoEntry: false });
    if (st && !st.isDirectory()) throw new InputError(`${what} must be a folder, but this is a file`, abs);
    mkdirSync(abs, { recursive: true });
    accessSync(abs, constants.W_OK | constants.X_OK);
  } catch (err) {
    if (err instanceof InputError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EEXIST' || code === 'ENOTDIR') throw new InputError(`${what} folder cannot be created (a parent of it is a file, not a folder)`, abs);
    throw userFsError(err, abs, `${what} folder cannot be written`) ?? err;
  }
}

/** Everything about the experiment's paths that can be checked before any work. */
export function preflightPaths(cfg: Pick<ExperimentConfig, 'out' | 'cacheDir' | 'dataset' | 'diffusion'>, needsDiffusion: boolean): void {
  if (!cfg.dataset.startsWith('synth:') && cfg.dataset !== 'synth') {
    let st;
    try {
      st = statSync(cfg.dataset, { throwIfNoEntry: false });
    } catch (err) {
      throw userFsError(err, cfg.dataset, "cannot read the dataset folder (config key 'dataset')") ?? err;
    }
    if (!st) throw new InputError(`dataset folder not found (config key 'dataset')`, cfg.dataset);
    if (!st.isDirectory()) throw new InputError(`dataset must be a folder (or synth:<profile>[:<seed>]), but this is a file`, cfg.dataset);
  }
  if (needsDiffusion && cfg.diffusion !== 'default' && !existsSync(path.join(cfg.diffusion, MANIFEST_FILE)))
    throw new InputError(`no diffusion checkpoint here (config key 'diffusion'; expected a model folder with manifest.json, or 'default')`, cfg.diffusion);
  ensureWritableDir(cfg.out, "output ('out')");
  ensureWritableDir(cfg.cacheDir, "cache ('cacheDir')");
}

/** The experiment's log: one appended section per run in `<out>/run.log`, and stderr unless quiet. */
export class RunLog {
  readonly file: string;
  readonly lines: string[] = [];

  constructor(outDir: string, private readonly quiet: boolean) {
    this.file = path.join(outDir, 'run.log');
    appendFileSync(this.file, `=== run started ${new Date().toISOString()} (pid ${process.pid}) ===\n`);
  }

  log = (msg: string): void => {
    const line = `[${new Date().toISOString()}] ${msg}`;
    this.lines.push(line);
    if (!this.quiet) process.stderr.write(line + '\n');
    appendFileSync(this.file, line + '\n');
  };

  /** Record a failure: its message, and which earlier outputs remain beside this log. */
  failed(err: unknown): void {
    const outDir = path.dirname(this.file);
    const kept = ['results.json', 'results.csv', 'report.html'].filter((f) => existsSync(path.join(outDir, f)));
    const msg = err instanceof Error ? err.message : String(err);
    try {
      appendFileSync(
        this.file,
        `[${new Date().toISOString()}] error: ${msg}\n[${new Date().toISOString()}] run failed; ` +
          (kept.length ? `${kept.join(', ')} in this folder are from an earlier successful run (see the sections above)\n` : 'no results were written\n'),
      );
    } catch {
      // the output folder went away or became unwritable: the CLI still prints the error
    }
  }
}

/**
 * The config as applied, for results.json: settings of components this experiment never used (the
 * surrogate recommender or the diffusion model when no attack needs them) are listed under
 * `notApplied` instead of being recorded as if they had shaped the numbers.
 */
export function appliedConfig(cfg: ExperimentConfig, used: { surrogate: boolean; diffusion: boolean }): Record<string, unknown> {
  const out: Record<string, unknown> = { ...cfg };
  const notApplied: Record<string, string> = {};
  if (!used.surrogate) {
    delete out.surrogate;
    notApplied.surrogate = 'no attack in this experiment uses the surrogate recommender';
  }
  if (!used.diffusion) {
    delete out.diffusion;
    notApplied.diffusion = 'no attack in this experiment uses the diffusion model';
  }
  return Object.keys(notApplied).length ? { ...out, notApplied } : out;
}
