/**
 * File-system helpers that never leave half-written output: write to a temporary name in the same
 * folder, then rename (atomic on POSIX file systems).
 */
import { promises as fs, existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { InputError, userFsError } from './errors.js';

let counter = 0;
function tempName(target: string): string {
  counter += 1;
  return path.join(path.dirname(target), `.${path.basename(target)}.tmp-${process.pid}-${Date.now()}-${counter}`);
}

/** The error for a failed `mkdir -p` of the folders above `target` (which reports a parent that is a file as EEXIST or ENOTDIR). */
function parentError(err: unknown, target: string): unknown {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'EEXIST' || code === 'ENOTDIR') return new InputError('cannot write (a parent of it is a file, not a folder)', target);
  return userFsError(err, target, 'cannot write') ?? err;
}

/** Atomically replace `file` with `data`, creating parent folders. */
export async function writeFileAtomic(file: string, data: string | Uint8Array): Promise<void> {
  const tmp = tempName(file);
  try {
    await fs.mkdir(path.dirname(file), { recursive: true });
  } catch (err) {
    throw parentError(err, file);
  }
  try {
    await fs.writeFile(tmp, data);
    await fs.rename(tmp, file);
  } catch (err) {
    await fs.rm(tmp, { force: true }).catch(() => undefined);
    throw userFsError(err, file, 'cannot write') ?? err;
  }
}

/** Synchronous variant of writeFileAtomic. */
export function writeFileAtomicSync(file: string, data: string | Uint8Array): void {
  const tmp = tempName(file);
  try {
    mkdirSync(path.dirname(file), { recursive: true });
  } catch (err) {
    throw parentError(err, file);
  }
  try {
    writeFileSync(tmp, data);
    renameSync(tmp, file);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw userFsError(err, file, 'cannot write') ?? err;
  }
}

/** Atomically write pretty-printed JSON. */
export async function writeJsonAtomic(file: string, value: unknown): Promise<void> {
  await writeFileAtomic(file, JSON.stringify(value, null, 2) + '\n');
}

/**
 * Build a whole folder atomically: `fill` writes into a fresh temporary folder beside `dir`, which
 * then replaces `dir`. If `fill` throws, nothing is left behind and `dir` is untouched.
 */
export async function writeDirAtomic(dir: string, fill: (tmpDir: string) => Promise<void>): Promise<void> {
  const parent = path.dirname(path.resolve(dir));
  const st = await fs.stat(dir).catch(() => null);
  if (st && !st.isDirectory()) throw new InputError('exists and is not a folder; refusing to replace it', dir);
  const tmp = tempName(path.resolve(dir));
  try {
    await fs.mkdir(parent, { recursive: true });
    await fs.mkdir(tmp, { recursive: true });
  } catch (err) {
    throw parentError(err, dir);
  }
  try {
    await fill(tmp);
    if (existsSync(dir)) {
      const old = tempName(path.resolve(dir)) + '.old';
      await fs.rename(dir, old);
      await fs.rename(tmp, dir);
      await fs.rm(old, { recursive: true, force: true });
    } else {
      await fs.rename(tmp, dir);
    }
  } catch (err) {
    await fs.rm(tmp, { recursive: true, force: true }).catch(() => undefined);
    throw err;
  }
}

/** Read and parse a JSON file, or return undefined when it does not exist. */
export async function readJsonIfExists<T>(file: string): Promise<T | undefined> {
  try {
    return JSON.parse(await fs.readFile(file, 'utf8')) as T;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}
