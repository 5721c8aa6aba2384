/**
 * `living-bridge doctor` against the sandbox: every check reported at once, each problem with its
 * fix, exit 1 exactly when something blocks (a missing permission, a bad config file, GitHub out of
 * reach, App credentials that do not work), never a token or key in the output.
 */
import { generateKeyPairSync } from 'node:crypto';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { runCli } from '../../src/cli/main.js';
import type { Finding } from '../../src/cli/commands/doctor.js';
import { SANDBOX_ADMIN_TOKEN, SCENARIO_VALUES, seedScenario, startSandbox, type Sandbox } from '../../src/sandbox/index.js';

let sandbox: Sandbox;
let signingKey = '';
const pem = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs1', format: 'pem' }).toString();

interface Doctor { code: number; out: string; err: string; report: { ok: boolean; blocking: number; findings: Finding[] } }
async function doctor(argv: string[], env: Record<string, string | undefined> = {}): Promise<Doctor> {
  let out = '';
  let err = '';
  const fullEnv = { LIVING_BRIDGE_TOKEN: SANDBOX_ADMIN_TOKEN, TRUTH_SIGNING_KEY: signingKey, LIVING_BRIDGE_CLIENT_PACING: 'off', LOG_LEVEL: 'silent', ...env };
  const code = await runCli(['--api-url', sandbox.apiUrl, 'doctor', '--json', ...argv], { out: (s) => { out += s; }, err: (s) => { err += s; }, env: fullEnv });
  for (const secret of [SANDBOX_ADMIN_TOKEN, signingKey, env.LIVING_BRIDGE_TOKEN ?? SANDBOX_ADMIN_TOKEN]) expect(out + err).not.toContain(secret);
  return { code, out, err, report: JSON.parse(out) as Doctor['report'] };
}
const find = (d: Doctor, check: string) => d.report.findings.filter((f) => f.check === check);

function repoWith(repo: string, autonomy: string | null): string {
  seedScenario(sandbox.state, 'missing-secret', 'acme', { repo, trigger: false });
  if (autonomy !== null) sandbox.state.commitFiles('acme', repo, 'main', { '.github/autonomy.yml': autonomy }, 'configure');
  return `acme/${repo}`;
}

beforeAll(async () => {
  sandbox = await startSandbox();
  await runCli(['keygen'], { out: (s) => { signingKey = /TRUTH_SIGNING_KEY=(\S+)/.exec(s)?.[1] ?? ''; }, err: () => undefined, env: {} });
});
afterAll(async () => {
  await sandbox.close();
});

describe('with a token', () => {
  test('a healthy repository: nothing blocks, exit 0; the ledger verifies after a heal', async () => {
    const full = repoWith('doc-ok', 'default_level: full\ncooldowns: { default_minutes: 0 }\nsecrets:\n  DEPLOY_TOKEN: { source: from_env, env: DEPLOY_TOKEN_SOURCE }\n');
    const seeded = sandbox.state.triggerRun('acme', 'doc-ok', 'Build & Deploy');
    await runCli(['--api-url', sandbox.apiUrl, 'heal', '--repo', full, '--run-id', String(seeded.id)], {
      out: () => undefined, err: () => undefined,
      env: { LIVING_BRIDGE_TOKEN: SANDBOX_ADMIN_TOKEN, TRUTH_SIGNING_KEY: signingKey, DEPLOY_TOKEN_SOURCE: SCENARIO_VALUES.DEPLOY_TOKEN, LIVING_BRIDGE_FROM_ENV_ALLOW: 'DEPLOY_TOKEN_SOURCE', LIVING_BRIDGE_CLIENT_PACING: 'off', LOG_LEVEL: 'silent' },
    });
    const d = await doctor(['--repo', full]);
    expect(d.report.findings.filter((f) => f.status === 'error')).toEqual([]);
    expect(d.code).toBe(0);
    expect(find(d, 'reachability')[0]).toMatchObject({ status: 'ok', detail: expect.stringContaining(`GitHub at ${sandbox.apiUrl} answered in`) });
    expect(find(d, 'signing key')[0]?.status).toBe('ok');
    expect(find(d, '.github/autonomy.yml')[0]).toMatchObject({ status: 'ok', detail: 'valid on main' });
    expect(find(d, 'ledger')[0]).toMatchObject({ status: 'ok', detail: expect.stringMatching(/^branch bridge-ledger: [1-9]\d* certificates verify/) });
    for (const p of ['secrets', 'actions_variables', 'environments', 'actions', 'contents', 'issues', 'checks']) expect(find(d, `permission ${p}`)[0]?.status).toBe('ok');
  });

  test('a token that cannot read secrets or issues: those checks fail with the fix, exit 1', async () => {
    const full = repoWith('doc-perm', '');
    const token = sandbox.state.issueToken({ contents: 'write', actions: 'write' });
    const d = await doctor(['--repo', full], { LIVING_BRIDGE_TOKEN: token });
    expect(d.code).toBe(1);
    expect(find(d, 'permission secrets')[0]).toMatchObject({ status: 'error', fix: expect.stringContaining('secrets: write') });
    expect(find(d, 'permission issues')[0]?.status).toBe('error');
    expect(find(d, 'permission contents')[0]?.status).toBe('ok');
    expect(find(d, 'token user')[0]?.detail).toMatch(/no user of its own/);
  });

  test('config problems are named with line and column; a ledger on the default branch is refused', async () => {
    const full = repoWith('doc-config', 'default_level: full\nlimts: {}\n');
    const d = await doctor(['--repo', full]);
    expect(d.code).toBe(1);
    expect(find(d, '.github/autonomy.yml')).toEqual([expect.objectContaining({ status: 'error', detail: '.github/autonomy.yml:2:1: (root): unknown key(s) limts (did you mean limits?)' })]);
    const onMain = repoWith('doc-ledger-main', 'ledger: { branch: main }\n');
    const m = await doctor(['--repo', onMain]);
    expect(find(m, 'ledger branch')[0]).toMatchObject({ status: 'error', detail: expect.stringContaining('"main" is the repository\'s default branch') });
  });

  test('no autonomy.yml is a warning, not a block; a halted Governor is a warning with the resume command', async () => {
    const full = repoWith('doc-bare', null);
    const d = await doctor(['--repo', full]);
    expect(find(d, '.github/autonomy.yml')[0]).toMatchObject({ status: 'warn' });
    await runCli(['--api-url', sandbox.apiUrl, 'halt', '--repo', full, '--reason', 'freeze'], { out: () => undefined, err: () => undefined, env: { LIVING_BRIDGE_TOKEN: SANDBOX_ADMIN_TOKEN, TRUTH_SIGNING_KEY: signingKey, LOG_LEVEL: 'silent' } });
    const halted = await doctor(['--repo', full]);
    expect(find(halted, 'halted')[0]).toMatchObject({ status: 'warn', detail: expect.stringContaining('(freeze)'), fix: `living-bridge resume --repo ${full}` });
    expect(halted.code).toBe(0);
  });

  test('a repository that does not exist, GitHub out of reach, a rejected token, no signing key', async () => {
    const missing = await doctor(['--repo', 'acme/nope']);
    expect(find(missing, 'repository')[0]).toMatchObject({ status: 'error', detail: expect.stringContaining('repository acme/nope not found') });
    // A port nothing listens on (taken, then freed).
    const closed = await new Promise<number>((resolve) => {
      const srv = createServer().listen(0, '127.0.0.1', () => {
        const { port } = srv.address() as AddressInfo;
        srv.close(() => resolve(port));
      });
    });
    let out = '';
    const code = await runCli(['--api-url', `http://127.0.0.1:${closed}/api/v3`, 'doctor'], { out: (s) => { out += s; }, err: () => undefined, env: { LIVING_BRIDGE_TOKEN: 'ghp_x', TRUTH_SIGNING_KEY: signingKey } });
    expect(code).toBe(1);
    expect(out).toContain(`FAIL  reachability: cannot reach GitHub at http://127.0.0.1:${closed}/api/v3: the connection was refused (ECONNREFUSED)\n      fix: check the URL`);
    const rejected = await doctor([], { LIVING_BRIDGE_TOKEN: 'ghp_definitelyNotAToken' });
    expect(find(rejected, 'token')[0]).toMatchObject({ status: 'error', detail: expect.stringContaining('rejected the token (401): it is a classic personal access token') });
    const noKey = await doctor([], { TRUTH_SIGNING_KEY: undefined });
    expect(find(noKey, 'signing key')[0]).toMatchObject({ status: 'error', fix: expect.stringContaining('keygen') });
    expect(noKey.code).toBe(1);
  });
});

describe('with App credentials', () => {
  const app = { LIVING_BRIDGE_TOKEN: undefined, APP_ID: '12345', PRIVATE_KEY: pem, WEBHOOK_SECRET: 'a-webhook-secret' };

  test('the installation\'s permissions are compared with app.yml; the minted installation token is probed', async () => {
    const full = repoWith('doc-app', '');
    const before = { ...sandbox.state.installation.permissions };
    sandbox.state.installation.permissions.secrets = 'read';
    delete sandbox.state.installation.permissions.deployments;
    try {
      const d = await doctor(['--repo', full], app);
      expect(find(d, 'app settings')[0]?.status).toBe('ok');
      expect(find(d, 'app')[0]).toMatchObject({ status: 'ok', detail: expect.stringContaining('accepts APP_ID 12345') });
      expect(find(d, 'permission secrets')[0]).toMatchObject({ status: 'error', detail: expect.stringContaining('has secrets: read, Living Bridge needs write') });
      expect(find(d, 'permission deployments')[0]?.status).toBe('warn');
      expect(find(d, 'token')[0]?.detail).toMatch(/installation token minted for the App/);
      expect(d.code).toBe(1);
    } finally {
      sandbox.state.installation.permissions = before;
    }
  });

  test('every bad App variable is reported at once, naming the variable, never the key', async () => {
    const d = await doctor([], { ...app, APP_ID: 'abc', WEBHOOK_SECRET: undefined, PRIVATE_KEY: 'not a key' });
    const details = find(d, 'app settings').map((f) => f.detail).join('\n');
    expect(details).toMatch(/WEBHOOK_SECRET is not set/);
    expect(details).toMatch(/APP_ID="abc" is not a number/);
    expect(details).toMatch(/PRIVATE_KEY is not a PEM private key/);
    expect(d.out).not.toContain('not a key"');
    expect(d.code).toBe(1);
  });
});
