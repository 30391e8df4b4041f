// Prints the golden text of test/golden/slim_small.txt (used by slim_golden.test.ts). Run it by
// hand and review the output before committing a new golden file:
//   node --import tsx test/passes/golden_print.ts > test/golden/slim_small.txt
import { printGraph } from '../../src/ir/text/printer.ts';
import { diffBetween, INPUT_POINT } from '../../src/passes/pass_manager.ts';
import { slimGraph } from '../../src/passes/slim.ts';
import { SMALL_MASKS, smallResDense } from '../helpers/small_nets.ts';

export const SECTION = '// ----- diff: input -> prune-channels -----\n';

export function goldenText(): { compactText: string; text: string; compact: ReturnType<typeof slimGraph>['compact'] } {
  const result = slimGraph(smallResDense(), { ratio: 0, masks: SMALL_MASKS });
  const compactText = printGraph(result.compact);
  return { compact: result.compact, compactText, text: compactText + SECTION + diffBetween(result.trace, INPUT_POINT, 'prune-channels') };
}

if (import.meta.url === `file://${process.argv[1]}`) process.stdout.write(goldenText().text);
