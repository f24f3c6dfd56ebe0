/**
 * Small ResNet-style image encoder (spec section 4): [0,1] NHWC pixels -> resize to inputSize ->
 * (x - mean)/std -> 3x3 conv stem -> stages of residual blocks (GroupNorm, ReLU; first block of a
 * stage strides 2) -> global average pool -> linear projection to featureDim.
 * Trained by category classification (victim F, surrogate G) or SimCLR/InfoNCE (semantic C).
 */
import * as tf from '@tensorflow/tfjs';
import { groupNorm } from '../core/kernels/group_norm.js';
import path from 'node:path';
import { Rng } from '../core/rng.js';
import { ConfigError, InputError } from '../core/errors.js';
import { writeDirAtomic } from '../core/fsutil.js';
import { loadModel, MANIFEST_FILE, requireTensor, saveModel, toTensor } from '../core/weights.js';
import { loadImageBatch, type ImageSource } from '../data/dataset.js';
import type { EncoderDescription, EncoderRole, ImageEncoder } from './encoder.js';

export interface ResNetConfig {
  role: EncoderRole;
  inputSize: number;
  /** Channel width of each stage; each stage halves the resolution (except the first). */
  widths: number[];
  /** Residual blocks per stage. */
  blocks: number;
  groups: number;
  featureDim: number;
  seed: number;
}

export const DEFAULT_ENCODER_CONFIGS: Record<EncoderRole, ResNetConfig> = {
  victim: { role: 'victim', inputSize: 32, widths: [16, 32, 64], blocks: 1, groups: 4, featureDim: 512, seed: 11 },
  // Different seed AND width from F so black-box transfer is real (section 4).
  surrogate: { role: 'surrogate', inputSize: 32, widths: [24, 48, 96], blocks: 1, groups: 4, featureDim: 512, seed: 23 },
  semantic: { role: 'semantic', inputSize: 32, widths: [16, 32, 64], blocks: 1, groups: 4, featureDim: 128, seed: 37 },
};

let varId = 0;

export class ResNetEncoder implements ImageEncoder {
  readonly description: EncoderDescription;
  readonly weights = new Map<string, tf.Variable>();

  constructor(readonly config: ResNetConfig, init = true) {
    if (config.widths.length === 0 || config.widths.some((w) => w % config.groups !== 0)) throw new ConfigError(`encoder widths ${config.widths.join(',')} must be non-empty multiples of groups=${config.groups}`);
    this.description = { kind: 'resnet-small', inputSize: config.inputSize, featureDim: config.featureDim, pixelRange: [0, 1], normalization: { mean: [0.5, 0.5, 0.5], std: [0.25, 0.25, 0.25] } };
    if (init) {
      const rng = new Rng(config.seed).fork(`encoder-${config.role}`);
      for (const [name, shape] of this.shapes()) {
        const n = shape.reduce((a, b) => a * b, 1);
        const isGain = name.endsWith('.g');
        const isBias = name.endsWith('.b');
        const fanIn = shape.length === 4 ? shape[0]! * shape[1]! * shape[2]! : shape[0]!;
        const data = isGain ? new Float32Array(n).fill(1) : isBias ? new Float32Array(n) : rng.fork(name).normalArray(n, Math.sqrt(2 / fanIn));
        this.set(name, tf.tensor(data, shape));
      }
    }
  }

  private set(name: string, t: tf.Tensor): void {
    this.weights.set(name, tf.variable(t, true, `enc-${name}-${varId++}`));
    t.dispose();
  }

  shapes(): [string, number[]][] {
    const { widths, blocks } = this.config;
    const out: [string, number[]][] = [['stem.w', [3, 3, 3, widths[0]!]], ['stem.g', [widths[0]!]], ['stem.b', [widths[0]!]]];
    let cin = widths[0]!;
    widths.forEach((w, s) => {
      for (let b = 0; b < blocks; b++) {
        const p = `s${s}b${b}`;
        out.push([`${p}.c1.w`, [3, 3, cin, w]], [`${p}.n1.g`, [w]], [`${p}.n1.b`, [w]], [`${p}.c2.w`, [3, 3, w, w]], [`${p}.n2.g`, [w]], [`${p}.n2.b`, [w]]);
        if (cin !== w || (b === 0 && s > 0)) out.push([`${p}.sc.w`, [1, 1, cin, w]]);
        cin = w;
      }
    });
    out.push(['proj.w', [cin, this.config.featureDim]], ['proj.b', [this.config.featureDim]]);
    return out;
  }

  private w(name: string): tf.Tensor {
    return this.weights.get(name)!;
  }

  /**
   * GroupNorm over (H, W, C/groups) then per-channel gain and bias (eps 1e-5): the project's one
   * groupNorm (src/core/kernels/group_norm.ts), one native kernel forward and one backward where
   * the addon runs.
   */
  private gn(x: tf.Tensor4D, p: string): tf.Tensor4D {
    return groupNorm(x, this.w(`${p}.g`) as tf.Tensor1D, this.w(`${p}.b`) as tf.Tensor1D, this.config.groups, { eps: 1e-5 });
  }

  encode(images: tf.Tensor4D): tf.Tensor2D {
    return tf.tidy(() => {
      const s = this.config.inputSize;
      let x: tf.Tensor4D = images;
      if (x.shape[1] !== s || x.shape[2] !== s) {
        x = x.shape[1] % s === 0 && x.shape[1] === x.shape[2] ? tf.avgPool(x, x.shape[1] / s, x.shape[1] / s, 'valid') : tf.image.resizeBilinear(x, [s, s]);
      }
      x = x.sub(0.5).div(0.25);
      // Stride-2 stem (as in ResNet) keeps training fast on 2 CPU cores.
      x = tf.relu(this.gn(tf.conv2d(x, this.w('stem.w') as tf.Tensor4D, 2, 'same'), 'stem'));
      const { widths, blocks } = this.config;
      widths.forEach((_, st) => {
        for (let b = 0; b < blocks; b++) {
          const p = `s${st}b${b}`;
          const stride = b === 0 && st > 0 ? 2 : 1;
          let y = tf.relu(this.gn(tf.conv2d(x, this.w(`${p}.c1.w`) as tf.Tensor4D, stride, 'same'), `${p}.n1`));
          y = this.gn(tf.conv2d(y, this.w(`${p}.c2.w`) as tf.Tensor4D, 1, 'same'), `${p}.n2`);
          const sc = this.weights.has(`${p}.sc.w`) ? tf.conv2d(x, this.w(`${p}.sc.w`) as tf.Tensor4D, stride, 'same') : x;
          x = tf.relu(y.add(sc));
        }
      });
      const pooled = x.mean([1, 2]) as tf.Tensor2D;
      return pooled.matMul(this.w('proj.w') as tf.Tensor2D).add(this.w('proj.b')) as tf.Tensor2D;
    });
  }

  trainableVariables(): tf.Variable[] {
    return [...this.weights.values()];
  }

  /** Write the encoder as a model folder (src/core/weights.ts), replacing `dir` atomically. */
  async save(dir: string): Promise<void> {
    await writeDirAtomic(dir, (tmp) => saveModel(tmp, { kind: 'image-encoder', config: { architecture: 'resnet-small', resnet: this.config }, tensors: this.weights }));
  }

  static async load(dir: string): Promise<ResNetEncoder> {
    const file = await loadModel<{ architecture?: string; resnet: ResNetConfig }>(dir, 'image-encoder');
    if (file.config.architecture !== 'resnet-small') throw new InputError(`image encoder architecture '${String(file.config.architecture)}' is not resnet-small`, path.join(dir, MANIFEST_FILE));
    const enc = new ResNetEncoder(file.config.resnet, false);
    for (const [name, shape] of enc.shapes()) enc.set(name, toTensor(requireTensor(file, name, dir, shape)));
    return enc;
  }

  dispose(): void {
    tf.dispose([...this.weights.values()]);
    this.weights.clear();
  }
}

export function loadEncoder(dir: string): Promise<ResNetEncoder> {
  return ResNetEncoder.load(dir);
}

/** Features of `items` (items.length x featureDim), computed in batches without leaks. */
export async function extractFeatures(encoder: ImageEncoder, images: ImageSource, items: readonly number[], batch = 128): Promise<tf.Tensor2D> {
  const rows = await extractFeatureRows(encoder, images, items, batch);
  return tf.tensor2d(rows, [items.length, encoder.description.featureDim]);
}

/**
 * Features of `items` streamed into one host Float32Array (items.length x featureDim, row k = item
 * items[k]): only `batch` images are rendered or decoded at a time, and each batch's features leave
 * the engine before the next batch loads, so a 110k-item catalogue holds N x D floats and one batch.
 */
export async function extractFeatureRows(
  encoder: ImageEncoder,
  images: ImageSource,
  items: readonly number[],
  batch = 128,
  onBatch?: (done: number, total: number) => void,
): Promise<Float32Array> {
  if (!images.hasPixels) throw new InputError('the dataset has no pixel images: cannot extract features');
  const dim = encoder.description.featureDim;
  const out = new Float32Array(items.length * dim);
  for (let s = 0; s < items.length; s += batch) {
    const x = await loadImageBatch(images, items.slice(s, s + batch));
    const f = encoder.encode(x);
    x.dispose();
    if (f.shape[1] !== dim) throw new InputError(`encoder ${encoder.description.kind} returned ${f.shape[1]} features per image, its description says ${dim}`);
    out.set((await f.data()) as Float32Array, s * dim);
    f.dispose();
    onBatch?.(Math.min(items.length, s + batch), items.length);
  }
  return out;
}
