/**
 * The submitting side of a queued run (issue 19): releases each cell as a BullMQ job once its
 * dependencies are done, follows every job to the end and shows progress across all workers.
 *
 * The submitter is the only scheduler: a job is added only when its dependencies have completed
 * (so no worker ever waits on another), with a job id unique to this run. It learns of finished
 * jobs from BullMQ's events and, every few seconds, reads the state of every job in flight rather
 * than trusting events alone, so a Redis restart (events missed, or the queue lost when Redis
 * keeps no data on disk) only delays the run: a job Redis no longer knows is added again, and its
 * rerun finds its product in the content-addressed cache.
 */
import { Queue, QueueEvents, type Job } from 'bullmq';
import { ConfigError, InputError, KnowledgeError } from '../core/errors.js';
import { Progress } from '../core/progress.js';
import { checkReachable, JOB_ATTEMPTS, QUEUE_NAME, queueConnection } from './connection.js';
import { checkGraph, jobId, readyCells, type CellJobData, type CellJobResult, type GraphCell } from './jobs.js';

/** Milliseconds between full checks of every job in flight (at least; see the loop). */
const RECONCILE_MS = 2000;
/** State reads sent at once. */
const BATCH = 500;

/** One finished job: which cell, on which worker, how long the worker spent on it. */
export interface JobReport extends CellJobResult {
  cellId: string;
  stage: string;
  /** Seconds from the job's creation to its start (time spent waiting for a worker). */
  waited: number;
  attempts: number;
}

export interface SubmitOptions {
  url: string;
  runId: string;
  cells: readonly GraphCell[];
  data: (cell: GraphCell) => CellJobData;
  quiet?: boolean;
  pollMs?: number;
  log?: (msg: string) => void;
}

/** The error a permanently failed job ends the run with: the worker's own error class when known. */
function jobFailure(cellId: string, reason: string): Error {
  const m = /^(ConfigError|InputError|KnowledgeError): ([\s\S]*)$/.exec(reason);
  const text = `cell '${cellId}' failed: ${m ? m[2] : reason}`;
  if (m?.[1] === 'ConfigError') return new ConfigError(text);
  if (m?.[1] === 'InputError') return new InputError(text);
  if (m?.[1] === 'KnowledgeError') return new KnowledgeError(text);
  return new Error(text);
}

/** Submit the cells as jobs and wait until all are done; rejects with the first permanent failure. */
export async function submitAndWait(opts: SubmitOptions): Promise<JobReport[]> {
  checkGraph(opts.cells);
  await checkReachable(opts.url);
  const queue = new Queue<CellJobData, CellJobResult>(QUEUE_NAME, { connection: queueConnection(opts.url) });
  const log = opts.log ?? (() => undefined);
  const bar = new Progress('cells', opts.cells.length, opts.quiet === undefined ? {} : { quiet: opts.quiet });
  const done = new Set<string>();
  const submitted = new Set<string>();
  const byId = new Map(opts.cells.map((c) => [c.id, c]));
  const reports: JobReport[] = [];
  const add = async (cells: readonly GraphCell[]): Promise<void> => {
    if (cells.length === 0) return;
    await queue.addBulk(
      cells.map((c) => ({
        name: c.stage,
        data: opts.data(c),
        opts: { jobId: jobId(opts.runId, c.id), attempts: JOB_ATTEMPTS, backoff: { type: 'exponential', delay: 2000 }, removeOnComplete: { age: 7 * 86400 }, removeOnFail: { age: 7 * 86400 } },
      })),
    );
    for (const c of cells) submitted.add(c.id);
  };
  // while Redis is unreachable the client retries by itself; say so once per outage
  let down = false;
  queue.on('error', (err: Error & { code?: string }) => {
    if (!down) log(`Redis unreachable (${err.code ?? err.message}): waiting for it to come back`);
    down = true;
  });
  // completions arrive as events (a Redis stream); every so often all jobs in flight are checked
  // anyway, so an event missed during an outage, or a job Redis lost, is still noticed
  const events = new QueueEvents(QUEUE_NAME, { connection: queueConnection(opts.url) });
  events.on('error', () => undefined); // the queue's handler above reports outages
  const prefix = `${opts.runId}.`;
  const touched = new Set<string>();
  const touch = ({ jobId: jid }: { jobId: string }): void => {
    if (jid.startsWith(prefix)) touched.add(jid);
  };
  events.on('completed', touch);
  events.on('failed', touch);
  let lastFull = 0;
  let active = 0;
  try {
    await events.waitUntilReady();
    log(`queue ${QUEUE_NAME} at ${opts.url}: run ${opts.runId}, ${opts.cells.length} cells`);
    while (done.size < opts.cells.length) {
      await add(readyCells(opts.cells, done, submitted));
      if (down) log('Redis is back');
      down = false;
      const inFlight = [...submitted].filter((id) => !done.has(id));
      // a full check at most every RECONCILE_MS (longer with many jobs: about 1,000 state reads a second)
      const full = Date.now() - lastFull > Math.max(RECONCILE_MS, inFlight.length);
      const check = full ? inFlight : inFlight.filter((id) => touched.has(jobId(opts.runId, id)));
      touched.clear();
      if (full) lastFull = Date.now();
      const states = await inBatches(check, (id) => queue.getJobState(jobId(opts.runId, id)));
      const lost: GraphCell[] = [];
      if (full) active = 0;
      for (const [k, id] of check.entries()) {
        const state = states[k]!;
        if (state === 'completed' || state === 'failed') {
          const job = (await queue.getJob(jobId(opts.runId, id))) as Job<CellJobData, CellJobResult> | undefined;
          if (!job) continue; // removed between the two calls: seen again at the next full check
          if (state === 'failed') throw jobFailure(id, job.failedReason);
          done.add(id);
          reports.push({ cellId: id, stage: byId.get(id)!.stage, ...job.returnvalue, waited: ((job.processedOn ?? job.timestamp) - job.timestamp) / 1000, attempts: job.attemptsMade });
          bar.tick(1, `${id} on ${job.returnvalue.host}:${job.returnvalue.pid}`);
        } else if (state === 'active' && full) {
          active += 1;
        } else if (state === 'unknown') {
          lost.push(byId.get(id)!);
        }
      }
      if (lost.length > 0) {
        log(`Redis no longer knows ${lost.length} job(s) (restarted without its data?): adding them again`);
        for (const c of lost) submitted.delete(c.id);
        await add(lost);
      }
      if (done.size < opts.cells.length) {
        bar.info(`${active} running`);
        await new Promise((r) => setTimeout(r, opts.pollMs ?? 250));
      }
    }
    bar.finish();
    return reports;
  } catch (err) {
    // a failed run leaves no work behind for the workers: its jobs not yet started are removed
    // (the failed job stays, with its reason, for `removeOnFail` days)
    for (const id of submitted) {
      if (done.has(id)) continue;
      const jid = jobId(opts.runId, id);
      const state = await queue.getJobState(jid).catch(() => 'unknown');
      if (state === 'waiting' || state === 'delayed' || state === 'prioritized' || state === 'waiting-children') await queue.remove(jid).catch(() => 0);
    }
    throw err;
  } finally {
    await events.close();
    await queue.close();
  }
}

/** `fn` over `items`, BATCH requests at a time (one connection pipelines them). */
async function inBatches<T, R>(items: readonly T[], fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = [];
  for (let s = 0; s < items.length; s += BATCH) out.push(...(await Promise.all(items.slice(s, s + BATCH).map(fn))));
  return out;
}
