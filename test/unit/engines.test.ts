import { randomBytes as cryptoRandomBytes } from 'node:crypto';
import { parse as parseYaml } from 'yaml';
import { RepoConfig, type Decision, type Incident, type RepoRef } from '../../src/core/schemas/index.js';
import {
  CHARSETS,
  executeCreateSecret,
  executeEscalate,
  executeRegenerateConfig,
  executeRerun,
  executeRollback,
  fingerprintValue,
  generateSecretValue,
  incidentMarker,
  missingSourceInstruction,
  permissionOf,
  regenerateBranch,
  renderPostmortem,
  renderTemplate,
  type CreateSecretPlan,
} from '../../src/engines/index.js';
import { REPOSITORY_SCOPE } from '../../src/ports/index.js';
import { FakeGitHub, FakePermissionError } from '../support/fake-github.js';

const repo: RepoRef = { owner: 'acme', repo: 'shop' };
const KEY = 'test-fingerprint-key';

/** Cycles through every byte value in order: exactly uniform input. */
function counterBytes(): (n: number) => Uint8Array {
  let i = 0;
  return (n) => Uint8Array.from({ length: n }, () => i++ % 256);
}

function secretPlan(over: Partial<CreateSecretPlan> = {}): CreateSecretPlan {
  return {
    repo,
    scope: REPOSITORY_SCOPE,
    name: 'DEPLOY_TOKEN',
    source: { source: 'generate', length: 32, charset: 'alnum' },
    env: {},
    randomBytes: (n) => new Uint8Array(cryptoRandomBytes(n)),
    fingerprintKey: KEY,
    ...over,
  };
}

function incident(over: Partial<Incident> = {}): Incident {
  return {
    kind: 'secret.missing',
    target: { type: 'secret', name: 'DEPLOY_TOKEN' },
    confidence: 0.93,
    fingerprint: 'secret.missing:secret:DEPLOY_TOKEN:deploy',
    summary: 'The deploy step needs DEPLOY_TOKEN, which is not set (cc @alice).',
    evidence: [
      { job_name: 'deploy', step: 'Deploy', line: 12, text: 'Error: Input required and not supplied: token' },
      { job_name: 'deploy', step: 'Deploy', line: 13, text: 'has ``` backticks and *** masked' },
    ],
    repo,
    run: { id: 42, attempt: 2, from_fork: false, pull_requests: [], head_sha: 'abcdef1234567890', head_branch: 'main', workflow_name: 'Build & Deploy' },
    environment: 'production',
    ...over,
  };
}

function decision(over: Partial<Decision> = {}): Decision {
  return {
    verdict: 'noop',
    action: 'ESCALATE',
    steps: ['ESCALATE'],
    guardrail: 'fail_streak',
    reason: '3 consecutive failed outcomes on DEPLOY_TOKEN',
    incident_kind: 'secret.missing',
    target: { type: 'secret', name: 'DEPLOY_TOKEN' },
    incident_fingerprint: 'secret.missing:secret:DEPLOY_TOKEN:deploy',
    cooldown_key: 'acme/shop|production|secret.missing|CREATE_SECRET',
    candidates: [{ action: 'CREATE_SECRET', ema: 0.2, cooldown_penalty: 0.1, weight: 1, predicted_success: 0.25, score: 0.1 }],
    policy_version: 1,
    blueprint_mode: 'adaptive',
    decided_at: '2026-03-01T10:00:00Z',
    ...over,
  };
}

describe('fingerprintValue', () => {
  it('is a keyed, deterministic 32-hex digest', () => {
    const a = fingerprintValue('hunter2', KEY);
    expect(a).toMatch(/^[0-9a-f]{32}$/);
    expect(fingerprintValue('hunter2', KEY)).toBe(a);
    expect(fingerprintValue('hunter2', 'other-key')).not.toBe(a);
    expect(fingerprintValue('hunter3', KEY)).not.toBe(a);
  });
  it('refuses an empty key', () => {
    expect(() => fingerprintValue('x', '')).toThrow(/empty fingerprint key/);
  });
});

describe('permissionOf', () => {
  it('duck-types GitHubPermissionError', () => {
    expect(permissionOf(new FakePermissionError('secrets', 'setSecret'))).toBe('secrets');
    expect(permissionOf(Object.assign(new Error('x'), { name: 'GitHubPermissionError', permission: 'issues' }))).toBe('issues');
    expect(permissionOf(Object.assign(new Error('x'), { permission: 'issues' }))).toBeNull();
    expect(permissionOf('nope')).toBeNull();
  });
});

describe('generateSecretValue', () => {
  it.each(Object.keys(CHARSETS) as (keyof typeof CHARSETS)[])('produces the requested length from the %s charset', (charset) => {
    const v = generateSecretValue(64, charset, (n) => new Uint8Array(cryptoRandomBytes(n)));
    expect(v).toHaveLength(64);
    for (const ch of v) expect(CHARSETS[charset]).toContain(ch);
  });

  it('has no modulo bias: uniform bytes give exactly uniform alnum characters', () => {
    // 248 = 4 * 62 accepted byte values; bytes 248..255 must be rejected, not folded onto 'A'..'H'.
    const v = generateSecretValue(62 * 40, 'alnum', counterBytes());
    const counts = new Map<string, number>();
    for (const ch of v) counts.set(ch, (counts.get(ch) ?? 0) + 1);
    expect(counts.size).toBe(62);
    for (const c of counts.values()) expect(c).toBe(40);
  });

  it('passes a distribution sanity check with real randomness (chi-square)', () => {
    const v = generateSecretValue(62_000, 'alnum', (n) => new Uint8Array(cryptoRandomBytes(n)));
    const counts = new Map<string, number>();
    for (const ch of v) counts.set(ch, (counts.get(ch) ?? 0) + 1);
    const expected = 1000;
    let chi2 = 0;
    for (const ch of CHARSETS.alnum) chi2 += ((counts.get(ch) ?? 0) - expected) ** 2 / expected;
    // 61 degrees of freedom: p(chi2 > 120) < 1e-5. A modulo-biased generator scores ~ 2000 here.
    expect(chi2).toBeLessThan(120);
  });

  it('rejects bytes above the largest multiple of the alphabet size', () => {
    let first = true;
    const source = (n: number): Uint8Array => {
      if (first) {
        first = false;
        return new Uint8Array(n).fill(250); // all rejected for alnum
      }
      return new Uint8Array(n).fill(0);
    };
    expect(generateSecretValue(16, 'alnum', source)).toBe('A'.repeat(16));
  });

  it('throws on a broken random source instead of looping forever', () => {
    expect(() => generateSecretValue(16, 'alnum', (n) => new Uint8Array(n).fill(255))).toThrow(/unusable bytes/);
  });
});

describe('executeCreateSecret', () => {
  it('creates a generated secret, verifies it and reports only fingerprints', async () => {
    const gh = new FakeGitHub();
    const report = await executeCreateSecret(gh, secretPlan());
    const value = gh.secretValue(repo, REPOSITORY_SCOPE, 'DEPLOY_TOKEN');
    expect(value).toMatch(/^[A-Za-z0-9]{32}$/);
    expect(report).toMatchObject({ action: 'CREATE_SECRET', ok: true, certified: true });
    expect(report.changes).toEqual([{
      kind: 'secret', target: 'DEPLOY_TOKEN', scope: 'repository', op: 'create',
      before_fingerprint: null, after_fingerprint: fingerprintValue(value as string, KEY),
    }]);
    expect(report.written?.fingerprint).toBe(fingerprintValue(value as string, KEY));
    expect(JSON.stringify(report)).not.toContain(value as string);
    expect(JSON.stringify(gh.calls)).not.toContain(value as string);
  });

  it('updates an existing secret: GitHub\'s 204 says it existed before', async () => {
    const gh = new FakeGitHub();
    gh.seedSecret(repo, REPOSITORY_SCOPE, 'DEPLOY_TOKEN', 'old-value');
    const report = await executeCreateSecret(gh, secretPlan({ source: { source: 'generate', length: 40, charset: 'hex' } }));
    expect(report.ok).toBe(true);
    expect(report.certified).toBe(true);
    expect(report.changes[0]).toMatchObject({ op: 'update', before_fingerprint: 'existed' });
    expect(gh.secretValue(repo, REPOSITORY_SCOPE, 'DEPLOY_TOKEN')).toMatch(/^[0-9a-f]{40}$/);
  });

  it('writes an environment-scoped secret with its scope label', async () => {
    const gh = new FakeGitHub();
    gh.addEnvironment(repo, 'production');
    const scope = { type: 'environment' as const, name: 'production' };
    const report = await executeCreateSecret(gh, secretPlan({ scope, source: { source: 'generate', length: 24, charset: 'base64url' } }));
    expect(report.ok).toBe(true);
    expect(report.changes[0]?.scope).toBe('environment:production');
    expect(gh.secretValue(repo, scope, 'DEPLOY_TOKEN')).toMatch(/^[A-Za-z0-9_-]{24}$/);
  });

  it('takes a from_env value from the healer environment', async () => {
    const gh = new FakeGitHub();
    const report = await executeCreateSecret(gh, secretPlan({ source: { source: 'from_env', env: 'BRIDGE_DEPLOY_TOKEN' }, env: { BRIDGE_DEPLOY_TOKEN: 's3cr3t-from-env' } }));
    expect(report.ok).toBe(true);
    expect(gh.secretValue(repo, REPOSITORY_SCOPE, 'DEPLOY_TOKEN')).toBe('s3cr3t-from-env');
    expect(report.changes[0]?.after_fingerprint).toBe(fingerprintValue('s3cr3t-from-env', KEY));
    expect(JSON.stringify(report)).not.toContain('s3cr3t-from-env');
  });

  it.each([undefined, ''])('from_env with the variable %p: not ok with an exact instruction, nothing written', async (val) => {
    const gh = new FakeGitHub();
    const report = await executeCreateSecret(gh, secretPlan({ source: { source: 'from_env', env: 'BRIDGE_DEPLOY_TOKEN' }, env: { BRIDGE_DEPLOY_TOKEN: val } }));
    expect(report.ok).toBe(false);
    expect(report.error).toBe('set BRIDGE_DEPLOY_TOKEN in the Living Bridge environment');
    expect(gh.callsTo('setSecret')).toHaveLength(0);
  });

  it('external: never written, a human must set it', async () => {
    const gh = new FakeGitHub();
    const report = await executeCreateSecret(gh, secretPlan({ source: { source: 'external' } }));
    expect(report.ok).toBe(false);
    expect(report.error).toBe('DEPLOY_TOKEN is declared external: a human must set it');
    expect(gh.calls).toHaveLength(0);
    expect(gh.secretValue(repo, REPOSITORY_SCOPE, 'DEPLOY_TOKEN')).toBeUndefined();
  });

  it('sets missingPermission on a permission error and keeps the value out of the report', async () => {
    const gh = new FakeGitHub().deny('setSecret', 'secrets');
    const report = await executeCreateSecret(gh, secretPlan({ source: { source: 'from_env', env: 'X' }, env: { X: 'very-secret-value' } }));
    expect(report.ok).toBe(false);
    expect(report.missingPermission).toBe('secrets');
    expect(report.error).toMatch(/missing permission "secrets"/);
    expect(JSON.stringify(report)).not.toContain('very-secret-value');
  });

  it('redacts the value if a port error message echoes it', async () => {
    const gh = new FakeGitHub().failNext('setSecret', new Error('boom: very-secret-value rejected'));
    const report = await executeCreateSecret(gh, secretPlan({ source: { source: 'from_env', env: 'X' }, env: { X: 'very-secret-value' } }));
    expect(report.ok).toBe(false);
    expect(report.missingPermission).toBeUndefined();
    expect(JSON.stringify(report)).not.toContain('very-secret-value');
  });

  it('with a GITHUB_TOKEN (no secrets permission) reports the permission needed', async () => {
    const gh = new FakeGitHub().asGitHubToken();
    const report = await executeCreateSecret(gh, secretPlan());
    expect(report).toMatchObject({ ok: false, missingPermission: 'secrets' });
  });

  it('writes first and reads back once: the create/update answer replaces a read before', async () => {
    const gh = new FakeGitHub();
    const report = await executeCreateSecret(gh, secretPlan());
    expect(report.changes[0]).toMatchObject({ op: 'create', before_fingerprint: null });
    expect(gh.callsTo('setSecret')).toHaveLength(1);
    expect(gh.callsTo('getSecret')).toHaveLength(1);
  });

  it('refuses reserved names and an empty fingerprint key', async () => {
    const gh = new FakeGitHub();
    expect((await executeCreateSecret(gh, secretPlan({ name: 'GITHUB_TOKEN' }))).ok).toBe(false);
    expect((await executeCreateSecret(gh, secretPlan({ fingerprintKey: '' }))).error).toMatch(/fingerprint key/);
    expect(gh.callsTo('setSecret')).toHaveLength(0);
  });
});

describe('missingSourceInstruction', () => {
  it('is the YAML snippet to declare a source, valid in .github/autonomy.yml', () => {
    const snippet = missingSourceInstruction('DEPLOY_TOKEN');
    expect(snippet).toBe('secrets:\n  DEPLOY_TOKEN:\n    source: generate   # or: source: from_env + env: NAME, or source: external');
    const config = RepoConfig.parse(parseYaml(snippet));
    expect(config.secrets.DEPLOY_TOKEN).toEqual({ source: 'generate', length: 32, charset: 'alnum' });
  });
});

describe('executeRerun', () => {
  it('re-runs failed jobs and certifies the new attempt', async () => {
    const gh = new FakeGitHub();
    const run = gh.addRun(repo, { id: 42 });
    const report = await executeRerun(gh, { repo, runId: run.id, attempt: 1, maxAttempts: 3 });
    expect(report).toMatchObject({ action: 'RERUN', ok: true, certified: true, runAttemptAfter: 2 });
    expect(report.changes).toEqual([{ kind: 'run', target: 'run 42', scope: 'repository', op: 'rerun', before_fingerprint: 'attempt:1', after_fingerprint: 'attempt:2' }]);
    expect((await gh.getRun(repo, 42)).status).toBe('queued');
  });

  it('refuses at maxAttempts', async () => {
    const gh = new FakeGitHub();
    gh.addRun(repo, { id: 42, run_attempt: 3 });
    const report = await executeRerun(gh, { repo, runId: 42, attempt: 3, maxAttempts: 3 });
    expect(report.ok).toBe(false);
    expect(report.error).toMatch(/attempt 3.*max_rerun_attempts is 3/);
    expect(gh.callsTo('rerunFailedJobs')).toHaveLength(0);
  });

  it('counts the run\'s real attempt when the plan is stale', async () => {
    const gh = new FakeGitHub();
    gh.addRun(repo, { id: 42, run_attempt: 3 });
    const report = await executeRerun(gh, { repo, runId: 42, attempt: 1, maxAttempts: 3 });
    expect(report.ok).toBe(false);
    expect(gh.callsTo('rerunFailedJobs')).toHaveLength(0);
  });

  it('refuses at GitHub\'s cap of 50 whatever the config says', async () => {
    const gh = new FakeGitHub();
    gh.addRun(repo, { id: 42, run_attempt: 50 });
    const report = await executeRerun(gh, { repo, runId: 42, attempt: 50, maxAttempts: 500 });
    expect(report.ok).toBe(false);
    expect(report.error).toMatch(/at most 50 attempts/);
    expect(gh.callsTo('rerunFailedJobs')).toHaveLength(0);
  });

  it('does not re-run a run that is already running', async () => {
    const gh = new FakeGitHub();
    gh.addRun(repo, { id: 42, status: 'in_progress', conclusion: null });
    const report = await executeRerun(gh, { repo, runId: 42, attempt: 1, maxAttempts: 3 });
    expect(report).toMatchObject({ ok: true, certified: false });
    expect(report.changes[0]?.op).toBe('noop');
    expect(gh.callsTo('rerunFailedJobs')).toHaveLength(0);
  });

  it('sets missingPermission when actions: write is missing', async () => {
    const gh = new FakeGitHub().deny('rerunFailedJobs', 'actions');
    gh.addRun(repo, { id: 42 });
    const report = await executeRerun(gh, { repo, runId: 42, attempt: 1, maxAttempts: 3 });
    expect(report).toMatchObject({ ok: false, missingPermission: 'actions' });
  });
});

describe('executeRollback', () => {
  it('re-runs the last successful run on the branch', async () => {
    const gh = new FakeGitHub();
    gh.addRun(repo, { id: 10, conclusion: 'success', head_sha: 'a'.repeat(40), created_at: '2026-01-01T00:00:00Z' });
    const good = gh.addRun(repo, { id: 11, conclusion: 'success', head_sha: 'b'.repeat(40), created_at: '2026-01-02T00:00:00Z' });
    gh.addRun(repo, { id: 12, conclusion: 'success', head_branch: 'feature', created_at: '2026-01-03T00:00:00Z' });
    gh.addRun(repo, { id: 13, conclusion: 'failure', created_at: '2026-01-04T00:00:00Z' });
    const report = await executeRollback(gh, { repo, workflowId: 1, branch: 'main', failedRunId: 13 });
    expect(report).toMatchObject({ action: 'ROLLBACK', ok: true, certified: true, rolledBackTo: { runId: good.id, headSha: 'b'.repeat(40) } });
    expect(report.changes).toEqual([{ kind: 'run', target: 'run 11 (rollback of 13)', scope: 'repository', op: 'rerun', before_fingerprint: 'attempt:1', after_fingerprint: 'attempt:2' }]);
    expect(gh.callsTo('rerunRun').map((c) => c.args[0])).toEqual([11]);
  });

  it('is not ok without an earlier successful run', async () => {
    const gh = new FakeGitHub();
    gh.addRun(repo, { id: 13 });
    const report = await executeRollback(gh, { repo, workflowId: 1, branch: 'main', failedRunId: 13 });
    expect(report.ok).toBe(false);
    expect(report.error).toBe('no earlier successful run to roll back to');
    expect(gh.callsTo('rerunRun')).toHaveLength(0);
  });

  it('sets missingPermission on a permission error', async () => {
    const gh = new FakeGitHub().deny('rerunRun', 'actions');
    gh.addRun(repo, { id: 10, conclusion: 'success' });
    const report = await executeRollback(gh, { repo, workflowId: 1, branch: 'main', failedRunId: 13 });
    expect(report).toMatchObject({ ok: false, missingPermission: 'actions' });
  });
});

describe('executeEscalate', () => {
  const plan = (over: Partial<Parameters<typeof executeEscalate>[1]> = {}): Parameters<typeof executeEscalate>[1] => ({
    repo,
    incident: incident(),
    decision: decision(),
    tried: ['CREATE_SECRET: DEPLOY_TOKEN has no declared source'],
    instruction: 'Declare a source for DEPLOY_TOKEN in .github/autonomy.yml.',
    runUrl: 'https://github.com/acme/shop/actions/runs/42',
    ledgerLink: 'https://github.com/acme/shop/tree/bridge-ledger',
    ...over,
  });

  it('opens one labelled issue with a hidden marker and everything a human needs', async () => {
    const gh = new FakeGitHub();
    const report = await executeEscalate(gh, plan());
    expect(report).toMatchObject({ action: 'ESCALATE', ok: true, certified: true });
    expect(report.issue).toMatchObject({ number: 1, created: true, occurrences: 1 });
    const issue = gh.issue(repo, 1);
    expect(issue?.labels).toEqual(['living-bridge', 'needs-human']);
    const body = issue?.body ?? '';
    expect(body).toContain(incidentMarker('secret.missing:secret:DEPLOY_TOKEN:deploy'));
    expect(body).toContain('<!-- living-bridge:incident:secret.missing:secret:DEPLOY_TOKEN:deploy -->');
    for (const section of ['What failed', 'Evidence', 'What was tried', 'Decision', 'What a human should do', 'Links', 'Occurrences']) expect(body).toContain(section);
    expect(body).toContain('confidence 0.93');
    expect(body).toContain('| CREATE_SECRET | 0.100 |');
    expect(body).toContain('````text'); // evidence has ``` so the fence is longer
    expect(body).not.toMatch(/@alice/); // no pings from log-derived text
    expect(report.changes[0]).toMatchObject({ kind: 'issue', target: 'issue #1', op: 'open', before_fingerprint: null });
    expect(report.postmortem).toContain('## Timeline');
    expect(report.postmortemPath).toBe('postmortems/2026-03-01-secret-missing-secret-DEPLOY_TOKEN-deploy.md');
  });

  it('updates the same issue in place on the next occurrence, reopening it', async () => {
    const gh = new FakeGitHub();
    await executeEscalate(gh, plan());
    await gh.updateIssue(repo, 1, { state: 'closed' });
    const second = await executeEscalate(gh, plan({ incident: incident({ run: { id: 43, attempt: 1, from_fork: false, pull_requests: [] } }), decision: decision({ decided_at: '2026-03-02T10:00:00Z' }) }));
    expect(gh.issues(repo)).toHaveLength(1);
    expect(gh.callsTo('createIssue')).toHaveLength(1);
    expect(second.issue).toMatchObject({ number: 1, created: false, reopened: true, occurrences: 2 });
    expect(second.changes[0]).toMatchObject({ op: 'update', target: 'issue #1' });
    const body = gh.issue(repo, 1)?.body ?? '';
    expect(gh.issue(repo, 1)?.state).toBe('open');
    expect(body).toContain('Seen 2 times.');
    expect(body).toContain('- 2026-03-01T10:00:00Z: run 42 attempt 2');
    expect(body).toContain('- 2026-03-02T10:00:00Z: run 43 attempt 1');
  });

  it('counts a replayed decision once', async () => {
    const gh = new FakeGitHub();
    await executeEscalate(gh, plan());
    const again = await executeEscalate(gh, plan());
    expect(again.issue?.occurrences).toBe(1);
    expect(gh.issues(repo)).toHaveLength(1);
  });

  it('sets missingPermission when issues: write is missing', async () => {
    const gh = new FakeGitHub().deny('createIssue', 'issues');
    const report = await executeEscalate(gh, plan());
    expect(report).toMatchObject({ ok: false, missingPermission: 'issues' });
    expect(report.postmortem).toContain('# Postmortem');
  });

  it('renders a postmortem with timeline, impact, root cause, actions and follow-ups', () => {
    const md = renderPostmortem({
      ...plan(),
      issueUrl: 'https://github.com/acme/shop/issues/1',
      reports: [{ action: 'CREATE_SECRET', ok: false, changes: [], notes: [], error: 'DEPLOY_TOKEN is declared external: a human must set it' }],
    });
    for (const h of ['## Timeline', '## Impact', '## Root cause (as classified)', '## Actions', '## Follow-ups']) expect(md).toContain(h);
    expect(md).toContain('CREATE_SECRET: failed (DEPLOY_TOKEN is declared external: a human must set it)');
    expect(md).toContain('- [ ] Close https://github.com/acme/shop/issues/1 once fixed.');
  });
});

describe('renderTemplate', () => {
  it('fills {{ vars.NAME }} and leaves ${{ }} expressions alone', () => {
    const r = renderTemplate('url: {{ vars.API_URL }}\ntoken: ${{ secrets.DEPLOY_TOKEN }}\nx: {{vars.X}}', { API_URL: 'https://api', X: '1' });
    expect(r).toEqual({ ok: true, content: 'url: https://api\ntoken: ${{ secrets.DEPLOY_TOKEN }}\nx: 1' });
  });
  it('fails on any unknown placeholder', () => {
    const r = renderTemplate('{{ vars.A }} {{ vars.MISSING }} {{ secrets.B }}', { A: 'a' });
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.unknown).toEqual(['{{ vars.MISSING }}', '{{ secrets.B }}']);
  });
});

describe('executeRegenerateConfig', () => {
  const setup = (): { gh: FakeGitHub; mainBefore: string } => {
    const gh = new FakeGitHub();
    const mainBefore = gh.seedFiles(repo, {
      'config/app.json': '{ "api": "broken',
      'templates/app.json.tmpl': '{ "api": "{{ vars.API_URL }}", "region": "{{ vars.REGION }}" }\n',
      'README.md': 'hello',
    });
    return { gh, mainBefore };
  };
  const plan = { repo, path: 'config/app.json', template: 'templates/app.json.tmpl', variables: { API_URL: 'https://api.acme.test', REGION: 'eu' }, baseBranch: 'main' };

  it('commits to a proposal branch, opens a PR and never touches the default branch', async () => {
    const { gh, mainBefore } = setup();
    const report = await executeRegenerateConfig(gh, plan);
    expect(report).toMatchObject({ action: 'REGENERATE_CONFIG', ok: true, certified: true, branch: 'living-bridge/regenerate-config-app-json' });
    expect(gh.branchHead(repo, 'main')).toBe(mainBefore);
    for (const c of [...gh.callsTo('createBranch'), ...gh.callsTo('updateBranch')]) expect(c.args[0]).not.toBe('main');
    const files = gh.filesAt(repo, 'living-bridge/regenerate-config-app-json');
    expect(JSON.parse(files['config/app.json'] ?? '')).toEqual({ api: 'https://api.acme.test', region: 'eu' });
    expect(files['README.md']).toBe('hello');
    const prs = gh.pullRequests(repo);
    expect(prs).toHaveLength(1);
    expect(prs[0]).toMatchObject({ head: 'living-bridge/regenerate-config-app-json', base: 'main', state: 'open' });
    expect(report.pullRequest).toMatchObject({ number: prs[0]?.number, created: true });
    const fileChange = report.changes[0];
    expect(fileChange).toMatchObject({ kind: 'file', target: 'config/app.json', op: 'update' });
    expect(fileChange?.before_fingerprint).toMatch(/^blob:[0-9a-f]{40}$/);
    expect(fileChange?.after_fingerprint).toMatch(/^blob:[0-9a-f]{40}$/);
    expect(JSON.stringify(report)).not.toContain('https://api.acme.test');
  });

  it('updates the same branch as a fast-forward and reuses the open PR', async () => {
    const { gh } = setup();
    await executeRegenerateConfig(gh, plan);
    gh.seedFiles(repo, { 'README.md': 'main moved on' });
    const second = await executeRegenerateConfig(gh, { ...plan, variables: { ...plan.variables, REGION: 'us' } });
    expect(second.ok).toBe(true);
    expect(second.pullRequest?.created).toBe(false);
    expect(gh.pullRequests(repo)).toHaveLength(1);
    const files = gh.filesAt(repo, 'living-bridge/regenerate-config-app-json');
    expect(JSON.parse(files['config/app.json'] ?? '').region).toBe('us');
    expect(files['README.md']).toBe('main moved on'); // the base was merged in: the PR diff is only the config
    expect(gh.commitParents(repo, second.commitSha ?? '')).toContain(gh.branchHead(repo, 'main'));
  });

  it('unknown placeholder: not ok and nothing written', async () => {
    const { gh } = setup();
    const report = await executeRegenerateConfig(gh, { ...plan, variables: { API_URL: 'x' } });
    expect(report.ok).toBe(false);
    expect(report.error).toMatch(/unknown placeholder \{\{ vars\.REGION \}\}/);
    expect(gh.callsTo('createBlob')).toHaveLength(0);
    expect(gh.callsTo('createBranch')).toHaveLength(0);
    expect(gh.pullRequests(repo)).toHaveLength(0);
  });

  it('a result that does not parse is never proposed', async () => {
    const { gh } = setup();
    const report = await executeRegenerateConfig(gh, { ...plan, variables: { API_URL: 'a"b', REGION: 'eu' } });
    expect(report.ok).toBe(false);
    expect(report.error).toMatch(/not valid JSON/);
    expect(gh.callsTo('createBranch')).toHaveLength(0);
  });

  it('validates YAML', async () => {
    const gh = new FakeGitHub();
    gh.seedFiles(repo, { 'deploy.yml': 'a: 1', 't.yml': 'a: [{{ vars.A }}' });
    const report = await executeRegenerateConfig(gh, { repo, path: 'deploy.yml', template: 't.yml', variables: { A: '1' }, baseBranch: 'main' });
    expect(report.ok).toBe(false);
    expect(report.error).toMatch(/not valid YAML/);
  });

  it('no change: ok with op noop, no branch', async () => {
    const gh = new FakeGitHub();
    gh.seedFiles(repo, { 'c.json': '{"a":"1"}', 't.json': '{"a":"{{ vars.A }}"}' });
    const report = await executeRegenerateConfig(gh, { repo, path: 'c.json', template: 't.json', variables: { A: '1' }, baseBranch: 'main' });
    expect(report.ok).toBe(true);
    expect(report.changes[0]?.op).toBe('noop');
    expect(gh.callsTo('createBranch')).toHaveLength(0);
  });

  it('missing template: not ok', async () => {
    const { gh } = setup();
    const report = await executeRegenerateConfig(gh, { ...plan, template: 'nope.tmpl' });
    expect(report).toMatchObject({ ok: false, error: 'template nope.tmpl not found on main' });
  });

  it('workflow files with a GITHUB_TOKEN: missingPermission workflows', async () => {
    const gh = new FakeGitHub();
    gh.seedFiles(repo, { '.github/workflows/deploy.yml': 'on: push', 'templates/deploy.yml': 'on: push\nenv:\n  REGION: {{ vars.REGION }}\n' });
    gh.asGitHubToken();
    const report = await executeRegenerateConfig(gh, { repo, path: '.github/workflows/deploy.yml', template: 'templates/deploy.yml', variables: { REGION: 'eu' }, baseBranch: 'main' });
    expect(report).toMatchObject({ ok: false, missingPermission: 'workflows' });
  });

  it('branch names are stable slugs', () => {
    expect(regenerateBranch('config/App.JSON')).toBe('living-bridge/regenerate-config-app-json');
    expect(regenerateBranch('.github/workflows/deploy.yml')).toBe('living-bridge/regenerate-github-workflows-deploy-yml');
  });
});
