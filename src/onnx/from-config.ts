/**
 * Encoders from ONNX files named in the experiment config (issue 18): any role (victim F, the
 * attacker's encoder G, semantic C) may be `{ onnx: path/to/net.onnx, inputSize?, mean?, std?,
 * outputName?, inputName? }` instead of the settings of a network trained here. The input size is
 * read from the file when not declared; images of another size are resized inside the encoder
 * (bilinear, differentiable: ./encoder.ts). Cache keys carry the file's content hash, so a file
 * replaced in place never reuses artefacts computed with the old one.
 */
import { createHash } from 'node:crypto';
import { createReadStream, promises as fs } from 'node:fs';
import { z } from 'zod';
import { ConfigError, InputError } from '../core/errors.js';
import { configHash } from '../core/hash.js';
import type { EncoderRole, ImageEncoder } from '../encoders/encoder.js';
import { OnnxImageEncoder } from './encoder.js';

const rgb = z.tuple([z.number(), z.number(), z.number()]);

/** A role's encoder given as an ONNX file (the config key `encoders.<role>`). */
export const OnnxRoleSchema = z
  .object({
    /** Path of the .onnx file (relative to the working directory). */
    onnx: z.string().min(1),
    /** Side the network takes; default: the file's declared input shape. */
    inputSize: z.number().int().min(8).max(1024).optional(),
    /** Per-channel normalisation of [0,1] pixels; default ImageNet's. */
    mean: rgb.optional(),
    std: z.tuple([z.number().positive(), z.number().positive(), z.number().positive()]).optional(),
    /** Output used as features; default the graph's first output. */
    outputName: z.string().min(1).optional(),
    /** Input name; default the graph's only input. */
    inputName: z.string().min(1).optional(),
  })
  .strict();
export type OnnxRoleConfig = z.infer<typeof OnnxRoleSchema>;

export function isOnnxRole(e: unknown): e is OnnxRoleConfig {
  return typeof e === 'object' && e !== null && typeof (e as { onnx?: unknown }).onnx === 'string';
}

/** Hex SHA-256 of a file's bytes (streamed). */
export async function fileContentHash(file: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(file)) h.update(chunk as Buffer);
  return h.digest('hex');
}

/**
 * Load the ONNX encoder of `role`, checking the file (exists, parses, takes float RGB images of a
 * known size, gives non-empty features). Every error names the config key and the file. Returns
 * the encoder and the hash that stands for it in every artefact key.
 */
export async function loadOnnxRole(role: EncoderRole, e: OnnxRoleConfig): Promise<{ encoder: ImageEncoder; hash: string }> {
  const key = `encoders.${role}.onnx`;
  try {
    const st = await fs.stat(e.onnx);
    if (!st.isFile()) throw new InputError(`'${key}' is not a file`, e.onnx);
  } catch (err) {
    if (err instanceof InputError) throw err;
    throw new InputError(`'${key}': cannot read the ONNX file (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`, e.onnx);
  }
  let encoder: OnnxImageEncoder;
  try {
    encoder = await OnnxImageEncoder.load({
      file: e.onnx,
      ...(e.inputSize !== undefined ? { inputSize: e.inputSize } : {}),
      ...(e.mean ? { mean: e.mean } : {}),
      ...(e.std ? { std: e.std } : {}),
      ...(e.outputName ? { outputName: e.outputName } : {}),
      ...(e.inputName ? { inputName: e.inputName } : {}),
    });
  } catch (err) {
    const msg = (err as Error).message;
    if (err instanceof ConfigError) throw new ConfigError(`'${key}': ${msg}`);
    if (err instanceof InputError) throw new InputError(`'${key}': ${msg}`);
    throw new InputError(`'${key}': not a usable ONNX image encoder (${msg.split('\n')[0]})`, e.onnx);
  }
  const d = encoder.description;
  const hash = configHash({ onnx: await fileContentHash(e.onnx), inputSize: d.inputSize, normalization: d.normalization, outputName: e.outputName ?? null, inputName: e.inputName ?? null, featureDim: d.featureDim });
  return { encoder, hash };
}
