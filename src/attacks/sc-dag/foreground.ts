/**
 * Foreground (product) masks without a segmentation network, for product photos on a plain
 * background: estimate the background colour from the image border, flood-fill from the border
 * over pixels close to it, call the rest foreground, and clean the result with a small
 * morphological opening and closing. SC-DAG segments with a pretrained UNet; no such network can be
 * downloaded here, and the catalogue's (and most shops') photos have plain backgrounds.
 */

export interface ForegroundOptions {
  /** Border width (px) the background colour is estimated from (default: max(1, size/32)). */
  border?: number;
  /** Smallest colour distance (RGB Euclidean, [0,1] units) that counts as not background. */
  minThreshold: number;
  /** The threshold is max(minThreshold, spreadFactor x the 90th percentile of the border's distances). */
  spreadFactor: number;
}

export const DEFAULT_FOREGROUND: ForegroundOptions = { minThreshold: 0.08, spreadFactor: 2 };

export interface ForegroundMask {
  /** size*size values, 1 on the foreground. */
  mask: Float32Array;
  /** Foreground fraction of the image. */
  fraction: number;
  /** The background colour estimated from the border. */
  background: [number, number, number];
  /** The colour distance threshold used. */
  threshold: number;
}

function median(v: number[]): number {
  const s = [...v].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

/** Indices of the pixels within `border` of the image's edge. */
function borderPixels(size: number, border: number): number[] {
  const out: number[] = [];
  for (let y = 0; y < size; y++)
    for (let x = 0; x < size; x++) if (y < border || x < border || y >= size - border || x >= size - border) out.push(y * size + x);
  return out;
}

/** 3x3 erosion (value 1 where every in-image neighbour is 1) or dilation (1 where any is 1). */
function morph(m: Uint8Array, size: number, op: 'erode' | 'dilate'): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(m.length);
  for (let y = 0; y < size; y++)
    for (let x = 0; x < size; x++) {
      let any = 0;
      let all = 1;
      for (let dy = -1; dy <= 1; dy++)
        for (let dx = -1; dx <= 1; dx++) {
          const yy = y + dy;
          const xx = x + dx;
          if (yy < 0 || xx < 0 || yy >= size || xx >= size) continue;
          const v = m[yy * size + xx]!;
          any |= v;
          all &= v;
        }
      out[y * size + x] = op === 'erode' ? all : any;
    }
  return out;
}

/** Grow (r > 0) or shrink (r < 0) a binary mask by |r| pixels. */
export function growMask(mask: Float32Array, size: number, r: number): Float32Array {
  let m: Uint8Array = Uint8Array.from(mask, (v) => (v >= 0.5 ? 1 : 0));
  for (let k = 0; k < Math.abs(r); k++) m = morph(m, size, r > 0 ? 'dilate' : 'erode');
  return Float32Array.from(m);
}

/** Estimate the foreground of one size x size x 3 image in [0,1]. */
export function estimateForeground(image: Float32Array, size: number, opts: ForegroundOptions = DEFAULT_FOREGROUND): ForegroundMask {
  if (image.length !== size * size * 3) throw new Error(`estimateForeground: image has ${image.length} values, expected ${size}x${size}x3`);
  const n = size * size;
  const border = opts.border ?? Math.max(1, Math.round(size / 32));
  const ring = borderPixels(size, border);
  const bg: [number, number, number] = [0, 1, 2].map((c) => median(ring.map((p) => image[p * 3 + c]!))) as [number, number, number];
  const dist = new Float32Array(n);
  for (let p = 0; p < n; p++) {
    const dr = image[p * 3]! - bg[0];
    const dg = image[p * 3 + 1]! - bg[1];
    const db = image[p * 3 + 2]! - bg[2];
    dist[p] = Math.sqrt(dr * dr + dg * dg + db * db);
  }
  const ringDist = ring.map((p) => dist[p]!).sort((a, b) => a - b);
  const threshold = Math.max(opts.minThreshold, opts.spreadFactor * ringDist[Math.floor(0.9 * (ringDist.length - 1))]!);
  // flood fill the background from every border pixel close to the background colour (4-connected)
  const background = new Uint8Array(n);
  const queue: number[] = [];
  for (const p of ring) if (dist[p]! < threshold) (background[p] = 1), queue.push(p);
  for (let head = 0; head < queue.length; head++) {
    const p = queue[head]!;
    const y = Math.floor(p / size);
    const x = p - y * size;
    const visit = (q: number): void => {
      if (!background[q] && dist[q]! < threshold) (background[q] = 1), queue.push(q);
    };
    if (x > 0) visit(p - 1);
    if (x < size - 1) visit(p + 1);
    if (y > 0) visit(p - size);
    if (y < size - 1) visit(p + size);
  }
  let fg: Uint8Array = Uint8Array.from(background, (b) => 1 - b);
  // opening removes specks of noise, closing fills pinholes and thin gaps
  fg = morph(morph(fg, size, 'erode'), size, 'dilate');
  fg = morph(morph(fg, size, 'dilate'), size, 'erode');
  let count = 0;
  for (const v of fg) count += v;
  return { mask: Float32Array.from(fg), fraction: count / n, background: bg, threshold };
}
