/**
 * DepthwiseConv2dNativeBackpropFilter / BackpropInput for wasm (tfjs has neither), as direct
 * loops over the wasm heap. Filter [KH,KW,C,M], dy [B,OH,OW,C*M]; with h = oh*s + kh*d - pt:
 *   dW[kh,kw,c,m] = sum_{b,oh,ow} x[b,h,w,c] * dy[b,oh,ow,c*M+m]
 *   dx[b,h,w,c]   = sum_{oh,ow,kh,kw,m} dy[b,oh,ow,c*M+m] * W[kh,kw,c,m]
 */
import * as tf from '@tensorflow/tfjs';
import type { Info, WasmBackend } from './wasm_ops.js';

interface Attrs {
  strides: number | [number, number];
  dilations: number | [number, number];
  pad: 'valid' | 'same' | number | tf.backend_util.ExplicitPadding;
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
}

function info(xShape: number[], fShape: number[], a: Attrs): tf.backend_util.Conv2DInfo {
  return tf.backend_util.computeConv2DInfo(
    xShape as [number, number, number, number],
    fShape as [number, number, number, number],
    a.strides,
    a.dilations ?? 1,
    a.pad,
    a.dimRoundingMode,
    true,
  );
}

/** Visit every (b, oh, ow, kh, kw) whose input pixel (h, w) is inside the image. */
function forTaps(ci: tf.backend_util.Conv2DInfo, f: (xo: number, dyo: number, fo: number) => void): void {
  const { batchSize, inHeight, inWidth, inChannels, outHeight, outWidth, outChannels } = ci;
  const { filterHeight, filterWidth, strideHeight, strideWidth, dilationHeight, dilationWidth } = ci;
  const pt = ci.padInfo.top, pl = ci.padInfo.left;
  for (let b = 0; b < batchSize; b++) {
    for (let oh = 0; oh < outHeight; oh++) {
      for (let kh = 0; kh < filterHeight; kh++) {
        const h = oh * strideHeight + kh * dilationHeight - pt;
        if (h < 0 || h >= inHeight) continue;
        for (let ow = 0; ow < outWidth; ow++) {
          const dyo = ((b * outHeight + oh) * outWidth + ow) * outChannels;
          for (let kw = 0; kw < filterWidth; kw++) {
            const w = ow * strideWidth + kw * dilationWidth - pl;
            if (w < 0 || w >= inWidth) continue;
            f(((b * inHeight + h) * inWidth + w) * inChannels, dyo, (kh * filterWidth + kw) * outChannels);
          }
        }
      }
    }
  }
}

export function depthwiseBackpropFilterWasm(backend: WasmBackend, x: Info, dy: Info, attrs: Attrs & { filterShape: number[] }): Info {
  const ci = info(x.shape, attrs.filterShape, attrs);
  const out = backend.makeOutput(attrs.filterShape, 'float32');
  const dw = backend.typedArrayFromHeap(out) as Float32Array;
  const xs = backend.typedArrayFromHeap(x) as Float32Array;
  const dys = backend.typedArrayFromHeap(dy) as Float32Array;
  dw.fill(0);
  const C = ci.inChannels, M = ci.outChannels / C;
  forTaps(ci, (xo, dyo, fo) => {
    for (let c = 0; c < C; c++) {
      const xv = xs[xo + c];
      for (let m = 0; m < M; m++) dw[fo + c * M + m] += xv * dys[dyo + c * M + m];
    }
  });
  return out;
}

export function depthwiseBackpropInputWasm(backend: WasmBackend, dy: Info, filter: Info, attrs: Attrs & { inputShape: number[] }): Info {
  const ci = info(attrs.inputShape, filter.shape, attrs);
  const out = backend.makeOutput(attrs.inputShape, 'float32');
  const dx = backend.typedArrayFromHeap(out) as Float32Array;
  const fs = backend.typedArrayFromHeap(filter) as Float32Array;
  const dys = backend.typedArrayFromHeap(dy) as Float32Array;
  dx.fill(0);
  const C = ci.inChannels, M = ci.outChannels / C;
  forTaps(ci, (xo, dyo, fo) => {
    for (let c = 0; c < C; c++) {
      let acc = 0;
      for (let m = 0; m < M; m++) acc += dys[dyo + c * M + m] * fs[fo + c * M + m];
      dx[xo + c] += acc;
    }
  });
  return out;
}

export const depthwiseBackpropFilterConfig: tf.KernelConfig = {
  kernelName: 'DepthwiseConv2dNativeBackpropFilter',
  backendName: 'wasm',
  kernelFunc: ({ inputs, backend, attrs }) =>
    depthwiseBackpropFilterWasm(backend as unknown as WasmBackend, inputs.x as Info, inputs.dy as Info, attrs as unknown as Attrs & { filterShape: number[] }),
};

export const depthwiseBackpropInputConfig: tf.KernelConfig = {
  kernelName: 'DepthwiseConv2dNativeBackpropInput',
  backendName: 'wasm',
  kernelFunc: ({ inputs, backend, attrs }) =>
    depthwiseBackpropInputWasm(backend as unknown as WasmBackend, inputs.dy as Info, inputs.filter as Info, attrs as unknown as Attrs & { inputShape: number[] }),
};
