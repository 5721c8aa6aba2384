/**
 * What `npm start` runs: the production bundle (scripts/build-app.mjs → dist/server/main.js), not the
 * TypeScript sources. Built here, started as its own process against the sandbox process, and driven
 * with a signed webhook through a whole heal, so the lazily loaded chunk of the flows
 * is proven to load from the bundle.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, jest, test } from '@jest/globals';
import { PROJECT_ROOT, eventually, sandboxControl, sendWebhook, startAppProcess, startSandboxProcess, type AppProcess, type ManagedProcess } from '../../src/demo/processes.js';
import { failingRun, seedDemoRepo } from '../../src/demo/scenario.js';
import { SCENARIO_VALUES } from '../../src/sandbox/scenarios.js';

jest.setTimeout(180_000);

let sandbox: ManagedProcess;
let app: AppProcess;

beforeAll(async () => {
  execFileSync(process.execPath, [join(PROJECT_ROOT, 'scripts/build-app.mjs')], { cwd: PROJECT_ROOT, stdio: 'pipe' });
  sandbox = await startSandboxProcess();
  app = await startAppProcess(sandbox.url, { DEPLOY_TOKEN: SCENARIO_VALUES.DEPLOY_TOKEN, LIVING_BRIDGE_FROM_ENV_ALLOW: 'DEPLOY_TOKEN' }, { entry: 'dist/server/main.js' });
  await sandboxControl(sandbox.url, 'POST', '/_sandbox/webhook', { url: `${app.url}/api/github/webhooks`, secret: app.webhookSecret, auto: true });
});

afterAll(async () => {
  await app?.stop();
  await sandbox?.stop();
});

describe('the production bundle (npm start)', () => {
  test('is what package.json starts', async () => {
    const pkg = (await import('../../package.json', { with: { type: 'json' } })).default as { scripts: Record<string, string> };
    expect(pkg.scripts.start).toBe('node dist/server/main.js');
    expect(existsSync(join(PROJECT_ROOT, 'dist/server/main.js'))).toBe(true);
  });

  test('names its version, logs GitHub reachability, and heals a missing secret through a webhook', async () => {
    const health = (await (await fetch(`${app.url}/healthz`)).json()) as { version: string };
    const pkg = (await import('../../package.json', { with: { type: 'json' } })).default as { version: string };
    expect(health.version).toBe(pkg.version);
    await eventually(async () => (app.output().includes('GitHub reachable at') ? true : undefined), 20_000, 'startup check line');

    const repo = await seedDemoRepo(sandbox.url, 'missing-secret', { repo: 'prod-build-missing-secret' });
    const run = await failingRun(sandbox.url, repo.fullName, repo);
    const sent = await sendWebhook(app.url, app.webhookSecret, 'workflow_run', run.payload);
    expect(sent.status).toBe(202);
    const done = await eventually(async () => {
      const res = await fetch(`${app.url}/api/autonomy/jobs/wh-${sent.deliveryId}`, { headers: { authorization: `Bearer ${app.apiToken}` } });
      const body = (await res.json()) as { status: string; result?: { status: string } };
      return body.status !== 'queued' ? body : undefined;
    }, 60_000, 'heal job');
    expect(done).toMatchObject({ status: 'done', result: { status: 'healed' } });
  });

  test('a webhook with a wrong signature is refused by the bundle too', async () => {
    const sent = await sendWebhook(app.url, 'not-the-secret', 'ping', { zen: 'x' });
    expect(sent.status).toBe(401);
  });
});
