/**
 * The experiment's cells as queue jobs (issue 19): what a job carries, its id, and the checks that
 * the cell graph is whole (every dependency a cell of the plan, no id twice, no cycle) before
 * anything is queued.
 */
import path from 'node:path';
import { configHash } from '../core/hash.js';
import { demoConfig, loadConfig, type ExperimentConfig } from '../experiment/config.js';

/** The part of a planned cell the queue needs. */
export interface GraphCell {
  id: string;
  stage: string;
  deps: readonly string[];
}

/**
 * Where a worker reads the run's config: the same file (absolute path on the shared file system)
 * or the built-in demo profile, with the same `--set` overrides, in that order.
 */
export interface ConfigSource {
  file?: string;
  demo?: 'tiny' | 'default';
  /** Keys set over the demo profile (the demo's --out and --cache). */
  base?: Record<string, unknown>;
  sets: string[];
}

/** What one job carries: enough for a worker on any machine to run the cell. */
export interface CellJobData {
  runId: string;
  cellId: string;
  stage: string;
  source: ConfigSource;
  /** Identity of the submitter's config (see configIdentity): a worker that reads another refuses. */
  config: string;
  /** The artefact cache (absolute path on the shared file system). */
  cacheDir: string;
}

/** What a worker reports for a finished job (for the per-job costs). */
export interface CellJobResult {
  host: string;
  pid: number;
  seconds: number;
}

/** The config a source describes (as the CLI builds it: defaults < demo profile < file < --set). */
export function loadSourceConfig(source: ConfigSource): ExperimentConfig {
  if (source.demo) return loadConfig({ base: { ...demoConfig(source.demo), ...source.base }, sets: source.sets });
  return loadConfig({ ...(source.file ? { file: source.file } : {}), sets: source.sets });
}

/** A source whose file path is absolute, so a worker started elsewhere reads the same file. */
export function absoluteSource(source: ConfigSource): ConfigSource {
  return source.file ? { ...source, file: path.resolve(source.file) } : source;
}

/** The hash of what a config asks for, without where it writes (out) and where its cache lives. */
export function configIdentity(cfg: ExperimentConfig): string {
  return configHash({ ...cfg, out: '', cacheDir: '' });
}

/** BullMQ job id of a cell (unique per run; BullMQ ids may not contain ':'). */
export function jobId(runId: string, cellId: string): string {
  return `${runId}.${cellId.replace(/:/g, '~')}`;
}

/** Throws (a bug in the plan, not a user error) when the cells do not form a whole acyclic graph. */
export function checkGraph(cells: readonly GraphCell[]): void {
  const byId = new Map<string, GraphCell>();
  for (const c of cells) {
    if (byId.has(c.id)) throw new Error(`plan: cell '${c.id}' appears twice`);
    byId.set(c.id, c);
  }
  for (const c of cells) for (const d of c.deps) if (!byId.has(d)) throw new Error(`plan: cell '${c.id}' depends on '${d}', which is not in the plan`);
  // Kahn's algorithm: every cell must become ready
  const left = new Map(cells.map((c) => [c.id, c.deps.length]));
  const dependents = new Map<string, string[]>();
  for (const c of cells) for (const d of c.deps) dependents.set(d, [...(dependents.get(d) ?? []), c.id]);
  const ready = cells.filter((c) => c.deps.length === 0).map((c) => c.id);
  let seen = 0;
  while (ready.length > 0) {
    const id = ready.pop()!;
    seen += 1;
    for (const n of dependents.get(id) ?? []) {
      const k = left.get(n)! - 1;
      left.set(n, k);
      if (k === 0) ready.push(n);
    }
  }
  if (seen !== cells.length) throw new Error(`plan: ${cells.length - seen} cells are in a dependency cycle`);
}

/** Cells not yet submitted whose dependencies are all done, in plan order. */
export function readyCells<C extends GraphCell>(cells: readonly C[], done: ReadonlySet<string>, submitted: ReadonlySet<string>): C[] {
  return cells.filter((c) => !submitted.has(c.id) && c.deps.every((d) => done.has(d)));
}
