// Drives Debian's chromium with playwright-core against a live `distillguard serve` (started by
// ui_browser.sh) as an analyst would. Modes:
//   review URL TOKEN OUT      log in, open the top case, see its plots and evidence, block it and
//                             check /v1/decide blocks its accounts, undo, find both in the audit
//                             log, confirm it and block one member (checked after kill -9 by the
//                             shell); writes OUT/review.json (what the shell checks next)
//   after URL TOKEN OUT       after the restart: log in again, the audit log still lists the
//                             actions, the member's block still holds
//   xss URL TOKEN ACCOUNT [HTML]  open the case of an account whose id, agent and prompts carry
//                             script and HTML: all shown as text, no script ran; the same in the
//                             static report file HTML (scan --html) when given
//   screenshots URL TOKEN DIR write DIR/ui-queue.png and DIR/ui-case.png
// Exits non-zero with a message at the first failed expectation.
import { chromium } from 'playwright-core';
import { writeFileSync, readFileSync } from 'node:fs';

const [mode, base, token, arg, arg2] = process.argv.slice(2);
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';

function fail(msg) {
  console.error('FAIL: ' + msg);
  process.exit(1);
}
function expect(cond, msg) {
  if (!cond) fail(msg);
}

async function decide(account) {
  const r = await fetch(base + '/v1/decide', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ account_id: account }),
  });
  expect(r.ok, `decide ${account}: HTTP ${r.status}`);
  return (await r.json()).action;
}

async function admin(path) {
  const r = await fetch(base + path, { headers: { authorization: 'Bearer ' + token } });
  expect(r.ok, `${path}: HTTP ${r.status}`);
  return r.json();
}

async function newPage(browser) {
  const context = await browser.newContext({ viewport: { width: 1440, height: 1000 } });
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push('page error: ' + e.message));
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push('console error: ' + m.text());
  });
  page.on('dialog', async (d) => {
    errors.push('dialog opened: ' + d.message());
    await d.dismiss();
  });
  return { context, page, errors };
}

async function login(page, user, errors) {
  await page.goto(base + '/ui/');
  await page.fill('#user', user);
  await page.fill('#token', 'wrong-' + token);
  await page.click('#login');
  await page.waitForSelector('#login-error');  // a wrong token is refused (401)
  errors.length = 0;
  await page.fill('#user', user);
  await page.fill('#token', token);
  await page.click('#login');
  await page.waitForSelector('[data-testid=user]');
  expect((await page.textContent('[data-testid=user]')) === user, 'signed-in name shown');
  const cookies = await page.context().cookies();
  const c = cookies.find((x) => x.name === 'dg_session');
  expect(c && c.httpOnly && c.sameSite === 'Strict', 'session cookie is HttpOnly and SameSite=Strict');
}

async function openTopCase(page) {
  await page.waitForSelector('[data-testid=case-row]');
  const first = page.locator('[data-testid=case-row]').first();
  const kind = await first.getAttribute('data-kind');
  const id = await first.getAttribute('data-id');
  await first.click();
  await page.waitForSelector('[data-testid=case-title]');
  return { kind, id };
}

async function waitForCaseAction(page, action) {
  await page.waitForFunction((a) => {
    const m = document.querySelector('[data-testid=action-msg]');
    return m && m.textContent.includes(a);
  }, action, { timeout: 10000 });
  await page.waitForSelector('[data-testid=audit-table]');
}

async function review(browser, out) {
  const { page, errors } = await newPage(browser);
  await login(page, 'Ana Lyst', errors);
  const queueRows = await page.locator('[data-testid=case-row]').count();
  expect(queueRows > 0, 'the queue lists cases');
  const top = await openTopCase(page);
  console.log(`ui: ${queueRows} cases in the queue; top case ${top.kind} ${top.id}`);
  // Plots: uPlot draws on a canvas inside each chart; the peer median and the flag line are series
  // and a hook, so check the legend names them.
  for (const id of ['plot-requests', 'plot-output', 'plot-score']) {
    await page.waitForSelector(`[data-testid=${id}] canvas`);
  }
  const legend = await page.textContent('[data-testid=plot-output]');
  expect(legend.includes('peer median'), 'output plot has the peer median');
  const evidence = await page.locator('[data-testid=evidence-table] tbody tr').count();
  expect(evidence > 0, 'the case shows its evidence');
  const evText = await page.textContent('[data-testid=evidence-table]');
  expect(/\d/.test(evText), 'evidence carries figures');
  await page.waitForSelector('[data-testid=graph] canvas');

  // The case's accounts, from the admin API (what the page shows in members / title).
  const c = await admin(`/v1/case?kind=${encodeURIComponent(top.kind)}&id=${encodeURIComponent(top.id)}`);
  const accounts = c.members.map((m) => m.account_id);
  expect(accounts.length > 0, 'case has accounts');
  const before = await Promise.all(accounts.map(decide));
  expect(before.every((a) => a !== 'block'), 'not blocked before the action: ' + before.join(','));

  await page.fill('#note', 'harvesting campaign, blocking pending review');
  await page.click('button[data-action=block]');
  await waitForCaseAction(page, 'block');
  const blocked = await Promise.all(accounts.map(decide));
  expect(blocked.every((a) => a === 'block'), 'every account of the case is blocked: ' + blocked.join(','));

  await page.fill('#note', 'undo: wrong case');
  await page.click('button[data-action=clear]');
  await waitForCaseAction(page, 'clear');
  const after = await Promise.all(accounts.map(decide));
  expect(after.every((a) => a !== 'block'), 'undo lifts the block: ' + after.join(','));

  // The audit log page lists both, with who and why.
  await page.click('a[href="#/audit"]');
  await page.waitForSelector('[data-testid=audit-log-table]');
  const audit = await page.textContent('[data-testid=audit-log-table]');
  for (const s of ['block', 'clear', 'Ana Lyst', 'harvesting campaign, blocking pending review', 'undo: wrong case', top.id]) {
    expect(audit.includes(s), `audit log shows "${s}"`);
  }

  // Leave durable state for the kill -9 check: the case confirmed, one member blocked.
  await page.goBack();
  await page.waitForSelector('button[data-action=confirm]');
  await page.fill('#note', 'confirmed by review');
  await page.click('button[data-action=confirm]');
  await waitForCaseAction(page, 'confirm');
  const member = accounts[0];
  await page.goto(base + '/ui/#/case/account/-/' + encodeURIComponent(member));
  await page.waitForSelector('button[data-action=block]');
  await page.fill('#note', 'member kept blocked');
  await page.click('button[data-action=block]');
  await waitForCaseAction(page, 'block');
  expect((await decide(member)) === 'block', 'member blocked');

  expect(errors.length === 0, 'no page errors: ' + errors.join('; '));
  // CSRF: the same session without the token is refused.
  const csrfless = await page.evaluate(async () => {
    const r = await fetch('/v1/actions', { method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ kind: 'account', target: 'x', action: 'block' }) });
    return r.status;
  });
  expect(csrfless === 403, 'an action without the CSRF token is refused (got ' + csrfless + ')');
  const audited = await admin('/v1/audit');
  expect(!audited.some((a) => a.target === 'x'), 'the refused action left no trace');
  writeFileSync(out + '/review.json', JSON.stringify({ kind: top.kind, id: top.id, member, accounts }));
}

async function after(browser, out) {
  const state = JSON.parse(readFileSync(out + '/review.json', 'utf8'));
  const { page, errors } = await newPage(browser);
  await login(page, 'Bo Reviewer', errors);
  await page.goto(base + '/ui/#/audit');
  await page.waitForSelector('[data-testid=audit-log-table]');
  const audit = await page.textContent('[data-testid=audit-log-table]');
  for (const s of ['harvesting campaign, blocking pending review', 'undo: wrong case', 'confirmed by review', 'member kept blocked']) {
    expect(audit.includes(s), `after restart the audit log still shows "${s}"`);
  }
  expect((await decide(state.member)) === 'block', 'the member block survived kill -9');
  await page.goto(base + '/ui/#/');
  await page.selectOption('[data-filter=status]', 'confirmed');
  await page.waitForSelector(`[data-testid=case-row][data-id="${state.id}"]`);
  expect(errors.length === 0, 'no page errors: ' + errors.join('; '));
}

async function checkXssPage(page, errors, account, where) {
  await page.waitForSelector('[data-testid=case-title]');
  await page.waitForSelector('[data-testid=prompt]');
  const ran = await page.evaluate(() => window.__xss);
  expect(ran === undefined, `${where}: no injected script ran (window.__xss = ${ran})`);
  expect(errors.length === 0, `${where}: no dialog or page error: ` + errors.join('; '));
  const title = await page.textContent('[data-testid=case-title]');
  expect(title.includes(account), `${where}: the id is shown as text`);
  const prompts = (await page.locator('[data-testid=prompt]').allTextContents()).join('\n');
  expect(prompts.includes('<script>window.__xss=3</script>'), `${where}: the prompt is shown as text`);
  expect(prompts.includes('<b>bold</b>'), `${where}: HTML in a prompt is shown as text`);
  const indicators = await page.textContent('[data-testid=indicators]');
  expect(indicators.includes('<script>window.__xss=2</script>'), `${where}: the agent is shown as text`);
  expect((await page.locator('img').count()) === 0, `${where}: no <img> element was created`);
  expect((await page.locator('main b').count()) === 0, `${where}: no <b> element was created`);
  console.log(`ui: ${where}: script and HTML in id, agent and prompts shown as text`);
}

async function xss(browser, account, html) {
  {
    const { page, errors } = await newPage(browser);
    await login(page, 'Xss Checker', errors);
    await page.waitForSelector('[data-testid=case-row]');
    // The hostile id is in the queue, as text.
    const queue = await page.textContent('[data-testid=queue]');
    expect(queue.includes(account), 'the hostile account id is listed in the queue as text');
    await page.goto(base + '/ui/#/case/account/-/' + encodeURIComponent(account));
    await checkXssPage(page, errors, account, 'live');
    // Acting on it stores and shows the note as text too.
    await page.fill('#note', '<img src=x onerror="window.__xss=4">');
    await page.click('button[data-action=confirm]');
    await waitForCaseAction(page, 'confirm');
    const trail = await page.textContent('[data-testid=audit-table]');
    expect(trail.includes('<img src=x onerror="window.__xss=4">'), 'the note is shown as text');
    expect((await page.evaluate(() => window.__xss)) === undefined, 'no script ran from the note');
    expect((await page.locator('img').count()) === 0, 'no <img> from the note');
  }
  if (html) {
    const { page, errors } = await newPage(browser);
    await page.goto('file://' + html + '#/case/account/-/' + encodeURIComponent(account));
    await checkXssPage(page, errors, account, 'static report');
  }
}

async function screenshots(browser, dir) {
  const { page, errors } = await newPage(browser);
  await login(page, 'Ana Lyst', errors);
  await page.waitForSelector('[data-testid=case-row]');
  await page.screenshot({ path: dir + '/ui-queue.png' });
  // The top cluster (a campaign of linked accounts) shows the most: its graph and members.
  const cluster = page.locator('[data-testid=case-row][data-kind=cluster]').first();
  if (await cluster.count()) {
    await cluster.click();
    await page.waitForSelector('[data-testid=case-title]');
  } else {
    await openTopCase(page);
  }
  await page.waitForSelector('[data-testid=plot-output] canvas');
  await page.waitForSelector('[data-testid=graph] canvas');
  await page.waitForTimeout(500);
  await page.screenshot({ path: dir + '/ui-case.png', fullPage: true });
  expect(errors.length === 0, 'no page errors: ' + errors.join('; '));
  console.log(`screenshots: ${dir}/ui-queue.png ${dir}/ui-case.png`);
}

const browser = await chromium.launch({
  executablePath: CHROMIUM,
  args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
});
try {
  if (mode === 'review') await review(browser, arg);
  else if (mode === 'after') await after(browser, arg);
  else if (mode === 'xss') await xss(browser, arg, arg2);
  else if (mode === 'screenshots') await screenshots(browser, arg);
  else fail('unknown mode ' + mode);
} catch (e) {
  fail(e.stack || String(e));
} finally {
  await browser.close();
}
