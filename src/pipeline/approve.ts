import { actingEnvironment } from '../core/governor/environment.js';
import { auditEntry } from './audit.js';
import { recordHumanFeedback } from '../core/governor/index.js';
import { Decision, Incident, SchemaError, parseRepoFullName, type PendingApproval, type RepoConfig } from '../core/schemas/index.js';
import type { HealResult, PipelineContext } from './context.js';
import { executeDecision, safeMessage } from './heal.js';
import { mayDecide } from './label.js';
import { loadEnvironmentFile, loadRepoConfig } from './repo-files.js';
import type { ApprovalCommand } from './approval-command.js';

export { parseApprovalCommand, type ApprovalCommand } from './approval-command.js';


export interface ApprovalOutcome { status: 'executed' | 'rejected' | 'refused'; reason: string; result?: HealResult }

export async function handleApprovalComment(
  ctx: PipelineContext,
  a: { repository: string; issueNumber: number | null; actor: string; command: ApprovalCommand },
): Promise<ApprovalOutcome> {
  const repo = parseRepoFullName(a.repository);
  const reply = async (text: string) => {
    if (a.issueNumber === null) return;
    const marker = `<!-- living-bridge:approval:${a.command.id}:${ctx.now().getTime()} -->`;
    await ctx.github.ensureComment(repo, a.issueNumber, marker, `${marker}\n${text}`).catch((err: unknown) => {
      ctx.log.warn({ err: safeMessage(err) }, 'could not reply to the approval command');
    });
  };
  let config: RepoConfig;
  try {
    config = await loadRepoConfig(ctx.github, repo);
  } catch (err) {
    if (!(err instanceof SchemaError)) throw err;
    await reply(`Living Bridge cannot act: ${err.source} is invalid (${err.issues.map((i) => `${i.path}: ${i.message}`).join('; ')}).`);
    return { status: 'refused', reason: `${err.source} is invalid` };
  }
  const ledger = ctx.ledgerFor(repo, config.ledger.branch);

  if (!(await mayDecide(ctx, a.repository, config, a.actor))) {
    await reply(`@${a.actor} cannot ${a.command.verb} Living Bridge actions here (needs write access or a place in \`approvers\` of .github/autonomy.yml).`);
    return { status: 'refused', reason: 'actor may not approve' };
  }
  const approved = a.command.verb === 'approve';
  const snapshot = await ledger.read();
  const pending = snapshot.pendingApprovals.find((p) => p.id === a.command.id);
  if (!pending || pending.status !== 'pending') {
    await reply(`No pending Living Bridge suggestion \`${a.command.id}\` (already decided or unknown).`);
    return { status: 'refused', reason: 'nothing pending under that id' };
  }
  if (Date.parse(pending.expires_at) <= ctx.now().getTime()) {
    await ledger.commit(`approval: ${a.command.id} expired`, (snap) => ({
      pendingApprovals: snap.pendingApprovals.map((p): PendingApproval => (p.id === a.command.id && p.status === 'pending' ? { ...p, status: 'expired' } : p)),
    }));
    await reply(`Suggestion \`${a.command.id}\` expired at ${pending.expires_at}; the next failure will be decided afresh.`);
    return { status: 'refused', reason: 'expired' };
  }
  // A human's approval does not outrank the kill switches: halted, nothing is done.
  if (approved && (snapshot.state.halted || !ctx.autonomyEnabled || !config.enabled)) {
    const why = snapshot.state.halted ? `the Governor is halted${snapshot.state.halted_reason ? ` (${snapshot.state.halted_reason})` : ''}` : !config.enabled ? 'autonomy is disabled in .github/autonomy.yml' : 'autonomy is disabled for this installation';
    await reply(`Not executed: ${why}. The suggestion \`${a.command.id}\` stays pending until it expires at ${pending.expires_at}.`);
    return { status: 'refused', reason: why };
  }
  const decision = Decision.parse(pending.decision);
  const incident = Incident.parse(pending.incident);
  // Claim the approval inside the compare-and-swap commit: of two concurrent approvals only one
  // finds it still pending.
  // The nonce keeps two identical claims from becoming one identical git commit (same tree, parent,
  // message and second), which the ref update would accept twice.
  let claimed = false;
  const nonce = Buffer.from(ctx.randomBytes(6)).toString('hex');
  await ledger.commit(`approval: ${a.command.verb} ${a.command.id} by ${a.actor} (${nonce})`, (snap) => {
    const current = snap.pendingApprovals.find((p) => p.id === a.command.id);
    claimed = current?.status === 'pending';
    if (!claimed) return {};
    return {
      state: recordHumanFeedback(snap.state, { action: decision.action, approved, at: ctx.now() }, config),
      pendingApprovals: snap.pendingApprovals.map((p): PendingApproval => (p.id === a.command.id ? { ...p, status: approved ? 'approved' : 'rejected', decided_by: a.actor } : p)),
      audit: [auditEntry(ctx, a.repository, `approval.${a.command.verb}`, `${decision.steps.join(' → ')} (${a.command.id})`, { actor: a.actor })],
    };
  });
  if (!claimed) {
    await reply(`No pending Living Bridge suggestion \`${a.command.id}\` (already decided or unknown).`);
    return { status: 'refused', reason: 'nothing pending under that id' };
  }
  if (!approved) {
    await reply(`Rejected by @${a.actor}: Living Bridge will not ${decision.steps.join(' → ')} for this failure.`);
    return { status: 'rejected', reason: `rejected by ${a.actor}` };
  }
  const run = incident.run ? await ctx.github.getRun(repo, incident.run.id) : null;
  const envFile = await loadEnvironmentFile(ctx.github, repo).catch(() => null);
  const result = await executeDecision(ctx, {
    repo,
    repository: a.repository,
    config,
    envFile,
    incident,
    incidents: [incident],
    decision: { ...decision, verdict: 'execute' },
    run,
    environment: actingEnvironment(incident.environment),
    approvedBy: a.actor,
  });
  await reply(`Approved by @${a.actor}: ${result.summary}`);
  return { status: 'executed', reason: `approved by ${a.actor}`, result };
}
