/**
 * insa-step: one INSA gradient step at the demo's default scale (issue 15), the unit every
 * white-box attack repeats: a batch of 16 target images 64x64x3 in [0,1] -> the victim encoder F
 * (the default 'victim' ResNet: 2x2 average pool to 32x32, (x-0.5)/0.25, stride-2 3x3 stem 3->16,
 * GroupNorm(4)+ReLU, three residual stages [16, 32, 64] with one block each (3x3 convs, 1x1
 * shortcut where the shape changes), global mean pool, linear 64->512) -> VBPR scores of the 16
 * targets for 2000 users (whitening to 64 directions, K = K' = 32) -> loss = -sum over targets of
 * the mean score; the gradient for the pixels only; then the Adam step on the pixels and the
 * L-inf projection (eps 32/255), through the project's optimizePixels. Encoder weights at their
 * initial values and a one-epoch VBPR on a random catalogue: the arithmetic, hence the time, does
 * not depend on how well they are trained.
 * FLOPs counted: every convolution forward and its input gradient (2 x forward), and the matMuls
 * (projection, whitening, E, the users x targets products) forward and input gradient.
 */
import * as tf from '@tensorflow/tfjs';
import { budgetToEps } from '../../src/attacks/projection.js';
import { optimizePixels } from '../../src/attacks/pixel-optimize.js';
import { Rng } from '../../src/core/rng.js';
import { DEFAULT_ENCODER_CONFIGS, ResNetEncoder } from '../../src/encoders/resnet.js';
import { createRecommender, type LatentRecommender } from '../../src/recommenders/models.js';
import { registerWorkload } from '../workloads.js';

const B = 16, SIZE = 64, USERS = 2000, ITEMS = 3000, PER_USER = 15, FEAT = 512;

interface Ctx {
  enc: ResNetEncoder;
  model: LatentRecommender;
  x0: tf.Tensor4D;
  users: Int32Array;
  items: Int32Array;
}

/** 2 x FLOPs of the encoder's convolutions for a batch of n (forward + input gradient). */
function encoderConvFlops(enc: ResNetEncoder, n: number): number {
  const { inputSize, widths, blocks } = enc.config;
  let hw = inputSize / 2; // stride-2 stem
  let flops = 2 * n * hw * hw * 27 * widths[0]!;
  let cin = widths[0]!;
  widths.forEach((w, s) => {
    for (let b = 0; b < blocks; b++) {
      if (b === 0 && s > 0) hw /= 2;
      const px = n * hw * hw;
      flops += 2 * px * 9 * cin * w + 2 * px * 9 * w * w;
      if (cin !== w || (b === 0 && s > 0)) flops += 2 * px * cin * w;
      cin = w;
    }
  });
  return 2 * flops;
}

registerWorkload<Ctx>({
  name: 'insa-step',
  description: 'one INSA step: 16 targets 64x64 through F (default victim ResNet) and VBPR over 2000 users, pixel gradient, Adam + projection',
  async setup() {
    const rng = new Rng(1).fork('insa-step');
    const enc = new ResNetEncoder({ ...DEFAULT_ENCODER_CONFIGS.victim });
    const train = Array.from({ length: USERS }, () => Array.from(new Set(Array.from(rng.intArray(PER_USER, ITEMS)))));
    const itemFeatures = tf.tensor2d(rng.normalArray(ITEMS * FEAT), [ITEMS, FEAT]);
    const model = createRecommender('vbpr', { epochs: 1, seed: 1 });
    await model.fit({ numUsers: USERS, numItems: ITEMS, train, validation: new Int32Array(USERS).fill(-1), excludedNegatives: new Set(), itemFeatures });
    itemFeatures.dispose();
    const x0 = tf.tensor4d(rng.uniformArray(B * SIZE * SIZE * 3), [B, SIZE, SIZE, 3]);
    return { enc, model, x0, users: Int32Array.from({ length: USERS }, (_, u) => u), items: Int32Array.from({ length: B }, (_, i) => i) };
  },
  run({ enc, model, x0, users, items }) {
    const eps = budgetToEps(32);
    const loss = (x: tf.Tensor4D) => model.scoreWithFeatures(users, items, enc.encode(x)).mean(0).sum().neg() as tf.Scalar;
    optimizePixels(x0, loss, { eps, steps: 1, optimizer: 'adam', lr: eps / 4 }).dispose();
  },
  teardown({ enc, model, x0 }) {
    enc.dispose();
    model.dispose();
    x0.dispose();
  },
  flops: ({ enc, model }) => {
    const d = model.visualDim, k = model.config.k, kv = model.config.kVisual;
    const fd = enc.config.featureDim, last = enc.config.widths.at(-1)!;
    const mm = 2 * B * (last * fd + fd * d + d * kv + d) + 2 * USERS * B * (k + kv);
    return encoderConvFlops(enc, B) + 2 * mm;
  },
  runs: 20,
});
