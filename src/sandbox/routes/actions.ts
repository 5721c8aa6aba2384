/** Workflows, runs, attempts, jobs, job logs (302 to a short-lived URL) and re-runs. */
import type { JobModel, RunModel } from '../model.js';
import type { RouteContext, RouteDef } from '../router.js';
import { ok } from '../router.js';
import { jobShape, workflowRunShape, workflowShape } from '../shapes.js';
import { notFound } from '../util.js';
import { actorLogin, intParam, wrappedList } from './helpers.js';

const RUNS = '/repos/{owner}/{repo}/actions/runs';

function runOf(ctx: RouteContext): RunModel {
  const id = intParam(ctx, 'run_id');
  const run = ctx.repo.runs.find((r) => r.id === id);
  if (!run) throw notFound();
  return run;
}

/** GitHub's run filters: branch, event, status (a status or a conclusion), head_sha, actor. */
function filterRuns(ctx: RouteContext, runs: RunModel[]): RunModel[] {
  const q = ctx.query;
  return runs.filter((run) => {
    const a = run.attempts[run.attempts.length - 1]!;
    if (q.get('branch') && run.headBranch !== q.get('branch')) return false;
    if (q.get('event') && run.event !== q.get('event')) return false;
    if (q.get('head_sha') && run.headSha !== q.get('head_sha')) return false;
    if (q.get('actor') && run.actor !== q.get('actor')) return false;
    const status = q.get('status');
    if (status && a.status !== status && a.conclusion !== status) return false;
    return true;
  }).reverse();
}

function jobsOf(ctx: RouteContext, ids: number[]): JobModel[] {
  return ids.map((id) => ctx.state.jobs.get(id)!).filter(Boolean);
}

export const actionsRoutes: RouteDef[] = [
  {
    method: 'GET', path: '/repos/{owner}/{repo}/actions/workflows', perm: ['actions', 'read'],
    handler: (ctx) => wrappedList(ctx, 'workflows', ctx.repo.workflows, (w) => workflowShape(ctx.state, ctx.repo, w)),
  },
  {
    method: 'GET', path: '/repos/{owner}/{repo}/actions/workflows/{workflow_id}', perm: ['actions', 'read'],
    handler: (ctx) => {
      const wf = ctx.state.workflow(ctx.repo, ctx.params.workflow_id!);
      if (!wf) throw notFound();
      return ok(workflowShape(ctx.state, ctx.repo, wf));
    },
  },
  {
    method: 'GET', path: '/repos/{owner}/{repo}/actions/workflows/{workflow_id}/runs', perm: ['actions', 'read'],
    handler: (ctx) => {
      const wf = ctx.state.workflow(ctx.repo, ctx.params.workflow_id!);
      if (!wf) throw notFound();
      const runs = filterRuns(ctx, ctx.repo.runs.filter((r) => r.workflowId === wf.id));
      return wrappedList(ctx, 'workflow_runs', runs, (r) => workflowRunShape(ctx.state, ctx.repo, r));
    },
  },
  {
    method: 'GET', path: RUNS, perm: ['actions', 'read'],
    handler: (ctx) => wrappedList(ctx, 'workflow_runs', filterRuns(ctx, ctx.repo.runs), (r) => workflowRunShape(ctx.state, ctx.repo, r)),
  },
  {
    method: 'GET', path: `${RUNS}/{run_id}`, perm: ['actions', 'read'],
    handler: (ctx) => ok(workflowRunShape(ctx.state, ctx.repo, runOf(ctx))),
  },
  {
    method: 'GET', path: `${RUNS}/{run_id}/attempts/{attempt_number}`, perm: ['actions', 'read'],
    handler: (ctx) => {
      const run = runOf(ctx);
      const a = run.attempts[intParam(ctx, 'attempt_number') - 1];
      if (!a) throw notFound();
      return ok(workflowRunShape(ctx.state, ctx.repo, run, a));
    },
  },
  {
    method: 'GET', path: `${RUNS}/{run_id}/attempts/{attempt_number}/jobs`, perm: ['actions', 'read'],
    handler: (ctx) => {
      const run = runOf(ctx);
      const n = intParam(ctx, 'attempt_number');
      const a = run.attempts[n - 1];
      if (!a) throw notFound();
      const jobs = jobsOf(ctx, a.jobIds).filter((j) => j.runAttempt === n);
      return wrappedList(ctx, 'jobs', jobs, (j) => jobShape(ctx.state, ctx.repo, j));
    },
  },
  {
    method: 'GET', path: `${RUNS}/{run_id}/jobs`, perm: ['actions', 'read'],
    handler: (ctx) => {
      const run = runOf(ctx);
      const latest = run.attempts[run.attempts.length - 1]!;
      const jobs = ctx.query.get('filter') === 'all'
        ? [...new Set(run.attempts.flatMap((a) => a.jobIds))].map((id) => ctx.state.jobs.get(id)!).sort((x, y) => y.runAttempt - x.runAttempt)
        : jobsOf(ctx, latest.jobIds);
      return wrappedList(ctx, 'jobs', jobs, (j) => jobShape(ctx.state, ctx.repo, j));
    },
  },
  {
    method: 'GET', path: '/repos/{owner}/{repo}/actions/jobs/{job_id}', perm: ['actions', 'read'],
    handler: (ctx) => {
      const j = ctx.state.jobs.get(intParam(ctx, 'job_id'));
      if (!j || !ctx.repo.runs.some((r) => r.id === j.runId)) throw notFound();
      return ok(jobShape(ctx.state, ctx.repo, j));
    },
  },
  {
    method: 'GET', path: '/repos/{owner}/{repo}/actions/jobs/{job_id}/logs', perm: ['actions', 'read'],
    handler: (ctx) => {
      const j = ctx.state.jobs.get(intParam(ctx, 'job_id'));
      if (!j || !ctx.repo.runs.some((r) => r.id === j.runId)) throw notFound();
      return { status: 302, headers: { location: ctx.state.createLogUrl(j.id) } };
    },
  },
  {
    method: 'POST', path: `${RUNS}/{run_id}/rerun`, perm: ['actions', 'write'],
    handler: (ctx) => {
      ctx.state.rerun(ctx.repo.owner, ctx.repo.name, runOf(ctx).id, 'all', actorLogin(ctx));
      return { status: 201, body: {} };
    },
  },
  {
    method: 'POST', path: `${RUNS}/{run_id}/rerun-failed-jobs`, perm: ['actions', 'write'],
    handler: (ctx) => {
      ctx.state.rerun(ctx.repo.owner, ctx.repo.name, runOf(ctx).id, 'failed', actorLogin(ctx));
      return { status: 201, body: {} };
    },
  },
];
