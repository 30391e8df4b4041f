// Option values that several commands read the same way.
import { SlimcError } from '../ir/errors.ts';

/** The help line of --weights, which every command that reads a model has. */
export const WEIGHTS_HELP = 'weights file for the model';

/** A commander argParser for a number option: anything else is an error naming the flag. */
export const parseNumber =
  (flag: string) =>
  (value: string): number => {
    const n = Number(value);
    if (value.trim() === '' || !Number.isFinite(n)) throw new SlimcError(`expects a number, got "${value}"`, flag);
    return n;
  };

/** --print-after: 'all', or comma-separated pass names (checked by the pass manager). */
export const printAfterFrom = (flag: string | undefined): 'all' | string[] | undefined =>
  flag === undefined ? undefined : flag === 'all' ? 'all' : flag.split(',');
