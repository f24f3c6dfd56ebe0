/**
 * A small progress bar on stderr with rate and ETA. On a non-TTY stderr (CI, logs) it prints a
 * line at most every few seconds instead of redrawing. Silenced with AUV_QUIET=1 or `quiet`.
 */
export interface ProgressOptions {
  quiet?: boolean;
  /** Minimum milliseconds between non-TTY lines. */
  logEveryMs?: number;
}

export class Progress {
  private done = 0;
  private readonly start = Date.now();
  private lastDraw = 0;
  private extra = '';
  private readonly quiet: boolean;
  private readonly tty: boolean;
  private readonly logEveryMs: number;

  constructor(
    readonly label: string,
    readonly total: number,
    opts: ProgressOptions = {},
  ) {
    this.quiet = opts.quiet ?? (process.env.AUV_QUIET === '1' || process.env.VITEST !== undefined);
    this.tty = Boolean(process.stderr.isTTY);
    this.logEveryMs = opts.logEveryMs ?? 5000;
  }

  /** Advance by `n` steps; `info` (e.g. "loss 0.31") is shown beside the bar. */
  tick(n = 1, info?: string): void {
    this.done += n;
    if (info !== undefined) this.extra = info;
    this.draw(false);
  }

  /** Set the info text without advancing. */
  info(info: string): void {
    this.extra = info;
    this.draw(false);
  }

  finish(info?: string): void {
    if (info !== undefined) this.extra = info;
    this.done = Math.max(this.done, this.total);
    this.draw(true);
    if (!this.quiet && this.tty) process.stderr.write('\n');
  }

  private draw(force: boolean): void {
    if (this.quiet) return;
    const now = Date.now();
    const minGap = this.tty ? 100 : this.logEveryMs;
    if (!force && now - this.lastDraw < minGap) return;
    this.lastDraw = now;
    const elapsed = (now - this.start) / 1000;
    const frac = this.total > 0 ? Math.min(1, this.done / this.total) : 1;
    const eta = frac > 0 && frac < 1 ? (elapsed / frac) * (1 - frac) : 0;
    const width = 24;
    const filled = Math.round(frac * width);
    const bar = '#'.repeat(filled) + '-'.repeat(width - filled);
    const line = `${this.label} [${bar}] ${this.done}/${this.total} ${fmtTime(elapsed)} eta ${fmtTime(eta)} ${this.extra}`;
    if (this.tty) process.stderr.write('\r' + line.slice(0, (process.stderr.columns ?? 120) - 1) + '\x1b[K');
    else process.stderr.write(line + '\n');
  }
}

function fmtTime(seconds: number): string {
  if (!Number.isFinite(seconds)) return '?';
  if (seconds < 60) return `${seconds.toFixed(0)}s`;
  const m = Math.floor(seconds / 60);
  const s = Math.round(seconds % 60);
  return `${m}m${s.toString().padStart(2, '0')}s`;
}
