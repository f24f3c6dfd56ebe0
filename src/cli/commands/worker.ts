/**
 * `auv-fusion worker --queue redis://HOST:PORT`: take the cells of queued experiments (issue 19)
 * and run them against the shared artefact cache, until stopped (Ctrl-C / SIGTERM finish the
 * cells in hand first; kill -9 hands them to another worker after the lock expires).
 */
import type { Command } from 'commander';
import { ConfigError } from '../../core/errors.js';
import { checkReachable, DEFAULT_LOCK, queueConnection } from '../../queue/connection.js';

function positiveInt(flag: string) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1) throw new ConfigError(`${flag} must be a whole number >= 1, got '${v}'`);
    return n;
  };
}

export function registerWorkerCommands(program: Command): void {
  program
    .command('worker')
    .description('Run the cells of experiments queued with `run CONFIG --queue URL` (any number of workers, on any machine that shares the cache folder)')
    .requiredOption('--queue <url>', 'the Redis the experiments are queued on, e.g. redis://10.0.0.5:6379')
    .option('--concurrency <n>', 'cells run at once in this process', positiveInt('--concurrency'), 1)
    .option('--lock-ms <ms>', `how long a job stays locked without a heartbeat before another worker takes it over (kill -9, lost machine)`, positiveInt('--lock-ms'), DEFAULT_LOCK.lockDuration)
    .action(async (o: { queue: string; concurrency: number; lockMs: number }) => {
      queueConnection(o.queue); // a bad URL, or no Redis there, is reported before anything starts
      await checkReachable(o.queue);
      const quiet = process.env.AUV_QUIET === '1';
      const log = (msg: string): void => {
        if (!quiet) process.stderr.write(`worker ${process.pid}: ${msg}\n`);
      };
      const { openQueuedRun } = await import('../../queue/experiment-run.js'); // BullMQ only for this command
      const { startWorker } = await import('../../queue/worker.js');
      const w = startWorker({
        url: o.queue,
        openRun: (data) => openQueuedRun(data, log),
        concurrency: o.concurrency,
        lock: { lockDuration: o.lockMs, stalledInterval: Math.max(500, Math.round(o.lockMs / 2)) },
        log,
      });
      await w.worker.waitUntilReady();
      log(`waiting for cells on ${o.queue} (concurrency ${o.concurrency})`);
      process.stdout.write(`worker ${process.pid} ready\n`);
      await new Promise<void>((resolve) => {
        const stop = (): void => {
          log('stopping after the cells in hand');
          void w.close().then(resolve);
        };
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
    });
}
