// The commands of the CLI as a light table: name, one-line description, argument, examples,
// and how to load the command's module. `slimc --help` lists commands from this table without
// loading any of them (their modules pull in the compiler, tfjs and the trainer), and
// `slimc <command>` loads only the module of that command, which adds the command's options and
// action to the command main.ts makes from this table.
import type { Command } from 'commander';

export interface CommandEntry {
  readonly name: string;
  /** The command's one argument (`<model>`) and its help line. */
  readonly argument: { readonly name: string; readonly help: string };
  readonly description: string;
  /** Two or three command lines shown at the end of the command's --help. */
  readonly examples: readonly string[];
  /** Loads the command's module: what adds its options and action to the command. */
  readonly load: () => Promise<(cmd: Command) => Command>;
}

/** The models every command but the training ones reads (load_model.ts). */
const MODEL_ARGUMENT = { name: '<model>', help: 'a model: .ts/.js module (DSL), .slim textual IR or .onnx' };
/** What train and slim read. */
const TRAINABLE_MODEL_ARGUMENT = { name: '<model>', help: 'a model: .ts/.js module (DSL) or .slim textual IR' };

export const COMMANDS: readonly CommandEntry[] = [
  {
    name: 'inspect',
    argument: MODEL_ARGUMENT,
    description: "print a model's IR and a per-layer table of shapes, parameters and MACs",
    examples: [
      'npx slimc inspect examples/vgg19.ts --no-ir',
      'npx slimc inspect examples/mnist/sparse.slim --json',
      'npx slimc inspect model.onnx',
    ],
    load: async () => (await import('./commands/inspect.ts')).inspectCommand,
  },
  {
    name: 'prune',
    argument: MODEL_ARGUMENT,
    description: 'prune a model by Network Slimming and write the compact IR (.slim + .weights.bin)',
    examples: [
      'npx slimc prune examples/mnist/sparse.slim --ratio 0.68 -o out/pruned.slim',
      'npx slimc prune examples/mnist/sparse.slim --ratio 0.5 --print-after all --diff',
      'npx slimc prune model.onnx --ratio 0.5 --per-layer --min-channels 2 -o pruned.slim',
    ],
    load: async () => (await import('./commands/prune.ts')).pruneCommand,
  },
  {
    name: 'compile',
    argument: MODEL_ARGUMENT,
    description: 'compile a model (optionally pruned by Network Slimming) to an ES module for TensorFlow.js wasm',
    examples: [
      'npx slimc compile examples/mnist/sparse.slim --prune 0.68 --out out/mnist',
      'npx slimc compile examples/vgg19.ts --out out/vgg19 --json',
      'npx slimc compile model.onnx --prune 0.5 --out out/model --print-after all',
    ],
    load: async () => (await import('./commands/compile.ts')).compileCommand,
  },
  {
    name: 'export',
    argument: MODEL_ARGUMENT,
    description: 'write a model as NCHW ONNX for any ONNX runtime, optionally pruned first',
    examples: [
      'npx slimc export examples/mnist/sparse.slim --prune 0.5 -o pruned.onnx',
      'npx slimc export model.onnx --prune 0.5 -o pruned.onnx',
    ],
    load: async () => (await import('./commands/export.ts')).exportCommand,
  },
  {
    name: 'opt',
    argument: MODEL_ARGUMENT,
    description: 'print the IR of a model after the named passes',
    examples: [
      'npx slimc opt examples/mnist/sparse.slim --passes fold-batch-norm,fuse-activations',
      'npx slimc opt examples/mnist/sparse.slim --passes mask-channels,prune-channels --prune 0.5',
    ],
    load: async () => (await import('./commands/opt.ts')).optCommand,
  },
  {
    name: 'train',
    argument: TRAINABLE_MODEL_ARGUMENT,
    description: 'train a model on real data, with the L1 sparsity penalty on BN scale factors (Network Slimming)',
    examples: [
      'npx slimc train examples/mnist/model.ts --data mnist --sparsity 5e-3 --epochs 6 -o ckpt/',
      'npx slimc train examples/mnist/model.ts --data mnist --epochs 6 -o ckpt/ --resume',
      'npx slimc train model.ts --data data.ts --max-steps 20 -o ckpt/',
    ],
    load: async () => (await import('./commands/train.ts')).trainCommand,
  },
  {
    name: 'finetune',
    argument: { name: '<pruned>', help: 'the pruned model: .slim (with its .weights.bin) or a module' },
    description: 'fine-tune a pruned model from its weights (plain training, no sparsity penalty)',
    examples: [
      'npx slimc finetune out/pruned.slim --data mnist --epochs 4 -o tuned/',
      'npx slimc finetune out/pruned.slim --data mnist --lr 0.01 --epochs 2 -o tuned/',
    ],
    load: async () => (await import('./commands/train.ts')).finetuneCommand,
  },
  {
    name: 'slim',
    argument: TRAINABLE_MODEL_ARGUMENT,
    description: 'the Network Slimming cycle: sparsity training, pruning, fine-tuning, repeated --passes times',
    examples: [
      'npx slimc slim examples/mnist/model.ts --data mnist --ratio 0.5 --passes 2 -o slim/',
      'npx slimc slim examples/mnist/model.ts --data mnist --ratio 0.68 --epochs 6 --sparsity 5e-3 -o slim/',
    ],
    load: async () => (await import('./commands/train.ts')).slimCommand,
  },
];

/** The examples block that ends a --help text. */
export const examplesText = (examples: readonly string[]): string => `\nExamples:\n${examples.map((e) => `  $ ${e}`).join('\n')}\n`;
