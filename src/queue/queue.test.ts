/**
 * Issue 19: an experiment through BullMQ on a real redis-server, with real `auv-fusion worker`
 * processes sharing one artefact cache. The rows equal a local single-process run's; a worker
 * killed with kill -9 mid-job has its job finished by another worker, and a Redis restart mid-run
 * changes nothing, with the same rows; a job
 * that fails for a reason a retry cannot fix fails once and the submitting process exits 1 with
 * its message.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Queue } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig, type ExperimentConfig } from '../experiment/config.js';
import { runExperiment } from '../experiment/runner.js';
import { startRedis, type TestRedis } from '../../test/queue/redis.js';
import { QUEUE_NAME, queueConnection } from './connection.js';
import { runExperimentQueued } from './experiment-run.js';

const root = mkdtempSync(path.join(tmpdir(), 'auv-queue-'));
const repo = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..', '..');
const cli = path.join(repo, 'src', 'cli', 'main.ts');
let redis: TestRedis;
const children: ChildProcess[] = [];

beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  await redis?.stop();
  rmSync(root, { recursive: true, force: true });
});

/** A small experiment: tiny catalogue, one seed, two victims, three attacks, few epochs. */
function smallConfig(name: string): Record<string, unknown> {
  return {
    name,
    dataset: 'synth:tiny:1',
    seeds: [1],
    victims: ['bpr-mf', 'vbpr'],
    encoders: { victim: { epochs: 1 }, surrogate: { epochs: 1 }, semantic: { epochs: 1 } },
    victimConfig: { epochs: 3 },
    surrogate: { epochs: 1 },
    maxTargets: 6,
    attackChunk: 3,
    evalUsers: 40,
    attacks: [{ name: 'none' }, { name: 'random', params: { budget: 16 } }, { name: 'expa', params: { budget: 16, steps: 3 } }],
    cacheDir: path.join(root, `cache-${name}`),
    out: path.join(root, `out-${name}`),
  };
}

function configFile(name: string): { file: string; cfg: ExperimentConfig } {
  const raw = smallConfig(name);
  const file = path.join(root, `${name}.json`);
  writeFileSync(file, JSON.stringify(raw));
  return { file, cfg: parseConfig(raw) };
}

/** Start `auv-fusion worker` as its own process; resolves once it is taking jobs. */
function startWorker(lockMs = 5000): Promise<ChildProcess> {
  const p = spawn(process.execPath, ['--import', 'tsx', cli, 'worker', '--queue', redis.url, '--lock-ms', String(lockMs)], {
    cwd: repo,
    env: { ...process.env, AUV_WASM_THREADS: '1', AUV_QUIET: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(p);
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    p.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('ready')) resolve(p);
    });
    p.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    p.on('exit', (code) => reject(new Error(`worker exited ${code}: ${err.slice(-600)}`)));
  });
}

function stop(p: ChildProcess): Promise<void> {
  if (p.exitCode !== null || p.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    p.once('exit', () => resolve());
    p.kill('SIGTERM');
  });
}

describe('experiment through the queue', () => {
  // the local single-process run of the same config (once, for the tests that compare with it)
  let local: ReturnType<typeof runExperiment> | undefined;
  const reference = () => (local ??= runExperiment(parseConfig(smallConfig('local')), { quiet: true }));

  it('two worker processes give the rows of the local run', async () => {
    const { file, cfg } = configFile('two');
    const workers = [await startWorker(), await startWorker()];
    try {
      const out = await runExperimentQueued(cfg, { url: redis.url, source: { file, sets: [] }, quiet: true });
      const ref = await reference();
      expect(out.results.rows).toEqual(ref.results.rows);
      expect(JSON.parse(readFileSync(out.files.json, 'utf8')).rows).toEqual(ref.results.rows);
      expect(readFileSync(out.files.csv, 'utf8')).toBe(readFileSync(ref.files.csv, 'utf8'));
      const jobs = JSON.parse(readFileSync(path.join(out.outDir, 'jobs.json'), 'utf8')) as { cells: number; jobs: { cellId: string; pid: number }[] };
      expect(new Set(jobs.jobs.map((j) => j.cellId)).size).toBe(jobs.cells);
      expect(new Set(jobs.jobs.map((j) => j.pid))).toEqual(new Set(workers.map((w) => w.pid))); // both took cells
    } finally {
      await Promise.all(workers.map(stop));
    }
  });

  it('a worker killed with kill -9 mid-job, then Redis restarted: another worker finishes the job, same rows', async () => {
    const { file, cfg } = configFile('killed');
    const a = await startWorker(3000);
    const b = await startWorker(3000);
    const queue = new Queue(QUEUE_NAME, { connection: queueConnection(redis.url) });
    queue.on('error', () => undefined); // the restart below
    let killedCell = '';
    const watch = (async () => {
      // kill worker a as soon as it holds a job
      for (let i = 0; i < 3000 && !killedCell; i++) {
        for (const job of await queue.getActive()) {
          if (job.processedBy?.endsWith(`:${a.pid}`)) {
            a.kill('SIGKILL');
            killedCell = job.data.cellId as string;
          }
        }
        await new Promise((r) => setTimeout(r, 50));
      }
    })();
    // then Redis goes down for a second and comes back (its append-only file keeps the queue)
    let backAt = 0;
    const restarted = watch.then(async () => {
      await new Promise((r) => setTimeout(r, 500));
      await redis.restart(1000);
      backAt = Date.now();
    });
    try {
      const out = await runExperimentQueued(cfg, { url: redis.url, source: { file, sets: [] }, quiet: true });
      const endedAt = Date.now();
      await restarted;
      expect(backAt).toBeGreaterThan(0);
      expect(backAt).toBeLessThan(endedAt); // the restart happened while the run was going on
      expect(killedCell).not.toBe('');
      expect(a.signalCode).toBe('SIGKILL');
      const finished = out.jobs.find((j) => j.cellId === killedCell)!;
      expect(finished.pid).toBe(b.pid); // retried elsewhere
      expect(out.results.rows).toEqual((await reference()).results.rows);
    } finally {
      await queue.close();
      await stop(b);
    }
  });

  it('a job that cannot succeed fails once; the submitting process exits 1 with its message', async () => {
    const { file } = configFile('bad');
    const submitter = spawn(process.execPath, ['--import', 'tsx', cli, '--quiet', 'run', file, '--queue', redis.url], { cwd: repo, env: { ...process.env, AUV_QUIET: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(submitter);
    let stderr = '';
    submitter.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((r) => submitter.on('exit', (code) => r(code)));
    // once the first job is queued, the file changes under the run: no worker may run it
    const queue = new Queue(QUEUE_NAME, { connection: queueConnection(redis.url) });
    while ((await queue.getWaitingCount()) === 0) await new Promise((r) => setTimeout(r, 50));
    writeFileSync(file, JSON.stringify({ ...smallConfig('bad'), seeds: [2] }));
    const w = await startWorker();
    try {
      expect(await exited).toBe(1);
      const lines = stderr.trim().split('\n');
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(/^auv-fusion: error: cell 'encoders' failed: the config this worker reads \(.*bad\.json, [0-9a-f]+\) is not the one the run was submitted with \([0-9a-f]+\): give every machine the same file$/);
      const failed = await queue.getFailed();
      expect(failed).toHaveLength(1);
      expect(failed[0]!.attemptsMade).toBe(1); // not retried
      expect(await queue.getWaitingCount()).toBe(0);
    } finally {
      await queue.close();
      await stop(w);
    }
  });
});
