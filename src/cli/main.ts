// The slimc command line: argument parsing and presentation only; all work is done by the
// library. Exit codes: 0 success, 1 user error (bad input, named), 2 internal error.
//
// Start-up is kept short: only the command being run is loaded (see command_index.ts); help and
// version need none of them.
import { createRequire } from 'node:module';
import { Command, CommanderError } from 'commander';
import { SlimcError } from '../ir/errors.ts';
import { EXIT_INTERRUPTED, StoppedByUser } from './interrupted.ts';
import { COMMANDS, examplesText, type CommandEntry } from './command_index.ts';

export const EXIT_OK = 0;
export const EXIT_USER_ERROR = 1;
export const EXIT_INTERNAL_ERROR = 2;

/** slimc's version, from its package.json (two levels up from src/cli/ and from dist/cli/). */
const VERSION = (createRequire(import.meta.url)('../../package.json') as { version: string }).version;

const TOP_EXAMPLES = [
  'npx slimc compile examples/mnist/sparse.slim --prune 0.68 --out out/mnist',
  'npx slimc inspect examples/vgg19.ts --no-ir',
  'npx slimc compile --help',
];

/**
 * The program with every command named, described and given its argument from the table, and
 * `loaded` (the command run, if any) also given its options and action. Commands inherit the
 * program's settings: help after an error, and errors thrown to main() instead of exiting.
 */
async function program(loaded: CommandEntry | null): Promise<Command> {
  const cli = new Command('slimc')
    .description('A compiler for convolutional networks with Network Slimming pruning passes.')
    .version(VERSION)
    .option('--verbose', 'print stack traces of errors')
    .showHelpAfterError()
    .exitOverride()
    .addHelpText('after', examplesText(TOP_EXAMPLES));
  for (const entry of COMMANDS) {
    const cmd = cli.command(entry.name).argument(entry.argument.name, entry.argument.help).description(entry.description);
    if (loaded === entry) (await entry.load())(cmd).addHelpText('after', examplesText(entry.examples));
  }
  return cli;
}

/** The command `argv` runs (`slimc [--verbose] NAME ...` or `slimc help NAME`), if any. */
function commandNamed(argv: readonly string[]): CommandEntry | null {
  const words = argv.filter((a) => !a.startsWith('-'));
  const name = words[0] === 'help' ? words[1] : words[0];
  return COMMANDS.find((c) => c.name === name) ?? null;
}

/** Runs the CLI on `argv` (without node and script) and returns the exit code. */
export async function main(argv: readonly string[]): Promise<number> {
  const verbose = argv.includes('--verbose');
  try {
    const entry = commandNamed(argv);
    const cli = await program(entry);
    await cli.parseAsync([...argv], { from: 'user' });
    return EXIT_OK;
  } catch (e) {
    if (e instanceof CommanderError) {
      // commander has printed the message (or the help) already.
      return e.exitCode === 0 ? EXIT_OK : EXIT_USER_ERROR;
    }
    if (e instanceof StoppedByUser) {
      process.stderr.write(`slimc: ${e.message}\n`);
      return EXIT_INTERRUPTED;
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
