// A run the user stopped (Ctrl-C) after it wrote its checkpoint: not an error. main() prints the
// message as it is and exits with 130, the shell's code for a SIGINT stop.
export const EXIT_INTERRUPTED = 130;

export class StoppedByUser extends Error {
  override readonly name = 'StoppedByUser';
}
