import { parseRepoFullName } from '../core/schemas/index.js';
import type { PipelineContext } from './context.js';
import { readOverview, type RepositoryOverview } from './overview.js';

/** Found again by this marker (Renovate's dependency dashboard works the same way). */
export const DASHBOARD_MARKER = '<!-- living-bridge:dashboard -->';
export const DASHBOARD_TITLE = 'Living Bridge dashboard';

const pct = (x: number | undefined): string => (x === undefined ? '—' : x.toFixed(2));
export const duration = (seconds: number | null): string => {
  if (seconds === null) return '—';
  if (seconds < 90) return `${Math.round(seconds)} s`;
  if (seconds < 5400) return `${Math.round(seconds / 60)} min`;
  return `${(seconds / 3600).toFixed(1)} h`;
};
const cell = (s: string): string => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');

const CONFIG_PR_STATUS = {
  left_for_human: 'left open for a human to review and merge; the reasons are in its comment',
  deploy_failed: 'merged, but the deploy failed and needs a human',
  rollback_failed: 'the deploy failed and the automatic rollback could not complete; a human is needed',
} as const;

/** The issue body: what a maintainer of this repository needs to act on, newest first. */
export function renderDashboard(o: RepositoryOverview): string {
  const lines: string[] = [DASHBOARD_MARKER, `# ${DASHBOARD_TITLE}`, ''];
  lines.push(
    'This issue is kept up to date by Living Bridge after each heal and outcome. It is read from the ledger branch',
    `\`${o.ledgerBranch}\`; editing it changes nothing. Turn it off with \`dashboard: { enabled: false }\` in \`.github/autonomy.yml\`.`,
    '',
  );
  if (o.halted) lines.push(`> [!WARNING]\n> **Halted**: ${o.haltedReason ?? 'kill switch'}. Every decision is a noop until \`living-bridge resume --repo ${o.repository}\`.`, '');

  lines.push('## Pending suggestions', '');
  if (o.pending.length === 0) lines.push('None.');
  for (const p of o.pending) lines.push(`- **${p.steps.join(' → ') || 'action'}** for \`${p.incident}\` — ${cell(p.reason)}. Approve: comment \`/bridge approve ${p.id}\` (or \`/bridge reject ${p.id}\`), until ${p.expiresAt}.`);
  lines.push('');

  lines.push('## Config pull requests waiting for a human', '');
  if (o.configPullRequests.length === 0) lines.push('None.');
  for (const c of o.configPullRequests) lines.push(`- #${c.pullRequest} (\`${cell(c.path)}\`): ${CONFIG_PR_STATUS[c.status]} (as the config loop last saw it, ${c.updatedAt}).`);
  lines.push('');

  lines.push('## Active grants', '');
  if (o.grants.length === 0) lines.push('None.');
  else {
    lines.push('| Grant | Actions | Environments | Targets | Uses | Expires | Issued by |', '| --- | --- | --- | --- | --- | --- | --- |');
    for (const g of o.grants) lines.push(`| \`${g.id}\`${g.breakGlass ? ' (break-glass)' : ''} | ${g.actions.join(', ')} | ${g.environments.join(', ')} | ${g.targets.join(', ')} | ${g.uses}${g.maxUses !== null ? `/${g.maxUses}` : ''} | ${g.expiresAt} | ${cell(g.issuedBy)} |`);
  }
  lines.push('');

  lines.push('## Halts and escalations', '');
  const open = [
    ...(o.halted ? [`- Halted: ${o.haltedReason ?? 'kill switch'}`] : []),
    ...o.escalations.map((e) => `- Escalated \`${e.target}\` at ${e.at} (a human is needed; one probe is allowed after the cool-off)`),
  ];
  lines.push(...(open.length ? open : ['None.']), '');

  lines.push('## Recent heals and decisions', '');
  if (o.recent.length === 0) lines.push('None yet.');
  else {
    lines.push('| When | Decision | Score | EMA | Predicted | Outcome | Certificate |', '| --- | --- | --- | --- | --- | --- | --- |');
    for (const r of o.recent) {
      const what = r.kind === 'action' ? `${r.steps.join(' → ')}${r.escalated ? ' (escalated)' : ''}${r.approvedBy ? ` (approved by ${r.approvedBy})` : ''}${r.runId ? ` on run ${r.runId}` : ''}` : `${r.kind}: ${cell(r.detail)}`;
      lines.push(`| ${r.at} | ${what} | ${pct(r.score ?? undefined)} | ${pct(r.ema ?? undefined)} | ${pct(r.predicted ?? undefined)} | ${r.outcome ?? (r.kind === 'action' ? 'pending' : '—')} | ${r.certificateHash ? `\`${r.certificateHash.slice(0, 12)}\`` : '—'} |`);
    }
  }
  lines.push('');

  lines.push('## EMA per action', '');
  const actions = Object.keys(o.ema).sort();
  if (actions.length === 0) lines.push('No outcome learned yet (every action starts at 0.50).');
  else {
    lines.push('| Action | EMA success rate |', '| --- | --- |');
    for (const a of actions) lines.push(`| ${a} | ${pct(o.ema[a as keyof typeof o.ema])} |`);
  }
  lines.push('');

  const m = o.month;
  lines.push(`## ${m.month}`, '', '| Failures seen | Healed without a human | Escalated | Median time to recovery |', '| --- | --- | --- | --- |');
  lines.push(`| ${m.failuresSeen} | ${m.healedWithoutHuman} | ${m.escalated} | ${duration(m.medianRecoverySeconds)} |`, '');
  lines.push(`Certificate chain: ${o.verification.ok ? `verifies (${o.verification.length} certificates)` : `**does not verify**: ${o.verification.reason ?? 'unknown reason'}`}. Verify it yourself: \`npx living-bridge verify --repo ${o.repository}\`.`);
  return lines.join('\n');
}

export type DashboardUpdate = { status: 'created' | 'updated' | 'unchanged' | 'disabled'; url: string | null };

/**
 * Keeps the repository's one dashboard issue current through `ensureIssue`: found by its marker,
 * rewritten only when its content hash changed (no write, no notification, when nothing did).
 */
export async function updateDashboard(ctx: PipelineContext, repository: string): Promise<DashboardUpdate> {
  const repo = parseRepoFullName(repository);
  const overview = await readOverview(ctx, repository);
  if (!overview.dashboardEnabled) return { status: 'disabled', url: null };
  const issue = await ctx.github.ensureIssue(repo, { marker: DASHBOARD_MARKER, title: DASHBOARD_TITLE, body: renderDashboard(overview), labels: ['living-bridge'] });
  return { status: issue.status, url: issue.html_url };
}
