/**
 * Deterministic PNG encoding of float RGB images (pngjs, fixed zlib settings: the same pixels always
 * give the same bytes), and a contact sheet of many images.
 */
import { PNG } from 'pngjs';

/** Quantise [0,1] floats to bytes (round half up, clamped). */
export function toBytes(v: number): number {
  const b = Math.round(v * 255);
  return b < 0 ? 0 : b > 255 ? 255 : b;
}

/** Encode an HWC RGB float image in [0,1] as an 8-bit RGB PNG. */
export function encodePngRgb(pixels: Float32Array, width: number, height: number): Buffer {
  if (pixels.length !== width * height * 3) throw new Error(`encodePngRgb: expected ${width * height * 3} values, got ${pixels.length}`);
  const png = new PNG({ width, height, colorType: 2, inputColorType: 2, inputHasAlpha: false, bitDepth: 8 });
  const data = Buffer.alloc(width * height * 3);
  for (let k = 0; k < data.length; k++) data[k] = toBytes(pixels[k]!);
  png.data = data;
  return PNG.sync.write(png, {
    colorType: 2,
    inputColorType: 2,
    inputHasAlpha: false,
    deflateLevel: 9,
    deflateStrategy: 3,
    filterType: 4,
  });
}

/**
 * Tile `rows` (each a list of size x size images) into one image with a `gap`-pixel white border.
 * Rows may be of different lengths; the sheet is as wide as the longest.
 */
export function contactSheet(rows: readonly (readonly Float32Array[])[], size: number, gap = 2): { pixels: Float32Array; width: number; height: number } {
  const cols = Math.max(1, ...rows.map((r) => r.length));
  const width = cols * (size + gap) + gap;
  const height = Math.max(1, rows.length) * (size + gap) + gap;
  const pixels = new Float32Array(width * height * 3).fill(1);
  rows.forEach((row, r) =>
    row.forEach((img, c) => {
      const x0 = gap + c * (size + gap),
        y0 = gap + r * (size + gap);
      for (let y = 0; y < size; y++) pixels.set(img.subarray(y * size * 3, (y + 1) * size * 3), ((y0 + y) * width + x0) * 3);
    }),
  );
  return { pixels, width, height };
}
