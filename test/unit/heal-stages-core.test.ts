/**
 * The core's policy, stage by stage of a heal: `propose` (decide), `authorize`, `planFor`, and the one
 * certificate statement builder. Each is a pure function, tested alone.
 */
import { beforeAll, describe, expect, test } from '@jest/globals';
import {
  actionStatement,
  buildStatement,
  createSigner,
  generateSigningKey,
  outcomeStatement,
  reportHash,
  syncStatement,
  type Signer,
} from '../../src/core/certificate/index.js';
import {
  OUTAGE_HOLD_MAX_MS,
  OUTAGE_MIN_REPOSITORIES,
  OUTAGE_WINDOW_MS,
  authorize,
  emptyOutageWatch,
  escalationInstruction,
  firstUnmet,
  grantsMatter,
  noteSuccess,
  noteTransientFailure,
  outageHoldOf,
  planFor,
  propose,
  secretSourceFor,
  transientSignature,
  unmetPrecondition,
  type GrantSet,
  type PlanFacts,
} from '../../src/core/governor/index.js';
import { signGrant } from '../../src/core/grants/index.js';
import {
  EnvironmentFile,
  GovernorState,
  Incident,
  RepoConfig,
  emptyGovernorState,
  type Grant,
  type GrantBody,
  type IncidentKind,
  type RepoConfigInput,
} from '../../src/core/schemas/index.js';

const REPO = 'acme/web';
const NOW = new Date('2026-03-01T12:00:00.000Z');
const config = (c: RepoConfigInput = {}): RepoConfig => RepoConfig.parse({ default_level: 'full', cooldowns: { default_minutes: 0 }, ...c });

function incident(kind: IncidentKind = 'secret.missing', over: Partial<Incident> = {}): Incident {
  return Incident.parse({
    kind,
    target: kind === 'secret.missing' ? { type: 'secret', name: 'DEPLOY_TOKEN' } : kind === 'variable.missing' ? { type: 'variable', name: 'API_URL' } : null,
    confidence: 0.9,
    fingerprint: `fp-${kind}`,
    summary: kind,
    evidence: [],
    repo: { owner: 'acme', repo: 'web' },
    run: { id: 100, attempt: 1 },
    ...over,
  });
}

const facts = (over: Partial<PlanFacts> = {}): PlanFacts => ({
  environment: undefined,
  envFile: null,
  run: { id: 100, run_attempt: 1, workflow_id: 7, head_branch: 'main' },
  fromEnvRefusal: () => null,
  ...over,
});

let signer: Signer;
beforeAll(async () => {
  signer = await createSigner((await generateSigningKey(new Uint8Array(32).fill(41))).secretKey);
});

const grant = (over: Partial<GrantBody> & Pick<GrantBody, 'id' | 'actions'>): Promise<Grant> =>
  signGrant(
    {
      repository: REPO,
      environments: ['*'],
      targets: ['*'],
      not_before: new Date(NOW.getTime() - 60_000).toISOString(),
      expires_at: new Date(NOW.getTime() + 3600_000).toISOString(),
      issued_by: 'alice',
      reason: 'test',
      break_glass: false,
      ...over,
    },
    signer,
  );

const grantSet = (grants: Grant[] | null, over: Partial<GrantSet> = {}): GrantSet => ({
  grants,
  trustedKeys: { [signer.keyid]: signer.publicKey },
  revokedIds: [],
  uses: {},
  repository: REPO,
  environment: undefined,
  halted: false,
  haltedReason: null,
  ...over,
});

const halted = GovernorState.parse({ halted: true, halted_reason: 'incident review' });

describe('propose (the decide stage)', () => {
  test('outside a halt it is decide() alone: no unhalted alternative', () => {
    const p = propose({ incident: incident(), state: emptyGovernorState(), config: config(), now: NOW, repository: REPO });
    expect(p.decision.verdict).toBe('execute');
    expect(p.decision.steps).toEqual(['CREATE_SECRET', 'RERUN']);
    expect(p.unhalted).toBeNull();
  });

  test("halted by the ledger: it also says what it would decide unhalted", () => {
    const p = propose({ incident: incident(), state: halted, config: config(), now: NOW, repository: REPO });
    expect(p.decision.guardrail).toBe('halted');
    expect(p.unhalted?.steps).toEqual(['CREATE_SECRET', 'RERUN']);
  });

  test('halted by the operator or the repository: nothing to override', () => {
    expect(propose({ incident: incident(), state: halted, config: config(), now: NOW, repository: REPO, autonomyEnabled: false }).unhalted).toBeNull();
    expect(propose({ incident: incident(), state: halted, config: config({ enabled: false }), now: NOW, repository: REPO }).unhalted).toBeNull();
  });
});

describe('authorize (the authorize stage)', () => {
  test('without grants the decision stands', () => {
    const p = propose({ incident: incident(), state: emptyGovernorState(), config: config({ default_level: 'suggest' }), now: NOW, repository: REPO });
    const a = authorize(p, grantSet(null), 'suggest', NOW);
    expect(a).toEqual({ decision: p.decision, grantId: null });
    expect(a.decision.verdict).toBe('suggest');
  });

  test('a grant covering every step lifts a suggestion to an execution and names itself', async () => {
    const p = propose({ incident: incident(), state: emptyGovernorState(), config: config({ default_level: 'suggest' }), now: NOW, repository: REPO });
    const a = authorize(p, grantSet([await grant({ id: 'g-both', actions: ['CREATE_SECRET', 'RERUN'] })]), 'suggest', NOW);
    expect(a.decision.verdict).toBe('execute');
    expect(a.grantId).toBe('g-both');
    expect(a.decision.reason).toContain('pre-authorized by grant g-both');
  });

  test('at suggest level a grant for the first step only is not enough', async () => {
    const p = propose({ incident: incident(), state: emptyGovernorState(), config: config({ default_level: 'suggest' }), now: NOW, repository: REPO });
    const a = authorize(p, grantSet([await grant({ id: 'g-secret', actions: ['CREATE_SECRET'] })]), 'suggest', NOW);
    expect(a.decision.verdict).toBe('suggest');
  });

  test('at balanced a grant is needed only for the step the level would not execute (RERUN is balanced)', async () => {
    const p = propose({ incident: incident(), state: emptyGovernorState(), config: config({ default_level: 'balanced' }), now: NOW, repository: REPO });
    expect(p.decision.suggested_because).toBe('level');
    const a = authorize(p, grantSet([await grant({ id: 'g-secret', actions: ['CREATE_SECRET'] })]), 'balanced', NOW);
    expect(a.decision.verdict).toBe('execute');
  });

  test('halted: an ordinary grant does not override, a break-glass grant does', async () => {
    const p = propose({ incident: incident(), state: halted, config: config(), now: NOW, repository: REPO });
    const ordinary = authorize(p, grantSet([await grant({ id: 'g-plain', actions: ['CREATE_SECRET', 'RERUN'] })], { halted: true, haltedReason: 'incident review' }), 'full', NOW);
    expect(ordinary.decision.verdict).toBe('noop');
    const glass = authorize(p, grantSet([await grant({ id: 'g-glass', actions: ['CREATE_SECRET', 'RERUN'], break_glass: true })], { halted: true, haltedReason: 'incident review' }), 'full', NOW);
    expect(glass.decision.verdict).toBe('execute');
    expect(glass.grantId).toBe('g-glass');
    expect(glass.decision.reason).toMatch(/^halted \(incident review\), overridden: /);
  });

  test('an expired grant lifts nothing', async () => {
    const p = propose({ incident: incident(), state: emptyGovernorState(), config: config({ default_level: 'suggest' }), now: NOW, repository: REPO });
    const old = await grant({ id: 'g-old', actions: ['CREATE_SECRET', 'RERUN'], not_before: '2026-02-01T00:00:00.000Z', expires_at: '2026-02-02T00:00:00.000Z' });
    expect(authorize(p, grantSet([old]), 'suggest', NOW).decision.verdict).toBe('suggest');
  });
});

describe('planFor (the act stage plans each step)', () => {
  const envFile = EnvironmentFile.parse({
    repository: { secrets: { DEPLOY_TOKEN: { source: 'generate' } }, variables: { API_URL: 'https://api.example.com', REGION: { value: 'eu' } } },
    environments: { production: { secrets: { DEPLOY_TOKEN: { source: 'from_env', env: 'PROD_TOKEN' } } } },
  });

  test('CREATE_SECRET: the declared source, environment-scoped declarations first', () => {
    expect(planFor('CREATE_SECRET', incident(), config(), facts({ envFile }))).toEqual({ ok: true, plan: { action: 'CREATE_SECRET', name: 'DEPLOY_TOKEN', scope: { type: 'repository' }, source: { source: 'generate', length: 32, charset: 'alnum' } } });
    const prod = planFor('CREATE_SECRET', incident(), config(), facts({ envFile, environment: 'production' }));
    expect(prod).toEqual({ ok: true, plan: { action: 'CREATE_SECRET', name: 'DEPLOY_TOKEN', scope: { type: 'environment', name: 'production' }, source: { source: 'from_env', env: 'PROD_TOKEN' } } });
  });

  test('CREATE_SECRET: no declared source, a refused from_env, or no named secret cannot be planned', () => {
    expect(planFor('CREATE_SECRET', incident(), config(), facts())).toEqual({ ok: false, error: 'no source is declared for DEPLOY_TOKEN (in .github/autonomy.yml or .github/environment.json)' });
    const refused = planFor('CREATE_SECRET', incident(), config(), facts({ envFile, environment: 'production', fromEnvRefusal: (n) => `${n} is not allowlisted` }));
    expect(refused).toEqual({ ok: false, error: 'PROD_TOKEN is not allowlisted' });
    expect(planFor('CREATE_SECRET', incident('secret.missing', { target: null }), config(), facts()).ok).toBe(false);
  });

  test('RERUN and ROLLBACK take the run; without one they cannot be planned', () => {
    expect(planFor('RERUN', incident('transient.network'), config({ limits: { max_rerun_attempts: 2 } }), facts())).toEqual({ ok: true, plan: { action: 'RERUN', runId: 100, attempt: 1, maxAttempts: 2 } });
    expect(planFor('RERUN', incident('transient.network'), config(), facts({ run: null }))).toEqual({ ok: false, error: 'no workflow run to re-run' });
    expect(planFor('ROLLBACK', incident('code.failure'), config(), facts())).toEqual({ ok: true, plan: { action: 'ROLLBACK', workflowId: 7, branch: 'main', failedRunId: 100 } });
    expect(planFor('ROLLBACK', incident('code.failure'), config(), facts({ run: { id: 1, run_attempt: 1, workflow_id: 7, head_branch: null } })).ok).toBe(false);
  });

  test('REGENERATE_CONFIG takes the declared template and the repository variables', () => {
    const cfg = config({ configs: { 'vercel.json': { template: '{"region":"{{REGION}}"}' } } });
    const planned = planFor('REGENERATE_CONFIG', incident('config.invalid', { target: { type: 'file', name: 'vercel.json' } }), cfg, facts({ envFile }));
    expect(planned).toEqual({ ok: true, plan: { action: 'REGENERATE_CONFIG', path: 'vercel.json', template: '{"region":"{{REGION}}"}', variables: { API_URL: 'https://api.example.com', REGION: 'eu' } } });
    expect(planFor('REGENERATE_CONFIG', incident('config.invalid', { target: { type: 'file', name: 'other.json' } }), cfg, facts()).ok).toBe(false);
  });

  test('SYNC_AND_CERTIFY acts on the named variable in the acting environment; ESCALATE carries the instruction', () => {
    expect(planFor('SYNC_AND_CERTIFY', incident('variable.missing'), config(), facts({ environment: 'staging' }))).toEqual({ ok: true, plan: { action: 'SYNC_AND_CERTIFY', name: 'API_URL', environment: 'staging' } });
    const esc = planFor('ESCALATE', incident(), config(), facts());
    expect(esc).toEqual({ ok: true, plan: { action: 'ESCALATE', instruction: escalationInstruction(incident(), config(), facts()) } });
    expect(escalationInstruction(incident(), config(), facts())).toContain('DEPLOY_TOKEN has no declared source');
  });

  test('secretSourceFor: autonomy.yml declarations act in the resolved environment', () => {
    const cfg = config({ secrets: { DEPLOY_TOKEN: { source: 'generate' } } });
    expect(secretSourceFor('DEPLOY_TOKEN', 'staging', cfg, null)?.scope).toEqual({ type: 'environment', name: 'staging' });
    expect(secretSourceFor('DEPLOY_TOKEN', undefined, cfg, null)?.scope).toEqual({ type: 'repository' });
  });
});

describe('the certificate statement builder (certify stage)', () => {
  const link = { at: NOW, repository: REPO, policyVersion: 3, chain: { lastCertificateHash: 'a'.repeat(64), certificateCount: 4 } };

  test('an action statement: the link fields, the report hash, defaults for an action', () => {
    const p = actionStatement(link, { action: 'RERUN', reason: 'r', targets: ['t'], certified: true, report: { x: 1 }, runId: 9, runAttempt: 2, changes: [], decision: { verdict: 'execute' } });
    const st = buildStatement(p);
    expect(st.predicate).toMatchObject({ timestamp: NOW.toISOString(), repository: REPO, policy_version: 3, previous_certificate_hash: 'a'.repeat(64), sequence: 5, certificate_type: 'action', report_hash: reportHash({ x: 1 }), run_id: 9, run_attempt: 2, judges_certificate_hash: null, outcome: null });
    expect(st.subject[0]?.name).toBe(`${REPO}#action/9`);
  });

  test('an outcome statement judges a certificate and changes nothing', () => {
    const p = buildStatement(outcomeStatement(link, { action: 'RERUN', reason: 'next run concluded success', targets: ['k'], report: {}, runId: 9, runAttempt: 2, judges: 'b'.repeat(64), outcome: 'success', decision: {} })).predicate;
    expect(p).toMatchObject({ certificate_type: 'outcome', certified: true, changes: [], judges_certificate_hash: 'b'.repeat(64), outcome: 'success' });
  });

  test('a sync statement has no run and the SYNC_AND_CERTIFY action', () => {
    const p = buildStatement(syncStatement({ ...link, chain: { lastCertificateHash: null, certificateCount: 0 } }, { reason: 'synced', targets: [], certified: false, report: { plan: [] }, changes: [], decision: { dry_run: false } })).predicate;
    expect(p).toMatchObject({ certificate_type: 'sync', action: 'SYNC_AND_CERTIFY', run_id: null, run_attempt: null, sequence: 1, previous_certificate_hash: null, certified: false });
  });
});

describe('the outage brake (core/governor/outage.ts) and its guardrail', () => {
  const t = (min: number) => new Date(NOW.getTime() + min * 60_000);
  const sig = 'abcdef0123456789';

  test('only transient failures are watched, under their signature', () => {
    expect(transientSignature(incident('transient.network', { signature: sig }))).toBe(sig);
    expect(transientSignature(incident('transient.network'))).toBe('transient.network:-');
    expect(transientSignature(incident('code.failure', { signature: sig }))).toBeNull();
    expect(transientSignature(incident('secret.missing'))).toBeNull();
  });

  test(`a hold starts at ${OUTAGE_MIN_REPOSITORIES} repositories within ${OUTAGE_WINDOW_MS / 60_000} minutes, not for older failures`, () => {
    let w = emptyOutageWatch();
    w = noteTransientFailure(w, { signature: sig, repository: 'acme/a', at: t(0) });
    w = noteTransientFailure(w, { signature: sig, repository: 'acme/a', at: t(1) }); // the same repository again
    w = noteTransientFailure(w, { signature: sig, repository: 'acme/b', at: t(2) });
    expect(outageHoldOf(w, sig, t(2))).toBeNull();
    const late = noteTransientFailure(w, { signature: sig, repository: 'acme/c', at: t(13) }); // acme/a's failure is 12 min old
    expect(outageHoldOf(late, sig, t(13))).toBeNull();
    w = noteTransientFailure(w, { signature: sig, repository: 'acme/c', at: t(3) });
    expect(outageHoldOf(w, sig, t(3))).toEqual({ signature: sig, since: t(3).toISOString(), repositories: ['acme/a', 'acme/b', 'acme/c'] });
    expect(outageHoldOf(w, 'another-signature', t(3))).toBeNull();
    // It expires on its own after OUTAGE_HOLD_MAX_MS, and a success of one of them lifts it at once.
    expect(outageHoldOf(w, sig, new Date(t(3).getTime() + OUTAGE_HOLD_MAX_MS))).toBeNull();
    expect(outageHoldOf(noteSuccess(w, 'acme/b'), sig, t(4))).toBeNull();
    expect(outageHoldOf(noteSuccess(w, 'acme/zzz'), sig, t(4))).not.toBeNull();
  });

  test('decide holds a RERUN (noop outage, with what it would do) and nothing else', () => {
    const hold = { signature: sig, since: NOW.toISOString(), repositories: ['acme/a', 'acme/b', 'acme/web'] };
    const held = propose({ incident: incident('transient.network', { signature: sig }), state: emptyGovernorState(), config: config(), now: NOW, repository: REPO, outage: hold }).decision;
    expect(held).toMatchObject({ verdict: 'noop', guardrail: 'outage', proposed_steps: ['RERUN'] });
    expect(held.reason).toMatch(/^outage: 3 repositories of this installation failed with signature abcdef0123456789/);
    const other = propose({ incident: incident('code.failure'), state: emptyGovernorState(), config: config(), now: NOW, repository: REPO, outage: hold }).decision;
    expect(other.steps).toEqual(['ESCALATE']);
  });
});

describe('preconditions (core/governor/preconditions.ts)', () => {
  test('every acting step has its precondition; ESCALATE and NOOP always hold', () => {
    const f = { ...facts(), failedJobs: 1 };
    expect(unmetPrecondition('RERUN', incident('transient.network'), config(), f)).toBeNull();
    expect(unmetPrecondition('RERUN', incident('transient.network'), config(), { ...f, run: { id: 1, run_attempt: 3, workflow_id: 1, head_branch: 'main' } })?.reason).toBe('run is at attempt 3 and limits.max_rerun_attempts is 3: not re-running again');
    expect(unmetPrecondition('RERUN', incident('transient.network'), config(), { ...f, failedJobs: 6 })?.reason).toContain('6 jobs failed, more than limits.max_failed_jobs_for_rerun 5');
    expect(unmetPrecondition('CREATE_SECRET', incident('secret.missing', { run: { id: 1, attempt: 1, from_fork: true } as Incident['run'] }), config({ secrets: { DEPLOY_TOKEN: { source: 'generate' } } }), f)?.reason).toContain('fork');
    expect(unmetPrecondition('CREATE_SECRET', incident(), config({ secrets: { DEPLOY_TOKEN: { source: 'external' } } }), f)?.reason).toBe('DEPLOY_TOKEN is declared `source: external`');
    expect(unmetPrecondition('CREATE_SECRET', incident(), config({ secrets: { DEPLOY_TOKEN: { source: 'generate' } } }), f)).toBeNull();
    expect(unmetPrecondition('SYNC_AND_CERTIFY', incident('variable.missing'), config(), f)?.reason).toBe('there is no .github/environment.json');
    expect(unmetPrecondition('SYNC_AND_CERTIFY', incident('variable.missing'), config(), { ...f, envFile: EnvironmentFile.parse({ repository: { variables: { OTHER: 'x' } } }) })?.reason).toBe('.github/environment.json does not declare API_URL');
    expect(unmetPrecondition('SYNC_AND_CERTIFY', incident('variable.missing'), config(), { ...f, envFile: EnvironmentFile.parse({ repository: { variables: { api_url: 'x' } } }) })).toBeNull();
    expect(firstUnmet(['ESCALATE', 'NOOP'], incident(), config(), f)).toBeNull();
  });

  test('authorize turns a proposal with an unmet step into an escalation that says what to do; grants cannot lift it', async () => {
    const p = propose({ incident: incident(), state: emptyGovernorState(), config: config({ default_level: 'suggest' }), now: NOW, repository: REPO });
    const check = { incident: incident(), config: config({ default_level: 'suggest' }), facts: { ...facts(), failedJobs: 1 } };
    const a = authorize(p, grantSet([await grant({ id: 'g-both', actions: ['CREATE_SECRET', 'RERUN'] })]), 'suggest', NOW, check);
    expect(a.grantId).toBeNull();
    expect(a.decision).toMatchObject({ verdict: 'execute', action: 'ESCALATE', steps: ['ESCALATE'], guardrail: 'precondition', proposed_steps: ['CREATE_SECRET', 'RERUN'], cooldown_key: `${REPO}|-|secret.missing|ESCALATE` });
    expect(a.decision.unmet?.instruction).toContain('Declare a source for DEPLOY_TOKEN in .github/autonomy.yml');
    expect(grantsMatter(p, check)).toBe(false);
    expect(grantsMatter(p)).toBe(true);
  });
});
