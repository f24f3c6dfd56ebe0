/** `auv-fusion demo` and `auv-fusion run CONFIG`: the main job (spec section 11). */
import path from 'node:path';
import { Option, type Command } from 'commander';
import { writeFileAtomic } from '../../core/fsutil.js';
import { demoConfig, loadConfig, type ExperimentConfig } from '../../experiment/config.js';
import { runExperiment } from '../../experiment/runner.js';
import { renderReport } from '../../report/html.js';

function collect(v: string, prev: string[]): string[] {
  return [...prev, v];
}

/** Run an experiment and write results.json, results.csv and report.html; returns a summary line. */
export async function runAndReport(cfg: ExperimentConfig, quiet = false): Promise<string> {
  const t0 = Date.now();
  const out = await runExperiment(cfg, { quiet });
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
    .action(async (o: { profile: 'tiny' | 'default'; out: string; cache: string; set: string[] }) => {
      const cfg = loadConfig({ base: { ...demoConfig(o.profile), out: o.out, cacheDir: o.cache }, sets: o.set });
      process.stdout.write((await runAndReport(cfg, process.env.AUV_QUIET === '1')) + '\n');
    });
  program
    .command('run <config>')
    .description('Run any experiment config (YAML or JSON; see configs/*.yaml); built-in defaults < file < --set')
    .option('--out <dir>', 'output folder (overrides the config)')
    .option('--set <key=value>', 'override any config key (repeatable)', collect, [])
    .action(async (file: string, o: { out?: string; set: string[] }) => {
      const cfg = loadConfig({ file, sets: [...o.set, ...(o.out ? [`out=${o.out}`] : [])] });
      process.stdout.write((await runAndReport(cfg, process.env.AUV_QUIET === '1')) + '\n');
    });
}
