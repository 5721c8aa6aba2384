/** Human (markdown) and machine (JSON) renderings of a plan, shared by the Action summary, PR comments and the CLI. */
import type { SyncPlan, SyncPlanItem, SyncReport } from './types.js';

const ICON: Record<SyncPlanItem['op'], string> = { add: '➕', update: '✏️', delete: '🗑️', escalate: '⚠️', noop: '✅' };

/** Markdown table cells: no pipes or newlines from reasons and names. */
const cell = (s: string): string => s.replace(/\\/g, '\\\\').replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');

export interface DriftTableOptions {
  /** Heading, e.g. "Environment drift: owner/repo". */
  title?: string;
  /** Also list items that are in sync (default: only their count). */
  showInSync?: boolean;
}

export function renderDriftTable(plan: SyncPlan, report?: SyncReport, opts: DriftTableOptions = {}): string {
  const s = plan.summary;
  const lines: string[] = [];
  lines.push(`### ${opts.title ?? 'Environment drift'}`, '');
  lines.push(`**${s.add} to add · ${s.update} to update · ${s.delete} to delete · ${s.escalate} need a human · ${s.noop} in sync or kept**`, '');
  const byItem = new Map(report?.results.map((r) => [r.item, r]) ?? []);
  const rows = plan.items.filter((i) => opts.showInSync || i.op !== 'noop' || !i.declared);
  if (rows.length === 0) {
    lines.push('No drift: GitHub holds what `.github/environment.json` declares.');
  } else {
    const header = report ? '| | Change | Kind | Scope | Name | Why | Result |' : '| | Change | Kind | Scope | Name | Why |';
    lines.push(header, report ? '|---|---|---|---|---|---|---|' : '|---|---|---|---|---|---|');
    for (const i of rows) {
      const base = `| ${ICON[i.op]} | ${i.op} | ${i.kind} | ${cell(i.scope)} | \`${cell(i.name)}\` | ${cell(i.reason)} |`;
      if (!report) { lines.push(base); continue; }
      const r = byItem.get(i);
      lines.push(`${base} ${r ? `${r.status}${r.status === 'applied' ? '' : `: ${cell(r.detail)}`}` : '—'} |`);
    }
  }
  if (plan.renames.length > 0) {
    lines.push('', '**Probable renames** (the old name is kept unless its scope has `prune: true`):');
    for (const r of plan.renames) lines.push(`- ${r.kind} \`${r.from}\` → \`${r.to}\` in ${r.scope}`);
  }
  if (plan.foreignDeletions.length > 0) {
    lines.push('', '**Deletions of items Living Bridge did not create** (applied only with `--confirm-prune` / the `confirm-prune` input):');
    for (const d of plan.foreignDeletions) lines.push(`- ${d.kind} \`${d.name}\` in ${d.scope}`);
  }
  if (report) {
    lines.push('', `Applied ${report.applied}, failed ${report.failed}, skipped ${report.skipped}${report.dryRun ? ' (dry run: nothing written)' : ''}.`);
  }
  return lines.join('\n');
}

/** The plan as JSON for `--json` (no values: fingerprints only). */
export function planToJson(plan: SyncPlan, report?: SyncReport): string {
  return JSON.stringify(
    {
      summary: plan.summary,
      writes: plan.writes,
      scopes: plan.scopes,
      items: plan.items.map((i) => ({
        op: i.op, kind: i.kind, scope: i.scope, name: i.name, reason: i.reason,
        declared: i.declared, created_by_bridge: i.created_by_bridge,
        ...(i.renamed_from ? { renamed_from: i.renamed_from } : {}),
        before_fingerprint: i.before_fingerprint, after_fingerprint: i.after_fingerprint,
        ...(report ? { result: resultOf(report, i) } : {}),
      })),
      renames: plan.renames,
      foreign_deletions: plan.foreignDeletions.map((d) => ({ kind: d.kind, scope: d.scope, name: d.name })),
      ...(report ? { report: { applied: report.applied, failed: report.failed, skipped: report.skipped, dry_run: report.dryRun } } : {}),
    },
    null,
    2,
  );
}

function resultOf(report: SyncReport, i: SyncPlanItem): { status: string; detail: string } | null {
  const r = report.results.find((x) => x.item === i);
  return r ? { status: r.status, detail: r.detail } : null;
}
