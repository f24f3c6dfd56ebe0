/**
 * conv-block: x [32,32,32,64] NHWC; y = x + SiLU(GN(conv2(SiLU(GN(conv1(x)))))), 3x3 64->64 SAME
 * convs with bias, GroupNorm(8 groups, affine, eps 1e-5) + SiLU through the project's groupNorm
 * (src/core/kernels/group_norm.ts: one fused native kernel where the addon runs, the composite
 * of tfjs ops otherwise), as PyTorch's twin uses F.group_norm + F.silu; loss = mean(y^2); one run = forward +
 * backward for the gradients of x and of every parameter. FLOPs: the two convs, x3 for fwd+bwd.
 */
import * as tf from '@tensorflow/tfjs';
import { groupNorm } from '../../src/core/kernels/group_norm.js';
import { Rng } from '../../src/core/rng.js';
import { registerWorkload } from '../workloads.js';

const N = 32, H = 32, W = 32, C = 64, G = 8;

interface Ctx {
  x: tf.Tensor4D;
  params: tf.Tensor[];
}

registerWorkload<Ctx>({
  name: 'conv-block',
  description: 'ResNet block 32x32x32x64, 2x(conv3x3+GN8+SiLU), fwd+bwd (grads of x and all params)',
  setup() {
    const rng = new Rng(1).fork('conv-block');
    const std = Math.sqrt(2 / (9 * C));
    const x = tf.tensor4d(rng.normalArray(N * H * W * C), [N, H, W, C]);
    const params = [
      tf.tensor4d(rng.normalArray(9 * C * C, std), [3, 3, C, C]),
      tf.zeros([C]),
      tf.ones([C]),
      tf.zeros([C]),
      tf.tensor4d(rng.normalArray(9 * C * C, std), [3, 3, C, C]),
      tf.zeros([C]),
      tf.ones([C]),
      tf.zeros([C]),
    ];
    return { x, params };
  },
  run({ x, params }) {
    const loss = (xi: tf.Tensor, w1: tf.Tensor, b1: tf.Tensor, g1: tf.Tensor, be1: tf.Tensor, w2: tf.Tensor, b2: tf.Tensor, g2: tf.Tensor, be2: tf.Tensor) => {
      let h = tf.conv2d(xi as tf.Tensor4D, w1 as tf.Tensor4D, 1, 'same').add(b1) as tf.Tensor4D;
      h = groupNorm(h, g1 as tf.Tensor1D, be1 as tf.Tensor1D, G, { silu: true });
      h = tf.conv2d(h, w2 as tf.Tensor4D, 1, 'same').add(b2) as tf.Tensor4D;
      h = groupNorm(h, g2 as tf.Tensor1D, be2 as tf.Tensor1D, G, { silu: true });
      return xi.add(h).square().mean() as tf.Scalar;
    };
    const grads = tf.grads(loss as (...a: tf.Tensor[]) => tf.Scalar)([x, ...params]);
    tf.dispose(grads);
  },
  teardown({ x, params }) {
    tf.dispose([x, ...params]);
  },
  flops: 3 * 2 * (2 * N * H * W * C * C * 9),
  runs: 5,
});
