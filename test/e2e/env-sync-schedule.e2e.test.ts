/**
 * The App process runs the scheduled env sync by itself: the real App (`src/app/main.ts`) against
 * the sandbox process, with a one-minute pass so the test does not wait an hour. Nothing triggers
 * the sync but the App's own schedule.
 */
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, expect, test } from '@jest/globals';
import { startAppProcess, startSandboxProcess, type AppProcess, type ManagedProcess } from '../../src/demo/processes.js';
import { SANDBOX_ADMIN_TOKEN } from '../../src/sandbox/index.js';

let sandbox: ManagedProcess;
let app: AppProcess | null = null;

beforeAll(async () => {
  sandbox = await startSandboxProcess();
}, 60_000);
afterAll(async () => {
  await app?.stop();
  await sandbox.stop();
});

const api = async (method: string, path: string, body?: unknown): Promise<Response> =>
  fetch(`${sandbox.url}${path}`, { method, headers: { authorization: `token ${SANDBOX_ADMIN_TOKEN}`, 'content-type': 'application/json' }, ...(body ? { body: JSON.stringify(body) } : {}) });

async function waitFor<T>(what: string, fn: () => Promise<T | null>, timeoutMs: number): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== null) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}\n${app?.output().slice(-3000) ?? ''}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

test('the App syncs a repository that declares environment.json, on its own, within one pass', async () => {
  expect((await api('POST', '/_sandbox/repos', { owner: 'acme', repo: 'scheduled' })).status).toBe(201);
  const declaration = {
    repository: {
      variables: { API_URL: 'https://api.example.test', REGION: 'eu-west-1' },
      // Readable only because LIVING_BRIDGE_FROM_ENV_ALLOW names it for this repository.
      secrets: { DEPLOY_TOKEN: { source: 'from_env', env: 'SCHEDULED_DEPLOY_TOKEN' } },
    },
  };
  const put = await api('PUT', '/repos/acme/scheduled/contents/.github/environment.json', {
    message: 'declare the environment',
    content: Buffer.from(JSON.stringify(declaration, null, 2)).toString('base64'),
  });
  expect(put.status).toBe(201);

  app = await startAppProcess(sandbox.url, {
    LIVING_BRIDGE_ENV_SYNC_SCHEDULE: 'on',
    LIVING_BRIDGE_ENV_SYNC_PERIOD_MINUTES: '1',
    SCHEDULED_DEPLOY_TOKEN: 'scheduled-deploy-token-value',
    LIVING_BRIDGE_FROM_ENV_ALLOW: 'acme/scheduled:SCHEDULED_DEPLOY_TOKEN',
  });
  const variables = await waitFor('the scheduled sync', async () => {
    const state = (await (await api('GET', '/_sandbox/state/acme/scheduled')).json()) as { variables: { name: string; value: string }[]; secrets: { name: string }[] };
    return state.variables.length === 2 && state.secrets.length === 1 ? state.variables : null;
  }, 150_000);
  expect(Object.fromEntries(variables.map((v) => [v.name, v.value]))).toEqual({ API_URL: 'https://api.example.test', REGION: 'eu-west-1' });
  // The sync was certified in the repository's ledger branch (committed right after the writes).
  const cert = await waitFor('the sync certificate', async () => {
    const res = await api('GET', '/repos/acme/scheduled/contents/.bridge/certificates?ref=bridge-ledger');
    return res.status === 200 ? ((await res.json()) as { name: string }[]) : null;
  }, 30_000);
  expect(cert.length).toBeGreaterThanOrEqual(1);
  const sha256 = createHash('sha256').update('scheduled-deploy-token-value').digest('hex');
  const check = (await (await api('GET', `/_sandbox/secret-check/acme/scheduled/DEPLOY_TOKEN?expected_sha256=${sha256}`)).json()) as { exists: boolean; match: boolean };
  expect(check).toEqual(expect.objectContaining({ exists: true, match: true }));
  expect(app.output()).toContain('env sync schedule: on');
  expect(app.output()).not.toContain('scheduled-deploy-token-value');
}, 200_000);
