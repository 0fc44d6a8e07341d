// Renders the pictures in the README: docs/report.png (from simdopt-report.html, written by
// `npm start`) and docs/playground.png (after 400 steps on Rosenbrock). Needs Debian's chromium.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import puppeteer from 'puppeteer-core';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const { serve } = await import(pathToFileURL(join(root, 'scripts', 'serve.mjs')).href);
const browser = await puppeteer.launch({
  executablePath: '/usr/bin/chromium', headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
});
const { server, url } = await serve(root);
try {
  const page = await browser.newPage();
  if (existsSync(join(root, 'simdopt-report.html'))) {
    await page.setViewport({ width: 1240, height: 900 });
    await page.goto(`${url}/simdopt-report.html`);
    await page.screenshot({ path: join(root, 'docs', 'report.png'), clip: { x: 0, y: 0, width: 1240, height: 1500 } });
    console.log('docs/report.png');
  } else {
    console.log('no simdopt-report.html: run npm start first');
  }
  await page.setViewport({ width: 1120, height: 960 });
  await page.goto(`${url}/playground/index.html`);
  await page.waitForFunction('window.__ready === true');
  await page.evaluate(async () => { await window.playground.select('rosenbrock'); window.playground.run(400); });
  await page.screenshot({ path: join(root, 'docs', 'playground.png') });
  console.log('docs/playground.png');
} finally {
  await browser.close();
  server.close();
}
