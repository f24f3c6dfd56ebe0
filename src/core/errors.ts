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
