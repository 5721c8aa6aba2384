/**
 * Intent before act, and replay that resumes (src/pipeline/resume.ts): the step journal over an
 * intake's intent store, and what an unfinished step of an earlier try is taken to have done.
 */
import { describe, expect, test } from '@jest/globals';
import { EmbeddedIntake, intentKeyOf, type IntentRecord, type IntentStore } from '../../src/intake/index.js';
import { DECIDE_STEP, JOB_STEP, StepJournal, intentLedgerPath, reconcileStep, recordable, writtenSince } from '../../src/pipeline/resume.js';
import { REPOSITORY_SCOPE, type SecretMeta, type WorkflowRun } from '../../src/ports/index.js';
import { healJob } from '../support/heal-jobs.js';

const repo = { owner: 'acme', repo: 'web' };
const clock = (iso: string) => () => new Date(iso);

function memoryStore(): IntentStore & { all: Map<string, IntentRecord[]> } {
  const all = new Map<string, IntentRecord[]>();
  return {
    all,
    record: async (key, rec) => { all.set(key, [...(all.get(key) ?? []), rec]); },
    read: async (key) => [...(all.get(key) ?? [])],
  };
}

const run = (attempt: number, conclusion: string | null = 'failure', status = 'completed'): WorkflowRun => ({
  id: 77, name: 'Build & Deploy', run_attempt: attempt, status, conclusion, head_sha: 'a'.repeat(40), head_branch: 'main', event: 'push',
  html_url: 'https://github.com/acme/web/actions/runs/77', actor: 'octocat', from_fork: false, pull_requests: [], workflow_id: 1, path: '.github/workflows/deploy.yml',
  created_at: '2026-12-01T10:00:00Z', updated_at: '2026-12-01T10:00:00Z',
});
const secretAt = (updated_at: string | null) => ({
  getSecret: async (): Promise<SecretMeta | null> => (updated_at === null ? null : { name: 'DEPLOY_TOKEN', created_at: updated_at, updated_at }),
});
const secret = { scope: REPOSITORY_SCOPE, name: 'DEPLOY_TOKEN' };

describe('StepJournal', () => {
  test('a first try records JOB, the decision and each step before and after; a second open sees it as a replay and reads them back', async () => {
    const store = memoryStore();
    const key = 'acme/web#77@1';
    const first = await StepJournal.open(store, key, clock('2026-12-01T10:00:00.250Z'));
    expect(first.replayed).toBe(false);
    expect(first.decided()).toBeNull();
    await first.begin(JOB_STEP);
    await first.done(DECIDE_STEP, { decision: { action: 'CREATE_SECRET' } });
    await first.begin('CREATE_SECRET#0', { fingerprint: 'fp-1' });
    await first.done('CREATE_SECRET#0', { action: 'CREATE_SECRET', ok: true, changes: [], notes: [] });
    await first.begin('RERUN#1');
    expect(store.all.get(key)!.map((r) => `${r.step}:${r.phase}`)).toEqual(['JOB:begin', 'DECIDE:done', 'CREATE_SECRET#0:begin', 'CREATE_SECRET#0:done', 'RERUN#1:begin']);
    expect(store.all.get(key)!.every((r) => r.at === '2026-12-01T10:00:00.250Z')).toBe(true);

    const replay = await StepJournal.open(store, key, clock('2026-12-01T10:01:00Z'));
    expect(replay.replayed).toBe(true);
    expect(replay.decided()).toEqual({ decision: { action: 'CREATE_SECRET' } });
    expect(replay.doneReport('CREATE_SECRET#0')).toMatchObject({ ok: true });
    // A step done has no open intent; a step only begun has one; an unknown step has neither.
    expect(replay.begun('CREATE_SECRET#0')).toBeNull();
    expect(replay.begun('RERUN#1')).toMatchObject({ step: 'RERUN#1', phase: 'begin' });
    expect(replay.doneReport('RERUN#1')).toBeNull();
    expect(replay.begun('ESCALATE#2')).toBeNull();
  });

  test('the last record of a step wins (a later try that began again, or a decision recorded twice)', async () => {
    const store = memoryStore();
    const j = await StepJournal.open(store, 'k', clock('2026-12-01T10:00:00Z'));
    await j.done(DECIDE_STEP, { n: 1 });
    await j.begin('CREATE_SECRET#0', { fingerprint: 'old' });
    await j.done(DECIDE_STEP, { n: 2 });
    await j.begin('CREATE_SECRET#0', { fingerprint: 'new' });
    const again = await StepJournal.open(store, 'k', clock('2026-12-01T10:00:00Z'));
    expect(again.decided()).toEqual({ n: 2 });
    expect(again.begun('CREATE_SECRET#0')?.data).toEqual({ fingerprint: 'new' });
  });

  test('StepJournal.none records nothing and is never a replay (the CLI and the Action have no intake)', async () => {
    const j = StepJournal.none(clock('2026-12-01T10:00:00Z'));
    await j.begin(JOB_STEP);
    await j.done(DECIDE_STEP, {});
    expect(j.replayed).toBe(false);
    expect(j.key).toBe('');
  });

  test('over the embedded intake, intent records survive a restart of the journal under the job\'s idempotency key', async () => {
    const { mkdtempSync, rmSync } = await import('node:fs');
    const { join } = await import('node:path');
    const { tmpdir } = await import('node:os');
    const dir = mkdtempSync(join(tmpdir(), 'resume-'));
    try {
      const job = healJob({ repo: 'acme/web', run: 77, attempt: 1 });
      const journalPath = join(dir, 'intake.jsonl');
      const a = new EmbeddedIntake({ journalPath });
      await a.submit(job);
      const j = await StepJournal.open(a.intents, intentKeyOf(job), clock('2026-12-01T10:00:00Z'));
      await j.begin(JOB_STEP);
      await j.begin('RERUN#0');
      // The process dies here; the next one reads the same journal.
      const b = new EmbeddedIntake({ journalPath });
      const replay = await StepJournal.open(b.intents, intentKeyOf(job), clock('2026-12-01T10:05:00Z'));
      expect(replay.key).toBe('acme/web#77@1');
      expect(replay.replayed).toBe(true);
      expect(replay.begun('RERUN#0')).not.toBeNull();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('writtenSince', () => {
  test('GitHub\'s updated_at has whole seconds: a write in the intent\'s second counts, one before it does not', () => {
    expect(writtenSince('2026-12-01T10:00:00Z', '2026-12-01T10:00:00.900Z')).toBe(true);
    expect(writtenSince('2026-12-01T10:00:05Z', '2026-12-01T10:00:00.900Z')).toBe(true);
    expect(writtenSince('2026-12-01T09:59:59Z', '2026-12-01T10:00:00.100Z')).toBe(false);
    expect(writtenSince(null, '2026-12-01T10:00:00Z')).toBe(false);
    expect(writtenSince(undefined, '2026-12-01T10:00:00Z')).toBe(false);
  });
});

describe('reconcileStep', () => {
  const begun = (data?: unknown): IntentRecord => ({ step: 'CREATE_SECRET#0', phase: 'begin', at: '2026-12-01T10:00:00.400Z', ...(data !== undefined ? { data } : {}) });

  test('CREATE_SECRET: a secret updated at or after the intent was written by the first try: certified with the intent\'s fingerprint, not written again', async () => {
    const report = await reconcileStep('CREATE_SECRET', begun({ fingerprint: 'fp-first' }), { github: secretAt('2026-12-01T10:00:01Z'), repo, latest: run(1), attempt: 1, secret });
    expect(report).toMatchObject({
      action: 'CREATE_SECRET', ok: true, certified: true,
      changes: [{ kind: 'secret', target: 'DEPLOY_TOKEN', scope: 'repository', op: 'create', before_fingerprint: null, after_fingerprint: 'fp-first' }],
      written: { fingerprint: 'fp-first', updated_at: '2026-12-01T10:00:01Z' },
    });
    expect(report!.notes.join(' ')).toContain('not written again, its value not regenerated');
  });

  test('CREATE_SECRET: no effect to find (older secret, no secret, no fingerprint recorded): null, the step is done now', async () => {
    expect(await reconcileStep('CREATE_SECRET', begun({ fingerprint: 'fp' }), { github: secretAt('2026-12-01T09:00:00Z'), repo, latest: run(1), attempt: 1, secret })).toBeNull();
    expect(await reconcileStep('CREATE_SECRET', begun({ fingerprint: 'fp' }), { github: secretAt(null), repo, latest: run(1), attempt: 1, secret })).toBeNull();
    // Begun but the value was never about to be written (the intent before the write carries the fingerprint).
    expect(await reconcileStep('CREATE_SECRET', begun(), { github: secretAt('2026-12-01T10:00:01Z'), repo, latest: run(1), attempt: 1, secret })).toBeNull();
    expect(await reconcileStep('CREATE_SECRET', begun({ fingerprint: 'fp' }), { github: secretAt('2026-12-01T10:00:01Z'), repo, latest: run(1), attempt: 1, secret: null })).toBeNull();
  });

  test('RERUN: the run at a later attempt than the job\'s was re-run by the first try (whatever that attempt concluded)', async () => {
    const rec: IntentRecord = { step: 'RERUN#1', phase: 'begin', at: '2026-12-01T10:00:00Z' };
    const report = await reconcileStep('RERUN', rec, { github: secretAt(null), repo, latest: run(2, null, 'in_progress'), attempt: 1, secret: null });
    expect(report).toMatchObject({
      action: 'RERUN', ok: true, certified: true, runAttemptAfter: 2,
      changes: [{ kind: 'run', target: 'run 77', op: 'rerun', before_fingerprint: 'attempt:1', after_fingerprint: 'attempt:2' }],
    });
    expect(await reconcileStep('RERUN', rec, { github: secretAt(null), repo, latest: run(1), attempt: 1, secret: null })).toBeNull();
    expect(await reconcileStep('RERUN', rec, { github: secretAt(null), repo, latest: null, attempt: 1, secret: null })).toBeNull();
    expect(await reconcileStep('RERUN', rec, { github: secretAt(null), repo, latest: run(3), attempt: null, secret: null })).toBeNull();
  });

  test('other steps are not reconciled from GitHub (null: done again, their engines are idempotent)', async () => {
    for (const step of ['ESCALATE', 'SYNC_AND_CERTIFY', 'REGENERATE_CONFIG', 'ROLLBACK', 'NOOP'] as const) {
      expect(await reconcileStep(step, { step: `${step}#0`, phase: 'begin', at: '2026-12-01T10:00:00Z' }, { github: secretAt('2026-12-01T10:00:01Z'), repo, latest: run(2), attempt: 1, secret })).toBeNull();
    }
  });
});

describe('what is stored', () => {
  test('recordable drops the masking list of secret values; the rest of the report is kept', () => {
    const report = { action: 'CREATE_SECRET' as const, ok: false, changes: [], notes: ['n'], error: 'boom', secrets: ['s3cr3t-value'] };
    const kept = recordable(report as never);
    expect(kept).toEqual({ action: 'CREATE_SECRET', ok: false, changes: [], notes: ['n'], error: 'boom' });
    expect(JSON.stringify(kept)).not.toContain('s3cr3t-value');
  });

  test('intentLedgerPath: one small file per run attempt, stable, not naming the repository', () => {
    const p = intentLedgerPath('acme/web#77@1');
    expect(p).toMatch(/^intents\/[0-9a-f]{24}\.json$/);
    expect(intentLedgerPath('acme/web#77@1')).toBe(p);
    expect(intentLedgerPath('acme/web#77@2')).not.toBe(p);
    expect(p).not.toContain('acme');
  });
});
