// The browser playground: opened in headless Chromium, a few hundred steps on Rosenbrock (and
// the other functions) must move every trajectory toward the minimum; a screenshot is saved.
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { installedBrowsers, launch, serve } from './cross-engine/browsers.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const hasChromium = installedBrowsers().includes('chromium');

interface Runner { name: string; start: number[]; at: number[]; loss: number; startLoss: number }

describe.skipIf(!hasChromium)('playground in headless Chromium', () => {
  let served: Awaited<ReturnType<typeof serve>>;
  beforeAll(async () => { served = await serve(root); });
  afterAll(() => served?.server.close());

  it('trajectories move toward the minimum on every function; screenshot saved', async () => {
    const browser = await launch('chromium');
    try {
      const page = await browser.newPage();
      await page.setViewport({ width: 1200, height: 760 });
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(String(e)));
      await page.goto(`${served.url}/playground/index.html`);
      await page.waitForFunction('window.__ready === true', { timeout: 60_000 });
      for (const [fn, steps] of [['bowl', 300], ['saddle', 300], ['beale', 300], ['rosenbrock', 400]] as const) {
        const s = (await page.evaluate(async (f, n) => {
          const pg = (window as unknown as { playground: { select(f: string): Promise<void>; run(n: number): void; state(): unknown } }).playground;
          await pg.select(f);
          pg.run(n);
          return pg.state();
        }, fn, steps)) as { step: number; backend: string; min: number[]; runners: Runner[] };
        expect(s.step).toBe(steps);
        expect(s.backend).toBe('wasm');
        expect(s.runners.length).toBeGreaterThanOrEqual(5);
        for (const r of s.runners) {
          const d0 = Math.hypot(r.start[0] - s.min[0], r.start[1] - s.min[1]);
          const d1 = Math.hypot(r.at[0] - s.min[0], r.at[1] - s.min[1]);
          expect(d1, `${fn}: ${r.name} distance to the minimum`).toBeLessThan(d0);
          expect(r.loss, `${fn}: ${r.name} loss`).toBeLessThan(r.startLoss);
        }
      }
      const shot = join(mkdtempSync(join(tmpdir(), 'simdopt-playground-')), 'playground.png');
      await page.screenshot({ path: shot });
      expect(existsSync(shot)).toBe(true);
      expect(errors).toEqual([]);
    } finally {
      await browser.close();
    }
  }, 180_000);
});
