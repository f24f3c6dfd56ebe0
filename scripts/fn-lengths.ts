/**
 * Lists every function (declaration, method, arrow or function expression with a block body) in a
 * tree of .ts files that is longer than a threshold, longest first, and the longest files.
 * Test files (*.test.ts) are skipped. Lengths are in lines, from the line where the function's
 * header starts to the line of its closing brace.
 *
 * How: a small lexer drops comments, strings, template literals and regular expressions, then
 * every `{ ... }` block whose header (the text since the previous `;`, `{` or `}`) reads as a
 * function is measured. Heuristic, not a parser; it is exact for this repository's style.
 *
 *   npx tsx scripts/fn-lengths.ts [dir=src] [minLines=150] [files=5]
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

interface FnSpan {
  file: string;
  name: string;
  start: number;
  lines: number;
}

function listTs(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir)) {
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) out.push(...listTs(path));
    else if (path.endsWith('.ts') && !path.endsWith('.test.ts') && !path.endsWith('.d.ts')) out.push(path);
  }
  return out.sort();
}

/** Replaces comments, strings, templates and regex literals by spaces, keeping newlines. */
function blankLiterals(src: string): string {
  const out: string[] = [];
  let i = 0;
  let lastSignificant = '';
  const blank = (s: string): string => s.replace(/[^\n]/g, ' ');
  while (i < src.length) {
    const c = src[i]!;
    const next = src[i + 1];
    let end = -1;
    if (c === '/' && next === '/') end = src.indexOf('\n', i) === -1 ? src.length : src.indexOf('\n', i);
    else if (c === '/' && next === '*') end = src.indexOf('*/', i + 2) + 2;
    else if (c === '"' || c === "'" || c === '`') end = skipQuoted(src, i, c);
    else if (c === '/' && regexMayStart(lastSignificant, src, i)) end = skipQuoted(src, i, '/');
    if (end > i) {
      out.push(blank(src.slice(i, end)));
      if (c !== '/' || next === undefined || (next !== '/' && next !== '*')) lastSignificant = 'x';
      i = end;
      continue;
    }
    out.push(c);
    if (!/\s/.test(c)) lastSignificant = c;
    i++;
  }
  return out.join('');
}

/** Whether a `/` at `i` starts a regular expression rather than a division. */
function regexMayStart(lastSignificant: string, src: string, i: number): boolean {
  if (/[(,=:[!&|?{};]|^$/.test(lastSignificant)) return true;
  const before = /([A-Za-z_$]+)\s*$/.exec(src.slice(Math.max(0, i - 20), i));
  return before !== null && /^(return|typeof|case|in|of|void|yield|await|throw|else|do)$/.test(before[1]!);
}

/** End index (exclusive) of a quoted literal starting at `from`; templates skip nested `${}`. */
function skipQuoted(src: string, from: number, quote: string): number {
  let i = from + 1;
  while (i < src.length) {
    const c = src[i]!;
    if (c === '\\') { i += 2; continue; }
    if (quote === '/' && c === '[') {
      // A character class: a '/' inside it does not end the literal.
      i++;
      while (i < src.length && src[i] !== ']' && src[i] !== '\n') i += src[i] === '\\' ? 2 : 1;
      i++;
      continue;
    }
    if (c === quote) return i + 1;
    if (quote === '/' && c === '\n') return from + 1;
    if (quote === '`' && c === '$' && src[i + 1] === '{') {
      let depth = 1;
      i += 2;
      while (i < src.length && depth > 0) {
        if (src[i] === '{') depth++;
        else if (src[i] === '}') depth--;
        i++;
      }
      continue;
    }
    i++;
  }
  return src.length;
}

const CONTROL = /^(if|for|while|switch|catch|else|do|try|finally|return|with)\b/;

function functionName(header: string): string | undefined {
  const h = header.replace(/\s+/g, ' ').trim();
  if (h === '' || CONTROL.test(h)) return undefined;
  let m = /function\s*\*?\s*([\w$]*)/.exec(h);
  if (m) return m[1] || '(anonymous function)';
  if (/=>\s*$/.test(h)) {
    m = /([\w$]+)\s*[:=]\s*(?:async\s*)?(?:<[^>]*>\s*)?\(/.exec(h) ?? /([\w$]+)\s*=/.exec(h);
    return m ? m[1]! : '(arrow)';
  }
  m = /^(?:(?:public|private|protected|static|async|override|readonly|get|set)\s+)*\*?\s*([\w$]+)\s*(?:<.*>)?\s*\(.*\)\s*(?::.*)?$/.exec(h);
  if (m && !CONTROL.test(m[1]!) && !/^(class|interface|new)$/.test(m[1]!)) return m[1];
  return undefined;
}

/** A `{` that opens an expression (object/type literal, default value), not a body. */
function isExpressionBrace(header: string): boolean {
  const h = header.trimEnd();
  if (/=>$/.test(h)) return false;
  let depth = 0;
  for (const ch of h) {
    if (ch === '(') depth++;
    else if (ch === ')') depth--;
  }
  return depth > 0 || /[:=,(<|&?[]$/.test(h);
}

export function functionSpans(file: string, text: string): FnSpan[] {
  const src = blankLiterals(text);
  const spans: FnSpan[] = [];
  const stack: { name?: string; start: number; outerHeader?: number }[] = [];
  let headerStart = 0;
  let line = 1;
  const lineAt: number[] = [];
  for (let i = 0; i < src.length; i++) {
    lineAt[i] = line;
    if (src[i] === '\n') line++;
  }
  for (let i = 0; i < src.length; i++) {
    const c = src[i];
    if (c === '{') {
      const header = src.slice(headerStart, i);
      if (isExpressionBrace(header)) {
        // An object literal, a type literal or a default value: the header goes on after it.
        stack.push({ start: lineAt[i]!, outerHeader: headerStart });
        headerStart = i + 1;
        continue;
      }
      const name = functionName(header);
      const firstNonBlank = headerStart + (header.length - header.trimStart().length);
      stack.push({ name, start: lineAt[Math.min(firstNonBlank, i)]! });
      headerStart = i + 1;
    } else if (c === '}') {
      const open = stack.pop();
      if (open?.name) spans.push({ file, name: open.name, start: open.start, lines: lineAt[i]! - open.start + 1 });
      headerStart = open?.outerHeader ?? i + 1;
    } else if (c === ';') headerStart = i + 1;
  }
  return spans;
}

function main(): void {
  const [dir = 'src', minArg = '150', filesArg = '5'] = process.argv.slice(2);
  const min = Number(minArg);
  const files = listTs(dir);
  const spans: FnSpan[] = [];
  const sizes: { file: string; lines: number }[] = [];
  for (const file of files) {
    const text = readFileSync(file, 'utf8');
    sizes.push({ file, lines: text.split('\n').length - (text.endsWith('\n') ? 1 : 0) });
    spans.push(...functionSpans(file, text));
  }
  spans.sort((a, b) => b.lines - a.lines);
  sizes.sort((a, b) => b.lines - a.lines);
  console.log(`functions over ${min} lines in ${dir} (${files.length} files, tests excluded):`);
  const over = spans.filter((s) => s.lines > min);
  for (const s of over) console.log(`  ${s.lines}\t${s.file}:${s.start}\t${s.name}`);
  if (over.length === 0) console.log('  none');
  console.log(`longest function: ${spans[0]?.lines ?? 0} lines (${spans[0]?.file}:${spans[0]?.start} ${spans[0]?.name})`);
  console.log(`longest files:`);
  for (const s of sizes.slice(0, Number(filesArg))) console.log(`  ${s.lines}\t${s.file}`);
}

if (process.argv[1]?.endsWith("fn-lengths.ts")) main();
