/**
 * A tokenizer/parser for strict JSON and for Python literals as written by `str(dict)` (single or
 * double quotes, True/False/None, tuples, trailing commas): the format of McAuley's Amazon review
 * and metadata dumps and of tradesy.json. It only builds data; nothing is ever evaluated.
 */
export type PyValue = null | boolean | number | string | PyValue[] | { [k: string]: PyValue };

export class LiteralSyntaxError extends Error {
  constructor(
    message: string,
    readonly column: number,
  ) {
    super(`${message} at column ${column + 1}`);
  }
}

const ESC: Record<string, string> = { n: '\n', t: '\t', r: '\r', b: '\b', f: '\f', '\\': '\\', "'": "'", '"': '"', '/': '/', '0': '\0', a: '\x07', v: '\v' };

/** Parse one JSON or Python-literal value (the whole text must be consumed). */
export function parseLiteral(text: string): PyValue {
  let i = 0;
  const ws = (): void => {
    while (i < text.length && /\s/.test(text[i]!)) i++;
  };
  const fail = (msg: string): never => {
    throw new LiteralSyntaxError(msg, i);
  };
  const str = (): string => {
    let q = text[i]!;
    // Python prefixes u'' / b'' (bytes become latin-1 strings)
    if (q === 'u' || q === 'b' || q === 'U' || q === 'B') q = text[++i]!;
    i++;
    let out = '';
    while (i < text.length && text[i] !== q) {
      const c = text[i++]!;
      if (c !== '\\') {
        out += c;
        continue;
      }
      const e = text[i++]!;
      if (e === 'u' || e === 'x' || e === 'U') {
        const n = e === 'u' ? 4 : e === 'x' ? 2 : 8;
        const hex = text.slice(i, i + n);
        if (!/^[0-9a-fA-F]+$/.test(hex) || hex.length !== n) fail(`bad \\${e} escape`);
        out += String.fromCodePoint(parseInt(hex, 16));
        i += n;
      } else if (ESC[e] !== undefined) out += ESC[e];
      else if (e === '\n') continue;
      else out += '\\' + e;
    }
    if (i >= text.length) fail('unterminated string');
    i++;
    return out;
  };
  const value = (): PyValue => {
    ws();
    const c = text[i];
    if (c === undefined) return fail('unexpected end of text');
    if (c === '{') {
      i++;
      const obj: { [k: string]: PyValue } = {};
      ws();
      while (text[i] !== '}') {
        const k = value();
        ws();
        if (text[i] !== ':') fail("expected ':'");
        i++;
        obj[String(k)] = value();
        ws();
        if (text[i] === ',') {
          i++;
          ws();
        } else if (text[i] !== '}') fail("expected ',' or '}'");
      }
      i++;
      return obj;
    }
    if (c === '[' || c === '(') {
      const close = c === '[' ? ']' : ')';
      i++;
      const arr: PyValue[] = [];
      ws();
      while (text[i] !== close) {
        arr.push(value());
        ws();
        if (text[i] === ',') {
          i++;
          ws();
        } else if (text[i] !== close) fail(`expected ',' or '${close}'`);
      }
      i++;
      return arr;
    }
    if (c === '"' || c === "'" || ((c === 'u' || c === 'b') && (text[i + 1] === "'" || text[i + 1] === '"'))) return str();
    const m = /^(?:True|False|None|true|false|null|NaN|-?Infinity|inf|-inf|nan)\b/.exec(text.slice(i, i + 9));
    if (m) {
      i += m[0].length;
      const w = m[0];
      if (w === 'True' || w === 'true') return true;
      if (w === 'False' || w === 'false') return false;
      if (w === 'None' || w === 'null') return null;
      if (w === 'NaN' || w === 'nan') return NaN;
      return w.startsWith('-') ? -Infinity : Infinity;
    }
    const n = /^[-+]?(?:\d[\d_]*\.?\d*(?:[eE][-+]?\d+)?|\.\d+(?:[eE][-+]?\d+)?)L?/.exec(text.slice(i, i + 64));
    if (n && n[0].length > 0) {
      i += n[0].length;
      const v = Number(n[0].replace(/[_L]/g, ''));
      if (Number.isNaN(v)) fail(`bad number '${n[0]}'`);
      return v;
    }
    return fail(`unexpected character '${c}'`);
  };
  const v = value();
  ws();
  if (i < text.length) fail('unexpected text after the value');
  return v;
}
