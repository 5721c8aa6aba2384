/**
 * The stages of heal() (src/pipeline/heal/*), each run alone on the fake GitHub of the pipeline kit:
 * load config → collect evidence → learn → decide → authorize → act → certify and record, plus the
 * engine registry the act stage dispatches through.
 */
import { describe, expect, test } from '@jest/globals';
import { decodeCertificate } from '../../src/core/certificate/index.js';
import { ACTION_KINDS } from '../../src/core/schemas/index.js';
import { ENGINES, runEngine, type EngineDeps } from '../../src/engines/registry.js';
import { act } from '../../src/pipeline/heal/act.js';
import { certifyAndRecord } from '../../src/pipeline/heal/certify.js';
import { authorizeHeal, decideHeal } from '../../src/pipeline/heal/decide.js';
import { collectEvidence } from '../../src/pipeline/heal/evidence.js';
import { learnFromLastOutcome } from '../../src/pipeline/heal/learn.js';
import { loadConfig } from '../../src/pipeline/heal/load.js';
import { recordNoop } from '../../src/pipeline/heal/record.js';
import { isFinished, type Evidenced, type Learned, type Loaded } from '../../src/pipeline/heal/state.js';
import { StepJournal } from '../../src/pipeline/resume.js';
import { AUTONOMY, FULL, LOGS, REPO, auditLines, deployWorkflow, failedRun, jobFor, makeKit, writesOf, type Kit } from '../integration/pipeline-kit.js';

async function loaded(kit: Kit, runId: number): Promise<Loaded> {
  const s = await loadConfig(kit.ctx, jobFor({ repository: FULL, run_id: runId }));
  if (isFinished(s)) throw new Error(`finished early: ${s.finished.summary}`);
  return s;
}

async function learned(kit: Kit, log: string): Promise<Learned> {
  const run = failedRun(kit.gh, log);
  const e = await collectEvidence(await loaded(kit, run.id));
  if (isFinished(e)) throw new Error(`finished early: ${e.finished.summary}`);
  return learnFromLastOutcome(e);
}

describe('loadConfig', () => {
  test('an invalid .github/autonomy.yml ends the heal, reported, with nothing done', async () => {
    const kit = await makeKit();
    kit.gh.seedFiles(REPO, { '.github/autonomy.yml': 'version: 1\ndefault_level: everything\n' });
    const s = await loadConfig(kit.ctx, jobFor({ repository: FULL, run_id: failedRun(kit.gh, LOGS.transient).id }));
    expect(isFinished(s) && s.finished.status).toBe('failed');
    expect(isFinished(s) && s.finished.summary).toContain('.github/autonomy.yml is invalid');
  });

  test('a valid config gives the repository, its config and its ledger', async () => {
    const kit = await makeKit();
    kit.gh.seedFiles(REPO, { '.github/autonomy.yml': AUTONOMY() });
    const s = await loaded(kit, failedRun(kit.gh, LOGS.transient).id);
    expect(s.repository).toBe(FULL);
    expect(s.config.default_level).toBe('full');
    expect(s.envFile).toBeNull();
    expect(s.journal.replayed).toBe(false);
  });
});

describe('collectEvidence', () => {
  test('a webhook for a workflow that is not a deploy workflow ends as noop, reading no logs', async () => {
    const kit = await makeKit();
    kit.gh.seedFiles(REPO, { '.github/autonomy.yml': AUTONOMY() });
    const run = failedRun(kit.gh, LOGS.transient, { name: 'Lint' });
    const e = await collectEvidence(await loaded(kit, run.id));
    expect(isFinished(e) && e.finished).toMatchObject({ status: 'noop', summary: 'workflow "Lint" is not a deploy workflow (deploy_workflows in .github/autonomy.yml)' });
    expect(kit.gh.calls.some((c) => c.method === 'downloadJobLog')).toBe(false);
  });

  test("a failed deploy run: the failed jobs' incidents and the run's environment", async () => {
    const kit = await makeKit();
    kit.gh.seedFiles(REPO, { '.github/autonomy.yml': AUTONOMY() });
    const headSha = kit.gh.seedFiles(REPO, { '.github/workflows/deploy.yml': deployWorkflow('staging') });
    const run = failedRun(kit.gh, LOGS.missingSecret(), { head_sha: headSha });
    const e = (await collectEvidence(await loaded(kit, run.id))) as Evidenced;
    expect(isFinished(e)).toBe(false);
    expect(e.run?.id).toBe(run.id);
    expect(e.incidents.map((i) => [i.kind, i.target?.name])).toEqual([['secret.missing', 'DEPLOY_TOKEN']]);
    expect(e.resolution).toMatchObject({ source: 'workflow', names: ['staging'] });
    expect(e.environment).toBe('staging');
    expect(e.level).toBe('full');
  });
});

describe('learnFromLastOutcome', () => {
  test('picks the incident to act on and reads the ledger', async () => {
    const kit = await makeKit();
    kit.gh.seedFiles(REPO, { '.github/autonomy.yml': AUTONOMY() });
    const s = await learned(kit, LOGS.missingSecret());
    expect(s.incident.kind).toBe('secret.missing');
    expect(s.snapshot.state.actions).toEqual([]);
  });

  test('a run whose logs show nothing recognisable becomes an "unknown" incident', async () => {
    const kit = await makeKit();
    kit.gh.seedFiles(REPO, { '.github/autonomy.yml': AUTONOMY() });
    const headSha = kit.gh.seedFiles(REPO, { '.github/workflows/deploy.yml': deployWorkflow() });
    const run = kit.gh.addRun(REPO, { head_sha: headSha }); // failed, but no failed job to read
    const e = await collectEvidence(await loaded(kit, run.id));
    const s = await learnFromLastOutcome(e as Evidenced);
    expect(s.incidents).toEqual([]);
    expect(s.incident).toMatchObject({ kind: 'unknown', target: null, confidence: 0, fingerprint: `unknown:${run.id}` });
  });
});

describe('decideHeal and authorizeHeal', () => {
  test('the decision carries how the environment was resolved; without a suggestion no grant is read', async () => {
    const kit = await makeKit();
    kit.gh.seedFiles(REPO, { '.github/autonomy.yml': AUTONOMY() });
    const d = decideHeal(await learned(kit, LOGS.missingSecret()));
    expect(d.proposal.decision.steps).toEqual(['CREATE_SECRET', 'RERUN']);
    expect(d.proposal.decision.environment_resolution).toMatch(/^none: the failed jobs declare no environment/);
    const before = kit.gh.calls.length;
    const a = await authorizeHeal(d);
    expect(a.decision).toEqual(d.proposal.decision);
    expect(a.grantId).toBeNull();
    expect(kit.gh.calls.length).toBe(before);
  });

  test('a suggestion stays one when the ledger holds no grant', async () => {
    const kit = await makeKit();
    kit.gh.seedFiles(REPO, { '.github/autonomy.yml': AUTONOMY('', 'suggest') });
    const a = await authorizeHeal(decideHeal(await learned(kit, LOGS.missingSecret())));
    expect(a.decision.verdict).toBe('suggest');
  });
});

describe('act, certifyAndRecord, recordNoop', () => {
  test('act runs each step through its engine and certify records one signed action certificate', async () => {
    const kit = await makeKit();
    kit.gh.seedFiles(REPO, { '.github/autonomy.yml': AUTONOMY() });
    const s = await authorizeHeal(decideHeal(await learned(kit, LOGS.missingSecret())));
    const input = { ...s, latest: null, journal: StepJournal.none(kit.ctx.now) };
    const acted = await act(input);
    expect(acted.reports.map((r) => [r.action, r.ok])).toEqual([['CREATE_SECRET', true], ['RERUN', true]]);
    expect(acted.escalated).toBe(false);
    expect(writesOf(kit.gh, ['setSecret', 'rerunFailedJobs'])).toEqual(['setSecret', 'rerunFailedJobs']);
    const done = await certifyAndRecord(input, acted);
    expect(done.certified).toBe(true);
    expect(decodeCertificate(done.certificate).predicate).toMatchObject({ action: 'CREATE_SECRET', certificate_type: 'action', sequence: 1, run_id: s.run?.id });
    expect(done.snapshot.state.actions.map((a) => a.action)).toEqual(['CREATE_SECRET']);
  });

  test('a step that cannot be planned is escalated with the reason, nothing written', async () => {
    const kit = await makeKit();
    kit.gh.seedFiles(REPO, { '.github/autonomy.yml': 'version: 1\ndefault_level: full\n' });
    const s = await learned(kit, LOGS.missingSecret());
    const decision = { ...decideHeal(s).proposal.decision, verdict: 'execute' as const, action: 'CREATE_SECRET' as const, steps: ['CREATE_SECRET' as const, 'RERUN' as const] };
    const acted = await act({ ...s, decision, latest: null, journal: StepJournal.none(kit.ctx.now) });
    expect(acted.escalated).toBe(true);
    expect(acted.reports.map((r) => r.action)).toEqual(['CREATE_SECRET', 'ESCALATE']);
    expect(acted.reports[0]?.error).toContain('no source is declared for DEPLOY_TOKEN');
    expect(writesOf(kit.gh, ['setSecret', 'rerunFailedJobs'])).toEqual([]);
  });

  test('recordNoop writes one audit line and acts on nothing', async () => {
    const kit = await makeKit();
    kit.gh.seedFiles(REPO, { '.github/autonomy.yml': AUTONOMY('', 'observe') });
    const s = await authorizeHeal(decideHeal(await learned(kit, LOGS.missingSecret())));
    expect(s.decision.verdict).toBe('noop');
    const result = await recordNoop(s);
    expect(result.status).toBe('noop');
    expect(auditLines(kit.gh).map((a) => a.event)).toContain('decision.noop');
    expect(writesOf(kit.gh, ['setSecret', 'rerunFailedJobs', 'createIssue'])).toEqual([]);
  });
});

describe('the engine registry', () => {
  test('has one engine per action', () => {
    expect(Object.keys(ENGINES).sort()).toEqual([...ACTION_KINDS].sort());
  });

  test('dispatches by the plan: NOOP does nothing, SYNC_AND_CERTIFY goes to the injected env sync', async () => {
    const synced: [string, string | undefined][] = [];
    const deps = {
      syncVariable: async (name: string, environment: string | undefined) => {
        synced.push([name, environment]);
        return { action: 'SYNC_AND_CERTIFY' as const, ok: true, changes: [], notes: ['synced'] };
      },
    } as unknown as EngineDeps;
    expect(await runEngine({ action: 'NOOP' }, deps)).toEqual({ action: 'NOOP', ok: true, changes: [], notes: ['nothing to do'] });
    expect((await runEngine({ action: 'SYNC_AND_CERTIFY', name: 'API_URL', environment: 'staging' }, deps)).notes).toEqual(['synced']);
    expect(synced).toEqual([['API_URL', 'staging']]);
  });
});
