/**
 * The status page in real headless Chromium (Debian's chromium, driven by playwright-core) against
 * the real App process after real heals on the sandbox: refused without the token, shown with it,
 * with the open incident, the decisions and a rendered EMA chart. The screenshot is kept in the
 * test output (.ci/out/status.png); UPDATE_DOCS_SCREENSHOT=1 also refreshes docs/img/status.png.
 */
import { afterAll, beforeAll, expect, jest, test } from '@jest/globals';
import { copyFileSync, existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { OUT_DIR, describeWithChromium, launchChromium } from '../support/chromium.js';
import { SANDBOX_ADMIN_TOKEN } from '../../src/sandbox/index.js';
import { SCENARIO_VALUES } from '../../src/sandbox/scenarios.js';
import { eventually, sandboxControl, sendWebhook, startAppProcess, startSandboxProcess, type AppProcess, type ManagedProcess } from '../../src/demo/processes.js';
import { DEMO_AUTONOMY_YML, failingRun, repoState, seedDemoRepo } from '../../src/demo/scenario.js';

jest.setTimeout(180_000);

const maybe = describeWithChromium('status page');

let sandbox: ManagedProcess;
let app: AppProcess;
let browser: Browser;

const api = async (path: string) => {
  const res = await fetch(`${app.url}${path}`, { headers: { authorization: `Bearer ${app.apiToken}` } });
  return (await res.json().catch(() => null)) as Record<string, unknown>;
};
const healVia = async (scenario: string, repo: string, autonomyYml?: string, existing?: Awaited<ReturnType<typeof seedDemoRepo>>) => {
  const seeded = existing ?? (await seedDemoRepo(sandbox.url, scenario, { repo, autonomyYml }));
  const run = await failingRun(sandbox.url, seeded.fullName, seeded);
  const sent = await sendWebhook(app.url, app.webhookSecret, 'workflow_run', run.payload);
  expect(sent.status).toBe(202);
  await eventually(async () => {
    const r = await api(`/api/autonomy/jobs/wh-${sent.deliveryId}`);
    return r.status && r.status !== 'queued' ? r : undefined;
  }, 60_000, `heal of ${repo}`);
  return { ...seeded, runId: run.runId };
};

maybe('status page in headless Chromium', () => {
  beforeAll(async () => {
    sandbox = await startSandboxProcess();
    app = await startAppProcess(sandbox.url, { DEPLOY_TOKEN: SCENARIO_VALUES.DEPLOY_TOKEN, LIVING_BRIDGE_FROM_ENV_ALLOW: 'DEPLOY_TOKEN' });
    await sandboxControl(sandbox.url, 'POST', '/_sandbox/webhook', { url: `${app.url}/api/github/webhooks`, secret: app.webhookSecret, auto: true });
    const healed = await healVia('missing-secret', 'checkout-api');
    // The re-run goes green: its outcome is the first point of the EMA chart.
    await eventually(async () => {
      const s = await repoState(sandbox.url, healed.fullName);
      return s.runs.find((r) => r.id === healed.runId)?.conclusion === 'success' ? s : undefined;
    }, 30_000, 're-run success');
    await eventually(async () => {
      const v = await api(`/api/autonomy/verify?repository=${healed.fullName}`);
      return v.ok === true && (v.length as number) >= 2 ? v : undefined;
    }, 30_000, 'the outcome certificate');
    await healVia('wrong-credential', 'billing-worker', DEMO_AUTONOMY_YML.replace(/DEPLOY_TOKEN/g, 'API_KEY'));
    // Two flaky runs re-run green one after the other (no cooldown): two points on one EMA line.
    const flakyYml = `${DEMO_AUTONOMY_YML}cooldowns:\n  default_minutes: 0\n`;
    let seededFlaky: Awaited<ReturnType<typeof seedDemoRepo>> | undefined;
    for (let i = 0; i < 2; i++) {
      const flaky = await healVia('flaky-network', 'search-indexer', flakyYml, seededFlaky);
      seededFlaky = flaky;
      await eventually(async () => {
        const v = await api(`/api/autonomy/verify?repository=${flaky.fullName}`);
        return v.ok === true && (v.length as number) >= 2 * (i + 1) ? v : undefined;
      }, 30_000, `outcome ${i + 1} of search-indexer`);
    }
    browser = await launchChromium(['--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync']);
  });

  afterAll(async () => {
    await browser?.close();
    await app?.stop();
    await sandbox?.stop();
  });

  test('the App keeps one dashboard issue per repository, updated after the heal and its outcome', async () => {
    const issue = await eventually(async () => {
      const res = await fetch(`${sandbox.url}/api/v3/repos/acme/checkout-api/issues?state=all&per_page=100`, { headers: { authorization: `token ${SANDBOX_ADMIN_TOKEN}` } });
      const all = (await res.json()) as { title: string; body: string | null; pull_request?: unknown }[];
      const found = all.filter((i) => !i.pull_request && (i.body ?? '').includes('<!-- living-bridge:dashboard -->')) as { title: string; body: string }[];
      return found.length === 1 && found[0]!.body.includes('| CREATE_SECRET | 0.55 |') ? found : undefined;
    }, 30_000, 'the dashboard issue with the learned EMA');
    expect(issue[0]!.title).toBe('Living Bridge dashboard');
    expect(issue[0]!.body).toMatch(/\| 1 \| 1 \| 0 \| \d+ s \|/);
  });

  test('without the token the page is refused and shows nothing of the repositories', async () => {
    const page = await browser.newPage();
    const res = await page.goto(`${app.url}/status`);
    expect(res?.status()).toBe(401);
    expect(await page.textContent('body')).toContain('needs the API token');
    expect(await page.locator('section.repo').count()).toBe(0);
    const wrong = await page.goto(`${app.url}/status?token=not-the-token-at-all`);
    expect(wrong?.status()).toBe(401);
    await page.close();
  });

  test('with the token: incidents, decisions with their numbers, a rendered EMA chart, the chain verified; a screenshot is kept', async () => {
    const context = await browser.newContext({ viewport: { width: 1180, height: 900 } });
    const page = await context.newPage();
    const res = await page.goto(`${app.url}/status?token=${app.apiToken}`);
    // The token is swapped for a cookie and leaves the address bar.
    expect(res?.status()).toBe(200);
    expect(new URL(page.url()).search).toBe('');
    expect(await page.title()).toBe('Living Bridge status');

    mkdirSync(OUT_DIR, { recursive: true });
    const shot = join(OUT_DIR, 'status.png');
    await page.screenshot({ path: shot, fullPage: true });
    expect(existsSync(shot)).toBe(true);

    const healed = page.locator('section.repo[data-repository="acme/checkout-api"]');
    await expect(healed.locator('[data-verified="true"]').textContent()).resolves.toMatch(/chain verifies · \d+ certificates/);
    const decisions = await healed.locator('[data-block="decisions"]').textContent();
    expect(decisions).toContain('CREATE_SECRET → RERUN');
    expect(decisions).toContain('success');
    expect(decisions).toMatch(/0\.\d\d/);
    // The chart is drawn: a line for CREATE_SECRET with a real size on screen.
    const series = healed.locator('svg.chart polyline[data-action="CREATE_SECRET"]');
    expect(await series.count()).toBe(1);
    const box = await healed.locator('svg.chart').boundingBox();
    expect(box!.width).toBeGreaterThan(300);
    expect(box!.height).toBeGreaterThan(100);
    expect(await healed.locator('svg.chart circle').count()).toBeGreaterThan(0);
    expect(await healed.locator('svg.chart .legend').first().textContent()).toMatch(/CREATE_SECRET 0\.55/);

    const flaky = page.locator('section.repo[data-repository="acme/search-indexer"]');
    expect(await flaky.locator('svg.chart circle').count()).toBeGreaterThanOrEqual(2);
    expect(await flaky.locator('.figures').textContent()).toContain('2healed without a human');

    const escalated = page.locator('section.repo[data-repository="acme/billing-worker"]');
    const incidents = await escalated.locator('[data-block="incidents"]').textContent();
    expect(incidents).toContain('escalated');
    expect(await escalated.locator('.figures').textContent()).toContain('1escalated');

    // A reload rides on the cookie alone.
    const again = await page.goto(`${app.url}/status`);
    expect(again?.status()).toBe(200);

    if (process.env.UPDATE_DOCS_SCREENSHOT === '1') copyFileSync(shot, join(process.cwd(), 'docs/img/status.png'));
    await context.close();
  });
});
