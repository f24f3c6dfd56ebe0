/**
 * Benchmark workload registry. A workload is set up once, warmed up, then `run` is timed several
 * times (each in its own child process, so peak RSS is per workload). Add one by dropping a file
 * in bench/workloads/ that calls `registerWorkload` (see bench/README.md).
 */
import * as tf from '@tensorflow/tfjs';
import { fastAdam } from '../src/core/kernels/adam.js';
import { fastKernelsEnabled } from '../src/core/kernels/index.js';

export interface Workload<C = any> {
  /** Unique kebab-case name, e.g. 'conv-block'; the PyTorch twin uses the same names. */
  name: string;
  /** One line: what one run computes. */
  description: string;
  /** Build inputs and parameters (not timed). */
  setup(): C | Promise<C>;
  /** One timed iteration; must leave every result computed (wasm/cpu are synchronous). */
  run(ctx: C): void | Promise<void>;
  /** Warm-up before timing; defaults to one `run`. Epoch workloads warm up on a few steps. */
  warmup?(ctx: C): void | Promise<void>;
  /** Release tensors (not timed). */
  teardown?(ctx: C): void | Promise<void>;
  /**
   * Floating-point operations per run, where well defined (then GFLOP/s is reported); 'counted':
   * the convolutions' and matMuls' FLOPs counted from the kernels of the warm-up run (./flops.ts).
   */
  flops?: number | ((ctx: C) => number) | 'counted';
  /** Timed runs unless --runs is given (default 5). */
  runs?: number;
  /** Long workloads (minutes): run only when named in --only, never by a plain `npm run bench`. */
  onlyWhenNamed?: boolean;
  /** Further figures of the workload (stage times, memory high-water marks), after the timed runs. */
  report?(ctx: C): Record<string, number>;
}

const registry = new Map<string, Workload>();

/**
 * Adam for the training workloads: the fused update (src/core/kernels/adam.ts) unless
 * AUV_WASM_FAST=0 asks for stock tfjs. Same arithmetic either way.
 */
export function benchAdam(lr: number): tf.AdamOptimizer {
  return fastKernelsEnabled() ? fastAdam(lr) : tf.train.adam(lr);
}

/** Register a workload; names must be unique. */
export function registerWorkload<C>(w: Workload<C>): void {
  if (!/^[a-z0-9][a-z0-9-]*$/.test(w.name)) throw new Error(`workload name '${w.name}' must be kebab-case`);
  if (registry.has(w.name)) throw new Error(`workload '${w.name}' is registered twice`);
  registry.set(w.name, w as Workload);
}

export function listWorkloads(): Workload[] {
  return [...registry.values()];
}

export function getWorkload(name: string): Workload | undefined {
  return registry.get(name);
}

/** Median of a non-empty list. */
export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}
