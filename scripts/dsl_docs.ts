// Writes docs/dsl.md, the DSL reference, from the TSDoc of src/frontends/dsl.ts: every exported
// function (signature, description, example) and every exported option type (each field with
// its comment). `--check` compares instead of writing and exits 1 when the file is stale;
// test/docs/dsl_docs.test.ts does the same in CI, so the reference cannot drift from the code.
//
//   node --import tsx scripts/dsl_docs.ts [--check]
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
export const DSL_SOURCE = `${ROOT}src/frontends/dsl.ts`;
export const DSL_DOC = `${ROOT}docs/dsl.md`;

interface Doc {
  readonly text: string;
  readonly examples: readonly string[];
  readonly internal: boolean;
}

const commentText = (c: string | ts.NodeArray<ts.JSDocComment> | undefined): string =>
  typeof c === 'string' ? c : (c ?? []).map((part) => part.text).join('');

function docOf(node: ts.Node): Doc {
  const docs = ts.getJSDocCommentsAndTags(node).filter((d): d is ts.JSDoc => ts.isJSDoc(d));
  const doc = docs.at(-1);
  const tags = doc?.tags ?? [];
  return {
    text: commentText(doc?.comment).trim(),
    examples: tags.filter((t) => t.tagName.text === 'example').map((t) => commentText(t.comment).trim()),
    internal: tags.some((t) => t.tagName.text === 'internal'),
  };
}

const isExported = (node: ts.Node) =>
  ts.canHaveModifiers(node) && (ts.getModifiers(node) ?? []).some((m) => m.kind === ts.SyntaxKind.ExportKeyword);

/** The declaration as code, without its body and comments. */
function signature(node: ts.FunctionDeclaration, source: ts.SourceFile): string {
  const text = source.text.slice(node.getStart(source), node.body ? node.body.getStart(source) : node.end).trim();
  return `${text.replace(/^export\s+/, '').replace(/\s+/g, ' ')};`;
}

function section(title: string, body: string[]): string {
  return [`## ${title}`, '', ...body].join('\n');
}

export function dslReference(): string {
  const source = ts.createSourceFile(DSL_SOURCE, readFileSync(DSL_SOURCE, 'utf8'), ts.ScriptTarget.ES2022, true);
  const functions: string[] = [];
  const types: string[] = [];
  const missing: string[] = [];
  for (const statement of source.statements) {
    if (!isExported(statement)) continue;
    const doc = docOf(statement);
    if (doc.internal) continue;
    if (ts.isFunctionDeclaration(statement) && statement.name) {
      const name = statement.name.text;
      if (!doc.text || doc.examples.length === 0) missing.push(name);
      const example = doc.examples.map((e) => ['```ts', e, '```'].join('\n'));
      functions.push(section(`\`${name}\``, ['```ts', signature(statement, source), '```', '', doc.text, '', ...example, '']));
    } else if (ts.isInterfaceDeclaration(statement)) {
      const name = statement.name.text;
      if (!doc.text) missing.push(name);
      const rows = statement.members.filter(ts.isPropertySignature).map((m) => {
        const type = m.type ? m.type.getText(source).replace(/\s+/g, ' ').replace(/\|/g, '\\|') : '';
        return `| \`${m.name.getText(source)}${m.questionToken ? '?' : ''}\` | \`${type}\` | ${docOf(m).text.replace(/\s+/g, ' ')} |`;
      });
      types.push(section(`\`${name}\``, [doc.text, '', '| field | type | meaning |', '|---|---|---|', ...rows, '']));
    } else if (ts.isTypeAliasDeclaration(statement)) {
      const name = statement.name.text;
      if (!doc.text) missing.push(name);
      types.push(
        section(`\`${name}\``, [
          '```ts',
          `type ${name} = ${statement.type.getText(source).replace(/\s+/g, ' ')};`,
          '```',
          '',
          doc.text,
          '',
        ]),
      );
    }
  }
  if (missing.length > 0)
    throw new Error(`${DSL_SOURCE}: give these exports a TSDoc comment (functions also an @example): ${missing.join(', ')}`);
  const header = [
    '# The DSL reference',
    '',
    '<!-- Generated from the TSDoc of src/frontends/dsl.ts by scripts/dsl_docs.ts; do not edit. -->',
    '',
    'A model file imports these from `slimc/dsl` and default-exports a graph (or a function returning',
    'one). Values carry their rank in their type: conv2d and pooling take and give NHWC values',
    '(`Value<4>`), dense takes `Value<2>`, and flatten moves between them, so `dense(conv2d(...))` does',
    'not compile. Layers are named automatically (`conv1`, `bn1`, ..., prefixed inside `block`)',
    'unless given a `name`. Weights are initialised from a seed (`ModelSpec.seed`, default 1), so a',
    'model is the same on every machine.',
    '',
    '```ts',
    "import { convBnRelu, dense, flatten, maxPool, model } from 'slimc/dsl';",
    '',
    "export default () => model('digits', { input: [28, 28, 1] }, (x) => dense(flatten(maxPool(convBnRelu(x, 16))), 10));",
    '```',
    '',
  ];
  return (
    [...header, '# Functions', '', ...functions, '# Types', '', ...types]
      .join('\n')
      .replace(/\n{3,}/g, '\n\n')
      .trimEnd() + '\n'
  );
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const text = dslReference();
  if (process.argv.includes('--check')) {
    const current = readFileSync(DSL_DOC, 'utf8');
    if (current !== text) {
      process.stderr.write('docs/dsl.md is stale: run node --import tsx scripts/dsl_docs.ts\n');
      process.exit(1);
    }
  } else {
    writeFileSync(DSL_DOC, text);
  }
}
