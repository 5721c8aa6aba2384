/**
 * Stage 7 of a heal: certify and record. One ledger commit (compare-and-swap) holds the signed
 * action certificate, the action record later outcomes are judged against, the intent key (a replay
 * finds it and does not certify twice), the postmortem of an escalation, the fingerprints of the
 * secrets written, the grant's use and the audit line.
 */
import { actionStatement, canonicalJson, sha256Hex, signCertificate } from '../../core/certificate/index.js';
import { bridgeKey, fingerprintKey } from '../../core/env-plan/index.js';
import { recordAction } from '../../core/governor/index.js';
import type { Certificate, Change } from '../../core/schemas/index.js';
import type { LedgerSnapshot } from '../../ledger/types.js';
import { auditEntry } from '../audit.js';
import { intentLedgerPath } from '../resume.js';
import type { Acted, ActInput } from './act.js';

export interface Certified {
  /** Every step done, and each engine read its effect back. */
  certified: boolean;
  certificate: Certificate;
  /** The certificate's file on the ledger branch. */
  ledgerPath: string;
  snapshot: LedgerSnapshot;
}

export const ledgerPathOf = (count: number, hash: string): string =>
  `.bridge/certificates/${String(count).padStart(6, '0')}-${hash.slice(0, 12)}.json`;

/** The decision's part of the certificate: what was decided, on which evidence, who authorized it. */
function decisionFields(a: ActInput & { approvedBy?: string; grantId?: string | null }): Record<string, unknown> {
  const { decision, incident, run } = a;
  return {
    verdict: decision.verdict,
    steps: decision.steps,
    guardrail: decision.guardrail,
    candidates: decision.candidates,
    incident_kind: incident.kind,
    incident_fingerprint: incident.fingerprint,
    confidence: incident.confidence,
    evidence: incident.evidence.slice(0, 10),
    // Which environment(s) the level came from, and how they were found (GitHub's definition).
    environment: decision.environment ?? null,
    environment_resolution: decision.environment_resolution ?? null,
    autonomy_level: decision.autonomy_level ?? null,
    // Change-management evidence (living-bridge audit export): what triggered it, on which
    // evidence, and who or what authorized it.
    head_sha: run?.head_sha ?? null,
    evidence_hash: sha256Hex(canonicalJson(incident.evidence)),
    grant_id: a.grantId ?? null,
    approved_by: a.approvedBy ?? null,
  };
}

/** Secrets a heal wrote are remembered like env sync's own writes (their fingerprint, and that Living Bridge created them). */
function writtenSecrets(snap: LedgerSnapshot, acted: Acted): LedgerSnapshot['sync'] | undefined {
  const written = acted.reports.flatMap((r) => {
    const w = (r as { written?: { fingerprint: string; updated_at: string | null } }).written;
    const change = r.changes.find((c) => c.kind === 'secret');
    return w && change && r.ok ? [{ scope: change.scope, name: change.target, ...w }] : [];
  });
  if (!written.length) return undefined;
  return {
    ...snap.sync,
    secret_fingerprints: {
      ...snap.sync.secret_fingerprints,
      ...Object.fromEntries(written.map((w) => [fingerprintKey(w.scope, w.name), { fingerprint: w.fingerprint, updated_at: w.updated_at }])),
    },
    created_by_bridge: [...new Set([...snap.sync.created_by_bridge, ...written.map((w) => bridgeKey('secret', w.scope, w.name))])],
  };
}

/** Another try of the same job (same intent key) committed this run attempt's action first. */
export class AlreadyCertifiedError extends Error {
  constructor(readonly certificateHash: string) {
    super(`already certified by another try of this job (certificate ${certificateHash.slice(0, 16)})`);
    this.name = 'AlreadyCertifiedError';
  }
}

export async function certifyAndRecord(a: ActInput & { approvedBy?: string; grantId?: string | null }, acted: Acted): Promise<Certified> {
  const { ctx, repository, decision, incident, run, journal } = a;
  const { reports, tried, escalated } = acted;
  const changes: Change[] = reports.flatMap((r) => r.changes);
  // An engine that acted but could not read its effect back (`certified: false`) does not certify.
  const certified = reports.length > 0 && reports.every((r) => r.ok && (r as { certified?: boolean }).certified !== false);
  const escalation = reports.find((r) => r.postmortem);
  // A step refused or failed when attempted is an outcome already (fail streak; the circuit opens when a human was asked).
  const failedStep = reports.find((r) => !r.ok && r.action !== 'ESCALATE');
  const refused = failedStep ? { step: failedStep.action, escalated } : null;
  let certificate: Certificate | null = null;
  let ledgerPath: string | null = null;
  const ledger = ctx.ledgerFor(a.repo, a.config.ledger.branch);
  const committed = await ledger.commit(`action: ${decision.steps.join('+')} for ${incident.kind} ${incident.target?.name ?? ''}`.trim(), async (snap) => {
    // Two tries of one job can run at once (a Redis replica starved past its locks while its job was
    // taken up again): the compare-and-swap orders their commits, and the later one finds the earlier
    // one's action record for this run attempt in the snapshot it builds on — it certifies nothing twice.
    const earlier = journal.key && run ? snap.state.actions.find((x) => x.run_id === run.id && x.run_attempt === run.run_attempt && x.action === decision.action) : undefined;
    if (earlier) throw new AlreadyCertifiedError(earlier.certificate_hash ?? '(no hash)');
    const at = ctx.now();
    const cert = await signCertificate(
      actionStatement(
        { at, repository, policyVersion: decision.policy_version, chain: snap },
        {
          action: decision.action,
          reason: a.approvedBy ? `${decision.reason}; approved by ${a.approvedBy}` : decision.reason,
          targets: incident.target ? [incident.target.name] : [],
          certified,
          report: { incident: { kind: incident.kind, target: incident.target, fingerprint: incident.fingerprint, evidence: incident.evidence }, reports: reports.map(({ postmortem: _p, ...r }) => r) },
          runId: run?.id ?? null,
          runAttempt: run?.run_attempt ?? null,
          changes,
          decision: decisionFields(a),
        },
      ),
      ctx.signer,
    );
    certificate = cert;
    ledgerPath = ledgerPathOf(snap.certificateCount + 1, cert.certificate_hash);
    // The action record is what later outcomes are judged against; a re-run's next attempt is the outcome.
    const state = recordAction(snap.state, decision, { at, runId: run?.id ?? null, runAttempt: run?.run_attempt ?? null, certificateHash: cert.certificate_hash, ...(refused ? { refused } : {}) });
    const files: Record<string, string> = {};
    // The intent, in the commit that certifies it: a replay finds it and does not certify twice.
    if (journal.key) files[intentLedgerPath(journal.key)] = JSON.stringify({ key: journal.key, certificate_hash: cert.certificate_hash, status: escalated ? 'escalated' : certified ? 'healed' : 'failed' });
    if (escalation?.postmortem) files[escalation.postmortemPath ?? `postmortems/${incident.fingerprint}.md`] = escalation.postmortem;
    const grantUses = a.grantId ? { [a.grantId]: (snap.grantUses[a.grantId] ?? 0) + 1 } : undefined;
    return {
      state,
      certificates: [cert],
      publicKeys: { [ctx.signer.keyid]: ctx.signer.publicKey },
      files,
      grantUses,
      sync: writtenSecrets(snap, acted),
      audit: [auditEntry(ctx, repository, `action.${decision.action}`, `${tried.join('; ')}${a.grantId ? ` (grant ${a.grantId})` : ''}${journal.key ? ` (intent ${journal.key})` : ''}`, { certificateHash: cert.certificate_hash })],
    };
  });
  return { certified, certificate: certificate!, ledgerPath: ledgerPath!, snapshot: committed.snapshot };
}
