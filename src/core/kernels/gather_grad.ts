/**
 * The gradient of tf.gather along axis 0 (every embedding lookup: victims, surrogate, attacks) as
 * one UnsortedSegmentSum of dy's rows into the table. tfjs' own gradient computes exactly that
 * sum but wraps it in two reshapes and two transposes, which along axis 0 move nothing: five
 * kernel calls per lookup where one does, with the same bits. Other axes and batchDims keep
 * tfjs' gradient.
 */
import * as tf from '@tensorflow/tfjs';

let prev: tf.GradConfig | undefined;

/** tfjs' own GatherV2 gradient, once replaced (for tests). */
export function stockGatherGradient(): tf.GradConfig | undefined {
  return prev;
}

/** Replace GatherV2's gradient (idempotent); the previous one handles what this does not. */
export function registerGatherGradient(): void {
  if (prev) return;
  const stock = tf.getGradient('GatherV2');
  if (!stock) throw new Error('tfjs registers no gradient for GatherV2');
  prev = stock;
  tf.registerGradient({
    kernelName: 'GatherV2',
    inputsToSave: stock.inputsToSave ?? ['x', 'indices'],
    gradFunc: (dy, saved, attrs) => {
      const [x, indices] = saved as [tf.Tensor, tf.Tensor];
      const { axis, batchDims } = attrs as unknown as { axis: number; batchDims?: number };
      const d = Array.isArray(dy) ? dy[0]! : dy;
      if ((batchDims ?? 0) !== 0 || tf.util.parseAxisParam(axis, x.shape)[0] !== 0) return stock.gradFunc(dy, saved, attrs);
      const n = indices.size;
      const rowShape = [n, ...x.shape.slice(1)];
      return {
        x: () => {
          const rows = tf.util.arraysEqual(d.shape, rowShape) ? d : tf.reshape(d, rowShape);
          const ids = (indices.rank === 1 ? indices : tf.reshape(indices, [n])) as tf.Tensor1D;
          return tf.unsortedSegmentSum(rows, ids, x.shape[0]!);
        },
        indices: () => indices,
      };
    },
  });
}
