/**
 * Content keys of datasets, for cache keys that cannot go stale (issue 17).
 *
 * A folder dataset's key is a SHA-256 over every regular file under the folder (relative path and
 * bytes: interactions, items, targets, dataset.json, every image, features). Hashing a default
 * catalogue's 3,000 images takes a second or two, so the per-file hashes are remembered in a
 * manifest together with each file's size, mtime, ctime and inode: on a rerun a file whose stat
 * is unchanged is not read again. ctime cannot be set back by `touch` or `cp -p`, so an in-place
 * edit always changes it. The manifest lives in the artefact cache (`<cache>/dataset-keys/`), not
 * in the dataset folder, which may be read-only or shared; losing it only costs one rehash.
 *
 * Synthetic datasets (`synth:<profile>:<seed>`) are generated in memory from their parameters, so
 * their key is a hash of those parameters.
 */
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { InputError } from '../core/errors.js';
import { writeJsonAtomic } from '../core/fsutil.js';
import { configHash } from '../core/hash.js';
import type { Dataset } from './dataset.js';

/** The remembered hash of one file and the stat it was taken under. */
interface FileEntry {
  size: number;
  mtimeMs: number;
  ctimeMs: number;
  ino: number;
  sha256: string;
}

interface Manifest {
  format: 'auv-fusion-dataset-key/1';
  root: string;
  files: Record<string, FileEntry>;
}

export interface ContentKey {
  /** Hex key of the dataset's content (32 characters). */
  key: string;
  /** Files hashed now (not answered from the manifest). */
  hashed: number;
  /** Files in the dataset folder (0 for synthetic datasets). */
  files: number;
}

/** Every regular file under `root` (symlinks followed), as sorted paths relative to `root`. */
async function listFiles(root: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (rel: string): Promise<void> => {
    const entries = await fs.readdir(path.join(root, rel), { withFileTypes: true });
    for (const e of entries) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      const st = await fs.stat(path.join(root, r)).catch(() => null);
      if (!st) continue; // a dangling link: the reader reports it if the dataset needs it
      if (st.isDirectory()) await walk(r);
      else if (st.isFile()) out.push(r);
    }
  };
  await walk('');
  return out.sort();
}

async function sha256File(file: string): Promise<string> {
  return createHash('sha256').update(await fs.readFile(file)).digest('hex');
}

async function readManifest(file: string, root: string): Promise<Manifest['files']> {
  try {
    const m = JSON.parse(await fs.readFile(file, 'utf8')) as Manifest;
    return m.format === 'auv-fusion-dataset-key/1' && m.root === root && m.files ? m.files : {};
  } catch {
    return {}; // absent or unreadable: every file is hashed again
  }
}

/**
 * The content key of the dataset folder `dir`; per-file hashes are reused from (and saved to) a
 * manifest under `manifestDir` when given.
 */
export async function folderContentKey(dir: string, manifestDir?: string): Promise<ContentKey> {
  let root: string;
  try {
    root = await fs.realpath(dir);
  } catch (err) {
    throw new InputError(`dataset folder not found (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`, dir);
  }
  const manifestFile = manifestDir ? path.join(manifestDir, `${configHash(root)}.json`) : undefined;
  const old = manifestFile ? await readManifest(manifestFile, root) : {};
  const files: Record<string, FileEntry> = {};
  const whole = createHash('sha256');
  let hashed = 0;
  for (const rel of await listFiles(root)) {
    const st = await fs.stat(path.join(root, rel));
    const prev = old[rel];
    const same = prev && prev.size === st.size && prev.mtimeMs === st.mtimeMs && prev.ctimeMs === st.ctimeMs && prev.ino === st.ino;
    let sha = same ? prev.sha256 : '';
    if (!same) {
      sha = await sha256File(path.join(root, rel));
      hashed++;
    }
    files[rel] = { size: st.size, mtimeMs: st.mtimeMs, ctimeMs: st.ctimeMs, ino: st.ino, sha256: sha };
    whole.update(`${rel}\0${sha}\n`);
  }
  if (manifestFile && (hashed > 0 || Object.keys(old).length !== Object.keys(files).length)) {
    // best effort: an unwritable cache is reported by the cache itself, not here
    await writeJsonAtomic(manifestFile, { format: 'auv-fusion-dataset-key/1', root, files } satisfies Manifest).catch(() => undefined);
  }
  return { key: whole.digest('hex').slice(0, 32), hashed, files: Object.keys(files).length };
}

/** The content key of a synthetic dataset: a hash of the parameters it is generated from. */
export function synthContentKey(ds: Pick<Dataset, 'info'> & { params?: unknown }): ContentKey {
  return { key: configHash({ synth: 'generated', profile: ds.info.profile, seed: ds.info.seed, params: ds.params ?? null }, 32), hashed: 0, files: 0 };
}

/** The content key of the dataset `spec` opened as `ds` (synth: or a folder). */
export async function datasetContentKey(spec: string, ds: Pick<Dataset, 'info'> & { params?: unknown }, manifestDir?: string): Promise<ContentKey> {
  if (spec.startsWith('synth:') || spec === 'synth') return synthContentKey(ds);
  return folderContentKey(spec, manifestDir);
}
