/**
 * `living-bridge heal` runs the config loop from the CLI (no webhooks: polling only), and
 * `living-bridge rollback <certificate>` reverts that promotion by hand, redeploys, and records it.
 */
import { afterAll, beforeAll, describe, expect, jest, test } from '@jest/globals';
import { runCli } from '../../src/cli/main.js';
import { CONFIG_BROKEN, fileOn, seedConfigRepo } from '../../src/demo/config-scenario.js';
import { SANDBOX_ADMIN_TOKEN, startSandbox, type Sandbox } from '../../src/sandbox/index.js';

jest.setTimeout(60_000);
let sandbox: Sandbox;
let signingKey = '';

async function cli(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await runCli(['--api-url', sandbox.apiUrl, ...argv], {
    out: (s) => { out += s; },
    err: (s) => { err += s; },
    env: { LIVING_BRIDGE_TOKEN: SANDBOX_ADMIN_TOKEN, TRUTH_SIGNING_KEY: signingKey, LIVING_BRIDGE_CLIENT_PACING: 'off', LOG_LEVEL: 'silent', USER: 'tester' },
  });
  return { code, out, err };
}

beforeAll(async () => {
  sandbox = await startSandbox();
  await runCli(['keygen'], { out: (s) => { signingKey = /TRUTH_SIGNING_KEY=(\S+)/.exec(s)?.[1] ?? ''; }, err: () => undefined, env: {} });
});
afterAll(async () => {
  await sandbox?.close();
});

describe('config loop from the CLI', () => {
  test('heal promotes and deploys; rollback <certificate> reverts, redeploys and says so', async () => {
    const seeded = await seedConfigRepo(sandbox.url, { repo: 'cli-loop', statuses: { 'ci/integration': 'success' }, requiredChecks: ['ci/integration'] });
    const healed = await cli(['heal', '--repo', seeded.fullName, '--run-id', String(seeded.runId), '--json']);
    expect(healed.err).toBe('');
    expect(healed.code).toBe(0);
    const body = JSON.parse(healed.out) as { status: string; summary: string };
    expect(body.status).toBe('healed');
    expect(body.summary).toMatch(/config loop deployed/);
    expect(await fileOn(sandbox.url, seeded.fullName, 'vercel.json')).not.toBe(CONFIG_BROKEN);

    const records = JSON.parse((await fileOn(sandbox.url, seeded.fullName, '.bridge/promotions.json', 'bridge-ledger'))!) as { certificates: string[]; status: string }[];
    expect(records[0]).toMatchObject({ status: 'deployed' });
    const promoteCert = records[0]!.certificates[1]!;

    const bad = await cli(['rollback', 'not-a-hash', '--repo', seeded.fullName]);
    expect(bad).toMatchObject({ code: 1 });
    expect(bad.out).toMatch(/is not a certificate hash/);

    const rolled = await cli(['rollback', promoteCert.slice(0, 16), '--repo', seeded.fullName]);
    expect(rolled.out.split('\n')[0]).toBe('rolled_back');
    expect(rolled.code).toBe(0);
    expect(await fileOn(sandbox.url, seeded.fullName, 'vercel.json')).toBe(CONFIG_BROKEN);
    const dispatched = sandbox.state.repo('acme', 'cli-loop').runs.filter((r) => r.event === 'workflow_dispatch');
    expect(dispatched).toHaveLength(2);
  });
});
