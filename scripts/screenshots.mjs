// Renders the pictures in the README: docs/report.png (from simdopt-report.html, written by
// `npm start`) and docs/playground.png (after 400 steps on Rosenbrock). Needs Debian's chromium.
// `node scripts/screenshots.mjs report` (or `playground`) renders only that one.
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
  const only = process.argv[2];
  if (only === 'playground') {
    // the report is left as it is
  } else if (existsSync(join(root, 'simdopt-report.html'))) {
    await page.setViewport({ width: 1240, height: 900 });
    await page.goto(`${url}/simdopt-report.html`);
    // from the top through the first row of charts (the MNIST report: the first optimizer's range test and accuracy)
    const bottom = await page.evaluate(() => {
      const charts = document.querySelector('.charts');
      const first = charts?.querySelector('svg');
      return first ? Math.ceil(first.getBoundingClientRect().bottom + window.scrollY + 16) : 1500;
    });
    await page.screenshot({ path: join(root, 'docs', 'report.png'), clip: { x: 0, y: 0, width: 1240, height: Math.min(bottom, 3000) } });
    console.log('docs/report.png');
  } else {
    console.log('no simdopt-report.html: run npm start first');
  }
  if (only !== 'report') {
    await page.setViewport({ width: 1120, height: 960 });
    await page.goto(`${url}/playground/index.html`);
    await page.waitForFunction('window.__ready === true');
    await page.evaluate(async () => { await window.playground.select('rosenbrock'); window.playground.run(400); });
    await page.screenshot({ path: join(root, 'docs', 'playground.png') });
    console.log('docs/playground.png');
  }
} finally {
  await browser.close();
  server.close();
}
