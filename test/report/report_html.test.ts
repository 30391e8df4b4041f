// report.html as text: self-contained (no script, no external resource), every section present,
// and a model's names shown as text, never as markup.
import { describe, expect, it } from 'vitest';
import { compileGraph } from '../../src/compiler/compile.ts';
import { slimGraph } from '../../src/passes/slim.ts';
import { keyedDiff } from '../../src/report/pass_diffs.ts';
import { reportHtml } from '../../src/report/report_html.ts';
import { compileReportInput, pruneReportInput } from '../../src/report/report_input.ts';
import { verify } from '../../src/ir/verify.ts';
import { SMALL_NETS } from '../codegen/nets.ts';
import { HOSTILE, withHostileNames } from './hostile_names.ts';

const escaped = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

describe('report.html', () => {
  it("shows markup in a model's names as text (graph, BN and value names)", () => {
    const graph = withHostileNames(SMALL_NETS.vgg());
    verify(graph);
    const html = reportHtml(
      compileReportInput(compileGraph(graph, { slim: { ratio: 0.5 } }), graph, { check: null, latency: null, unprunedModuleBytes: null }),
    );
    expect(html).not.toMatch(/<script/i);
    expect(html).not.toMatch(/<img/i);
    expect(html).not.toContain('onmouseover="');
    expect(html).toContain(escaped(HOSTILE.bn));
    expect(html).toContain(escaped(HOSTILE.graph));
  });

  it('is one file that loads nothing: no script, no link, no url() but local references, a CSP that forbids them', () => {
    const graph = SMALL_NETS['resnet-postact']();
    const html = reportHtml(
      compileReportInput(compileGraph(graph, { slim: { ratio: 0.4 } }), graph, { check: null, latency: null, unprunedModuleBytes: null }),
    );
    expect(html).not.toMatch(/<script|<link|<iframe|url\((?!#)|@import|src=/i);
    expect(html).toContain(`content="default-src 'none'`);
    // The network drawing shows the residual adds and routes their skip arcs beside the chain.
    expect(html).toMatch(/class="node add/);
    expect(html).toMatch(/class="edge skip"/);
    for (const id of ['summary', 'gamma', 'channels', 'network', 'passes', 'check']) expect(html).toContain(`<section id="${id}">`);
    // Lowering passes are a group of their own, apart from the slimming passes.
    expect(html.indexOf('<h3>Network Slimming</h3>')).toBeLessThan(html.indexOf('<h3>Lowering</h3>'));
    expect(html).toContain('pass-fold-batch-norm');
  });

  it('draws DenseNet concats, and stays small', () => {
    const graph = SMALL_NETS.densenet();
    const html = reportHtml(
      compileReportInput(compileGraph(graph, { slim: { ratio: 0.5 } }), graph, { check: null, latency: null, unprunedModuleBytes: null }),
    );
    expect(html).toMatch(/class="node concat/);
    expect(new TextEncoder().encode(html).length).toBeLessThan(2 * 1024 * 1024);
  });

  it('from prune: no module, so no lowering and no check, but the same pictures', () => {
    const graph = SMALL_NETS.vgg();
    const html = reportHtml(pruneReportInput(graph, slimGraph(graph, { ratio: 0.5 })));
    expect(html).toContain('slimc prune');
    expect(html).not.toContain('<h3>Lowering</h3>');
    expect(html).toContain('prune writes no module');
    expect(html.match(/<svg/g)?.length).toBe(3);
  });

  it('falls back, for passes that rewrite most lines, to a diff keyed by what each line defines', () => {
    const before = 'graph g(%x) -> (%b) {\n  @w : f32[2] #00000001\n  %a = relu %x : f32[1,2]\n  %b = relu %a : f32[1,2]\n}\n';
    const after = 'graph g(%x) -> (%c) {\n  @w : f32[2] #00000002\n  %a = relu %x : f32[1,2]\n  %c = relu %a : f32[1,2]\n}\n';
    const lines = keyedDiff(before, after, 'before p', 'after p').split('\n');
    expect(lines.slice(0, 2)).toEqual(['--- before p', '+++ after p']);
    expect(lines.filter((l) => /^[-+] /.test(l))).toEqual([
      '-  @w : f32[2] #00000001',
      '+  @w : f32[2] #00000002',
      '-  %b = relu %a : f32[1,2]',
      '+  %c = relu %a : f32[1,2]',
    ]);
  });
});
