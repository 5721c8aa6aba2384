import { renderAnchorMarker } from '../core/certificate/index.js';
import type { Certificate, Decision, Incident, SignedCheckpoint } from '../core/schemas/index.js';
import type { EngineReport, HealStatus } from './context.js';

export const COMMENT_MARKER = '<!-- living-bridge:heal-comment -->';

const fmt = (n: number): string => n.toFixed(2);

export function renderDecisionTable(decision: Decision): string {
  const rows = decision.candidates.map(
    (c) => `| ${c.action} | ${fmt(c.ema)} | ${fmt(c.cooldown_penalty)} | ${fmt(c.weight)} | ${fmt(c.predicted_success)} | **${fmt(c.score)}** |`,
  );
  return [
    '| action | EMA | cooldown penalty | weight | predicted success | score |',
    '|---|---|---|---|---|---|',
    ...rows,
  ].join('\n');
}

export interface CommentInput {
  status: HealStatus;
  repository: string;
  runId: number | null;
  runUrl?: string;
  incident: Incident | null;
  decision: Decision | null;
  reports: EngineReport[];
  certificate: Certificate | null;
  signerKeyId: string;
  ledgerBranch: string;
  ledgerPath: string | null;
  publicApiBase?: string;
  approvalId?: string | null;
  /** The ledger checkpoint this heal's commit signed: published here as an anchor outside the branch. */
  checkpoint?: SignedCheckpoint | null;
}

/**
 * The checkpoint as people read it, plus the hidden marker verifiers read (`living-bridge verify`
 * finds it in this App's check runs; auditors can save the comment and pass it with --anchor).
 */
export function renderCheckpoint(signed: SignedCheckpoint): string {
  const cp = signed.checkpoint;
  return [
    `**Ledger checkpoint:** #${cp.sequence}, head \`${cp.head ?? '(empty)'}\`, signed by key \`${signed.signature.keyid}\` at ${cp.time}`,
    renderAnchorMarker(signed),
  ].join('\n');
}

const STATUS_LINE: Record<HealStatus, string> = {
  healed: '✅ Healed',
  suggested: '🟡 Waiting for a human',
  escalated: '🚨 Escalated to humans',
  noop: '⏸️ No action',
  dry_run: '🧪 Dry run',
  failed: '❌ Could not heal',
};

/** The PR comment: one per pull request, updated in place (found again by COMMENT_MARKER). */
export function renderHealComment(input: CommentInput): string {
  const lines: string[] = [COMMENT_MARKER, `### Living Bridge — ${STATUS_LINE[input.status]}`, ''];
  if (input.runId !== null) {
    lines.push(`Run: ${input.runUrl ? `[#${input.runId}](${input.runUrl})` : `#${input.runId}`} in \`${input.repository}\``, '');
  }
  if (input.incident) {
    const target = input.incident.target ? ` \`${input.incident.target.name}\`` : '';
    lines.push(
      `**Incident:** \`${input.incident.kind}\`${target} (confidence ${fmt(input.incident.confidence)}) — ${input.incident.summary}`,
    );
    const evidence = input.incident.evidence.slice(0, 5).map((e) => `${e.job_name ? `[${e.job_name}] ` : ''}L${e.line}: ${e.text}`);
    if (evidence.length) lines.push('', '<details><summary>Evidence</summary>', '', '```text', ...evidence, '```', '</details>');
    if (input.incident.signature) lines.push('', `Classified wrongly? A writer can comment \`/bridge label ${input.incident.signature} <kind>\` to teach Living Bridge what this failure is in this repository.`);
    lines.push('');
  }
  if (input.decision) {
    const d = input.decision;
    lines.push(
      `**Decision:** \`${d.verdict}\` ${d.steps.join(' → ') || d.action}${d.guardrail ? ` (guardrail: ${d.guardrail})` : ''} · policy v${d.policy_version} (${d.blueprint_mode})`,
      '',
      `> ${d.reason}`,
      '',
    );
    if (d.candidates.length) lines.push(renderDecisionTable(d), '');
  }
  for (const r of input.reports) {
    lines.push(`- **${r.action}** ${r.ok ? 'done' : 'failed'}${r.error ? `: ${r.error}` : ''}`);
    for (const n of r.notes) lines.push(`  - ${n}`);
  }
  if (input.reports.length) lines.push('');
  if (input.approvalId) {
    lines.push(`To approve, comment \`/bridge approve ${input.approvalId}\`; to reject, \`/bridge reject ${input.approvalId}\`.`, '');
  }
  if (input.certificate) {
    const link = input.ledgerPath ? ` · file \`${input.ledgerPath}\` on branch \`${input.ledgerBranch}\`` : '';
    lines.push(
      `**Certificate:** \`${input.certificate.certificate_hash}\` signed by key \`${input.signerKeyId}\`${link}`,
      '',
      `Verify offline: check out branch \`${input.ledgerBranch}\` and run \`npx living-bridge verify --dir <checkout>\` from a Living Bridge checkout (or the openssl recipe in docs/certificates.md).`,
    );
  }
  if (input.checkpoint) lines.push('', renderCheckpoint(input.checkpoint));
  if (input.publicApiBase) {
    lines.push('', `Chain status (needs the API token): ${input.publicApiBase.replace(/\/$/, '')}/api/autonomy/verify?repository=${encodeURIComponent(input.repository)}`);
  }
  return lines.join('\n');
}

/** Marks the one issue that says the repository's `.github/autonomy.yml` cannot be used. */
export const CONFIG_ISSUE_MARKER = '<!-- living-bridge:config-invalid -->';

/**
 * What humans are told when `.github/autonomy.yml` does not parse or validate: Living Bridge will not
 * guess a configuration (autonomy level, ledger branch, declared sources), so it does nothing until
 * the file is fixed on the default branch.
 */
export function renderConfigErrorComment(input: { file: string; issues: { path: string; message: string }[]; repository: string; runId: number | null; runUrl?: string }): string {
  const lines = [
    COMMENT_MARKER,
    `### Living Bridge — ${STATUS_LINE.failed}`,
    '',
    `\`${input.file}\` in \`${input.repository}\` is invalid, so Living Bridge did nothing${input.runId !== null ? ` for run ${input.runUrl ? `[#${input.runId}](${input.runUrl})` : `#${input.runId}`}` : ''}. Fix the file on the default branch; the next failure is healed with it.`,
    '',
    '| path | problem |',
    '|---|---|',
    ...input.issues.slice(0, 20).map((i) => `| \`${i.path.replace(/\|/g, '\\|')}\` | ${i.message.replace(/\|/g, '\\|').replace(/[\r\n]+/g, ' ')} |`),
    '',
    'The schema: `docs/schema/autonomy.schema.json` (add `# yaml-language-server: $schema=...` to the file for editor checks).',
  ];
  return lines.join('\n');
}
