/** The report's "Diffusion model quality" section (issue 18; src/evaluation/diffusion-quality.ts). */
import type { DiffusionQuality } from '../evaluation/diffusion-quality.js';

const esc = (s: string): string => s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);

export function diffusionQualitySection(manifest: Record<string, unknown>): string {
  const q = manifest.diffusionQuality as { before: DiffusionQuality | null; after: DiffusionQuality } | undefined;
  if (!q) return '';
  const row = (name: string, d: DiffusionQuality): string =>
    `<tr><td>${esc(name)}</td><td>${d.reconSsim.toFixed(3)}</td><td>${d.roundTripSsim.toFixed(3)}</td><td>${d.outOfDomain ? '<b style="color:#b3261e">out of domain</b>' : 'ok'}</td></tr>`;
  const rows = (q.before ? [row('before fitting', q.before), row('fitted to this dataset', q.after)] : [row('as loaded', q.after)]).join('');
  const warn = q.after.warning ? `<p style="color:#b3261e"><b>Warning:</b> ${esc(q.after.warning)}</p>` : '';
  return `<h2>Diffusion model quality</h2>${warn}<table><tr><th>model</th><th>reconstruction SSIM</th><th>round-trip SSIM</th><th>gate</th></tr>${rows}</table>
<p class="ci">${esc(q.after.protocol)}. Thresholds: reconstruction ${q.after.thresholds.recon}, round trip ${q.after.thresholds.roundTrip}.</p>`;
}
