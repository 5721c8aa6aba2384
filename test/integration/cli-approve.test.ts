/**
 * `approve` / `reject` / `status` / `incidents list --repo` / `dashboard` in-process against the
 * sandbox: a suggestion made by a heal is answered from the CLI through the same pipeline path as a
 * `/bridge approve` comment (permission check, claim, execution, certificate, reply on the thread).
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { runCli } from '../../src/cli/main.js';
import { SANDBOX_ADMIN_TOKEN, SCENARIO_VALUES, seedScenario, startSandbox, type Sandbox } from '../../src/sandbox/index.js';

let sandbox: Sandbox;
let signingKey = '';

const BALANCED = `default_level: balanced
cooldowns: { default_minutes: 0 }
secrets:
  DEPLOY_TOKEN: { source: from_env, env: DEPLOY_TOKEN_SOURCE }
`;

interface Ran { code: number; out: string; err: string }
async function cli(argv: string[], env: Record<string, string | undefined> = {}): Promise<Ran> {
  let out = '';
  let err = '';
  const code = await runCli(['--api-url', sandbox.apiUrl, ...argv], {
    out: (s) => { out += s; },
    err: (s) => { err += s; },
    env: {
      LIVING_BRIDGE_TOKEN: SANDBOX_ADMIN_TOKEN, TRUTH_SIGNING_KEY: signingKey, DEPLOY_TOKEN_SOURCE: SCENARIO_VALUES.DEPLOY_TOKEN,
      LIVING_BRIDGE_FROM_ENV_ALLOW: 'DEPLOY_TOKEN_SOURCE', LIVING_BRIDGE_CLIENT_PACING: 'off', LOG_LEVEL: 'silent', USER: 'tester', ...env,
    },
  });
  return { code, out, err };
}

/** A missing-secret failure at `balanced`: the heal suggests CREATE_SECRET and records it as pending. */
async function suggestion(repo: string): Promise<{ full: string; id: string; runId: number }> {
  const seeded = seedScenario(sandbox.state, 'missing-secret', 'acme', { repo });
  sandbox.state.commitFiles('acme', repo, 'main', { '.github/autonomy.yml': BALANCED }, 'configure');
  const full = `acme/${repo}`;
  const healed = await cli(['heal', '--repo', full, '--run-id', String(seeded.runId), '--json']);
  expect(JSON.parse(healed.out)).toMatchObject({ status: 'suggested' });
  const listed = await cli(['incidents', 'list', '--repo', full, '--json']);
  expect(listed.code).toBe(0);
  const open = JSON.parse(listed.out) as { state: string; id: string | null; next: string }[];
  const pending = open.find((i) => i.state === 'awaiting approval');
  expect(pending?.next).toContain(`living-bridge approve ${pending?.id} --repo ${full}`);
  return { full, id: pending!.id!, runId: seeded.runId! };
}

beforeAll(async () => {
  sandbox = await startSandbox();
  await runCli(['keygen'], { out: (s) => { signingKey = /TRUTH_SIGNING_KEY=(\S+)/.exec(s)?.[1] ?? ''; }, err: () => undefined, env: {} });
  expect(signingKey).not.toBe('');
});
afterAll(async () => {
  await sandbox.close();
});

describe('approve / reject from the CLI', () => {
  test('approve executes the suggestion, certifies it with the approver, and names the approver', async () => {
    const { full, id } = await suggestion('cli-approve');
    expect(sandbox.state.secretValue('acme', 'cli-approve', 'DEPLOY_TOKEN')).toBeUndefined();
    const approved = await cli(['approve', id, '--repo', full, '--json']);
    expect(approved.err).toBe('');
    expect(approved.code).toBe(0);
    const out = JSON.parse(approved.out) as Record<string, unknown>;
    // The sandbox admin token's user is `sandbox-admin`, an admin of every sandbox repository.
    expect(out).toMatchObject({ status: 'executed', actor: 'sandbox-admin', heal_status: 'healed', certificate_hash: expect.stringMatching(/^[0-9a-f]{64}$/) });
    expect(sandbox.state.secretValue('acme', 'cli-approve', 'DEPLOY_TOKEN')).toBe(SCENARIO_VALUES.DEPLOY_TOKEN);
    // A second answer finds nothing pending: exit 1 and the reason.
    const again = await cli(['approve', id, '--repo', full]);
    expect(again).toMatchObject({ code: 1, out: `${id}: not approved: nothing pending under that id\n` });
    // The certificate names the approver (read back from the verified chain by `status`).
    const status = JSON.parse((await cli(['status', '--repo', full, '--json'])).out) as { recent: { kind: string; approvedBy: string | null }[] };
    expect(status.recent.find((r) => r.kind === 'action')?.approvedBy).toBe('sandbox-admin');
    const open = JSON.parse((await cli(['incidents', 'list', '--repo', full, '--json'])).out) as { state: string }[];
    expect(open.filter((i) => i.state === 'awaiting approval')).toEqual([]);
  });

  test('reject records the answer and writes nothing', async () => {
    const { full, id } = await suggestion('cli-reject');
    const rejected = await cli(['reject', id, '--repo', full, '--by', 'octocat']);
    expect(rejected).toMatchObject({ code: 0, out: `${id}: rejected by octocat; nothing was done\n` });
    expect(sandbox.state.secretValue('acme', 'cli-reject', 'DEPLOY_TOKEN')).toBeUndefined();
  });

  test('--by a login without write access is refused like a comment from them', async () => {
    const { full, id } = await suggestion('cli-approve-refused');
    const refused = await cli(['approve', id, '--repo', full, '--by', 'rita']);
    expect(refused).toMatchObject({ code: 1, out: `${id}: not approved: actor may not approve\n` });
    expect(sandbox.state.secretValue('acme', 'cli-approve-refused', 'DEPLOY_TOKEN')).toBeUndefined();
  });

  test('a token without a user of its own needs --by', async () => {
    const { full, id } = await suggestion('cli-approve-bot');
    // An installation-like token (a bot, no user): GET /user answers 403 as on GitHub.
    const bot = sandbox.state.issueToken({ contents: 'write', issues: 'write', secrets: 'write', actions: 'write' });
    const r = await cli(['approve', id, '--repo', full], { LIVING_BRIDGE_TOKEN: bot });
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/pass --by <your GitHub login>/);
  });
});

describe('status and dashboard', () => {
  test('status names the pending suggestion, the chain state and the month; --json has the same', async () => {
    const { full, id } = await suggestion('cli-status');
    const text = await cli(['status', '--repo', full]);
    expect(text.code).toBe(0);
    expect(text.out).toMatch(new RegExp(`^${full} {2}running {2}ledger bridge-ledger\\nchain: verifies \\(\\d+ certificates\\)\\n`));
    expect(text.out).toContain(`awaiting approval     secret.missing DEPLOY_TOKEN: CREATE_SECRET`);
    const json = JSON.parse((await cli(['status', '--repo', full, '--json'])).out) as { halted: boolean; chain: { verified: boolean | null }; pending: { id: string }[]; month: { failuresSeen: number } };
    expect(json).toMatchObject({ halted: false, chain: { verified: true }, pending: [{ id }] });
    // Without any pinned key the chain is "not checked", never reported as broken.
    const noKey = JSON.parse((await cli(['status', '--repo', full, '--json'], { TRUTH_SIGNING_KEY: undefined })).out) as { chain: { verified: boolean | null; status: string } };
    expect(noKey.chain).toMatchObject({ verified: null, status: 'not-checked' });
    await cli(['halt', '--repo', full, '--reason', 'freeze']);
    expect((await cli(['status', '--repo', full])).out).toMatch(/ {2}HALTED \(freeze\) {2}/);
  });

  test('dashboard creates the issue once, then leaves it unchanged', async () => {
    const { full, id } = await suggestion('cli-dashboard');
    const first = JSON.parse((await cli(['dashboard', '--repo', full, '--json'])).out) as { status: string; url: string };
    expect(first.status).toBe('created');
    const issue = [...sandbox.state.repo('acme', 'cli-dashboard').issues.values()].find((i) => i.title === 'Living Bridge dashboard');
    expect(issue?.body).toContain(`/bridge approve ${id}`);
    expect(JSON.parse((await cli(['dashboard', '--repo', full, '--json'])).out)).toMatchObject({ status: 'unchanged', url: first.url });
  });
});

test('incidents list without --repo or --dead is a usage error', async () => {
  const r = await cli(['incidents', 'list']);
  expect(r).toMatchObject({ code: 2, out: '' });
  expect(r.err).toMatch(/give --repo <owner\/name>/);
});
