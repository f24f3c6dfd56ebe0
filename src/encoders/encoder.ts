/**
 * Image encoder contract (spec section 4). Three roles use it: the victim's F, the attacker's
 * surrogate G and the semantic encoder C.
 *
 * Input: NHWC float32 pixels in [0,1] at any size (resized to `inputSize` inside). Normalisation
 * (mean/std) lives inside the encoder, never at the attack boundary. `encode` is differentiable
 * with respect to its input so that pixel attacks can take gradients through it.
 */
import type * as tf from '@tensorflow/tfjs';

export type EncoderRole = 'victim' | 'surrogate' | 'semantic';

export interface EncoderDescription {
  /** Architecture family, e.g. "resnet-small", "onnx". */
  kind: string;
  inputSize: number;
  featureDim: number;
  pixelRange: [0, 1];
  normalization: { mean: [number, number, number]; std: [number, number, number] };
}

export interface ImageEncoder {
  readonly description: EncoderDescription;
  /** Features N x featureDim of images N x H x W x 3 in [0,1]. Differentiable in `images`. */
  encode(images: tf.Tensor4D): tf.Tensor2D;
  /** Trainable variables (for training only; attacks never update them). */
  trainableVariables(): tf.Variable[];
  dispose(): void;
}
