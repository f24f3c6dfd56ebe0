/**
 * Results files (spec section 11): results.json = {version, config, manifest, rows}, each row
 * {victim, attack, protocol, metric, k, mean, ci95, n}, and the same rows as results.csv.
 *
 * Aggregation: a figure's per-seed value is its mean over targets (and evaluation users); the row
 * reports the mean of the per-seed values and a 95% Student-t interval over seeds (n = number of
 * seeds). With a single seed the interval is over targets instead (n = number of targets). Intervals
 * are clipped to the metric's natural range (e.g. [0, 1] for HR).
 */
import { z } from 'zod';

export const METRICS = ['HR', 'NDCG', 'meanRank', 'AUC', 'SSIM', 'PSNR', 'Linf', 'L2', 'semantic', 'detectAUC', 'coldAUC'] as const;
export type Metric = (typeof METRICS)[number];

export const rowSchema = z
  .object({
    victim: z.string(),
    attack: z.string(),
    protocol: z.enum(['full', 'aip', 'test']),
    metric: z.enum(METRICS),
    k: z.number().int().nullable(),
    mean: z.number().nullable(),
    ci95: z.tuple([z.number().nullable(), z.number().nullable()]),
    n: z.number().int().min(0),
    /** Optional defence applied before evaluation ('none' when absent). */
    defence: z.string().optional(),
    /** With 2 or more seeds: each seed's value (its mean over targets), in ascending seed order. */
    perSeed: z.array(z.number().nullable()).optional(),
  })
  .strict();
export type ResultRow = z.infer<typeof rowSchema>;

export const resultsSchema = z
  .object({
    version: z.string(),
    config: z.record(z.string(), z.unknown()),
    manifest: z
      .object({
        toolVersion: z.string(),
        configHash: z.string(),
        seeds: z.array(z.number().int()),
        timings: z.record(z.string(), z.number()),
        machine: z.record(z.string(), z.unknown()),
        cache: z.object({ hits: z.number().int(), misses: z.number().int() }),
        protocolText: z.string(),
      })
      .passthrough(),
    rows: z.array(rowSchema),
    /** Exposure-vs-imperceptibility points per attack configuration (frontierPoints). */
    frontier: z.array(z.object({ attack: z.string(), family: z.string(), ssim: z.number().nullable(), victims: z.record(z.string(), z.record(z.string(), z.number().nullable())) }).strict()).optional(),
  })
  .passthrough();
export type ResultsFile = z.infer<typeof resultsSchema>;

/** Two-sided 95% Student-t quantiles for df = 1..30 (then the normal 1.96). */
const T95 = [12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.16, 2.145, 2.131, 2.12, 2.11, 2.101, 2.093, 2.086, 2.08, 2.074, 2.069, 2.064, 2.06, 2.056, 2.052, 2.048, 2.045, 2.042];

/** Mean and 95% t-interval of `xs` (NaN/non-finite values dropped). */
export function meanCi(xs: readonly number[]): { mean: number | null; ci95: [number | null, number | null]; n: number } {
  const v = xs.filter((x) => Number.isFinite(x));
  const n = v.length;
  if (n === 0) return { mean: null, ci95: [null, null], n: 0 };
  const mean = v.reduce((a, b) => a + b, 0) / n;
  if (n === 1) return { mean, ci95: [mean, mean], n };
  const sd = Math.sqrt(v.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1));
  const h = ((T95[n - 2] ?? 1.96) * sd) / Math.sqrt(n);
  return { mean, ci95: [mean - h, mean + h], n };
}

/** What results, report and runner share about a metric: its natural range (intervals are clipped to it) and the digits the report shows. */
export interface MetricInfo {
  readonly name: Metric;
  readonly range?: readonly [number, number];
  readonly digits: number;
}

const info = (name: Metric, digits: number, range?: readonly [number, number]): MetricInfo => ({ name, digits, ...(range ? { range } : {}) });
export const METRIC_INFO: Readonly<Record<Metric, MetricInfo>> = {
  HR: info('HR', 4, [0, 1]),
  NDCG: info('NDCG', 4, [0, 1]),
  meanRank: info('meanRank', 0),
  AUC: info('AUC', 3, [0, 1]),
  coldAUC: info('coldAUC', 3, [0, 1]),
  detectAUC: info('detectAUC', 2, [0, 1]),
  SSIM: info('SSIM', 3, [-1, 1]),
  PSNR: info('PSNR', 1),
  Linf: info('Linf', 3, [0, 1]),
  L2: info('L2', 3),
  semantic: info('semantic', 3, [-1, 1]),
};

/** Collects per-seed (and per-target) values and turns them into rows. */
export class RowCollector {
  private readonly cells = new Map<string, { key: Omit<ResultRow, 'mean' | 'ci95' | 'n'>; perSeed: Map<number, number[]> }>();

  /** Record the per-target values of one figure for one seed. */
  add(key: Omit<ResultRow, 'mean' | 'ci95' | 'n'>, seed: number, values: readonly number[]): void {
    const id = JSON.stringify([key.victim, key.attack, key.protocol, key.metric, key.k, key.defence ?? 'none']);
    let cell = this.cells.get(id);
    if (!cell) this.cells.set(id, (cell = { key, perSeed: new Map() }));
    cell.perSeed.set(seed, [...(cell.perSeed.get(seed) ?? []), ...values]);
  }

  rows(): ResultRow[] {
    const out: ResultRow[] = [];
    for (const { key, perSeed } of this.cells.values()) {
      const seeds = [...perSeed.entries()].sort((a, b) => a[0] - b[0]).map(([, v]) => v);
      const mean = (xs: number[]): number => {
        const v = xs.filter((x) => Number.isFinite(x));
        return v.length ? v.reduce((a, b) => a + b, 0) / v.length : NaN;
      };
      const stat = seeds.length >= 2 ? meanCi(seeds.map(mean)) : meanCi(seeds[0] ?? []);
      // intervals are clipped to the metric's range (a t-interval can cross 0 for rare hits)
      const range = METRIC_INFO[key.metric].range;
      const clip = (x: number | null): number | null => (x === null || !range ? x : Math.min(range[1], Math.max(range[0], x)));
      const seedValues = seeds.length >= 2 ? { perSeed: seeds.map((v) => (Number.isFinite(mean(v)) ? mean(v) : null)) } : {};
      out.push({ ...key, mean: stat.mean, ci95: [clip(stat.ci95[0]), clip(stat.ci95[1])], n: stat.n, ...seedValues });
    }
    return out;
  }
}

/** results.csv: one line per row, same fields as results.json. */
export function rowsToCsv(rows: readonly ResultRow[]): string {
  const head = 'victim,attack,protocol,defence,metric,k,mean,ci95_lo,ci95_hi,n';
  const f = (x: number | null): string => (x === null ? '' : String(x));
  return [head, ...rows.map((r) => [r.victim, r.attack, r.protocol, r.defence ?? 'none', r.metric, r.k ?? '', f(r.mean), f(r.ci95[0]), f(r.ci95[1]), r.n].join(','))].join('\n') + '\n';
}

/**
 * One point of the exposure-vs-imperceptibility frontier (issue 14): an attack configuration's
 * mean SSIM to the clean images and, per victim, its HR@k and mean target rank (means over seeds).
 * `family` groups the configurations of one attack ('insa@b8' and 'insa@b16' are family 'insa';
 * 'auv-fusion/ssimFloor=0.9' is 'auv-fusion'; the paper's method 'auv-fusion/paper' is its own).
 */
export interface FrontierPoint {
  attack: string;
  family: string;
  ssim: number | null;
  /** victim -> { 'HR@k': value, meanRank: value } */
  victims: Record<string, Record<string, number | null>>;
}

/** Family of an attack name: the part before '@', with sweep variants (key=value) folded into their base. */
export function attackFamily(name: string): string {
  const base = name.split('@')[0]!;
  const [head, variant] = base.split('/', 2) as [string, string | undefined];
  if (!variant) return head;
  const named = variant.split('+').filter((p) => !p.includes('='));
  return named.length ? `${head}/${named.join('+')}` : head;
}

/** The frontier points of every attack (not 'none') from result rows (full protocol, no defence). */
export function frontierPoints(rows: readonly ResultRow[], attacks: readonly string[], victims: readonly string[], ks: readonly number[]): FrontierPoint[] {
  const get = (q: Partial<ResultRow>) => rows.find((r) => r.defence === undefined && Object.entries(q).every(([k, v]) => (r as Record<string, unknown>)[k] === v))?.mean ?? null;
  return attacks
    .filter((a) => a !== 'none')
    .map((attack) => ({
      attack,
      family: attackFamily(attack),
      ssim: get({ victim: 'any', attack, metric: 'SSIM' }),
      victims: Object.fromEntries(
        victims.map((v) => [v, { ...Object.fromEntries(ks.map((k) => [`HR@${k}`, get({ victim: v, attack, protocol: 'full', metric: 'HR', k })])), meanRank: get({ victim: v, attack, protocol: 'full', metric: 'meanRank' }) }]),
      ),
    }));
}

/**
 * A family's value of `metric` (e.g. 'HR@5') on `victim` at SSIM `s`, linearly interpolated between
 * its two configurations that bracket s (null when s is outside the family's SSIM range; a single
 * configuration counts only at its own SSIM, within 0.005).
 */
export function valueAtSsim(points: readonly FrontierPoint[], family: string, victim: string, metric: string, s: number): number | null {
  const pts = points
    .filter((p) => p.family === family && p.ssim !== null && p.victims[victim]?.[metric] !== null && p.victims[victim]?.[metric] !== undefined)
    .map((p) => ({ x: p.ssim!, y: p.victims[victim]![metric]! }))
    .sort((a, b) => a.x - b.x);
  for (const p of pts) if (Math.abs(p.x - s) <= 0.005) return p.y;
  for (let i = 0; i + 1 < pts.length; i++) {
    const a = pts[i]!;
    const b = pts[i + 1]!;
    if (a.x <= s && s <= b.x) return a.y + ((b.y - a.y) * (s - a.x)) / (b.x - a.x || 1);
  }
  return null;
}
