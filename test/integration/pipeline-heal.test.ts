/**
 * The heal flow over FakeGitHub and a git ledger on it: which failures lead to which actions, what
 * is (never) written, and what ends up in the ledger.
 */
import { describe, expect, test } from '@jest/globals';
import { REPOSITORY_SCOPE } from '../../src/ports/index.js';
import { heal } from '../../src/pipeline/heal.js';
import { setHalted } from '../../src/pipeline/control.js';
import { AUTONOMY, DEPLOY_TOKEN_VALUE, FULL, LOGS, LEDGER_WRITES, GITHUB_WRITES, REPO, auditLines, failedRun, predicateOf, jobFor, ledgerFiles, makeKit, writesOf } from './pipeline-kit.js';

const ENV_FILE = (secrets: Record<string, unknown>) =>
  JSON.stringify({ version: 1, environments: { production: { secrets } } });

describe('heal: missing secret', () => {
  test('a secret declared in .github/autonomy.yml is created from its source, the run re-run, certified and announced', async () => {
    const { gh, ctx } = await makeKit();
    gh.seedFiles(REPO, { '.github/autonomy.yml': AUTONOMY() });
    const run = failedRun(gh, LOGS.missingSecret());
    const result = await heal(ctx, jobFor({ repository: FULL, run_id: run.id }));
    expect(result.status).toBe('healed');
    expect(result.decision?.steps).toEqual(['CREATE_SECRET', 'RERUN']);
    expect(gh.secretValue(REPO, REPOSITORY_SCOPE, 'DEPLOY_TOKEN')).toBe(DEPLOY_TOKEN_VALUE);
    expect(writesOf(gh, ['rerunFailedJobs'])).toHaveLength(1);
    expect(predicateOf(result.certificate).certified).toBe(true);
    expect(predicateOf(result.certificate).changes.map((c) => [c.kind, c.target, c.op])).toEqual([['secret', 'DEPLOY_TOKEN', 'create'], ['run', expect.any(String), 'rerun']]);
    const files = ledgerFiles(gh);
    expect(Object.keys(files).filter((p) => p.startsWith('.bridge/certificates/'))).toHaveLength(1);
    expect(gh.checkRuns(REPO)).toEqual([expect.objectContaining({ head_sha: run.head_sha, conclusion: 'success' })]);
  });

  test('an environment-scoped declaration in environment.json wins over autonomy.yml', async () => {
    const { gh, ctx } = await makeKit();
    gh.addEnvironment(REPO, 'production');
    gh.seedFiles(REPO, {
      // production is declared: an undeclared production would default to suggest.
      '.github/autonomy.yml': `${AUTONOMY()}\nenvironments:\n  production:\n    level: full\n`,
      '.github/environment.json': ENV_FILE({ DEPLOY_TOKEN: { source: 'generate', length: 24, charset: 'hex' } }),
    });
    const run = failedRun(gh, LOGS.missingSecret());
    const result = await heal(ctx, jobFor({ repository: FULL, run_id: run.id, environment: 'production' }));
    expect(result.status).toBe('healed');
    const value = gh.secretValue(REPO, { type: 'environment', name: 'production' }, 'DEPLOY_TOKEN');
    expect(value).toMatch(/^[0-9a-f]{24}$/);
    expect(gh.secretValue(REPO, REPOSITORY_SCOPE, 'DEPLOY_TOKEN')).toBeUndefined();
  });

  test('a repository-level declaration in environment.json is used when no environment declares it', async () => {
    const { gh, ctx } = await makeKit();
    gh.seedFiles(REPO, {
      '.github/autonomy.yml': 'default_level: full\ncooldowns: { default_minutes: 0 }\n',
      '.github/environment.json': JSON.stringify({ version: 1, repository: { secrets: { DEPLOY_TOKEN: { source: 'generate', length: 40 } } } }),
    });
    const run = failedRun(gh, LOGS.missingSecret());
    expect((await heal(ctx, jobFor({ repository: FULL, run_id: run.id }))).status).toBe('healed');
    expect(gh.secretValue(REPO, REPOSITORY_SCOPE, 'DEPLOY_TOKEN')).toMatch(/^[A-Za-z0-9]{40}$/);
  });

  test('no declared source: escalation whose instruction is the YAML snippet to add; nothing written', async () => {
    const { gh, ctx } = await makeKit();
    gh.seedFiles(REPO, { '.github/autonomy.yml': 'default_level: full\n' });
    const run = failedRun(gh, LOGS.missingSecret());
    const result = await heal(ctx, jobFor({ repository: FULL, run_id: run.id }));
    expect(result.status).toBe('escalated');
    expect(writesOf(gh, ['setSecret', 'rerunFailedJobs'])).toEqual([]);
    const [issue] = gh.issues(REPO);
    expect(issue?.body).toContain('.github/autonomy.yml');
    expect(issue?.body).toContain('secrets:\n  DEPLOY_TOKEN:\n    source: generate');
    expect(result.issueUrl).toBe(issue?.html_url);
  });

  test('a source declared external is never written: escalate', async () => {
    const { gh, ctx } = await makeKit();
    gh.seedFiles(REPO, { '.github/autonomy.yml': 'default_level: full\nsecrets:\n  DEPLOY_TOKEN:\n    source: external\n' });
    const run = failedRun(gh, LOGS.missingSecret());
    const result = await heal(ctx, jobFor({ repository: FULL, run_id: run.id }));
    expect(result.status).toBe('escalated');
    expect(writesOf(gh, ['setSecret', 'rerunFailedJobs'])).toEqual([]);
    expect(gh.issues(REPO)[0]?.body).toContain('external');
  });

  test('a run from a fork or from Dependabot never gets a secret written', async () => {
    for (const run of [{ from_fork: true }, { actor: 'dependabot[bot]' }]) {
      const { gh, ctx } = await makeKit();
      gh.seedFiles(REPO, { '.github/autonomy.yml': AUTONOMY() });
      const r = failedRun(gh, LOGS.missingSecret(), run);
      const result = await heal(ctx, jobFor({ repository: FULL, run_id: r.id }));
      expect(result.decision?.steps).not.toContain('CREATE_SECRET');
      expect(writesOf(gh, ['setSecret'])).toEqual([]);
      expect(gh.secretValue(REPO, REPOSITORY_SCOPE, 'DEPLOY_TOKEN')).toBeUndefined();
    }
  });
});

describe('heal: other failures', () => {
  test('credential.invalid escalates and never writes a secret, even one with a declared source', async () => {
    const { gh, ctx } = await makeKit();
    gh.seedFiles(REPO, { '.github/autonomy.yml': AUTONOMY() });
    gh.seedSecret(REPO, REPOSITORY_SCOPE, 'DEPLOY_TOKEN', 'stale-value');
    const run = failedRun(gh, LOGS.credential);
    const result = await heal(ctx, jobFor({ repository: FULL, run_id: run.id }));
    expect(result.decision?.action).toBe('ESCALATE');
    expect(result.status).toBe('escalated');
    expect(writesOf(gh, ['setSecret', 'deleteSecret', 'rerunFailedJobs'])).toEqual([]);
    expect(gh.secretValue(REPO, REPOSITORY_SCOPE, 'DEPLOY_TOKEN')).toBe('stale-value');
  });

  test('a transient network failure is re-run', async () => {
    const { gh, ctx } = await makeKit();
    gh.seedFiles(REPO, { '.github/autonomy.yml': AUTONOMY() });
    const run = failedRun(gh, LOGS.transient);
    const result = await heal(ctx, jobFor({ repository: FULL, run_id: run.id }));
    expect(result.status).toBe('healed');
    expect(result.decision?.steps).toEqual(['RERUN']);
    expect(writesOf(gh, ['rerunFailedJobs'])).toHaveLength(1);
    expect((await gh.getRun(REPO, run.id)).run_attempt).toBe(2);
  });

  test('code.failure escalates with a postmortem in the ledger', async () => {
    const { gh, ctx } = await makeKit();
    gh.seedFiles(REPO, { '.github/autonomy.yml': AUTONOMY() });
    const run = failedRun(gh, LOGS.codeFailure);
    const result = await heal(ctx, jobFor({ repository: FULL, run_id: run.id }));
    expect(result.decision?.action).toBe('ESCALATE');
    expect(result.status).toBe('escalated');
    expect(gh.issues(REPO)).toHaveLength(1);
    const postmortems = Object.entries(ledgerFiles(gh)).filter(([p]) => p.startsWith('.bridge/postmortems/'));
    expect(postmortems).toHaveLength(1);
    expect(postmortems[0]![1]).toContain('code.failure');
    expect(writesOf(gh, ['rerunFailedJobs', 'setSecret'])).toEqual([]);
  });

  test('the webhook door ignores failures of workflows that are not deploys, writing nothing', async () => {
    const { gh, ctx } = await makeKit();
    gh.seedFiles(REPO, { '.github/autonomy.yml': AUTONOMY() });
    const run = failedRun(gh, LOGS.missingSecret(), { name: 'Lint' });
    gh.calls.length = 0;
    const result = await heal(ctx, jobFor({ repository: FULL, run_id: run.id }));
    expect(result.status).toBe('noop');
    expect(result.summary).toContain('not a deploy workflow');
    expect(writesOf(gh, [...GITHUB_WRITES, ...LEDGER_WRITES])).toEqual([]);
    // The CLI (or API) asks explicitly: it heals any workflow.
    expect((await heal(ctx, jobFor({ repository: FULL, run_id: run.id }, 'cli'))).status).toBe('healed');
  });
});

describe('heal: switches', () => {
  test('AUTONOMY_ENABLED=false: noop(halted), nothing written but the audit line', async () => {
    const { gh, ctx } = await makeKit({ autonomyEnabled: false });
    gh.seedFiles(REPO, { '.github/autonomy.yml': AUTONOMY() });
    const run = failedRun(gh, LOGS.missingSecret());
    const result = await heal(ctx, jobFor({ repository: FULL, run_id: run.id }));
    expect(result.status).toBe('noop');
    expect(result.decision?.guardrail).toBe('halted');
    expect(writesOf(gh, GITHUB_WRITES)).toEqual([]);
    expect(auditLines(gh).map((a) => a.event)).toEqual(['decision.noop']);
    expect(Object.keys(ledgerFiles(gh)).filter((p) => p.includes('certificates/'))).toEqual([]);
  });

  test('enabled: false in the repository config: noop(halted)', async () => {
    const { gh, ctx } = await makeKit();
    gh.seedFiles(REPO, { '.github/autonomy.yml': `${AUTONOMY()}enabled: false\n` });
    const run = failedRun(gh, LOGS.missingSecret());
    const result = await heal(ctx, jobFor({ repository: FULL, run_id: run.id }));
    expect(result.status).toBe('noop');
    expect(result.decision?.reason).toContain('enabled: false');
    expect(writesOf(gh, GITHUB_WRITES)).toEqual([]);
  });

  test('the ledger kill switch (setHalted) makes heals noop until resumed', async () => {
    const { gh, ctx } = await makeKit();
    gh.seedFiles(REPO, { '.github/autonomy.yml': AUTONOMY() });
    await setHalted(ctx, FULL, true, 'incident review', 'alice');
    const run = failedRun(gh, LOGS.missingSecret());
    const halted = await heal(ctx, jobFor({ repository: FULL, run_id: run.id }));
    expect(halted.status).toBe('noop');
    expect(halted.decision?.reason).toContain('incident review');
    expect(writesOf(gh, GITHUB_WRITES)).toEqual([]);
    await setHalted(ctx, FULL, false, 'done', 'alice');
    expect((await heal(ctx, jobFor({ repository: FULL, run_id: run.id }))).status).toBe('healed');
    expect(auditLines(gh).map((a) => a.event)).toEqual(['kill_switch.halt', 'decision.noop', 'kill_switch.resume', 'action.CREATE_SECRET']);
  });

  test('invalid environment.json: the heal continues with a warning', async () => {
    const { gh, ctx, logs } = await makeKit();
    gh.seedFiles(REPO, { '.github/autonomy.yml': AUTONOMY(), '.github/environment.json': '{ "version": 1, "repository": { "secrets": 3 } }' });
    const run = failedRun(gh, LOGS.missingSecret());
    const result = await heal(ctx, jobFor({ repository: FULL, run_id: run.id }));
    expect(result.status).toBe('healed');
    expect(logs()).toContain('environment.json is invalid');
    expect(logs()).toContain('repository.secrets');
  });
});

describe('heal: invalid .github/autonomy.yml', () => {
  test('the heal fails with the file and path named, tells humans on the PR, the check run and one issue, and acts on nothing', async () => {
    const { gh, ctx } = await makeKit();
    gh.seedFiles(REPO, { '.github/autonomy.yml': 'default_level: fully\n' });
    const pr = gh.addPullRequest(REPO, { head: 'feature', headSha: 'a'.repeat(40) });
    const run = failedRun(gh, LOGS.missingSecret(), { head_sha: 'a'.repeat(40) });
    const result = await heal(ctx, jobFor({ repository: FULL, run_id: run.id }));
    expect(result.status).toBe('failed');
    expect(result.summary).toContain('.github/autonomy.yml');
    expect(result.summary).toContain('default_level');
    expect(writesOf(gh, ['setSecret', 'rerunFailedJobs', ...LEDGER_WRITES])).toEqual([]);
    expect(gh.checkRuns(REPO)).toEqual([expect.objectContaining({ conclusion: 'failure', head_sha: 'a'.repeat(40) })]);
    expect(gh.checkRuns(REPO)[0]?.summary).toContain('default_level');
    const comment = gh.pullRequests(REPO).find((p) => p.number === pr.number)?.comments[0];
    expect(comment?.body).toContain('.github/autonomy.yml');
    expect(gh.issues(REPO)).toHaveLength(1);
    // A second failure updates the same issue rather than opening another.
    const again = failedRun(gh, LOGS.missingSecret());
    await heal(ctx, jobFor({ repository: FULL, run_id: again.id }));
    expect(gh.issues(REPO)).toHaveLength(1);
  });

  test('YAML that does not parse is reported the same way', async () => {
    const { gh, ctx } = await makeKit();
    gh.seedFiles(REPO, { '.github/autonomy.yml': 'secrets: [unclosed\n' });
    const result = await heal(ctx, jobFor({ repository: FULL, incident: { kind: 'transient.network' } }, 'api'));
    expect(result.status).toBe('failed');
    expect(result.summary).toMatch(/\.github\/autonomy\.yml.*not valid YAML/);
  });
});

describe('heal: dry run', () => {
  test('writes nothing at all, not even learning from an earlier action', async () => {
    const { gh, ctx } = await makeKit();
    gh.seedFiles(REPO, { '.github/autonomy.yml': AUTONOMY() });
    const run = failedRun(gh, LOGS.transient);
    await heal(ctx, jobFor({ repository: FULL, run_id: run.id }));
    gh.completeRun(REPO, run.id, 'failure');
    gh.addJob(REPO, run.id, { name: 'deploy', log: LOGS.transient });
    gh.calls.length = 0;
    const before = gh.branchHead(REPO, 'bridge-ledger');
    const result = await heal(ctx, jobFor({ repository: FULL, run_id: run.id, dry_run: true }));
    expect(result.status).toBe('dry_run');
    expect(result.summary).toContain('would');
    expect(writesOf(gh, [...GITHUB_WRITES, ...LEDGER_WRITES])).toEqual([]);
    expect(gh.branchHead(REPO, 'bridge-ledger')).toBe(before);
  });
});
