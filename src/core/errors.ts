/**
 * Errors a user can act on. `InputError` names the file (and line or item) and what is wrong; the
 * CLI prints its message on one line and exits non-zero.
 */
export class InputError extends Error {
  readonly file: string | undefined;
  readonly location: string | undefined;

  /**
   * @param message what is wrong, e.g. "timestamp 'abc' is not a number"
   * @param file the file at fault (absolute or as given by the user)
   * @param location a line number ("line 12") or an item ("item 'A13'")
   */
  constructor(message: string, file?: string, location?: string | number) {
    const loc = typeof location === 'number' ? `line ${location}` : location;
    const prefix = file ? `${file}${loc ? ` (${loc})` : ''}: ` : loc ? `${loc}: ` : '';
    super(prefix + message);
    this.name = 'InputError';
    this.file = file;
    this.location = loc;
  }
}

/** A configuration value that is not allowed; names the key and the allowed values. */
export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

/** An attack asked for knowledge its threat model does not grant it. */
export class KnowledgeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'KnowledgeError';
  }
}

/** File-system error codes caused by the user's environment (a path, a permission, a full disk), not by a bug. */
const USER_FS_CODES: Record<string, string> = {
  ENOENT: 'no such file or folder',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EROFS: 'read-only file system',
  ENOTDIR: 'a parent of it is a file, not a folder',
  EISDIR: 'is a folder, not a file',
  EEXIST: 'already exists',
  ENOTEMPTY: 'folder is not empty',
  ENOSPC: 'no space left on the device',
  EDQUOT: 'disk quota exceeded',
  EMFILE: 'too many open files',
  ENAMETOOLONG: 'file name too long',
  ELOOP: 'too many levels of symbolic links',
};

/**
 * The user-facing InputError for a file-system failure (`action` e.g. "cannot write"), naming
 * `file` (default: the error's own path); undefined when `err` is not such a failure.
 */
export function userFsError(err: unknown, file?: string, action = 'cannot access'): InputError | undefined {
  const e = err as NodeJS.ErrnoException | null;
  if (!e || typeof e !== 'object' || typeof e.code !== 'string' || !(e.code in USER_FS_CODES)) return undefined;
  const where = file ?? e.path;
  return new InputError(`${action} (${USER_FS_CODES[e.code]})`, where);
}
