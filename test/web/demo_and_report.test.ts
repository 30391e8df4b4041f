// report.html and the web demo in headless Chromium. The demo's two MNIST modules are built from
// examples/mnist/sparse.slim as examples/web/build.ts builds them; the pruned one's report.html is
// the report under test (opened from disk, as a user opens it). A screenshot of it is saved to
// tmp/artifacts/ (not committed).
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildDemoModels } from '../../examples/web/build.ts';
import { serveStatic, type StaticServer } from '../../examples/web/serve.ts';
import type { CompileReport } from '../../src/compiler/compile.ts';
import { compileGraph } from '../../src/compiler/compile.ts';
import { reportHtml } from '../../src/report/report_html.ts';
import { compileReportInput } from '../../src/report/report_input.ts';
import { scratchDir } from '../codegen/emitted.ts';
import { SMALL_NETS } from '../codegen/nets.ts';
import { importEmittedModule } from '../../src/codegen/check.ts';
import { WEIGHTS_FILE } from '../../src/codegen/module_source.ts';
import { MNIST_MEAN, MNIST_STD } from '../../src/train/mnist.ts';
import { chromiumAvailable, launchChromium } from '../helpers/chromium.ts';
import { HOSTILE, withHostileNames } from '../report/hostile_names.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const ARTIFACTS = join(ROOT, 'tmp/artifacts');

interface DemoState {
  readonly ready: boolean;
  readonly error?: string;
  readonly predictions: number;
  readonly isolated?: boolean;
  readonly backend?: { readonly variant: string; readonly simd: boolean; readonly threads: number };
  readonly last?: {
    readonly label: number | null;
    readonly full: { readonly predicted: number };
    readonly pruned: { readonly predicted: number };
  };
}

/** A page that records its errors and every request it makes. */
async function watchedPage(browser: Browser): Promise<{ page: Page; errors: string[]; requests: string[] }> {
  const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
  const errors: string[] = [];
  const requests: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('dialog', (d) => {
    errors.push(`dialog: ${d.message()}`);
    void d.dismiss();
  });
  page.on('request', (r) => requests.push(r.url()));
  return { page, errors, requests };
}

describe.skipIf(!chromiumAvailable)('report.html and the web demo in headless Chromium', () => {
  let scratch: string;
  let models: { full: string; pruned: string };
  let report: CompileReport;
  let server: StaticServer;
  let browser: Browser;

  beforeAll(async () => {
    scratch = await scratchDir('web');
    models = await buildDemoModels(scratch, { bench: { runs: 30, warmup: 5 } });
    report = JSON.parse(await readFile(join(models.pruned, 'report.json'), 'utf8')) as CompileReport;
    server = await serveStatic(ROOT);
    browser = await launchChromium();
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    if (scratch) await rm(scratch, { recursive: true, force: true });
  });

  it('report.html opens from disk, loads nothing, and shows the pictures, every BN with its kept count, the threshold and the check', async () => {
    const { page, errors, requests } = await watchedPage(browser);
    const url = pathToFileURL(join(models.pruned, 'report.html')).href;
    await page.goto(url);
    expect(errors).toEqual([]);
    expect(requests.filter((r) => r !== url)).toEqual([]);

    const pictures = await page
      .locator('svg')
      .evaluateAll((svgs) => svgs.filter((s) => s.getBoundingClientRect().width > 100 && s.getBoundingClientRect().height > 100).length);
    expect(pictures).toBeGreaterThanOrEqual(2);

    // Each BN layer's name and its kept count share a line: same baseline in the drawing.
    const rows = await page.locator('g.bn-row').evaluateAll((gs) =>
      gs.map((g) => {
        const box = (sel: string) => (g.querySelector(sel) as SVGGraphicsElement).getBoundingClientRect();
        const [name, count] = [box('.bn-name'), box('.bn-count')];
        return {
          name: g.querySelector('.bn-name')?.textContent,
          count: g.querySelector('.bn-count')?.textContent,
          dy: Math.abs(name.top + name.height / 2 - (count.top + count.height / 2)),
          nameRight: name.right,
          countLeft: count.left,
        };
      }),
    );
    expect(report.channels.length).toBe(6);
    expect(rows.map((r) => r.name)).toEqual(report.channels.map((c) => c.name));
    const slim = JSON.parse(await readFile(join(models.pruned, 'report.json'), 'utf8')) as CompileReport;
    for (const [i, row] of rows.entries()) {
      expect(row.count).toContain(`kept ${slim.channels[i].after}/${slim.channels[i].before}`);
      expect(row.dy).toBeLessThan(2);
      expect(row.countLeft).toBeGreaterThan(row.nameRight);
    }

    // The threshold: marked on the |gamma| histogram and stated in words.
    expect(await page.locator('line.threshold').count()).toBe(1);
    const text = await page.locator('body').innerText();
    expect(text).toMatch(/Global threshold 0\.01\d+ \(ratio 0\.68\)/);
    expect(text).toContain('threshold 0.0126');
    expect(text).toContain(`max |module - interpreter|\t${report.check?.maxAbsDiff.toExponential(3)}`);
    expect(text).toContain('equivalent within tolerance');
    expect(text).toMatch(/latency, median predict, batch 1\t[\d.]+ ms\t[\d.]+ ms/);
    expect(text).toContain('fold-batch-norm');

    await mkdir(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: join(ARTIFACTS, 'report.png'), fullPage: true });
    await page.close();
  });

  it("report.html shows a model's markup names as text and runs none of it", async () => {
    const graph = withHostileNames(SMALL_NETS.vgg());
    const file = join(scratch, 'hostile.html');
    await writeFile(
      file,
      reportHtml(
        compileReportInput(compileGraph(graph, { slim: { ratio: 0.5 } }), graph, { check: null, latency: null, unprunedModuleBytes: null }),
      ),
    );
    const { page, errors } = await watchedPage(browser);
    await page.goto(pathToFileURL(file).href);
    expect(errors).toEqual([]);
    expect(await page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned)).toBeUndefined();
    expect(await page.locator('img').count()).toBe(0);
    expect(await page.locator('h1').innerText()).toBe(HOSTILE.graph);
    expect(await page.locator('g.bn-row .bn-name').first().textContent()).toBe(HOSTILE.bn);
    await page.close();
  });

  async function openDemo(): Promise<{ page: Page; errors: string[] }> {
    const { page, errors } = await watchedPage(browser);
    const base = `/${relative(ROOT, scratch)}/`;
    await page.goto(`${server.url}/examples/web/?models=${encodeURIComponent(base)}`);
    await page.waitForFunction(
      () => {
        const s = (window as unknown as { slimcDemo?: DemoState }).slimcDemo;
        return s?.ready === true || s?.error !== undefined;
      },
      undefined,
      { timeout: 60_000 },
    );
    return { page, errors };
  }

  const demoState = (page: Page) => page.evaluate(() => (window as unknown as { slimcDemo: DemoState }).slimcDemo);
  const afterPrediction = async (page: Page, count: number) => {
    await page.waitForFunction((n) => (window as unknown as { slimcDemo: DemoState }).slimcDemo.predictions >= n, count, {
      timeout: 20_000,
    });
    return demoState(page);
  };

  /** What the modules predict in Node for the shipped digits, preprocessed as the page does. */
  async function nodePredictions(dir: string): Promise<number[]> {
    const shipped = JSON.parse(await readFile(join(ROOT, 'examples/web/digits.json'), 'utf8')) as { digits: { pixels: string }[] };
    const model = await (await importEmittedModule(dir)).load({ weights: join(dir, WEIGHTS_FILE) });
    try {
      const out: number[] = [];
      for (const d of shipped.digits) {
        const x = Float32Array.from(d.pixels.match(/../g) ?? [], (h) => (parseInt(h, 16) / 255 - MNIST_MEAN) / MNIST_STD);
        const logits = Array.from((await model.predict(x)) as Float32Array);
        out.push(logits.indexOf(Math.max(...logits)));
      }
      return out;
    } finally {
      model.dispose();
    }
  }

  it('the demo: a picked MNIST digit gets the class Node gives it from both modules, and mostly its label; it shows the backend, isolation and the report link', async () => {
    const expected = { full: await nodePredictions(models.full), pruned: await nodePredictions(models.pruned) };
    const { page, errors } = await openDemo();
    const ready = await demoState(page);
    expect(ready.error).toBeUndefined();
    expect(ready.isolated).toBe(true);
    const thumbs = page.locator('#digits canvas');
    const count = await thumbs.count();
    expect(count).toBe(20);
    const right = { full: 0, pruned: 0 };
    for (let i = 0; i < count; i++) {
      await thumbs.nth(i).click();
      const { last } = await afterPrediction(page, i + 1);
      if (!last || last.label === null) throw new Error(`digit ${i}: no label`);
      expect({ digit: i, full: last.full.predicted, pruned: last.pruned.predicted }).toEqual({
        digit: i,
        full: expected.full[i],
        pruned: expected.pruned[i],
      });
      right.full += Number(last.full.predicted === last.label);
      right.pruned += Number(last.pruned.predicted === last.label);
    }
    // The first digit (a 0) is read right by both; over all 20 (not chosen by how the models do
    // on them) each model is wrong at most once (both read sample 9 of the 9s as an 8).
    expect(expected.full[0]).toBe(0);
    expect(expected.pruned[0]).toBe(0);
    expect(right.full).toBeGreaterThanOrEqual(19);
    expect(right.pruned).toBeGreaterThanOrEqual(19);
    const footer = await page.locator('#backend').innerText();
    expect(footer).toContain(ready.backend?.variant ?? '?');
    expect(footer).toContain('Cross-origin isolated: yes');
    // Chromium has relaxed SIMD: the page says its convs run with fused multiply-adds.
    expect(footer).toContain("convolutions: slimc's kernels, with fused multiply-adds (relaxed SIMD)");
    expect(await page.locator('#full .latency').innerText()).toMatch(/this inference: [\d.]+ ms/);
    const href = await page.locator('#pruned a.report').getAttribute('href');
    expect(href).toBe(`${server.url}/${relative(ROOT, models.pruned)}/report.html`);
    expect((await page.request.get(href as string)).ok()).toBe(true);
    expect(errors).toEqual([]);
    await page.close();
  });

  it('the demo: a 7 drawn with pointer events is a 7 to both modules', async () => {
    const { page, errors } = await openDemo();
    const pad = await page.locator('#pad').boundingBox();
    if (!pad) throw new Error('no drawing pad');
    const stroke = async (points: readonly [number, number][]) => {
      await page.mouse.move(pad.x + points[0][0], pad.y + points[0][1]);
      await page.mouse.down();
      for (const [x, y] of points.slice(1)) await page.mouse.move(pad.x + x, pad.y + y, { steps: 8 });
      await page.mouse.up();
    };
    await stroke([
      [70, 60],
      [210, 60],
      [150, 150],
      [115, 235],
    ]);
    const { last } = await afterPrediction(page, 1);
    expect({ full: last?.full.predicted, pruned: last?.pruned.predicted }).toEqual({ full: 7, pruned: 7 });
    expect(await page.locator('#full .class').innerText()).toBe('7');
    expect(await page.locator('#pruned .class').innerText()).toBe('7');
    expect(errors).toEqual([]);
    await page.close();
  });
});
