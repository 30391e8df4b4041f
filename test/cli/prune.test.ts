// `slimc prune` end to end, in a real subprocess: files written, report, exit codes, and
// nothing written when the input is bad.
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runSlimc } from '../helpers/cli.ts';

const MODEL = new URL('../fixtures/models/sparse_resnet20.ts', import.meta.url).pathname;

describe('slimc prune', () => {
  const dir = mkdtempSync(join(tmpdir(), 'slimc-prune-'));

  it('writes the compact IR and weights, which load back with the reported size', async () => {
    const out = join(dir, 'r20.slim');
    const pruned = await runSlimc('prune', MODEL, '--ratio', '0.5', '-o', out, '--json');
    expect(pruned.stderr).toBe('');
    expect(pruned.code).toBe(0);
    const report = JSON.parse(pruned.stdout);
    expect(report.after.params).toBeLessThan(report.before.params);
    expect(report.after.flops).toBe(2 * report.after.macs);
    expect(report.channels.find((c: { name: string }) => c.name === 'bn1')).toMatchObject({ before: 16 });
    const inspected = await runSlimc('inspect', out, '--json');
    expect(inspected.code).toBe(0);
    expect(JSON.parse(inspected.stdout).params).toBe(report.after.params);
  });

  it('--round-channels keeps a multiple of N channels in every layer that keeps any, and says which it raised', async () => {
    const r = await runSlimc('prune', MODEL, '--ratio', '0.5', '--round-channels', '4', '-o', join(dir, 'round.slim'), '--json');
    expect(r.code).toBe(0);
    const channels: { selected: number; heldBy?: string }[] = JSON.parse(r.stdout).channels;
    expect(channels.every((c) => c.selected % 4 === 0)).toBe(true);
    expect(channels.some((c) => c.heldBy === 'round-channels')).toBe(true);
  });

  it('loads a user model that imports the DSL as slimc/dsl', async () => {
    const r = await runSlimc('inspect', new URL('../fixtures/models/package_import.ts', import.meta.url).pathname, '--json');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ name: 'tiny-resnet', params: 5274 });
  });

  it('prints the IR diff and the text report', async () => {
    const html = join(dir, 'report.html');
    const r = await runSlimc('prune', MODEL, '--ratio', '0.3', '--diff', '--report', html);
    expect(r.code).toBe(0);
    // --report: the HTML report, with the threshold the text report states.
    const threshold = /global \|gamma\| threshold ([\d.e-]+)/.exec(r.stdout)?.[1];
    expect(readFileSync(html, 'utf8')).toContain(`Global threshold ${threshold} (ratio 0.3)`);
    expect(r.stdout).toMatch(/^--- input$/m);
    expect(r.stdout).toMatch(/^\+\+\+ prune-channels$/m);
    expect(r.stdout).toMatch(/global \|gamma\| threshold/);
  });

  it('rejects bad input with exit code 1, a message naming the place, and writes nothing', async () => {
    const out = join(dir, 'bad', 'never.slim');
    const masks = join(dir, 'masks.json');
    writeFileSync(masks, JSON.stringify({ 'no.such.bn': [1, 0] }));
    const cases: [string[], RegExp][] = [
      [['--ratio', '1.5'], /--ratio: the pruning ratio must be in \[0, 1\), got 1\.5/],
      [['--masks', masks], /masks\.json: names BatchNorm "no\.such\.bn"/],
      [['--ratio', 'abc'], /--ratio: expects a number/],
      [['--ratio', '0.4', '--max-layer-ratio', '2'], /--max-layer-ratio/],
      [['--ratio', '0.4', '--round-channels', '0'], /--round-channels: the channel rounding must be a whole number from 1 to 64, got 0/],
    ];
    for (const [args, message] of cases) {
      const r = await runSlimc('prune', MODEL, ...args, '-o', out);
      expect(r.code, args.join(' ')).toBe(1);
      expect(r.stderr).toMatch(message);
      expect(r.stderr).not.toMatch(/\n\s+at /);
    }
    const noBn = await runSlimc('prune', new URL('../fixtures/models/no_batchnorm.ts', import.meta.url).pathname, '--ratio', '0.5');
    expect(noBn.code).toBe(1);
    expect(noBn.stderr).toMatch(/no BatchNorm layer/);
    const missing = await runSlimc('prune', join(dir, 'missing.ts'), '--ratio', '0.5');
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/missing\.ts/);
    expect(readdirSync(dir).filter((f) => f.startsWith('never') || f.startsWith('.'))).toEqual([]);
  });
});
