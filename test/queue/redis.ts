/**
 * A real redis-server for the queue tests (the Debian package, as a user starts it): on a free
 * local port, its data in a temporary folder (append-only file on, so a restart keeps the queue),
 * stopped by the test. Not a mock.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';

export interface TestRedis {
  url: string;
  /** Stop (SIGTERM: Redis writes its data) and start again on the same port and folder. */
  restart(downMs?: number): Promise<void>;
  stop(): Promise<void>;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

function launch(port: number, dir: string): Promise<ChildProcess> {
  return new Promise((resolve, reject) => {
    const p = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--appendonly', 'yes', '--save', '', '--protected-mode', 'yes'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    const timer = setTimeout(() => {
      p.kill('SIGKILL');
      reject(new Error(`redis-server did not start: ${out.slice(-400)}`));
    }, 15_000);
    p.on('error', (err) => {
      clearTimeout(timer);
      reject(new Error(`cannot start redis-server (apt-get install redis-server): ${err.message}`));
    });
    p.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('Ready to accept connections')) {
        clearTimeout(timer);
        resolve(p);
      }
    });
  });
}

function stopProcess(p: ChildProcess): Promise<void> {
  if (p.exitCode !== null || p.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    p.once('exit', () => resolve());
    p.kill('SIGTERM');
  });
}

export async function startRedis(): Promise<TestRedis> {
  const dir = mkdtempSync(path.join(tmpdir(), 'auv-redis-'));
  const port = await freePort();
  let proc = await launch(port, dir);
  return {
    url: `redis://127.0.0.1:${port}`,
    restart: async (downMs = 1000) => {
      await stopProcess(proc);
      await new Promise((r) => setTimeout(r, downMs));
      proc = await launch(port, dir);
    },
    stop: async () => {
      await stopProcess(proc);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
