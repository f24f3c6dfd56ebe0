/**
 * Kernels that the tfjs wasm backend lacks (or runs slowly), registered with `tf.registerKernel`
 * before the wasm backend initialises. Each kernel lives in its own file beside its test
 * (checked against the cpu backend).
 */
import * as tf from '@tensorflow/tfjs';
import { overrideMatMulKernel } from './batch_matmul.js';
import { conv2dBackpropFilterConfig } from './conv2d_backprop_filter.js';
import { conv2dBackpropInputConfig } from './conv2d_backprop_input.js';
import { gatherConfig } from './gather.js';
import { unsortedSegmentSumConfig } from './unsorted_segment_sum.js';

let registered = false;

function replace(cfg: tf.KernelConfig): void {
  if (tf.getKernel(cfg.kernelName, 'wasm')) tf.unregisterKernel(cfg.kernelName, 'wasm');
  tf.registerKernel(cfg);
}

/** Register every missing wasm kernel once (call before the wasm backend is set). */
export function registerMissingWasmKernels(): void {
  if (registered) return;
  registered = true;
  replace(conv2dBackpropFilterConfig);
  replace(conv2dBackpropInputConfig);
  replace(unsortedSegmentSumConfig);
  replace(gatherConfig);
  overrideMatMulKernel('BatchMatMul');
  overrideMatMulKernel('_FusedMatMul');
}
