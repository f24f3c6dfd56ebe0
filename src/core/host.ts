/**
 * Reading tensors back to the host. A tf.tidy that returns typed arrays walks every element of
 * them looking for tensors (a typed array is iterable), which costs ~40 ms per million floats: so
 * the tidy returns the tensors, and they are read and disposed after it.
 */
import * as tf from '@tensorflow/tfjs';

/** Run `fn` in a tidy, read each returned tensor (float32) to a host array, dispose the tensors. */
export function tidyToHost<K extends string>(fn: () => Record<K, tf.Tensor>): Record<K, Float32Array> {
  const tensors = tf.tidy(fn);
  const out = {} as Record<K, Float32Array>;
  for (const key of Object.keys(tensors) as K[]) out[key] = tensors[key].dataSync() as Float32Array;
  tf.dispose(Object.values(tensors) as tf.Tensor[]);
  return out;
}
