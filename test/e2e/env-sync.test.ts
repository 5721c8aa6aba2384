/**
 * Env sync end to end: the sandbox (in process, over HTTP), the real GitHubAdapter and the git ledger.
 * Assertions are on what the sandbox holds (what GitHub would hold) and on its request counters.
 */
import { randomBytes } from 'node:crypto';
import { pino } from 'pino';
import { createSigner, generateSigningKey, verifyCertificate, decodeCertificate } from '../../src/core/certificate/index.js';
import { SchemaError, type EnvironmentFileInput, type RepoRef } from '../../src/core/schemas/index.js';
import { GitHubAdapter, createOctokit } from '../../src/github/index.js';
import { createGitLedger } from '../../src/ledger/index.js';
import type { PipelineContext } from '../../src/pipeline/context.js';
import { DISCOVERED_BRANCH, SyncRefusedError, sync, syncForIncident, type SyncOptions } from '../../src/pipeline/sync.js';
import { SANDBOX_ADMIN_TOKEN, startSandbox, type Sandbox } from '../../src/sandbox/index.js';

let sb: Sandbox;
let ctx: PipelineContext;
let publicKeys: Record<string, string>;
const clock = { t: Date.parse('2026-11-23T10:00:00Z') };
const ENV = { DB_PASSWORD: 'pw-1', DEPLOY_KEY: 'dk-1' };

beforeAll(async () => {
  sb = await startSandbox({ now: () => clock.t });
  const key = await generateSigningKey(new Uint8Array(32).fill(9));
  const signer = await createSigner(key.secretKey);
  publicKeys = { [signer.keyid]: signer.publicKey };
  // No client-side throttling: the engine's own pacing and retry-after handling are under test.
  const github = new GitHubAdapter(createOctokit({ baseUrl: sb.apiUrl, auth: SANDBOX_ADMIN_TOKEN, throttle: false, retry: { enabled: false } }));
  ctx = {
    github,
    ledgerFor: (repo: RepoRef, branch: string) => createGitLedger(github, repo, branch, { now: () => new Date(clock.t), delay: async () => {}, signer }),
    signer,
    now: () => new Date(clock.t),
    randomBytes: (n) => new Uint8Array(randomBytes(n)),
    env: { ...ENV },
    log: pino({ level: 'silent' }),
    door: 'cli',
    autonomyEnabled: true,
    fromEnvRefusal: () => null,
    grantKeys: {},
  };
});
afterAll(async () => {
  await sb.close();
});

/** A fake-clock sleep: pacing and retry-after advance time instead of waiting. */
const sleep = async (ms: number): Promise<void> => { clock.t += ms; };
const run = (repository: string, o: Partial<SyncOptions> = {}) => sync(ctx, { repository, dryRun: false, confirmPrune: false, sleep, ...o });

function seed(name: string, declared: EnvironmentFileInput | string): string {
  sb.state.createRepo({ owner: 'acme', repo: name });
  sb.state.commitFiles('acme', name, 'main', { '.github/environment.json': typeof declared === 'string' ? declared : JSON.stringify(declared, null, 2) }, 'declare the environment');
  return `acme/${name}`;
}
const declare = (name: string, declared: EnvironmentFileInput): void => {
  sb.state.commitFiles('acme', name, 'main', { '.github/environment.json': JSON.stringify(declared, null, 2) }, 'update the declaration');
};
const counts = () => sb.requestCounts();
const repoVars = (name: string) => Object.fromEntries([...sb.state.repo('acme', name).variables.values()].map((v) => [v.name, v.value]));
const repoSecrets = (name: string) => [...sb.state.repo('acme', name).secrets.keys()].sort();

const REPO_ONLY: EnvironmentFileInput = {
  repository: {
    variables: { API_URL: 'https://api.example', REGION: { value: 'eu-west-1' } },
    secrets: { SESSION_KEY: { source: 'generate', length: 48 }, DB_PASSWORD: { source: 'from_env', env: 'DB_PASSWORD' } },
  },
};

describe('env sync against the sandbox', () => {
  test('new repo: one sync creates everything; the second makes 0 writes and its audit is 3 conditional requests, all 304', async () => {
    const full = seed('fresh', REPO_ONLY);
    sb.resetRequestCounts();
    const first = await run(full);
    expect(first.report).toMatchObject({ applied: 4, failed: 0 });
    expect(repoVars('fresh')).toEqual({ API_URL: 'https://api.example', REGION: 'eu-west-1' });
    expect(sb.state.secretValue('acme', 'fresh', 'DB_PASSWORD')).toBe('pw-1');
    expect(sb.state.secretValue('acme', 'fresh', 'SESSION_KEY')).toHaveLength(48);
    expect(first.certified).toBe(true);
    const cert = first.certificate!;
    expect(verifyCertificate(cert, publicKeys).ok).toBe(true);
    const statement = decodeCertificate(cert);
    expect(statement.predicate).toMatchObject({ certificate_type: 'sync', action: 'SYNC_AND_CERTIFY', certified: true, previous_certificate_hash: null });
    expect(statement.predicate.changes.map((c) => `${c.op} ${c.kind} ${c.target}`).sort()).toEqual(['create secret DB_PASSWORD', 'create secret SESSION_KEY', 'create variable API_URL', 'create variable REGION']);
    // Fingerprints only: no value in the certificate.
    expect(Buffer.from(cert.envelope.payload, 'base64').toString()).not.toContain('pw-1');
    const firstCounts = counts();

    sb.resetRequestCounts();
    const second = await run(full);
    const c = counts();
    expect(second.plan.writes).toBe(0);
    expect(second.report!.writeAttempts).toBe(0);
    expect(c.writes ?? 0).toBe(0);
    expect(second.certificate).toBeNull();
    expect(second.requests).toEqual({ audit: 3, notModified: 3, verify: 0, writes: 0 });
    const auditRequests = Object.entries(c).filter(([k]) => /(secrets|variables|environments)( 304)?$/.test(k)).reduce((n, [, v]) => n + v, 0);
    expect(auditRequests).toBeLessThanOrEqual(3);
    expect(c['GET /repos/{owner}/{repo}/actions/variables 304']).toBe(1);
    expect(c['GET /repos/{owner}/{repo}/actions/secrets 304']).toBe(1);
    expect(c['GET /repos/{owner}/{repo}/environments 304']).toBe(1);
    // For the record (docs/env-sync.md): everything the second sync asked, files and ledger included.
    process.stdout.write(`env-sync e2e: first sync ${firstCounts.total} requests (${firstCounts.writes} writes); second sync ${c.total} requests, 0 writes; ${JSON.stringify(c)}\n`);
  });

  test('environments with settings, secrets and variables converge; external secrets escalate', async () => {
    const full = seed('envs', {
      repository: { variables: { REGION: 'eu' }, secrets: { STRIPE_KEY: { source: 'external', description: 'from the Stripe dashboard' } } },
      environments: { production: { settings: { wait_timer: 5, prevent_self_review: true }, variables: { LEVEL: 'prod' }, secrets: { DEPLOY_KEY: { source: 'from_env', env: 'DEPLOY_KEY' } } } },
    });
    const first = await run(full);
    expect(first.report!.results.map((r) => `${r.status} ${r.item.kind} ${r.item.name}`)).toEqual([
      'applied environment production', 'skipped secret STRIPE_KEY', 'applied variable REGION', 'applied secret DEPLOY_KEY', 'applied variable LEVEL',
    ]);
    const env = sb.state.repo('acme', 'envs').environments.get('production')!;
    expect(env).toMatchObject({ wait_timer: 5, prevent_self_review: true });
    expect(sb.state.secretValue('acme', 'envs', 'DEPLOY_KEY', 'production')).toBe('dk-1');
    expect(first.driftTable).toContain('external secret (from the Stripe dashboard)');
    sb.resetRequestCounts();
    const second = await run(full);
    expect(second.plan.writes).toBe(0);
    expect(counts().writes ?? 0).toBe(0);
    expect(second.requests.notModified).toBe(second.requests.audit);
  });

  test('a from_env secret whose declared value changed is rewritten once; a present one is otherwise never rewritten', async () => {
    const full = seed('rotate', REPO_ONLY);
    await run(full);
    const before = sb.state.repo('acme', 'rotate').secrets.get('SESSION_KEY')!.updated_at;
    clock.t += 60_000;
    ctx.env.DB_PASSWORD = 'pw-2';
    try {
      sb.resetRequestCounts();
      const r = await run(full);
      expect(r.plan.items.filter((i) => i.op !== 'noop').map((i) => `${i.op} ${i.name}`)).toEqual(['update DB_PASSWORD']);
      expect(r.report!.writeAttempts).toBe(1);
      expect(counts()['PUT /repos/{owner}/{repo}/actions/secrets/{secret_name}']).toBe(1);
      expect(sb.state.secretValue('acme', 'rotate', 'DB_PASSWORD')).toBe('pw-2');
      expect(sb.state.repo('acme', 'rotate').secrets.get('SESSION_KEY')!.updated_at).toBe(before);
    } finally {
      ctx.env.DB_PASSWORD = ENV.DB_PASSWORD;
    }
  });

  test('a renamed variable is detected; prune off keeps the extra items; the discovered PR is updated in place', async () => {
    const full = seed('renamed', REPO_ONLY);
    await run(full);
    // Someone renames API_URL to API_ENDPOINT on GitHub and adds a stray secret.
    sb.state.deleteVariable('acme', 'renamed', 'API_URL');
    sb.state.createVariable('acme', 'renamed', 'API_ENDPOINT', 'https://api.example');
    sb.state.setSecret('acme', 'renamed', 'LEGACY_TOKEN', 'x');
    const dry = await run(full, { dryRun: true });
    const add = dry.plan.items.find((i) => i.name === 'API_URL')!;
    expect(add).toMatchObject({ op: 'add', renamed_from: ['API_ENDPOINT'] });
    expect(dry.driftTable).toContain('probably renamed from API_ENDPOINT');

    const r = await run(full);
    expect(r.report!.applied).toBe(1);
    expect(repoVars('renamed')).toMatchObject({ API_URL: 'https://api.example', API_ENDPOINT: 'https://api.example' });
    expect(repoSecrets('renamed')).toContain('LEGACY_TOKEN');
    // The discovered inventory goes to a branch + PR, never to the default branch.
    expect(r.prUrl).toMatch(/\/pull\/\d+$/);
    const onBranch = await ctx.github.readFile({ owner: 'acme', repo: 'renamed' }, '.github/environment.json', DISCOVERED_BRANCH);
    expect(JSON.parse(onBranch!.content).discovered).toMatchObject({ repository: { variables: ['API_ENDPOINT'], secrets: ['LEGACY_TOKEN'] } });
    const onMain = await ctx.github.readFile({ owner: 'acme', repo: 'renamed' }, '.github/environment.json', 'main');
    expect(JSON.parse(onMain!.content).discovered).toBeUndefined();
    const head1 = sb.state.headSha('acme', 'renamed', DISCOVERED_BRANCH);

    // Unchanged inventory: no new commit, same PR.
    const again = await run(full);
    expect(again.prUrl).toBe(r.prUrl);
    expect(sb.state.headSha('acme', 'renamed', DISCOVERED_BRANCH)).toBe(head1);
    // New stray variable: the same PR's branch moves forward.
    sb.state.createVariable('acme', 'renamed', 'STRAY', '1');
    const third = await run(full);
    expect(third.prUrl).toBe(r.prUrl);
    expect(sb.state.headSha('acme', 'renamed', DISCOVERED_BRANCH)).not.toBe(head1);
    const updated = await ctx.github.readFile({ owner: 'acme', repo: 'renamed' }, '.github/environment.json', DISCOVERED_BRANCH);
    expect(JSON.parse(updated!.content).discovered.repository.variables).toEqual(['API_ENDPOINT', 'STRAY']);
    const pulls = [...sb.state.repo('acme', 'renamed').pulls.values()].filter((p) => p.headRef === DISCOVERED_BRANCH);
    expect(pulls).toHaveLength(1);
  });

  test('prune: deletions need prune: true AND confirmation; foreign ones are listed separately', async () => {
    const full = seed('prune', REPO_ONLY);
    await run(full);
    sb.state.createVariable('acme', 'prune', 'EXTRA', 'x');
    declare('prune', { repository: { ...REPO_ONLY.repository, variables: { REGION: { value: 'eu-west-1' } }, prune: true } });
    const unconfirmed = await run(full);
    expect(unconfirmed.plan.deletions.map((d) => d.name).sort()).toEqual(['API_URL', 'EXTRA']);
    expect(unconfirmed.plan.foreignDeletions.map((d) => d.name)).toEqual(['EXTRA']);
    expect(unconfirmed.report!.results.filter((r) => r.item.op === 'delete').every((r) => r.status === 'skipped')).toBe(true);
    expect(Object.keys(repoVars('prune')).sort()).toEqual(['API_URL', 'EXTRA', 'REGION']);
    expect(unconfirmed.driftTable).toContain('Deletions of items Living Bridge did not create');

    const confirmed = await run(full, { confirmPrune: true });
    expect(confirmed.report!.applied).toBe(2);
    expect(Object.keys(repoVars('prune'))).toEqual(['REGION']);
    expect(confirmed.certificate).not.toBeNull();
  });

  test('dry run writes nothing', async () => {
    const full = seed('dry', REPO_ONLY);
    sb.resetRequestCounts();
    const r = await run(full, { dryRun: true });
    expect(r.plan.summary.add).toBe(4);
    expect(r.report).toBeNull();
    expect(counts().writes ?? 0).toBe(0);
    expect(repoVars('dry')).toEqual({});
    expect(sb.state.findRepo('acme', 'dry')!.refs.has('refs/heads/bridge-ledger')).toBe(false);
  });

  test('a 403 secondary rate limit mid-apply is waited out and retried; a 500 is reported and the next run converges', async () => {
    const full = seed('chaos', REPO_ONLY);
    sb.state.chaos.secondaryRateLimitOnce('PUT /repos/{owner}/{repo}/actions/secrets/{secret_name}');
    sb.state.chaos.failNext('POST /repos/{owner}/{repo}/actions/variables', 500, 1);
    const t0 = clock.t;
    const r = await run(full);
    expect(clock.t - t0).toBeGreaterThanOrEqual(1000);
    expect(r.report!.failed).toBe(1);
    expect(r.report!.results.find((x) => x.status === 'failed')!.item.kind).toBe('variable');
    expect(repoSecrets('chaos')).toEqual(['DB_PASSWORD', 'SESSION_KEY']);
    expect(r.certified).toBe(true);
    expect(r.notes.join('\n')).toContain('the next sync retries them');
    const next = await run(full);
    expect(next.report!.failed).toBe(0);
    expect(next.report!.applied).toBe(1);
    expect(repoVars('chaos')).toEqual({ API_URL: 'https://api.example', REGION: 'eu-west-1' });
    expect((await run(full)).plan.writes).toBe(0);
  });

  test('malformed environment.json: a precise error and nothing written', async () => {
    const bad = seed('malformed', { repository: { variables: { 'BAD-NAME': 'x' }, secrets: { S: { source: 'vault' } } } } as unknown as EnvironmentFileInput);
    sb.resetRequestCounts();
    const err = await run(bad).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SchemaError);
    expect((err as Error).message).toContain('.github/environment.json: repository.variables.BAD-NAME');
    expect((err as Error).message).toContain('repository.secrets.S.source');
    const notJson = seed('notjson', '{ "repository": ');
    const err2 = await run(notJson).catch((e: unknown) => e);
    expect((err2 as Error).message).toContain('not valid JSON');
    expect(counts().writes ?? 0).toBe(0);
  });

  test('a non-default ref is refused for an apply unless configured; a dry run from it is fine', async () => {
    const full = seed('branchy', REPO_ONLY);
    sb.state.commitFiles('acme', 'branchy', 'feature', { '.github/environment.json': JSON.stringify({ repository: { variables: { X: '1' } } }) }, 'feature', { parentSha: sb.state.headSha('acme', 'branchy', 'main') });
    await expect(run(full, { ref: 'refs/heads/feature' })).rejects.toBeInstanceOf(SyncRefusedError);
    const dry = await run(full, { ref: 'feature', dryRun: true });
    expect(dry.plan.items.map((i) => i.name)).toEqual(['X']);
    sb.state.commitFiles('acme', 'branchy', 'main', { '.github/autonomy.yml': 'allow_sync_from_non_default_branch: true\n' }, 'allow');
    const applied = await run(full, { ref: 'feature' });
    expect(applied.report!.applied).toBe(1);
  });

  test('syncForIncident syncs only the missing variable and reports it for the heal certificate', async () => {
    const full = seed('incident', { repository: { variables: { A: 'a', B: 'b' } }, environments: { staging: { variables: { C: 'c' } } } });
    sb.state.putEnvironment('acme', 'incident', 'staging');
    const report = await syncForIncident(ctx, full, 'staging', 'B');
    expect(report).toMatchObject({ action: 'SYNC_AND_CERTIFY', ok: true, changes: [{ target: 'B', kind: 'variable', op: 'create', scope: 'repository' }] });
    expect(repoVars('incident')).toEqual({ B: 'b' });
    const undeclared = await syncForIncident(ctx, full, undefined, 'NOPE');
    expect(undeclared.ok).toBe(false);
    expect(undeclared.error).toContain('not declared');
  });
});
