/**
 * The worker side of a queued run (issue 19): takes cell jobs from the queue and runs them against
 * the shared artefact cache. A worker holds the opened run (config, dataset, plan) of the last
 * runs it served, so consecutive cells of one run do not reopen the dataset.
 *
 * Errors that another attempt cannot fix (a bad config, bad input, a knowledge violation, a
 * worker whose config differs from the submitter's) fail the job at once with BullMQ's
 * UnrecoverableError and the error's class in the message; anything else is retried (JOB_ATTEMPTS).
 */
import os from 'node:os';
import { UnrecoverableError, Worker, type Job } from 'bullmq';
import { ConfigError, InputError, KnowledgeError } from '../core/errors.js';
import { DEFAULT_LOCK, QUEUE_NAME, queueConnection, type LockSettings } from './connection.js';
import type { CellJobData, CellJobResult } from './jobs.js';

/** One opened run: runs its cells by id. */
export interface OpenedRun {
  runCell(cellId: string): Promise<void>;
  dispose(): void;
}

/** Opens the run a job belongs to (reads its config, checks it is the submitter's, plans it). */
export type OpenRun = (data: CellJobData) => Promise<OpenedRun>;

export interface WorkerOptions {
  url: string;
  openRun: OpenRun;
  concurrency?: number;
  lock?: Partial<LockSettings>;
  log?: (msg: string) => void;
}

/** Runs that stay open in one worker (the submitter's runs rarely interleave). */
const KEEP_RUNS = 2;

/** True for the errors a retry cannot fix. */
export function isPermanent(err: unknown): err is Error {
  return err instanceof ConfigError || err instanceof InputError || err instanceof KnowledgeError || err instanceof UnrecoverableError;
}

/** Start a worker; it runs until `close()` (which waits for the jobs in hand). */
export function startWorker(opts: WorkerOptions): { worker: Worker<CellJobData, CellJobResult>; close: () => Promise<void> } {
  const log = opts.log ?? (() => undefined);
  const name = `${os.hostname()}:${process.pid}`;
  const runs = new Map<string, Promise<OpenedRun>>();
  const opened = (data: CellJobData): Promise<OpenedRun> => {
    let r = runs.get(data.runId);
    if (!r) {
      r = opts.openRun(data);
      r.catch(() => runs.delete(data.runId)); // a failed open is retried by the next job
      runs.set(data.runId, r);
      while (runs.size > KEEP_RUNS) {
        const [oldest, run] = runs.entries().next().value as [string, Promise<OpenedRun>];
        runs.delete(oldest);
        void run.then((x) => x.dispose(), () => undefined);
      }
    }
    return r;
  };
  const processor = async (job: Job<CellJobData, CellJobResult>): Promise<CellJobResult> => {
    const t0 = performance.now();
    log(`${job.data.cellId} (run ${job.data.runId}, attempt ${job.attemptsMade + 1})`);
    try {
      const run = await opened(job.data);
      await run.runCell(job.data.cellId);
    } catch (err) {
      if (isPermanent(err)) throw new UnrecoverableError(`${err.name}: ${err.message}`);
      throw err;
    }
    const seconds = (performance.now() - t0) / 1000;
    log(`${job.data.cellId} done in ${seconds.toFixed(1)} s`);
    return { host: os.hostname(), pid: process.pid, seconds };
  };
  const lock = { ...DEFAULT_LOCK, ...opts.lock };
  const worker = new Worker<CellJobData, CellJobResult>(QUEUE_NAME, processor, {
    connection: queueConnection(opts.url),
    concurrency: opts.concurrency ?? 1,
    name,
    ...lock,
  });
  worker.on('failed', (job, err) => log(`${job?.data.cellId ?? '?'} failed: ${err.message}`));
  let down = false;
  worker.on('error', (err: Error & { code?: string }) => {
    if (err.code === 'ECONNREFUSED' || err.code === 'ECONNRESET') {
      if (!down) log(`Redis unreachable (${err.code}): waiting for it to come back`);
      down = true;
    } else log(`queue error: ${err.message}`);
  });
  worker.on('ready', () => {
    if (down) log('Redis is back');
    down = false;
  });
  return {
    worker,
    close: async () => {
      await worker.close();
      for (const r of runs.values()) await r.then((x) => x.dispose(), () => undefined);
      runs.clear();
    },
  };
}
