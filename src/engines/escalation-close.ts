/**
 * An escalation issue closes itself when its failure is healed: the next successful run of the
 * workflow that failed, on the same branch (a human fixed the cause, or the half-open probe went
 * green). Each issue carries `healsWithMarker` (src/engines/escalate.ts); a success closes every open
 * issue of that workflow and branch escalated on an earlier run, with a comment naming the run.
 */
import type { RepoRef } from '../core/schemas/index.js';
import type { IssueRef, IssuesPort } from '../ports/index.js';
import { healsWithNeedle } from './escalate.js';

export const HEALED_COMMENT_MARKER = '<!-- living-bridge:healed -->';

/** The part of a workflow run this needs (the port's WorkflowRun fits). */
export interface SucceededRun { id: number; run_attempt: number; name: string; head_branch: string | null; html_url: string; conclusion: string | null }

/** The run an issue was escalated on, from its marker. */
function escalatedOn(body: string, needle: string): { id: number; attempt: number } | null {
  const at = body.indexOf(needle);
  if (at === -1) return null;
  const m = /^after-run:(\d+)\.(\d+)/.exec(body.slice(at + needle.length));
  return m ? { id: Number(m[1]), attempt: Number(m[2]) } : null;
}

/** Whether `run` came after the escalated run (a later run, or a later attempt of the same run). */
const isLater = (run: SucceededRun, on: { id: number; attempt: number }): boolean => run.id > on.id || (run.id === on.id && run.run_attempt > on.attempt);

export function renderHealedComment(run: SucceededRun): string {
  return [
    HEALED_COMMENT_MARKER,
    `✅ **Healed.** [Run ${run.id} attempt ${run.run_attempt}](${run.html_url}) of "${run.name.replace(/[\r\n]+/g, ' ')}"${run.head_branch ? ` on \`${run.head_branch.replace(/`/g, '')}\`` : ''} succeeded, so Living Bridge closes this issue.`,
    '',
    'If the same root cause fails again, this issue is reopened and updated (it never opens a second one).',
  ].join('\n');
}

/** Closes the open escalation issues `run`'s success heals; returns them. Does nothing for a run that did not succeed. */
export async function closeHealedEscalations(port: IssuesPort, repo: RepoRef, run: SucceededRun): Promise<IssueRef[]> {
  if (run.conclusion !== 'success') return [];
  const needle = healsWithNeedle(run.name, run.head_branch);
  const open = await port.listOpenIssuesByMarker(repo, needle);
  const closed: IssueRef[] = [];
  for (const issue of open) {
    const on = escalatedOn(issue.body, needle);
    if (!on || !isLater(run, on)) continue;
    await port.ensureComment(repo, issue.number, HEALED_COMMENT_MARKER, renderHealedComment(run));
    closed.push(await port.updateIssue(repo, issue.number, { state: 'closed' }));
  }
  return closed;
}
