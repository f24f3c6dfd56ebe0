/**
 * The HTML report (spec section 11): one self-contained file (chart.js and every image inlined,
 * no network) with a summary table, plots, an image grid and the protocol in words.
 */
import { diffusionQualitySection } from './diffusion-quality.js';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { encodePngRgb } from '../data/png.js';
import type { ReportExtras } from '../experiment/runner.js';
import { frontierPoints, METRIC_INFO, valueAtSsim, type FrontierPoint, type ResultRow, type ResultsFile } from '../experiment/results.js';
import { isVisualKind, type VictimKind } from '../recommenders/recommender.js';

const require = createRequire(import.meta.url);

function chartJsSource(): string {
  // the UMD bundle sits beside the package's main file (its exports map hides the path)
  return readFileSync(path.join(path.dirname(require.resolve('chart.js')), 'chart.umd.min.js'), 'utf8');
}

const esc = (s: string): string => s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

function fmt(x: number | null, digits: number): string {
  return x === null || !Number.isFinite(x) ? '–' : x.toFixed(digits);
}

function cell(r: ResultRow | undefined, digits: number): string {
  if (!r || r.mean === null) return '<td class="na">–</td>';
  const ci = r.ci95[0] !== null && r.ci95[1] !== null && r.ci95[0] !== r.ci95[1] ? `<span class="ci">[${fmt(r.ci95[0], digits)}, ${fmt(r.ci95[1], digits)}]</span>` : '';
  return `<td>${fmt(r.mean, digits)}${ci}</td>`;
}

function png(pixels: readonly number[], size: number, scale = 1): string {
  const s = size * scale;
  const out = new Float32Array(s * s * 3);
  for (let y = 0; y < s; y++)
    for (let x = 0; x < s; x++)
      for (let c = 0; c < 3; c++) out[(y * s + x) * 3 + c] = pixels[((Math.floor(y / scale) * size + Math.floor(x / scale)) * 3 + c)]!;
  return `data:image/png;base64,${encodePngRgb(out, s, s).toString('base64')}`;
}

/** |adv - clean| amplified 10x, as an image. */
function diffImage(clean: readonly number[], adv: readonly number[]): number[] {
  return clean.map((c, i) => Math.min(1, Math.abs(adv[i]! - c) * 10));
}

/** The results as the report reads them: its rows, the config's victims, attacks and cut-offs, and a row finder. */
interface ReportView {
  results: ResultsFile;
  cfg: { victims: string[]; attacks: { name: string; params: Record<string, unknown> }[]; ks: number[]; name: string; dataset: string; defences: string[] };
  victims: string[];
  attacks: string[];
  ks: number[];
  tier: string;
  find(q: Partial<ResultRow>): ResultRow | undefined;
  /** ' (white-box)' etc. when an attack runs under another tier than the experiment's. */
  tierTag(attack: string): string;
  /** The victim of single-victim tables and plots: the first visual one. */
  mainVictim: string;
}

function reportView(results: ResultsFile): ReportView {
  const rows = results.rows;
  const find = (q: Partial<ResultRow>): ResultRow | undefined =>
    rows.find((r) => Object.entries(q).every(([k, v]) => (r as Record<string, unknown>)[k] === v) && (q.defence !== undefined || r.defence === undefined));
  const cfg = results.config as ReportView['cfg'];
  const victims = cfg.victims;
  const m0 = results.manifest as { tier?: string; attackTiers?: Record<string, string> };
  const tier = m0.tier ?? 'public-encoder';
  const tierTag = (a: string): string => (m0.attackTiers?.[a] && m0.attackTiers[a] !== tier ? ` <span class="ci">(${esc(m0.attackTiers[a]!)})</span>` : '');
  return { results, cfg, victims, attacks: cfg.attacks.map((a) => a.name), ks: cfg.ks, tier, find, tierTag, mainVictim: victims.find((x) => isVisualKind(x as VictimKind)) ?? victims[0]! };
}

/** Summary table rows: victim x attack (HR@k, NDCG, mean rank, image metrics, detector AUC). */
function summaryTable(v: ReportView): { head: string; body: string } {
  const { ks, find, attacks } = v;
  const head = `<tr><th>victim</th><th>attack</th>${ks.map((k) => `<th>HR@${k}</th>`).join('')}<th>NDCG@${ks.includes(10) ? 10 : ks[0]}</th><th>mean rank</th><th>SSIM</th><th>PSNR (dB)</th><th>L<sub>∞</sub></th><th>semantic</th><th>detect AUC</th></tr>`;
  const body = v.victims
    .flatMap((vi) =>
      attacks.map((a) => {
        const hr = ks.map((k) => cell(find({ victim: vi, attack: a, protocol: 'full', metric: 'HR', k }), 4)).join('');
        const nd = cell(find({ victim: vi, attack: a, protocol: 'full', metric: 'NDCG', k: ks.includes(10) ? 10 : ks[0]! }), 4) + cell(find({ victim: vi, attack: a, protocol: 'full', metric: 'meanRank' }), 0);
        const img = (m: ResultRow['metric']) => (a === 'none' ? '<td class="na">–</td>' : cell(find({ victim: 'any', attack: a, metric: m }), METRIC_INFO[m].digits));
        const none = !find({ victim: vi, attack: a, protocol: 'full', metric: 'HR', k: ks[0]! });
        return `<tr${a === 'none' ? ' class="clean"' : ''}><td>${esc(vi)}</td><td>${esc(a)}${v.tierTag(a)}${none ? ' <span class="ci">(n/a)</span>' : ''}</td>${hr}${nd}${img('SSIM')}${img('PSNR')}${img('Linf')}${img('semantic')}${img('detectAUC')}</tr>`;
      }),
    )
    .join('\n');
  return { head, body };
}

/** Victim accuracy on the clean test split. */
function accuracyTable(v: ReportView): string {
  const { find } = v;
  const accHead = `<tr><th>victim</th><th>test HR@10</th><th>test NDCG@10</th><th>AUC</th><th>cold-item AUC</th></tr>`;
  const accBody = v.victims
    .map((vi) => `<tr><td>${esc(vi)}</td>${cell(find({ victim: vi, protocol: 'test', metric: 'HR', k: 10 }), 4)}${cell(find({ victim: vi, protocol: 'test', metric: 'NDCG', k: 10 }), 4)}${cell(find({ victim: vi, protocol: 'test', metric: 'AUC' }), 3)}${cell(find({ victim: vi, protocol: 'test', metric: 'coldAUC' }), 3)}</tr>`)
    .join('\n');
  return `${accHead}${accBody}`;
}

/** HR@k of each attack after each defence (empty without defences). */
function defenceSection(v: ReportView): string {
  const { cfg, ks, find } = v;
  if (!(cfg.defences ?? []).length) return '';
  const vi = v.mainVictim;
  const rows = v.attacks
    .map((a) => `<tr><td>${esc(a)}</td>${cell(find({ victim: vi, attack: a, protocol: 'full', metric: 'HR', k: ks[0]! }), 4)}${cfg.defences.map((d) => cell(find({ victim: vi, attack: a, protocol: 'full', metric: 'HR', k: ks[0]!, defence: d }), 4)).join('')}</tr>`)
    .join('');
  return `<h2>Defences</h2><p>HR@${ks[0]} of each attack after each defence is applied to the adversarial images (victim ${esc(vi)}).</p><table><tr><th>attack</th><th>no defence</th>${cfg.defences.map((d) => `<th>${esc(d)}</th>`).join('')}</tr>${rows}</table>`;
}

/** What the plots draw: HR@k bars per victim, SSIM vs HR scatter, training curves, attack logs. */
function chartDataOf(v: ReportView, extras: ReportExtras) {
  const { ks, find, attacks } = v;
  const hrData = v.victims.map((vi) => ({ victim: vi, series: attacks.map((a) => ({ attack: a, values: ks.map((k) => find({ victim: vi, attack: a, protocol: 'full', metric: 'HR', k })?.mean ?? null) })) }));
  const scatter = attacks
    .filter((a) => a !== 'none')
    .map((a) => ({ attack: a, x: find({ victim: 'any', attack: a, metric: 'SSIM' })?.mean ?? null, y: find({ victim: v.mainVictim, attack: a, protocol: 'full', metric: 'HR', k: ks[0]! })?.mean ?? null }));
  return { ks, hrData, scatter, victimCurves: extras.victimCurves, attackLogs: extras.attackLogs, scatterVictim: v.mainVictim as string | undefined };
}

/** Image grid: clean | each attack with its amplified difference. */
function imageGrid(extras: ReportExtras, attacks: readonly string[]): string {
  const gridAttacks = attacks.filter((a) => a !== 'none');
  return extras.samples
    .map((s) => {
      const cells = gridAttacks
        .filter((a) => s.attacks[a])
        .map((a) => `<figure><img src="${png(s.attacks[a]!, extras.imageSize, 2)}" alt="${esc(a)}"><img src="${png(diffImage(s.clean, s.attacks[a]!), extras.imageSize, 2)}" alt="difference"><figcaption>${esc(a)}</figcaption></figure>`)
        .join('');
      return `<div class="row"><figure><img src="${png(s.clean, extras.imageSize, 2)}" alt="clean"><div class="spacer"></div><figcaption>clean · item ${esc(s.item)}</figcaption></figure>${cells}</div>`;
    })
    .join('\n');
}

const STYLE = `body{font:14px/1.5 system-ui,-apple-system,"Segoe UI",sans-serif;color:#1d2430;margin:0;background:#f6f7f9}
main{max-width:1180px;margin:0 auto;padding:24px 28px 60px}
h1{font-size:24px;margin:0 0 4px}h2{font-size:18px;margin:32px 0 8px;border-bottom:1px solid #dde1e6;padding-bottom:4px}
.sub{color:#5b6472;margin:0 0 16px}
table{font-size:13px;border-collapse:collapse;background:#fff;box-shadow:0 1px 2px rgba(0,0,0,.06);margin:8px 0;font-variant-numeric:tabular-nums}
th,td{padding:5px 10px;border-bottom:1px solid #eceff2;text-align:right;white-space:nowrap}
th{background:#eef1f5;font-weight:600}td:first-child,td:nth-child(2),th:first-child,th:nth-child(2){text-align:left}
tr.clean td{background:#fafbfc;color:#3b4452}.ci{color:#8a93a0;font-size:11px;margin-left:4px}.na{color:#b0b6bf}
.scroll{overflow-x:auto}
.charts{display:grid;grid-template-columns:repeat(auto-fill,minmax(360px,1fr));gap:16px}
.card{background:#fff;padding:12px;box-shadow:0 1px 2px rgba(0,0,0,.06);border-radius:6px}
.card h3{font-size:13px;margin:0 0 6px;color:#3b4452}
.grid .row{display:flex;gap:10px;margin:10px 0;flex-wrap:wrap}
figure{margin:0;background:#fff;padding:6px;border-radius:4px;box-shadow:0 1px 2px rgba(0,0,0,.06);text-align:center}
figure img{display:block;image-rendering:pixelated;width:128px;height:128px;margin-bottom:4px}
.spacer{width:128px;height:128px;margin-bottom:4px}
figcaption{font-size:11px;color:#5b6472}
.method p{max-width:900px}code{background:#eef1f5;padding:1px 4px;border-radius:3px}
`;

/** The charts, drawn by chart.js from `D` (the chart data, the frontier and its victims). */
const CHART_SCRIPT = `const palette = ['#5b6472','#e07b39','#3a86c8','#c8455f','#2ca58d','#8e6cc8','#d9a400','#555'];
Chart.defaults.animation = false;
D.hrData.forEach((v, i) => new Chart(document.getElementById('hr' + i), { type: 'bar',
  data: { labels: D.ks.map(k => 'HR@' + k), datasets: v.series.map((s, j) => ({ label: s.attack, data: s.values, backgroundColor: palette[j % palette.length] })) },
  options: { plugins: { legend: { position: 'bottom' } }, scales: { y: { beginAtZero: true } } } }));
new Chart(document.getElementById('scatter'), { type: 'scatter',
  data: { datasets: D.scatter.map((p, j) => ({ label: p.attack, data: [{ x: p.x, y: p.y }], backgroundColor: palette[(j + 1) % palette.length], pointRadius: 6 })) },
  options: { plugins: { legend: { position: 'bottom' } }, scales: { x: { title: { display: true, text: 'SSIM to clean' } }, y: { beginAtZero: true, title: { display: true, text: 'HR@' + D.ks[0] } } } } });
D.frontierVictims.forEach((v, i) => {
  const fams = [...new Set(D.frontier.map(p => p.family))];
  const sets = fams.map((f, j) => ({ label: f, showLine: true, borderColor: palette[(j + 1) % palette.length], backgroundColor: palette[(j + 1) % palette.length], pointRadius: 4,
    data: D.frontier.filter(p => p.family === f && p.ssim !== null && p.victims[v] && p.victims[v]['HR@' + D.ks[0]] !== null).map(p => ({ x: p.ssim, y: p.victims[v]['HR@' + D.ks[0]] })).sort((a, b) => a.x - b.x) }));
  const el = document.getElementById('frontier' + i);
  if (el) new Chart(el, { type: 'scatter', data: { datasets: sets },
    options: { plugins: { legend: { position: 'bottom' } }, scales: { x: { reverse: true, title: { display: true, text: 'SSIM to clean (more imperceptible to the left)' } }, y: { beginAtZero: true, title: { display: true, text: 'HR@' + D.ks[0] + ' (' + v + ')' } } } } });
});
const curveSets = Object.entries(D.victimCurves).map(([v, c], j) => ({ label: v, data: c.loss.map((y, x) => ({ x: x + 1, y })), borderColor: palette[j % palette.length], fill: false, pointRadius: 0 }));
new Chart(document.getElementById('curves'), { type: 'line', data: { datasets: curveSets },
  options: { parsing: true, plugins: { legend: { position: 'bottom' } }, scales: { x: { type: 'linear', title: { display: true, text: 'epoch' } }, y: { title: { display: true, text: 'BPR loss' } } } } });
const logSets = [];
Object.entries(D.attackLogs).forEach(([a, log], j) => {
  const keys = log.length ? Object.keys(log[0]).filter(k => !['step', 'batch', 'batches', 'targets', 'target', 'epoch'].includes(k) && typeof log[0][k] === 'number') : [];
  keys.slice(0, 3).forEach((k, m) => logSets.push({ label: a + ' ' + k, data: log.filter(e => typeof e[k] === 'number').map(e => ({ x: e.step, y: e[k] })), borderColor: palette[(j + m) % palette.length], fill: false, pointRadius: 0 }));
});
new Chart(document.getElementById('attacklog'), { type: 'line', data: { datasets: logSets },
  options: { plugins: { legend: { position: 'bottom', labels: { boxWidth: 10 } } }, scales: { x: { type: 'linear', title: { display: true, text: 'step' } } } } });
`;

export function renderReport(results: ResultsFile, extras: ReportExtras): string {
  const v = reportView(results);
  const { cfg, victims, ks, tier } = v;
  const frontier: FrontierPoint[] = results.frontier ?? frontierPoints(results.rows, v.attacks, victims, ks);
  const frontierHtml = frontierSection(frontier, victims.filter((x) => isVisualKind(x as VictimKind)), ks[0]!);
  const { head, body } = summaryTable(v);
  const chartData = chartDataOf(v, extras);
  const m = results.manifest as ResultsFile['manifest'] & { dataset?: ReportExtras['dataset'] };
  const timings = Object.entries(m.timings)
    .map(([k, t]) => `${esc(k)} ${t.toFixed(1)} s`)
    .join(' · ');
  const attackParams = cfg.attacks.map((a) => `<li><code>${esc(a.name)}</code> ${esc(JSON.stringify(a.params))}</li>`).join('');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${esc(cfg.name)} — AUV-Fusion report</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
${STYLE}</style></head>
<body><main>
<h1>${esc(cfg.name)}</h1>
<p class="sub">Dataset <code>${esc(cfg.dataset)}</code>${m.dataset ? ` — ${m.dataset.users} users, ${m.dataset.items} items, ${m.dataset.interactions} interactions, ${m.dataset.targets} cold-start targets attacked, ${m.dataset.imageSize}px images` : ''}. Seeds ${m.seeds.join(', ')}. auv-fusion ${esc(m.toolVersion)}, config ${esc(m.configHash)}.</p>

<h2>Target exposure under attack (full-ranking protocol)</h2>
<p>Threat-model tier <b>${esc(tier)}</b>: ${tier === 'independent' ? "the attacker aligns through its own encoder G (trained independently of the victim's F)" : "the victim's feature extractor F is public and is the attacker's encoder; the victim recommender is not"}. Rows marked (white-box) read the victim model (INSA) and are references, not attacks of this tier. Mean over seeds with the 95% interval in brackets; mean rank is the target's mean 0-based rank (lower is better). Image metrics compare each adversarial image with its clean original.</p>
<div class="scroll"><table>${head}${body}</table></div>

<h2>Victim accuracy (clean test split)</h2>
<table>${accuracyTable(v)}</table>
${diffusionQualitySection(results.manifest)}
${defenceSection(v)}
${frontierHtml}

<h2>Plots</h2>
<div class="charts">
${victims.map((v, i) => `<div class="card"><h3>HR@k — ${esc(v)}</h3><canvas id="hr${i}" height="220"></canvas></div>`).join('\n')}
<div class="card"><h3>SSIM vs HR@${ks[0]} (${esc(chartData.scatterVictim ?? '')})</h3><canvas id="scatter" height="220"></canvas></div>
<div class="card"><h3>Victim training loss (BPR, first seed)</h3><canvas id="curves" height="220"></canvas></div>
<div class="card"><h3>Attack optimisation log (first seed)</h3><canvas id="attacklog" height="220"></canvas></div>
</div>

<h2>Clean vs adversarial images</h2>
<p>Each pair: the adversarial image (top) and |adversarial − clean| × 10 (bottom).</p>
<div class="grid">${imageGrid(extras, v.attacks)}</div>

<h2>How these numbers were computed</h2>
<div class="method">${m.protocolText
    .split('\n')
    .map((p) => `<p>${esc(p)}</p>`)
    .join('')}
<p>Attacks and parameters:</p><ul>${attackParams}</ul>
<p>Timings: ${timings}. Cache: ${m.cache.hits} artefacts reused, ${m.cache.misses} computed. Machine: ${esc(JSON.stringify(m.machine))}.</p>
<p>Every figure is also in <code>results.json</code> and <code>results.csv</code> beside this file.</p></div>
</main>
<script>${chartJsSource()}</script>
<script>
const D = ${JSON.stringify({ ...chartData, frontier, frontierVictims: victims.filter((x) => isVisualKind(x as VictimKind)) })};
${CHART_SCRIPT}</script>
</body></html>
`;
}

/** SSIM levels of the matched-imperceptibility table. */
const MATCHED_SSIM = [0.95, 0.9, 0.85, 0.8, 0.7, 0.6];

/** The frontier plot (one per visual victim) and the table ranking attack families at matched SSIM. */
function frontierSection(points: readonly FrontierPoint[], victims: readonly string[], k: number): string {
  const fams = [...new Set(points.map((p) => p.family))];
  if (points.length === 0 || victims.length === 0) return '';
  const metric = `HR@${k}`;
  // the fixed levels, plus the SSIM of every attack with a single configuration (so it is compared somewhere)
  const single = fams.flatMap((f) => {
    const ps = points.filter((p) => p.family === f && p.ssim !== null);
    return ps.length === 1 ? [Math.round(ps[0]!.ssim! * 1000) / 1000] : [];
  });
  const levels = [...new Set([...MATCHED_SSIM, ...single])].sort((a, b) => b - a);
  const tables = victims
    .map((v) => {
      const rowsHtml = levels.map((s) => {
        const vals = fams.map((f) => ({ f, y: valueAtSsim(points, f, v, metric, s), r: valueAtSsim(points, f, v, 'meanRank', s) })).filter((x) => x.y !== null);
        vals.sort((a, b) => b.y! - a.y! || (a.r ?? Infinity) - (b.r ?? Infinity));
        const cells = vals.map((x, i) => `${i + 1}. ${esc(x.f)} ${fmt(x.y, 4)}${x.r !== null ? ` <span class="ci">rank ${fmt(x.r, 0)}</span>` : ''}`).join(' · ');
        return `<tr><td>${s.toFixed(3)}</td><td style="text-align:left">${cells || '<span class="na">no attack configuration spans this SSIM</span>'}</td></tr>`;
      }).join('');
      return `<h3>${esc(v)}</h3><table><tr><th>SSIM</th><th style="text-align:left">attacks ranked by ${metric} (linear interpolation between each attack's neighbouring configurations)</th></tr>${rowsHtml}</table>`;
    })
    .join('');
  return `<h2>Exposure vs imperceptibility (frontier)</h2>
<p>Each point is one attack configuration (budget, or AUV-Fusion strength); lines join the configurations of one attack. Attacks are compared at matched SSIM: an attack ranks above another only at an SSIM both reach.</p>
<div class="charts">${victims.map((v, i) => `<div class="card"><h3>${metric} vs SSIM — ${esc(v)}</h3><canvas id="frontier${i}" height="240"></canvas></div>`).join('')}</div>
${tables}`;
}
