/**
 * Strict UTF-8 decoding of input files: an invalid byte is an InputError naming the file and line,
 * never a silent U+FFFD (two ids differing only in an invalid byte would otherwise merge).
 */
import { InputError } from '../core/errors.js';

const strict = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** The 1-based line of the first invalid UTF-8 sequence in `bytes` (0 when there is none). */
function firstInvalidLine(bytes: Uint8Array): number {
  let start = 0;
  let line = 1;
  for (let i = 0; i <= bytes.length; i++) {
    if (i === bytes.length || bytes[i] === 0x0a) {
      try {
        strict.decode(bytes.subarray(start, i));
      } catch {
        return line;
      }
      start = i + 1;
      line++;
    }
  }
  return 0;
}

/**
 * Decode `bytes` as UTF-8, refusing invalid sequences. `firstLine` is the line number of the first
 * byte (for callers that decode a file line by line).
 */
export function decodeUtf8(bytes: Uint8Array, file: string, firstLine = 1): string {
  try {
    return strict.decode(bytes);
  } catch {
    const at = firstInvalidLine(bytes);
    throw new InputError('invalid UTF-8 byte sequence (save the file as UTF-8)', file, firstLine + Math.max(at, 1) - 1);
  }
}
