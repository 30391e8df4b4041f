// The slimc command line: argument parsing and presentation only; all work is done by the
// library. Exit codes: 0 success, 1 user error (bad input, named), 2 internal error.
import { Command, CommanderError } from 'commander';
import { SlimcError } from '../ir/errors.ts';
import { compileCommand } from './commands/compile.ts';
import { inspectCommand } from './commands/inspect.ts';
import { exportCommand } from './commands/export.ts';
import { optCommand } from './commands/opt.ts';
import { pruneCommand } from './commands/prune.ts';
import { finetuneCommand, slimCommand, trainCommand } from './commands/train.ts';

export const EXIT_OK = 0;
export const EXIT_USER_ERROR = 1;
export const EXIT_INTERNAL_ERROR = 2;

function program(): Command {
  const cli = new Command('slimc')
    .description('A compiler for convolutional networks with Network Slimming pruning passes.')
    .version('0.1.0')
    .option('--verbose', 'print stack traces of errors')
    .showHelpAfterError()
    .exitOverride();
  // Each command lives in src/cli/commands/<name>.ts and is added here.
  cli.addCommand(inspectCommand());
  cli.addCommand(pruneCommand());
  cli.addCommand(compileCommand());
  cli.addCommand(exportCommand());
  cli.addCommand(optCommand());
  cli.addCommand(trainCommand());
  cli.addCommand(finetuneCommand());
  cli.addCommand(slimCommand());
  return cli;
}

/** Runs the CLI on `argv` (without node and script) and returns the exit code. */
export async function main(argv: readonly string[]): Promise<number> {
  const cli = program();
  const verbose = argv.includes('--verbose');
  try {
    await cli.parseAsync([...argv], { from: 'user' });
    return EXIT_OK;
  } catch (e) {
    if (e instanceof CommanderError) {
      // commander has printed the message (or the help) already.
      return e.exitCode === 0 ? EXIT_OK : EXIT_USER_ERROR;
    }
    if (e instanceof SlimcError) {
      process.stderr.write(`slimc: error: ${e.message}\n`);
      if (verbose && e.stack) process.stderr.write(`${e.stack}\n`);
      return EXIT_USER_ERROR;
    }
    const err = e instanceof Error ? e : new Error(String(e));
    process.stderr.write(`slimc: internal error: ${err.message}\n`);
    process.stderr.write(verbose && err.stack ? `${err.stack}\n` : 'Run again with --verbose for the stack trace.\n');
    return EXIT_INTERNAL_ERROR;
  }
}
