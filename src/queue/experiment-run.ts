/**
 * An experiment through the queue (issue 19): the submitter plans the experiment, hands its cells
 * to the workers as BullMQ jobs (./submit.ts), and when every cell is done assembles and writes
 * the same results.json and results.csv as a local run, from the products the workers left in the
 * shared artefact cache. A worker opens the same config (./jobs.ts ConfigSource), plans it the
 * same way and runs the cells it is given (./worker.ts).
 */
import path from 'node:path';
import { ConfigError } from '../core/errors.js';
import { writeJsonAtomic } from '../core/fsutil.js';
import type { ExperimentConfig } from '../experiment/config.js';
import { preflightPaths, RunLog } from '../experiment/outputs.js';
import { assembleResults, closeExperiment, openExperiment, planExperiment, runCell, writeResults, type RunOutput } from '../experiment/runner.js';
import { attacksNeed, configuredAttacks, releaseProducts, type ExperimentContext } from '../experiment/stages/context.js';
import { checkReachable, queueConnection } from './connection.js';
import { absoluteSource, configIdentity, loadSourceConfig, type CellJobData, type ConfigSource } from './jobs.js';
import { submitAndWait, type JobReport } from './submit.js';
import type { OpenedRun } from './worker.js';

export interface QueuedRunOptions {
  url: string;
  /** Where the workers read the config (the submitter's own file and --set overrides). */
  source: ConfigSource;
  quiet?: boolean;
}

/** Run `cfg` on the workers of the queue at `opts.url`; writes what runExperiment writes, plus jobs.json. */
export async function runExperimentQueued(cfg: ExperimentConfig, opts: QueuedRunOptions): Promise<RunOutput & { jobs: JobReport[] }> {
  queueConnection(opts.url);
  preflightPaths(cfg, attacksNeed(configuredAttacks(cfg), 'diffusion'));
  await checkReachable(opts.url); // before the dataset is opened
  const runLog = new RunLog(path.resolve(cfg.out), opts.quiet === true);
  try {
    return await submitRun(cfg, opts, runLog.log);
  } catch (err) {
    runLog.failed(err);
    throw err;
  }
}

async function submitRun(cfg: ExperimentConfig, opts: QueuedRunOptions, log: (msg: string) => void): Promise<RunOutput & { jobs: JobReport[] }> {
  const identity = configIdentity(cfg);
  const cacheDir = path.resolve(cfg.cacheDir);
  log(`experiment '${cfg.name}' (config ${identity}) through the queue ${opts.url}, seeds ${cfg.seeds.join(', ')}, cache ${cacheDir}`);
  const ctx = await openExperiment(cfg, log);
  try {
    const plan = planExperiment(cfg, ctx.targets);
    const runId = `${identity.slice(0, 12)}-${Date.now().toString(36)}`;
    const source = absoluteSource(opts.source);
    const t0 = performance.now();
    const jobs = await submitAndWait({
      url: opts.url,
      runId,
      cells: plan,
      data: (c) => ({ runId, cellId: c.id, stage: c.stage, source, config: identity, cacheDir }),
      log,
      ...(opts.quiet !== undefined ? { quiet: opts.quiet } : {}),
    });
    const wall = (performance.now() - t0) / 1000;
    const workers = new Set(jobs.map((j) => `${j.host}:${j.pid}`));
    log(`all ${plan.length} cells done in ${wall.toFixed(1)} s on ${workers.size} worker(s): ${[...workers].join(', ')}`);
    const { results, extras } = await assembleResults(ctx, plan);
    // the manifest's timings: the submitter's own (data, assembly) and the workers' seconds per stage
    for (const [stage, s] of Object.entries(perStage(jobs))) results.manifest.timings[`worker:${stage}`] = Math.round(s.seconds * 10) / 10;
    const written = await writeResults(ctx, results);
    await writeJsonAtomic(path.join(written.outDir, 'jobs.json'), { runId, queue: opts.url, cells: plan.length, wallSeconds: Math.round(wall * 10) / 10, workers: [...workers], perStage: perStage(jobs), jobs });
    return { results, extras, ...written, jobs };
  } finally {
    await closeExperiment(ctx);
  }
}

/** Jobs, total and mean worker seconds per stage. */
export function perStage(jobs: readonly JobReport[]): Record<string, { jobs: number; seconds: number; meanSeconds: number }> {
  const out: Record<string, { jobs: number; seconds: number; meanSeconds: number }> = {};
  for (const j of jobs) {
    const s = (out[j.stage] ??= { jobs: 0, seconds: 0, meanSeconds: 0 });
    s.jobs += 1;
    s.seconds += j.seconds;
  }
  for (const s of Object.values(out)) s.meanSeconds = Math.round((s.seconds / s.jobs) * 1000) / 1000;
  for (const s of Object.values(out)) s.seconds = Math.round(s.seconds * 1000) / 1000;
  return out;
}

function describeSource(s: ConfigSource): string {
  return s.demo ? `the ${s.demo} demo` : (s.file ?? 'the built-in defaults');
}

/**
 * A worker's side of one run: read the config the job names, check it is the submitter's, open
 * the dataset and plan. Cells run one after another share the opened run; the products of seeds
 * other than the running cell's are released when no other cell is running.
 */
export async function openQueuedRun(data: CellJobData, log: (msg: string) => void): Promise<OpenedRun> {
  const loaded = loadSourceConfig(data.source);
  const mine = configIdentity(loaded);
  if (mine !== data.config) {
    throw new ConfigError(`the config this worker reads (${describeSource(data.source)}, ${mine}) is not the one the run was submitted with (${data.config}): give every machine the same file`);
  }
  const cfg: ExperimentConfig = { ...loaded, cacheDir: data.cacheDir };
  const ctx: ExperimentContext = await openExperiment(cfg, log);
  let plan;
  try {
    plan = new Map(planExperiment(cfg, ctx.targets).map((c) => [c.id, c]));
  } catch (err) {
    await closeExperiment(ctx);
    throw err;
  }
  let running = 0;
  return {
    runCell: async (id) => {
      const cell = plan.get(id);
      if (!cell) throw new ConfigError(`cell '${id}' is not in this worker's plan of ${describeSource(data.source)}`);
      if (running === 0) for (const seed of cfg.seeds) if (seed !== cell.seed) releaseProducts(ctx, `s${seed}/`);
      running += 1;
      try {
        await runCell(ctx, cell);
      } finally {
        running -= 1;
      }
    },
    dispose: () => void closeExperiment(ctx),
  };
}
