/**
 * Small ONNX models built with OnnxGraphBuilder: the test networks of the importer (a ResNet-style
 * block, a ViT-style block, a VAE-decoder-style block). Weights come from a seeded Rng.
 */
import { Rng } from '../../src/core/rng.js';
import { OnnxGraphBuilder } from '../../src/onnx/builder.js';
import { DT } from '../../src/onnx/proto.js';

function randn(rng: Rng, n: number, scale: number): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = rng.normal() * scale;
  return a;
}

/** Conv+BN+Relu, a residual Add, MaxPool, GlobalAveragePool, Flatten, Gemm. Input [N,3,S,S] -> [N,classes]. */
export function tinyResNetOnnx(seed = 1, size = 16, width = 8, classes = 5): Uint8Array {
  const rng = new Rng(seed);
  const b = new OnnxGraphBuilder();
  const x = b.input('image', ['N', 3, size, size]);
  const w = width;
  const bn = (name: string, inp: string, c: number): string =>
    b.node('BatchNormalization', [
      inp,
      b.init(`${name}.g`, [c], Float32Array.from(randn(rng, c, 0.2), (v) => 1 + v)),
      b.init(`${name}.b`, [c], randn(rng, c, 0.1)),
      b.init(`${name}.m`, [c], randn(rng, c, 0.1)),
      b.init(`${name}.v`, [c], Float32Array.from(randn(rng, c, 0.2), (v) => 1 + Math.abs(v))),
    ], { epsilon: { f: 1e-5 } });
  let h = b.node('Conv', [x, b.init('c1.w', [w, 3, 3, 3], randn(rng, w * 27, 0.3)), b.init('c1.b', [w], randn(rng, w, 0.1))], { kernel_shape: [3, 3], pads: [1, 1, 1, 1], strides: [2, 2] });
  h = b.node('Relu', [bn('bn1', h, w)]);
  const skip = h;
  let r = b.node('Conv', [h, b.init('c2.w', [w, w, 3, 3], randn(rng, w * w * 9, 0.15))], { kernel_shape: [3, 3], pads: [1, 1, 1, 1] });
  r = b.node('Relu', [bn('bn2', r, w)]);
  r = b.node('Conv', [r, b.init('c3.w', [w, 1, 3, 3], randn(rng, w * 9, 0.3))], { kernel_shape: [3, 3], pads: [1, 1, 1, 1], group: w });
  h = b.node('Relu', [b.node('Add', [r, skip])]);
  h = b.node('MaxPool', [h], { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1] });
  h = b.node('Conv', [h, b.init('c4.w', [2 * w, w / 2, 1, 1], randn(rng, w * w, 0.3))], { kernel_shape: [1, 1], group: 2 });
  h = b.node('GlobalAveragePool', [h]);
  h = b.node('Flatten', [h], { axis: 1 });
  b.node('Gemm', [h, b.init('fc.w', [classes, 2 * w], randn(rng, classes * 2 * w, 0.3)), b.init('fc.b', [classes], randn(rng, classes, 0.1))], { transB: 1 }, ['logits']);
  b.output('logits');
  return b.build(13);
}

/**
 * Patch embedding Conv, Reshape/Transpose to tokens, LayerNormalization, single-head attention
 * (MatMul, Softmax, Transpose), Erf-GELU MLP, mean over tokens. Input [N,3,S,S] -> [N,D].
 * The token reshape uses a Shape/Gather/Concat chain that must be folded on the host.
 */
export function tinyVitOnnx(seed = 2, size = 16, patch = 4, dim = 16): Uint8Array {
  const rng = new Rng(seed);
  const b = new OnnxGraphBuilder();
  const x = b.input('pixel_values', ['N', 3, size, size]);
  let h = b.node('Conv', [x, b.init('pe.w', [dim, 3, patch, patch], randn(rng, dim * 3 * patch * patch, 0.2)), b.init('pe.b', [dim], randn(rng, dim, 0.1))], { kernel_shape: [patch, patch], strides: [patch, patch] });
  // shape [N, D, -1] built from Shape -> Gather(0) -> Unsqueeze -> Concat
  const shp = b.node('Shape', [h]);
  const n = b.node('Gather', [shp, b.init('idx0', [], [0], DT.INT64)], { axis: 0 });
  const nU = b.node('Unsqueeze', [n, b.init('ax0', [1], [0], DT.INT64)]);
  const tail = b.init('tail', [2], [dim, -1], DT.INT64);
  const newShape = b.node('Concat', [nU, tail], { axis: 0 });
  h = b.node('Reshape', [h, newShape]);
  h = b.node('Transpose', [h], { perm: [0, 2, 1] }); // [N, T, D]
  const ln = (name: string, inp: string): string =>
    b.node('LayerNormalization', [inp, b.init(`${name}.g`, [dim], Float32Array.from(randn(rng, dim, 0.1), (v) => 1 + v)), b.init(`${name}.b`, [dim], randn(rng, dim, 0.1))], { axis: -1, epsilon: { f: 1e-5 } });
  const a = ln('ln1', h);
  const q = b.node('MatMul', [a, b.init('wq', [dim, dim], randn(rng, dim * dim, 0.25))]);
  const k = b.node('MatMul', [a, b.init('wk', [dim, dim], randn(rng, dim * dim, 0.25))]);
  const v = b.node('MatMul', [a, b.init('wv', [dim, dim], randn(rng, dim * dim, 0.25))]);
  const kt = b.node('Transpose', [k], { perm: [0, 2, 1] });
  let att = b.node('MatMul', [q, kt]);
  att = b.node('Div', [att, b.init('sqrtd', [], [Math.sqrt(dim)])]);
  att = b.node('Softmax', [att], { axis: -1 });
  const ctx = b.node('MatMul', [att, v]);
  h = b.node('Add', [h, ctx]);
  const m = ln('ln2', h);
  let f = b.node('Add', [b.node('MatMul', [m, b.init('w1', [dim, 2 * dim], randn(rng, 2 * dim * dim, 0.25))]), b.init('b1', [2 * dim], randn(rng, 2 * dim, 0.1))]);
  // GELU as exported by PyTorch: x * 0.5 * (1 + erf(x / sqrt(2)))
  const e = b.node('Erf', [b.node('Div', [f, b.init('sqrt2', [], [Math.SQRT2])])]);
  f = b.node('Mul', [b.node('Mul', [f, b.node('Add', [e, b.init('one', [], [1])])]), b.init('half', [], [0.5])]);
  f = b.node('MatMul', [f, b.init('w2', [2 * dim, dim], randn(rng, 2 * dim * dim, 0.25))]);
  h = b.node('Add', [h, f]);
  h = b.node('ReduceMean', [h], { axes: [1], keepdims: 0 });
  const sl = b.node('Slice', [h, b.init('st', [1], [0], DT.INT64), b.init('en', [1], [dim], DT.INT64), b.init('sax', [1], [1], DT.INT64)]);
  b.node('Identity', [sl], {}, ['embeds']);
  b.output('embeds');
  return b.build(13);
}

/**
 * Latent [N,C,s,s] -> Conv -> GroupNorm as exported (Reshape [N,G,-1] -> InstanceNormalization ->
 * Reshape back -> Mul/Add per channel) -> Sigmoid-weighted (SiLU) -> Resize nearest x2 -> Conv ->
 * AveragePool -> Upsample-free Resize linear -> Conv -> Tanh/Clip. Output [N,3,4s,4s].
 */
export function tinyDecoderOnnx(seed = 3, latent = 4, s = 4, width = 8, groups = 2): Uint8Array {
  const rng = new Rng(seed);
  const b = new OnnxGraphBuilder();
  const z = b.input('latent', ['N', latent, s, s]);
  let h = b.node('Conv', [z, b.init('ci.w', [width, latent, 3, 3], randn(rng, width * latent * 9, 0.3)), b.init('ci.b', [width], randn(rng, width, 0.1))], { kernel_shape: [3, 3], pads: [1, 1, 1, 1] });
  const r1 = b.node('Reshape', [h, b.init('gshape', [3], [0, groups, -1], DT.INT64)]);
  const inorm = b.node('InstanceNormalization', [r1, b.init('gn.one', [groups], new Array(groups).fill(1)), b.init('gn.zero', [groups], new Array(groups).fill(0))], { epsilon: { f: 1e-5 } });
  const hs = b.node('Shape', [h]);
  h = b.node('Reshape', [inorm, hs]);
  h = b.node('Mul', [h, b.init('gn.g', [width, 1, 1], Float32Array.from(randn(rng, width, 0.2), (v) => 1 + v))]);
  h = b.node('Add', [h, b.init('gn.b', [width, 1, 1], randn(rng, width, 0.1))]);
  h = b.node('Mul', [h, b.node('Sigmoid', [h])]);
  h = b.node('Resize', [h, '', b.init('sc2', [4], [1, 1, 2, 2])], { mode: 'nearest' });
  h = b.node('Conv', [h, b.init('cm.w', [width, width, 3, 3], randn(rng, width * width * 9, 0.15))], { kernel_shape: [3, 3], pads: [1, 1, 1, 1] });
  h = b.node('AveragePool', [h], { kernel_shape: [3, 3], pads: [1, 1, 1, 1], strides: [1, 1], count_include_pad: 0 });
  h = b.node('Resize', [h, '', b.init('sc2b', [4], [1, 1, 2, 2])], { mode: 'linear', coordinate_transformation_mode: 'half_pixel' });
  h = b.node('Conv', [h, b.init('co.w', [3, width, 3, 3], randn(rng, 3 * width * 9, 0.15)), b.init('co.b', [3], randn(rng, 3, 0.1))], { kernel_shape: [3, 3], pads: [1, 1, 1, 1] });
  h = b.node('Tanh', [h]);
  b.node('Clip', [h, b.init('lo', [], [-0.9]), b.init('hi', [], [0.9])], {}, ['image']);
  b.output('image');
  return b.build(13);
}

/**
 * A ResNet-18-shaped network (He et al.: 7x7/2 stem, 3x3/2 max pool, 4 stages of 2 basic blocks,
 * 64-128-256-512 channels, global average pool, fc) with random He-initialised weights, for
 * benchmarks and end-to-end checks at real size. `width` scales the channels (64 = the real one).
 */
export function resnet18Onnx(seed = 18, classes = 1000, width = 64): Uint8Array {
  const rng = new Rng(seed);
  const b = new OnnxGraphBuilder();
  let counter = 0;
  const conv = (x: string, cin: number, cout: number, k: number, stride: number): string => {
    const id = counter++;
    const w = b.init(`conv${id}.w`, [cout, cin, k, k], randn(rng, cout * cin * k * k, Math.sqrt(2 / (cin * k * k))));
    const c = b.node('Conv', [x, w], { kernel_shape: [k, k], strides: [stride, stride], pads: [(k - 1) >> 1, (k - 1) >> 1, (k - 1) >> 1, (k - 1) >> 1] });
    return b.node('BatchNormalization', [
      c,
      b.init(`bn${id}.g`, [cout], Float32Array.from(randn(rng, cout, 0.1), (v) => 1 + v)),
      b.init(`bn${id}.b`, [cout], randn(rng, cout, 0.1)),
      b.init(`bn${id}.m`, [cout], randn(rng, cout, 0.1)),
      b.init(`bn${id}.v`, [cout], Float32Array.from(randn(rng, cout, 0.1), (v) => 1 + Math.abs(v))),
    ], { epsilon: { f: 1e-5 } });
  };
  const x = b.input('input', ['N', 3, 224, 224]);
  let h = b.node('Relu', [conv(x, 3, width, 7, 2)]);
  h = b.node('MaxPool', [h], { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1] });
  let cin = width;
  for (const [stage, mult] of [1, 2, 4, 8].entries()) {
    const cout = width * mult;
    for (let blk = 0; blk < 2; blk++) {
      const stride = stage > 0 && blk === 0 ? 2 : 1;
      const r = conv(b.node('Relu', [conv(h, cin, cout, 3, stride)]), cout, cout, 3, 1);
      const skip = stride !== 1 || cin !== cout ? conv(h, cin, cout, 1, stride) : h;
      h = b.node('Relu', [b.node('Add', [r, skip])]);
      cin = cout;
    }
  }
  h = b.node('Flatten', [b.node('GlobalAveragePool', [h])], { axis: 1 });
  b.node('Gemm', [h, b.init('fc.w', [classes, cin], randn(rng, classes * cin, Math.sqrt(1 / cin))), b.init('fc.b', [classes], new Float32Array(classes))], { transB: 1 }, ['logits']);
  b.output('logits');
  return b.build(13);
}
