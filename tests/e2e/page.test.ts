// The web page (GET /) in a real browser: Debian's Chromium driven by playwright-core, against a
// started stack. A photo goes in through the file input, as a user picks it; the test waits for
// what the user would see: the label, a box drawn on the image, the blob in the list, its events.
// UPDATE_SCREENSHOT=1 also writes the README's screenshot (docs/page.png).
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { ImageLabelingClient } from '@image-labeling/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import sharp from 'sharp';
import { startStackProcess, type StackProcess } from '../support/stack-process.ts';
import { projectRoot } from '../support/template.ts';

const chromium = [process.env.CHROMIUM_PATH, '/usr/bin/chromium', '/usr/bin/chromium-browser'].find(
  (path): path is string => path !== undefined && path !== '' && existsSync(path),
);
if (!chromium) {
  console.warn('tests/e2e/page.test.ts: SKIPPED, no Chromium (apt-get install chromium, or set CHROMIUM_PATH)');
}
const photo = new URL('../fixtures/chelsea.png', import.meta.url).pathname;
/** What the page shows follows API calls: wait for it (expect.poll's default is 1 s). */
const POLL = { timeout: 15_000, interval: 250 };
const screenshotPath = new URL('../../docs/page.png', import.meta.url).pathname;

describe.skipIf(!chromium)('the web page in Chromium (skipped without Chromium: apt-get install chromium)', () => {
  let stack: StackProcess;
  let browser: Browser;
  beforeAll(async () => {
    const { chromium: playwright } = await import('playwright-core');
    [stack, browser] = await Promise.all([
      startStackProcess(),
      playwright.launch({ executablePath: chromium, headless: true, args: ['--no-sandbox'] }),
    ]);
  });
  afterAll(async () => {
    await browser?.close();
    await stack?.stop();
  });

  /** A fresh page that fails the test on any script error or refused resource (CSP included). */
  async function openPage(
    viewport = { width: 1100, height: 860 },
    before?: (page: Page) => Promise<void>,
  ): Promise<{ page: Page; problems: string[] }> {
    const page = await browser.newPage({ viewport, deviceScaleFactor: 1 });
    await before?.(page);
    const problems: string[] = [];
    page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
    page.on('console', (message) => {
      if (message.type() === 'error') problems.push(`console: ${message.text()}`);
    });
    await page.goto(stack.apiUrl);
    return { page, problems };
  }

  it('serves the page on GET / only; other methods and paths keep their problem+json answers', async () => {
    const page = await fetch(`${stack.apiUrl}/`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(page.headers.get('content-security-policy')).toMatch(/script-src 'sha256-/);
    const html = await page.text();
    expect(html).toContain('<input type="file" id="file-input"');
    // Everything is inline: no script or stylesheet from anywhere else.
    expect(html).not.toMatch(/<script[^>]+src=|<link[^>]+stylesheet/);

    const post = await fetch(`${stack.apiUrl}/`, { method: 'POST' });
    expect(post.status).toBe(404);
    expect(post.headers.get('content-type')).toBe('application/problem+json');
    const missing = await fetch(`${stack.apiUrl}/app.js`);
    expect(missing.status).toBe(404);
    expect(missing.headers.get('content-type')).toBe('application/problem+json');
  });

  // Generous limits: the machines that run this are shared, and the detector may be cold.
  it('labels a picked photo: progress, the image with its box named, labels, the list and the timeline', { timeout: 120_000 }, async () => {
    const { page, problems } = await openPage();
    // Every text the card's status line shows, as it changes.
    await page.locator('#uploads').evaluate((uploads) => {
      const seen: string[] = [];
      Object.assign(uploads, { seen });
      new uploads.ownerDocument.defaultView!.MutationObserver(() => {
        const text = uploads.querySelector('.status')?.textContent;
        if (text && text !== seen.at(-1)) seen.push(text);
      }).observe(uploads, { subtree: true, childList: true, characterData: true });
    });
    await page.setInputFiles('#file-input', photo);

    const card = page.locator('.upload').first();
    // Its end, whichever it is (a failed upload shows "Failed: <why>"), then what it shows.
    await card.locator('.status.COMPLETED, .status.FAILED, .status.EXPIRED, .status.error').waitFor({ timeout: 60_000 });
    expect(await card.locator('.status').innerText()).toBe('COMPLETED: 4 labels');
    await card.locator('.box[data-label="Cat"]').waitFor();
    // It showed the upload's bytes going out, then the labeling, live.
    const statuses = (await page.locator('#uploads').evaluate((uploads) => (uploads as unknown as { seen: string[] }).seen)) as string[];
    expect(statuses.some((text) => /^Uploading… \d+%$/.test(text)), statuses.join(' | ')).toBe(true);
    expect(statuses.indexOf('Uploaded; waiting for labels…')).toBeGreaterThan(statuses.findIndex((text) => text.startsWith('Uploading')));
    expect(statuses.at(-1)).toBe('COMPLETED: 4 labels');
    const blobId = (await card.getAttribute('data-blob-id'))!;
    expect(blobId).toMatch(/^[0-9A-Z]{26}$/);
    await expect.poll(() => card.locator('.labels li').first().innerText(), POLL).toMatch(/^Cat\s+\d+\.\d%$/);

    // The box sits on the image, sized from the ratios (the cat fills most of this photo).
    await card.locator('figure img').evaluate((img) => (img as unknown as { decode(): Promise<void> }).decode());
    const image = (await card.locator('figure img').boundingBox())!;
    const box = (await card.locator('.box[data-label="Cat"]').boundingBox())!;
    expect(box.x).toBeGreaterThanOrEqual(image.x - 1);
    expect(box.y).toBeGreaterThanOrEqual(image.y - 1);
    expect(box.x + box.width).toBeLessThanOrEqual(image.x + image.width + 1);
    expect(box.width).toBeGreaterThan(image.width / 2);
    expect(await card.locator('.box[data-label="Cat"] span').innerText()).toMatch(/^Cat \d+\.\d%$/);

    // The list shows it as the page follows it; the filters ask GET /blobs, whose read model
    // follows the log within moments (so ask again until it has).
    const row = page.locator(`#blobs li[data-blob-id="${blobId}"]`);
    expect(await row.innerText()).toMatch(/COMPLETED[\s\S]*Cat/);
    await page.fill('#filter-label', 'Cat');
    await page.selectOption('#filter-status', 'COMPLETED');
    await expect
      .poll(
        async () => {
          await page.click('#filters button[type="submit"]');
          return (await page.locator('#blobs li').evaluateAll((items) => items.map((item) => item.getAttribute('data-blob-id')))).includes(blobId);
        },
        POLL,
      )
      .toBe(true);
    await page.fill('#filter-label', 'Giraffe');
    await page.click('#filters button[type="submit"]');
    await expect.poll(() => page.locator('#recent-message').innerText(), POLL).toBe('No blobs match.');
    await page.fill('#filter-label', '');
    await page.selectOption('#filter-status', '');
    await page.click('#filters button[type="submit"]');

    // Its timeline, from GET /blobs/{id}/events, oldest first.
    await row.locator('button').click();
    const events = page.locator('#timeline li');
    await expect.poll(() => events.evaluateAll((items) => items.map((item) => item.getAttribute('data-type'))), POLL).toEqual([
      'BlobCreated',
      'BlobUploaded',
      'BlobLabeled',
    ]);
    expect(await events.nth(2).innerText()).toContain('Cat');

    expect(problems).toEqual([]);
    const png = await page.screenshot({ fullPage: true });
    expect(png.subarray(1, 4).toString()).toBe('PNG');
    if (process.env.UPDATE_SCREENSHOT === '1') {
      // A palette PNG: the screenshot stays small enough for the repository.
      await sharp(png).png({ palette: true, quality: 90, effort: 10 }).toFile(screenshotPath);
    }
    await page.close();
  });

  it('shows the answer to the newest filter, even when an older one answers later', async () => {
    // A COMPLETED blob that the list endpoint shows (its read model follows within moments).
    const done = await new ImageLabelingClient({ baseUrl: stack.apiUrl }).labelImage(readFileSync(photo));
    await expect.poll(async () => (await stack.api.GET('/blobs', { params: { query: { status: 'COMPLETED' } } })).data?.items.length, POLL).toBeGreaterThan(0);
    expect(done.invocation_status).toBe('COMPLETED');

    // Answers do not always come back in order; here the first one is held back until the
    // second has been shown (the route delays the real answer, a fault this stack cannot cause).
    let releaseSlow!: () => void;
    const slowHeld = new Promise<void>((resolve) => (releaseSlow = resolve));
    const { page, problems } = await openPage(undefined, async (page) => {
      await page.route(`${stack.apiUrl}/blobs?*`, async (route) => {
        if (new URL(route.request().url()).searchParams.get('status') === 'COMPLETED') await slowHeld;
        await route.continue().catch(() => undefined); // the page may have given up on it
      });
    });
    // The slow request's end, whichever it is: answered, or abandoned by the page.
    const slowEnded = new Promise<void>((resolve) => {
      const ended = (request: { url(): string }) => request.url().includes('status=COMPLETED') && resolve();
      page.on('requestfinished', ended);
      page.on('requestfailed', ended);
    });
    await page.selectOption('#filter-status', 'COMPLETED');
    await page.click('#filters button[type="submit"]');
    await page.fill('#filter-label', 'Giraffe');
    await page.selectOption('#filter-status', '');
    await page.click('#filters button[type="submit"]');
    await expect.poll(() => page.locator('#recent-message').innerText(), POLL).toBe('No blobs match.');
    releaseSlow();
    await slowEnded;
    await page.evaluate('new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve)))');
    expect(await page.locator('#blobs li').count()).toBe(0);
    expect(await page.locator('#recent-message').innerText()).toBe('No blobs match.');
    expect(problems).toEqual([]);
    await page.close();
  });

  it('is usable with the keyboard and fits a narrow screen', { timeout: 120_000 }, async () => {
    const { page, problems } = await openPage({ width: 360, height: 740 });
    await page.keyboard.press('Tab');
    expect(await page.locator('#file-input').evaluate((input) => input.ownerDocument.activeElement === input)).toBe(true);
    // The focus shows on the drop zone around the (visually hidden) input.
    const outline = await page.locator('#drop-zone').evaluate((zone) => zone.ownerDocument.defaultView!.getComputedStyle(zone).outlineStyle);
    expect(outline).toBe('solid');
    await page.setInputFiles('#file-input', photo);
    await page.locator('.upload[data-status="COMPLETED"] .box').first().waitFor({ timeout: 60_000 });
    expect(await page.locator('html').evaluate((root) => root.scrollWidth)).toBeLessThanOrEqual(360);
    expect(problems).toEqual([]);
    await page.close();
  });

  it('asks for an API key when the API answers 401, keeps it and sends it as a Bearer token', async () => {
    // This stack runs without auth; a deployment with an authorizer answers 401 without a key.
    // The route stands in for that authorizer (a fault this stack cannot produce) and passes a
    // request with the right key on to the real API.
    const seen: (string | null)[] = [];
    const { page, problems } = await openPage(undefined, async (page) => {
      await page.route(`${stack.apiUrl}/blobs**`, async (route) => {
        const authorization = await route.request().headerValue('authorization');
        seen.push(authorization);
        if (authorization === 'Bearer the-key') return route.continue();
        return route.fulfill({
          status: 401,
          contentType: 'application/problem+json',
          body: JSON.stringify({ type: 'about:blank', title: 'Unauthorized', status: 401, detail: 'An API key is required.' }),
        });
      });
    });
    const dialog = page.locator('#api-key-dialog');
    await dialog.waitFor();
    expect(await dialog.innerText()).toContain('An API key is required.');
    await page.fill('#api-key-input', 'the-key');
    await page.keyboard.press('Enter');
    await expect.poll(() => page.locator('#blobs li').count(), POLL).toBeGreaterThan(0);
    expect(seen.at(-1)).toBe('Bearer the-key');
    expect(await page.evaluate("localStorage.getItem('image-labeling.api-key')")).toBe('the-key');

    // A reload keeps the key: no second question.
    await page.reload();
    await expect.poll(() => page.locator('#blobs li').count(), POLL).toBeGreaterThan(0);
    expect(await dialog.isVisible()).toBe(false);
    // Only the 401s the route itself answered show up as console errors.
    expect(problems.filter((problem) => !/401/.test(problem))).toEqual([]);
    await page.close();
  });
});

describe.skipIf(!chromium)('the web page in Chromium, in front of an API that wants a key (AUTH_MODE=api-key)', () => {
  let stack: StackProcess;
  let browser: Browser;
  let apiKey: string;
  beforeAll(async () => {
    const { chromium: playwright } = await import('playwright-core');
    [stack, browser] = await Promise.all([
      startStackProcess({ env: { AUTH_MODE: 'api-key', DETECTOR_WORKERS: '1' } }),
      playwright.launch({ executablePath: chromium, headless: true, args: ['--no-sandbox'] }),
    ]);
    const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', 'scripts/api-keys.ts', 'create', '--owner', 'page-user'], {
      cwd: projectRoot,
      env: { ...process.env, DATA_DIR: stack.dataDirectory },
    });
    apiKey = (JSON.parse(stdout) as { api_key: string }).api_key;
  });
  afterAll(async () => {
    await browser?.close();
    await stack?.stop();
  });

  it('loads without a key, asks for one on the API\'s own 401, then labels a picked photo with it', { timeout: 120_000 }, async () => {
    const page = await browser.newPage({ viewport: { width: 1100, height: 860 } });
    const problems: string[] = [];
    page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
    page.on('console', (message) => {
      if (message.type() === 'error') problems.push(`console: ${message.text()}`);
    });
    const sent: (string | null)[] = [];
    page.on('request', (request) => {
      if (new URL(request.url()).pathname.startsWith('/blobs')) sent.push(request.headers().authorization ?? null);
    });
    const loaded = await page.goto(stack.apiUrl);
    expect(loaded?.status()).toBe(200);

    // The list's first GET /blobs went out without a key; the local gateway refused it.
    const dialog = page.locator('#api-key-dialog');
    await dialog.waitFor();
    expect(sent[0]).toBeNull();
    expect(await page.locator('#api-key-reason').innerText()).toContain('credentials');
    await page.fill('#api-key-input', apiKey);
    await page.keyboard.press('Enter');
    await expect.poll(() => dialog.isVisible(), POLL).toBe(false);

    await page.setInputFiles('#file-input', photo);
    const card = page.locator('.upload').first();
    await card.locator('.status.COMPLETED, .status.FAILED, .status.EXPIRED, .status.error').waitFor({ timeout: 60_000 });
    expect(await card.locator('.status').innerText()).toBe('COMPLETED: 4 labels');
    await card.locator('.box[data-label="Cat"]').waitFor();
    expect(sent.at(-1)).toBe(`Bearer ${apiKey}`);
    // The blob is the key owner's: the API shows it to that key.
    const blobId = (await card.getAttribute('data-blob-id'))!;
    const read = await fetch(`${stack.apiUrl}/blobs/${blobId}`, { headers: { authorization: `Bearer ${apiKey}` } });
    expect(((await read.json()) as { invocation_status: string }).invocation_status).toBe('COMPLETED');
    // Only the refused first call shows up as a console error.
    expect(problems.filter((problem) => !/401/.test(problem))).toEqual([]);
    await page.close();
  });
});
