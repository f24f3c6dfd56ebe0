/** `auv-fusion metrics image A.png B.png`: SSIM, PSNR, L_inf and L2 of two images (spec section 9). */
import type { Command } from 'commander';
import { statSync } from 'node:fs';
import sharp from 'sharp';
import { InputError } from '../../core/errors.js';
import { imagePairMetrics } from '../../evaluation/image-metrics.js';
import { commandGroup } from './group.js';

/** Decode an image file at its own size to HWC RGB floats in [0,1]. */
export async function readImageFile(file: string): Promise<{ pixels: Float32Array; width: number; height: number }> {
  if (statSync(file, { throwIfNoEntry: false })?.isDirectory()) throw new InputError('is a folder, not an image file', file);
  try {
    const { data, info } = await sharp(file, { failOn: 'error' })
      .flatten({ background: { r: 255, g: 255, b: 255 } })
      .toColourspace('srgb')
      .removeAlpha()
      .raw({ depth: 'uchar' })
      .toBuffer({ resolveWithObject: true });
    return { pixels: Float32Array.from(data, (v) => v / 255), width: info.width, height: info.height };
  } catch (err) {
    throw new InputError(`corrupt or unreadable image: ${(err as Error).message.split('\n')[0]}`, file);
  }
}

export async function imageFileMetrics(fileA: string, fileB: string) {
  const a = await readImageFile(fileA);
  const b = await readImageFile(fileB);
  if (a.width !== b.width || a.height !== b.height) {
    throw new InputError(`size ${b.width}x${b.height} differs from ${fileA} (${a.width}x${a.height})`, fileB);
  }
  if (a.width < 11 || a.height < 11) throw new InputError(`image ${a.width}x${a.height} is smaller than the 11x11 SSIM window`, fileA);
  return imagePairMetrics(a.pixels, b.pixels, a.height, 3);
}

export function registerMetricsCommands(program: Command): void {
  const metrics = commandGroup(program, 'metrics', 'Image metrics');
  metrics
    .command('image <a> <b>')
    .description('Print {"ssim","psnr","linf","l2"} of two images of the same size (SSIM as scikit-image, Gaussian 11x11, sigma 1.5)')
    .action(async (a: string, b: string) => {
      const m = await imageFileMetrics(a, b);
      // JSON has no Infinity: identical images print psnr null.
      process.stdout.write(JSON.stringify({ ssim: m.ssim, psnr: Number.isFinite(m.psnr) ? m.psnr : null, linf: m.linf, l2: m.l2 }) + '\n');
    });
}
