/**
 * The gradients of Sum and Mean as tfjs writes them (dy reshaped to the kept dims, times a tensor
 * of ones of x's shape, divided by the count for Mean), with the ones made by the Fill kernel
 * instead of tf.ones, which builds them in a JS array and uploads it: ~0.5 ms of the INSA step's
 * ~0.7 ms for its two means (global pooling [16,8,8,64], the loss's mean over 2000 users). The same
 * operations on the same values: the same bits on every backend.
 */
import * as tf from '@tensorflow/tfjs';

let registered = false;

function expandedDy(dy: tf.Tensor | tf.Tensor[], x: tf.Tensor, axis: unknown): { d: tf.Tensor; count: number } {
  const axes = tf.util.parseAxisParam(axis as number | number[], x.shape);
  const shape = x.shape.slice();
  let count = 1;
  for (const a of axes) {
    count *= shape[a]!;
    shape[a] = 1;
  }
  return { d: tf.reshape(Array.isArray(dy) ? dy[0]! : dy, shape), count };
}

/** Replace Sum's and Mean's gradients (idempotent). */
export function registerReduceGradients(): void {
  if (registered) return;
  registered = true;
  tf.registerGradient({
    kernelName: 'Sum',
    inputsToSave: ['x'],
    gradFunc: (dy, saved, attrs) => {
      const [x] = saved as [tf.Tensor];
      const { d } = expandedDy(dy, x, attrs.axis);
      const der = tf.mul(d, tf.fill(x.shape, 1, 'float32'));
      return { x: () => der };
    },
  });
  tf.registerGradient({
    kernelName: 'Mean',
    inputsToSave: ['x'],
    gradFunc: (dy, saved, attrs) => {
      const [x] = saved as [tf.Tensor];
      return {
        x: () => {
          const { d, count } = expandedDy(dy, x, attrs.axis);
          return tf.div(tf.mul(d, tf.fill(x.shape, 1, 'float32')), count);
        },
      };
    },
  });
}
