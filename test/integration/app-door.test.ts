/**
 * The App door in-process: its configuration refusals, and how its HTTP endpoint answers what is not
 * a heal (oversized bodies, non-JSON bodies with a valid signature, ping, unknown events).
 */
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { pino } from 'pino';
import { readAppSettings } from '../../src/app/config.js';
import { startApp, type RunningApp } from '../../src/app/server.js';
import { appPrivateKey, sendWebhook } from '../../src/demo/processes.js';
import { ConfigurationError } from '../../src/pipeline/build-context.js';
import { startSandbox, type Sandbox } from '../../src/sandbox/index.js';
import { createHmac, randomBytes } from 'node:crypto';

const PEM = appPrivateKey();
const GOOD = { WEBHOOK_SECRET: 'whsec-0123456789abcdef', APP_ID: '1', PRIVATE_KEY: PEM, AUTONOMY_API_TOKEN: 'lb-api-0123456789abcdef', TRUTH_SIGNING_KEY: Buffer.alloc(32, 7).toString('base64') };

describe('readAppSettings', () => {
  test('accepts a complete environment with defaults filled in', () => {
    expect(readAppSettings(GOOD)).toMatchObject({ appId: '1', webhookSecret: GOOD.WEBHOOK_SECRET, apiTokens: [{ name: 'AUTONOMY_API_TOKEN', token: GOOD.AUTONOMY_API_TOKEN, scopes: ['*'] }], port: 3000, host: '127.0.0.1', concurrency: 2 });
    expect(readAppSettings({ ...GOOD, AUTONOMY_API_TOKEN: undefined }).apiTokens).toEqual([]);
  });

  test.each([
    ['no WEBHOOK_SECRET', { WEBHOOK_SECRET: undefined }, 'WEBHOOK_SECRET is not set'],
    ['an empty WEBHOOK_SECRET', { WEBHOOK_SECRET: '' }, 'WEBHOOK_SECRET is not set'],
    ['Probot\'s "development" secret', { WEBHOOK_SECRET: 'development' }, 'WEBHOOK_SECRET must not be "development"'],
    ['no APP_ID', { APP_ID: undefined }, 'APP_ID is not set'],
    ['a non-numeric APP_ID', { APP_ID: 'abc' }, 'APP_ID="abc" is not a number'],
    ['no private key', { PRIVATE_KEY: undefined }, 'PRIVATE_KEY (or PRIVATE_KEY_PATH) is not set'],
    ['a private key that is not PEM', { PRIVATE_KEY: 'pem' }, 'PRIVATE_KEY is not a PEM private key'],
    ['a truncated private key', { PRIVATE_KEY: PEM.slice(0, 200) }, 'PRIVATE_KEY is not a PEM private key'],
    ['an unreadable PRIVATE_KEY_PATH', { PRIVATE_KEY: undefined, PRIVATE_KEY_PATH: '/nonexistent/app.pem' }, 'PRIVATE_KEY_PATH /nonexistent/app.pem cannot be read'],
    ['no signing key', { TRUTH_SIGNING_KEY: undefined }, 'TRUTH_SIGNING_KEY (or TRUTH_SIGNING_KEY_FILE) is not set'],
    ['a signing key of the wrong length', { TRUTH_SIGNING_KEY: Buffer.alloc(16).toString('base64') }, 'TRUTH_SIGNING_KEY is not a base64 Ed25519 seed'],
    ['a GHE_HOST with a scheme', { GHE_HOST: 'https://github.example.com' }, 'GHE_HOST=(value not shown) must be a host name'],
    ['a bad LOG_LEVEL', { LOG_LEVEL: 'verbose' }, 'LOG_LEVEL="verbose" is not one of'],
    ['a short API token', { AUTONOMY_API_TOKEN: 'short' }, 'AUTONOMY_API_TOKEN must be at least 16 characters'],
    ['a bad port', { PORT: 'eighty' }, 'PORT eighty is not a port number'],
    ['a zero concurrency', { LIVING_BRIDGE_CONCURRENCY: '0' }, 'LIVING_BRIDGE_CONCURRENCY must be a positive integer'],
  ])('refuses %s', (_name, patch, message) => {
    expect(() => readAppSettings({ ...GOOD, ...patch })).toThrow(ConfigurationError);
    expect(() => readAppSettings({ ...GOOD, ...patch })).toThrow(message);
  });

  test('lists every problem at once, naming each variable, without echoing the values', () => {
    let message = '';
    const badKey = `${PEM.slice(0, 120)}garbage`;
    try {
      readAppSettings({ WEBHOOK_SECRET: 'development', AUTONOMY_API_TOKEN: 'tiny-secret', APP_ID: 'abc', PRIVATE_KEY: badKey, TRUTH_SIGNING_KEY: 'short-secret-material' });
    } catch (err) {
      message = (err as Error).message;
    }
    const lines = message.split('\n').filter((l) => l.startsWith('- '));
    expect(lines).toHaveLength(5);
    for (const name of ['WEBHOOK_SECRET', 'APP_ID', 'PRIVATE_KEY', 'TRUTH_SIGNING_KEY', 'AUTONOMY_API_TOKEN']) expect(message).toContain(name);
    expect(message).not.toContain('tiny-secret');
    expect(message).not.toContain('short-secret-material');
    expect(message).not.toContain(PEM.slice(40, 100));
  });

  test('accepts the private key in the forms Probot accepts: literal \\n and base64', () => {
    expect(readAppSettings({ ...GOOD, PRIVATE_KEY: PEM.replace(/\n/g, '\\n') }).appId).toBe('1');
    expect(readAppSettings({ ...GOOD, PRIVATE_KEY: Buffer.from(PEM).toString('base64') }).appId).toBe('1');
  });
});

describe('the webhook endpoint', () => {
  let sandbox: Sandbox;
  let app: RunningApp;
  let logs = '';
  const secret = `whsec-${randomBytes(8).toString('hex')}`;

  beforeAll(async () => {
    sandbox = await startSandbox();
    const sink = new Writable({ write(chunk: Buffer, _e, cb) { logs += chunk.toString(); cb(); } });
    app = await startApp(
      {
        PORT: '0',
        APP_ID: '1',
        PRIVATE_KEY: appPrivateKey(),
        WEBHOOK_SECRET: secret,
        AUTONOMY_API_TOKEN: 'lb-api-0123456789abcdef',
        TRUTH_SIGNING_KEY: randomBytes(32).toString('base64'),
        GHE_HOST: new URL(sandbox.url).host,
        GHE_PROTOCOL: 'http',
        LIVING_BRIDGE_CLIENT_PACING: 'off',
        LOG_LEVEL: 'silent',
      },
      { log: pino({ level: 'debug' }, sink) },
    );
  });

  afterAll(async () => {
    await app?.close();
    await sandbox?.close();
  });

  const post = (body: string | Buffer, headers: Record<string, string>) =>
    fetch(`${app.url}/api/github/webhooks`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
  const signed = (body: string, event: string) => ({
    'x-hub-signature-256': `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`,
    'x-github-event': event,
    'x-github-delivery': randomBytes(8).toString('hex'),
  });

  test('a body over 25 MB is refused with 413 before anything else', async () => {
    const res = await post(Buffer.alloc(25 * 1024 * 1024 + 1, 0x20), { 'x-github-event': 'workflow_run', 'x-github-delivery': 'big' });
    expect(res.status).toBe(413);
    expect(await res.json()).toEqual({ error: 'payload too large', limit_bytes: 25 * 1024 * 1024 });
  });

  test('a correctly signed body that is not JSON: 400', async () => {
    const body = 'this is not json';
    const res = await post(body, signed(body, 'workflow_run'));
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({ error: 'body is not JSON' });
  });

  test('ping: 202, ignored', async () => {
    const res = await sendWebhook(app.url, secret, 'ping', { zen: 'Design for failure.', hook_id: 1 });
    expect(res.status).toBe(202);
    expect(res.body).toEqual({ ignored: 'event ping is not handled' });
  });

  test('workflow_run that is not a completed failure: 202, ignored, nothing queued', async () => {
    const requested = await sendWebhook(app.url, secret, 'workflow_run', { action: 'requested', workflow_run: { id: 1 }, repository: { full_name: 'acme/x' } });
    expect(requested.body).toEqual({ ignored: 'workflow_run.requested' });
    const success = await sendWebhook(app.url, secret, 'workflow_run', { action: 'completed', workflow_run: { id: 1, run_attempt: 1, conclusion: 'success' }, repository: { full_name: 'acme/x' } });
    expect(success.body).toEqual({ ignored: 'conclusion success' });
    expect(app.intake.stats()).toMatchObject({ pending: 0, running: 0 });
  });

  test('an issue comment without a /bridge command: 202, ignored', async () => {
    const res = await sendWebhook(app.url, secret, 'issue_comment', { action: 'created', comment: { body: 'nice PR', user: { login: 'maria' } }, issue: { number: 1 }, repository: { full_name: 'acme/x' } });
    expect(res).toMatchObject({ status: 202, body: { ignored: 'not a /bridge command' } });
  });

  test('a /bridge command from a bot is ignored (our own comments quote the command)', async () => {
    for (const user of [{ login: 'living-bridge[bot]', type: 'Bot' }, { login: 'renovate[bot]' }]) {
      const res = await sendWebhook(app.url, secret, 'issue_comment', { action: 'created', comment: { body: '/bridge approve 1-abc', user }, issue: { number: 1 }, repository: { full_name: 'acme/x' } });
      expect(res.status).toBe(202);
      expect(res.body).toEqual({ ignored: 'commands from bots are ignored' });
    }
  });

  test('a workflow_run failure is queued with the run from its payload', async () => {
    const { jobFromWorkflowRun } = await import('../../src/app/server.js');
    const run = { id: 42, name: 'Build & Deploy', run_attempt: 1, status: 'completed', conclusion: 'failure', head_sha: 'abc', head_branch: 'main', event: 'push', html_url: 'h', actor: { login: 'ann' }, pull_requests: [], workflow_id: 7, path: '.github/workflows/d.yml', created_at: 'c', updated_at: 'u', head_repository: { full_name: 'acme/x' } };
    const made = jobFromWorkflowRun({ action: 'completed', workflow_run: run, repository: { full_name: 'acme/x' }, installation: { id: 3 } }, 'd-1');
    expect('job' in made && made.job.workflow_run).toMatchObject({ id: 42, from_fork: false, actor: 'ann' });
    // An incomplete payload still makes a job; the worker then reads the run itself.
    const partial = jobFromWorkflowRun({ action: 'completed', workflow_run: { id: 43, conclusion: 'failure' }, repository: { full_name: 'acme/x' } }, 'd-2');
    expect('job' in partial && partial.job.workflow_run).toBeUndefined();
  });

  test('missing delivery or event headers with a valid signature: 400', async () => {
    const body = JSON.stringify({ zen: 'x' });
    const res = await post(body, { 'x-hub-signature-256': signed(body, 'ping')['x-hub-signature-256'] });
    expect(res.status).toBe(400);
  });

  test('healthz answers without a token and names the signer', async () => {
    const res = await fetch(`${app.url}/healthz`);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ ok: true, app: 'living-bridge', autonomy_enabled: true });
    expect(logs).not.toContain(secret);
  });
});
