/** RunsPort over REST: workflow runs, their failed jobs and logs, re-runs, deployments. */
import type { Job, RunsPort, WorkflowRun } from '../ports/index.js';
import { GitHubRequestError } from './errors.js';
import { PER_PAGE, header, type RequestLayer } from './request.js';
import { mapWorkflowRun, type RawWorkflowRun } from './webhook-run.js';

interface RawJob { id: number; name: string; conclusion: string | null; status: string; steps?: { name: string; conclusion: string | null; number: number }[] }
const mapJob = (j: RawJob): Job => ({
  id: j.id,
  name: j.name,
  conclusion: j.conclusion,
  status: j.status,
  steps: (j.steps ?? []).map((s) => ({ name: s.name, conclusion: s.conclusion, number: s.number })),
});

/** Job conclusions that count as "failed" for evidence. */
const FAILED_CONCLUSIONS = new Set(['failure', 'timed_out']);

async function* bodyToIterable(body: unknown): AsyncIterable<Uint8Array> {
  if (body === null || body === undefined) return;
  if (typeof body === 'string') {
    yield new TextEncoder().encode(body);
  } else if (body instanceof Uint8Array) {
    yield body;
  } else if (body instanceof ArrayBuffer) {
    yield new Uint8Array(body);
  } else if (typeof (body as { getReader?: unknown }).getReader === 'function') {
    const reader = (body as ReadableStream<Uint8Array>).getReader();
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        if (value) yield value;
      }
    } finally {
      reader.releaseLock();
    }
  } else if (typeof (body as AsyncIterable<Uint8Array>)[Symbol.asyncIterator] === 'function') {
    for await (const chunk of body as AsyncIterable<Uint8Array | string>) {
      yield typeof chunk === 'string' ? new TextEncoder().encode(chunk) : chunk;
    }
  } else {
    throw new TypeError('unexpected job log body');
  }
}

export function runsPort(http: RequestLayer): Required<RunsPort> {
  return {
    getRun(repo, runId, attempt): Promise<WorkflowRun> {
      return http.call('actions', `read run ${runId}`, async () => {
        const res =
          attempt === undefined
            ? await http.req('GET /repos/{owner}/{repo}/actions/runs/{run_id}', { ...repo, run_id: runId })
            : await http.req('GET /repos/{owner}/{repo}/actions/runs/{run_id}/attempts/{attempt_number}', { ...repo, run_id: runId, attempt_number: attempt });
        return mapWorkflowRun(res.data as RawWorkflowRun);
      });
    },

    listFailedJobs(repo, runId): Promise<Job[]> {
      return http.call('actions', `list jobs of run ${runId}`, async () => {
        const jobs = await http.paginate<RawJob>('GET /repos/{owner}/{repo}/actions/runs/{run_id}/jobs', { ...repo, run_id: runId, filter: 'latest', per_page: PER_PAGE }, 'jobs');
        return jobs.filter((j) => j.conclusion !== null && FAILED_CONCLUSIONS.has(j.conclusion)).map(mapJob);
      });
    },

    listDeployments(repo, sha): Promise<{ environment: string }[]> {
      return http.call('deployments', `list deployments of ${sha.slice(0, 7)}`, async () => {
        const res = await http.req('GET /repos/{owner}/{repo}/deployments', { ...repo, sha, per_page: PER_PAGE });
        return (res.data as { environment?: unknown }[]).flatMap((d) => (typeof d.environment === 'string' ? [{ environment: d.environment }] : []));
      });
    },

    downloadJobLog(repo, jobId): Promise<AsyncIterable<Uint8Array>> {
      return http.call('actions', `download log of job ${jobId}`, async () => {
        // redirect: 'manual' so we read the short-lived Location and fetch it at once ourselves,
        // without sending our Authorization header to the blob host.
        const res = await http.req('GET /repos/{owner}/{repo}/actions/jobs/{job_id}/logs', {
          ...repo,
          job_id: jobId,
          request: { redirect: 'manual', parseSuccessResponseBody: false },
        });
        if (res.status >= 300 && res.status < 400) {
          const location = header(res, 'location');
          await (res.data as ReadableStream | null | undefined)?.cancel?.().catch(() => undefined);
          if (!location) throw new GitHubRequestError(res.status, `download log of job ${jobId}`, 'redirect without a Location header');
          const blob = await http.fetchImpl(location, { redirect: 'follow' });
          if (!blob.ok) {
            await blob.body?.cancel().catch(() => undefined);
            throw new GitHubRequestError(blob.status, `download log of job ${jobId}`, 'the log URL answered an error (it expires within a minute)');
          }
          return bodyToIterable(blob.body);
        }
        // The client followed the redirect itself (e.g. a fetch without manual redirects): the body is the log.
        return bodyToIterable(res.data);
      });
    },

    rerunFailedJobs(repo, runId) {
      return http.call('actions', `re-run failed jobs of run ${runId}`, async () => {
        // Not retried blindly: a lost answer is read back by the engine (a retried POST could re-run twice).
        await http.req('POST /repos/{owner}/{repo}/actions/runs/{run_id}/rerun-failed-jobs', { ...repo, run_id: runId, request: { retries: 0 } });
      });
    },

    rerunRun(repo, runId) {
      return http.call('actions', `re-run run ${runId}`, async () => {
        await http.req('POST /repos/{owner}/{repo}/actions/runs/{run_id}/rerun', { ...repo, run_id: runId, request: { retries: 0 } });
      });
    },

    findLastSuccessfulRun(repo, workflowId, branch): Promise<WorkflowRun | null> {
      return http.call('actions', `find last successful run of workflow ${workflowId}`, async () => {
        const res = await http.req('GET /repos/{owner}/{repo}/actions/workflows/{workflow_id}/runs', { ...repo, workflow_id: workflowId, branch, status: 'success', per_page: 1 });
        const run = (res.data?.workflow_runs as RawWorkflowRun[] | undefined)?.[0];
        return run ? mapWorkflowRun(run) : null;
      });
    },

    listRecentRunHeads(repo, limit): Promise<string[]> {
      return http.call('actions', 'list recent workflow runs', async () => {
        const res = await http.req('GET /repos/{owner}/{repo}/actions/runs', { ...repo, per_page: Math.min(100, Math.max(1, limit)) });
        const runs = (res.data?.workflow_runs as { head_sha?: string }[] | undefined) ?? [];
        return [...new Set(runs.map((r) => r.head_sha).filter((s): s is string => typeof s === 'string'))];
      });
    },
  };
}
