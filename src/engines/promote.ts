/**
 * The config loop's hands (src/pipeline/config-loop.ts decides when): merge a proposal's pull request
 * and check the base now holds the proposed blob; dispatch the deploy workflow on the base branch and
 * find the run; propose the revert of a promotion (the file back to its blob before the merge).
 */
import type { Change, MergeMethod, RepoRef } from '../core/schemas/index.js';
import { MergeRefusedError, type ContentsPort, type GitDataPort, type PromotionPort, type RunsPort, type WorkflowRun } from '../ports/index.js';
import { failed, fromPortError, type EngineResult } from './report.js';

type Action = 'REGENERATE_CONFIG' | 'ROLLBACK';

export interface MergePlan {
  repo: RepoRef;
  action: Action;
  pullRequest: number;
  /** The head the checks were judged on: GitHub refuses (409) if the branch moved since. */
  headSha: string;
  base: string;
  path: string;
  /** Blob the base holds before the merge (null: absent) and must hold after it (null: deleted). */
  beforeBlob: string | null;
  afterBlob: string | null;
  method: MergeMethod;
  /** When GitHub does not show the allowed methods, these are tried in turn after `method`. */
  fallbackMethods: MergeMethod[];
  title: string;
}

export type MergeReport = EngineResult<{ mergeCommit?: string; method?: MergeMethod; refusedBecause?: string }>;

/** Merges the pull request and reads the file back from the base. */
export async function executeMerge(port: PromotionPort, git: Pick<ContentsPort, 'readFile'> & Pick<GitDataPort, 'getBranchHead'>, plan: MergePlan): Promise<MergeReport> {
  const { repo, action, pullRequest, base, path } = plan;
  let baseBefore: string | null;
  try {
    baseBefore = await git.getBranchHead(repo, base);
  } catch (err) {
    return fromPortError(action, `reading ${base}`, err);
  }
  let merged: { sha: string } | null = null;
  let method = plan.method;
  const tried: string[] = [];
  for (const m of [plan.method, ...plan.fallbackMethods.filter((x) => x !== plan.method)]) {
    try {
      merged = await port.mergePullRequest(repo, pullRequest, { method: m, sha: plan.headSha, title: `${plan.title} (#${pullRequest})`, message: 'Merged by Living Bridge: the pull request\'s checks passed and the autonomy level allows it.' });
      method = m;
      break;
    } catch (err) {
      // Only "this method is not allowed" moves on to the next method; every other refusal stands.
      if (err instanceof MergeRefusedError && err.status === 405 && /not allowed on this repository/i.test(err.message) && plan.fallbackMethods.length) {
        tried.push(err.message);
        continue;
      }
      if (err instanceof MergeRefusedError) return failed(action, err.message, { notes: [`Pull request #${pullRequest} was left open.`, ...tried], extra: { refusedBecause: err.message } });
      return fromPortError(action, `merging pull request #${pullRequest}`, err);
    }
  }
  if (!merged) return failed(action, `no merge method was accepted for pull request #${pullRequest}`, { notes: tried });

  const changes: Change[] = [
    { kind: 'file', target: path, scope: `branch:${base}`, op: plan.afterBlob === null ? 'delete' : plan.beforeBlob === null ? 'create' : 'update', before_fingerprint: plan.beforeBlob ? `blob:${plan.beforeBlob}` : null, after_fingerprint: plan.afterBlob ? `blob:${plan.afterBlob}` : null },
    { kind: 'ref', target: `refs/heads/${base}`, scope: 'repository', op: 'update', before_fingerprint: baseBefore ? `commit:${baseBefore}` : null, after_fingerprint: `commit:${merged.sha}` },
    { kind: 'issue', target: `pull request #${pullRequest}`, scope: 'repository', op: 'update', before_fingerprint: `commit:${plan.headSha}`, after_fingerprint: `merged:${merged.sha}` },
  ];
  let certified = false;
  try {
    const now = await git.readFile(repo, path, merged.sha);
    certified = plan.afterBlob === null ? now === null : now?.sha === plan.afterBlob;
  } catch {
    certified = false;
  }
  return {
    action, ok: true, certified, changes, mergeCommit: merged.sha, method,
    notes: [
      `Merged pull request #${pullRequest} into ${base} (${method}): ${merged.sha.slice(0, 7)}.`,
      certified ? `Verified: ${path} on ${base} is ${plan.afterBlob ? `blob ${plan.afterBlob}` : 'deleted'}.` : `Not certified: ${path} at ${merged.sha.slice(0, 7)} does not read back as the merged blob.`,
    ],
  };
}

export interface DispatchPlan {
  repo: RepoRef;
  action: Action;
  workflow: string | number;
  base: string;
  /** The commit the run must deploy (the merge commit). */
  expectedSha: string;
  /** Polls for the run when GitHub did not return it. */
  findAttempts?: number;
  sleep: (ms: number) => Promise<void>;
}

export type DispatchReport = EngineResult<{ run?: WorkflowRun }>;

/** Dispatches the deploy workflow on the base branch (a re-run would reuse the old commit) and finds its run. */
export async function executeDispatch(port: PromotionPort, runs: Pick<RunsPort, 'getRun'>, plan: DispatchPlan): Promise<DispatchReport> {
  const { repo, action, workflow, base, expectedSha } = plan;
  let runId: number | null;
  try {
    runId = (await port.dispatchWorkflow(repo, workflow, base)).runId;
  } catch (err) {
    return fromPortError(action, `dispatching workflow ${workflow} on ${base}`, err);
  }
  let run: WorkflowRun | null = null;
  try {
    if (runId !== null) run = await runs.getRun(repo, runId);
    for (let i = 0; run === null && i < (plan.findAttempts ?? 6); i++) {
      run = (await port.findRuns(repo, workflow, { event: 'workflow_dispatch', branch: base, headSha: expectedSha }))[0] ?? null;
      if (!run) await plan.sleep(2_000 * 2 ** i);
    }
  } catch (err) {
    return fromPortError(action, `finding the dispatched run of ${workflow}`, err);
  }
  if (!run) return failed(action, `workflow ${workflow} was dispatched on ${base} but no run for ${expectedSha.slice(0, 7)} appeared`);
  const change: Change = { kind: 'run', target: `workflow ${workflow} on ${base}`, scope: 'repository', op: 'create', before_fingerprint: null, after_fingerprint: `run:${run.id}` };
  const certified = run.head_sha === expectedSha && run.event === 'workflow_dispatch';
  return {
    action, ok: true, certified, changes: [change], run,
    notes: [`Dispatched ${run.name} on ${base} at ${run.head_sha.slice(0, 7)}: run ${run.id} ${run.html_url}`, certified ? `Verified: run ${run.id} deploys ${expectedSha.slice(0, 7)}.` : `Not certified: run ${run.id} is at ${run.head_sha.slice(0, 7)}, not ${expectedSha.slice(0, 7)}.`],
  };
}

export interface RevertPlan {
  repo: RepoRef;
  base: string;
  path: string;
  /** What the promotion wrote, and what was there before it (null: the file did not exist). */
  promotedBlob: string;
  restoreBlob: string | null;
  promotionMerge: string;
  promotionPullRequest: number;
}

export type RevertReport = EngineResult<{ pullRequest?: { number: number; html_url: string; headSha: string }; branch?: string }>;

export const REVERT_BRANCH_PREFIX = 'living-bridge/revert-';

/** Opens a pull request that puts the file back as it was before the promotion. */
export async function executeRevertProposal(port: ContentsPort & GitDataPort, plan: RevertPlan): Promise<RevertReport> {
  const ACTION = 'ROLLBACK' as const;
  const { repo, base, path } = plan;
  const branch = `${REVERT_BRANCH_PREFIX}${plan.promotionMerge.slice(0, 12)}`;
  try {
    const head = await port.getBranchHead(repo, base);
    if (!head) return failed(ACTION, `base branch ${base} not found`);
    const current = await port.readFile(repo, path, head);
    // Someone changed the file after the promotion: reverting would undo their change too.
    if ((current?.sha ?? null) !== plan.promotedBlob) {
      return failed(ACTION, `${path} on ${base} changed after the promotion (now ${current ? `blob ${current.sha}` : 'absent'}, promoted blob ${plan.promotedBlob}); not reverting automatically`);
    }
    const tree = await port.createTree(repo, await port.getCommitTree(repo, head), [{ path, mode: '100644', type: 'blob', sha: plan.restoreBlob }]);
    const message = `Revert ${path} to its state before ${plan.promotionMerge.slice(0, 7)}\n\nThe deploy dispatched after Living Bridge merged #${plan.promotionPullRequest} failed: this restores the file as it was before that merge.`;
    const commit = await port.createCommit(repo, message, tree, [head]);
    const existing = await port.getBranchHead(repo, branch);
    if (existing) await port.updateBranch(repo, branch, commit).catch(async () => { throw new Error(`branch ${branch} exists and cannot be fast-forwarded; delete it to let Living Bridge revert`); });
    else await port.createBranch(repo, branch, commit);
    const open = await port.findOpenPullRequest(repo, branch, base);
    const pr = open ?? (await port.createPullRequest(repo, {
      title: `Living Bridge: revert ${path} (rollback of #${plan.promotionPullRequest})`,
      body: [
        `The deploy dispatched after merging #${plan.promotionPullRequest} (${plan.promotionMerge}) failed. This pull request restores \`${path}\` to ${plan.restoreBlob ? `blob ${plan.restoreBlob}` : 'its absence'} (it is blob ${plan.promotedBlob} now).`,
        '',
        'A rollback is never itself rolled back automatically: if the redeploy fails too, a human is asked.',
      ].join('\n'),
      head: branch,
      base,
    }));
    return {
      action: ACTION, ok: true, certified: true, branch, pullRequest: { ...pr, headSha: commit },
      changes: [
        { kind: 'ref', target: `refs/heads/${branch}`, scope: 'repository', op: existing ? 'update' : 'create', before_fingerprint: existing ? `commit:${existing}` : null, after_fingerprint: `commit:${commit}` },
        { kind: 'issue', target: `pull request #${pr.number}`, scope: 'repository', op: open ? 'update' : 'open', before_fingerprint: null, after_fingerprint: `commit:${commit}` },
      ],
      notes: [`Proposed the revert of ${path} in pull request #${pr.number}: ${pr.html_url}`],
    };
  } catch (err) {
    return fromPortError(ACTION, `proposing the revert of ${path}`, err);
  }
}
