// End-to-end test of the Stratus web console in headless Debian Chromium, driven by
// playwright-core (no browser download: it launches /usr/bin/chromium).
//
// usage: node console.spec.mjs URL ACCESS_KEY_ID SECRET SCREENSHOT_DIR FUNCTION_ZIP
//
// Flow: sign in; create a bucket; upload a file (progress bar reaches 100 %, object listed);
// on a second bucket, enable versioning, upload two versions through the S3 POST form, read both
// from the versions view, make the bucket public (after a warning) and private again;
// deploy a function from FUNCTION_ZIP and invoke it (result shown); see its log line appear in
// the live logs; visit every page (a screenshot of each into SCREENSHOT_DIR); sign out, after
// which the old session cookie no longer works. Prints one "ok STEP" line per step; exits 1
// with "FAIL ..." on the first failure.

import { chromium } from 'playwright-core';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

const [url, keyId, secret, shots, zipPath] = process.argv.slice(2);
if (!zipPath) {
  console.error('usage: node console.spec.mjs URL ACCESS_KEY_ID SECRET SCREENSHOT_DIR FUNCTION_ZIP');
  process.exit(2);
}

const suffix = Date.now().toString(36);
const bucket = `console-${suffix}`;
const fnName = `console-fn-${suffix}`;
const profile = mkdtempSync(join(tmpdir(), 'stratus-chromium-'));
// A fresh, empty profile directory per run (playwright passes it as --user-data-dir).
const context = await chromium.launchPersistentContext(profile, {
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  headless: true,
  viewport: { width: 1280, height: 860 },
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync',
    // Over HTTPS: the test pins the server's key (--ignore-certificate-errors-spki-list=…), so
    // only that certificate is accepted, never any certificate at all.
    ...(process.env.CHROMIUM_EXTRA_ARGS ? process.env.CHROMIUM_EXTRA_ARGS.split(' ') : [])],
});
const page = context.pages()[0] || await context.newPage();
const consoleErrors = [];
page.on('console', (msg) => { if (msg.type() === 'error') consoleErrors.push(msg.text()); });
page.on('pageerror', (err) => consoleErrors.push(String(err)));

function ok(step) { console.log(`ok ${step}`); }
async function shot(name) { await page.screenshot({ path: join(shots, `${name}.png`), fullPage: true }); }
async function expectText(selector, text, timeout = 15000) {
  await page.locator(selector).filter({ hasText: text }).first().waitFor({ timeout });
}

try {
  await page.goto(url);
  await page.locator('#signin-form').waitFor();
  await shot('signin');
  await page.fill('#access_key_id', keyId);
  await page.fill('#secret_access_key', 'definitely-wrong');
  await page.click('#signin-form button[type=submit]');
  await expectText('#signin-error', 'wrong access key id or secret');
  ok('bad credentials refused');
  await page.fill('#secret_access_key', secret);
  await page.click('#signin-form button[type=submit]');
  await page.locator('#card-buckets').waitFor();
  await expectText('#who', keyId);
  await shot('overview');
  ok('signed in');
  const cookies = await context.cookies();
  const sessionCookie = cookies.find((c) => c.name === 'stratus_session');
  if (!sessionCookie || !sessionCookie.httpOnly || sessionCookie.sameSite !== 'Strict') throw new Error(`bad session cookie ${JSON.stringify(sessionCookie)}`);

  await page.click('#nav a[href="#/buckets"]');
  await page.fill('#new-bucket', bucket);
  await page.click('#create-bucket button[type=submit]');
  await expectText('main table', bucket);
  await shot('buckets');
  ok('bucket created');

  await page.click(`a[href="#/buckets/${bucket}"]`);
  await page.locator('#upload-form').waitFor();
  const content = 'hello from the console test\n'.repeat(40000); // ~1 MiB: progress events fire
  const uploadFile = join(profile, 'hello.txt');
  writeFileSync(uploadFile, content);
  await page.setInputFiles('#upload-file', uploadFile);
  await page.fill('#upload-key', 'docs/hello.txt');
  await page.click('#upload-form button[type=submit]');
  await expectText('#upload-status', 'uploaded docs/hello.txt');
  const progress = await page.$eval('#upload-progress', (el) => el.value);
  if (progress !== 100) throw new Error(`upload progress ended at ${progress}`);
  await expectText('#object-list', 'docs/');
  await page.click('#object-list a:has-text("docs/")');
  await expectText('#object-list', 'hello.txt');
  const href = await page.getAttribute('#object-list a.object-link', 'href');
  const download = await page.evaluate(async (path) => (await fetch(path)).text(), href);
  if (download !== content) throw new Error('downloaded object differs from the upload');
  await shot('bucket-browse');
  ok('file uploaded, listed under its folder and downloaded');

  await page.click('#nav a[href="#/functions"]');
  await page.fill('#fn-name', fnName);
  await page.setInputFiles('#fn-zip', zipPath);
  await page.click('#deploy-form button[type=submit]');
  await page.locator('#invoke-form').waitFor({ timeout: 30000 });
  ok('function deployed');
  await page.fill('#invoke-payload', '{"name": "console"}');
  await page.click('#invoke-form button[type=submit]');
  await expectText('#invoke-result', 'hello console', 60000);
  await expectText('#invoke-report', 'ok');
  ok('function invoked');
  await expectText('#live-logs', 'console log line for console', 20000);
  await expectText('#recent-invocations', 'ms', 20000);
  await page.locator('#latency-chart circle').first().waitFor({ timeout: 10000 });
  await shot('function');
  ok('log line appeared in live logs');

  await page.click('#nav a[href="#/functions"]');
  await expectText('main table', fnName);
  await shot('functions');
  await page.click('#nav a[href="#/overview"]');
  // A fresh server: exactly what this test made.
  await page.locator('#card-functions .big').waitFor();
  const cards = await page.$$eval('.card .big', (els) => els.map((e) => e.textContent));
  const [, buckets, objects, stored, functions] = cards;
  if (buckets !== '1' || objects !== '1' || functions !== '1' || stored !== '1.1 MiB') throw new Error(`overview shows ${cards.join(', ')}`);
  await shot('overview');
  ok('overview counts the bucket, object and function');
  for (const [name, ready] of [['apps', 'svg[id^="dag-"] rect'], ['messaging', 'h1'], ['cost', '#compare-form'], ['admin', '#quota-view table']]) {
    await page.click(`#nav a[href="#/${name}"]`);
    await page.locator(ready).first().waitFor();
    await page.waitForTimeout(300);
    await shot(name);
  }
  await page.click('#compare-form button[type=submit]').catch(() => {});
  await page.click('#nav a[href="#/cost"]');
  await page.click('#compare-form button[type=submit]');
  await page.locator('#compare-chart polyline').first().waitFor({ timeout: 20000 });
  await shot('cost');
  await page.click('#nav a[href="#/planner"]');
  await page.setInputFiles('#plan-file', join(repoRoot, 'examples', 'planner', 'small-app.yaml'));
  await expectText('#plan-spec', 'components', 5000).catch(async () => {
    // a textarea's value is not its text: wait on the value instead
    await page.waitForFunction(() => document.getElementById('plan-spec').value.includes('components'));
  });
  await page.click('#plan-form button[type=submit]');
  await expectText('#plan-cost', '$', 60000);
  await expectText('#plan-result table', 'detect', 5000);
  await shot('planner');
  ok('planner placed the example application');
  ok('every page rendered');

  // A second bucket (the overview's counts above are checked already): versioning, uploads
  // through the S3 POST form, the versions view, and making the bucket public behind a warning.
  const vbucket = `console-v-${suffix}`;
  await page.click('#nav a[href="#/buckets"]');
  await page.fill('#new-bucket', vbucket);
  await page.click('#create-bucket button[type=submit]');
  await page.click(`a[href="#/buckets/${vbucket}"]`);
  await expectText('#versioning-state', 'Versioning: Off');
  await page.click('#toggle-versioning');
  await expectText('#versioning-state', 'Versioning: Enabled');
  const notes = join(profile, 'notes.txt');
  for (const [i, text] of ['version one\n', 'version two\n'].entries()) {
    writeFileSync(notes, text);
    await page.setInputFiles('#post-file', notes);
    await page.click('#post-upload-form button[type=submit]');
    await expectText('#post-status', 'uploaded notes.txt');
    if (i === 0) await page.locator('#object-list a.object-link').first().waitFor();
    await page.waitForTimeout(500);
  }
  ok('uploaded twice through the S3 POST form');
  await page.click('#tab-versions');
  await page.locator('#version-list a.version-link').nth(1).waitFor();
  const versionLinks = await page.$$eval('#version-list a.version-link', (els) => els.map((e) => e.getAttribute('href')));
  if (versionLinks.length !== 2) throw new Error(`expected 2 versions, the page lists ${versionLinks.length}`);
  const bodies = await page.evaluate(async (hrefs) => Promise.all(hrefs.map(async (u) => (await fetch(u)).text())), versionLinks);
  if (bodies.join('') !== 'version two\nversion one\n') throw new Error(`versions read back as ${JSON.stringify(bodies)}`);
  await expectText('#version-list', 'latest');
  await shot('bucket-versions');
  ok('versions listed newest first and each readable');
  // Unsigned S3 requests from the page: the session cookie means nothing to S3.
  const anonymousList = () => page.evaluate(async (b) => (await fetch(`/${b}?list-type=2`, { credentials: 'omit' })).status, vbucket);
  if (await anonymousList() !== 403) throw new Error('a private bucket answered an anonymous listing');
  let warning = '';
  page.once('dialog', (dialog) => { warning = dialog.message(); dialog.accept(); });
  await page.click('#make-public');
  await page.locator('#public-warning').waitFor();
  if (!warning.includes('Anyone on the internet')) throw new Error(`no warning before making the bucket public: ${warning}`);
  if (await anonymousList() !== 200) throw new Error('a public bucket refused an anonymous listing');
  await shot('bucket-public');
  await page.click('#make-private');
  await expectText('#access-state', 'Access: private');
  if (await anonymousList() !== 403) throw new Error('the bucket stayed public after Make private');
  ok('made public after a warning, anonymous listing allowed, then private again');

  const csrfLess = await page.evaluate(async (b) => (await fetch(`/v1/buckets/${b}-x`, { method: 'PUT' })).status, bucket);
  if (csrfLess !== 403) throw new Error(`a cookie request without the CSRF header got ${csrfLess}`);
  ok('CSRF header required');

  await page.click('#signout');
  await page.locator('#signin-form').waitFor();
  const after = await page.evaluate(async () => (await fetch('/v1/buckets')).status);
  const replay = await fetch(`${url.replace(/\/$/, '')}/v1/buckets`, { headers: { Cookie: `stratus_session=${sessionCookie.value}` } });
  if (after !== 401 || replay.status !== 401) throw new Error(`after sign-out: ${after} / replayed cookie ${replay.status}`);
  ok('signed out; the old session cookie no longer works');

  // 401/403 are the refusals this test provokes; anything else is a page calling the server wrong.
  const relevant = consoleErrors.filter((e) => !/status of 40[13]/.test(e));
  if (relevant.length) throw new Error(`browser console errors: ${relevant.join(' | ')}`);
  console.log('PASS');
} catch (err) {
  console.log(`FAIL ${err.message}`);
  // Outside docs/: a failure picture is for debugging, not for the README.
  const failureShot = join(tmpdir(), `stratus-console-failure-${suffix}.png`);
  await page.screenshot({ path: failureShot, fullPage: true }).then(() => console.log(`screenshot of the failure: ${failureShot}`), () => {});
  process.exitCode = 1;
} finally {
  await context.close();
  rmSync(profile, { recursive: true, force: true });
}
