/**
 * Issue 19: the job graph of a small config. The plan's cells go through a real redis-server and
 * BullMQ; an in-test worker records the order cells start in and checks that each cell's
 * dependencies had finished before it started: no cell missing, none twice, none early.
 */
import { Worker } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../experiment/config.js';
import { planExperiment } from '../experiment/stages/plan.js';
import { startRedis, type TestRedis } from '../../test/queue/redis.js';
import { checkReachable, QUEUE_NAME, queueConnection } from './connection.js';
import { checkGraph, jobId, readyCells, type CellJobData, type GraphCell } from './jobs.js';
import { submitAndWait } from './submit.js';

let redis: TestRedis;
beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  await redis?.stop();
});

describe('job graph', () => {
  it('rejects a plan with a missing dependency, a doubled id or a cycle', () => {
    const c = (id: string, deps: string[] = []): GraphCell => ({ id, stage: 'x', deps });
    expect(() => checkGraph([c('a'), c('b', ['a'])])).not.toThrow();
    expect(() => checkGraph([c('a'), c('b', ['z'])])).toThrow(/'b' depends on 'z', which is not in the plan/);
    expect(() => checkGraph([c('a'), c('a')])).toThrow(/'a' appears twice/);
    expect(() => checkGraph([c('a', ['b']), c('b', ['a']), c('d')])).toThrow(/2 cells are in a dependency cycle/);
    expect(readyCells([c('a'), c('b', ['a']), c('d')], new Set(), new Set(['d'])).map((x) => x.id)).toEqual(['a']);
    expect(jobId('r1', 's1/attack/x:y')).toBe('r1.s1/attack/x~y');
  });

  it('names a queue URL that is not one, or where no Redis answers, before any work', async () => {
    expect(() => queueConnection('localhost:6379')).toThrow(/must start with redis:\/\/ or rediss:\/\//);
    expect(() => queueConnection('redis://h:1/x')).toThrow(/the path must be a database number/);
    await expect(checkReachable(redis.url)).resolves.toBeUndefined();
    await expect(checkReachable('redis://127.0.0.1:1')).rejects.toThrow(/--queue redis:\/\/127\.0\.0\.1:1: no Redis answers there \(ECONNREFUSED\)/);
  });

  it('queues every cell of a small config exactly once, each after its dependencies', async () => {
    const cfg = parseConfig({
      dataset: 'synth:tiny:1',
      seeds: [1, 2],
      victims: ['bpr-mf', 'vbpr', 'amr'],
      protocols: ['full', 'aip'],
      defences: ['jpeg'],
      attackChunk: 3,
      attacks: [{ name: 'none' }, { name: 'random' }, { name: 'insa' }, { name: 'expa' }],
    });
    const targets = [0, 1, 2, 3, 4, 5, 6];
    const cells = planExperiment(cfg, targets);
    checkGraph(cells);
    // 3 chunks of at most 3 targets; insa crafted per visual victim, the others once
    expect(cells.filter((c) => c.stage === 'attack' && c.seed === 1).map((c) => c.id).sort()).toEqual(
      ['s1/attack/expa/any/c0', 's1/attack/expa/any/c1', 's1/attack/expa/any/c2', 's1/attack/insa/amr/c0', 's1/attack/insa/amr/c1', 's1/attack/insa/amr/c2', 's1/attack/insa/vbpr/c0', 's1/attack/insa/vbpr/c1', 's1/attack/insa/vbpr/c2', 's1/attack/random/any/c0', 's1/attack/random/any/c1', 's1/attack/random/any/c2'],
    );
    const finished = new Set<string>();
    const started: string[] = [];
    const early: string[] = [];
    const cellById = new Map(cells.map((c) => [c.id, c]));
    const worker = new Worker<CellJobData>(
      QUEUE_NAME,
      async (job) => {
        const cell = cellById.get(job.data.cellId)!;
        started.push(cell.id);
        if (!cell.deps.every((d) => finished.has(d))) early.push(cell.id);
        await new Promise((r) => setTimeout(r, 2));
        finished.add(cell.id);
        return { host: 'test', pid: process.pid, seconds: 0.002 };
      },
      { connection: queueConnection(redis.url), concurrency: 4 },
    );
    try {
      const reports = await submitAndWait({
        url: redis.url,
        runId: 'graph',
        cells,
        data: (c) => ({ runId: 'graph', cellId: c.id, stage: c.stage, source: { sets: [] }, config: 'x', cacheDir: '/nonexistent' }),
        quiet: true,
        pollMs: 20,
      });
      expect(early).toEqual([]);
      expect([...started].sort()).toEqual(cells.map((c) => c.id).sort()); // each cell once
      expect(reports.map((r) => r.cellId).sort()).toEqual(cells.map((c) => c.id).sort());
      expect(reports.every((r) => r.attempts === 1)).toBe(true);
    } finally {
      await worker.close();
    }
  });
});
