// The docs stay true: the DSL reference is what its generator makes of the TSDoc, every command
// output shown in README.md and docs/ is what the command prints, and every command there runs.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { DSL_DOC, dslReference } from '../../scripts/dsl_docs.ts';
import { commandOutputAsync, documentFiles, outputBlocks } from '../../scripts/doc_outputs.ts';
import { checkDocs } from '../../scripts/docs_check.ts';

describe('the docs', () => {
  it('docs/dsl.md is generated from the TSDoc of the DSL (node --import tsx scripts/dsl_docs.ts)', () => {
    expect(readFileSync(DSL_DOC, 'utf8')).toBe(dslReference());
  });

  it('every command output shown is what the command prints (node --import tsx scripts/doc_outputs.ts)', async () => {
    const blocks = documentFiles().flatMap(outputBlocks);
    expect(blocks.length).toBeGreaterThanOrEqual(2);
    for (const block of blocks)
      expect(block.shown, `${block.file}: npx slimc ${block.args.join(' ')}`).toBe(await commandOutputAsync(block.args));
  });

  it('every command of README.md and docs/ runs (node --import tsx scripts/docs_check.ts)', async () => {
    const result = await checkDocs();
    expect(result.failed.map((f) => `${f.file}:${f.line}: ${f.command}\n${f.output}`)).toEqual([]);
    // The set-up's main job and the bundling recipe are among them.
    expect(result.ran.map((r) => r.command)).toContain('npx slimc compile examples/mnist/sparse.slim --prune 0.68 --out out/mnist');
    expect(result.ran.some((r) => r.command.startsWith('npx esbuild'))).toBe(true);
  }, 600_000);
});
