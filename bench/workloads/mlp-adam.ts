/**
 * mlp-adam: 1024->1024->1024->10 ReLU MLP, batch 256, softmax cross-entropy, one Adam step
 * (lr 1e-3). FLOPs: the three matMuls, x3 for fwd+bwd.
 */
import * as tf from '@tensorflow/tfjs';
import { Rng } from '../../src/core/rng.js';
import { benchAdam, registerWorkload } from '../workloads.js';

const B = 256, D = 1024, K = 10;

interface Ctx {
  x: tf.Tensor2D;
  y: tf.Tensor2D;
  vars: tf.Variable[];
  opt: tf.AdamOptimizer;
}

registerWorkload<Ctx>({
  name: 'mlp-adam',
  description: 'MLP 1024-1024-1024-10 ReLU, batch 256, softmax CE, one Adam step',
  setup() {
    const rng = new Rng(1).fork('mlp-adam');
    const x = tf.tensor2d(rng.normalArray(B * D), [B, D]);
    const labels = rng.intArray(B, K);
    const y = tf.tidy(() => tf.oneHot(tf.tensor1d(labels, 'int32'), K).toFloat()) as tf.Tensor2D;
    const w = (i: number, o: number) => tf.variable(tf.tensor2d(rng.normalArray(i * o, Math.sqrt(2 / i)), [i, o]));
    const vars = [w(D, D), tf.variable(tf.zeros([D])), w(D, D), tf.variable(tf.zeros([D])), w(D, K), tf.variable(tf.zeros([K]))];
    return { x, y, vars, opt: benchAdam(1e-3) };
  },
  run({ x, y, vars, opt }) {
    const [w1, b1, w2, b2, w3, b3] = vars;
    const cost = opt.minimize(() => {
      const h1 = tf.relu(tf.matMul(x, w1).add(b1));
      const h2 = tf.relu(tf.matMul(h1, w2).add(b2));
      const logits = tf.matMul(h2, w3).add(b3);
      return tf.losses.softmaxCrossEntropy(y, logits) as tf.Scalar;
    }, true);
    cost?.dispose();
  },
  teardown({ x, y, vars, opt }) {
    tf.dispose([x, y, ...vars]);
    opt.dispose();
  },
  flops: 3 * 2 * B * (D * D * 2 + D * K),
  runs: 7,
});
