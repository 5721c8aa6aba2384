/**
 * The App's webhook door as a Probot app function (issue #9 item 5): deliveries go through Probot's
 * webhooks (`probot.webhooks.verify`, then `receive` to the `app.on(…)` handlers of src/app/webhooks.ts).
 */
import { createHmac, randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { pino } from 'pino';
import { startApp, type RunningApp } from '../../src/app/server.js';
import { appPrivateKey } from '../../src/demo/processes.js';
import { startSandbox, type Sandbox } from '../../src/sandbox/index.js';

describe('webhook deliveries through Probot', () => {
  let sandbox: Sandbox;
  let app: RunningApp;
  let logs = '';
  const secret = `whsec-${randomBytes(8).toString('hex')}`;

  beforeAll(async () => {
    sandbox = await startSandbox();
    const sink = new Writable({ write(chunk: Buffer, _e, cb) { logs += chunk.toString(); cb(); } });
    app = await startApp(
      {
        PORT: '0', APP_ID: '1', PRIVATE_KEY: appPrivateKey(), WEBHOOK_SECRET: secret,
        AUTONOMY_API_TOKEN: 'lb-api-0123456789abcdef', TRUTH_SIGNING_KEY: randomBytes(32).toString('base64'),
        GHE_HOST: new URL(sandbox.url).host, GHE_PROTOCOL: 'http', LIVING_BRIDGE_CLIENT_PACING: 'off', LOG_LEVEL: 'silent',
        LIVING_BRIDGE_ENV_SYNC_SCHEDULE: 'off', LIVING_BRIDGE_REDELIVERY_SWEEP_SECONDS: '0',
      },
      { log: pino({ level: 'debug' }, sink) },
    );
  });

  afterAll(async () => {
    await app?.close();
    await sandbox?.close();
  });

  const deliver = async (event: string, payload: unknown, delivery = randomBytes(8).toString('hex')) => {
    const body = JSON.stringify(payload);
    const res = await fetch(`${app.url}/api/github/webhooks`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-github-event': event, 'x-github-delivery': delivery, 'x-hub-signature-256': `sha256=${createHmac('sha256', secret).update(body).digest('hex')}` },
      body,
    });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };
  const failed = (runId: number, installation: unknown = { id: 1 }) => ({ action: 'completed', workflow_run: { id: runId, run_attempt: 1, conclusion: 'failure' }, repository: { full_name: 'acme/probot-door' }, installation });

  test('workflow_run.completed reaches its handler: 202 with the job id; the same delivery again is a duplicate', async () => {
    const first = await deliver('workflow_run', failed(9101), 'same-delivery');
    expect(first).toEqual({ status: 202, body: { job_id: 'wh-same-delivery', duplicate: false } });
    // De-duplicated by delivery id (another run, same X-GitHub-Delivery: a redelivery), concurrently too.
    const again = await Promise.all([deliver('workflow_run', failed(9102), 'same-delivery'), deliver('workflow_run', failed(9101), 'other-delivery')]);
    expect(again.map((a) => a.body)).toEqual([{ job_id: 'wh-same-delivery', duplicate: true }, { job_id: 'wh-other-delivery', duplicate: true }]);
  });

  test('concurrent deliveries each get their own handler\'s answer', async () => {
    const answers = await Promise.all([
      deliver('workflow_run', failed(9201)),
      deliver('workflow_run', { ...failed(9202), workflow_run: { id: -1, run_attempt: 1, conclusion: 'failure' } }),
      deliver('check_run', { action: 'completed', check_run: { head_sha: 'a'.repeat(40) }, repository: { full_name: 'acme/probot-door' } }),
      deliver('issue_comment', { action: 'created', comment: { body: 'looks good', user: { login: 'ann', type: 'User' } }, issue: { number: 1 }, repository: { full_name: 'acme/probot-door' } }),
      deliver('status', { sha: 'b'.repeat(40), repository: { full_name: 'acme/probot-door' } }),
    ]);
    expect(answers[0]).toMatchObject({ status: 202, body: { duplicate: false } });
    expect(answers[1]).toMatchObject({ status: 422, body: { error: expect.stringContaining('run_id') } });
    expect(answers[2]).toEqual({ status: 202, body: { noted: 'check_run of aaaaaaa' } });
    expect(answers[3]).toEqual({ status: 202, body: { ignored: 'not a /bridge command' } });
    expect(answers[4]).toEqual({ status: 202, body: { noted: 'status of bbbbbbb' } });
  });

  test('a signed payload whose installation.id Probot could not authenticate with is a 400 with the reason', async () => {
    for (const installation of [{ id: 'abc' }, { id: -3 }, { id: 1.5 }, 'x', {}]) {
      expect(await deliver('workflow_run', failed(9301, installation))).toEqual({ status: 400, body: { error: 'installation.id must be a positive integer' } });
    }
    // No installation at all is fine: the worker looks the installation up.
    expect((await deliver('workflow_run', failed(9302, undefined))).status).toBe(202);
  });

  test('Probot\'s reserved event names and events without a handler are ignored, never run as handlers', async () => {
    for (const event of ['error', '*', 'push', 'installation']) {
      expect(await deliver(event, { action: 'created', zen: 'x' })).toEqual({ status: 202, body: { ignored: `event ${event} is not handled` } });
    }
    expect(await deliver('workflow_run', { action: 'in_progress', workflow_run: { id: 1 }, repository: { full_name: 'acme/x' } })).toEqual({ status: 202, body: { ignored: 'workflow_run.in_progress' } });
    expect(logs).not.toMatch(/"level":50/);
    expect((await fetch(`${app.url}/healthz`)).status).toBe(200);
  });
});
