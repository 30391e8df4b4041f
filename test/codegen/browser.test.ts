// The emitted module in headless Chromium: the example page (examples/web/, an import map and no
// bundler) loads it from a local static server, and its predictions equal Node's. Skipped, with
// a message saying so, only when /usr/bin/chromium is not installed (CI installs it).
import { relative, resolve } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serveStatic, type StaticServer } from '../../examples/web/serve.ts';
import { Rng } from '../../src/util/random.ts';
import { chromiumAvailable as available, launchChromium } from '../helpers/chromium.ts';
import { compareOutputs } from '../helpers/compare.ts';
import { compileToScratch, type CompiledDir } from './emitted.ts';
import { SMALL_NETS } from './nets.ts';

const ROOT = resolve(import.meta.dirname, '../..');

interface PageResult {
  readonly output?: number[];
  readonly info?: {
    readonly backend: { readonly variant: string; readonly threads: number; readonly note?: string };
    readonly runtime: { readonly name: string; readonly note?: string };
  };
  readonly isolated?: boolean;
  readonly error?: string;
}

describe.skipIf(!available)('the emitted module in headless Chromium', () => {
  let out: CompiledDir;
  let server: StaticServer;
  let browser: Browser;
  const x = (() => {
    const rng = new Rng(3);
    return rng.fill(2 * 16 * 16 * 3, () => rng.normal());
  })();

  beforeAll(async () => {
    out = await compileToScratch(SMALL_NETS.vgg(), { slim: { ratio: 0.4 } });
    server = await serveStatic(ROOT);
    browser = await launchChromium();
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    await out?.cleanup();
  });

  /** Opens the example page on the compiled module and predicts `x` there. */
  async function predictInPage(threads: number): Promise<PageResult> {
    const page = await browser.newPage();
    const messages: string[] = [];
    page.on('console', (m) => messages.push(m.text()));
    page.on('pageerror', (e) => messages.push(e.message));
    try {
      const modelUrl = `/${relative(ROOT, out.dir)}/model.js`;
      await page.goto(`${server.url}/examples/web/model.html?model=${encodeURIComponent(modelUrl)}&threads=${threads}`);
      await page.waitForFunction(
        () => {
          const s = (window as unknown as { slimc?: { ready?: boolean; error?: string } }).slimc;
          return s?.ready === true || s?.error !== undefined;
        },
        undefined,
        { timeout: 60_000 },
      );
      return await page.evaluate(async (input) => {
        const s = (
          window as unknown as {
            slimc: { error?: string; model: { info: PageResult['info']; predict(x: Float32Array): Promise<Float32Array> } };
          }
        ).slimc;
        if (s.error !== undefined) return { error: s.error };
        const y = await s.model.predict(new Float32Array(input));
        return { output: Array.from(y), info: s.model.info, isolated: globalThis.crossOriginIsolated };
      }, Array.from(x));
    } catch (e) {
      throw new Error(`${(e as Error).message}\npage console:\n${messages.join('\n')}`);
    } finally {
      await page.close();
    }
  }

  it('loads through the import map and predicts what Node predicts (batch 2)', async () => {
    const model = await out.exports.load();
    const expected = (await model.predict(x)) as Float32Array;
    model.dispose();
    const result = await predictInPage(1);
    expect(result.error).toBeUndefined();
    expect(result.isolated).toBe(true);
    expect(result.info?.backend).toMatchObject({ variant: 'wasm-simd', threads: 1 });
    // The plan runs, its channel copies in wasm too (no note of a JS fallback), its convs on the
    // fused multiply-add build (Chromium has relaxed SIMD), within tolerance of Node's.
    expect(result.info?.runtime).toEqual({ name: 'plan', convolutions: 'slimc', winograd: true, fma: true });
    const c = compareOutputs(expected, Float32Array.from(result.output ?? []));
    expect(c.ok, `max |browser - node| = ${c.maxAbsDiff}`).toBe(true);
  });

  it('asked for threads, reports the variant that really runs', async () => {
    const result = await predictInPage(2);
    expect(result.error).toBeUndefined();
    const backend = result.info?.backend;
    // Chromium gives threads to an isolated page; the backend then takes at most half the cores.
    if (backend?.variant === 'wasm-threaded-simd') expect(backend.threads).toBeGreaterThanOrEqual(2);
    else expect(backend).toMatchObject({ variant: 'wasm-simd', threads: 1, note: expect.stringMatching(/half the logical cores/) });
  });
});
