// A real browser through the demo app of examples/openresty: headless Chromium (Debian's, never a
// downloaded one) driven by playwright-core opens the app, follows /login to the emulator's Connect
// pages (Continue, brand, sign in, consent) and lands back on the app's /callback.
//   approve: the page must list every vehicle the consent page offered (make, model, year, id), and
//            so must /vehicle, rendered again from the tokens the app stored
//   deny:    the page must be the app's error page with access_denied and its description
// usage: node spec/browser/connect.js APP_ORIGIN SCREENSHOT_DIR [approve] [deny]
// Prints one JSON line {approve: {...}, deny: {...}} (each with ok and problems); exits 0 when every
// flow is ok, 1 when a check failed, 2 when the browser could not run. Screenshots of each flow's
// final page: SCREENSHOT_DIR/openresty-vehicle.png and openresty-denied.png.
'use strict';
const path = require('path');

const { chromium } = require(process.env.PLAYWRIGHT_CORE ||
  path.join(__dirname, '..', '..', 'build', 'npm', 'node_modules', 'playwright-core'));

const [origin, shots, ...wanted] = process.argv.slice(2);
// Several vehicles (every one shown on /callback): a multi-vehicle test account. In test mode an ordinary email
// gets one vehicle of the chosen brand, as on Smartcar.
const EMAIL = '3-vehicles@smartcar.com';

// Connect as a user would, up to the app's /callback. Returns what the consent page offered.
async function connect(page, decision) {
  await page.goto(origin + '/');
  await page.click('#connect'); // /login redirects to Connect
  await page.click('#continue-button');
  await page.click('button.brand-list-item#TESLA');
  await page.fill('#username', EMAIL);
  await page.fill('#password', 'any password');
  await page.click('#sign-in-button');
  const offered = await page.$$eval('#vehicles li.vehicle', (items) =>
    items.map((li) => ({ id: li.dataset.vehicleId, text: li.textContent.trim() })));
  await page.click(decision === 'approve' ? '#approval-button' : '#deny-button');
  await page.waitForURL((url) => url.origin === origin && url.pathname === '/callback');
  await page.waitForLoadState('load');
  return offered;
}

async function rows(page) {
  return page.$$eval('#vehicles tr.vehicle', (trs) => trs.map((tr) => {
    const cell = (name) => tr.querySelector('.' + name).textContent.trim();
    return { make: cell('make'), model: cell('model'), year: cell('year'), id: cell('id') };
  }));
}

// Every offered vehicle, and nothing else, shown with its attributes.
function compare(problems, where, offered, shown) {
  if (shown.length !== offered.length) problems.push(`${where}: ${shown.length} vehicles shown, ${offered.length} offered`);
  for (const v of offered) {
    const row = shown.find((r) => r.id === v.id);
    if (!row) problems.push(`${where}: vehicle ${v.id} is not shown`);
    else if (`${row.year} ${row.make} ${row.model}` !== v.text) {
      problems.push(`${where}: ${v.id} shown as "${row.year} ${row.make} ${row.model}", offered as "${v.text}"`);
    }
  }
}

async function flow(browser, decision) {
  const context = await browser.newContext();
  const page = await context.newPage();
  page.setDefaultTimeout(10000);
  const problems = [];
  const statuses = {};
  page.on('response', (res) => {
    const url = new URL(res.url());
    if (url.origin === origin) statuses[url.pathname] = res.status();
  });
  page.on('console', (msg) => { // the app's pages only (the emulator has no favicon)
    const where = msg.location().url || '';
    if (msg.type() === 'error' && where.startsWith('http') && new URL(where).origin === origin) {
      problems.push(`console: ${msg.text()} (${where})`);
    }
  });
  const result = { decision, problems };
  try {
    result.offered = await connect(page, decision);
    result.url = page.url();
    result.status = statuses['/callback'];
    result.title = await page.title();
    if (decision === 'approve') {
      result.vehicles = await rows(page);
      compare(problems, '/callback', result.offered, result.vehicles);
      if (result.status !== 200) problems.push(`/callback answered ${result.status}`);
      result.html = await page.content();
      await page.click('a[href="/vehicle"]'); // the same page, from the stored tokens
      await page.waitForURL((url) => url.pathname === '/vehicle');
      result.reloaded = await rows(page);
      result.reloadStatus = statuses['/vehicle'];
      compare(problems, '/vehicle', result.offered, result.reloaded);
    } else {
      result.error = await page.textContent('#error');
      result.description = await page.textContent('#error-description');
      if (result.error !== 'access_denied') problems.push(`error shown: "${result.error}"`);
      if (!result.description) problems.push('no error description shown');
      if (await page.$('#vehicles')) problems.push('vehicles shown after a denial');
    }
    result.cookies = (await context.cookies()).map((c) => ({ name: c.name, value: c.value, httpOnly: c.httpOnly }));
  } catch (e) {
    problems.push(`${decision}: ${e.message.split('\n')[0]} (at ${page.url()})`);
  }
  result.screenshot = path.join(shots, decision === 'approve' ? 'openresty-vehicle.png' : 'openresty-denied.png');
  await page.screenshot({ path: result.screenshot, fullPage: true }).catch((e) => problems.push(e.message));
  result.ok = problems.length === 0;
  await context.close();
  return result;
}

(async () => {
  if (!origin || !shots) {
    console.error('usage: node spec/browser/connect.js APP_ORIGIN SCREENSHOT_DIR [approve] [deny]');
    process.exit(2);
  }
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium', args: ['--no-sandbox'],
  });
  const results = {};
  try {
    for (const decision of wanted.length ? wanted : ['approve', 'deny']) {
      results[decision] = await flow(browser, decision);
    }
  } finally {
    await browser.close();
  }
  console.log(JSON.stringify(results));
  process.exit(Object.values(results).every((r) => r.ok) ? 0 : 1);
})().catch((e) => {
  console.error(e && e.stack || String(e));
  process.exit(2);
});
