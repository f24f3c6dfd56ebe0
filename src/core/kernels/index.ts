/**
 * Kernels that the tfjs wasm backend lacks (or runs slowly), registered with `tf.registerKernel`
 * before the wasm backend initialises. Each kernel lives in its own file beside its test
 * (checked against the cpu backend).
 */
import * as tf from '@tensorflow/tfjs';
import { overrideMatMulKernel } from './batch_matmul.js';
import { conv2dBackpropFilterConfig } from './conv2d_backprop_filter.js';
import { conv2dBackpropInputConfig } from './conv2d_backprop_input.js';
import { depthwiseBackpropFilterConfig, depthwiseBackpropInputConfig } from './depthwise_backprop.js';
import { gatherConfig } from './gather.js';
import { registerGatherGradient } from './gather_grad.js';
import { nativeAddon } from './native.js';
import { registerNativeKernels } from './native_kernels.js';
import { registerReduceGradients } from './reduce_grad.js';
import { registerReluGradient } from './relu_grad.js';
import { registerSharingKernels } from './share.js';
import { splitVConfig, unpackConfig } from './split.js';
import { unsortedSegmentSumConfig } from './unsorted_segment_sum.js';

let registered = false;

function replace(cfg: tf.KernelConfig): void {
  if (tf.getKernel(cfg.kernelName, 'wasm')) tf.unregisterKernel(cfg.kernelName, 'wasm');
  tf.registerKernel(cfg);
}

/**
 * Register every missing wasm kernel once (call before the wasm backend is set). The speed
 * replacements of existing kernels (GatherV2, Conv2DBackpropInput, transposed matMul, the
 * copy-free Identity / same-dtype Cast / no-op Transpose of ./share.ts, the one-kernel gather
 * gradient of ./gather_grad.ts, Sum / Mean gradients without tf.ones of ./reduce_grad.ts, SplitV
 * and Unpack as block copies) can be
 * switched off with AUV_WASM_FAST=0, for before/after benchmarks. Where the native addon is
 * built and not switched off (AUV_NATIVE, see ./native.ts), convolution and matMul then run in
 * it, each falling back to the kernel registered here for what it does not cover.
 */
export function registerMissingWasmKernels(): void {
  if (registered) return;
  registered = true;
  replace(conv2dBackpropFilterConfig);
  replace(unsortedSegmentSumConfig);
  replace(depthwiseBackpropFilterConfig);
  replace(depthwiseBackpropInputConfig);
  if (fastKernelsEnabled()) {
    replace(conv2dBackpropInputConfig);
    replace(gatherConfig);
    overrideMatMulKernel('BatchMatMul');
    overrideMatMulKernel('_FusedMatMul');
    registerGatherGradient();
    registerReduceGradients();
    replace(splitVConfig);
    replace(unpackConfig);
  }
  const addon = nativeAddon();
  if (addon) {
    registerNativeKernels(addon);
    registerReluGradient(addon);
  }
  if (fastKernelsEnabled()) registerSharingKernels();
}

/** False when AUV_WASM_FAST=0 (stock tfjs kernels where tfjs has one). */
export function fastKernelsEnabled(): boolean {
  return process.env.AUV_WASM_FAST !== '0';
}
