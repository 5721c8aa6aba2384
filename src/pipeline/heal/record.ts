/**
 * What a heal records when it does not act: a dry run (nothing), a noop (an audit line), a
 * suggestion (a pending approval a human answers with `/bridge approve <id>`, announced).
 */
import type { PendingApproval } from '../../core/schemas/index.js';
import { auditEntry } from '../audit.js';
import type { HealResult } from '../context.js';
import { announce, finish } from '../heal-announce.js';
import type { Authorized } from './state.js';

/** How long a suggestion waits for a human. */
const SUGGESTION_TTL_MS = 72 * 3600_000;

const base = (s: Authorized) => ({ repository: s.repository, incidents: s.incidents, decision: s.decision, certificate: null, commentUrl: null, issueUrl: null });

export function dryRun(s: Authorized): HealResult {
  const { decision } = s;
  return finish(s.ctx, { ...base(s), status: 'dry_run', reports: [], summary: `dry run: would ${decision.verdict} ${decision.steps.join(' → ') || 'nothing'} — ${decision.reason}` });
}

export async function recordNoop(s: Authorized): Promise<HealResult> {
  const { ctx, decision, incident, repository } = s;
  await s.ledger.commit(`decision: noop (${decision.guardrail ?? 'none'})`, () => ({
    audit: [auditEntry(ctx, repository, 'decision.noop', `${incident.kind} ${incident.target?.name ?? ''}: ${decision.reason}`)],
  }));
  return finish(ctx, { ...base(s), status: 'noop', reports: [], summary: `no action: ${decision.reason}` });
}

export async function recordSuggestion(s: Authorized): Promise<HealResult> {
  const { ctx, decision, incident, repository, run } = s;
  const approval: PendingApproval = {
    id: `${(run?.id ?? 'api')}-${incident.fingerprint.slice(0, 8)}`,
    created_at: ctx.now().toISOString(),
    expires_at: new Date(ctx.now().getTime() + SUGGESTION_TTL_MS).toISOString(),
    issue_number: null,
    decision: decision as unknown as Record<string, unknown>,
    incident: incident as unknown as Record<string, unknown>,
    status: 'pending',
    decided_by: null,
  };
  await s.ledger.commit(`decision: suggest ${decision.steps.join('+')}`, (snap) => ({
    pendingApprovals: [...snap.pendingApprovals.filter((p) => p.id !== approval.id), approval],
    audit: [auditEntry(ctx, repository, 'decision.suggest', `${decision.steps.join(' → ')}: ${decision.reason}`)],
  }));
  const commentUrl = await announce(ctx, s.repo, repository, run, incident, decision, [], null, s.config, 'suggested', approval.id);
  return finish(ctx, { ...base(s), status: 'suggested', reports: [], commentUrl, summary: `suggested ${decision.steps.join(' → ')} for a human to approve (/bridge approve ${approval.id}): ${decision.reason}` });
}
