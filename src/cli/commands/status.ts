import { duration, updateDashboard } from '../../pipeline/dashboard.js';
import { readOverview, type RepositoryOverview } from '../../pipeline/overview.js';
import { contextFrom, JSON_FLAG, print, repoOption, type CliIo, type CliRuntime, type CommandModule } from '../runtime.js';

const targetName = (repository: string, key: string): string => key.replace(`${repository}#`, '');
const num = (x: number | null | undefined): string => (x === null || x === undefined ? '-' : x.toFixed(2));

/** Whether a pinned key exists to verify the chain with (the signing key or LIVING_BRIDGE_TRUSTED_KEYS). */
export const hasPinnedKey = (io: CliIo): boolean =>
  Boolean(io.env.TRUTH_SIGNING_KEY?.trim() || io.env.TRUTH_SIGNING_KEY_FILE || io.env.LIVING_BRIDGE_TRUSTED_KEYS?.trim() || io.env.LIVING_BRIDGE_GRANT_KEYS?.trim());

/** The open incidents of one repository, as the status page lists them. */
export function openIncidents(o: RepositoryOverview): { state: 'awaiting approval' | 'escalated' | 'awaiting outcome' | 'config PR for a human'; incident: string; next: string; since: string; id: string | null }[] {
  return [
    ...o.pending.map((p) => ({ state: 'awaiting approval' as const, incident: `${p.incident}: ${p.steps.join(' → ')}`, next: `living-bridge approve ${p.id} --repo ${o.repository} (or /bridge approve ${p.id}), until ${p.expiresAt}`, since: p.createdAt, id: p.id })),
    ...o.escalations.map((e) => ({ state: 'escalated' as const, incident: targetName(o.repository, e.target), next: 'a human is needed: see the escalation issue', since: e.at, id: null })),
    ...o.configPullRequests.map((c) => ({ state: 'config PR for a human' as const, incident: c.path, next: `pull request #${c.pullRequest} (${c.status.replace(/_/g, ' ')})`, since: c.updatedAt, id: null })),
    ...o.awaitingOutcome.map((a) => ({ state: 'awaiting outcome' as const, incident: `${a.action} ${targetName(o.repository, a.target)}`, next: a.runId ? `the next run after ${a.runId} decides` : 'the next run decides', since: a.at, id: null })),
  ];
}

function chainLine(rt: CliRuntime, o: RepositoryOverview): { verified: boolean | null; text: string } {
  if (!hasPinnedKey(rt.io)) return { verified: null, text: 'not checked (no pinned key: set TRUTH_SIGNING_KEY or LIVING_BRIDGE_TRUSTED_KEYS, or run `living-bridge verify --keys FILE`)' };
  const v = o.verification;
  return v.ok ? { verified: true, text: `verifies (${v.length} certificates)` } : { verified: false, text: `does NOT verify: ${v.reason ?? v.status}` };
}

export function renderStatus(o: RepositoryOverview, chain: string): string {
  const lines = [
    `${o.repository}  ${o.halted ? `HALTED (${o.haltedReason ?? 'kill switch'})` : 'running'}  ledger ${o.ledgerBranch}`,
    `chain: ${chain}`,
    `${o.month.month}: ${o.month.failuresSeen} failures seen, ${o.month.healedWithoutHuman} healed without a human, ${o.month.escalated} escalated, median time to recovery ${duration(o.month.medianRecoverySeconds)}`,
    `EMA: ${Object.entries(o.ema).map(([a, v]) => `${a} ${num(v)}`).join(', ') || '(no actions yet)'}`,
    '',
  ];
  const open = openIncidents(o);
  lines.push(open.length ? `Open incidents (${open.length}):` : 'Open incidents: none');
  for (const i of open) lines.push(`  ${i.state.padEnd(21)} ${i.incident}  — ${i.next}  (since ${i.since})`);
  lines.push(o.grants.length ? `Active grants (${o.grants.length}):` : 'Active grants: none');
  for (const g of o.grants) lines.push(`  ${g.id}  ${g.actions.join(',')}  until ${g.expiresAt}  used ${g.uses}${g.maxUses !== null ? `/${g.maxUses}` : ''}${g.breakGlass ? '  break-glass' : ''}`);
  lines.push(o.recent.length ? 'Recent decisions:' : 'Recent decisions: none');
  for (const r of o.recent.slice(0, 5)) {
    lines.push(`  ${r.at}  ${r.kind === 'action' ? `${r.steps.join(' → ')}${r.escalated ? ' (escalated)' : ''}` : `${r.kind}: ${r.detail}`}  score ${num(r.score)} ema ${num(r.ema)} predicted ${num(r.predicted)}  ${r.outcome ?? (r.kind === 'action' ? 'outcome pending' : '')}`.trimEnd());
  }
  return lines.join('\n');
}

/** `status`, `incidents list --repo` and `dashboard`: one repository read from its ledger. */
export const statusCommands: CommandModule = (rt) => {
  rt.program
    .command('status')
    .description('one repository at a glance, from its ledger: halted or running, the chain, open incidents, grants, EMA, the month\'s figures (needs no signing key)')
    .requiredOption('--repo <owner/name>', 'repository', repoOption)
    .option(...JSON_FLAG, false)
    .action(async (o: { repo: string; json: boolean }) => {
      const ctx = await contextFrom(rt, { signing: 'optional', repository: o.repo });
      const overview = await readOverview(ctx, o.repo);
      const chain = chainLine(rt, overview);
      const { verification, ...rest } = overview;
      print(rt, o.json, { ...rest, chain: { verified: chain.verified, status: chain.verified === null ? 'not-checked' : verification.status, length: verification.length, reason: chain.verified === false ? verification.reason : null }, open_incidents: openIncidents(overview) }, renderStatus(overview, chain.text));
    });
  rt.program
    .command('dashboard')
    .description('create or update the repository\'s dashboard issue now (as the App does after each heal); unchanged content is not rewritten')
    .requiredOption('--repo <owner/name>', 'repository', repoOption)
    .option(...JSON_FLAG, false)
    .action(async (o: { repo: string; json: boolean }) => {
      const ctx = await contextFrom(rt, { signing: 'optional', repository: o.repo });
      const update = await updateDashboard(ctx, o.repo);
      print(rt, o.json, update, update.status === 'disabled' ? `${o.repo}: the dashboard is turned off (dashboard.enabled: false in .github/autonomy.yml)` : `${o.repo}: dashboard ${update.status}: ${update.url ?? ''}`);
    });
};
