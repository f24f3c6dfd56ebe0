/**
 * Conv2DBackpropFilter for wasm (tfjs has none). The filter gradient
 *   dW[kh,kw,ci,co] = sum_{b,oh,ow} x[b, oh*s+kh-pt, ow*s+kw-pl, ci] * dy[b,oh,ow,co]
 * is itself a convolution: input x^T [CI,H,W,B], "filter" dy^T [OH,OW,B,CO] dilated by the
 * forward stride, output [CI,KH,KW,CO], transposed back to [KH,KW,CI,CO].
 */
import * as tf from '@tensorflow/tfjs';
import { conv2dRaw, free, padOrCrop, transpose, type Info, type WasmBackend } from './wasm_ops.js';

interface Attrs {
  strides: number | [number, number];
  pad: 'valid' | 'same' | number | tf.backend_util.ExplicitPadding;
  dataFormat: 'NHWC' | 'NCHW';
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
  filterShape: [number, number, number, number];
}

export function conv2dBackpropFilterWasm(backend: WasmBackend, x: Info, dy: Info, attrs: Attrs): Info {
  if (attrs.dataFormat === 'NCHW') throw new Error('wasm Conv2DBackpropFilter supports NHWC only');
  const info = tf.backend_util.computeConv2DInfo(
    x.shape as [number, number, number, number],
    attrs.filterShape,
    attrs.strides,
    1,
    attrs.pad,
    attrs.dimRoundingMode,
  );
  const { filterHeight: kh, filterWidth: kw, strideHeight: sh, strideWidth: sw } = info;
  const [, h, w] = x.shape;
  const oh = info.outHeight, ow = info.outWidth;
  const pt = info.padInfo.top, pl = info.padInfo.left;
  // Extent of dy used as a dilated filter, and the bottom/right padding giving a KHxKW output.
  const eh = (oh - 1) * sh + 1, ew = (ow - 1) * sw + 1;
  const pb = kh - 1 + eh - h - pt, pr = kw - 1 + ew - w - pl;

  const xt = transpose(backend, x, [3, 1, 2, 0]); // [CI,H,W,B]
  const xp = padOrCrop(backend, xt, pt, pb, pl, pr);
  free(backend, xt);
  const dyt = transpose(backend, dy, [1, 2, 0, 3]); // [OH,OW,B,CO]
  const g = conv2dRaw(backend, xp, dyt, [1, 1], [sh, sw], [0, 0], [0, 0]); // [CI,KH,KW,CO]
  free(backend, xp);
  free(backend, dyt);
  const out = transpose(backend, g, [1, 2, 0, 3]);
  free(backend, g);
  return out;
}

export const conv2dBackpropFilterConfig: tf.KernelConfig = {
  kernelName: 'Conv2DBackpropFilter',
  backendName: 'wasm',
  kernelFunc: ({ inputs, backend, attrs }) =>
    conv2dBackpropFilterWasm(
      backend as unknown as WasmBackend,
      inputs.x as Info,
      inputs.dy as Info,
      attrs as unknown as Attrs,
    ),
};
