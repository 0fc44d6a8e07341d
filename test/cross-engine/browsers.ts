// Serving the project over loopback and driving Debian's Chromium and Firefox ESR with
// puppeteer-core (Firefox through WebDriver BiDi). Used by the cross-engine and package tests.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { extname, join, normalize } from 'node:path';
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

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript', '.mjs': 'text/javascript',
  '.wasm': 'application/wasm', '.json': 'application/json', '.map': 'application/json',
};

/**
 * Serves `root` on a loopback port; resolves with the server and its base URL. With
 * `isolated`, pages are cross-origin isolated (COOP/COEP headers), as SharedArrayBuffer needs.
 */
export async function serve(root: string, isolated = false): Promise<{ server: Server; url: string }> {
  const server = createServer((req, res) => {
    const path = normalize(decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname)).replace(/^(\.\.[/\\])+/, '');
    const file = join(root, path);
    if (!file.startsWith(root) || !existsSync(file) || !statSync(file).isFile()) {
      res.writeHead(404).end('not found');
      return;
    }
    res.writeHead(200, {
      'content-type': TYPES[extname(file)] ?? 'application/octet-stream',
      ...(isolated ? { 'cross-origin-opener-policy': 'same-origin', 'cross-origin-embedder-policy': 'require-corp' } : {}),
    });
    res.end(readFileSync(file));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address() as { port: number };
  return { server, url: `http://127.0.0.1:${address.port}` };
}

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
