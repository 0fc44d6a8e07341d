// Serving the project over loopback and driving Debian's Chromium and Firefox ESR with
// puppeteer-core (Firefox through WebDriver BiDi). Used by the cross-engine and package tests.
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import puppeteer, { type Browser } from 'puppeteer-core';

export const BROWSERS = {
  chromium: '/usr/bin/chromium',
  firefox: '/usr/bin/firefox-esr',
} as const;
export type BrowserName = keyof typeof BROWSERS;

/** Browsers installed on this machine (.ci/run installs both). */
export function installedBrowsers(): BrowserName[] {
  return (Object.keys(BROWSERS) as BrowserName[]).filter((b) => existsSync(BROWSERS[b]));
}

export { serve } from '../../scripts/serve.mjs';

/** Launches a headless browser of this machine. */
export async function launch(name: BrowserName): Promise<Browser> {
  if (name === 'chromium') {
    return puppeteer.launch({
      executablePath: BROWSERS.chromium,
      headless: true,
      userDataDir: mkdtempSync(join(tmpdir(), 'simdopt-chromium-')),
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
        '--disable-sync', '--no-first-run', '--disable-quic'],
    });
  }
  return puppeteer.launch({ browser: 'firefox', executablePath: BROWSERS.firefox, headless: true });
}

/** Opens `url` and waits for the page to set `window.__result`. */
export async function resultOf(browser: Browser, url: string, timeoutMs = 120_000): Promise<unknown> {
  const page = await browser.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.goto(url);
  try {
    await page.waitForFunction('window.__result !== undefined', { timeout: timeoutMs, polling: 200 });
  } catch (e) {
    throw new Error(`${url}: no result (${(e as Error).message}); page errors: ${errors.join(' | ')}`);
  }
  const result = await page.evaluate('window.__result');
  const info = await page.evaluate('navigator.userAgent');
  await page.close();
  return { result, userAgent: info };
}
