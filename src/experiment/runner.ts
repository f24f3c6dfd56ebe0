/**
 * The experiment runner (spec section 11): data -> encoders -> victims -> surrogate -> diffusion ->
 * every attack on every target -> evaluation under each protocol for every seed -> results ->
 * report. The experiment is a plan of cells (./stages/plan.ts), each one stage with its own cache
 * key (./cache.ts), so a second run reuses them, a killed run resumes, and a queue can run the
 * same cells elsewhere (planExperiment, runCell, assembleResults).
 *
 * Seeds: the encoders (F, G, C) are trained once, from the first seed; the victims, the surrogate
 * recommender, the attacks and the evaluation-user sample are re-run for every seed.
 */
import path from 'node:path';
import { writeFileAtomic, writeJsonAtomic } from '../core/fsutil.js';
import { configHash } from '../core/hash.js';
import { Progress } from '../core/progress.js';
import type { ExperimentConfig } from './config.js';
import { preflightPaths, RunLog } from './outputs.js';
import { rowsToCsv, type ResultsFile } from './results.js';
import { addCells, cellsOfSeed, finishAssembly, startAssembly, type ReportExtras } from './stages/assemble.js';
import { attacksNeed, closeExperiment, configuredAttacks, openExperiment, releaseProducts, type ExperimentContext } from './stages/context.js';
import { planExperiment } from './stages/plan.js';
import { runCell } from './stages/run-cell.js';

export { assembleResults, protocolText, TOOL_VERSION, type ReportExtras } from './stages/assemble.js';
export { datasetKey, prepareEncoders, prepareSurrogate, surrogateFeatures, type DatasetKey } from './stages/prepare.js';
export { closeExperiment, openExperiment, type ExperimentContext } from './stages/context.js';
export { planExperiment, type Cell, type CellStage } from './stages/plan.js';
export { runCell } from './stages/run-cell.js';

export interface RunOutput {
  results: ResultsFile;
  extras: ReportExtras;
  outDir: string;
  files: { json: string; csv: string; log: string };
}

/**
 * Run the experiment described by `cfg`; writes results.json, results.csv and run.log into cfg.out.
 * Paths are checked before any work (./outputs.ts); a failure is recorded in run.log (appended,
 * never truncated) and rethrown, leaving any earlier results untouched.
 */
export async function runExperiment(cfg: ExperimentConfig, opts: { quiet?: boolean } = {}): Promise<RunOutput> {
  preflightPaths(cfg, attacksNeed(configuredAttacks(cfg), 'diffusion'));
  const runLog = new RunLog(path.resolve(cfg.out), opts.quiet === true);
  try {
    return await runLocally(cfg, runLog.log, opts);
  } catch (err) {
    runLog.failed(err);
    throw err;
  }
}

/** Plan, run every cell in order in this process (seed by seed, products kept in memory), assemble, write. */
async function runLocally(cfg: ExperimentConfig, log: (msg: string) => void, opts: { quiet?: boolean }): Promise<RunOutput> {
  log(`experiment '${cfg.name}' (config ${configHash(cfg)}), seeds ${cfg.seeds.join(', ')}, cache ${path.resolve(cfg.cacheDir)}`);
  const ctx = await openExperiment(cfg, log);
  try {
    const plan = planExperiment(cfg, ctx.targets);
    const asm = await startAssembly(ctx);
    const bar = new Progress('experiment', plan.length, { quiet: opts.quiet });
    for (const seed of cfg.seeds) {
      const cells = cellsOfSeed(plan, seed);
      for (const cell of cells) {
        await runCell(ctx, cell);
        bar.tick(1, cell.id);
      }
      await addCells(ctx, asm, cells);
      releaseProducts(ctx, `s${seed}/`);
    }
    bar.finish();
    const { results, extras } = finishAssembly(ctx, asm);
    return { results, extras, ...(await writeResults(ctx, results)) };
  } finally {
    await closeExperiment(ctx);
  }
}

/** Write results.json and results.csv (atomically) into the config's output folder. */
export async function writeResults(ctx: Pick<ExperimentContext, 'cfg' | 'cache' | 'log'>, results: ResultsFile): Promise<{ outDir: string; files: RunOutput['files'] }> {
  const outDir = path.resolve(ctx.cfg.out);
  const files = { json: path.join(outDir, 'results.json'), csv: path.join(outDir, 'results.csv'), log: path.join(outDir, 'run.log') };
  await writeJsonAtomic(files.json, results);
  await writeFileAtomic(files.csv, rowsToCsv(results.rows));
  ctx.log(`wrote ${files.json} (${results.rows.length} rows); cache hits ${ctx.cache.stats.hits.length}, misses ${ctx.cache.stats.misses.length}`);
  return { outDir, files };
}

/** The attack spec names in the order the config gives them. */
export function attackNames(specs: ExperimentConfig['attacks']): string[] {
  return specs.map((s) => s.name);
}

