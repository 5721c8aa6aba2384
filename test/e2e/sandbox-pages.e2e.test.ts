/**
 * The sandbox's HTML pages in real headless Chromium (Debian's chromium, driven by playwright-core),
 * end to end with the real App process: a suggestion comment appears on the pull request page, its
 * run link opens the run page, and `/bridge approve <id>` typed into the page's comment box reaches
 * the App as an `issue_comment` webhook, which executes the suggestion (the secret is created and the
 * run re-runs green). The screenshot is kept in the test output (.ci/out/sandbox-pull.png);
 * UPDATE_DOCS_SCREENSHOT=1 also refreshes docs/img/sandbox-pull.png.
 */
import { copyFileSync, existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, jest, test } from '@jest/globals';
import type { Browser } from 'playwright-core';
import { OUT_DIR, describeWithChromium, launchChromium } from '../support/chromium.js';
import { SCENARIO_VALUES, startSandbox, type Sandbox } from '../../src/sandbox/index.js';
import { eventually, sandboxControl, sendWebhook, startAppProcess, type AppProcess } from '../../src/demo/processes.js';
import { DEMO_AUTONOMY_YML, failingRun, repoState, seedDemoRepo, sha256 } from '../../src/demo/scenario.js';

jest.setTimeout(180_000);

const maybe = describeWithChromium('sandbox pages');

let sandbox: Sandbox;
let app: AppProcess;
let browser: Browser;

maybe('sandbox HTML pages in Chromium', () => {
  beforeAll(async () => {
    sandbox = await startSandbox();
    app = await startAppProcess(sandbox.url, { DEPLOY_TOKEN: SCENARIO_VALUES.DEPLOY_TOKEN, LIVING_BRIDGE_FROM_ENV_ALLOW: 'DEPLOY_TOKEN' });
    await sandboxControl(sandbox.url, 'POST', '/_sandbox/webhook', { url: `${app.url}/api/github/webhooks`, secret: app.webhookSecret, auto: true });
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await app?.stop();
    await sandbox?.close();
  });

  test('/bridge approve typed into the pull request page is executed by the App; the run link opens the run page', async () => {
    const repo = await seedDemoRepo(sandbox.url, 'missing-secret', { repo: 'pages-approve', autonomyYml: DEMO_AUTONOMY_YML.replace('default_level: full', 'default_level: suggest') });
    const [owner, name] = repo.fullName.split('/') as [string, string];
    sandbox.state.setCollaborator(owner, name, 'maria', 'write');
    const run = await failingRun(sandbox.url, repo.fullName, repo);
    expect((await sendWebhook(app.url, app.webhookSecret, 'workflow_run', run.payload)).status).toBe(202);
    const suggestion = await eventually(async () => {
      const s = await repoState(sandbox.url, repo.fullName);
      return s.comments.find((c) => c.issue_number === repo.pullNumber && c.body.includes('/bridge approve '));
    }, 30_000, 'the suggestion comment');
    const id = /\/bridge approve ([\w:.-]+)/.exec(suggestion.body)![1]!;

    const page = await browser.newPage({ viewport: { width: 1100, height: 900 } });
    const pullUrl = `${sandbox.url}/${repo.fullName}/pull/${repo.pullNumber}`;
    expect((await page.goto(pullUrl))?.status()).toBe(200);
    await expect(page.locator('.comment').first().innerText()).resolves.toContain(`/bridge approve ${id}`);

    // The run link in Living Bridge's comment opens the run page with the failed job's log.
    const runLink = page.locator(`.comment a[href$="/actions/runs/${run.runId}"]`).first();
    await runLink.click();
    await page.waitForURL(`**/actions/runs/${run.runId}`);
    await expect(page.locator('h1').innerText()).resolves.toContain('Build & Deploy');
    await expect(page.locator('pre').first().innerText()).resolves.toContain('DEPLOY_TOKEN is not set');

    await page.goto(pullUrl);
    await page.fill('input[name="user"]', 'maria');
    await page.fill('textarea[name="body"]', `Looks right.\n/bridge approve ${id}`);
    await page.click('button[type="submit"]');
    await page.locator('#sent', { hasText: 'sent to the App' }).waitFor();
    // The App's answer arrives as its own comment; the page shows it after a reload.
    await eventually(async () => {
      await page.goto(pullUrl);
      const texts = await page.locator('.comment').allInnerTexts();
      return texts.some((t) => t.includes('Approved by @maria')) ? true : undefined;
    }, 30_000, 'the approval reply on the page').catch((err: unknown) => {
      const hooks = sandbox.state.hookDeliveries.map((d) => `${d.event} ${d.status_code} ${String(d.response.payload).slice(0, 300)}`);
      throw new Error(`${(err as Error).message}\ndeliveries:\n${hooks.join('\n')}\napp:\n${app.output().slice(-3000)}`);
    });
    const check = await sandboxControl<{ exists: boolean; match: boolean }>(sandbox.url, 'GET', `/_sandbox/secret-check/${repo.fullName}/DEPLOY_TOKEN?expected_sha256=${sha256(SCENARIO_VALUES.DEPLOY_TOKEN)}`);
    expect(check).toMatchObject({ exists: true, match: true });

    mkdirSync(OUT_DIR, { recursive: true });
    const shot = join(OUT_DIR, 'sandbox-pull.png');
    await page.screenshot({ path: shot, fullPage: true });
    expect(existsSync(shot)).toBe(true);
    if (process.env.UPDATE_DOCS_SCREENSHOT) copyFileSync(shot, join(process.cwd(), 'docs/img/sandbox-pull.png'));

    // The run page now shows the green re-run.
    await page.goto(`${sandbox.url}/${repo.fullName}/actions/runs/${run.runId}`);
    await eventually(async () => {
      await page.reload();
      return (await page.locator('[data-attempt="2"]').count()) > 0 ? true : undefined;
    }, 30_000, 'the re-run attempt on the run page');
    await expect(page.locator('[data-attempt="2"] .head').innerText()).resolves.toContain('success');
    await page.close();
  });
});
