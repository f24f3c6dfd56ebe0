/**
 * An ImageEncoder over an imported ONNX network (spec section 4): usable as the victim's F, the
 * surrogate G or the semantic encoder C. NHWC [0,1] pixels in -> bilinear resize to inputSize ->
 * (x - mean) / std -> NCHW -> model -> features (flattened to N x featureDim).
 */
import * as tf from '@tensorflow/tfjs';
import { z } from 'zod';
import { ConfigError } from '../core/errors.js';
import type { EncoderDescription, ImageEncoder } from '../encoders/encoder.js';
import { importOnnx, type OnnxModel } from './importer.js';
import { DT } from './proto.js';
import { resizeBilinearHalfPixel } from './resize.js';

export const OnnxEncoderConfigSchema = z.object({
  /** Path of the .onnx file. */
  file: z.string().min(1),
  /** Side length the network expects (e.g. 224); default: read from the file's declared input shape. */
  inputSize: z.number().int().positive().optional(),
  /** Per-channel normalisation applied to [0,1] pixels (ImageNet defaults). */
  mean: z.tuple([z.number(), z.number(), z.number()]).default([0.485, 0.456, 0.406]),
  std: z.tuple([z.number().positive(), z.number().positive(), z.number().positive()]).default([0.229, 0.224, 0.225]),
  /** Output to use as features; default the graph's first output. */
  outputName: z.string().optional(),
  /** Input name; default the graph's only input. */
  inputName: z.string().optional(),
});
export type OnnxEncoderConfig = z.input<typeof OnnxEncoderConfigSchema>;

export class OnnxImageEncoder implements ImageEncoder {
  readonly description: EncoderDescription;
  private readonly meanT: tf.Tensor;
  private readonly stdT: tf.Tensor;

  private constructor(
    readonly model: OnnxModel,
    private readonly inputName: string,
    private readonly outputName: string,
    private readonly inputSize: number,
    mean: [number, number, number],
    std: [number, number, number],
    featureDim: number,
  ) {
    this.description = { kind: 'onnx', inputSize, featureDim, pixelRange: [0, 1], normalization: { mean, std } };
    this.meanT = tf.tensor4d(mean, [1, 1, 1, 3]);
    this.stdT = tf.tensor4d(std, [1, 1, 1, 3]);
  }

  /** Import the file and probe the feature dimension with one zero image. */
  static async load(config: OnnxEncoderConfig): Promise<OnnxImageEncoder> {
    const parsed = OnnxEncoderConfigSchema.safeParse(config);
    if (!parsed.success) throw new ConfigError(`onnx encoder config: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
    const c = parsed.data;
    const model = await importOnnx(c.file);
    const inputName = c.inputName ?? model.inputs[0]?.name;
    if (!inputName || (c.inputName === undefined && model.inputs.length !== 1))
      throw new ConfigError(`onnx encoder ${c.file}: the model has inputs [${model.inputs.map((i) => i.name).join(', ')}]; set inputName`);
    if (!model.inputs.some((i) => i.name === inputName)) throw new ConfigError(`onnx encoder ${c.file}: no input named '${inputName}' (inputs: ${model.inputs.map((i) => i.name).join(', ')})`);
    const input = model.inputs.find((i) => i.name === inputName)!;
    if (input.elemType !== DT.FLOAT) throw new ConfigError(`onnx encoder ${c.file}: input '${inputName}' is not a float tensor (ONNX element type ${input.elemType}); an image encoder takes float NCHW pixels`);
    const declared = input.shape;
    const fileSize = declared && typeof declared[2] === 'number' && declared[2] === declared[3] ? declared[2] : undefined;
    const inputSize = c.inputSize ?? fileSize;
    if (inputSize === undefined) throw new ConfigError(`onnx encoder ${c.file}: input '${inputName}' has shape [${(declared ?? []).join(', ')}], which declares no fixed square image size; set inputSize`);
    if (declared && (declared.length !== 4 || declared[1] !== 3 || [2, 3].some((k) => typeof declared[k] === 'number' && declared[k] !== inputSize)))
      throw new ConfigError(`onnx encoder ${c.file}: input '${inputName}' has shape [${declared.join(', ')}], which does not take ${inputSize}x${inputSize} RGB images (NCHW); set inputSize to the model's size`);
    const outputName = c.outputName ?? model.outputs[0]!.name;
    if (!model.outputs.some((o) => o.name === outputName)) throw new ConfigError(`onnx encoder ${c.file}: no output named '${outputName}' (outputs: ${model.outputs.map((o) => o.name).join(', ')}); allowed outputName values are those`);
    const probe = tf.tidy(() => model.apply({ [inputName]: tf.zeros([1, 3, inputSize, inputSize]) })[outputName]!);
    const featureDim = probe.size;
    probe.dispose();
        if (!Number.isFinite(featureDim) || featureDim < 1) throw new ConfigError(`onnx encoder ${c.file}: output '${outputName}' is empty`);
    return new OnnxImageEncoder(model, inputName, outputName, inputSize, c.mean, c.std, featureDim);
  }

  encode(images: tf.Tensor4D): tf.Tensor2D {
    return tf.tidy(() => {
      const s = this.inputSize;
      const x = images.shape[1] === s && images.shape[2] === s ? images : resizeBilinearHalfPixel(images, s, s);
      const norm = tf.div(tf.sub(x, this.meanT), this.stdT);
      const nchw = tf.transpose(norm, [0, 3, 1, 2]);
      const y = this.model.apply({ [this.inputName]: nchw })[this.outputName]!;
      return tf.reshape(y, [images.shape[0], this.description.featureDim]) as tf.Tensor2D;
    });
  }

  trainableVariables(): tf.Variable[] {
    return [];
  }

  dispose(): void {
    this.model.dispose();
    this.meanT.dispose();
    this.stdT.dispose();
  }
}
