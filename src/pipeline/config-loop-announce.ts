/** The config loop's word on the proposal's pull request: one comment, updated in place at each step. */
import type { PromotionRecord, RepoRef } from '../core/schemas/index.js';
import type { PipelineContext } from './context.js';

export const LOOP_COMMENT_MARKER = '<!-- living-bridge:config-loop -->';

const HEADLINES: Record<string, string> = {
  left_for_human: 'Left for a human',
  deployed: 'Merged and deployed',
  deploy_failed: 'Merged; the deploy needs a human',
  rolled_back: 'Deploy failed: rolled back',
  rollback_failed: 'Deploy failed: the rollback needs a human',
};

export function renderLoopComment(a: { status: string; record: PromotionRecord; notes: string[]; ema?: number | undefined; ledgerBranch: string }): string {
  const r = a.record;
  return [
    LOOP_COMMENT_MARKER,
    `### Living Bridge config loop: ${HEADLINES[a.status] ?? a.status}`,
    '',
    ...a.notes.map((n) => `- ${n}`),
    '',
    `| | |`,
    `|---|---|`,
    `| file | \`${r.path}\` on \`${r.base}\` |`,
    `| blob before → after | ${r.before_blob ?? '(absent)'} → ${r.after_blob ?? '(deleted)'} |`,
    `| merge commit | ${r.merge_commit ?? '—'} |`,
    `| dispatched runs | ${r.dispatched_runs.join(', ') || '—'} |`,
    ...(a.ema !== undefined ? [`| REGENERATE_CONFIG EMA | ${a.ema.toFixed(3)} |`] : []),
    `| certificates | ${r.certificates.map((c) => `\`${c.slice(0, 16)}\``).join(' → ') || '—'} |`,
    '',
    `Certificates are on the \`${a.ledgerBranch}\` branch; verify them offline with \`npx living-bridge verify --repo <owner/name>\`.`,
    a.status === 'left_for_human' ? 'Review this pull request and merge it yourself if it is right.' : '',
  ].join('\n');
}

/** Best effort: the certificates are already committed when this runs. */
export async function announceLoop(ctx: PipelineContext, repo: RepoRef, a: { status: string; pullRequest: { number: number }; record: PromotionRecord; notes: string[]; ema?: number | undefined; ledgerBranch: string }): Promise<void> {
  try {
    await ctx.github.ensureComment(repo, a.pullRequest.number, LOOP_COMMENT_MARKER, renderLoopComment(a));
  } catch (err) {
    ctx.log.warn({ err: (err as Error).message }, 'could not comment on the config pull request');
  }
}
