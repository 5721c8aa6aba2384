/**
 * The change-management evidence an auditor samples (SOC 2 CC8.1): one row per change Living Bridge
 * made, built from a verified certificate chain. Pure: the door verifies the chain and passes the
 * statements in chain order with their hashes.
 */
import { canonicalJson, sha256Hex } from '../canonical.js';
import type { Change, Statement } from '../schemas/certificate.js';

export type ChangeKind = 'secret written' | 'secret deleted' | 'variable synced' | 'environment synced' | 're-run' | 'config PR' | 'rollback' | 'escalation' | 'key rotation' | 'no change';

export interface AuditRow {
  time: string;
  sequence: number | null;
  repository: string;
  change: ChangeKind;
  action: string;
  target: string;
  scope: string;
  op: string;
  triggering_run_id: number | null;
  run_attempt: number | null;
  commit: string | null;
  evidence_hash: string | null;
  policy_version: number;
  autonomy_level: string | null;
  grant_id: string | null;
  approved_by: string | null;
  before_fingerprint: string | null;
  after_fingerprint: string | null;
  certified: boolean;
  outcome: 'success' | 'failure' | null;
  outcome_run_id: number | null;
  outcome_certificate_hash: string | null;
  /**
   * Columns this certificate predates (space-separated; empty when it records them all): heal
   * certificates written before the export existed carry no commit, evidence hash, autonomy level,
   * grant or approver. Their null there means "not recorded", not "none"; an evidence_hash shown for
   * them is derived from the evidence lines the certificate kept.
   */
  not_recorded: string;
  certificate_hash: string;
}

/** What heal's action certificates record in `decision` for the export, and the column each fills. */
const RECORDED_SINCE_EXPORT: readonly (readonly [string, keyof AuditRow])[] = [
  ['head_sha', 'commit'], ['evidence_hash', 'evidence_hash'], ['autonomy_level', 'autonomy_level'], ['grant_id', 'grant_id'], ['approved_by', 'approved_by'],
];

/** The columns a heal action certificate predates (other certificates have nothing of the kind to record). */
function notRecorded(p: Statement['predicate']): string {
  const d = p.decision;
  if (p.certificate_type !== 'action' || !('incident_fingerprint' in d)) return '';
  return RECORDED_SINCE_EXPORT.filter(([key]) => !(key in d)).map(([, column]) => column).join(' ');
}

export const AUDIT_COLUMNS: readonly (keyof AuditRow)[] = [
  'time', 'sequence', 'repository', 'change', 'action', 'target', 'scope', 'op', 'triggering_run_id', 'run_attempt', 'commit',
  'evidence_hash', 'policy_version', 'autonomy_level', 'grant_id', 'approved_by', 'before_fingerprint', 'after_fingerprint',
  'certified', 'outcome', 'outcome_run_id', 'outcome_certificate_hash', 'not_recorded', 'certificate_hash',
];

function kindOf(action: string, type: string, change: Change | null): ChangeKind {
  if (type === 'key_rotation') return 'key rotation';
  if (action === 'ROLLBACK') return 'rollback';
  if (action === 'ESCALATE' || change?.kind === 'issue' || change?.kind === 'comment') return 'escalation';
  if (action === 'REGENERATE_CONFIG' || change?.kind === 'file' || change?.kind === 'ref') return 'config PR';
  if (change?.kind === 'secret') return change.op === 'delete' ? 'secret deleted' : 'secret written';
  if (change?.kind === 'variable') return 'variable synced';
  if (change?.kind === 'environment') return 'environment synced';
  if (action === 'RERUN' || change?.kind === 'run') return 're-run';
  return 'no change';
}

const str = (v: unknown): string | null => (typeof v === 'string' && v !== '' ? v : null);

/**
 * Rows for every action, sync and key-rotation certificate at or after `since` (ISO date or time),
 * each joined with the outcome certificate that judged it, if any.
 */
export function auditRows(chain: readonly { statement: Statement; certificate_hash: string }[], since: string): AuditRow[] {
  const outcomes = new Map<string, { statement: Statement; certificate_hash: string }>();
  for (const link of chain) {
    const judged = link.statement.predicate.judges_certificate_hash;
    if (link.statement.predicate.certificate_type === 'outcome' && judged) outcomes.set(judged, link);
  }
  const rows: AuditRow[] = [];
  for (const { statement, certificate_hash } of chain) {
    const p = statement.predicate;
    if (p.certificate_type === 'outcome' || p.timestamp < since) continue;
    const d = p.decision;
    const evidence = Array.isArray(d.evidence) ? d.evidence : null;
    const outcome = outcomes.get(certificate_hash);
    const base = {
      time: p.timestamp,
      sequence: p.sequence ?? null,
      repository: p.repository,
      action: p.action,
      triggering_run_id: p.run_id,
      run_attempt: p.run_attempt,
      commit: str(d.head_sha),
      // Certificates from before evidence_hash was recorded: the hash of the evidence they carry.
      evidence_hash: str(d.evidence_hash) ?? (evidence ? sha256Hex(canonicalJson(evidence)) : null),
      policy_version: p.policy_version,
      autonomy_level: str(d.autonomy_level),
      grant_id: str(d.grant_id),
      approved_by: str(d.approved_by),
      certified: p.certified,
      outcome: outcome?.statement.predicate.outcome ?? null,
      outcome_run_id: outcome?.statement.predicate.run_id ?? null,
      outcome_certificate_hash: outcome?.certificate_hash ?? null,
      not_recorded: notRecorded(p),
      certificate_hash,
    };
    const changes: (Change | null)[] = p.changes.length ? p.changes : [null];
    for (const c of changes) {
      const row: AuditRow = {
        ...base,
        change: kindOf(p.action, p.certificate_type, c),
        target: c?.target ?? p.targets.join(' '),
        scope: c?.scope ?? '',
        op: c?.op ?? '',
        before_fingerprint: c?.before_fingerprint ?? null,
        after_fingerprint: c?.after_fingerprint ?? null,
      };
      // JSON members in column order, like the CSV.
      rows.push(Object.fromEntries(AUDIT_COLUMNS.map((k) => [k, row[k]])) as unknown as AuditRow);
    }
  }
  return rows;
}

/** RFC 4180 CSV: a header line, CRLF line ends, fields quoted when they hold a comma, quote or line break. */
export function auditCsv(rows: readonly AuditRow[]): string {
  const cell = (v: unknown): string => {
    const s = v === null || v === undefined ? '' : String(v);
    return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
  };
  return [AUDIT_COLUMNS.join(','), ...rows.map((r) => AUDIT_COLUMNS.map((c) => cell(r[c])).join(','))].join('\r\n') + '\r\n';
}
