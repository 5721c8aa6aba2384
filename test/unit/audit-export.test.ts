import { AUDIT_COLUMNS, auditCsv, auditRows } from '../../src/core/audit/export.js';
import { buildStatement } from '../../src/core/certificate/index.js';

const predicate = (decision: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({
  timestamp: '2026-06-01T10:00:00.000Z', action: 'CREATE_SECRET' as const, reason: 'r', targets: ['secret:DEPLOY_TOKEN'], certified: true,
  report_hash: 'a'.repeat(64), repository: 'acme/api', run_id: 42, run_attempt: 1, policy_version: 3,
  changes: [{ target: 'DEPLOY_TOKEN', kind: 'secret' as const, scope: 'repository', op: 'create' as const, before_fingerprint: null, after_fingerprint: 'fp1' }],
  previous_certificate_hash: null, certificate_type: 'action' as const, decision, ...extra,
});

describe('audit export rows', () => {
  test('a heal certificate from before the export records which columns it predates; a current one none', () => {
    const legacy = buildStatement(predicate({ incident_fingerprint: 'f', confidence: 0.9, evidence: ['line 1'] }));
    const current = buildStatement(predicate({ incident_fingerprint: 'f', evidence: ['line 1'], head_sha: 'c'.repeat(40), evidence_hash: 'e'.repeat(64), autonomy_level: 'full', grant_id: null, approved_by: 'octocat' }, { sequence: 2 }));
    const sync = buildStatement(predicate({ dry_run: false }, { action: 'SYNC_AND_CERTIFY', certificate_type: 'sync', run_id: null }));
    const [old, now, synced] = auditRows([
      { statement: legacy, certificate_hash: '1'.repeat(64) },
      { statement: current, certificate_hash: '2'.repeat(64) },
      { statement: sync, certificate_hash: '3'.repeat(64) },
    ], '2026-01-01');
    expect(old).toMatchObject({ not_recorded: 'commit evidence_hash autonomy_level grant_id approved_by', commit: null, approved_by: null, evidence_hash: expect.stringMatching(/^[0-9a-f]{64}$/) });
    expect(now).toMatchObject({ not_recorded: '', commit: 'c'.repeat(40), approved_by: 'octocat', autonomy_level: 'full' });
    expect(synced).toMatchObject({ not_recorded: '' });
    // JSON members in column order; the CSV has the column, before the certificate hash.
    expect(Object.keys(old!)).toEqual([...AUDIT_COLUMNS]);
    expect(auditCsv([old!]).split('\r\n')[0]).toMatch(/,outcome_certificate_hash,not_recorded,certificate_hash$/);
    expect(auditCsv([old!]).split('\r\n')[1]).toContain(',commit evidence_hash autonomy_level grant_id approved_by,');
  });
});
