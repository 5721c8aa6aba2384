import { classify } from '../core/classify/index.js';
import type { Incident, RepoRef, RunRef } from '../core/schemas/index.js';
import type { RunsPort, WorkflowRun } from '../ports/index.js';

export const runRefOf = (run: WorkflowRun): RunRef => ({
  id: run.id,
  attempt: run.run_attempt,
  workflow_name: run.name,
  head_sha: run.head_sha,
  head_branch: run.head_branch,
  event: run.event,
  from_fork: run.from_fork,
  actor: run.actor ?? undefined,
  pull_requests: run.pull_requests,
  html_url: run.html_url,
});

const KIND_RANK: Record<Incident['kind'], number> = {
  'credential.invalid': 9,
  'secret.missing': 8,
  'variable.missing': 7,
  'config.invalid': 6,
  'dependency.resolution': 5,
  'resource.exhausted': 4,
  'timeout.cancelled': 3,
  'transient.network': 2,
  'code.failure': 1,
  unknown: 0,
};

/**
 * The incident the heal acts on. A wrong credential outranks everything: if any job shows one,
 * nothing may be "fixed" by writing a secret. Then confidence, then specificity.
 */
export function primaryIncident(incidents: Incident[]): Incident | null {
  if (incidents.length === 0) return null;
  const credential = incidents.find((i) => i.kind === 'credential.invalid' && i.confidence >= 0.5);
  if (credential) return credential;
  return [...incidents].sort(
    (a, b) => b.confidence - a.confidence || KIND_RANK[b.kind] - KIND_RANK[a.kind],
  )[0]!;
}

/**
 * Lists the run's failed jobs, streams each job's log (GitHub's log URL lives one minute, so the
 * adapter follows the redirect at once) and classifies it. Our copy of the evidence lines goes into
 * the certificate: GitHub expires logs, the ledger must not.
 */
export async function gatherEvidence(
  runs: RunsPort,
  repo: RepoRef,
  run: WorkflowRun,
  environment?: string,
  /** Told the failed jobs (their names resolve the run's environment), so nobody lists them twice. */
  onFailedJobs?: (jobs: { name: string }[]) => void,
): Promise<Incident[]> {
  const jobs = await runs.listFailedJobs(repo, run.id);
  onFailedJobs?.(jobs);
  const incidents: Incident[] = [];
  for (const job of jobs) {
    const log = await runs.downloadJobLog(repo, job.id);
    const found = await classify(log, {
      repo,
      run: runRefOf(run),
      job_id: job.id,
      job_name: job.name,
      environment,
    });
    incidents.push(...found);
  }
  return incidents;
}
