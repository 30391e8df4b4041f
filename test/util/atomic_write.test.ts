// Atomic writes leave no temporaries behind: those of a run killed between write and rename carry
// its pid, and the next write of the same file removes them while it keeps those of live runs.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { writeFileAtomically } from '../../src/util/atomic_write.ts';

const root = mkdtempSync(join(tmpdir(), 'slimc-atomic-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('writeFileAtomically', () => {
  it("removes a dead run's temporaries of the same file, keeps a live run's and other files'", async () => {
    const dead = spawnSync(process.execPath, ['-e', '0']).pid as number;
    const stale = `.stage.json.${dead}-0a1b2c3d4e5f.tmp`;
    const live = `.stage.json.${process.pid}-0a1b2c3d4e5f.tmp`;
    const other = `.other.json.${dead}-0a1b2c3d4e5f.tmp`;
    for (const name of [stale, live, other]) writeFileSync(join(root, name), 'half');
    await writeFileAtomically(join(root, 'stage.json'), '{}\n', 'the stage record');
    expect(readdirSync(root).sort()).toEqual([other, live, 'stage.json'].sort());
    expect(readFileSync(join(root, 'stage.json'), 'utf8')).toBe('{}\n');
  });
});
