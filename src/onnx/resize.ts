/**
 * Bilinear resize with half-pixel centres (torch's align_corners=False, tf's halfPixelCenters) as
 * two interpolation-matrix products, so its gradient is exact: tfjs's ResizeBilinearGrad is wrong
 * with halfPixelCenters (a directional derivative of a 128 -> 16 px resize came out 61.7 against
 * 41.8 by finite differences; src/onnx/resize.test.ts), and the ONNX encoder resizes inside attacks.
 */
import * as tf from '@tensorflow/tfjs';

/** Rows: outputs; columns: inputs; weights of half-pixel linear interpolation from `from` to `to` samples. */
export function interpolationMatrix(from: number, to: number): tf.Tensor2D {
  const m = new Float32Array(to * from);
  const scale = from / to;
  for (let i = 0; i < to; i++) {
    const src = Math.max(0, (i + 0.5) * scale - 0.5);
    const i0 = Math.min(Math.floor(src), from - 1);
    const i1 = Math.min(i0 + 1, from - 1);
    const f = src - i0;
    m[i * from + i0] += 1 - f;
    m[i * from + i1] += f;
  }
  return tf.tensor2d(m, [to, from]);
}

/** x [N,H,W,C] -> [N,outH,outW,C], bilinear with half-pixel centres; differentiable (matMul). */
export function resizeBilinearHalfPixel(x: tf.Tensor4D, outH: number, outW: number): tf.Tensor4D {
  return tf.tidy(() => {
    const [n, h, w, c] = x.shape;
    const rows = tf.matMul(interpolationMatrix(h, outH), tf.reshape(tf.transpose(x, [1, 0, 2, 3]), [h, n * w * c])); // [outH, N*W*C]
    const byCol = tf.reshape(tf.transpose(tf.reshape(rows, [outH, n, w, c]), [2, 1, 0, 3]), [w, n * outH * c]); // [W, N*outH*C]
    const cols = tf.matMul(interpolationMatrix(w, outW), byCol); // [outW, N*outH*C]
    return tf.transpose(tf.reshape(cols, [outW, n, outH, c]), [1, 2, 0, 3]) as tf.Tensor4D;
  });
}
