/**
 * Conv2DBackpropInput for wasm, replacing tfjs' naive loop: dx is a stride-1 convolution of the
 * zero-dilated output gradient (stride-1 zeros between rows/columns) with the spatially flipped
 * filter whose in/out channels are swapped, padded by KH-1-pt on top and KW-1-pl on the left.
 */
import * as tf from '@tensorflow/tfjs';
import { conv2dRaw, free, pad, padOrCrop, reverse, transpose, view, type Info, type WasmBackend } from './wasm_ops.js';

interface Attrs {
  strides: number | [number, number];
  pad: 'valid' | 'same' | number | tf.backend_util.ExplicitPadding;
  dataFormat: 'NHWC' | 'NCHW';
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
  inputShape: [number, number, number, number];
}

/** dy [B,OH,OW,C] -> [B,OH*sh,OW*sw,C] with dy at multiples of the stride, zeros elsewhere. */
export function zeroDilate(backend: WasmBackend, dy: Info, sh: number, sw: number): Info {
  const [b, oh, ow, c] = dy.shape;
  let cur = dy;
  let owned = false;
  if (sw > 1) {
    cur = pad(backend, view(cur, [b * oh, ow, 1, c]), [[0, 0], [0, 0], [0, sw - 1], [0, 0]]);
    owned = true;
  }
  if (sh > 1) {
    const next = pad(backend, view(cur, [b * oh, 1, ow * sw, c]), [[0, 0], [0, sh - 1], [0, 0], [0, 0]]);
    if (owned) free(backend, cur);
    cur = next;
    owned = true;
  }
  if (!owned) backend.incRef(dy.dataId);
  return view(cur, [b, oh * sh, ow * sw, c]);
}

export function conv2dBackpropInputWasm(backend: WasmBackend, dy: Info, filter: Info, attrs: Attrs): Info {
  if (attrs.dataFormat === 'NCHW') throw new Error('wasm Conv2DBackpropInput supports NHWC only');
  const info = tf.backend_util.computeConv2DInfo(
    attrs.inputShape,
    filter.shape as [number, number, number, number],
    attrs.strides,
    1,
    attrs.pad,
    attrs.dimRoundingMode,
  );
  const { filterHeight: kh, filterWidth: kw, strideHeight: sh, strideWidth: sw } = info;
  const [, h, w] = attrs.inputShape;
  const [, oh, ow] = dy.shape;
  const pt = info.padInfo.top, pl = info.padInfo.left;
  const top = kh - 1 - pt, left = kw - 1 - pl;
  const bottom = h + kh - 1 - oh * sh - top, right = w + kw - 1 - ow * sw - left;

  const dil = zeroDilate(backend, dy, sh, sw);
  const dp = padOrCrop(backend, dil, top, bottom, left, right);
  free(backend, dil);
  const fr = reverse(backend, filter, [0, 1]);
  const ft = transpose(backend, fr, [0, 1, 3, 2]); // [KH,KW,CO,CI]
  free(backend, fr);
  const out = conv2dRaw(backend, dp, ft, [1, 1], [1, 1], [0, 0], [0, 0]);
  free(backend, dp);
  free(backend, ft);
  return out;
}

export const conv2dBackpropInputConfig: tf.KernelConfig = {
  kernelName: 'Conv2DBackpropInput',
  backendName: 'wasm',
  kernelFunc: ({ inputs, backend, attrs }) =>
    conv2dBackpropInputWasm(
      backend as unknown as WasmBackend,
      inputs.dy as Info,
      inputs.filter as Info,
      attrs as unknown as Attrs,
    ),
};
