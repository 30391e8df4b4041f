// The one way anything from a model (graph, value, weight and file names, doc strings) enters
// emitted code. Models are often someone else's files, so a name is hostile until escaped:
// JSON.stringify alone is not enough, because it leaves U+2028 and U+2029 raw, which JavaScript
// reads as line terminators (ending a `//` comment), and it leaves `*/` (ending a block comment)
// and `</script` (ending an inline script) as they are.
//
// Every form below is printable ASCII: everything else, and `<`, `>` and `*/`, is written as an
// escape that means the same character inside a string literal and is inert inside a comment.

/** Printable ASCII except `<` and `>`; every other UTF-16 unit is escaped. */
const UNSAFE = /[^\x20-\x3b=\x3f-\x7e]/g;

const unicodeEscape = (unit: string) => `\\u${unit.charCodeAt(0).toString(16).padStart(4, '0')}`;

/** JSON text may keep its own line breaks (indentation): JSON.stringify escapes those in strings. */
const UNSAFE_IN_JSON = /[^\n\x20-\x3b=\x3f-\x7e]/g;

/** Escapes the characters that are unsafe anywhere in emitted code, and breaks every star-slash. */
function asciiOnly(text: string, unsafe = UNSAFE): string {
  return text.replace(unsafe, unicodeEscape).replaceAll('*/', '*\\/');
}

/**
 * A JS (and JSON) literal for plain data: strings, numbers, arrays and objects, as JSON.stringify
 * gives them, with every string made safe. Escaping after stringifying is sound because the only
 * places `<`, `>`, star-slash or a non-ASCII unit can occur in JSON text are inside strings, where
 * `\uXXXX` and `\/` denote the same characters.
 */
export function jsLiteral(value: unknown, indent?: number): string {
  const text = JSON.stringify(value, null, indent);
  if (text === undefined) throw new TypeError(`jsLiteral: ${typeof value} has no literal`);
  return asciiOnly(text, UNSAFE_IN_JSON);
}

/** A double-quoted JS string literal denoting exactly `text`. */
export const jsString = (text: string): string => jsLiteral(text);

/** Plain identifiers stay bare in declarations; `__proto__` is one but is quoted to be plain. */
const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

/** A property name for a TS declaration (`readonly NAME: T`): bare when an identifier, else quoted. */
export const tsPropertyName = (name: string): string => (IDENTIFIER.test(name) && name !== '__proto__' ? name : jsString(name));

/**
 * Text for inside a `//` or block comment: line terminators, non-ASCII, `<`, `>` and star-slash
 * escaped, so a comment can neither end early nor close an enclosing script element. Callers
 * quote names they put in comments (formatValue and friends do), so that the text stays readable.
 */
export const commentText = (text: string): string => asciiOnly(text);

/** A name for a comment: bare when it is letters, digits, `_`, `.` and `-`, else a quoted literal. */
export const commentName = (name: string): string => (/^[A-Za-z0-9_.-]+$/.test(name) ? name : jsString(name));
