// Makes docs/report.png, the README's picture of report.html: the pruned MNIST module's report
// (examples/web/build.ts's build, timed with --bench), its top part as Chromium draws it.
//
//   npx tsx scripts/report_screenshot.ts        # needs /usr/bin/chromium
import { mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { buildDemoModels } from '../examples/web/build.ts';
import { launchChromium } from '../test/helpers/chromium.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const OUT = join(ROOT, 'docs/report.png');

const scratch = await mkdtemp(join(ROOT, 'tmp-report-shot-'));
try {
  const { pruned } = await buildDemoModels(scratch);
  const browser = await launchChromium();
  try {
    const page = await browser.newPage({ viewport: { width: 1000, height: 1200 }, deviceScaleFactor: 1 });
    await page.goto(pathToFileURL(join(pruned, 'report.html')).href);
    // The summary, the |gamma| distribution and the channels per layer.
    const bottom = await page.locator('#channels').evaluate((e) => e.getBoundingClientRect().bottom + window.scrollY);
    await page.screenshot({ path: OUT, fullPage: true, clip: { x: 0, y: 0, width: 1000, height: Math.ceil(bottom) + 16 } });
  } finally {
    await browser.close();
  }
} finally {
  await rm(scratch, { recursive: true, force: true });
}
process.stdout.write(`wrote ${OUT}\n`);
