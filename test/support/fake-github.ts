/**
 * FakeGitHub: an in-memory implementation of every method of `GitHubPort` (src/ports/) for
 * unit tests of engines and pipelines. (The sandbox in src/sandbox is the REST-level stand-in for
 * end-to-end tests; this fake sits one level up, at the port.)
 *
 * - Repositories are created on first use (`owner/repo`), with a default branch `main` holding one
 *   empty commit. `seedFiles` commits files; `readFile` reads through the git data model, so files,
 *   blobs, trees, commits, branches and pull requests stay consistent. Blob SHAs are real git blob
 *   hashes. `updateBranch` throws `RefConflictError` when the move is not a fast-forward.
 * - Secrets are stored in plaintext privately (`secretValue()` lets a test check what was written);
 *   `getSecret`/`listSecrets` expose only names and timestamps, like GitHub. Environment-scoped secrets
 *   and variables need the environment to exist (`putEnvironment` / `addEnvironment`), else 404.
 * - Timestamps come from `options.now` when given; otherwise from an internal clock that starts at
 *   2026-01-01T00:00:00Z and ticks one second per write (GitHub's timestamps have one-second resolution).
 * - List reads return an ETag; passing it back answers `notModified` while nothing changed.
 * - Runs: `addRun`, `addJob` (with a log), `completeRun`. `rerunFailedJobs`/`rerunRun` start a new
 *   attempt (queued) and refuse in-progress runs and runs at attempt 50, as GitHub does.
 * - Issues, pull requests (shared numbering), marker comments (`ensureComment` skips an unchanged
 *   body), check runs, and users' permission levels (`setPermissionLevel`; the owner is admin, anyone
 *   else `none` by default). `ensureIssue`/`proposeFile` are the shared implementations
 *   (src/ports/ensure.ts) over the primitives, so each primitive call is logged and can be failed.
 * - Failure injection: `deny(method, permission)` makes a method throw a `GitHubPermissionError`-shaped
 *   error (name + `permission`, status 403); `asGitHubToken()` denies what an Action's GITHUB_TOKEN
 *   cannot do (secrets, variables, environment admin, commits touching .github/workflows/);
 *   `failNext(method, error)` throws once.
 * - `calls` logs every port call in order (the secret value of `setSecret` is redacted).
 */
import { createHash } from 'node:crypto';
import type { RepoRef } from '../../src/core/schemas/index.js';
import {
  RefConflictError,
  ensureIssueWith,
  findByMarkers,
  proposeFileWith,
  scopeLabel,
  type CheckRunOutput,
  type EnsuredComment,
  type EnsuredIssue,
  type EnsureIssueSpec,
  type FileProposal,
  type ProposedFile,
  type Conditional,
  type EnvironmentInfo,
  type FileContent,
  type GitHubPort,
  type GitTreeEntry,
  type IssueRef,
  type Job,
  type Scope,
  type SecretMeta,
  type VariableValue,
  type WorkflowRun,
} from '../../src/ports/index.js';

export type PortMethod = keyof GitHubPort;

/** An HTTP-ish failure of the fake (404, 422, ...). */
export class FakeGitHubError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
    this.name = 'FakeGitHubError';
  }
}

/** Shaped like src/github's GitHubPermissionError: engines detect it by `name` and `permission`. */
export class FakePermissionError extends Error {
  readonly status = 403;
  constructor(readonly permission: string, method: string) {
    super(`Resource not accessible by integration (${method} needs ${permission})`);
    this.name = 'GitHubPermissionError';
  }
}

/** What a workflow's GITHUB_TOKEN cannot do, by port method -> the App permission it would need. */
export const GITHUB_TOKEN_DENIED: Partial<Record<PortMethod, string>> = {
  setSecret: 'secrets',
  getSecret: 'secrets',
  listSecrets: 'secrets',
  deleteSecret: 'secrets',
  getVariable: 'actions_variables',
  listVariables: 'actions_variables',
  upsertVariable: 'actions_variables',
  deleteVariable: 'actions_variables',
  putEnvironment: 'administration',
};

export interface FakeGitHubOptions {
  /** Clock for created_at/updated_at. Default: an internal clock ticking 1s per write. */
  now?: () => Date;
  defaultBranch?: string;
  /** Chunk size of `downloadJobLog` streams (default 16 KiB). */
  logChunkSize?: number;
}

export type PermissionLevel = 'admin' | 'maintain' | 'write' | 'triage' | 'read' | 'none';

export interface FakeCall { method: PortMethod; repo: string; args: unknown[] }

interface StoredSecret { value: string; created_at: string; updated_at: string }
interface StoredCommit { tree: string; parents: string[]; message: string; date: string }
export interface FakeIssue {
  number: number;
  title: string;
  body: string;
  state: 'open' | 'closed';
  labels: string[];
  html_url: string;
  comments: { id: number; body: string; html_url: string }[];
}
export interface FakePullRequest {
  number: number;
  title: string;
  body: string;
  head: string;
  base: string;
  state: 'open' | 'closed' | 'merged';
  html_url: string;
  /** Fixed head sha (e.g. a fork PR whose branch is not in this repo); else the head branch's head. */
  headSha?: string;
  comments: { id: number; body: string; html_url: string }[];
}
export interface FakeCheckRun { id: number; name: string; head_sha: string; conclusion: string; title: string; summary: string; text?: string; details_url?: string }

interface RepoState {
  full: string;
  defaultBranch: string;
  secrets: Map<string, Map<string, StoredSecret>>;
  variables: Map<string, Map<string, VariableValue & { created_at: string; updated_at: string }>>;
  environments: Map<string, EnvironmentInfo>;
  /** run id -> attempts (index attempt-1). */
  runs: Map<number, WorkflowRun[]>;
  /** `${runId}#${attempt}` -> jobs. */
  jobs: Map<string, Job[]>;
  logs: Map<number, string>;
  issues: Map<number, FakeIssue>;
  pulls: Map<number, FakePullRequest>;
  checkRuns: FakeCheckRun[];
  /** lower-cased login -> permission. */
  collaborators: Map<string, PermissionLevel>;
  blobs: Map<string, string>;
  trees: Map<string, Map<string, string>>;
  commits: Map<string, StoredCommit>;
  branches: Map<string, string>;
}

const iso = (d: Date): string => d.toISOString().replace(/\.\d{3}Z$/, 'Z');
const sha1 = (s: string): string => createHash('sha1').update(s).digest('hex');
const gitBlobSha = (content: string): string => {
  const bytes = Buffer.from(content, 'utf8');
  return createHash('sha1').update(Buffer.concat([Buffer.from(`blob ${bytes.length}\0`), bytes])).digest('hex');
};

export class FakeGitHub implements GitHubPort {
  readonly calls: FakeCall[] = [];
  private readonly repos = new Map<string, RepoState>();
  private readonly denied = new Map<PortMethod, string>();
  private readonly pending = new Map<PortMethod, Error[]>();
  private denyWorkflowFiles = false;
  private clockMs = Date.parse('2026-01-01T00:00:00Z');
  private nextId = 1000;
  private nextCommentId = 5000;
  private readonly defaultBranch: string;
  private readonly logChunkSize: number;

  constructor(private readonly options: FakeGitHubOptions = {}) {
    this.defaultBranch = options.defaultBranch ?? 'main';
    this.logChunkSize = options.logChunkSize ?? 16 * 1024;
  }

  // ---------------------------------------------------------------- test controls

  /** Makes `method` throw a permission error naming `permission` (until `allow`). */
  deny(method: PortMethod, permission: string): this {
    this.denied.set(method, permission);
    return this;
  }

  allow(method: PortMethod): this {
    this.denied.delete(method);
    return this;
  }

  /** Simulates an Action's GITHUB_TOKEN: no secrets, variables, environment admin or workflow-file commits. */
  asGitHubToken(): this {
    for (const [m, p] of Object.entries(GITHUB_TOKEN_DENIED)) this.deny(m as PortMethod, p);
    this.denyWorkflowFiles = true;
    return this;
  }

  /** The next call of `method` throws `error` (queued, one per call). */
  failNext(method: PortMethod, error: Error): this {
    const q = this.pending.get(method) ?? [];
    q.push(error);
    this.pending.set(method, q);
    return this;
  }

  /** Current time of the fake (the injected clock, or the internal one). */
  now(): Date {
    return this.options.now ? this.options.now() : new Date(this.clockMs);
  }

  /** Advances the internal clock (no effect with an injected clock). */
  advance(ms: number): this {
    this.clockMs += ms;
    return this;
  }

  callsTo(method: PortMethod): FakeCall[] {
    return this.calls.filter((c) => c.method === method);
  }

  // ---------------------------------------------------------------- inspection & seeding

  /** The plaintext of a stored secret (tests only; the port never exposes it). */
  secretValue(repo: RepoRef, scope: Scope, name: string): string | undefined {
    return this.state(repo).secrets.get(scopeLabel(scope))?.get(name)?.value;
  }

  /** Writes a secret directly, without a port call (seeding). */
  seedSecret(repo: RepoRef, scope: Scope, name: string, value: string): SecretMeta {
    const at = this.stamp();
    const bag = this.scopeBag(this.state(repo).secrets, repo, scope);
    const prev = bag.get(name);
    bag.set(name, { value, created_at: prev?.created_at ?? at, updated_at: at });
    return { name, created_at: prev?.created_at ?? at, updated_at: at };
  }

  seedVariable(repo: RepoRef, scope: Scope, name: string, value: string): void {
    const at = this.stamp();
    this.scopeBag(this.state(repo).variables, repo, scope).set(name, { name, value, created_at: at, updated_at: at });
  }

  /** A user's permission on the repository (`getPermissionLevel`); the repo owner is admin, others none by default. */
  setPermissionLevel(repo: RepoRef, username: string, level: PermissionLevel): void {
    this.state(repo).collaborators.set(username.toLowerCase(), level);
  }

  addEnvironment(repo: RepoRef, env: EnvironmentInfo | string): void {
    const info = typeof env === 'string' ? { name: env } : env;
    this.state(repo).environments.set(info.name, { ...info });
  }

  /** Commits `files` on `branch` (default branch by default; created from the default branch if missing). Returns the commit sha. */
  seedFiles(repo: RepoRef, files: Record<string, string | null>, opts: { branch?: string; message?: string } = {}): string {
    const s = this.state(repo);
    const branch = opts.branch ?? s.defaultBranch;
    const parent = s.branches.get(branch) ?? s.branches.get(s.defaultBranch) ?? null;
    const baseTree = parent ? this.commitOf(s, parent).tree : null;
    const entries: GitTreeEntry[] = Object.entries(files).map(([path, content]) => ({
      path, mode: '100644', type: 'blob', sha: content === null ? null : this.putBlob(s, content),
    }));
    const tree = this.putTree(s, baseTree, entries);
    const commit = this.putCommit(s, opts.message ?? 'seed', tree, parent ? [parent] : []);
    s.branches.set(branch, commit);
    return commit;
  }

  /** Files of a branch or commit, path -> content. */
  filesAt(repo: RepoRef, ref: string): Record<string, string> {
    const s = this.state(repo);
    const commit = this.resolveRef(s, ref);
    const out: Record<string, string> = {};
    for (const [path, blob] of this.treeOf(s, this.commitOf(s, commit).tree)) out[path] = s.blobs.get(blob) ?? '';
    return out;
  }

  branchHead(repo: RepoRef, branch: string): string | null {
    return this.state(repo).branches.get(branch) ?? null;
  }

  commitParents(repo: RepoRef, sha: string): string[] {
    return [...this.commitOf(this.state(repo), sha).parents];
  }

  /** Adds a run (defaults: completed failure of "Build & Deploy" on main, attempt 1). */
  addRun(repo: RepoRef, run: Partial<WorkflowRun> = {}): WorkflowRun {
    const s = this.state(repo);
    const id = run.id ?? this.nextId++;
    const at = run.created_at ?? this.stamp();
    const attempt = run.run_attempt ?? 1;
    const full: WorkflowRun = {
      id,
      name: 'Build & Deploy',
      run_attempt: attempt,
      status: 'completed',
      conclusion: 'failure',
      head_sha: sha1(`head:${s.full}:${id}`),
      head_branch: s.defaultBranch,
      event: 'push',
      html_url: `https://github.com/${s.full}/actions/runs/${id}`,
      actor: 'octocat',
      from_fork: false,
      pull_requests: [],
      workflow_id: 1,
      path: '.github/workflows/deploy.yml',
      created_at: at,
      updated_at: at,
      ...run,
    };
    // Earlier attempts (when seeding at attempt n) are copies that failed.
    const attempts: WorkflowRun[] = [];
    for (let a = 1; a < attempt; a++) attempts.push({ ...full, run_attempt: a, status: 'completed', conclusion: 'failure' });
    attempts.push(full);
    s.runs.set(id, attempts);
    return { ...full };
  }

  /** Adds a job (with its log) to the latest attempt of a run. */
  addJob(repo: RepoRef, runId: number, job: Partial<Job> & { log?: string } = {}): Job {
    const s = this.state(repo);
    const run = this.latest(s, runId);
    const { log, ...rest } = job;
    const full: Job = { id: this.nextId++, name: 'deploy', conclusion: 'failure', status: 'completed', steps: [], ...rest };
    const key = `${runId}#${run.run_attempt}`;
    s.jobs.set(key, [...(s.jobs.get(key) ?? []), full]);
    s.logs.set(full.id, log ?? '');
    return { ...full, steps: full.steps.map((x) => ({ ...x })) };
  }

  /** Completes the latest attempt of a run (jobs that were queued get the same conclusion). */
  completeRun(repo: RepoRef, runId: number, conclusion: 'success' | 'failure' | 'cancelled'): WorkflowRun {
    const s = this.state(repo);
    const run = this.latest(s, runId);
    run.status = 'completed';
    run.conclusion = conclusion;
    run.updated_at = this.stamp();
    for (const j of s.jobs.get(`${runId}#${run.run_attempt}`) ?? []) {
      if (j.status !== 'completed') {
        j.status = 'completed';
        j.conclusion = conclusion;
      }
    }
    return { ...run };
  }

  issue(repo: RepoRef, number: number): FakeIssue | undefined {
    return this.state(repo).issues.get(number);
  }

  issues(repo: RepoRef): FakeIssue[] {
    return [...this.state(repo).issues.values()];
  }

  pullRequests(repo: RepoRef): FakePullRequest[] {
    return [...this.state(repo).pulls.values()];
  }

  checkRuns(repo: RepoRef): FakeCheckRun[] {
    return [...this.state(repo).checkRuns];
  }

  /** Adds a pull request directly (e.g. a fork PR with a fixed `headSha`). */
  addPullRequest(repo: RepoRef, pr: { head: string; base?: string; title?: string; body?: string; headSha?: string; state?: FakePullRequest['state'] }): FakePullRequest {
    const s = this.state(repo);
    const number = this.nextNumber(s);
    const full: FakePullRequest = {
      number, title: pr.title ?? `PR from ${pr.head}`, body: pr.body ?? '', head: pr.head, base: pr.base ?? s.defaultBranch,
      state: pr.state ?? 'open', html_url: `https://github.com/${s.full}/pull/${number}`, comments: [],
      ...(pr.headSha ? { headSha: pr.headSha } : {}),
    };
    s.pulls.set(number, full);
    return full;
  }

  /** Merges an open PR: the base branch gets a merge commit with the head's tree. */
  mergePullRequest(repo: RepoRef, number: number): string {
    const s = this.state(repo);
    const pr = s.pulls.get(number);
    if (!pr || pr.state !== 'open') throw new FakeGitHubError(405, `pull request #${number} is not open`);
    const head = s.branches.get(pr.head);
    const base = s.branches.get(pr.base);
    if (!head || !base) throw new FakeGitHubError(422, 'head or base branch missing');
    const merge = this.putCommit(s, `Merge pull request #${number} from ${pr.head}`, this.commitOf(s, head).tree, [base, head]);
    s.branches.set(pr.base, merge);
    pr.state = 'merged';
    return merge;
  }

  // ---------------------------------------------------------------- SecretsPort

  async setSecret(repo: RepoRef, scope: Scope, name: string, value: string): Promise<{ created: boolean }> {
    this.enter('setSecret', repo, [scope, name, '<redacted>']);
    const bag = this.scopeBag(this.state(repo).secrets, repo, scope);
    const prev = bag.get(name);
    const at = this.stamp();
    bag.set(name, { value, created_at: prev?.created_at ?? at, updated_at: at });
    return { created: !prev };
  }

  async getSecret(repo: RepoRef, scope: Scope, name: string): Promise<SecretMeta | null> {
    this.enter('getSecret', repo, [scope, name]);
    const rec = this.scopeBag(this.state(repo).secrets, repo, scope).get(name);
    return rec ? { name, created_at: rec.created_at, updated_at: rec.updated_at } : null;
  }

  async listSecrets(repo: RepoRef, scope: Scope, etag?: string | null): Promise<Conditional<SecretMeta[]>> {
    this.enter('listSecrets', repo, [scope, etag ?? null]);
    const bag = this.scopeBag(this.state(repo).secrets, repo, scope);
    const data = [...bag.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([name, r]) => ({ name, created_at: r.created_at, updated_at: r.updated_at }));
    return this.conditional(data, etag);
  }

  async deleteSecret(repo: RepoRef, scope: Scope, name: string): Promise<void> {
    this.enter('deleteSecret', repo, [scope, name]);
    const bag = this.scopeBag(this.state(repo).secrets, repo, scope);
    if (!bag.delete(name)) throw new FakeGitHubError(404, `secret ${name} not found`);
  }

  // ---------------------------------------------------------------- VariablesPort

  async getVariable(repo: RepoRef, scope: Scope, name: string): Promise<VariableValue | null> {
    this.enter('getVariable', repo, [scope, name]);
    const v = this.scopeBag(this.state(repo).variables, repo, scope).get(name);
    return v ? { ...v } : null;
  }

  async listVariables(repo: RepoRef, scope: Scope, etag?: string | null): Promise<Conditional<VariableValue[]>> {
    this.enter('listVariables', repo, [scope, etag ?? null]);
    const bag = this.scopeBag(this.state(repo).variables, repo, scope);
    const data = [...bag.values()].sort((a, b) => a.name.localeCompare(b.name)).map((v) => ({ ...v }));
    return this.conditional(data, etag);
  }

  async upsertVariable(repo: RepoRef, scope: Scope, name: string, value: string): Promise<{ created: boolean }> {
    this.enter('upsertVariable', repo, [scope, name, value]);
    const bag = this.scopeBag(this.state(repo).variables, repo, scope);
    const prev = bag.get(name);
    const at = this.stamp();
    bag.set(name, { name, value, created_at: prev?.created_at ?? at, updated_at: at });
    return { created: !prev };
  }

  async deleteVariable(repo: RepoRef, scope: Scope, name: string): Promise<void> {
    this.enter('deleteVariable', repo, [scope, name]);
    if (!this.scopeBag(this.state(repo).variables, repo, scope).delete(name)) throw new FakeGitHubError(404, `variable ${name} not found`);
  }

  // ---------------------------------------------------------------- EnvironmentsPort

  async listEnvironments(repo: RepoRef, etag?: string | null): Promise<Conditional<EnvironmentInfo[]>> {
    this.enter('listEnvironments', repo, [etag ?? null]);
    const data = [...this.state(repo).environments.values()].sort((a, b) => a.name.localeCompare(b.name)).map((e) => structuredClone(e));
    return this.conditional(data, etag);
  }

  async putEnvironment(repo: RepoRef, env: EnvironmentInfo): Promise<void> {
    this.enter('putEnvironment', repo, [env]);
    const s = this.state(repo);
    const prev = s.environments.get(env.name) ?? { name: env.name };
    const next: EnvironmentInfo = { ...prev };
    for (const [k, v] of Object.entries(env)) if (v !== undefined) (next as unknown as Record<string, unknown>)[k] = structuredClone(v);
    s.environments.set(env.name, next);
  }

  // ---------------------------------------------------------------- RunsPort

  async getRun(repo: RepoRef, runId: number, attempt?: number): Promise<WorkflowRun> {
    this.enter('getRun', repo, [runId, attempt ?? null]);
    const attempts = this.state(repo).runs.get(runId);
    const run = attempts && (attempt === undefined ? attempts.at(-1) : attempts[attempt - 1]);
    if (!run) throw new FakeGitHubError(404, `run ${runId}${attempt ? ` attempt ${attempt}` : ''} not found`);
    return { ...run, pull_requests: [...run.pull_requests] };
  }

  async listFailedJobs(repo: RepoRef, runId: number): Promise<Job[]> {
    this.enter('listFailedJobs', repo, [runId]);
    const s = this.state(repo);
    const run = this.latest(s, runId);
    return (s.jobs.get(`${runId}#${run.run_attempt}`) ?? [])
      .filter((j) => j.conclusion === 'failure')
      .map((j) => ({ ...j, steps: j.steps.map((x) => ({ ...x })) }));
  }

  async downloadJobLog(repo: RepoRef, jobId: number): Promise<AsyncIterable<Uint8Array>> {
    this.enter('downloadJobLog', repo, [jobId]);
    const log = this.state(repo).logs.get(jobId);
    if (log === undefined) throw new FakeGitHubError(404, `job ${jobId} not found`);
    const bytes = Buffer.from(log, 'utf8');
    const size = this.logChunkSize;
    return {
      async *[Symbol.asyncIterator]() {
        for (let i = 0; i < bytes.length; i += size) yield new Uint8Array(bytes.subarray(i, i + size));
      },
    };
  }

  async rerunFailedJobs(repo: RepoRef, runId: number): Promise<void> {
    this.enter('rerunFailedJobs', repo, [runId]);
    this.startAttempt(this.state(repo), runId, 'failed');
  }

  async findLastSuccessfulRun(repo: RepoRef, workflowId: number, branch: string): Promise<WorkflowRun | null> {
    this.enter('findLastSuccessfulRun', repo, [workflowId, branch]);
    const candidates = [...this.state(repo).runs.values()]
      .map((a) => a.at(-1))
      .filter((r): r is WorkflowRun => !!r && r.workflow_id === workflowId && r.head_branch === branch && r.status === 'completed' && r.conclusion === 'success')
      .sort((a, b) => (a.created_at === b.created_at ? b.id - a.id : b.created_at.localeCompare(a.created_at)));
    const best = candidates[0];
    return best ? { ...best } : null;
  }

  async rerunRun(repo: RepoRef, runId: number): Promise<void> {
    this.enter('rerunRun', repo, [runId]);
    this.startAttempt(this.state(repo), runId, 'all');
  }

  // ---------------------------------------------------------------- IssuesPort

  async findIssueByMarker(repo: RepoRef, marker: string): Promise<(IssueRef & { body: string; state: string }) | null> {
    this.enter('findIssueByMarker', repo, [marker]);
    const hit = [...this.state(repo).issues.values()].sort((a, b) => a.number - b.number).find((i) => i.body.includes(marker));
    return hit ? { number: hit.number, html_url: hit.html_url, body: hit.body, state: hit.state } : null;
  }

  async listOpenIssuesByMarker(repo: RepoRef, marker: string): Promise<(IssueRef & { body: string; state: string })[]> {
    this.enter('listOpenIssuesByMarker', repo, [marker]);
    return [...this.state(repo).issues.values()]
      .filter((i) => i.state === 'open' && i.body.includes(marker))
      .sort((a, b) => a.number - b.number)
      .map((i) => ({ number: i.number, html_url: i.html_url, body: i.body, state: i.state }));
  }

  async createIssue(repo: RepoRef, title: string, body: string, labels: string[] = []): Promise<IssueRef> {
    this.enter('createIssue', repo, [title, body, labels]);
    const s = this.state(repo);
    const number = this.nextNumber(s);
    const html_url = `https://github.com/${s.full}/issues/${number}`;
    s.issues.set(number, { number, title, body, state: 'open', labels: [...labels], html_url, comments: [] });
    return { number, html_url };
  }

  async updateIssue(repo: RepoRef, number: number, patch: { title?: string; body?: string; state?: 'open' | 'closed' }): Promise<IssueRef> {
    this.enter('updateIssue', repo, [number, patch]);
    const issue = this.state(repo).issues.get(number);
    if (!issue) throw new FakeGitHubError(404, `issue #${number} not found`);
    if (patch.title !== undefined) issue.title = patch.title;
    if (patch.body !== undefined) issue.body = patch.body;
    if (patch.state !== undefined) issue.state = patch.state;
    return { number, html_url: issue.html_url };
  }

  /** The shared ensureIssue (src/ports/ensure.ts) over this fake's findIssueByMarker/createIssue/updateIssue, each logged. */
  async ensureIssue(repo: RepoRef, spec: EnsureIssueSpec): Promise<EnsuredIssue> {
    this.enter('ensureIssue', repo, [spec.marker, spec.title]);
    return ensureIssueWith({ find: findByMarkers(this), createIssue: (...a) => this.createIssue(...a), updateIssue: (...a) => this.updateIssue(...a) }, repo, spec, async () => undefined);
  }

  async ensureComment(repo: RepoRef, issueNumber: number, marker: string, body: string): Promise<EnsuredComment> {
    this.enter('ensureComment', repo, [issueNumber, marker, body]);
    const s = this.state(repo);
    const thread = s.issues.get(issueNumber) ?? s.pulls.get(issueNumber);
    if (!thread) throw new FakeGitHubError(404, `issue or pull request #${issueNumber} not found`);
    const text = body.includes(marker) ? body : `${marker}\n${body}`;
    const existing = thread.comments.find((c) => c.body.includes(marker));
    if (existing && existing.body === text) return { id: existing.id, html_url: existing.html_url, created: false, status: 'unchanged' };
    if (existing) {
      existing.body = text;
      return { id: existing.id, html_url: existing.html_url, created: false, status: 'updated' };
    }
    const id = this.nextCommentId++;
    const html_url = `${thread.html_url}#issuecomment-${id}`;
    thread.comments.push({ id, body: text, html_url });
    return { id, html_url, created: true, status: 'created' };
  }

  async pullRequestsForCommit(repo: RepoRef, sha: string): Promise<number[]> {
    this.enter('pullRequestsForCommit', repo, [sha]);
    const s = this.state(repo);
    return [...s.pulls.values()]
      .filter((p) => p.state === 'open' && (p.headSha ?? s.branches.get(p.head)) === sha)
      .map((p) => p.number)
      .sort((a, b) => a - b);
  }

  async getPermissionLevel(repo: RepoRef, username: string): Promise<PermissionLevel> {
    this.enter('getPermissionLevel', repo, [username]);
    const s = this.state(repo);
    return s.collaborators.get(username.toLowerCase()) ?? (username.toLowerCase() === repo.owner.toLowerCase() ? 'admin' : 'none');
  }

  async listCheckRuns(repo: RepoRef, ref: string, name: string): Promise<CheckRunOutput[]> {
    this.enter('listCheckRuns', repo, [ref, name]);
    return this.state(repo).checkRuns.filter((c) => c.head_sha === ref && c.name === name).reverse()
      .map((c) => ({ id: c.id, app_id: 1, html_url: null, summary: c.summary, text: c.text ?? null }));
  }

  async listRecentRunHeads(repo: RepoRef, limit: number): Promise<string[]> {
    this.enter('listRecentRunHeads', repo, [limit]);
    const runs = [...this.state(repo).runs.values()].map((attempts) => attempts.at(-1)!).sort((a, b) => b.id - a.id);
    return [...new Set(runs.map((r) => r.head_sha))].slice(0, limit);
  }

  async createCheckRun(repo: RepoRef, check: { name: string; head_sha: string; conclusion: 'success' | 'failure' | 'neutral' | 'action_required'; title: string; summary: string; text?: string; details_url?: string }): Promise<{ id: number }> {
    this.enter('createCheckRun', repo, [check]);
    const id = this.nextId++;
    this.state(repo).checkRuns.push({ id, ...check });
    return { id };
  }

  // ---------------------------------------------------------------- ContentsPort

  async getDefaultBranch(repo: RepoRef): Promise<string> {
    this.enter('getDefaultBranch', repo, []);
    return this.state(repo).defaultBranch;
  }

  async readFile(repo: RepoRef, path: string, ref?: string): Promise<FileContent | null> {
    this.enter('readFile', repo, [path, ref ?? null]);
    const s = this.state(repo);
    const commit = this.resolveRef(s, ref ?? s.defaultBranch);
    const blob = this.treeOf(s, this.commitOf(s, commit).tree).get(path);
    if (!blob) return null;
    return { path, content: s.blobs.get(blob) ?? '', sha: blob };
  }

  // ---------------------------------------------------------------- GitDataPort

  async getBranchHead(repo: RepoRef, branch: string): Promise<string | null> {
    this.enter('getBranchHead', repo, [branch]);
    return this.state(repo).branches.get(branch) ?? null;
  }

  async getCommitTree(repo: RepoRef, commitSha: string): Promise<string> {
    this.enter('getCommitTree', repo, [commitSha]);
    const s = this.state(repo);
    return this.commitOf(s, commitSha).tree;
  }

  async listTree(repo: RepoRef, treeSha: string): Promise<{ path: string; sha: string }[]> {
    this.enter('listTree', repo, [treeSha]);
    const s = this.state(repo);
    return [...this.treeOf(s, treeSha)].sort(([a], [b]) => a.localeCompare(b)).map(([path, sha]) => ({ path, sha }));
  }

  async readBlob(repo: RepoRef, blobSha: string): Promise<string> {
    this.enter('readBlob', repo, [blobSha]);
    const content = this.state(repo).blobs.get(blobSha);
    if (content === undefined) throw new FakeGitHubError(404, `blob ${blobSha} not found`);
    return content;
  }

  async createBlob(repo: RepoRef, content: string): Promise<string> {
    this.enter('createBlob', repo, [`<${content.length} chars>`]);
    return this.putBlob(this.state(repo), content);
  }

  async createTree(repo: RepoRef, baseTree: string | null, entries: GitTreeEntry[]): Promise<string> {
    this.enter('createTree', repo, [baseTree, entries]);
    const s = this.state(repo);
    for (const e of entries) if (e.content === undefined && e.sha !== null && !s.blobs.has(e.sha)) throw new FakeGitHubError(422, `tree entry ${e.path}: unknown blob ${e.sha}`);
    return this.putTree(s, baseTree, entries);
  }

  async createCommit(repo: RepoRef, message: string, tree: string, parents: string[]): Promise<string> {
    this.enter('createCommit', repo, [message, tree, parents]);
    const s = this.state(repo);
    if (!s.trees.has(tree)) throw new FakeGitHubError(422, `unknown tree ${tree}`);
    for (const p of parents) this.commitOf(s, p);
    return this.putCommit(s, message, tree, parents);
  }

  async createBranch(repo: RepoRef, branch: string, commitSha: string): Promise<void> {
    this.enter('createBranch', repo, [branch, commitSha]);
    const s = this.state(repo);
    if (s.branches.has(branch)) throw new FakeGitHubError(422, 'Reference already exists');
    this.commitOf(s, commitSha);
    this.checkWorkflowFiles(s, s.branches.get(s.defaultBranch) ?? null, commitSha, 'createBranch');
    s.branches.set(branch, commitSha);
  }

  async updateBranch(repo: RepoRef, branch: string, commitSha: string): Promise<void> {
    this.enter('updateBranch', repo, [branch, commitSha]);
    const s = this.state(repo);
    const current = s.branches.get(branch);
    if (!current) throw new FakeGitHubError(422, 'Reference does not exist');
    this.commitOf(s, commitSha);
    if (!this.isAncestor(s, current, commitSha)) throw new RefConflictError(`heads/${branch}`);
    this.checkWorkflowFiles(s, current, commitSha, 'updateBranch');
    s.branches.set(branch, commitSha);
  }

  async createPullRequest(repo: RepoRef, pr: { title: string; body: string; head: string; base: string }): Promise<{ number: number; html_url: string }> {
    this.enter('createPullRequest', repo, [pr]);
    const s = this.state(repo);
    const head = s.branches.get(pr.head);
    const base = s.branches.get(pr.base);
    if (!head) throw new FakeGitHubError(422, `head branch ${pr.head} not found`);
    if (!base) throw new FakeGitHubError(422, `base branch ${pr.base} not found`);
    if (pr.head === pr.base) throw new FakeGitHubError(422, 'head and base are the same branch');
    if ([...s.pulls.values()].some((p) => p.state === 'open' && p.head === pr.head && p.base === pr.base)) {
      throw new FakeGitHubError(422, `A pull request already exists for ${pr.head}`);
    }
    if (this.isAncestor(s, head, base)) throw new FakeGitHubError(422, `No commits between ${pr.base} and ${pr.head}`);
    const created = this.addPullRequest(repo, { head: pr.head, base: pr.base, title: pr.title, body: pr.body });
    return { number: created.number, html_url: created.html_url };
  }

  async findOpenPullRequest(repo: RepoRef, head: string, base: string): Promise<{ number: number; html_url: string } | null> {
    this.enter('findOpenPullRequest', repo, [head, base]);
    const hit = [...this.state(repo).pulls.values()].find((p) => p.state === 'open' && p.head === head && p.base === base);
    return hit ? { number: hit.number, html_url: hit.html_url } : null;
  }

  /** The shared proposeFile (src/ports/ensure.ts) over this fake's git data and pull requests, each logged. */
  async proposeFile(repo: RepoRef, proposal: FileProposal): Promise<ProposedFile> {
    this.enter('proposeFile', repo, [proposal.branch, proposal.base, proposal.path]);
    return proposeFileWith(this, repo, proposal);
  }

  // ---------------------------------------------------------------- internals

  private enter(method: PortMethod, repo: RepoRef, args: unknown[]): void {
    this.calls.push({ method, repo: `${repo.owner}/${repo.repo}`, args });
    const permission = this.denied.get(method);
    if (permission) throw new FakePermissionError(permission, method);
    const queued = this.pending.get(method);
    const err = queued?.shift();
    if (err) throw err;
  }

  private stamp(): string {
    if (!this.options.now) this.clockMs += 1000;
    return iso(this.now());
  }

  private state(repo: RepoRef): RepoState {
    const full = `${repo.owner}/${repo.repo}`;
    let s = this.repos.get(full);
    if (!s) {
      s = {
        full, defaultBranch: this.defaultBranch, secrets: new Map(), variables: new Map(), environments: new Map(),
        runs: new Map(), jobs: new Map(), logs: new Map(), issues: new Map(), pulls: new Map(), checkRuns: [], collaborators: new Map(),
        blobs: new Map(), trees: new Map(), commits: new Map(), branches: new Map(),
      };
      this.repos.set(full, s);
      const tree = this.putTree(s, null, []);
      s.branches.set(s.defaultBranch, this.putCommit(s, 'Initial commit', tree, []));
    }
    return s;
  }

  private scopeBag<T>(bags: Map<string, Map<string, T>>, repo: RepoRef, scope: Scope): Map<string, T> {
    if (scope.type === 'environment' && !this.state(repo).environments.has(scope.name)) {
      throw new FakeGitHubError(404, `environment ${scope.name} not found`);
    }
    const key = scopeLabel(scope);
    let bag = bags.get(key);
    if (!bag) bags.set(key, (bag = new Map()));
    return bag;
  }

  private conditional<T>(data: T, etag: string | null | undefined): Conditional<T> {
    const tag = `W/"${sha1(JSON.stringify(data))}"`;
    if (etag && etag === tag) return { etag: tag, notModified: true, data: null };
    return { etag: tag, notModified: false, data };
  }

  private latest(s: RepoState, runId: number): WorkflowRun {
    const run = s.runs.get(runId)?.at(-1);
    if (!run) throw new FakeGitHubError(404, `run ${runId} not found`);
    return run;
  }

  private startAttempt(s: RepoState, runId: number, which: 'failed' | 'all'): void {
    const run = this.latest(s, runId);
    if (run.status !== 'completed') throw new FakeGitHubError(403, 'This workflow is already running');
    if (run.run_attempt >= 50) throw new FakeGitHubError(403, 'This workflow run has reached the maximum number of attempts');
    if (which === 'failed' && run.conclusion === 'success') throw new FakeGitHubError(403, 'This workflow run has no failed jobs to re-run');
    const next: WorkflowRun = { ...run, pull_requests: [...run.pull_requests], run_attempt: run.run_attempt + 1, status: 'queued', conclusion: null, updated_at: this.stamp() };
    s.runs.get(runId)?.push(next);
    const jobs = (s.jobs.get(`${runId}#${run.run_attempt}`) ?? []).map((j): Job => {
      const rerun = which === 'all' || j.conclusion !== 'success';
      if (!rerun) return { ...j, steps: j.steps.map((x) => ({ ...x })) };
      const id = this.nextId++;
      s.logs.set(id, '');
      return { ...j, id, status: 'queued', conclusion: null, steps: [] };
    });
    s.jobs.set(`${runId}#${next.run_attempt}`, jobs);
  }

  private nextNumber(s: RepoState): number {
    return Math.max(0, ...s.issues.keys(), ...s.pulls.keys()) + 1;
  }

  private putBlob(s: RepoState, content: string): string {
    const sha = gitBlobSha(content);
    s.blobs.set(sha, content);
    return sha;
  }

  private putTree(s: RepoState, baseTree: string | null, entries: GitTreeEntry[]): string {
    const files = new Map(baseTree ? this.treeOf(s, baseTree) : []);
    for (const e of entries) {
      if (e.content !== undefined) files.set(e.path, this.putBlob(s, e.content));
      else if (e.sha === null) files.delete(e.path);
      else files.set(e.path, e.sha);
    }
    const sorted = new Map([...files].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
    const sha = sha1(`tree\0${[...sorted].map(([p, b]) => `${p}\0${b}`).join('\n')}`);
    s.trees.set(sha, sorted);
    return sha;
  }

  private putCommit(s: RepoState, message: string, tree: string, parents: string[]): string {
    const date = this.stamp();
    const sha = sha1(`commit\0${JSON.stringify({ tree, parents, message, date })}`);
    s.commits.set(sha, { tree, parents: [...parents], message, date });
    return sha;
  }

  private treeOf(s: RepoState, treeSha: string): Map<string, string> {
    const t = s.trees.get(treeSha);
    if (!t) throw new FakeGitHubError(404, `tree ${treeSha} not found`);
    return t;
  }

  private commitOf(s: RepoState, sha: string): StoredCommit {
    const c = s.commits.get(sha);
    if (!c) throw new FakeGitHubError(422, `commit ${sha} not found`);
    return c;
  }

  private resolveRef(s: RepoState, ref: string): string {
    const name = ref.replace(/^refs\/heads\//, '');
    const head = s.branches.get(name);
    if (head) return head;
    if (s.commits.has(ref)) return ref;
    throw new FakeGitHubError(404, `No commit found for the ref ${ref}`);
  }

  private isAncestor(s: RepoState, ancestor: string, sha: string): boolean {
    const seen = new Set<string>();
    const stack = [sha];
    while (stack.length > 0) {
      const cur = stack.pop() as string;
      if (cur === ancestor) return true;
      if (seen.has(cur)) continue;
      seen.add(cur);
      stack.push(...(s.commits.get(cur)?.parents ?? []));
    }
    return false;
  }

  /** With asGitHubToken(): moving a ref to a commit that changes .github/workflows/ needs `workflows`. */
  private checkWorkflowFiles(s: RepoState, from: string | null, to: string, method: PortMethod): void {
    if (!this.denyWorkflowFiles) return;
    const before = from ? this.treeOf(s, this.commitOf(s, from).tree) : new Map<string, string>();
    const after = this.treeOf(s, this.commitOf(s, to).tree);
    const paths = new Set([...before.keys(), ...after.keys()]);
    for (const p of paths) {
      if (p.startsWith('.github/workflows/') && before.get(p) !== after.get(p)) throw new FakePermissionError('workflows', method);
    }
  }
}
