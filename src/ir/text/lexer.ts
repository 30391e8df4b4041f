// The lexer of the textual IR: text -> tokens with 1-based line and column. The token forms are
// part of the grammar documented in parser.ts and docs/ir.md.
import { ParseError } from '../errors.ts';

export type TokenKind =
  | 'value' //    %name or %"quoted name"
  | 'weight' //   @name or @"quoted name"
  | 'digest' //   #1a2b3c4d
  | 'word' //     graph, conv2d, f32, same, true, _ ...
  | 'number' //   1, -0.5, 1e-05, -inf
  | 'pair' //     3x3
  | 'string' //   "a graph name"
  | 'punct' //    ( ) { } [ ] , : = ->
  | 'eof';

export interface Token {
  readonly kind: TokenKind;
  /** The name (unquoted) for value/weight/string, the hex digits for a digest, else the text. */
  readonly value: string;
  readonly line: number;
  readonly column: number;
}

/** Characters of an unquoted value or weight name. */
export const NAME_CHAR = /[A-Za-z0-9_.]/;
const WORD_START = /[A-Za-z_]/;
const NUMBER = /^-?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?/;
const PAIR = /^\d+x\d+(?![A-Za-z0-9_.])/;
const PUNCT = ['->', '(', ')', '{', '}', '[', ']', ',', ':', '='];

/** How a token reads in an error message ("'{'", "value %x", "end of input"). */
export function describeToken(t: Token): string {
  switch (t.kind) {
    case 'eof':
      return 'end of input';
    case 'value':
      return `value %${t.value}`;
    case 'weight':
      return `weight @${t.value}`;
    case 'digest':
      return `digest #${t.value}`;
    case 'string':
      return `string ${JSON.stringify(t.value)}`;
    default:
      return `'${t.value}'`;
  }
}

export function tokenize(text: string, file = '<input>'): Token[] {
  const tokens: Token[] = [];
  let pos = 0;
  let line = 1;
  let lineStart = 0;
  const fail = (message: string, at = pos): never => {
    throw new ParseError(message, line, at - lineStart + 1, file);
  };
  const push = (kind: TokenKind, value: string, start: number) => tokens.push({ kind, value, line, column: start - lineStart + 1 });

  /** A JSON-style string literal starting at `start` (a '"'); returns its value and end. */
  const readString = (start: number): [string, number] => {
    let i = start + 1;
    while (i < text.length && text[i] !== '"' && text[i] !== '\n') i += text[i] === '\\' ? 2 : 1;
    if (i >= text.length || text[i] !== '"') fail("unterminated string: expected a closing '\"' on the same line", start);
    try {
      return [JSON.parse(text.slice(start, i + 1)) as string, i + 1];
    } catch {
      return fail('invalid string: quoted names use JSON string escapes (\\" \\\\ \\n \\uXXXX)', start);
    }
  };

  /** A name after a sigil (% or @): plain name characters or a quoted string. */
  const readName = (start: number, what: string): [string, number] => {
    const first = start + 1;
    if (text[first] === '"') return readString(first);
    let i = first;
    while (i < text.length && NAME_CHAR.test(text[i])) i++;
    if (i === first) fail(`expected a ${what} name after '${text[start]}' (letters, digits, '_', '.', or a quoted string)`, start);
    return [text.slice(first, i), i];
  };

  while (pos < text.length) {
    const c = text[pos];
    if (c === '\n') {
      pos++;
      line++;
      lineStart = pos;
      continue;
    }
    if (c === ' ' || c === '\t' || c === '\r') {
      pos++;
      continue;
    }
    if (text.startsWith('//', pos)) {
      while (pos < text.length && text[pos] !== '\n') pos++;
      continue;
    }
    const start = pos;
    const rest = text.slice(pos, pos + 64);
    if (c === '%' || c === '@') {
      const [name, end] = readName(pos, c === '%' ? 'value' : 'weight');
      push(c === '%' ? 'value' : 'weight', name, start);
      pos = end;
    } else if (c === '#') {
      let i = pos + 1;
      while (i < text.length && /[0-9A-Za-z]/.test(text[i])) i++;
      if (i === pos + 1) fail("expected a digest (8 hex digits) after '#'");
      push('digest', text.slice(pos + 1, i), start);
      pos = i;
    } else if (c === '"') {
      const [value, end] = readString(pos);
      push('string', value, start);
      pos = end;
    } else if (PAIR.test(rest)) {
      const m = PAIR.exec(rest)![0];
      push('pair', m, start);
      pos += m.length;
    } else if (rest.startsWith('-inf') && !NAME_CHAR.test(text[pos + 4] ?? '')) {
      push('number', '-inf', start);
      pos += 4;
    } else if (NUMBER.test(rest)) {
      const m = NUMBER.exec(rest)![0];
      if (NAME_CHAR.test(text[pos + m.length] ?? '')) fail(`malformed number '${m}${text[pos + m.length]}'`);
      push('number', m, start);
      pos += m.length;
    } else if (WORD_START.test(c)) {
      let i = pos + 1;
      while (i < text.length && NAME_CHAR.test(text[i])) i++;
      push('word', text.slice(pos, i), start);
      pos = i;
    } else {
      const p = PUNCT.find((q) => text.startsWith(q, pos));
      if (p === undefined) fail(`unexpected character ${JSON.stringify(c)}`);
      push('punct', p!, start);
      pos += p!.length;
    }
  }
  push('eof', '', pos);
  return tokens;
}
