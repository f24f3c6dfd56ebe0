/**
 * The tensor engine: tfjs with the wasm backend by default and the pure-JS cpu backend as a
 * fallback. `initEngine` must be awaited once before the first tensor op; it registers the wasm
 * kernels that tfjs lacks (see ./kernels) so that gradients through conv2d and gather work.
 */
import * as tf from '@tensorflow/tfjs';
import { getThreadsCount } from '@tensorflow/tfjs-backend-wasm';
import { ConfigError } from './errors.js';
import { registerMissingWasmKernels } from './kernels/index.js';
import { nativeAddon } from './kernels/native.js';
import { enableWasmThreads, requestedWasmThreads, wasmThreadsInitialised } from './kernels/threads.js';

export type BackendName = 'wasm' | 'cpu';
export const BACKENDS: readonly BackendName[] = ['wasm', 'cpu'];

let current: BackendName | null = null;
let wasmStarted = false;

export interface EngineOptions {
  /** Backend to use; default from AUV_BACKEND or 'wasm'. */
  backend?: BackendName;
}

/** Select and initialise the backend. Safe to call more than once. */
export async function initEngine(opts: EngineOptions = {}): Promise<BackendName> {
  const wanted = opts.backend ?? (process.env.AUV_BACKEND as BackendName | undefined) ?? 'wasm';
  if (!BACKENDS.includes(wanted)) {
    throw new ConfigError(`unknown backend '${wanted}' (AUV_BACKEND / --backend): allowed values are ${BACKENDS.join(', ')}`);
  }
  if (current === wanted && tf.getBackend() === wanted) return wanted;
  if (wanted === 'wasm') {
    registerMissingWasmKernels();
    // Threads take effect only if the wasm backend has not initialised yet (first call).
    if (!wasmStarted) enableWasmThreads(requestedWasmThreads(nativeAddon() !== null));
    wasmStarted = true;
  }
  const ok = await tf.setBackend(wanted);
  if (wanted === 'wasm') wasmThreadsInitialised();
  if (!ok) throw new Error(`the ${wanted} backend failed to initialise`);
  await tf.ready();
  // Production mode skips per-op NaN checks; we keep our own checks in the training loops.
  tf.env().set('PROD', true);
  current = wanted;
  return wanted;
}

/** The backend in use (initEngine must have run). */
export function engineBackend(): BackendName {
  return (current ?? tf.getBackend()) as BackendName;
}

/** Threads the wasm backend runs with (AUV_WASM_THREADS, default all cores; see ./kernels/threads). */
export function wasmThreads(): number {
  return getThreadsCount();
}

export { tf };
