import type { WorkflowRun } from '../ports/index.js';

/** The fields of GitHub's workflow run object we read (REST `GET .../runs/{id}` and `workflow_run` webhooks share it). */
export interface RawWorkflowRun {
  id: number;
  name?: string | null;
  run_attempt?: number;
  status?: string | null;
  conclusion?: string | null;
  head_sha: string;
  head_branch?: string | null;
  event?: string;
  html_url?: string;
  actor?: { login?: string } | null;
  triggering_actor?: { login?: string } | null;
  pull_requests?: { number: number }[] | null;
  workflow_id?: number;
  path?: string;
  created_at?: string;
  updated_at?: string;
  head_repository?: { full_name?: string } | null;
  repository?: { full_name?: string } | null;
}

const DEPENDABOT = 'dependabot[bot]';

/**
 * The one mapping from GitHub's run object to the port's WorkflowRun. `repository` is the
 * repository the run belongs to (the webhook's `payload.repository`, or the run's own).
 * A run is `from_fork` when its head repository is another repository or Dependabot triggered it:
 * GitHub gives such runs no secrets, so the healer must never create secrets for them.
 */
export function mapWorkflowRun(raw: RawWorkflowRun, repository?: { full_name?: string } | null): WorkflowRun {
  const baseFullName = repository?.full_name ?? raw.repository?.full_name ?? null;
  const headFullName = raw.head_repository?.full_name ?? null;
  const actor = raw.actor?.login ?? null;
  const fromFork =
    (headFullName !== null && baseFullName !== null && headFullName.toLowerCase() !== baseFullName.toLowerCase()) ||
    actor === DEPENDABOT ||
    raw.triggering_actor?.login === DEPENDABOT;
  return {
    id: raw.id,
    name: raw.name ?? '',
    run_attempt: raw.run_attempt ?? 1,
    status: raw.status ?? 'unknown',
    conclusion: raw.conclusion ?? null,
    head_sha: raw.head_sha,
    head_branch: raw.head_branch ?? null,
    event: raw.event ?? 'unknown',
    html_url: raw.html_url ?? '',
    actor,
    from_fork: fromFork,
    pull_requests: (raw.pull_requests ?? []).map((p) => p.number),
    workflow_id: raw.workflow_id ?? 0,
    path: raw.path ?? '',
    created_at: raw.created_at ?? '',
    updated_at: raw.updated_at ?? '',
  };
}

/** Maps `payload.workflow_run` of a `workflow_run` webhook (same mapping as GitHubAdapter.getRun). */
export function runFromWebhook(workflowRun: RawWorkflowRun, repository?: { full_name?: string } | null): WorkflowRun {
  return mapWorkflowRun(workflowRun, repository);
}
