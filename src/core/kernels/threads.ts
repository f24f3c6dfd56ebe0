/**
 * Multi-threaded wasm backend under Node. tfjs turns threads off in Node (its thread check
 * returns false, tfjs issue 3830) and hands emscripten a `blob:` URL for the pthread worker
 * and the main script, which Node's worker_threads rejects (ERR_WORKER_PATH). Here the worker
 * source is written to a file once, the global `Worker` that emscripten uses under Node is a
 * worker_threads.Worker subclass that loads that file and rewrites the 'load' message's script
 * Blob to the threaded factory's path in node_modules. Must run before the wasm backend
 * initialises; AUV_WASM_THREADS=0 (or 1) keeps the single-threaded build.
 */
import { createHash } from 'node:crypto';
import { existsSync, renameSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { Worker as NodeWorker, type WorkerOptions } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs';
import { setThreadsCount } from '@tensorflow/tfjs-backend-wasm';

let enabled = 0;

/**
 * Threads asked for by AUV_WASM_THREADS (0 or 1 = single-threaded). Default: all cores, except
 * under vitest, which already runs test files in parallel processes (threads there only
 * oversubscribe the cores: the core tests took ~30% longer), and except where the native addon
 * runs (`native`): then the heavy kernels use the addon's OpenMP threads, and a second pool
 * (XNNPACK's workers spin after each op it threads) only competes with them for the cores:
 * the attack step's Softmax, Sigmoid and small matMuls stalled up to ~2 ms per call. The same
 * values either way (XNNPACK splits work by rows, not along a sum).
 */
export function requestedWasmThreads(native = false): number {
  const raw = process.env.AUV_WASM_THREADS;
  if (raw === undefined || raw === '') return process.env.VITEST || native ? 1 : os.cpus().length;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0) throw new Error(`AUV_WASM_THREADS must be a non-negative integer, got '${raw}'`);
  return n;
}

/**
 * Switch the (not yet initialised) wasm backend to its threaded SIMD build with `threads`
 * threads. Returns false, changing nothing, when threads <= 1 or the files are missing.
 */
export function enableWasmThreads(threads: number): boolean {
  if (threads <= 1) return false;
  if (enabled) return true;
  const require = createRequire(import.meta.url);
  const root = path.resolve(path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm')), '..');
  const mainJs = path.join(root, 'wasm-out', 'tfjs-backend-wasm-threaded-simd.js');
  const workerMod = path.join(root, 'wasm-out', 'tfjs-backend-wasm-threaded-simd.worker.js');
  if (!existsSync(mainJs) || !existsSync(workerMod)) return false;
  // As tfjs does for its Blob: the template literal turned '\\n' escapes into real newlines.
  const source = (require(workerMod) as { wasmWorkerContents: string }).wasmWorkerContents.replace(/\n/g, '\\n');
  const tag = createHash('sha256').update(source).digest('hex').slice(0, 16);
  const workerFile = path.join(os.tmpdir(), `auv-tfjs-wasm-worker-${tag}.cjs`);
  if (!existsSync(workerFile)) {
    const tmp = `${workerFile}.${process.pid}.tmp`;
    writeFileSync(tmp, source);
    renameSync(tmp, workerFile);
  }

  class FileWorker extends NodeWorker {
    constructor(_url: unknown, opts?: WorkerOptions) {
      // No inherited loaders (tsx): the worker is plain CommonJS.
      super(workerFile, { ...opts, execArgv: [] });
      this.unref();
    }
    // Emscripten refs a worker while its pthread runs; the thread pool's threads run forever,
    // which would keep Node from exiting. They never need to hold the process open.
    override ref(): void {}
    override postMessage(...args: Parameters<NodeWorker['postMessage']>): void {
      const m = args[0] as { cmd?: string; urlOrBlob?: unknown } | null;
      if (m && m.cmd === 'load' && typeof m.urlOrBlob !== 'string') args[0] = { ...m, urlOrBlob: mainJs };
      super.postMessage(...args);
    }
  }
  // Emscripten assigns global.Worker = worker_threads.Worker when it starts; keep ours.
  Object.defineProperty(globalThis, 'Worker', {
    configurable: true,
    get: () => FileWorker,
    set: () => {},
  });
  tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', true);
  setThreadsCount(threads);
  // The backend caps threads at emscripten_num_logical_cores() / 2 (it assumes two hyper-threads
  // per core), read once through os.cpus() when the module starts: report 2x until then.
  const cpus = os.cpus;
  restoreCpus = () => {
    os.cpus = cpus;
    restoreCpus = null;
  };
  os.cpus = () => {
    const c = cpus();
    while (c.length < 2 * threads) c.push(...cpus());
    return c;
  };
  enabled = threads;
  return true;
}

let restoreCpus: (() => void) | null = null;

/** Call once the wasm backend has initialised (undoes the os.cpus shim). */
export function wasmThreadsInitialised(): void {
  restoreCpus?.();
}
