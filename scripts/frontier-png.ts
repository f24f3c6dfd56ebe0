/**
 * Draw a results.json's frontier (HR@k against SSIM per attack family, one panel per visual victim)
 * as a PNG without a browser, to look at it where no headless Chromium is installed. No text is
 * drawn: panels are victims in config order (left to right); x is SSIM from 1 (left) to `xMin`
 * (right), y is HR@k from 0 (bottom) to the largest value over all panels (top), with grid lines at
 * quarters; the legend (family -> colour) is printed to stdout.
 *
 *   npx tsx scripts/frontier-png.ts RESULTS.json OUT.png [k=5] [xMin=0.3]
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { encodePngRgb } from '../src/data/png.js';
import type { FrontierPoint } from '../src/experiment/results.js';

const PALETTE: [number, number, number][] = [[0.88, 0.48, 0.22], [0.23, 0.53, 0.78], [0.78, 0.27, 0.37], [0.17, 0.65, 0.55], [0.56, 0.42, 0.78], [0.85, 0.64, 0], [0.33, 0.33, 0.33]];

function main(): void {
  const [file, out, kS = '5', xMinS = '0.3'] = process.argv.slice(2);
  if (!file || !out) throw new Error('usage: frontier-png.ts RESULTS.json OUT.png [k] [xMin]');
  const res = JSON.parse(readFileSync(file, 'utf8')) as { frontier?: FrontierPoint[]; config: { victims: string[] } };
  const pts = res.frontier ?? [];
  const victims = res.config.victims.filter((v) => v !== 'bpr-mf');
  const metric = `HR@${kS}`;
  const xMin = Number(xMinS);
  const fams = [...new Set(pts.map((p) => p.family))];
  const yMax = Math.max(1e-4, ...pts.flatMap((p) => victims.map((v) => p.victims[v]?.[metric] ?? 0)));
  const W = 300;
  const H = 240;
  const M = 20;
  const img = new Float32Array(victims.length * W * H * 3).fill(1);
  const width = victims.length * W;
  const put = (x: number, y: number, c: [number, number, number]) => {
    if (x < 0 || y < 0 || x >= width || y >= H) return;
    img.set(c, (y * width + x) * 3);
  };
  victims.forEach((v, i) => {
    const X = (s: number) => Math.round(i * W + M + ((1 - s) / (1 - xMin)) * (W - 2 * M));
    const Y = (h: number) => Math.round(H - M - (h / yMax) * (H - 2 * M));
    for (let q = 0; q <= 4; q++) {
      for (let x = i * W + M; x <= i * W + W - M; x++) put(x, Y((q / 4) * yMax), q === 0 ? [0, 0, 0] : [0.85, 0.85, 0.85]);
      for (let y = M; y <= H - M; y++) put(X(1 - (q / 4) * (1 - xMin)), y, q === 0 ? [0, 0, 0] : [0.85, 0.85, 0.85]);
    }
    fams.forEach((f, j) => {
      const c = PALETTE[j % PALETTE.length]!;
      const line = pts.filter((p) => p.family === f && p.ssim !== null && p.victims[v]?.[metric] != null).map((p) => ({ x: X(p.ssim!), y: Y(p.victims[v]![metric]!) })).sort((a, b) => a.x - b.x);
      for (let q = 0; q + 1 < line.length; q++) {
        const a = line[q]!;
        const b = line[q + 1]!;
        const n = Math.max(Math.abs(b.x - a.x), Math.abs(b.y - a.y), 1);
        for (let t = 0; t <= n; t++) put(Math.round(a.x + ((b.x - a.x) * t) / n), Math.round(a.y + ((b.y - a.y) * t) / n), c);
      }
      for (const p of line) for (let dx = -3; dx <= 3; dx++) for (let dy = -3; dy <= 3; dy++) put(p.x + dx, p.y + dy, c);
    });
  });
  writeFileSync(out, encodePngRgb(img, width, H));
  console.log(`panels: ${victims.join(', ')}; y: ${metric} 0..${yMax.toFixed(4)}; x: SSIM 1..${xMin}`);
  fams.forEach((f, j) => console.log(`  ${f}: rgb(${PALETTE[j % PALETTE.length]!.map((c) => Math.round(c * 255)).join(',')})`));
  for (const p of pts) console.log(`  ${p.attack}: SSIM ${p.ssim?.toFixed(3)} ${victims.map((v) => `${v} ${p.victims[v]?.[metric]?.toFixed(4)} rank ${p.victims[v]?.meanRank?.toFixed(0)}`).join(' | ')}`);
}

main();
