/**
 * Stage 3 of a heal: learn from the last outcome. A run we acted on concluding is that action's
 * outcome (EMA, prediction, policy weights, fail streak; an outcome certificate), and what this
 * repository taught the classifier applies before anything is decided.
 */
import { outcomeStatement, signCertificate } from '../../core/certificate/index.js';
import { recordOutcome } from '../../core/governor/index.js';
import type { ActionRecord, Certificate, Incident } from '../../core/schemas/index.js';
import type { LedgerSnapshot } from '../../ledger/types.js';
import type { WorkflowRun } from '../../ports/index.js';
import { auditEntry } from '../audit.js';
import { learnedIncidents, rememberFailure } from '../classifier-memory.js';
import { runRefOf, primaryIncident } from '../evidence.js';
import { anchorCheckpoint } from '../heal-announce.js';
import { outcomeEventOf } from '../observe.js';
import type { Evidenced, Learned, Loaded } from './state.js';

export interface Judged {
  snapshot: LedgerSnapshot;
  outcome: { certificate: Certificate; action: ActionRecord } | null;
}

/** A run's conclusion judged as the outcome of the action that preceded it. */
export async function learnFromRun(
  s: Pick<Loaded, 'ctx' | 'repo' | 'repository' | 'config' | 'ledger'>,
  run: WorkflowRun,
  incidentFingerprintNow: string | null,
  given?: LedgerSnapshot,
): Promise<Judged> {
  const { ctx, repo, repository, config, ledger } = s;
  const snapshot = given ?? (await ledger.read());
  const pending = snapshot.state.actions.some(
    (a) => a.run_id === run.id && a.outcome === null && (a.run_attempt ?? 0) < run.run_attempt,
  );
  if (!pending || (run.conclusion !== 'success' && run.conclusion !== 'failure')) return { snapshot, outcome: null };
  const conclusion = run.conclusion;
  // What was judged, as of the mutate call that committed (a compare-and-swap retry calls it again).
  let judged: { action: ActionRecord; certificate: Certificate } | null = null;
  const committed = await ledger.commit(`outcome: run ${run.id} attempt ${run.run_attempt} ${conclusion}`, async (snap) => {
    const at = ctx.now();
    const learned = recordOutcome(snap.state, { at, runId: run.id, conclusion, incidentFingerprintNow }, config);
    judged = null;
    if (!learned.judged) return { state: learned.state };
    const certificate = await signCertificate(
      outcomeStatement(
        { at, repository, policyVersion: learned.state.policy.version, chain: snap },
        {
          action: learned.judged.action,
          reason: `next run (attempt ${run.run_attempt}) concluded ${conclusion}`,
          targets: [learned.judged.target_key],
          report: { run: run.id, attempt: run.run_attempt, conclusion },
          runId: run.id,
          runAttempt: run.run_attempt,
          judges: learned.judged.certificate_hash,
          outcome: conclusion,
          decision: { ema: learned.state.ema, policy_changed: learned.policyChanged },
        },
      ),
      ctx.signer,
    );
    judged = { action: learned.judged, certificate };
    return {
      state: learned.state,
      certificates: [certificate],
      publicKeys: { [ctx.signer.keyid]: ctx.signer.publicKey },
      audit: [auditEntry(ctx, repository, 'outcome', `run ${run.id} attempt ${run.run_attempt}: ${conclusion}`, { certificateHash: certificate.certificate_hash })],
    };
  });
  const outcome = judged as { action: ActionRecord; certificate: Certificate } | null;
  if (outcome) {
    ctx.observer?.emit(outcomeEventOf(ctx, repository, run, { ...outcome, certificateHash: outcome.certificate.certificate_hash }, committed.snapshot.state));
    if (committed.snapshot.checkpoint) await anchorCheckpoint(ctx, repo, run, committed.snapshot.checkpoint, `outcome recorded: ${conclusion}`);
  }
  return { snapshot: committed.snapshot, outcome };
}

/** The incident a heal acts on: the primary one found, or "unknown" when the jobs show nothing recognisable. */
function actingIncident(s: Evidenced, incidents: Incident[]): Incident {
  const primary = primaryIncident(incidents) ?? {
    kind: 'unknown' as const,
    target: null,
    confidence: 0,
    fingerprint: `unknown:${s.run?.id ?? '-'}`,
    summary: 'the failed jobs show no recognisable failure',
    evidence: [],
    repo: s.repo,
    run: s.run ? runRefOf(s.run) : undefined,
  };
  return { ...primary, environment: s.environmentName };
}

export async function learnFromLastOutcome(s: Evidenced): Promise<Learned> {
  const { ctx, ledger, run, request } = s;
  // What this repository taught the classifier (labels, re-run outcomes) applies before anything is decided.
  let snapshot = await ledger.read();
  const incidents = learnedIncidents(s.incidents, snapshot);
  if (run && !request.dry_run) snapshot = await rememberFailure(ctx, ledger, run, incidents, snapshot);
  const incident = actingIncident(s, incidents);
  // A failure of a run we acted on is that action's outcome: learn before deciding again.
  // (A dry run writes nothing, not even what it learned.)
  if (run && !request.dry_run) snapshot = (await learnFromRun(s, run, incident.fingerprint, snapshot)).snapshot;
  return { ...s, snapshot, incidents, incident };
}
