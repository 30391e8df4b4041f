// The Network Slimming options shared by every command that prunes (prune, compile, slim).
import { readFile } from 'node:fs/promises';
import { Command, Option } from 'commander';
import { SlimcError } from '../ir/errors.ts';
import type { Graph } from '../ir/types.ts';
import { describeFsError } from '../util/fs_errors.ts';
import { masksFromJson } from '../passes/select_channels.ts';
import type { SlimOptions } from '../passes/slim.ts';
import { parseNumber } from './common_options.ts';

export interface SlimmingFlags {
  readonly perLayer?: boolean;
  readonly minChannels?: number;
  readonly maxLayerRatio?: number;
  readonly exclude?: string[];
  readonly masks?: string;
  readonly roundChannels?: number;
}

export const parseRatio = parseNumber('--ratio');

/** Adds --per-layer, --min-channels, --max-layer-ratio, --round-channels, --exclude and --masks to a command. */
export function addSlimmingOptions(cmd: Command): Command {
  return cmd
    .option('--per-layer', 'threshold each BN layer by its own |gamma| instead of one global ranking')
    .addOption(new Option('--min-channels <n>', 'keep at least n channels in every BN layer').argParser(parseNumber('--min-channels')))
    .addOption(
      new Option('--max-layer-ratio <f>', 'prune at most this fraction of any layer (the paper uses 0.5 per pass)').argParser(
        parseNumber('--max-layer-ratio'),
      ),
    )
    .addOption(
      new Option(
        '--round-channels <n>',
        'keep a multiple of n channels in every layer that keeps any, adding the next-largest |gamma| (4: slimc vectors, 8: XNNPACK tiles)',
      ).argParser(parseNumber('--round-channels')),
    )
    .option('--exclude <pattern...>', 'BN layers to leave whole, by name or glob (e.g. "layer1.*")')
    .option('--masks <file>', 'explicit channel masks: JSON {"<bn name>": [1,0,...]}; replaces the ratio');
}

/** Slimming options from parsed flags; reads and checks the masks file if one is given. */
export async function slimOptionsFrom(graph: Graph, ratio: number | undefined, flags: SlimmingFlags): Promise<SlimOptions> {
  let masks: SlimOptions['masks'];
  if (flags.masks !== undefined) {
    let text: string;
    try {
      text = await readFile(flags.masks, 'utf8');
    } catch (e) {
      throw new SlimcError(`cannot read the masks file: ${describeFsError(e)}`, flags.masks);
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (e) {
      throw new SlimcError(`is not valid JSON: ${(e as Error).message}`, flags.masks);
    }
    masks = masksFromJson(graph, json, flags.masks);
  } else if (ratio === undefined) {
    throw new SlimcError('give a pruning ratio (--ratio / --prune) or a masks file (--masks)');
  }
  return {
    ratio: ratio ?? 0,
    ...(flags.perLayer ? { perLayer: true } : {}),
    ...(flags.minChannels !== undefined ? { minChannels: flags.minChannels } : {}),
    ...(flags.maxLayerRatio !== undefined ? { maxLayerRatio: flags.maxLayerRatio } : {}),
    ...(flags.exclude ? { exclude: flags.exclude } : {}),
    ...(flags.roundChannels !== undefined ? { roundChannels: flags.roundChannels } : {}),
    ...(masks ? { masks } : {}),
  };
}

/** For commands where pruning is optional (--prune or --masks): the slimming options, or undefined when neither is given. */
export async function optionalSlimOptions(graph: Graph, ratio: number | undefined, flags: SlimmingFlags): Promise<SlimOptions | undefined> {
  return ratio !== undefined || flags.masks !== undefined ? slimOptionsFrom(graph, ratio, flags) : undefined;
}
