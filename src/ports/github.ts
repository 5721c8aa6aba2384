/**
 * The ports engines act through. `src/github` implements them over Octokit (real GitHub or the
 * sandbox); tests may implement them in memory. Engines never see REST paths or octokit.
 */
import type { BranchRules, HeadCheck, MergeMethod, RepoRef } from '../core/schemas/index.js';

export type { BranchRules, CheckState, HeadCheck, MergeMethod } from '../core/schemas/index.js';

/** Where a secret or variable lives: the repository itself or one deployment environment. */
export type Scope = { type: 'repository' } | { type: 'environment'; name: string };
export const REPOSITORY_SCOPE: Scope = { type: 'repository' };
export const scopeLabel = (s: Scope): string => (s.type === 'repository' ? 'repository' : `environment:${s.name}`);

export interface SecretMeta { name: string; created_at: string; updated_at: string }
export interface VariableValue { name: string; value: string; created_at?: string; updated_at?: string }
export interface EnvironmentInfo {
  name: string;
  wait_timer?: number;
  prevent_self_review?: boolean;
  reviewers?: { type: 'User' | 'Team'; id: number }[];
  deployment_branch_policy?: { protected_branches: boolean; custom_branch_policies: boolean } | null;
}

/** A read that may be answered "not modified" from a stored ETag (304s cost no rate limit). */
export interface Conditional<T> { etag: string | null; notModified: boolean; data: T | null }

export interface SecretsPort {
  /** Encrypts `value` with a sealed box against the scope's public key (cached by key_id) and writes it. */
  setSecret(repo: RepoRef, scope: Scope, name: string, value: string): Promise<{ created: boolean }>;
  getSecret(repo: RepoRef, scope: Scope, name: string): Promise<SecretMeta | null>;
  listSecrets(repo: RepoRef, scope: Scope, etag?: string | null): Promise<Conditional<SecretMeta[]>>;
  deleteSecret(repo: RepoRef, scope: Scope, name: string): Promise<void>;
}

export interface VariablesPort {
  getVariable(repo: RepoRef, scope: Scope, name: string): Promise<VariableValue | null>;
  listVariables(repo: RepoRef, scope: Scope, etag?: string | null): Promise<Conditional<VariableValue[]>>;
  /** PATCH, and POST when GitHub answers 404. */
  upsertVariable(repo: RepoRef, scope: Scope, name: string, value: string): Promise<{ created: boolean }>;
  /**
   * POST a variable the caller knows is missing (one request instead of PATCH -> 404 -> POST).
   * Optional: callers fall back to `upsertVariable`. When it already exists (409/422), implementations update it.
   */
  createVariable?(repo: RepoRef, scope: Scope, name: string, value: string): Promise<{ created: boolean }>;
  deleteVariable(repo: RepoRef, scope: Scope, name: string): Promise<void>;
}

export interface EnvironmentsPort {
  listEnvironments(repo: RepoRef, etag?: string | null): Promise<Conditional<EnvironmentInfo[]>>;
  putEnvironment(repo: RepoRef, env: EnvironmentInfo): Promise<void>;
}

export interface WorkflowRun {
  id: number;
  name: string;
  run_attempt: number;
  status: string;
  conclusion: string | null;
  head_sha: string;
  head_branch: string | null;
  event: string;
  html_url: string;
  actor: string | null;
  from_fork: boolean;
  pull_requests: number[];
  workflow_id: number;
  path: string;
  created_at: string;
  updated_at: string;
}
export interface Job { id: number; name: string; conclusion: string | null; status: string; steps: { name: string; conclusion: string | null; number: number }[] }

export interface RunsPort {
  getRun(repo: RepoRef, runId: number, attempt?: number): Promise<WorkflowRun>;
  /** Failed jobs of the run's latest attempt (all pages). */
  listFailedJobs(repo: RepoRef, runId: number): Promise<Job[]>;
  /** The job's log, following GitHub's 302 to the short-lived URL at once; streamed. */
  downloadJobLog(repo: RepoRef, jobId: number): Promise<AsyncIterable<Uint8Array>>;
  rerunFailedJobs(repo: RepoRef, runId: number): Promise<void>;
  /** Last successful run of a workflow on a branch (for rollback). */
  findLastSuccessfulRun(repo: RepoRef, workflowId: number, branch: string): Promise<WorkflowRun | null>;
  /** Re-runs a whole earlier run (used by rollback to redeploy the last good commit). */
  rerunRun(repo: RepoRef, runId: number): Promise<void>;
  /** Head commits of the repository's most recent workflow runs, newest first, without repeats (where anchors are looked for). */
  listRecentRunHeads(repo: RepoRef, limit: number): Promise<string[]>;
  /** Deployments GitHub created for a commit (GET /repos/{o}/{r}/deployments?sha=). Optional: ports without it resolve environments from the workflow file only. */
  listDeployments?(repo: RepoRef, sha: string): Promise<{ environment: string }[]>;
}

export interface IssueRef { number: number; html_url: string }
export interface MarkedIssue extends IssueRef { body: string; state: string }

/** What an idempotent write did: `unchanged` means no request wrote anything (the content hash matched). */
export type EnsureStatus = 'created' | 'updated' | 'unchanged';

/** One issue per marker, kept in place (Renovate's `ensureIssue`). */
export interface EnsureIssueSpec {
  /** The hidden HTML comment the issue is found again by; written into the body when missing. */
  marker: string;
  /** Older markers the same issue may carry (found too; the rewritten body carries `marker`). */
  aliases?: string[];
  title: string;
  /** The body, or a function of the issue found (an occurrence count carried forward, say). */
  body: string | ((existing: MarkedIssue | null) => string);
  /** Labels of a new issue (the adapter adds its own label). */
  labels?: string[];
  /** Default true: a closed issue is reopened. false: it is left closed (its body is still kept current). */
  reopen?: boolean;
}
export interface EnsuredIssue extends IssueRef {
  status: EnsureStatus;
  /** The issue as it was found (null: it was created). */
  previous: MarkedIssue | null;
  /** The body the issue has now (marker and content hash included). */
  body: string;
  state: 'open' | 'closed';
}
export interface EnsuredComment { id: number; html_url: string; created: boolean; status: EnsureStatus }

export interface IssuesPort {
  /** Finds an open or closed issue whose body contains `marker` (a hidden HTML comment). */
  findIssueByMarker(repo: RepoRef, marker: string): Promise<MarkedIssue | null>;
  /** Every open issue whose body contains `marker`, oldest first. */
  listOpenIssuesByMarker(repo: RepoRef, marker: string): Promise<MarkedIssue[]>;
  createIssue(repo: RepoRef, title: string, body: string, labels?: string[]): Promise<IssueRef>;
  updateIssue(repo: RepoRef, number: number, patch: { title?: string; body?: string; state?: 'open' | 'closed' }): Promise<IssueRef>;
  /**
   * The issue of `marker`, created or rewritten in place; no write at all when its title and body
   * hash as they did (and it is open, or `reopen: false`). A create whose answer was lost is found
   * again by the marker, never opened twice.
   */
  ensureIssue(repo: RepoRef, spec: EnsureIssueSpec): Promise<EnsuredIssue>;
  /** Our comment of `marker` on an issue/PR: created, updated, or left alone when its body is unchanged. */
  ensureComment(repo: RepoRef, issueNumber: number, marker: string, body: string): Promise<EnsuredComment>;
  /** Open PR numbers whose head is `sha` (works for fork PRs, unlike workflow_run.pull_requests). */
  pullRequestsForCommit(repo: RepoRef, sha: string): Promise<number[]>;
  /** A user's permission on the repository (who may approve a suggestion). */
  getPermissionLevel(repo: RepoRef, username: string): Promise<'admin' | 'maintain' | 'write' | 'triage' | 'read' | 'none'>;
  createCheckRun(repo: RepoRef, check: { name: string; head_sha: string; conclusion: 'success' | 'failure' | 'neutral' | 'action_required'; title: string; summary: string; text?: string; details_url?: string }): Promise<{ id: number }>;
  /** Check runs named `name` on commit `ref` (all of them, not only the latest), with their output and the App that made each. */
  listCheckRuns(repo: RepoRef, ref: string, name: string): Promise<CheckRunOutput[]>;
}

export interface CheckRunOutput { id: number; app_id: number | null; html_url: string | null; summary: string | null; text: string | null }

export interface FileContent { path: string; content: string; sha: string }
export interface ContentsPort {
  getDefaultBranch(repo: RepoRef): Promise<string>;
  /** null when the file does not exist on `ref`. */
  readFile(repo: RepoRef, path: string, ref?: string): Promise<FileContent | null>;
  /**
   * Whether `branch` exists and is protected (GET /repos/{o}/{r}/branches/{branch}); null when it does
   * not exist. Optional: ports without it skip the protected-branch check.
   */
  branchProtection?(repo: RepoRef, branch: string): Promise<{ protected: boolean } | null>;
}


/** Git data API (blobs, trees, commits, refs): what the ledger writes its branch with. */
export interface GitTreeEntry {
  path: string;
  mode: '100644';
  type: 'blob';
  /** An existing blob, or null to delete the path. Ignored when `content` is given. */
  sha: string | null;
  /** The file's text, written as a new blob by the tree call itself (saves one request per file). */
  content?: string;
}
export interface GitDataPort {
  /** Commit sha the branch points at, or null when the branch does not exist. */
  getBranchHead(repo: RepoRef, branch: string): Promise<string | null>;
  getCommitTree(repo: RepoRef, commitSha: string): Promise<string>;
  /** Every blob path under `prefix` in a tree (recursive), with blob shas. */
  listTree(repo: RepoRef, treeSha: string): Promise<{ path: string; sha: string }[]>;
  /**
   * A commit's tree sha and its recursive blob listing in one request (GitHub's trees endpoint takes a
   * commit sha). Optional: callers fall back to `getCommitTree` + `listTree`.
   */
  readCommitTree?(repo: RepoRef, commitSha: string): Promise<{ tree: string; entries: { path: string; sha: string }[] }>;
  /**
   * Where this port's objects live (e.g. the API base URL), so that ledgers of one process can share
   * a snapshot cache across port instances. Ports without it get a cache of their own.
   */
  readonly cacheScope?: string;
  readBlob(repo: RepoRef, blobSha: string): Promise<string>;
  createBlob(repo: RepoRef, content: string): Promise<string>;
  createTree(repo: RepoRef, baseTree: string | null, entries: GitTreeEntry[]): Promise<string>;
  createCommit(repo: RepoRef, message: string, tree: string, parents: string[]): Promise<string>;
  createBranch(repo: RepoRef, branch: string, commitSha: string): Promise<void>;
  /** Moves the branch with force=false; throws RefConflictError on GitHub's 422 (someone else moved it). */
  updateBranch(repo: RepoRef, branch: string, commitSha: string): Promise<void>;
  /** Opens a pull request (env sync proposes environment.json changes this way, never by pushing to the default branch). */
  createPullRequest(repo: RepoRef, pr: { title: string; body: string; head: string; base: string }): Promise<{ number: number; html_url: string }>;
  findOpenPullRequest(repo: RepoRef, head: string, base: string): Promise<{ number: number; html_url: string } | null>;
}

/** Proposing a change through a pull request, never by pushing to the base branch. */
export interface ProposalsPort {
  /**
   * Writes one file onto `branch` (created from `base`, or moved fast-forward with `base` merged in)
   * and keeps one open pull request from it into `base`. Skips the commit when the branch already
   * holds the content, and never touches `base`.
   */
  proposeFile(repo: RepoRef, proposal: FileProposal): Promise<ProposedFile>;
}

export interface FileProposal {
  branch: string;
  base: string;
  path: string;
  content: string;
  /** Commit message of the proposal commit. */
  message: string;
  /** The pull request opened when none is open from `branch` into `base`. */
  pr: { title: string; body: string };
  /**
   * Whether the file found on an existing `branch` already is the proposal (default: the same text).
   * Env sync compares the parsed inventory, not the bytes.
   */
  sameAs?: (onBranch: string) => boolean;
}
export interface ProposedFile {
  /** The git blob id of the proposed content (or of the equivalent file already on the branch). */
  blobSha: string;
  /** Branch head before and after (equal when nothing was committed). */
  branchBefore: string | null;
  commitSha: string;
  committed: boolean;
  pullRequest: { number: number; html_url: string; created: boolean };
}

export interface PullRequestInfo {
  number: number;
  html_url: string;
  state: 'open' | 'closed';
  merged: boolean;
  /** null while GitHub is still computing it. */
  mergeable: boolean | null;
  head_sha: string;
  head_ref: string;
  base_ref: string;
  merge_commit_sha: string | null;
}


/** What the config loop needs beyond proposing: checks, protection, merging, dispatching. */
export interface PromotionPort {
  getPullRequest(repo: RepoRef, number: number): Promise<PullRequestInfo>;
  /** The latest check run per name and commit status per context on a commit. */
  listHeadChecks(repo: RepoRef, sha: string): Promise<HeadCheck[]>;
  /** null: the branch is not protected. */
  getBranchRules(repo: RepoRef, branch: string): Promise<BranchRules | null>;
  /** null: GitHub does not show this token the repository's merge settings. */
  getMergeMethods(repo: RepoRef): Promise<Record<MergeMethod, boolean> | null>;
  /** Throws MergeRefusedError when GitHub refuses. */
  mergePullRequest(repo: RepoRef, number: number, opts: { method: MergeMethod; sha: string; title: string; message: string }): Promise<{ sha: string }>;
  /** runId when GitHub returned it (return_run_details), else null (find it with findRuns). */
  dispatchWorkflow(repo: RepoRef, workflow: string | number, ref: string): Promise<{ runId: number | null }>;
  findRuns(repo: RepoRef, workflow: string | number, filter: { event: string; branch: string; headSha: string }): Promise<WorkflowRun[]>;
}

/** Everything engines and pipelines may do to GitHub. */
export interface GitHubPort extends SecretsPort, VariablesPort, EnvironmentsPort, RunsPort, IssuesPort, ContentsPort, GitDataPort, ProposalsPort {
  /** The config loop's calls; a port without them stops the loop at the pull request. */
  readonly promotion?: PromotionPort;
}
