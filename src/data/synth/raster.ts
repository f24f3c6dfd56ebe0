/**
 * A tiny pure-JS rasteriser for the synthetic fashion catalogue (spec section 2): each item is a
 * garment/accessory silhouette built from a few primitives (polygons, ellipses, rounded rectangles,
 * half-annuli), filled with a colour pattern, lit by a soft vertical gradient and drawn over a light
 * product-shot background with a soft floor shadow. Antialiasing by regular supersampling.
 *
 * Output: size*size*3 float32 in [0,1] (multiples of 1/255, like a decoded 8-bit image), HWC.
 */

export const CATEGORIES = ['t-shirt', 'dress', 'trousers', 'shoe', 'bag', 'hat', 'skirt', 'jacket'] as const;
export type CategoryName = (typeof CATEGORIES)[number];

export const COLOURS: readonly { name: string; rgb: readonly [number, number, number] }[] = [
  { name: 'red', rgb: [0.8, 0.12, 0.15] },
  { name: 'orange', rgb: [0.95, 0.5, 0.1] },
  { name: 'yellow', rgb: [0.95, 0.82, 0.2] },
  { name: 'green', rgb: [0.2, 0.55, 0.25] },
  { name: 'teal', rgb: [0.1, 0.55, 0.55] },
  { name: 'blue', rgb: [0.2, 0.4, 0.85] },
  { name: 'navy', rgb: [0.1, 0.15, 0.4] },
  { name: 'purple', rgb: [0.5, 0.25, 0.65] },
  { name: 'pink', rgb: [0.95, 0.55, 0.7] },
  { name: 'brown', rgb: [0.5, 0.3, 0.15] },
  { name: 'black', rgb: [0.1, 0.1, 0.11] },
  { name: 'white', rgb: [0.97, 0.97, 0.95] },
  { name: 'grey', rgb: [0.55, 0.55, 0.57] },
  { name: 'beige', rgb: [0.85, 0.75, 0.58] },
];

export const PATTERNS = ['solid', 'stripes', 'pinstripes', 'checks', 'dots', 'diagonal'] as const;
export type PatternName = (typeof PATTERNS)[number];

/** Everything needed to draw one item; images are rendered on demand from this record. */
export interface ItemAttributes {
  /** Index into CATEGORIES. */
  category: number;
  /** Index into COLOURS: main colour. */
  colour: number;
  /** Index into COLOURS: pattern colour (unused by 'solid'). */
  colour2: number;
  /** Index into PATTERNS. */
  pattern: number;
  /** Shape variant in [0,1] (sleeve length, flare, heel, crown height...). */
  variant: number;
  /** Overall scale of the silhouette (fraction of the frame). */
  scale: number;
  /** Horizontal stretch (1 = as drawn). */
  aspect: number;
  /** Centre offset in frame units. */
  dx: number;
  dy: number;
  /** Rotation in radians (small). */
  rotation: number;
  /** Pattern repeats per unit of shape space, and phase. */
  patternFreq: number;
  patternPhase: number;
  /** Multiplicative per-channel colour jitter. */
  jitter: readonly [number, number, number];
  /** Background RGB (light). */
  background: readonly [number, number, number];
  /** Sole/trim style bit (e.g. white or dark sole). */
  style: number;
}

type Material = 0 | 1 | 2 | 3 | 4 | 5; // body, trim, sole, hole, metal, inner
const BODY = 0,
  TRIM = 1,
  SOLE = 2,
  HOLE = 3,
  METAL = 4,
  INNER = 5;

interface Prim {
  kind: 'poly' | 'ellipse' | 'rect' | 'arc';
  mat: Material;
  /** poly: flat x,y list; ellipse: cx,cy,rx,ry; rect: x0,y0,x1,y1,r; arc: cx,cy,rx,ry,t,upper(1|0) */
  p: number[];
  x0: number;
  y0: number;
  x1: number;
  y1: number;
}

function poly(pts: number[], mat: Material): Prim {
  let x0 = Infinity,
    y0 = Infinity,
    x1 = -Infinity,
    y1 = -Infinity;
  for (let k = 0; k < pts.length; k += 2) {
    x0 = Math.min(x0, pts[k]!);
    x1 = Math.max(x1, pts[k]!);
    y0 = Math.min(y0, pts[k + 1]!);
    y1 = Math.max(y1, pts[k + 1]!);
  }
  return { kind: 'poly', mat, p: pts, x0, y0, x1, y1 };
}
function ellipse(cx: number, cy: number, rx: number, ry: number, mat: Material): Prim {
  return { kind: 'ellipse', mat, p: [cx, cy, rx, ry], x0: cx - rx, y0: cy - ry, x1: cx + rx, y1: cy + ry };
}
function rect(x0: number, y0: number, x1: number, y1: number, r: number, mat: Material): Prim {
  return { kind: 'rect', mat, p: [x0, y0, x1, y1, r], x0, y0, x1, y1 };
}
function arc(cx: number, cy: number, rx: number, ry: number, t: number, upper: boolean, mat: Material): Prim {
  return {
    kind: 'arc',
    mat,
    p: [cx, cy, rx, ry, t, upper ? 1 : 0],
    x0: cx - rx,
    y0: upper ? cy - ry : cy,
    x1: cx + rx,
    y1: upper ? cy : cy + ry,
  };
}

/** Silhouettes in shape space [0,1]^2 (y down), drawn in order (later on top). */
export function silhouette(category: number, v: number): Prim[] {
  switch (CATEGORIES[category]) {
    case 't-shirt': {
      const w = 0.18 + 0.04 * v;
      const sl = 0.04 * v;
      return [
        poly(
          [0.4, 0.16, 0.28, 0.2, 0.14 - sl, 0.36 + sl, 0.22 - sl, 0.44 + sl, 0.5 - w, 0.36, 0.5 - w, 0.84,
           0.5 + w, 0.84, 0.5 + w, 0.36, 0.78 + sl, 0.44 + sl, 0.86 + sl, 0.36 + sl, 0.72, 0.2, 0.6, 0.16],
          BODY,
        ),
        ellipse(0.5, 0.155, 0.1, 0.06, HOLE),
        arc(0.5, 0.155, 0.1, 0.06, 0.022, false, TRIM),
      ];
    }
    case 'jacket': {
      const w = 0.19 + 0.03 * v;
      return [
        poly(
          [0.4, 0.15, 0.27, 0.19, 0.14, 0.3, 0.1, 0.8, 0.19, 0.82, 0.5 - w, 0.4, 0.5 - w, 0.88,
           0.5 + w, 0.88, 0.5 + w, 0.4, 0.81, 0.82, 0.9, 0.8, 0.86, 0.3, 0.73, 0.19, 0.6, 0.15],
          BODY,
        ),
        poly([0.41, 0.15, 0.5, 0.42, 0.59, 0.15], INNER),
        poly([0.4, 0.15, 0.5, 0.44, 0.45, 0.45, 0.36, 0.22], TRIM),
        poly([0.6, 0.15, 0.5, 0.44, 0.55, 0.45, 0.64, 0.22], TRIM),
        rect(0.494, 0.44, 0.506, 0.88, 0, TRIM),
        ellipse(0.535, 0.54, 0.018, 0.018, METAL),
        ellipse(0.535, 0.66, 0.018, 0.018, METAL),
        ellipse(0.535, 0.78, 0.018, 0.018, METAL),
      ];
    }
    case 'dress': {
      const f = 0.08 + 0.14 * v;
      return [
        rect(0.4, 0.09, 0.43, 0.24, 0, BODY),
        rect(0.57, 0.09, 0.6, 0.24, 0, BODY),
        poly([0.38, 0.22, 0.62, 0.22, 0.6, 0.45, 0.4, 0.45], BODY),
        poly([0.4, 0.45, 0.6, 0.45, 0.62 + f, 0.91, 0.38 - f, 0.91], BODY),
        rect(0.395, 0.425, 0.605, 0.47, 0.01, TRIM),
      ];
    }
    case 'trousers': {
      const fl = 0.05 * v;
      return [
        poly([0.3, 0.17, 0.7, 0.17, 0.72 + fl, 0.92, 0.54, 0.92, 0.5, 0.4, 0.46, 0.92, 0.28 - fl, 0.92], BODY),
        rect(0.3, 0.1, 0.7, 0.175, 0.01, TRIM),
        ellipse(0.5, 0.137, 0.015, 0.015, METAL),
      ];
    }
    case 'skirt': {
      const len = 0.5 + 0.22 * v;
      return [
        poly([0.33, 0.24, 0.67, 0.24, 0.8 + 0.06 * v, 0.24 + len, 0.2 - 0.06 * v, 0.24 + len], BODY),
        rect(0.33, 0.18, 0.67, 0.25, 0.01, TRIM),
      ];
    }
    case 'shoe': {
      const h = 0.1 * v;
      return [
        poly([0.12, 0.5 - h, 0.3, 0.46 - h, 0.44, 0.56, 0.7, 0.6, 0.86, 0.65, 0.9, 0.72, 0.12, 0.72], BODY),
        ellipse(0.21, 0.49 - h, 0.08, 0.03, INNER),
        poly([0.44, 0.56, 0.54, 0.58, 0.5, 0.64, 0.42, 0.62], TRIM),
        rect(0.1, 0.72, 0.92, 0.78, 0.02, SOLE),
        rect(0.1, 0.72 - h, 0.2, 0.78, 0.01, SOLE),
      ];
    }
    case 'bag': {
      const hw = 0.15 + 0.07 * v;
      return [
        arc(0.5, 0.41, hw, 0.2, 0.035, true, TRIM),
        rect(0.2, 0.4, 0.8, 0.86, 0.05, BODY),
        poly([0.2, 0.4, 0.8, 0.4, 0.8, 0.52, 0.5, 0.6, 0.2, 0.52], TRIM),
        ellipse(0.5, 0.585, 0.03, 0.03, METAL),
      ];
    }
    case 'hat': {
      const top = 0.34 - 0.12 * v;
      return [
        ellipse(0.5, 0.64, 0.41, 0.08, BODY),
        rect(0.3, top, 0.7, 0.64, 0.12, BODY),
        rect(0.3, 0.54, 0.7, 0.6, 0, TRIM),
      ];
    }
    default:
      throw new Error(`unknown category index ${category}`);
  }
}

function inside(pr: Prim, x: number, y: number): boolean {
  if (x < pr.x0 || x > pr.x1 || y < pr.y0 || y > pr.y1) return false;
  const p = pr.p;
  switch (pr.kind) {
    case 'poly': {
      let c = false;
      const n = p.length;
      for (let a = 0, b = n - 2; a < n; b = a, a += 2) {
        const ya = p[a + 1]!,
          yb = p[b + 1]!;
        if (ya > y !== yb > y) {
          const xa = p[a]!,
            xb = p[b]!;
          if (x < ((xb - xa) * (y - ya)) / (yb - ya) + xa) c = !c;
        }
      }
      return c;
    }
    case 'ellipse': {
      const u = (x - p[0]!) / p[2]!,
        v = (y - p[1]!) / p[3]!;
      return u * u + v * v <= 1;
    }
    case 'rect': {
      const r = p[4]!;
      if (r <= 0) return true;
      const cx = (p[0]! + p[2]!) / 2,
        cy = (p[1]! + p[3]!) / 2;
      const dx = Math.max(Math.abs(x - cx) - ((p[2]! - p[0]!) / 2 - r), 0);
      const dy = Math.max(Math.abs(y - cy) - ((p[3]! - p[1]!) / 2 - r), 0);
      return dx * dx + dy * dy <= r * r;
    }
    case 'arc': {
      const [cx, cy, rx, ry, t] = p as [number, number, number, number, number];
      const u = (x - cx) / rx,
        v = (y - cy) / ry;
      if (u * u + v * v > 1) return false;
      const ui = (x - cx) / (rx - t),
        vi = (y - cy) / (ry - t);
      return ui * ui + vi * vi > 1;
    }
  }
}

/**
 * Where the pattern colour shows. The main colour always covers most of the garment (the pattern
 * colour about 20-35%), so an item's main colour, the one users' tastes are defined on, is visible.
 */
function patternMask(pattern: number, u: number, v: number, freq: number, phase: number): boolean {
  const frac = (t: number): number => t - Math.floor(t);
  switch (PATTERNS[pattern]) {
    case 'solid':
      return false;
    case 'stripes':
      return frac(v * freq + phase) < 0.35;
    case 'pinstripes':
      return frac(u * freq * 1.5 + phase) < 0.2;
    case 'checks':
      // gingham-like: two sets of thin bands, the pattern colour where either shows (~32%).
      return frac(u * freq + phase) < 0.18 || frac(v * freq + phase) < 0.18;
    case 'dots': {
      const a = u * freq + phase,
        b = v * freq + phase + 0.5 * (Math.floor(u * freq + phase) % 2);
      const fu = frac(a) - 0.5,
        fv = frac(b) - 0.5;
      return fu * fu + fv * fv < 0.07;
    }
    case 'diagonal':
      return frac((u + v) * freq * 0.8 + phase) < 0.35;
    default:
      return false;
  }
}

const silhouetteCache = new Map<string, Prim[]>();

/** Render one item into `out` (size*size*3, HWC [0,1]); returns `out`. */
export function renderItem(a: ItemAttributes, size: number, out = new Float32Array(size * size * 3)): Float32Array {
  const key = `${a.category}:${a.variant.toFixed(4)}`;
  let prims = silhouetteCache.get(key);
  if (!prims) {
    prims = silhouette(a.category, a.variant);
    if (silhouetteCache.size > 5000) silhouetteCache.clear();
    silhouetteCache.set(key, prims);
  }
  // Shape bounding box in shape space, for the floor shadow.
  let by1 = 0,
    bx0 = 1,
    bx1 = 0;
  for (const pr of prims) {
    by1 = Math.max(by1, pr.y1);
    bx0 = Math.min(bx0, pr.x0);
    bx1 = Math.max(bx1, pr.x1);
  }
  const c1 = COLOURS[a.colour]!.rgb,
    c2 = COLOURS[a.colour2]!.rgb;
  const col1 = [c1[0] * a.jitter[0], c1[1] * a.jitter[1], c1[2] * a.jitter[2]];
  const col2 = [c2[0], c2[1], c2[2]];
  const trim = col1.map((c) => c * 0.62 + 0.04);
  const sole = a.style ? [0.93, 0.92, 0.9] : [0.16, 0.15, 0.15];
  const metal = [0.82, 0.7, 0.36];
  const inner = a.category === 3 ? [0.22, 0.2, 0.2] : [0.94, 0.94, 0.94];
  const bg = a.background;
  const cos = Math.cos(-a.rotation),
    sin = Math.sin(-a.rotation);
  const sx = a.scale * a.aspect,
    sy = a.scale;
  const cx = 0.5 + a.dx,
    cy = 0.5 + a.dy;
  // Floor shadow under the silhouette, in frame space.
  const shX = cx + ((bx0 + bx1) / 2 - 0.5) * sx,
    shY = cy + (by1 - 0.5) * sy,
    shRx = ((bx1 - bx0) / 2) * sx * 1.05,
    shRy = 0.035 * a.scale + 0.01;
  const rgb = [0, 0, 0];
  // Colour of one sample point (frame space) into rgb; returns a region id (background, body
  // colour 1/2, trim...) used to find the pixels that straddle an edge.
  const sample = (x: number, y: number): number => {
    const X = x - cx,
      Y = y - cy;
    const u = (X * cos - Y * sin) / sx + 0.5;
    const v = (X * sin + Y * cos) / sy + 0.5;
    let mat = -1;
    for (let k = prims.length - 1; k >= 0; k--) {
      if (inside(prims[k]!, u, v)) {
        mat = prims[k]!.mat;
        break;
      }
    }
    if (mat === -1 || mat === HOLE) {
      const grad = 1.02 - 0.06 * y;
      const du = (x - shX) / shRx,
        dv = (y - shY) / shRy;
      const d = du * du + dv * dv;
      const shade = d < 1 ? 1 - 0.16 * (1 - d) : 1;
      rgb[0] = bg[0] * grad * shade;
      rgb[1] = bg[1] * grad * shade;
      rgb[2] = bg[2] * grad * shade;
      return 0;
    }
    let base: number[];
    let id = mat + 3;
    if (mat === BODY) {
      const second = patternMask(a.pattern, u, v, a.patternFreq, a.patternPhase);
      base = second ? col2 : col1;
      id = second ? 2 : 1;
    } else if (mat === TRIM) base = trim;
    else if (mat === SOLE) base = sole;
    else if (mat === METAL) base = metal;
    else base = inner;
    // Soft studio light from the top left (product-shot look).
    const light = 1.1 - 0.22 * v - 0.08 * u;
    rgb[0] = base[0]! * light;
    rgb[1] = base[1]! * light;
    rgb[2] = base[2]! * light;
    return id;
  };
  // Pass 1: one sample at each pixel centre. Pass 2: pixels whose 3x3 neighbourhood holds more than
  // one region are antialiased by ss x ss supersampling (shading is smooth elsewhere).
  const ids = new Uint8Array(size * size);
  for (let py = 0; py < size; py++)
    for (let px = 0; px < size; px++) {
      ids[py * size + px] = sample((px + 0.5) / size, (py + 0.5) / size);
      const o = (py * size + px) * 3;
      out[o] = rgb[0]!;
      out[o + 1] = rgb[1]!;
      out[o + 2] = rgb[2]!;
    }
  const ss = size <= 32 ? 4 : 3;
  const inv = 1 / (ss * ss);
  for (let py = 0; py < size; py++) {
    for (let px = 0; px < size; px++) {
      const id = ids[py * size + px]!;
      let edge = false;
      for (let ny = Math.max(0, py - 1); ny <= Math.min(size - 1, py + 1) && !edge; ny++)
        for (let nx = Math.max(0, px - 1); nx <= Math.min(size - 1, px + 1); nx++)
          if (ids[ny * size + nx] !== id) {
            edge = true;
            break;
          }
      const o = (py * size + px) * 3;
      if (edge) {
        let r = 0,
          g = 0,
          b = 0;
        for (let j = 0; j < ss; j++) {
          const y = (py + (j + 0.5) / ss) / size;
          for (let i = 0; i < ss; i++) {
            sample((px + (i + 0.5) / ss) / size, y);
            r += rgb[0]!;
            g += rgb[1]!;
            b += rgb[2]!;
          }
        }
        out[o] = r * inv;
        out[o + 1] = g * inv;
        out[o + 2] = b * inv;
      }
      out[o] = clamp01(out[o]!);
      out[o + 1] = clamp01(out[o + 1]!);
      out[o + 2] = clamp01(out[o + 2]!);
    }
  }
  return out;
}

/** Clamp to [0,1] and quantise to k/255, so a PNG round trip is exact. */
function clamp01(x: number): number {
  return Math.round((x < 0 ? 0 : x > 1 ? 1 : x) * 255) / 255;
}
