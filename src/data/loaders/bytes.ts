/**
 * Sequential byte readers for the streaming loaders: over a Uint8Array, or over a file read in
 * chunks (so a multi-gigabyte pickle or feature file is never held in memory at once).
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';

export interface ByteReader {
  /** Absolute offset of the next byte. */
  readonly position: number;
  readonly length: number;
  /** Next n bytes (a copy or a view valid until the next read). */
  read(n: number): Uint8Array;
  /** Skip n bytes. */
  skip(n: number): void;
  /** Read n bytes at an absolute offset without moving (for lazily loaded payloads). */
  readAt(offset: number, n: number): Uint8Array;
  close(): void;
}

export class BufferReader implements ByteReader {
  private pos = 0;
  constructor(private readonly buf: Uint8Array) {}
  get position(): number {
    return this.pos;
  }
  get length(): number {
    return this.buf.length;
  }
  read(n: number): Uint8Array {
    if (this.pos + n > this.buf.length) throw new RangeError(`unexpected end of data at byte ${this.pos} (wanted ${n} more)`);
    const out = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }
  skip(n: number): void {
    this.read(n);
  }
  readAt(offset: number, n: number): Uint8Array {
    return this.buf.slice(offset, offset + n);
  }
  close(): void {}
}

export class FileReader implements ByteReader {
  private readonly fd: number;
  readonly length: number;
  private buf: Buffer;
  private bufStart = 0;
  private bufLen = 0;
  private pos = 0;
  constructor(
    readonly file: string,
    private readonly chunk = 1 << 20,
  ) {
    this.fd = openSync(file, 'r');
    this.length = fstatSync(this.fd).size;
    this.buf = Buffer.alloc(chunk);
  }
  get position(): number {
    return this.pos;
  }
  read(n: number): Uint8Array {
    if (this.pos + n > this.length) throw new RangeError(`unexpected end of file at byte ${this.pos} (wanted ${n} more)`);
    if (this.pos < this.bufStart || this.pos + n > this.bufStart + this.bufLen) {
      if (n > this.buf.length) this.buf = Buffer.alloc(n);
      this.bufStart = this.pos;
      this.bufLen = readSync(this.fd, this.buf, 0, Math.min(this.buf.length, this.length - this.pos), this.pos);
    }
    const off = this.pos - this.bufStart;
    this.pos += n;
    return this.buf.subarray(off, off + n);
  }
  skip(n: number): void {
    if (this.pos + n > this.length) throw new RangeError(`unexpected end of file at byte ${this.pos}`);
    this.pos += n;
  }
  readAt(offset: number, n: number): Uint8Array {
    const out = Buffer.alloc(n);
    readSync(this.fd, out, 0, n, offset);
    return out;
  }
  close(): void {
    closeSync(this.fd);
  }
}
