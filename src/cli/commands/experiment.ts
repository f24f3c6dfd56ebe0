/** `auv-fusion demo` and `auv-fusion run CONFIG`: the main job (spec section 11). */
import path from 'node:path';
import { Option, type Command } from 'commander';
import { writeFileAtomic } from '../../core/fsutil.js';
import { loadConfig, type ExperimentConfig } from '../../experiment/config.js';
import { runExperiment } from '../../experiment/runner.js';
import { loadSourceConfig, type ConfigSource } from '../../queue/jobs.js';
import { renderReport } from '../../report/html.js';

function collect(v: string, prev: string[]): string[] {
  return [...prev, v];
}

/**
 * Run an experiment (in this process, or through the workers of `queue`) and write results.json,
 * results.csv and report.html; returns a summary line.
 */
export async function runAndReport(cfg: ExperimentConfig, quiet = false, queue?: { url: string; source: ConfigSource }): Promise<string> {
  const t0 = Date.now();
  // BullMQ is loaded only for a queued run: the local run neither needs nor pays for it
  const out = queue ? await (await import('../../queue/experiment-run.js')).runExperimentQueued(cfg, { ...queue, quiet }) : await runExperiment(cfg, { quiet });
  const html = path.join(out.outDir, 'report.html');
  await writeFileAtomic(html, renderReport(out.results, out.extras));
  const secs = ((Date.now() - t0) / 1000).toFixed(0);
  return `done in ${secs} s: ${out.files.json}, ${out.files.csv}, ${html}`;
}

export function registerExperimentCommands(program: Command): void {
  program
    .command('demo')
    .description('The whole default experiment on the embedded synthetic catalogue: victims bpr-mf (control), vbpr, deepstyle, amr; attacks none, random, expa, insa, auv-fusion; full ranking; 3 seeds; writes results.json, results.csv, report.html')
    .addOption(new Option('--profile <name>', 'catalogue size').choices(['tiny', 'default']).default('default'))
    .option('--out <dir>', 'output folder', 'auv-out')
    .option('--cache <dir>', 'artefact cache folder', '.auv-cache')
    .option('--set <key=value>', 'override any config key, e.g. seeds=[1] (repeatable)', collect, [])
    .option('--queue <url>', 'run the cells on `auv-fusion worker`s through this Redis (e.g. redis://127.0.0.1:6379) instead of in this process')
    .action(async (o: { profile: 'tiny' | 'default'; out: string; cache: string; set: string[]; queue?: string }) => {
      const source: ConfigSource = { demo: o.profile, base: { out: o.out, cacheDir: o.cache }, sets: o.set };
      const cfg = loadSourceConfig(source);
      process.stdout.write((await runAndReport(cfg, process.env.AUV_QUIET === '1', o.queue ? { url: o.queue, source } : undefined)) + '\n');
    });
  program
    .command('run <config>')
    .description('Run any experiment config (YAML or JSON; see configs/*.yaml); built-in defaults < file < --set')
    .option('--out <dir>', 'output folder (overrides the config)')
    .option('--set <key=value>', 'override any config key (repeatable)', collect, [])
    .option('--queue <url>', 'run the cells on `auv-fusion worker`s through this Redis (e.g. redis://127.0.0.1:6379) instead of in this process')
    .action(async (file: string, o: { out?: string; set: string[]; queue?: string }) => {
      const source: ConfigSource = { file, sets: [...o.set, ...(o.out ? [`out=${o.out}`] : [])] };
      const cfg = loadConfig(source);
      process.stdout.write((await runAndReport(cfg, process.env.AUV_QUIET === '1', o.queue ? { url: o.queue, source } : undefined)) + '\n');
    });
}
