// The emitted module bundled for the web as a user's app would bundle it: esbuild with stock
// browser settings and no externals, the wasm binaries and the weights file copied beside the
// bundle, the page served as static files and run in headless Chromium; its predictions equal
// Node's. Skipped, with a message saying so, only when /usr/bin/chromium is not installed (CI
// installs it).
import { copyFile, mkdir, readdir, stat, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { build } from 'esbuild';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serveStatic, type StaticServer } from '../../examples/web/serve.ts';
import { Rng } from '../../src/util/random.ts';
import { chromiumAvailable as available, launchChromium } from '../helpers/chromium.ts';
import { compareOutputs } from '../helpers/compare.ts';
import { compileToScratch, type CompiledDir } from './emitted.ts';
import { SMALL_NETS } from './nets.ts';

/** The app: loads the compiled module with the copied weights and wasm files, predicts window.input. */
const APP = `import { load } from '../out/model.js';

try {
  const m = await load({ weights: new URL('./model.weights.bin', location.href), wasmPath: new URL('./wasm/', location.href).href });
  const y = await m.predict(new Float32Array(window.input));
  window.result = { output: Array.from(y), variant: m.info.backend.variant };
} catch (e) {
  window.result = { error: String(e?.stack ?? e) };
}
`;

const PAGE = `<!doctype html>
<meta charset="utf-8">
<script>window.input = INPUT;</script>
<script type="module" src="./app.js"></script>
`;

describe.skipIf(!available)('the emitted module, bundled by esbuild for the browser', () => {
  let out: CompiledDir;
  let server: StaticServer;
  let browser: Browser;
  let web: string;
  let bundleBytes: number;
  const x = (() => {
    const rng = new Rng(5);
    return rng.fill(2 * 16 * 16 * 3, () => rng.normal());
  })();

  beforeAll(async () => {
    out = await compileToScratch(SMALL_NETS.vgg(), { slim: { ratio: 0.4 } });
    web = join(dirname(out.dir), 'web');
    await mkdir(join(web, 'wasm'), { recursive: true });
    await writeFile(join(web, 'entry.js'), APP);
    await writeFile(join(web, 'index.html'), PAGE.replace('INPUT', JSON.stringify(Array.from(x))));
    // Stock settings: browser platform, ESM, nothing marked external.
    const result = await build({
      entryPoints: [join(web, 'entry.js')],
      outfile: join(web, 'app.js'),
      bundle: true,
      platform: 'browser',
      format: 'esm',
      minify: true,
      logLevel: 'silent',
    });
    expect(result.errors).toEqual([]);
    bundleBytes = (await stat(join(web, 'app.js'))).size;
    // The backend's .wasm binaries sit beside its main file (dist/).
    const wasmDir = dirname(createRequire(import.meta.url).resolve('@tensorflow/tfjs-backend-wasm'));
    for (const f of (await readdir(wasmDir)).filter((f) => f.endsWith('.wasm'))) await copyFile(join(wasmDir, f), join(web, 'wasm', f));
    await copyFile(join(out.dir, 'model.weights.bin'), join(web, 'model.weights.bin'));
    server = await serveStatic(web);
    browser = await launchChromium();
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    await out?.cleanup();
  });

  it('bundles with no externals, and the bundle predicts in Chromium what Node predicts', async () => {
    expect(bundleBytes).toBeGreaterThan(0);
    const model = await out.exports.load();
    const expected = (await model.predict(x)) as Float32Array;
    model.dispose();
    const page = await browser.newPage();
    const messages: string[] = [];
    page.on('console', (m) => messages.push(m.text()));
    page.on('pageerror', (e) => messages.push(e.message));
    try {
      await page.goto(`${server.url}/index.html`);
      await page.waitForFunction(() => (window as unknown as { result?: unknown }).result !== undefined, undefined, { timeout: 60_000 });
      const result = (await page.evaluate(() => (window as unknown as { result: unknown }).result)) as {
        output?: number[];
        variant?: string;
        error?: string;
      };
      expect(result.error, messages.join('\n')).toBeUndefined();
      expect(result.variant).toBe('wasm-simd');
      const c = compareOutputs(expected, Float32Array.from(result.output ?? []));
      expect(c.ok, `max |browser - node| = ${c.maxAbsDiff}`).toBe(true);
    } finally {
      await page.close();
    }
  });
});
