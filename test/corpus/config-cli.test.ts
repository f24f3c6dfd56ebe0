/**
 * Bad-input corpus, part 2 (issue 17): experiment configs and `--set` (every mistake caught before
 * any work: no output or cache folder created), run-time faults of `run` (the error in run.log,
 * earlier results kept), loaders (`data import`) and the CLI itself (unknown commands, options,
 * unwritable or file-shaped paths). A few real spawns check the process exit codes.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, promises as fs } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { writeDatasetFolder } from '../../src/data/folder-format.js';
import { synthesizeCatalogue } from '../../src/data/synth/catalogue.js';
import { check, tmpRoot, writeTally, type Case } from './harness.js';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const FX = path.join(repo, 'src', 'data', 'loaders', '__fixtures__');
let root = '';
let base = '';
beforeAll(async () => {
  root = await tmpRoot('cfg');
  base = path.join(root, 'base');
  const ds = synthesizeCatalogue({ profile: 'tiny', seed: 3, overrides: { numUsers: 30, numItems: 40, numTargets: 4, imageSize: 16 } });
  await writeDatasetFolder(ds, base, { progress: false });
});
afterAll(async () => {
  await writeTally();
  await fs.rm(root, { recursive: true, force: true });
});

// small enough that a case which wrongly passed validation would still end quickly (and fail)
const tiny = { name: 'corpus', dataset: 'synth:tiny:1', seeds: [1], maxTargets: 2, victims: ['vbpr'], detector: false, attacks: [{ name: 'none' }], encoders: { victim: { epochs: 1 }, surrogate: { epochs: 1 }, semantic: { epochs: 1 } }, victimConfig: { epochs: 1 } };

/** `run` on a config = tiny + `patch`, output and cache inside the case folder; `sets` are --set overrides. */
function runCase(area: string, name: string, patch: Record<string, unknown>, message: RegExp, sets: string[] = []): Case {
  return {
    area,
    name,
    code: 1,
    message,
    absent: ['out', 'cache'],
    args: async (dir) => {
      const file = path.join(dir, 'c.yaml');
      await fs.writeFile(file, stringify({ ...tiny, out: path.join(dir, 'out'), cacheDir: path.join(dir, 'cache'), ...patch }));
      return ['run', file, ...sets.flatMap((s) => ['--set', s])];
    },
  };
}
function raw(area: string, name: string, text: string | Uint8Array | null, message: RegExp, extra: string[] = []): Case {
  return {
    area,
    name,
    code: 1,
    message,
    absent: ['out', 'cache'],
    args: async (dir) => {
      const file = path.join(dir, 'c.yaml');
      if (text !== null) await fs.writeFile(file, text);
      return ['run', file, ...extra];
    },
  };
}

const C = 'config';
const cases: Case[] = [
  raw(C, 'bad YAML', 'seeds: [1\n', /c\.yaml: not valid YAML/),
  raw(C, 'missing config file', null, /c\.yaml: cannot read config \(ENOENT\)/),
  { area: C, name: 'config is a folder', code: 1, message: /cfgdir: cannot read config \(EISDIR\)/, args: async (dir) => (await fs.mkdir(path.join(dir, 'cfgdir')), ['run', path.join(dir, 'cfgdir')]) },
  raw(C, 'a YAML list', '- 1\n- 2\n', /c\.yaml: the config must be a mapping of keys to values/),
  raw(C, 'invalid UTF-8 in the config', Buffer.from([...Buffer.from('seeds: [1]\nname: "a'), 0xff, ...Buffer.from('"\n')]), /c\.yaml \(line 2\): invalid UTF-8 byte sequence/),
  runCase(C, 'unknown key', { seed: 3 }, /c\.yaml: unknown key 'seed'; allowed keys: .*seeds/),
  runCase(C, 'seeds of the wrong type', { seeds: 'x' }, /c\.yaml: 'seeds' must be a list, got "x"/),
  runCase(C, 'seeds: []', { seeds: [] }, /c\.yaml: 'seeds' must have at least 1 entries, got \[\]/),
  runCase(C, 'negative seed', { seeds: [-1] }, /c\.yaml: 'seeds\.0' must be >= 0, got -1/),
  runCase(C, 'unknown victim', { victims: ['dvbpr'] }, /'victims\.0' must be one of "bpr-mf", "vbpr", "deepstyle", "amr", got "dvbpr"/),
  runCase(C, 'unknown protocol', { protocols: ['fast'] }, /'protocols\.0' must be one of "full", "aip", got "fast"/),
  runCase(C, 'ks [0]', { ks: [0] }, /'ks\.0' must be >= 1, got 0/),
  runCase(C, 'evalUsers 1.5', { evalUsers: 1.5 }, /'evalUsers' must be an integer, got 1\.5/),
  runCase(C, 'encoder epochs 0', { encoders: { victim: { epochs: 0 } } }, /'encoders\.victim\.epochs' must be >= 1, got 0/),
  runCase(C, 'encoder key typo', { encoders: { victim: { epoch: 3 } } }, /unknown key 'encoders\.victim\.epoch'; allowed keys: epochs, batch, lr/),
  runCase(C, 'victimConfig {epoch: 3}', { victimConfig: { epoch: 3 } }, /unknown key 'victimConfig\.epoch'; allowed keys: k, kVisual, lr, .*epochs/),
  runCase(C, 'victimConfig k 2.5', { victimConfig: { epochs: 2, k: 2.5 } }, /'victimConfig\.k' must be an integer, got 2\.5/),
  runCase(C, 'victimConfig epochs "2"', { victimConfig: { epochs: '2' } }, /'victimConfig\.epochs' must be a number, got "2"/),
  runCase(C, 'victimConfig lr 0', { victimConfig: { lr: 0 } }, /'victimConfig\.lr' must be > 0, got 0/),
  runCase(C, 'victimConfig seed (seeds drive it)', { victimConfig: { seed: 4 } }, /unknown key 'victimConfig\.seed'/),
  runCase(C, 'surrogate {epoch: 3}', { surrogate: { epoch: 3 } }, /unknown key 'surrogate\.epoch'; allowed keys: model, layers, dim, k, lr, epochs/),
  runCase(C, 'surrogate views wrong', { surrogate: { views: 'all' } }, /'surrogate\.views' must be one of "both", "id", "visual", got "all"/),
  runCase(C, 'defences [none]', { defences: ['none'] }, /'defences\.0' 'none' is not a defence: the undefended evaluation always runs/),
  runCase(C, 'unknown defence', { defences: ['blur'] }, /'defences\.0' unknown defence 'blur': allowed values are jpeg, bit-depth, gaussian-blur, median/),
  runCase(C, 'defence twice', { defences: ['jpeg', 'jpeg'] }, /'defences\.1' repeats defence 'jpeg'/),
  runCase(C, 'unknown attack', { attacks: [{ name: 'fusion' }] }, /'attacks\.0' unknown attack 'fusion': allowed values are auv-fusion, random/),
  runCase(C, 'attack parameter typo', { attacks: [{ name: 'random', params: { budgett: 8 } }] }, /'attacks\.0' attack 'random': parameter 'budgett'.*allowed parameters: budget/),
  runCase(C, 'attack parameter out of range', { attacks: [{ name: 'insa', params: { budget: 10 } }] }, /'attacks\.0' attack 'insa'.*budget/),
  runCase(C, "attack 'none' with parameters", { attacks: [{ name: 'none', params: { budget: 8 } }] }, /'attacks\.0\.params' attack 'none' takes no parameters/),
  runCase(C, 'the same attack twice', { attacks: [{ name: 'random' }, { name: 'random' }] }, /'attacks\.1\.name' repeats attack 'random'/),
  runCase(C, 'unavailable attack (spaf)', { attacks: [{ name: 'spaf' }] }, /attack 'spaf' is not available/),
  runCase(C, "--set without '='", {}, /--set 'oops' must look like key\.path=value/, ['oops']),
  runCase(C, "--set 'seeds=[1'", {}, /--set 'seeds=\[1': the value is not valid YAML/, ['seeds=[1']),
  runCase(C, '--set victimConfig={epoch: 3}', {}, /unknown key 'victimConfig\.epoch'/, ['victimConfig={epoch: 3}']),
];

const R = 'run paths and faults';
cases.push(
  { area: R, name: '--out naming an existing file', code: 1, message: /out\.txt: output \('out'\) must be a folder, but this is a file/, absent: ['cache'], args: async (dir) => {
    await fs.writeFile(path.join(dir, 'out.txt'), 'x');
    const file = path.join(dir, 'c.yaml');
    await fs.writeFile(file, stringify({ ...tiny, cacheDir: path.join(dir, 'cache') }));
    return ['run', file, '--out', path.join(dir, 'out.txt')];
  } },
  { area: R, name: 'out under a file', code: 1, message: /file\/out: output \('out'\) folder cannot be created \(a parent of it is a file/, absent: ['cache'], args: async (dir) => {
    await fs.writeFile(path.join(dir, 'file'), 'x');
    const file = path.join(dir, 'c.yaml');
    await fs.writeFile(file, stringify({ ...tiny, cacheDir: path.join(dir, 'cache'), out: path.join(dir, 'file', 'out') }));
    return ['run', file];
  } },
  { area: R, name: 'cacheDir naming a file', code: 1, message: /cache\.txt: cache \('cacheDir'\) must be a folder, but this is a file/, args: async (dir) => {
    await fs.writeFile(path.join(dir, 'cache.txt'), 'x');
    const file = path.join(dir, 'c.yaml');
    await fs.writeFile(file, stringify({ ...tiny, cacheDir: path.join(dir, 'cache.txt'), out: path.join(dir, 'out') }));
    return ['run', file];
  } },
  runCase(R, 'dataset folder missing', { dataset: '/nonexistent/ds' }, /\/nonexistent\/ds: dataset folder not found \(config key 'dataset'\)/),
  runCase(R, 'diffusion checkpoint missing', { attacks: [{ name: 'auv-fusion' }], diffusion: '/nonexistent/ckpt' }, /\/nonexistent\/ckpt: no diffusion checkpoint here \(config key 'diffusion'/),
  { area: R, name: 'bad data under run: error in run.log, earlier results kept', code: 1, message: /interactions\.csv \(line 4\): timestamp '0x10' is not a decimal number/, args: async (dir) => {
    const ds = path.join(dir, 'ds');
    await fs.cp(base, ds, { recursive: true });
    const inter = (await fs.readFile(path.join(ds, 'interactions.csv'), 'utf8')).split('\n');
    inter[3] = inter[3]!.replace(/,[^,]*$/, ',0x10');
    await fs.writeFile(path.join(ds, 'interactions.csv'), inter.join('\n'));
    // the output folder of an earlier successful run
    await fs.mkdir(path.join(dir, 'out'));
    await fs.writeFile(path.join(dir, 'out', 'results.json'), '{"earlier": true}\n');
    await fs.writeFile(path.join(dir, 'out', 'run.log'), 'earlier run log\n');
    const file = path.join(dir, 'c.yaml');
    await fs.writeFile(file, stringify({ ...tiny, dataset: ds, cacheDir: path.join(dir, 'cache'), out: path.join(dir, 'out') }));
    return ['run', file];
  }, after: async (dir) => {
    const log = await fs.readFile(path.join(dir, 'out', 'run.log'), 'utf8');
    expect(log.startsWith('earlier run log\n')).toBe(true);
    expect(log).toMatch(/error: .*timestamp '0x10' is not a decimal number/);
    expect(log).toMatch(/run failed; results\.json in this folder are from an earlier successful run/);
    expect(await fs.readFile(path.join(dir, 'out', 'results.json'), 'utf8')).toBe('{"earlier": true}\n');
  } },
);

const L = 'loaders (data import)';
const imp = (name: string, files: (dir: string) => Promise<string[]> | string[], message: RegExp, extra: string[] = []): Case => ({
  area: L, name, code: 1, message, absent: ['out'],
  args: async (dir) => ['data', 'import', ...extra, ...(await files(dir)), '--out', path.join(dir, 'out')],
});
/** A .npy file (format 1.0) with the given header dictionary and no data. */
function npyWithHeader(dict: string): Uint8Array {
  let h = dict;
  while ((10 + h.length + 1) % 64 !== 0) h += ' ';
  h += '\n';
  return Buffer.concat([Buffer.from([0x93]), Buffer.from('NUMPY'), Buffer.from([1, 0, h.length & 255, h.length >> 8]), Buffer.from(h, 'latin1')]);
}
const file = (name: string, data: string | Uint8Array) => async (dir: string) => (await fs.writeFile(path.join(dir, name), data), [path.join(dir, name)]);
cases.push(
  imp('aip: missing file', () => ['/nonexistent/x.npy'], /\/nonexistent\/x\.npy: cannot access \(no such file or folder\)/, ['--format', 'aip']),
  imp('aip: random bytes', file('r.npy', new Uint8Array(200).map((_, i) => (i * 37) & 255)), /r\.npy: /, ['--format', 'aip']),
  imp('aip: truncated', async (dir) => {
    const b = await fs.readFile(path.join(FX, 'aip_tiny.npy'));
    return file('t.npy', b.subarray(0, 300))(dir);
  }, /t\.npy: /, ['--format', 'aip']),
  imp('aip: negative shape in the header', file('neg.npy', npyWithHeader("{'descr': '<f4', 'fortran_order': False, 'shape': (-3,), }")), /neg\.npy: bad \.npy header: shape \(-3\) must hold non-negative integers/, ['--format', 'aip']),
  imp('aip: missing cold file', () => [path.join(FX, 'aip_tiny.npy'), '/nonexistent/cold.npy'], /\/nonexistent\/cold\.npy: cannot access \(no such file or folder\)/, ['--format', 'aip']),
  imp('aip: --images does not apply', () => [path.join(FX, 'aip_tiny.npy')], /--format aip reads images from the \.npy file/, ['--format', 'aip', '--images', FX]),
  imp('amazon: missing file', () => ['/nonexistent/reviews.json'], /\/nonexistent\/reviews\.json: file not found/, ['--format', 'amazon', '--images', FX]),
  imp('amazon: broken line', async (dir) => {
    const t = (await fs.readFile(path.join(FX, 'amazon_reviews.json'), 'utf8')).split('\n');
    t[7] = '{"reviewerID": ';
    return file('rev.json', t.join('\n'))(dir);
  }, /rev\.json \(line 8\)/, ['--format', 'amazon', '--images', path.join(FX, 'amazon_images')]),
  imp('amazon: invalid UTF-8 on a line', async (dir) => {
    const b = await fs.readFile(path.join(FX, 'amazon_reviews.json'));
    const nl = b.indexOf(0x0a, b.indexOf(0x0a) + 1);
    return file('rev.json', Buffer.concat([b.subarray(0, nl + 3), Buffer.from([0xff]), b.subarray(nl + 3)]))(dir);
  }, /rev\.json \(line 3\): invalid UTF-8 byte sequence/, ['--format', 'amazon', '--images', path.join(FX, 'amazon_images')]),
  imp('features: truncated .b', async (dir) => {
    const b = await fs.readFile(path.join(FX, 'image_features_tiny.b'));
    return [...(await file('image_features_x.b', b.subarray(0, 1001))(dir)), path.join(FX, 'amazon_reviews.json')];
  }, /image_features_x\.b/, ['--format', 'features']),
  imp('features: first file not .b', () => [path.join(FX, 'amazon_reviews.json'), path.join(FX, 'amazon_reviews.json')], /expected the VBPR feature binary/, ['--format', 'features']),
  imp('unknown --format', () => ['x'], /option '--format <name>' argument 'bogus' is invalid\. Allowed choices are aip, amazon, tradesy, features/, ['--format', 'bogus']),
  imp('wrong number of files', () => [path.join(FX, 'tradesy.json'), path.join(FX, 'tradesy.json')], /--format tradesy takes 1 file\(s\), got 2/, ['--format', 'tradesy', '--images', FX]),
  { area: L, name: '--out naming an existing file', code: 1, message: /out: exists and is not a folder; refusing to replace it/, args: async (dir) => {
    await fs.writeFile(path.join(dir, 'out'), 'keep me');
    return ['data', 'import', '--format', 'aip', path.join(FX, 'aip_tiny.npy'), '--out', path.join(dir, 'out')];
  }, after: async (dir) => expect(await fs.readFile(path.join(dir, 'out'), 'utf8')).toBe('keep me') },
);

const X = 'CLI';
const cmd = (name: string, args: string[], message: RegExp, code: 0 | 1 = 1): Case => ({ area: X, name, code, message, args: () => args });
cases.push(
  cmd('auv-fusion serve --help', ['serve', '--help'], /unknown command 'serve': allowed commands are demo, run, data, train, attack, metrics, worker/),
  cmd('worker --queue not a URL', ['worker', '--queue', 'localhost:6379'], /--queue 'localhost:6379' must start with redis:\/\/ or rediss:\/\//),
  cmd('worker: no Redis at --queue', ['worker', '--queue', 'redis://127.0.0.1:1'], /--queue redis:\/\/127\.0\.0\.1:1: no Redis answers there \(ECONNREFUSED\); start redis-server on that host or fix the URL/),
  cmd('worker --concurrency 0', ['worker', '--queue', 'redis://127.0.0.1:1', '--concurrency', '0'], /--concurrency must be a whole number >= 1, got '0'/),
  cmd('unknown sub-command', ['data', 'bogus'], /unknown command 'bogus' of 'data': allowed commands are synth, inspect, import/),
  cmd('unknown train target', ['train', 'bogus', '--help'], /unknown command 'bogus' of 'train'/),
  cmd('run without a config', ['run'], /missing required argument 'config'/),
  cmd('unknown option', ['data', 'synth', '--out', '/nonexistent/x', '--bogus'], /unknown option '--bogus'/),
  cmd('bad backend', ['--backend', 'gpu', 'data', 'inspect', 'synth:tiny'], /option '--backend <name>' argument 'gpu' is invalid/),
  cmd('synth --seed -4', ['data', 'synth', '--profile', 'tiny', '--seed', '-4', '--out', '/nonexistent/x'], /--seed must be an integer >= 0, got '-4'/),
  cmd('synth --profile huge', ['data', 'synth', '--profile', 'huge', '--out', '/nonexistent/x'], /argument 'huge' is invalid\. Allowed choices are tiny, default, large/),
  cmd('demo --set victimConfig.epoch=3', ['demo', '--profile', 'tiny', '--set', 'victimConfig.epoch=3', '--out', '/nonexistent/o', '--cache', '/nonexistent/c'], /unknown key 'victimConfig\.epoch'/),
  cmd('attack: unknown name', ['attack', 'bogus', '--data', 'synth:tiny', '--out', '/nonexistent/o'], /unknown attack 'bogus'/),
  cmd('attack: missing --data', ['attack', 'random', '--out', '/nonexistent/o'], /required option '--data <dir>' not specified/),
  cmd('metrics image: missing file', ['metrics', 'image', '/nonexistent/a.png', '/nonexistent/b.png'], /\/nonexistent\/a\.png/),
  { area: X, name: 'metrics image: a folder', code: 1, message: /\/d: is a folder, not an image file/, args: async (dir) => {
    await fs.mkdir(path.join(dir, 'd'));
    return ['metrics', 'image', path.join(dir, 'd'), path.join(dir, 'd')];
  } },
  { area: X, name: 'synth --out a non-dataset folder', code: 1, message: /is a non-empty folder without dataset\.json; refusing to replace it/, args: async (dir) => {
    await fs.mkdir(path.join(dir, 'mine'));
    await fs.writeFile(path.join(dir, 'mine', 'notes.txt'), 'keep');
    return ['data', 'synth', '--profile', 'tiny', '--users', '20', '--items', '30', '--targets', '2', '--out', path.join(dir, 'mine')];
  }, after: async (dir) => expect(existsSync(path.join(dir, 'mine', 'notes.txt'))).toBe(true) },
  cmd('--version', ['--version'], /\d+\.\d+\.\d+/, 0),
  cmd('run --help', ['run', '--help'], /Usage: auv-fusion run/, 0),
);

describe('bad-input corpus: configs, run faults, loaders, CLI', () => {
  cases.forEach((c, i) => it(`${c.area}: ${c.name}`, { timeout: 30_000 }, () => check(c, root, i)));
});

describe('real processes: exit codes', () => {
  const node = (args: string[]) => spawnSync(process.execPath, ['--import', 'tsx', path.join(repo, 'src', 'cli', 'main.ts'), '--quiet', ...args], { encoding: 'utf8', timeout: 60_000, cwd: repo });
  it('a user error exits 1 with one line; --debug adds the stack', () => {
    const r = node(['run', '/nonexistent/c.yaml']);
    expect(r.status).toBe(1);
    expect(r.stderr.trim().split('\n')).toEqual(['auv-fusion: error: /nonexistent/c.yaml: cannot read config (ENOENT)']);
    const d = node(['--debug', 'serve', '--help']);
    expect(d.status).toBe(1);
    expect(d.stderr).toMatch(/at .*main\.ts:\d+/);
    expect(d.stderr).toMatch(/auv-fusion: error: unknown command 'serve'/);
  });
  it('an unwritable output folder (as an unprivileged user) exits 1 naming the folder', () => {
    if (process.getuid?.() !== 0) return; // needs root to run the CLI as uid nobody
    const ro = path.join(root, 'ro');
    spawnSync('mkdir', ['-p', ro]);
    spawnSync('chmod', ['755', root, ro]);
    const r = spawnSync(process.execPath, ['--import', 'tsx', path.join(repo, 'src', 'cli', 'main.ts'), '--quiet', 'data', 'synth', '--profile', 'tiny', '--users', '20', '--items', '30', '--targets', '2', '--out', path.join(ro, 'x')], { encoding: 'utf8', timeout: 60_000, cwd: repo, uid: 65534, gid: 65534 });
    expect(r.status).toBe(1);
    expect(r.stderr.trim().split('\n')).toEqual([`auv-fusion: error: ${path.join(ro, 'x')}: cannot write (permission denied)`]);
    // `run` with an unwritable cache folder: refused before any work, nothing written
    const cfg = path.join(root, 'nobody.yaml');
    spawnSync('sh', ['-c', `printf 'dataset: synth:tiny:1\\nout: ${path.join(root, 'nobody-out')}\\ncacheDir: ${path.join(ro, 'cache')}\\n' > ${cfg}; chmod 644 ${cfg}; mkdir -p ${path.join(root, 'nobody-out')}; chmod 777 ${path.join(root, 'nobody-out')}`]);
    const run = spawnSync(process.execPath, ['--import', 'tsx', path.join(repo, 'src', 'cli', 'main.ts'), '--quiet', 'run', cfg], { encoding: 'utf8', timeout: 60_000, cwd: repo, uid: 65534, gid: 65534 });
    expect(run.status).toBe(1);
    expect(run.stderr.trim().split('\n')).toEqual([`auv-fusion: error: ${path.join(ro, 'cache')}: cache ('cacheDir') folder cannot be written (permission denied)`]);
    expect(existsSync(path.join(root, 'nobody-out', 'run.log'))).toBe(false);
  });
});
