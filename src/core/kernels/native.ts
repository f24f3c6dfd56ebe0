/**
 * Loader for the project's Node-API addon (native/*.cc, built at install by
 * scripts/build-native.mjs into native/build/auv_native.node). Its functions work in place on
 * Float32Array views, here views of the tfjs wasm heap, so no tensor is copied.
 *
 * AUV_NATIVE: unset = use the addon when it was built, '0' = never (the wasm kernels), '1' =
 * require it (an error when it is missing). AUV_NATIVE_THREADS: threads per native call
 * (default: all cores; 1 under vitest, which already runs test files in parallel processes).
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigError } from '../errors.js';

export interface NativeAddon {
  /** params: Int32Array [n,h,w,ci, oh,ow,co, kh,kw, sh,sw, pt,pl, dh,dw] for every conv call. */
  conv2d(x: Float32Array, filter: Float32Array, y: Float32Array, params: Int32Array): void;
  conv2dBackpropInput(dy: Float32Array, filter: Float32Array, dx: Float32Array, params: Int32Array): void;
  conv2dBackpropFilter(x: Float32Array, dy: Float32Array, df: Float32Array, params: Int32Array): void;
  /** params: Int32Array [batch, broadcastA, broadcastB, M, N, K, transA, transB]. */
  batchMatMul(a: Float32Array, b: Float32Array, c: Float32Array, params: Int32Array): void;
  /** op 0 add, 1 sub, 2 mul, 3 div, 4 max, 5 min; dims Int32Array [rank, shape, stridesA, stridesB]. */
  binary(op: number, a: Float32Array, b: Float32Array, out: Float32Array, dims: Int32Array): void;
  /** out = op(x) element-wise, op 0 square, 1 neg, 2 relu, 3 abs, 4 clip to [lo, hi] (exact: the wasm kernels' bits). */
  unary(op: number, x: Float32Array, out: Float32Array, lo?: number, hi?: number): void;
  /** dims Int32Array [rank, shape, outStrides (0 = summed over)]; out /= divisor. */
  reduceSum(x: Float32Array, out: Float32Array, dims: Int32Array, outSize: number, divisor: number): void;
  copy(src: Float32Array, dst: Float32Array): void;
  /** tf.concat: out[b] = [src0[b], src1[b], ...], src i's rows of inner[i] elements, b < outer (1 to 13 inputs). */
  concat(out: Float32Array, outer: number, inner: Int32Array, ...srcs: Float32Array[]): void;
  /** The inverse (SplitV): src[b] cut into runs of inner[i] elements, run i to dsts[i][b] (1 to 13 outputs). */
  split(src: Float32Array, outer: number, inner: Int32Array, ...dsts: Float32Array[]): void;
  /** tf.gather rows: x [batch, outer, dim, slice], idx [batch, nIdx] -> out [batch, outer, nIdx, slice]; throws on a bad index. */
  gather(x: Float32Array, idx: Int32Array, out: Float32Array, batch: number, outer: number, dim: number, nIdx: number, slice: number): void;
  /** tf.image.cropAndResize, bilinear, crops of at least 2 x 2 (tfjs-wasm's float32 arithmetic); throws on a bad box index. */
  cropAndResize(
    image: Float32Array, boxes: Float32Array, boxInd: Int32Array, out: Float32Array,
    batch: number, h: number, w: number, c: number, numBoxes: number, cropH: number, cropW: number, extrapolation: number,
  ): void;
  /** out[s] = sum of rows x[i] with ids[i] == s, in index order. */
  segmentSum(x: Float32Array, ids: Int32Array, out: Float32Array, n: number, row: number, segments: number): void;
  /** Per row of x [rows, cols]: k largest values (largest first, ties by lower index) and indices. */
  topK(x: Float32Array, values: Float32Array, indices: Int32Array, rows: number, cols: number, k: number): void;
  /** y[rows, d] = A x, A in CSR form, x [cols, d]. */
  spmm(indptr: Int32Array, indices: Int32Array, values: Float32Array, x: Float32Array, y: Float32Array, rows: number, cols: number, d: number): void;
  /** params Int32Array [n, h*w, c, groups, silu 0/1]. */
  groupNorm(x: Float32Array, gamma: Float32Array, beta: Float32Array, y: Float32Array, params: Int32Array, eps: number): void;
  groupNormGrad(
    dz: Float32Array, x: Float32Array, gamma: Float32Array, beta: Float32Array,
    dx: Float32Array, dgamma: Float32Array, dbeta: Float32Array, params: Int32Array, eps: number,
  ): void;
  adam(
    x: Float32Array, g: Float32Array, m: Float32Array, v: Float32Array,
    ox: Float32Array, om: Float32Array, ov: Float32Array,
    lr: number, b1: number, b2: number, eps: number, c1: number, c2: number,
  ): void;
  /** Average pooling without padding; params Int32Array [n,h,w,c, oh,ow, kh,kw, sh,sw]; y = window mean. */
  avgPool(x: Float32Array, y: Float32Array, params: Int32Array): void;
  /** Its gradient: dx = sum of dy over the windows holding each pixel / (kh*kw). */
  avgPoolGrad(dy: Float32Array, dx: Float32Array, params: Int32Array): void;
  /**
   * The pixel attacks' Adam step + L-inf projection fused (./pixel_adam.ts); m, v null on the first
   * step; scalars [b1, 1-b1, b2, 1-b2, 1-b1^t, 1-b2^t, epsAdam, lr, eps] as float32.
   */
  pixelAdam(
    x: Float32Array, g: Float32Array, m: Float32Array | null, v: Float32Array | null, x0: Float32Array,
    ox: Float32Array, om: Float32Array, ov: Float32Array, scalars: Float32Array,
  ): void;
  /** Threads for later calls; returns the count in effect (1 when built without OpenMP). */
  setThreads(n: number): number;
  /** Compiler, vector ISA and threading of the build, e.g. "g++ 12.2, avx2, openmp". */
  buildInfo(): string;
}

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
/** Where the build step puts the addon. */
export const NATIVE_ADDON_PATH = path.join(root, 'native', 'build', 'auv_native.node');

type Mode = 'auto' | 'on' | 'off';
let loaded: { addon: NativeAddon | null; status: string } | undefined;

function mode(): Mode {
  const raw = process.env.AUV_NATIVE ?? '';
  if (raw === '') return 'auto';
  if (raw === '0') return 'off';
  if (raw === '1') return 'on';
  throw new ConfigError(`AUV_NATIVE must be 0 or 1 (or unset), got '${raw}'`);
}

/** Threads asked for by AUV_NATIVE_THREADS (see the file comment). */
export function requestedNativeThreads(): number {
  const raw = process.env.AUV_NATIVE_THREADS;
  if (raw === undefined || raw === '') return process.env.VITEST ? 1 : os.cpus().length;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1) throw new ConfigError(`AUV_NATIVE_THREADS must be a positive integer, got '${raw}'`);
  return n;
}

function load(): { addon: NativeAddon | null; status: string } {
  const m = mode();
  if (m === 'off') return { addon: null, status: 'off (AUV_NATIVE=0)' };
  if (!existsSync(NATIVE_ADDON_PATH)) {
    if (m === 'on') throw new ConfigError(`AUV_NATIVE=1 but ${NATIVE_ADDON_PATH} is missing: run \`npm run build:native\``);
    return { addon: null, status: 'not built' };
  }
  // OpenMP threads that sleep when idle instead of spinning: on two shared cores a spinning
  // waiter starves the thread it waits for (a 1024^3 matmul took 3x longer under load). libgomp
  // reads it when it loads with the addon; restored after, so child processes (the PyTorch twin)
  // do not inherit it.
  const policy = process.env.OMP_WAIT_POLICY;
  if (policy === undefined) process.env.OMP_WAIT_POLICY = 'PASSIVE';
  try {
    const addon = createRequire(import.meta.url)(NATIVE_ADDON_PATH) as NativeAddon;
    const threads = addon.setThreads(requestedNativeThreads());
    return { addon, status: `${addon.buildInfo()}, ${threads} thread${threads > 1 ? 's' : ''}` };
  } catch (e) {
    if (e instanceof ConfigError || m === 'on') throw e;
    return { addon: null, status: `failed to load (${e instanceof Error ? e.message.split('\n')[0] : String(e)})` };
  } finally {
    if (policy === undefined) delete process.env.OMP_WAIT_POLICY;
  }
}

/** The addon, or null when it is off, not built or does not load (then the wasm kernels run). */
export function nativeAddon(): NativeAddon | null {
  loaded ??= load();
  return loaded.addon;
}

/** One line for benchmark and run records: "g++ 12.2, avx2, openmp, 2 threads" or why it is off. */
export function nativeStatus(): string {
  loaded ??= load();
  return loaded.status;
}
