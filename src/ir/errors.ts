// Errors a user can act on. Each names the place (a node, a line, a file) and says what is
// wrong; the CLI prints the message without a stack trace and exits with code 1.

export class SlimcError extends Error {
  override readonly name: string = 'SlimcError';
  constructor(
    message: string,
    /** Where the problem is: a node (`%conv1`), a file (`model.slim:12:5`), a layer name. */
    readonly where?: string,
  ) {
    super(where ? `${where}: ${message}` : message);
  }
}

/** A malformed or inconsistent graph (verifier, shape rules). */
export class GraphError extends SlimcError {
  override readonly name = 'GraphError';
}

/** A syntax or reference error in the textual IR, with line and column. */
export class ParseError extends SlimcError {
  override readonly name = 'ParseError';
  constructor(
    message: string,
    readonly line: number,
    readonly column: number,
    readonly file = '<input>',
  ) {
    super(message, `${file}:${line}:${column}`);
  }
}

/** An op the current stage cannot handle yet: names the op and the node. */
export class UnsupportedError extends SlimcError {
  override readonly name = 'UnsupportedError';
}
