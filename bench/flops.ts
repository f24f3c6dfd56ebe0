/**
 * FLOPs of a workload run counted from the kernels it executes (tf.profile): every Conv2D,
 * Conv2DBackpropInput, Conv2DBackpropFilter, DepthwiseConv2dNative and BatchMatMul call, forward
 * and backward, 2 FLOPs per multiply-add, from the shapes each call saw. Element-wise work,
 * normalisation and reductions are not counted, so GFLOP/s is the rate of the dense work only.
 * Used for workloads whose dense work is tedious to count by hand (`flops: 'counted'`).
 */
import * as tf from '@tensorflow/tfjs';

const size = (s: number[]): number => s.reduce((a, b) => a * b, 1);

/** FLOPs of one kernel call (0 for kernels not counted). */
export function kernelFlops(name: string, inputShapes: number[][], outputShapes: number[][]): number {
  const out = outputShapes[0];
  if (!out) return 0;
  switch (name) {
    case 'Conv2D': // x, filter [kh, kw, ci, co] -> y: each output element is kh*kw*ci multiply-adds
    case 'DepthwiseConv2dNative': {
      const f = inputShapes[1]!;
      return 2 * size(out) * f[0]! * f[1]! * (name === 'Conv2D' ? f[2]! : 1);
    }
    case 'Conv2DBackpropInput': { // dy, filter -> dx: each dy element feeds kh*kw*ci products
      const f = inputShapes[1]!;
      return 2 * size(inputShapes[0]!) * f[0]! * f[1]! * f[2]!;
    }
    case 'Conv2DBackpropFilter': // x, dy -> filter [kh, kw, ci, co]: as many products as the forward pass
      return 2 * size(inputShapes[1]!) * out[0]! * out[1]! * out[2]!;
    case 'BatchMatMul': { // a, b -> [..., m, n]; k = the elements of one matrix of a / m
      const a = inputShapes[0]!;
      const m = out[out.length - 2]!;
      const k = (a[a.length - 1]! * a[a.length - 2]!) / m;
      return 2 * size(out) * k;
    }
    default:
      return 0;
  }
}

/** Run `fn` once under the profiler; its counted FLOPs. */
export async function countFlops(fn: () => void | Promise<void>): Promise<number> {
  const info = await tf.profile(async () => {
    await fn();
  });
  return info.kernels.reduce((acc, k) => acc + kernelFlops(k.name, k.inputShapes, k.outputShapes), 0);
}
