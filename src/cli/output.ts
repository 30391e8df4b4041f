// Where a command's output goes: its report on stdout (one JSON object with --json, else text),
// and what it prints beside the report (IR printouts, diffs) where it does not spoil that JSON.
import { Option } from 'commander';

/** --json, as every command with a report has it: writeReport and sideOutput read its value. */
export const jsonOption = (): Option => new Option('--json', 'print the report as one JSON object on stdout instead of text');

/** Writes text beside the report: to stdout, or to stderr when stdout carries the JSON report. */
export const sideOutput =
  (json: boolean | undefined) =>
  (text: string): void => {
    (json ? process.stderr : process.stdout).write(text.endsWith('\n') ? text : `${text}\n`);
  };

/** Writes the report on stdout: `report` as one line of JSON with --json, else the text `text()` makes. */
export function writeReport(json: boolean | undefined, report: object, text: () => string): void {
  process.stdout.write(json ? `${JSON.stringify(report)}\n` : text());
}
