/**
 * Batched feature extraction, the one implementation: `extractFeatures` (./resnet.ts) over an image
 * source, `allItemFeatures` (every item, as host values) and `featuresOfImages` over explicit images
 * (e.g. adversarial ones) by wrapping them as a source.
 */
import type { ImageSource } from '../data/dataset.js';
import type { ImageEncoder } from './encoder.js';
import { extractFeatures } from './resnet.js';

/** Explicit images (item -> size x size x 3 pixels) as an ImageSource. */
export function mapImageSource(images: ReadonlyMap<number, Float32Array>, size: number): ImageSource {
  return {
    size,
    hasPixels: true,
    load: (item) => {
      const img = images.get(item);
      if (!img) return Promise.reject(new Error(`no image for item ${item}`));
      return Promise.resolve(img);
    },
  };
}

/** Features of explicit images under `encoder`, as item -> feature vector (batches of `batch`). */
export async function featuresOfImages(encoder: ImageEncoder, images: ReadonlyMap<number, Float32Array>, size: number, batch = 64): Promise<Map<number, Float32Array>> {
  const items = [...images.keys()];
  const f = await extractFeatures(encoder, mapImageSource(images, size), items, batch);
  const d = (await f.data()) as Float32Array;
  const dim = f.shape[1];
  f.dispose();
  return new Map(items.map((i, k) => [i, d.slice(k * dim, (k + 1) * dim)]));
}

/** Features of every item 0..numItems-1 as host values (numItems x dim, row-major), no tensors left behind. */
export async function allItemFeatures(encoder: ImageEncoder, images: ImageSource, numItems: number, batch = 128): Promise<{ data: Float32Array; dim: number }> {
  const f = await extractFeatures(encoder, images, Array.from({ length: numItems }, (_, i) => i), batch);
  const data = (await f.data()) as Float32Array;
  const dim = f.shape[1];
  f.dispose();
  return { data, dim };
}
