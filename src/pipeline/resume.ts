/**
 * Intent before act, and replay that resumes. A heal job records durably (in the intake: the embedded
 * journal or Redis) what it is about to do before each step and what the step did after it, under the
 * idempotency key repository#run@attempt. A job replayed after a crash reads those records back:
 * - steps recorded done are not done again (their reports are re-used for the certificate);
 * - a step begun but not recorded done is reconciled against GitHub: a secret whose `updated_at` is
 *   not older than the intent was written by the first try (the value is never regenerated); a run
 *   at a later attempt was re-run by it;
 * - the decision is the first try's, so the certificate certifies what the first try did.
 */
import { createHash } from 'node:crypto';
import type { Decision, Incident, RepoRef } from '../core/schemas/index.js';
import { scopeLabel, type GitHubPort, type Scope, type WorkflowRun } from '../ports/index.js';
import type { IntentRecord, IntentStore } from '../intake/types.js';
import type { EngineReport } from './context.js';

export const JOB_STEP = 'JOB';
export const DECIDE_STEP = 'DECIDE';

export interface DecidedIntent { incident: Incident; incidents: Incident[]; decision: Decision; grantId: string | null }

/** A step report as kept in an intent record: value-free (no `secrets` masking list). */
export type RecordedReport = EngineReport & Record<string, unknown>;

export class StepJournal {
  private constructor(
    private readonly store: IntentStore | undefined,
    readonly key: string,
    readonly prior: IntentRecord[],
    private readonly now: () => Date,
  ) {}

  static async open(store: IntentStore | undefined, key: string, now: () => Date): Promise<StepJournal> {
    return new StepJournal(store, key, store ? await store.read(key) : [], now);
  }

  /** A journal that records nothing (doors without an intake: the CLI, the Action). */
  static none(now: () => Date): StepJournal {
    return new StepJournal(undefined, '', [], now);
  }

  /** True when an earlier try of this job started (this run is a replay). */
  get replayed(): boolean {
    return this.prior.some((r) => r.step === JOB_STEP);
  }

  decided(): DecidedIntent | null {
    const rec = [...this.prior].reverse().find((r) => r.step === DECIDE_STEP && r.phase === 'done');
    return (rec?.data as DecidedIntent | undefined) ?? null;
  }

  /** The report of a step an earlier try finished. */
  doneReport(stepId: string): RecordedReport | null {
    const rec = [...this.prior].reverse().find((r) => r.step === stepId && r.phase === 'done');
    return (rec?.data as RecordedReport | undefined) ?? null;
  }

  /** The last intent an earlier try recorded for a step it did not finish. */
  begun(stepId: string): IntentRecord | null {
    if (this.doneReport(stepId)) return null;
    return [...this.prior].reverse().find((r) => r.step === stepId && r.phase === 'begin') ?? null;
  }

  async begin(step: string, data?: unknown): Promise<void> {
    await this.store?.record(this.key, { step, phase: 'begin', at: this.now().toISOString(), ...(data !== undefined ? { data } : {}) });
  }

  async done(step: string, data?: unknown): Promise<void> {
    await this.store?.record(this.key, { step, phase: 'done', at: this.now().toISOString(), ...(data !== undefined ? { data } : {}) });
  }
}

/** Where the ledger commit of an act keeps its intent key (one small file per healed run attempt). */
export const intentLedgerPath = (key: string): string => `intents/${createHash('sha256').update(key).digest('hex').slice(0, 24)}.json`;

/** A report without what must never be stored (the values an error message was masked against). */
export function recordable(report: EngineReport): RecordedReport {
  const { secrets: _secrets, ...rest } = report as EngineReport & { secrets?: unknown };
  return rest as RecordedReport;
}

/** GitHub's `updated_at` has whole seconds: a write that landed after `intentAt` shows at or after its second. */
export function writtenSince(updatedAt: string | null | undefined, intentAt: string): boolean {
  if (!updatedAt) return false;
  return Date.parse(updatedAt) >= Math.floor(Date.parse(intentAt) / 1000) * 1000;
}

/**
 * What an earlier try's unfinished step did, read back from GitHub; null when it shows no effect
 * (then the step is simply done now).
 */
export async function reconcileStep(
  step: Decision['action'],
  begun: IntentRecord,
  world: {
    github: Pick<GitHubPort, 'getSecret'>;
    repo: RepoRef;
    /** The run as it is now (latest attempt) and the attempt the job is about. */
    latest: WorkflowRun | null;
    attempt: number | null;
    secret: { scope: Scope; name: string } | null;
  },
): Promise<RecordedReport | null> {
  if (step === 'CREATE_SECRET' && world.secret) {
    const fingerprint = (begun.data as { fingerprint?: string } | undefined)?.fingerprint;
    if (!fingerprint) return null; // the value was never about to be written
    const meta = await world.github.getSecret(world.repo, world.secret.scope, world.secret.name);
    if (!meta || !writtenSince(meta.updated_at, begun.at)) return null;
    return {
      action: step,
      ok: true,
      certified: true,
      changes: [{ kind: 'secret', target: world.secret.name, scope: scopeLabel(world.secret.scope), op: 'create', before_fingerprint: null, after_fingerprint: fingerprint }],
      notes: [`Resumed after a restart: ${world.secret.name} was written by the first try (updated_at ${meta.updated_at} is not older than its intent at ${begun.at}); not written again, its value not regenerated.`],
      written: { fingerprint, updated_at: meta.updated_at },
    };
  }
  if (step === 'RERUN' && world.latest && world.attempt !== null && world.latest.run_attempt > world.attempt) {
    return {
      action: step,
      ok: true,
      certified: true,
      changes: [{ kind: 'run', target: `run ${world.latest.id}`, scope: 'repository', op: 'rerun', before_fingerprint: `attempt:${world.attempt}`, after_fingerprint: `attempt:${world.attempt + 1}` }],
      notes: [`Resumed after a restart: the first try's re-run was accepted (the run is at attempt ${world.latest.run_attempt}, ${world.latest.conclusion ?? world.latest.status}); not re-run again.`],
      runAttemptAfter: world.latest.run_attempt,
    };
  }
  return null;
}
