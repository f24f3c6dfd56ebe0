/**
 * Benchmark runner: `npm run bench -- [--only a,b] [--runs N] [--json FILE] [--vs-torch] [--list]`.
 * Each workload runs in its own child process (so peak RSS is its own): setup, warm-up, then N
 * timed runs; reports the median wall time, GFLOP/s where FLOPs are defined, and peak RSS.
 * --vs-torch also runs bench/torch_twin.py under Debian's /usr/bin/python3 and prints ratios.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { engineBackend, initEngine, wasmThreads } from '../src/core/engine.js';
import { fastKernelsEnabled } from '../src/core/kernels/index.js';
import { nativeStatus } from '../src/core/kernels/native.js';
import { writeFileAtomicSync } from '../src/core/fsutil.js';
import { countFlops } from './flops.js';
import { getWorkload, listWorkloads, median } from './workloads.js';

const here = path.dirname(fileURLToPath(import.meta.url));

export interface WorkloadResult {
  name: string;
  medianMs: number;
  runs: number;
  gflops: number | null;
  peakRssMb: number;
  timesMs: number[];
  /** The workload's own further figures (Workload.report). */
  extra?: Record<string, number>;
  torchMs?: number | null;
  torchGflops?: number | null;
  torchPeakRssMb?: number | null;
  ratioVsTorch?: number | null;
}

async function loadWorkloads(): Promise<void> {
  const dir = path.join(here, 'workloads');
  for (const f of readdirSync(dir).sort()) {
    if (f.endsWith('.ts') && !f.endsWith('.test.ts')) await import(pathToFileURL(path.join(dir, f)).href);
  }
}

interface Args {
  only: string[] | null;
  runs: number | null;
  json: string | null;
  vsTorch: boolean;
  list: boolean;
  child: string | null;
}

function parseArgs(argv: string[]): Args {
  const a: Args = { only: null, runs: null, json: null, vsTorch: false, list: false, child: null };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i];
    const val = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${k} needs a value`);
      return v;
    };
    if (k === '--') continue;
    else if (k === '--only') a.only = val().split(',').map((s) => s.trim()).filter(Boolean);
    else if (k === '--runs') {
      a.runs = Number(val());
      if (!Number.isInteger(a.runs) || a.runs < 1) throw new Error('--runs must be a positive integer');
    } else if (k === '--json') a.json = val();
    else if (k === '--vs-torch') a.vsTorch = true;
    else if (k === '--list') a.list = true;
    else if (k === '--child') a.child = val();
    else throw new Error(`unknown option ${k} (use --only, --runs, --json, --vs-torch, --list)`);
  }
  return a;
}

const RESULT_TAG = 'BENCH_RESULT ';

/** In the child: time one workload and print its result line. */
async function runChild(name: string, runsOverride: number | null): Promise<void> {
  await initEngine();
  const w = getWorkload(name);
  if (!w) throw new Error(`no workload '${name}'`);
  const ctx = await w.setup();
  await (w.warmup ? w.warmup(ctx) : w.run(ctx));
  // counted FLOPs: one more untimed run under the profiler
  const counted = w.flops === 'counted' ? await countFlops(() => w.run(ctx)) : null;
  const runs = runsOverride ?? w.runs ?? 5;
  const times: number[] = [];
  const t0tensors = tf.memory().numTensors;
  for (let r = 0; r < runs; r++) {
    const t0 = performance.now();
    await w.run(ctx);
    times.push(performance.now() - t0);
    process.stderr.write(`  ${name} run ${r + 1}/${runs}: ${times[r].toFixed(1)} ms\n`);
  }
  const leaked = tf.memory().numTensors - t0tensors;
  if (leaked !== 0) process.stderr.write(`  warning: ${name} leaked ${leaked} tensors over ${runs} runs\n`);
  const med = median(times);
  const flops = counted ?? (typeof w.flops === 'function' ? w.flops(ctx) : w.flops === 'counted' ? null : w.flops);
  const res: WorkloadResult = {
    name,
    medianMs: +med.toFixed(2),
    runs,
    gflops: flops ? +(flops / (med / 1000) / 1e9).toFixed(2) : null,
    peakRssMb: Math.round(process.resourceUsage().maxRSS / 1024),
    timesMs: times.map((t) => +t.toFixed(2)),
    ...(w.report ? { extra: w.report(ctx) } : {}),
  };
  await w.teardown?.(ctx);
  process.stdout.write(RESULT_TAG + JSON.stringify(res) + '\n');
}

function machine(): Record<string, unknown> {
  const cpus = os.cpus();
  return {
    cpu: cpus[0]?.model ?? 'unknown',
    cores: cpus.length,
    memGb: +(os.totalmem() / 2 ** 30).toFixed(1),
    node: process.version,
    platform: `${os.platform()} ${os.arch()}`,
    backend: engineBackend(),
    wasmThreads: engineBackend() === 'wasm' ? wasmThreads() : null,
    fastKernels: engineBackend() === 'wasm' ? fastKernelsEnabled() : null,
    native: engineBackend() === 'wasm' ? nativeStatus() : null,
    tfjs: tf.version.tfjs,
    loadAvg: os.loadavg().map((x) => +x.toFixed(2)),
    date: new Date().toISOString(),
  };
}

interface TorchResult {
  medianMs: number;
  gflops: number | null;
  peakRssMb: number;
}

/**
 * Run the PyTorch twin, one process per workload (so its peak RSS is that workload's, as ours);
 * returns name -> result (a workload without a twin, or torch unavailable: absent).
 */
function runTorch(names: string[], runs: number | null): Map<string, TorchResult> {
  const m = new Map<string, TorchResult>();
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'auv-bench-'));
  try {
    for (const name of names) {
      const out = path.join(tmp, `${name}.json`);
      const args = [path.join(here, 'torch_twin.py'), '--json', out, '--only', name];
      if (runs) args.push('--runs', String(runs));
      const r = spawnSync('/usr/bin/python3', args, { stdio: ['ignore', 'inherit', 'inherit'] });
      if (r.status !== 0) {
        process.stderr.write(`torch twin failed on ${name} (exit ${r.status}); install: apt-get install -y python3-torch libopenblas0-pthread\n`);
        continue;
      }
      const j = JSON.parse(readFileSync(out, 'utf8')) as { workloads: ({ name: string } & TorchResult)[] };
      for (const w of j.workloads) m.set(w.name, { medianMs: w.medianMs, gflops: w.gflops, peakRssMb: w.peakRssMb });
    }
    return m;
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

/** The side-by-side table (ours against the twin, median time ours / PyTorch per workload). */
function printTable(results: WorkloadResult[], vsTorch: boolean): void {
  const cols: [string, number][] = [['workload', 22], ['ms', 10], ['runs', 5], ['GFLOP/s', 8], ['peak MB', 8]];
  if (vsTorch) cols.push(['torch ms', 10], ['torch GFLOP/s', 14], ['torch MB', 9], ['ratio', 7]);
  const cell = (v: number | null | undefined, digits = 1) => (v === null || v === undefined ? '-' : v.toFixed(digits));
  console.log(cols.map(([h, w], i) => (i === 0 ? h.padEnd(w) : h.padStart(w))).join(' '));
  for (const r of results) {
    const vals = [r.name, cell(r.medianMs), String(r.runs), cell(r.gflops, 2), String(r.peakRssMb)];
    if (vsTorch) vals.push(cell(r.torchMs), cell(r.torchGflops, 2), cell(r.torchPeakRssMb, 0), r.ratioVsTorch ? `${r.ratioVsTorch.toFixed(2)}x` : '-');
    console.log(vals.map((v, i) => (i === 0 ? v.padEnd(cols[i]![1]) : v.padStart(cols[i]![1]))).join(' '));
  }
  for (const r of results) if (r.extra) console.log(`${r.name}: ${Object.entries(r.extra).map(([k, v]) => `${k} ${v}`).join(', ')}`);
  if (vsTorch) {
    const rated = results.filter((r) => r.ratioVsTorch);
    const ok = rated.filter((r) => r.ratioVsTorch! <= 1);
    console.log(`ratio = median ms ours / PyTorch's, same machine, one run after the other; <= 1.0 on ${ok.length} of ${rated.length} workloads with a twin`);
  }
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  await loadWorkloads();
  if (args.child) return runChild(args.child, args.runs);
  await initEngine();
  const all = listWorkloads();
  if (args.list) {
    for (const w of all) console.log(`${w.name.padEnd(22)} ${w.description}${w.onlyWhenNamed ? ' (runs only with --only)' : ''}`);
    return;
  }
  const unknown = (args.only ?? []).filter((n) => !getWorkload(n));
  if (unknown.length) throw new Error(`unknown workload(s) ${unknown.join(', ')}; known: ${all.map((w) => w.name).join(', ')}`);
  const chosen = args.only ? all.filter((w) => args.only!.includes(w.name)) : all.filter((w) => !w.onlyWhenNamed);
  const results: WorkloadResult[] = [];
  for (const w of chosen) {
    process.stderr.write(`${w.name}: ${w.description}\n`);
    const childArgs = ['--import', 'tsx', fileURLToPath(import.meta.url), '--child', w.name];
    if (args.runs) childArgs.push('--runs', String(args.runs));
    const r = spawnSync(process.execPath, childArgs, { stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8', maxBuffer: 1 << 26 });
    const line = (r.stdout ?? '').split('\n').find((l) => l.startsWith(RESULT_TAG));
    if (r.status !== 0 || !line) {
      process.stderr.write(`  ${w.name} FAILED (exit ${r.status})\n`);
      continue;
    }
    results.push(JSON.parse(line.slice(RESULT_TAG.length)) as WorkloadResult);
  }
  if (args.vsTorch) {
    const torch = runTorch(chosen.map((w) => w.name), args.runs);
    for (const r of results) {
      const t = torch.get(r.name);
      r.torchMs = t?.medianMs ?? null;
      r.torchGflops = t?.gflops ?? null;
      r.torchPeakRssMb = t?.peakRssMb ?? null;
      r.ratioVsTorch = t ? +(r.medianMs / t.medianMs).toFixed(2) : null;
    }
  }
  const m = machine();
  console.log(`\n${m.cpu} x${m.cores}, node ${m.node}, backend ${m.backend}${m.wasmThreads ? ` (${m.wasmThreads} threads)` : ''}, native kernels: ${m.native ?? '-'}, load ${(m.loadAvg as number[]).join(' ')}`);
  printTable(results, args.vsTorch);
  if (args.json) writeFileAtomicSync(args.json, JSON.stringify({ machine: m, workloads: results }, null, 2) + '\n');
  if (results.length < chosen.length) process.exitCode = 1;
}

main().catch((e: unknown) => {
  process.stderr.write(`bench: ${e instanceof Error ? (process.env.BENCH_DEBUG ? e.stack : e.message) : String(e)}\n`);
  process.exit(1);
});
