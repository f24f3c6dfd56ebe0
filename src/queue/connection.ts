/**
 * The Redis behind the experiment queue (issue 19): `--queue redis://HOST:PORT[/DB]` parsed and
 * checked before anything is queued, and the BullMQ settings every submitter and worker share.
 */
import { ConfigError } from '../core/errors.js';

/** The one BullMQ queue every experiment's cells go through (runs are told apart by job id). */
export const QUEUE_NAME = 'auv-fusion-cells';

/** ioredis/BullMQ connection options for `url`. */
export interface QueueConnection {
  url: string;
  /** BullMQ workers block on Redis: commands wait for a reconnect instead of failing. */
  maxRetriesPerRequest: null;
  /** Reconnect after a Redis restart: 0.2 s, 0.4 s, ... at most 2 s apart, forever. */
  retryStrategy: (times: number) => number;
  [key: string]: unknown;
}

/** Parse `--queue URL`: redis:// or rediss://, a host, an optional port and database number. */
export function queueConnection(url: string, flag = '--queue'): QueueConnection {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new ConfigError(`${flag} '${url}' is not a URL; expected redis://HOST:PORT (e.g. redis://127.0.0.1:6379)`);
  }
  if (u.protocol !== 'redis:' && u.protocol !== 'rediss:') throw new ConfigError(`${flag} '${url}' must start with redis:// or rediss://`);
  if (!u.hostname) throw new ConfigError(`${flag} '${url}' names no host; expected redis://HOST:PORT`);
  if (u.pathname && u.pathname !== '/' && !/^\/\d+$/.test(u.pathname)) throw new ConfigError(`${flag} '${url}': the path must be a database number (e.g. /0)`);
  return { url, maxRetriesPerRequest: null, retryStrategy: (times: number) => Math.min(200 * times, 2000) };
}

/**
 * Worker lock settings. A worker renews its job's lock every lockDuration/2; a worker killed
 * with kill -9 stops renewing, and after lockDuration another worker's stalled check (every
 * stalledInterval) puts the job back in the queue. The lock must outlast the longest stretch a
 * cell keeps the event loop busy (a tfjs-wasm batch: well under a second on the demo), so the
 * default is generous; tests shorten it.
 */
export interface LockSettings {
  lockDuration: number;
  stalledInterval: number;
  /** A job whose worker died this many times is failed instead of retried again. */
  maxStalledCount: number;
}

export const DEFAULT_LOCK: LockSettings = { lockDuration: 60_000, stalledInterval: 30_000, maxStalledCount: 3 };

/** Attempts for a job that fails with a transient error (permanent errors fail at once). */
export const JOB_ATTEMPTS = 3;

/**
 * Fail fast, with one line, when no Redis answers at `url` (a wrong host or port, a firewall):
 * the queue's own clients would otherwise retry forever in silence.
 */
export async function checkReachable(url: string, timeoutMs = 10_000): Promise<void> {
  const { Redis } = await import('ioredis');
  const client = new Redis(url, { lazyConnect: true, connectTimeout: timeoutMs, maxRetriesPerRequest: 0, retryStrategy: () => null, enableOfflineQueue: false });
  let cause: (Error & { code?: string }) | undefined; // the socket's error (connect() only says the connection closed)
  client.on('error', (err: Error & { code?: string }) => (cause ??= err));
  try {
    await client.connect();
    await client.ping();
  } catch (err) {
    const e = cause ?? (err as Error & { code?: string });
    throw new ConfigError(`--queue ${url}: no Redis answers there (${e.code ?? e.message}); start redis-server on that host or fix the URL`);
  } finally {
    client.disconnect();
  }
}
