// Headless Chromium for the browser tests: Debian's /usr/bin/chromium through playwright-core,
// with the flags that keep it from reaching the network on its own. Tests that need it skip,
// saying so, only when it is not installed (CI installs it).
import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';
export const CHROMIUM_FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
export const chromiumAvailable = existsSync(CHROMIUM);
if (!chromiumAvailable) console.warn(`browser tests skipped: ${CHROMIUM} is not installed (apt-get install -y chromium)`);

export const launchChromium = (): Promise<Browser> => chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_FLAGS, headless: true });
