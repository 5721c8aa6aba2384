/**
 * The CLI in-process (`runCli(argv, io)`) against an in-process sandbox: every command, and the
 * errors a user makes (exit code 2, one clear line on stderr, no stack, no key echoed).
 */
import { mkdtempSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { runCli } from '../../src/cli/main.js';
import type { SandboxRepoState } from '../../src/demo/scenario.js';
import { SANDBOX_ADMIN_TOKEN, SCENARIO_VALUES, seedScenario, startSandbox, type Sandbox } from '../../src/sandbox/index.js';

let sandbox: Sandbox;
let signingKey: string;
const tmp = mkdtempSync(join(tmpdir(), 'lb-cli-'));

const AUTONOMY = `default_level: full
cooldowns: { default_minutes: 0 }
secrets:
  DEPLOY_TOKEN: { source: from_env, env: DEPLOY_TOKEN_SOURCE }
`;

interface Ran { code: number; out: string; err: string }
async function cli(argv: string[], env: Record<string, string | undefined> = {}): Promise<Ran> {
  let out = '';
  let err = '';
  const code = await runCli(argv, {
    out: (s) => { out += s; },
    err: (s) => { err += s; },
    env: {
      LIVING_BRIDGE_TOKEN: SANDBOX_ADMIN_TOKEN,
      TRUTH_SIGNING_KEY: signingKey,
      DEPLOY_TOKEN_SOURCE: SCENARIO_VALUES.DEPLOY_TOKEN,
      LIVING_BRIDGE_FROM_ENV_ALLOW: 'DEPLOY_TOKEN_SOURCE',
      LIVING_BRIDGE_CLIENT_PACING: 'off',
      LOG_LEVEL: 'silent',
      USER: 'tester',
      ...env,
    },
  });
  return { code, out, err };
}
const summary = (repo: string) => sandbox.state.summary('acme', repo) as unknown as SandboxRepoState;
const withApi = (...argv: string[]) => ['--api-url', sandbox.apiUrl, ...argv];

/** A scenario repository with the autonomy config and one failed run. */
function seed(scenario: 'missing-secret' | 'flaky-network', repo: string, autonomy = AUTONOMY): { full: string; runId: number } {
  const seeded = seedScenario(sandbox.state, scenario, 'acme', { repo });
  sandbox.state.commitFiles('acme', repo, 'main', { '.github/autonomy.yml': autonomy }, 'configure');
  return { full: `acme/${repo}`, runId: seeded.runId! };
}

let publicKey = '';
beforeAll(async () => {
  sandbox = await startSandbox();
  const keygen = await runCli(['keygen'], { out: (s) => { signingKey = /TRUTH_SIGNING_KEY=(\S+)/.exec(s)?.[1] ?? ''; publicKey = /# public key (\S+)/.exec(s)?.[1] ?? ''; }, err: () => undefined, env: {} });
  expect(keygen).toBe(0);
  expect(signingKey).toMatch(/^[A-Za-z0-9+/]+=*$/);
});

afterAll(async () => {
  await sandbox?.close();
});

describe('commands', () => {
  test('keygen prints a key, its key id and public key; --out writes it with mode 600', async () => {
    const printed = await cli(['keygen']);
    expect(printed.code).toBe(0);
    expect(printed.out).toMatch(/^TRUTH_SIGNING_KEY=\S+\n# keyid [0-9a-f]+\n# public key \S+\n$/);
    const file = join(tmp, 'key');
    const written = await cli(['keygen', '--out', file]);
    expect(written.code).toBe(0);
    expect(written.out).not.toContain(readFileSync(file, 'utf8').trim());
    const { statSync } = await import('node:fs');
    expect(statSync(file).mode & 0o777).toBe(0o600);
  });

  test('heal --dry-run --json decides and changes nothing', async () => {
    const { full, runId } = seed('missing-secret', 'cli-dry');
    const r = await cli(withApi('heal', '--repo', full, '--run-id', String(runId), '--dry-run', '--json'));
    expect(r).toMatchObject({ code: 0, err: '' });
    const json = JSON.parse(r.out) as { status: string; decision: { steps: string[] }; certificate_hash: string | null };
    expect(json.status).toBe('dry_run');
    expect(json.decision.steps).toEqual(['CREATE_SECRET', 'RERUN']);
    expect(json.certificate_hash).toBeNull();
    expect(summary('cli-dry').secrets.find((s) => s.name === 'DEPLOY_TOKEN')).toBeUndefined();
    expect(summary('cli-dry').refs['refs/heads/bridge-ledger']).toBeUndefined();
  });

  test('heal creates the secret and re-runs; verify --repo and verify --dir agree', async () => {
    const { full, runId } = seed('missing-secret', 'cli-heal');
    const r = await cli(withApi('heal', '--repo', full, '--run-id', String(runId)));
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^healed: CREATE_SECRET: done; RERUN: done — certificate [0-9a-f]{16}\n$/);
    expect(sandbox.state.secretFingerprint('acme', 'cli-heal', 'DEPLOY_TOKEN')).not.toBeNull();

    const online = await cli(withApi('verify', '--repo', full));
    expect(online).toMatchObject({ code: 0, err: '' });
    expect(online.out).toMatch(/^chain ok: acme\/cli-heal, 1 certificate\(s\), head [0-9a-f]{64}; checkpoint #1 signed by [0-9a-f]{16} at \S+; 1 anchor\(s\), latest #1 in check run \d+ on commit [0-9a-f]{12}; trusted keys: [0-9a-f]{16}\n$/);

    // Offline: write the ledger branch's files into a directory, as `git worktree add` would.
    const dir = join(tmp, 'ledger');
    const branch = summary('cli-heal').refs['refs/heads/bridge-ledger']!;
    const files = ledgerFilesOf('acme', 'cli-heal', branch);
    for (const [path, content] of Object.entries(files)) {
      mkdirSync(dirname(join(dir, path)), { recursive: true });
      writeFileSync(join(dir, path), content);
    }
    const offline = await cli(['verify', '--dir', dir]);
    expect(offline).toMatchObject({ code: 0, err: '' });
    // The same chain and checkpoint; offline there are no anchors unless saved ones are passed with --anchor.
    expect(offline.out.replace(/; \d+ anchor.*; trusted/, '; trusted')).toBe(online.out.replace(/; \d+ anchor.*; trusted/, '; trusted'));

    // Tampering is found offline too.
    const certPath = Object.keys(files).find((p) => p.startsWith('.bridge/certificates/'))!;
    const cert = JSON.parse(files[certPath]!) as { envelope: { signatures: { sig: string }[] } };
    cert.envelope.signatures[0]!.sig = Buffer.alloc(64, 1).toString('base64');
    writeFileSync(join(dir, certPath), JSON.stringify(cert));
    const broken = await cli(['verify', '--dir', dir]);
    expect(broken.code).toBe(1);
    expect(broken.out).toMatch(/^chain BROKEN \(BAD_SIGNATURE at step certificates\): link 0 /);
  });

  test('audit export: one row per change of the verified chain, JSON and CSV, never a value', async () => {
    const { full, runId } = seed('missing-secret', 'cli-audit');
    expect((await cli(withApi('heal', '--repo', full, '--run-id', String(runId)))).code).toBe(0);
    const json = await cli(withApi('audit', 'export', '--repo', full, '--since', '2026-01-01'));
    expect(json).toMatchObject({ code: 0, err: '' });
    const exported = JSON.parse(json.out) as { verification: { ok: boolean; length: number }; rows: Record<string, unknown>[] };
    expect(exported.verification).toMatchObject({ ok: true, length: 1 });
    expect(exported.rows.map((r) => r.change)).toEqual(['secret written', 're-run']);
    expect(exported.rows[0]).toMatchObject({
      sequence: 1, repository: full, action: 'CREATE_SECRET', target: 'DEPLOY_TOKEN', triggering_run_id: runId, run_attempt: 1,
      commit: expect.stringMatching(/^[0-9a-f]{40}$/), evidence_hash: expect.stringMatching(/^[0-9a-f]{64}$/), policy_version: 1,
      autonomy_level: 'full', grant_id: null, approved_by: null, before_fingerprint: null, after_fingerprint: expect.stringMatching(/\S/),
      certificate_hash: expect.stringMatching(/^[0-9a-f]{64}$/),
    });
    const csv = await cli(withApi('audit', 'export', '--repo', full, '--since', '2026-01-01', '--format', 'csv'));
    expect(csv.code).toBe(0);
    const lines = csv.out.trimEnd().split('\r\n');
    expect(lines[0]).toMatch(/^time,sequence,repository,change,action,target,.*,certificate_hash$/);
    expect(lines.slice(1).map((l) => l.split(',')[3])).toEqual(['secret written', 're-run']);
    expect(`${json.out}${csv.out}`).not.toContain(SCENARIO_VALUES.DEPLOY_TOKEN);
    // A later --since leaves them out; a tampered chain exports nothing.
    expect(JSON.parse((await cli(withApi('audit', 'export', '--repo', full, '--since', '2999-01-01'))).out).rows).toEqual([]);
    expect(await cli(withApi('audit', 'export', '--repo', full, '--since', 'yesterday'))).toMatchObject({ code: 2 });
  });

  test('halt makes heal a noop; resume lifts it', async () => {
    const { full, runId } = seed('flaky-network', 'cli-halt');
    expect(await cli(withApi('halt', '--repo', full, '--reason', 'change freeze'))).toMatchObject({ code: 0, out: `${full}: halted\n` });
    const halted = await cli(withApi('heal', '--repo', full, '--run-id', String(runId), '--json'));
    expect(JSON.parse(halted.out)).toMatchObject({ status: 'noop', decision: { guardrail: 'halted' } });
    expect(await cli(withApi('resume', '--repo', full))).toMatchObject({ code: 0, out: `${full}: resumed\n` });
    const healed = await cli(withApi('heal', '--repo', full, '--run-id', String(runId), '--json'));
    expect(JSON.parse(healed.out)).toMatchObject({ status: 'healed', decision: { steps: ['RERUN'] } });
  });

  test('grant issue lifts a suggestion; grant revoke takes it back', async () => {
    const { full, runId } = seed('missing-secret', 'cli-grant', AUTONOMY.replace('default_level: full', 'default_level: balanced'));
    const suggested = await cli(withApi('heal', '--repo', full, '--run-id', String(runId), '--dry-run', '--json'));
    expect(JSON.parse(suggested.out)).toMatchObject({ decision: { verdict: 'suggest' } });
    const issued = await cli(withApi('grant', 'issue', '--repo', full, '--actions', 'CREATE_SECRET', '--targets', 'DEPLOY_*', '--hours', '2', '--reason', 'rotation'));
    expect(issued.err).toBe('');
    expect(issued.code).toBe(0);
    const id = /^grant (g-[0-9a-f]+) issued until /.exec(issued.out)?.[1];
    expect(id).toBeDefined();
    const lifted = await cli(withApi('heal', '--repo', full, '--run-id', String(runId), '--dry-run', '--json'));
    expect(JSON.parse(lifted.out)).toMatchObject({ decision: { verdict: 'execute' } });
    const listed = await cli(withApi('grant', 'list', '--repo', full, '--json'), { TRUTH_SIGNING_KEY: undefined });
    expect(listed.code).toBe(0);
    expect(JSON.parse(listed.out)).toEqual([expect.objectContaining({ id, status: 'active', actions: ['CREATE_SECRET'], targets: ['DEPLOY_*'], uses: expect.any(Number) })]);
    expect(await cli(withApi('grant', 'revoke', '--repo', full, id!))).toMatchObject({ code: 0, out: `grant ${id} revoked\n` });
    expect((await cli(withApi('grant', 'list', '--repo', full))).out).toMatch(new RegExp(`^${id} {2}revoked `));
    const unknown = await cli(withApi('grant', 'revoke', '--repo', full, 'g-doesnotexist'));
    expect(unknown).toMatchObject({ code: 2, out: '' });
    expect(unknown.err).toMatch(/has no grant g-doesnotexist/);
    const revoked = await cli(withApi('heal', '--repo', full, '--run-id', String(runId), '--dry-run', '--json'));
    expect(JSON.parse(revoked.out)).toMatchObject({ decision: { verdict: 'suggest' } });
  });

  test('sync --dry-run --json prints the plan in its documented JSON shape', async () => {
    seedScenario(sandbox.state, 'missing-secret', 'acme', { repo: 'cli-sync', trigger: false });
    sandbox.state.commitFiles('acme', 'cli-sync', 'main', {
      '.github/environment.json': JSON.stringify({ version: 1, repository: { variables: { DEPLOY_REGION: 'eu-west-1', LOG_LEVEL: 'info' } } }),
    }, 'declare');
    const r = await cli(withApi('sync', '--repo', 'acme/cli-sync', '--dry-run', '--json'));
    expect(r).toMatchObject({ code: 0, err: '' });
    const json = JSON.parse(r.out) as Record<string, unknown>;
    expect(Object.keys(json)).toEqual(expect.arrayContaining(['summary', 'writes', 'scopes', 'items', 'renames', 'foreign_deletions']));
    expect(json).not.toHaveProperty('driftTable');
    expect(json).not.toHaveProperty('requests');
    expect(json.writes).toBe(1);
    expect(json.items).toEqual(expect.arrayContaining([expect.objectContaining({ kind: 'variable', name: 'LOG_LEVEL', op: 'add' })]));
    const table = await cli(withApi('sync', '--repo', 'acme/cli-sync', '--dry-run'));
    expect(table.out).toContain('LOG_LEVEL');
    expect(summary('cli-sync').variables.map((v) => v.name)).toEqual(['DEPLOY_REGION']);
  });

  test('classify prints the incidents of a log file', async () => {
    const file = join(tmp, 'job.log');
    writeFileSync(file, '2026-01-01T00:00:00.0000000Z Error: DEPLOY_TOKEN is not set\n2026-01-01T00:00:00.0000000Z ##[error]Process completed with exit code 1.\n');
    const r = await cli(['classify', file, '--json']);
    expect(r.code).toBe(0);
    const incidents = JSON.parse(r.out) as { kind: string; target: { name: string } }[];
    expect(incidents[0]).toMatchObject({ kind: 'secret.missing', target: { name: 'DEPLOY_TOKEN' } });
    expect(incidents[0]).not.toHaveProperty('repo');
    const readable = await cli(['classify', file]);
    expect(readable.code).toBe(0);
    expect(readable.out).toMatch(/^secret\.missing secret DEPLOY_TOKEN {2}\(confidence \d+%\) {2}signature [0-9a-f]{16}\n {2}\S.*\n {4}line 1: Error: DEPLOY_TOKEN is not set/);
  });

  test('classify - reads the log from standard input', async () => {
    const { Readable } = await import('node:stream');
    let out = '';
    const code = await runCli(['classify', '-'], {
      out: (s) => { out += s; },
      err: () => undefined,
      env: {},
      stdin: Readable.from(['2026-01-01T00:00:00.0000000Z curl: (6) Could not resolve host: registry.example.com\n']),
    });
    expect(code).toBe(0);
    expect(out).toMatch(/^transient\.network host registry\.example\.com/);
    const nothing = await runCli(['classify', '-'], { out: (s) => { out = s; }, err: () => undefined, env: {}, stdin: Readable.from(['all good\n']) });
    expect(nothing).toBe(0);
    expect(out).toMatch(/^unknown {2}\(confidence \d+%\)\n {2}The failure could not be classified/);
  });

  test('--help lists the environment variables and exit codes; every command has --json', async () => {
    const help = await cli(['--help']);
    expect(help.code).toBe(0);
    expect(help.out).toContain('LIVING_BRIDGE_TOKEN');
    expect(help.out).toContain('TRUTH_SIGNING_KEY');
    expect(help.out).toMatch(/Exit codes:\n {2}0 .*\n {2}1 .*\n {2}2 /);
    const { buildCli } = await import('../../src/cli/main.js');
    const leaves = (c: import('commander').Command): import('commander').Command[] => (c.commands.length ? c.commands.flatMap(leaves) : [c]);
    for (const command of leaves(buildCli({ out: () => undefined, err: () => undefined, env: {} }))) {
      // `--json`, or a `--format` whose default is json (audit export: json or csv).
      const json = command.options.some((opt) => opt.long === '--json' || (opt.long === '--format' && opt.defaultValue === 'json'));
      expect([command.name(), json]).toEqual([command.name(), true]);
    }
  });

  test('--version prints the package version', async () => {
    const pkg = JSON.parse(readFileSync(join(process.cwd(), 'package.json'), 'utf8')) as { version: string };
    expect(await cli(['--version'])).toEqual({ code: 0, out: `${pkg.version}\n`, err: '' });
  });

  test('keygen --out never overwrites an existing file', async () => {
    const file = join(tmp, 'existing-key');
    writeFileSync(file, 'the only copy of a key in use\n');
    const r = await cli(['keygen', '--out', file]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/already exists/);
    expect(readFileSync(file, 'utf8')).toBe('the only copy of a key in use\n');
  });

  test('heal --dry-run and verify need no signing key; a real heal does', async () => {
    const { full, runId } = seed('missing-secret', 'cli-nokey');
    const noKey = { TRUTH_SIGNING_KEY: undefined };
    const dry = await cli(withApi('heal', '--repo', full, '--run-id', String(runId), '--dry-run', '--json'), noKey);
    expect(dry).toMatchObject({ code: 0, err: '' });
    expect((JSON.parse(dry.out) as { status: string }).status).toBe('dry_run');
    // Verification trusts pinned keys only: without any it refuses (exit 2) instead of trusting the branch.
    const unpinned = await cli(withApi('verify', '--repo', full), noKey);
    expect(unpinned.code).toBe(2);
    expect(unpinned.err).toMatch(/no trusted keys\. Pass --keys FILE/);
    // A dry run writes no ledger: "no ledger" is its own answer (exit 3), never "ok".
    const verified = await cli(withApi('verify', '--repo', full, '--json'), { ...noKey, LIVING_BRIDGE_TRUSTED_KEYS: publicKey });
    expect(verified.code).toBe(3);
    expect(JSON.parse(verified.out)).toMatchObject({ repository: full, ok: false, status: 'no-ledger', reason: `no ledger for ${full} (branch bridge-ledger does not exist)` });
    const real = await cli(withApi('heal', '--repo', full, '--run-id', String(runId)), noKey);
    expect(real.code).toBe(2);
    expect(real.err).toMatch(/no signing key: set TRUTH_SIGNING_KEY/);
  });
});

describe('errors: exit 2, one line, no stack', () => {
  const oneLine = (r: Ran) => {
    expect(r.err.trim().split('\n')).toHaveLength(1);
    expect(r.err).not.toMatch(/\n\s+at /);
  };

  test.each([
    ['missing --repo', ['heal', '--run-id', '1'], /required option '--repo <owner\/name>' not specified/],
    ['bad repo name', ['heal', '--repo', 'not-a-repo', '--run-id', '1'], /expected "owner\/name"/],
    ['non-numeric run id', ['heal', '--repo', 'acme/x', '--run-id', 'abc'], /expected a positive whole number/],
    ['unknown command', ['frobnicate'], /unknown command 'frobnicate'/],
    ['verify without --repo or --dir', ['verify'], /verify: give --repo <owner\/name> or --dir <path>/],
    ['classify a missing file', ['classify', '/nonexistent/job.log'], /does not exist/],
  ])('%s', async (_name, argv, message) => {
    const r = await cli(argv);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(message);
    expect(r.out).toBe('');
    oneLine(r);
  });

  test('no token: says which variable to set', async () => {
    const r = await cli(withApi('heal', '--repo', 'acme/x', '--run-id', '1'), { LIVING_BRIDGE_TOKEN: undefined, GITHUB_TOKEN: undefined, GH_TOKEN: undefined });
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/^living-bridge: no GitHub token: set LIVING_BRIDGE_TOKEN/);
    oneLine(r);
  });

  test('a bad TRUTH_SIGNING_KEY is named, not echoed', async () => {
    const bad = 'this-is-not-a-key-but-could-be-secret-material';
    const r = await cli(withApi('heal', '--repo', 'acme/x', '--run-id', '1'), { TRUTH_SIGNING_KEY: bad });
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/TRUTH_SIGNING_KEY is not a base64 Ed25519 seed/);
    expect(r.err).not.toContain(bad);
    oneLine(r);
  });

  test('no signing key: says how to make one', async () => {
    const r = await cli(withApi('halt', '--repo', 'acme/x'), { TRUTH_SIGNING_KEY: undefined });
    expect(r.code).toBe(2);
    expect(r.err).toContain('living-bridge keygen');
    oneLine(r);
  });

  test('a run that does not exist: exit 1, naming the run and the repository', async () => {
    seedScenario(sandbox.state, 'flaky-network', 'acme', { repo: 'cli-404', trigger: false });
    const r = await cli(withApi('heal', '--repo', 'acme/cli-404', '--run-id', '999999'));
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/^living-bridge: workflow run 999999 not found in acme\/cli-404/);
    oneLine(r);
  });

  test('a repository that does not exist is named, not verified as an empty chain', async () => {
    const r = await cli(withApi('verify', '--repo', 'acme/no-such-repo'));
    // "No ledger" has its own exit code (3): never 0, and not "broken" either.
    expect(r.code).toBe(3);
    expect(r.out).toBe('no ledger for acme/no-such-repo (repository acme/no-such-repo not found, or the token cannot see it)\n');
  });

  test('GitHub unreachable: says so within seconds, not "HTTP 500"', async () => {
    const { freePort } = await import('../../src/demo/processes.js');
    const api = `http://127.0.0.1:${await freePort()}/api/v3`;
    const started = Date.now();
    const r = await cli(['--api-url', api, 'heal', '--repo', 'acme/x', '--run-id', '1', '--dry-run']);
    expect(Date.now() - started).toBeLessThan(5000);
    expect(r.code).toBe(1);
    expect(r.err).toBe(`living-bridge: cannot reach GitHub at ${api}: the connection was refused (ECONNREFUSED)\n`);
  });
});

/** Files of a sandbox branch, read through the REST API the way a git checkout would see them. */
function ledgerFilesOf(owner: string, repo: string, _head: string): Record<string, string> {
  const model = sandbox.state.repo(owner, repo);
  const head = model.refs.get('refs/heads/bridge-ledger')!;
  const out: Record<string, string> = {};
  for (const [path, entry] of model.git.flatten(model.git.commit(head)!.tree)) {
    out[path] = model.git.blob((entry as { sha: string }).sha)!.content.toString('utf8');
  }
  return out;
}
