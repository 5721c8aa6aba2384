/**
 * GitHubPort over Octokit: the only code that knows REST paths. Hides pagination (Link headers),
 * ETags (If-None-Match / 304), sealed-box encryption of secrets and the job-log redirect.
 * Accepts any Octokit-compatible client: ours from createOctokit() or Probot's `context.octokit`.
 */
import { GitHubPromotion } from './promotion.js';
import type { Logger } from 'pino';
import type { RepoRef } from '../core/schemas/index.js';
import {
  RefConflictError,
  scopeLabel,
  type Conditional,
  type EnvironmentInfo,
  type FileContent,
  type GitHubPort,
  type CheckRunOutput,
  type GitTreeEntry,
  type IssueRef,
  type Job,
  type Scope,
  type SecretMeta,
  type VariableValue,
  type WorkflowRun,
} from '../ports/index.js';
import {
  GitHubPermissionError,
  GitHubRequestError,
  githubMessage,
  isNotFound,
  isNotModified,
  isPermissionError,
  statusOf,
  type GitHubPermission,
} from './errors.js';
import { GitHubCache, gitBlobId, sharedGitHubCache } from './cache.js';
import { sealSecret } from './sealed-box.js';
import { mapWorkflowRun, type RawWorkflowRun } from './webhook-run.js';

export interface OctokitResponseLike {
  status: number;
  url: string;
  headers: Record<string, string | number | undefined>;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  data: any;
}
/** The part of Octokit the adapter uses: `request(route, params)`. Probot's and ours both fit. */
export interface OctokitLike {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  request: (route: string, parameters?: Record<string, any>) => Promise<OctokitResponseLike>;
}

/** Probot's `context.octokit` already has throttling and retry; this only adapts its type. */
export function wrapProbotOctokit(octokit: unknown, opts: GitHubAdapterOptions = {}): GitHubAdapter {
  return new GitHubAdapter(octokit as OctokitLike, opts);
}

export interface GitHubAdapterOptions {
  log?: Logger;
  /** Fetch used for the short-lived job-log URL (no auth header is sent there). */
  fetch?: typeof fetch;
  /** Label every issue the adapter creates carries, and findIssueByMarker filters by. */
  issueLabel?: string;
  /**
   * Response caches (git objects by sha, ETags of conditional reads, public keys). Default: the one
   * process-wide cache, so App jobs (each with a fresh adapter) share it. `false`: a private one.
   */
  cache?: GitHubCache | false;
  /** Names the GitHub host in cache keys; default: the client's base URL. */
  cacheScope?: string;
}

/** Files inlined into a tree call up to this size; larger ones become blobs first. */
const INLINE_CONTENT_MAX = 256 * 1024;

/** Variables list endpoints accept at most 30 per page; everything else here 100. */
const VARIABLES_PER_PAGE = 30;
const PER_PAGE = 100;
export const BRIDGE_LABEL = 'living-bridge';

type Params = Record<string, unknown>;
interface PublicKey { key_id: string; key: string }

const header = (res: OctokitResponseLike, name: string): string | null => {
  const v = res.headers[name] ?? res.headers[name.toLowerCase()];
  return v === undefined ? null : String(v);
};

/** `<url>; rel="next"` from a Link header. */
export function nextLink(link: string | null): string | null {
  if (!link) return null;
  for (const part of link.split(',')) {
    const m = /<([^>]+)>\s*;\s*rel="?next"?/.exec(part);
    if (m?.[1]) return m[1];
  }
  return null;
}

/** Encodes each segment of a path or branch name, keeping the slashes. */
const encodePath = (p: string): string => p.split('/').map(encodeURIComponent).join('/');

function scopeRoute(scope: Scope): { base: string; params: Params } {
  return scope.type === 'repository'
    ? { base: '/repos/{owner}/{repo}/actions', params: {} }
    : { base: '/repos/{owner}/{repo}/environments/{environment_name}', params: { environment_name: scope.name } };
}

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

// ---- raw shapes (the fields we read) ----
interface RawSecret { name: string; created_at: string; updated_at: string }
interface RawVariable { name: string; value: string; created_at?: string; updated_at?: string }
interface RawEnvironment {
  name: string;
  protection_rules?: { type: string; wait_timer?: number; prevent_self_review?: boolean; reviewers?: { type: string; reviewer?: { id?: number } | null }[] }[];
  deployment_branch_policy?: { protected_branches: boolean; custom_branch_policies: boolean } | null;
}
interface RawJob { id: number; name: string; conclusion: string | null; status: string; steps?: { name: string; conclusion: string | null; number: number }[] }
interface RawIssue { number: number; html_url: string; body?: string | null; state: string; pull_request?: unknown }
interface RawComment { id: number; html_url: string; body?: string | null }

const mapSecret = (s: RawSecret): SecretMeta => ({ name: s.name, created_at: s.created_at, updated_at: s.updated_at });
const mapVariable = (v: RawVariable): VariableValue => ({
  name: v.name,
  value: v.value,
  ...(v.created_at !== undefined ? { created_at: v.created_at } : {}),
  ...(v.updated_at !== undefined ? { updated_at: v.updated_at } : {}),
});
function mapEnvironment(e: RawEnvironment): EnvironmentInfo {
  const info: EnvironmentInfo = { name: e.name, deployment_branch_policy: e.deployment_branch_policy ?? null };
  for (const rule of e.protection_rules ?? []) {
    if (rule.type === 'wait_timer' && typeof rule.wait_timer === 'number') info.wait_timer = rule.wait_timer;
    if (rule.type === 'required_reviewers') {
      if (typeof rule.prevent_self_review === 'boolean') info.prevent_self_review = rule.prevent_self_review;
      info.reviewers = (rule.reviewers ?? [])
        .filter((r) => (r.type === 'User' || r.type === 'Team') && typeof r.reviewer?.id === 'number')
        .map((r) => ({ type: r.type as 'User' | 'Team', id: r.reviewer?.id as number }));
    }
  }
  return info;
}
const mapJob = (j: RawJob): Job => ({
  id: j.id,
  name: j.name,
  conclusion: j.conclusion,
  status: j.status,
  steps: (j.steps ?? []).map((s) => ({ name: s.name, conclusion: s.conclusion, number: s.number })),
});

type PermissionLevel = Awaited<ReturnType<GitHubPort['getPermissionLevel']>>;
const PERMISSION_LEVELS: PermissionLevel[] = ['admin', 'maintain', 'write', 'triage', 'read', 'none'];

/** Job conclusions that count as "failed" for evidence. */
const FAILED_CONCLUSIONS = new Set(['failure', 'timed_out']);

export class GitHubAdapter implements GitHubPort {
  protected readonly defaultBranches = new Map<string, string>();
  protected readonly cache: GitHubCache;
  /** The GitHub host this adapter talks to (part of every cache key that is not a git object id). */
  readonly cacheScope: string;
  private readonly log: Logger | undefined;
  private readonly fetchImpl: typeof fetch;
  private readonly issueLabel: string;
  /** Pull requests, checks, protection, merging and dispatch (src/github/promotion.ts). */
  readonly promotion: GitHubPromotion;

  constructor(
    private readonly octokit: OctokitLike,
    opts: GitHubAdapterOptions = {},
  ) {
    this.log = opts.log;
    this.fetchImpl = opts.fetch ?? ((input, init) => globalThis.fetch(input, init));
    this.issueLabel = opts.issueLabel ?? BRIDGE_LABEL;
    this.cache = opts.cache === false ? new GitHubCache({ maxBytes: 8 * 1024 * 1024 }) : (opts.cache ?? sharedGitHubCache);
    const defaults = (octokit.request as { endpoint?: { DEFAULTS?: { baseUrl?: unknown } } }).endpoint?.DEFAULTS;
    this.cacheScope = opts.cacheScope ?? (typeof defaults?.baseUrl === 'string' ? defaults.baseUrl : 'https://api.github.com');
    this.promotion = new GitHubPromotion((route, params) => this.req(route, params), (route, params, key) => this.paginate(route, params, key));
  }

  // ------------------------------------------------------------------ plumbing

  /** Runs one call, turning 403 "not accessible" into GitHubPermissionError. */
  protected async call<T>(permission: GitHubPermission, operation: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (e) {
      if (isPermissionError(e)) throw new GitHubPermissionError(permission, operation, githubMessage(e));
      throw e;
    }
  }

  protected req(route: string, params: Params = {}): Promise<OctokitResponseLike> {
    return this.octokit.request(route, params);
  }

  /** All items of a paginated list (array body, or `key` of an object body), following Link headers. */
  private async paginate<R>(route: string, params: Params, key: string | null, first?: OctokitResponseLike): Promise<R[]> {
    let res = first ?? (await this.req(route, params));
    const items: R[] = [];
    for (;;) {
      const page: unknown = key === null ? res.data : (res.data as Record<string, unknown> | null)?.[key];
      if (Array.isArray(page)) items.push(...(page as R[]));
      const next = nextLink(header(res, 'link'));
      if (!next) return items;
      // The next URL already carries every query parameter; only headers travel along.
      res = await this.req(`GET ${next}`, params.headers ? { headers: params.headers } : {});
    }
  }

  /** A conditional paginated list: If-None-Match on the first page; 304 -> notModified. */
  private async conditionalList<R, T>(route: string, params: Params, key: string, map: (r: R) => T, etag: string | null | undefined): Promise<Conditional<T[]>> {
    let first: OctokitResponseLike;
    try {
      first = await this.req(route, etag ? { ...params, headers: { 'if-none-match': etag } } : params);
    } catch (e) {
      if (isNotModified(e)) return { etag: etag ?? null, notModified: true, data: null };
      throw e;
    }
    const items = await this.paginate<R>(route, params, key, first);
    return { etag: header(first, 'etag'), notModified: false, data: items.map(map) };
  }

  /**
   * A GET with If-None-Match from the last ETag of `key`: a 304 (free against the rate limit) reuses
   * the answer mapped last time; a 200 is mapped and remembered with its ETag.
   */
  private async conditionalGet<T>(key: string, route: string, params: Params, map: (res: OctokitResponseLike) => T | Promise<T>): Promise<T> {
    const ck = `${this.cacheScope}|${key}`;
    const cached = this.cache.conditional.get(ck);
    let res: OctokitResponseLike;
    try {
      res = await this.req(route, cached ? { ...params, headers: { 'if-none-match': cached.etag } } : params);
    } catch (e) {
      if (cached && isNotModified(e)) return cached.value as T;
      this.cache.conditional.delete(ck);
      throw e;
    }
    const value = await map(res);
    const etag = header(res, 'etag');
    if (etag && res.status === 200) this.cache.conditional.set(ck, { etag, value });
    else this.cache.conditional.delete(ck);
    return value;
  }

  private async getOrNull<T>(fn: () => Promise<T>): Promise<T | null> {
    try {
      return await fn();
    } catch (e) {
      if (isNotFound(e)) return null;
      throw e;
    }
  }

  // ------------------------------------------------------------------ secrets

  private async publicKey(repo: RepoRef, scope: Scope, refresh: boolean): Promise<PublicKey> {
    const cacheKey = `${this.cacheScope}|${repo.owner}/${repo.repo}|${scopeLabel(scope)}`.toLowerCase();
    const cached = this.cache.publicKeys.get(cacheKey);
    if (cached && !refresh) return cached;
    const { base, params } = scopeRoute(scope);
    const res = await this.req(`GET ${base}/secrets/public-key`, { ...repo, ...params });
    const key = { key_id: String(res.data.key_id), key: String(res.data.key) };
    this.cache.publicKeys.set(cacheKey, key);
    return key;
  }

  async setSecret(repo: RepoRef, scope: Scope, name: string, value: string): Promise<{ created: boolean }> {
    const operation = `set secret ${name} (${scopeLabel(scope)})`;
    return this.call('secrets', operation, async () => {
      const { base, params } = scopeRoute(scope);
      const put = async (pk: PublicKey): Promise<{ created: boolean }> => {
        const encrypted_value = await sealSecret(value, pk.key);
        const res = await this.req(`PUT ${base}/secrets/{secret_name}`, { ...repo, ...params, secret_name: name, encrypted_value, key_id: pk.key_id });
        return { created: res.status === 201 };
      };
      try {
        let result: { created: boolean };
        try {
          result = await put(await this.publicKey(repo, scope, false));
        } catch (e) {
          // The key rotated since we cached it: fetch it again, once.
          if (statusOf(e) !== 422 || !/key/i.test(githubMessage(e))) throw e;
          this.log?.info({ repo: `${repo.owner}/${repo.repo}`, scope: scopeLabel(scope) }, 'secret public key rejected; refetching once');
          result = await put(await this.publicKey(repo, scope, true));
        }
        this.log?.debug({ repo: `${repo.owner}/${repo.repo}`, scope: scopeLabel(scope), name, created: result.created }, 'secret written');
        return result;
      } catch (e) {
        if (isPermissionError(e)) throw e;
        // Never let octokit's request (with the encrypted body) travel up with the error.
        const status = statusOf(e);
        if (status !== null) throw new GitHubRequestError(status, operation, githubMessage(e));
        throw new Error(`${operation} failed: ${e instanceof Error ? e.name : 'error'}`);
      }
    });
  }

  getSecret(repo: RepoRef, scope: Scope, name: string): Promise<SecretMeta | null> {
    const { base, params } = scopeRoute(scope);
    return this.call('secrets', `read secret ${name}`, () =>
      this.getOrNull(async () => mapSecret((await this.req(`GET ${base}/secrets/{secret_name}`, { ...repo, ...params, secret_name: name })).data as RawSecret)),
    );
  }

  listSecrets(repo: RepoRef, scope: Scope, etag?: string | null): Promise<Conditional<SecretMeta[]>> {
    const { base, params } = scopeRoute(scope);
    return this.call('secrets', `list secrets (${scopeLabel(scope)})`, () =>
      this.conditionalList<RawSecret, SecretMeta>(`GET ${base}/secrets`, { ...repo, ...params, per_page: PER_PAGE }, 'secrets', mapSecret, etag),
    );
  }

  deleteSecret(repo: RepoRef, scope: Scope, name: string): Promise<void> {
    const { base, params } = scopeRoute(scope);
    return this.call('secrets', `delete secret ${name}`, async () => {
      await this.getOrNull(() => this.req(`DELETE ${base}/secrets/{secret_name}`, { ...repo, ...params, secret_name: name }));
    });
  }

  // ------------------------------------------------------------------ variables

  getVariable(repo: RepoRef, scope: Scope, name: string): Promise<VariableValue | null> {
    const { base, params } = scopeRoute(scope);
    return this.call('variables', `read variable ${name}`, () =>
      this.getOrNull(async () => mapVariable((await this.req(`GET ${base}/variables/{name}`, { ...repo, ...params, name })).data as RawVariable)),
    );
  }

  listVariables(repo: RepoRef, scope: Scope, etag?: string | null): Promise<Conditional<VariableValue[]>> {
    const { base, params } = scopeRoute(scope);
    return this.call('variables', `list variables (${scopeLabel(scope)})`, () =>
      this.conditionalList<RawVariable, VariableValue>(`GET ${base}/variables`, { ...repo, ...params, per_page: VARIABLES_PER_PAGE }, 'variables', mapVariable, etag),
    );
  }

  upsertVariable(repo: RepoRef, scope: Scope, name: string, value: string): Promise<{ created: boolean }> {
    const { base, params } = scopeRoute(scope);
    return this.call('variables', `write variable ${name}`, async () => {
      try {
        await this.req(`PATCH ${base}/variables/{name}`, { ...repo, ...params, name, value });
        return { created: false };
      } catch (e) {
        if (!isNotFound(e)) throw e;
      }
      await this.req(`POST ${base}/variables`, { ...repo, ...params, name, value });
      return { created: true };
    });
  }

  createVariable(repo: RepoRef, scope: Scope, name: string, value: string): Promise<{ created: boolean }> {
    const { base, params } = scopeRoute(scope);
    return this.call('variables', `create variable ${name}`, async () => {
      try {
        await this.req(`POST ${base}/variables`, { ...repo, ...params, name, value });
        return { created: true };
      } catch (e) {
        // Created meanwhile (GitHub answers 409 "Already exists"; some versions 422): update it instead.
        const status = statusOf(e);
        if (status !== 409 && status !== 422) throw e;
      }
      await this.req(`PATCH ${base}/variables/{name}`, { ...repo, ...params, name, value });
      return { created: false };
    });
  }

  deleteVariable(repo: RepoRef, scope: Scope, name: string): Promise<void> {
    const { base, params } = scopeRoute(scope);
    return this.call('variables', `delete variable ${name}`, async () => {
      await this.getOrNull(() => this.req(`DELETE ${base}/variables/{name}`, { ...repo, ...params, name }));
    });
  }

  // ------------------------------------------------------------------ environments

  listEnvironments(repo: RepoRef, etag?: string | null): Promise<Conditional<EnvironmentInfo[]>> {
    return this.call('environments', 'list environments', () =>
      this.conditionalList<RawEnvironment, EnvironmentInfo>('GET /repos/{owner}/{repo}/environments', { ...repo, per_page: PER_PAGE }, 'environments', mapEnvironment, etag),
    );
  }

  putEnvironment(repo: RepoRef, env: EnvironmentInfo): Promise<void> {
    const body: Params = {};
    if (env.wait_timer !== undefined) body.wait_timer = env.wait_timer;
    if (env.prevent_self_review !== undefined) body.prevent_self_review = env.prevent_self_review;
    if (env.reviewers !== undefined) body.reviewers = env.reviewers.map((r) => ({ type: r.type, id: r.id }));
    if (env.deployment_branch_policy !== undefined) body.deployment_branch_policy = env.deployment_branch_policy;
    return this.call('administration', `create or update environment ${env.name}`, async () => {
      await this.req('PUT /repos/{owner}/{repo}/environments/{environment_name}', { ...repo, environment_name: env.name, ...body });
    });
  }

  // ------------------------------------------------------------------ runs

  getRun(repo: RepoRef, runId: number, attempt?: number): Promise<WorkflowRun> {
    return this.call('actions', `read run ${runId}`, async () => {
      const res =
        attempt === undefined
          ? await this.req('GET /repos/{owner}/{repo}/actions/runs/{run_id}', { ...repo, run_id: runId })
          : await this.req('GET /repos/{owner}/{repo}/actions/runs/{run_id}/attempts/{attempt_number}', { ...repo, run_id: runId, attempt_number: attempt });
      return mapWorkflowRun(res.data as RawWorkflowRun);
    });
  }

  listFailedJobs(repo: RepoRef, runId: number): Promise<Job[]> {
    return this.call('actions', `list jobs of run ${runId}`, async () => {
      const jobs = await this.paginate<RawJob>('GET /repos/{owner}/{repo}/actions/runs/{run_id}/jobs', { ...repo, run_id: runId, filter: 'latest', per_page: PER_PAGE }, 'jobs');
      return jobs.filter((j) => j.conclusion !== null && FAILED_CONCLUSIONS.has(j.conclusion)).map(mapJob);
    });
  }

  listDeployments(repo: RepoRef, sha: string): Promise<{ environment: string }[]> {
    return this.call('deployments', `list deployments of ${sha.slice(0, 7)}`, async () => {
      const res = await this.req('GET /repos/{owner}/{repo}/deployments', { ...repo, sha, per_page: PER_PAGE });
      return (res.data as { environment?: unknown }[]).flatMap((d) => (typeof d.environment === 'string' ? [{ environment: d.environment }] : []));
    });
  }

  downloadJobLog(repo: RepoRef, jobId: number): Promise<AsyncIterable<Uint8Array>> {
    return this.call('actions', `download log of job ${jobId}`, async () => {
      // redirect: 'manual' so we read the short-lived Location and fetch it at once ourselves,
      // without sending our Authorization header to the blob host.
      const res = await this.req('GET /repos/{owner}/{repo}/actions/jobs/{job_id}/logs', {
        ...repo,
        job_id: jobId,
        request: { redirect: 'manual', parseSuccessResponseBody: false },
      });
      if (res.status >= 300 && res.status < 400) {
        const location = header(res, 'location');
        await (res.data as ReadableStream | null | undefined)?.cancel?.().catch(() => undefined);
        if (!location) throw new GitHubRequestError(res.status, `download log of job ${jobId}`, 'redirect without a Location header');
        const blob = await this.fetchImpl(location, { redirect: 'follow' });
        if (!blob.ok) {
          await blob.body?.cancel().catch(() => undefined);
          throw new GitHubRequestError(blob.status, `download log of job ${jobId}`, 'the log URL answered an error (it expires within a minute)');
        }
        return bodyToIterable(blob.body);
      }
      // The client followed the redirect itself (e.g. a fetch without manual redirects): the body is the log.
      return bodyToIterable(res.data);
    });
  }

  rerunFailedJobs(repo: RepoRef, runId: number): Promise<void> {
    return this.call('actions', `re-run failed jobs of run ${runId}`, async () => {
      // Not retried blindly: a lost answer is read back by the engine (a retried POST could re-run twice).
      await this.req('POST /repos/{owner}/{repo}/actions/runs/{run_id}/rerun-failed-jobs', { ...repo, run_id: runId, request: { retries: 0 } });
    });
  }

  rerunRun(repo: RepoRef, runId: number): Promise<void> {
    return this.call('actions', `re-run run ${runId}`, async () => {
      await this.req('POST /repos/{owner}/{repo}/actions/runs/{run_id}/rerun', { ...repo, run_id: runId, request: { retries: 0 } });
    });
  }

  findLastSuccessfulRun(repo: RepoRef, workflowId: number, branch: string): Promise<WorkflowRun | null> {
    return this.call('actions', `find last successful run of workflow ${workflowId}`, async () => {
      const res = await this.req('GET /repos/{owner}/{repo}/actions/workflows/{workflow_id}/runs', { ...repo, workflow_id: workflowId, branch, status: 'success', per_page: 1 });
      const run = (res.data?.workflow_runs as RawWorkflowRun[] | undefined)?.[0];
      return run ? mapWorkflowRun(run) : null;
    });
  }

  // ------------------------------------------------------------------ issues, comments, checks

  findIssueByMarker(repo: RepoRef, marker: string): Promise<(IssueRef & { body: string; state: string }) | null> {
    return this.call('issues', 'search issues', async () => {
      const issues = await this.paginate<RawIssue>('GET /repos/{owner}/{repo}/issues', { ...repo, state: 'all', labels: this.issueLabel, per_page: PER_PAGE }, null);
      const hit = issues.find((i) => !i.pull_request && (i.body ?? '').includes(marker));
      return hit ? { number: hit.number, html_url: hit.html_url, body: hit.body ?? '', state: hit.state } : null;
    });
  }

  createIssue(repo: RepoRef, title: string, body: string, labels: string[] = []): Promise<IssueRef> {
    const allLabels = [...new Set([this.issueLabel, ...labels])];
    return this.call('issues', 'create issue', async () => {
      // Not retried blindly: the escalation engine looks the issue up by its marker after a lost answer.
      const res = await this.req('POST /repos/{owner}/{repo}/issues', { ...repo, title, body, labels: allLabels, request: { retries: 0 } });
      return { number: res.data.number as number, html_url: res.data.html_url as string };
    });
  }

  updateIssue(repo: RepoRef, number: number, patch: { title?: string; body?: string; state?: 'open' | 'closed' }): Promise<IssueRef> {
    return this.call('issues', `update issue #${number}`, async () => {
      const res = await this.req('PATCH /repos/{owner}/{repo}/issues/{issue_number}', { ...repo, issue_number: number, ...patch });
      return { number: res.data.number as number, html_url: res.data.html_url as string };
    });
  }

  upsertComment(repo: RepoRef, issueNumber: number, marker: string, body: string): Promise<{ id: number; html_url: string; created: boolean }> {
    const text = body.includes(marker) ? body : `${marker}\n${body}`;
    // The comment id found or created last time (this process): updated directly, without listing
    // the thread again; a 404 (deleted meanwhile) falls back to the search.
    const memoKey = `${this.cacheScope}|comment|${repo.owner}/${repo.repo}#${issueNumber}|${marker}`.toLowerCase();
    const patch = async (id: number) => {
      const res = await this.req('PATCH /repos/{owner}/{repo}/issues/comments/{comment_id}', { ...repo, comment_id: id, body: text });
      return { id: res.data.id as number, html_url: res.data.html_url as string, created: false };
    };
    return this.call('issues', `comment on #${issueNumber}`, async () => {
      const known = this.cache.conditional.get(memoKey)?.value;
      if (typeof known === 'number') {
        const updated = await this.getOrNull(() => patch(known));
        if (updated) return updated;
        this.cache.conditional.delete(memoKey);
      }
      const comments = await this.paginate<RawComment>('GET /repos/{owner}/{repo}/issues/{issue_number}/comments', { ...repo, issue_number: issueNumber, per_page: PER_PAGE }, null);
      const ours = comments.find((c) => (c.body ?? '').includes(marker));
      const result = ours
        ? await patch(ours.id)
        : await (async () => {
            const res = await this.req('POST /repos/{owner}/{repo}/issues/{issue_number}/comments', { ...repo, issue_number: issueNumber, body: text });
            return { id: res.data.id as number, html_url: res.data.html_url as string, created: true };
          })();
      this.cache.conditional.set(memoKey, { etag: '', value: result.id });
      return result;
    });
  }

  pullRequestsForCommit(repo: RepoRef, sha: string): Promise<number[]> {
    return this.call('pull_requests', `list pull requests of ${sha.slice(0, 7)}`, async () => {
      const prs = await this.paginate<{ number: number; state: string }>('GET /repos/{owner}/{repo}/commits/{commit_sha}/pulls', { ...repo, commit_sha: sha, per_page: PER_PAGE }, null);
      return prs.filter((p) => p.state === 'open').map((p) => p.number);
    });
  }

  getPermissionLevel(repo: RepoRef, username: string): Promise<PermissionLevel> {
    return this.call('metadata', `read permission of ${username}`, async () => {
      const res = await this.getOrNull(() => this.req('GET /repos/{owner}/{repo}/collaborators/{username}/permission', { ...repo, username }));
      if (!res) return 'none';
      // role_name is finer than permission (maintain/triage, custom roles fall back to permission).
      const role = String(res.data.role_name ?? '');
      if (PERMISSION_LEVELS.includes(role as PermissionLevel)) return role as PermissionLevel;
      const perm = String(res.data.permission ?? 'none');
      return PERMISSION_LEVELS.includes(perm as PermissionLevel) ? (perm as PermissionLevel) : 'none';
    });
  }

  listRecentRunHeads(repo: RepoRef, limit: number): Promise<string[]> {
    return this.call('actions', 'list recent workflow runs', async () => {
      const res = await this.req('GET /repos/{owner}/{repo}/actions/runs', { ...repo, per_page: Math.min(100, Math.max(1, limit)) });
      const runs = (res.data?.workflow_runs as { head_sha?: string }[] | undefined) ?? [];
      return [...new Set(runs.map((r) => r.head_sha).filter((s): s is string => typeof s === 'string'))];
    });
  }

  listCheckRuns(repo: RepoRef, ref: string, name: string): Promise<CheckRunOutput[]> {
    return this.call('checks', `list check runs ${name} on ${ref.slice(0, 12)}`, async () => {
      // filter=all: every run of that name, not only the latest (each ledger commit anchors its own checkpoint).
      const res = await this.req('GET /repos/{owner}/{repo}/commits/{ref}/check-runs', { ...repo, ref, check_name: name, filter: 'all', per_page: PER_PAGE });
      const runs = (res.data?.check_runs as { id: number; html_url?: string | null; app?: { id?: number } | null; output?: { summary?: string | null; text?: string | null } }[] | undefined) ?? [];
      return runs.map((r) => ({ id: r.id, app_id: r.app?.id ?? null, html_url: r.html_url ?? null, summary: r.output?.summary ?? null, text: r.output?.text ?? null }));
    });
  }

  createCheckRun(repo: RepoRef, check: { name: string; head_sha: string; conclusion: 'success' | 'failure' | 'neutral' | 'action_required'; title: string; summary: string; text?: string; details_url?: string }): Promise<{ id: number }> {
    return this.call('checks', `create check run ${check.name}`, async () => {
      const res = await this.req('POST /repos/{owner}/{repo}/check-runs', {
        ...repo,
        name: check.name,
        head_sha: check.head_sha,
        status: 'completed',
        conclusion: check.conclusion,
        output: { title: check.title, summary: check.summary, ...(check.text !== undefined ? { text: check.text } : {}) },
        ...(check.details_url !== undefined ? { details_url: check.details_url } : {}),
      });
      return { id: res.data.id as number };
    });
  }

  // ------------------------------------------------------------------ contents

  getDefaultBranch(repo: RepoRef): Promise<string> {
    const key = `${repo.owner}/${repo.repo}`.toLowerCase();
    const cached = this.defaultBranches.get(key);
    if (cached) return Promise.resolve(cached);
    return this.call('metadata', 'read repository', async () => {
      const res = await this.req('GET /repos/{owner}/{repo}', { ...repo });
      const branch = String(res.data.default_branch);
      this.defaultBranches.set(key, branch);
      return branch;
    });
  }

  /** Conditional (ETag): re-checking an unchanged branch answers 304, free against the rate limit. */
  branchProtection(repo: RepoRef, branch: string): Promise<{ protected: boolean } | null> {
    return this.call('contents', `read branch ${branch}`, () =>
      this.getOrNull(() =>
        this.conditionalGet(`branch|${repo.owner}/${repo.repo}|${branch}`.toLowerCase(), `GET /repos/{owner}/{repo}/branches/${encodePath(branch)}`, { ...repo }, (res) => ({
          protected: (res.data as { protected?: boolean }).protected === true,
        })),
      ),
    );
  }

  /**
   * Conditional (ETag) per path and ref: an unchanged file answers 304, free against the rate limit.
   * A 404 has no ETag; once a file was found absent, later reads ask its directory listing
   * conditionally instead (304 while the directory is unchanged) and read the file only when it appears.
   */
  readFile(repo: RepoRef, path: string, ref?: string): Promise<FileContent | null> {
    const key = `contents|${repo.owner}/${repo.repo}|${ref ?? ''}|${path}`.toLowerCase();
    const absentKey = `${this.cacheScope}|absent|${key}`;
    const refParam = ref !== undefined ? { ref } : {};
    return this.call('contents', `read ${path}`, async () => {
      if (this.cache.conditional.get(absentKey)) {
        const slash = path.lastIndexOf('/');
        const dir = slash === -1 ? '' : path.slice(0, slash);
        const route = dir === '' ? 'GET /repos/{owner}/{repo}/contents' : `GET /repos/{owner}/{repo}/contents/${encodePath(dir)}`;
        const present = await this.getOrNull(() =>
          this.conditionalGet(`dir|${key}`, route, { ...repo, ...refParam }, (res) =>
            Array.isArray(res.data) && (res.data as { path?: string; type?: string }[]).some((e) => e.path === path && e.type === 'file'),
          ),
        );
        if (!present) return null;
        this.cache.conditional.delete(absentKey);
      }
      const file = await this.getOrNull(() =>
        this.conditionalGet<FileContent | null>(key, `GET /repos/{owner}/{repo}/contents/${encodePath(path)}`, { ...repo, ...refParam }, async (res) => {
          if (Array.isArray(res.data) || res.data?.type !== 'file') return null;
          const sha = String(res.data.sha);
          // Files over 1 MB come without content: read the blob instead.
          const content = res.data.encoding === 'base64' && typeof res.data.content === 'string'
            ? Buffer.from(res.data.content as string, 'base64').toString('utf8')
            : await this.readBlob(repo, sha);
          return { path: String(res.data.path ?? path), content, sha };
        }),
      );
      if (file === null) this.cache.conditional.set(absentKey, { etag: '', value: true });
      return file;
    });
  }

  // ------------------------------------------------------------------ git data

  /** Conditional (ETag): a branch that did not move answers 304, free against the rate limit. */
  getBranchHead(repo: RepoRef, branch: string): Promise<string | null> {
    const key = `ref|${repo.owner}/${repo.repo}|${branch}`.toLowerCase();
    return this.call('contents', `read branch ${branch}`, async () => {
      try {
        return await this.conditionalGet(key, `GET /repos/{owner}/{repo}/git/ref/heads/${encodePath(branch)}`, { ...repo }, (res) => String(res.data.object.sha));
      } catch (e) {
        // 404: no such branch; 409: the repository is empty.
        if (isNotFound(e) || statusOf(e) === 409) return null;
        throw e;
      }
    });
  }

  /** Commits never change: their tree is cached by commit sha. */
  getCommitTree(repo: RepoRef, commitSha: string): Promise<string> {
    const cached = this.cache.commits.get(commitSha);
    if (cached) return Promise.resolve(cached);
    return this.call('contents', 'read commit', async () => {
      const res = await this.req('GET /repos/{owner}/{repo}/git/commits/{commit_sha}', { ...repo, commit_sha: commitSha });
      const tree = String(res.data.tree.sha);
      this.cache.commits.set(commitSha, tree);
      return tree;
    });
  }

  private async treeListing(repo: RepoRef, treeish: string): Promise<{ sha: string; entries: { path: string; sha: string }[] }> {
    const res = await this.req('GET /repos/{owner}/{repo}/git/trees/{tree_sha}', { ...repo, tree_sha: treeish, recursive: '1' });
    if (res.data.truncated) throw new Error(`tree ${treeish} of ${repo.owner}/${repo.repo} is too large to list in one request (GitHub truncated it)`);
    const entries = (res.data.tree as { path: string; type: string; sha: string }[]).filter((e) => e.type === 'blob').map((e) => ({ path: e.path, sha: e.sha }));
    return { sha: String(res.data.sha ?? treeish), entries };
  }

  /** Trees never change: listings are cached by tree sha. */
  listTree(repo: RepoRef, treeSha: string): Promise<{ path: string; sha: string }[]> {
    const cached = this.cache.trees.get(treeSha);
    if (cached) return Promise.resolve(cached.entries.map((e) => ({ ...e })));
    return this.call('contents', 'read tree', async () => {
      const { entries } = await this.treeListing(repo, treeSha);
      this.cache.trees.set(treeSha, { tree: treeSha, entries });
      return entries.map((e) => ({ ...e }));
    });
  }

  /** One request instead of two: the trees endpoint resolves a commit sha to its tree. */
  readCommitTree(repo: RepoRef, commitSha: string): Promise<{ tree: string; entries: { path: string; sha: string }[] }> {
    const tree = this.cache.commits.get(commitSha);
    const listed = tree ? this.cache.trees.get(tree) : undefined;
    if (tree && listed) return Promise.resolve({ tree, entries: listed.entries.map((e) => ({ ...e })) });
    return this.call('contents', 'read tree', async () => {
      const res = await this.treeListing(repo, commitSha);
      // The answer names the tree it listed; should a server echo the commit sha instead, ask the commit.
      const treeSha = res.sha !== commitSha ? res.sha : await this.getCommitTree(repo, commitSha);
      this.cache.commits.set(commitSha, treeSha);
      this.cache.trees.set(treeSha, { tree: treeSha, entries: res.entries });
      return { tree: treeSha, entries: res.entries.map((e) => ({ ...e })) };
    });
  }

  /** Blobs never change: contents are cached by blob sha. */
  readBlob(repo: RepoRef, blobSha: string): Promise<string> {
    const cached = this.cache.blobs.get(blobSha);
    if (cached !== undefined) return Promise.resolve(cached);
    return this.call('contents', 'read blob', async () => {
      const res = await this.req('GET /repos/{owner}/{repo}/git/blobs/{file_sha}', { ...repo, file_sha: blobSha });
      const raw = String(res.data.content ?? '');
      const content = res.data.encoding === 'base64' ? Buffer.from(raw, 'base64').toString('utf8') : raw;
      this.cache.blobs.set(blobSha, content);
      return content;
    });
  }

  createBlob(repo: RepoRef, content: string): Promise<string> {
    return this.call('contents', 'create blob', async () => {
      const res = await this.req('POST /repos/{owner}/{repo}/git/blobs', { ...repo, content, encoding: 'utf-8' });
      const sha = String(res.data.sha);
      this.cache.blobs.set(sha, content);
      return sha;
    });
  }

  /**
   * Entries with `content` up to 256 KiB are written by the tree call itself (GitHub creates their
   * blobs), saving one request per file; larger ones become blobs first.
   */
  createTree(repo: RepoRef, baseTree: string | null, entries: GitTreeEntry[]): Promise<string> {
    return this.call('contents', 'create tree', async () => {
      const tree: Record<string, unknown>[] = [];
      for (const e of entries) {
        if (e.content === undefined) {
          tree.push({ path: e.path, mode: e.mode, type: e.type, sha: e.sha });
        } else if (Buffer.byteLength(e.content, 'utf8') <= INLINE_CONTENT_MAX) {
          tree.push({ path: e.path, mode: e.mode, type: e.type, content: e.content });
          // GitHub stores the bytes as given: its blob id is git's, computable here.
          this.cache.blobs.set(gitBlobId(e.content), e.content);
        } else {
          tree.push({ path: e.path, mode: e.mode, type: e.type, sha: await this.createBlob(repo, e.content) });
        }
      }
      const res = await this.req('POST /repos/{owner}/{repo}/git/trees', { ...repo, ...(baseTree ? { base_tree: baseTree } : {}), tree });
      return String(res.data.sha);
    });
  }

  createCommit(repo: RepoRef, message: string, tree: string, parents: string[]): Promise<string> {
    return this.call('contents', 'create commit', async () => {
      const res = await this.req('POST /repos/{owner}/{repo}/git/commits', { ...repo, message, tree, parents });
      const sha = String(res.data.sha);
      this.cache.commits.set(sha, tree);
      return sha;
    });
  }

  createBranch(repo: RepoRef, branch: string, commitSha: string): Promise<void> {
    return this.call('contents', `create branch ${branch}`, async () => {
      try {
        await this.req('POST /repos/{owner}/{repo}/git/refs', { ...repo, ref: `refs/heads/${branch}`, sha: commitSha });
      } catch (e) {
        if (statusOf(e) === 422 && /already exists/i.test(githubMessage(e))) throw new RefConflictError(`refs/heads/${branch}`);
        throw e;
      }
    });
  }

  updateBranch(repo: RepoRef, branch: string, commitSha: string): Promise<void> {
    return this.call('contents', `update branch ${branch}`, async () => {
      try {
        await this.req(`PATCH /repos/{owner}/{repo}/git/refs/heads/${encodePath(branch)}`, { ...repo, sha: commitSha, force: false });
      } catch (e) {
        const status = statusOf(e);
        const msg = githubMessage(e);
        if ((status === 422 && /fast.forward|reference update failed|cannot lock ref/i.test(msg)) || status === 409) {
          throw new RefConflictError(`refs/heads/${branch}`);
        }
        throw e;
      }
    });
  }

  createPullRequest(repo: RepoRef, pr: { title: string; body: string; head: string; base: string }): Promise<{ number: number; html_url: string }> {
    return this.call('pull_requests', `open pull request from ${pr.head}`, async () => {
      const res = await this.req('POST /repos/{owner}/{repo}/pulls', { ...repo, title: pr.title, body: pr.body, head: pr.head, base: pr.base });
      return { number: res.data.number as number, html_url: res.data.html_url as string };
    });
  }

  findOpenPullRequest(repo: RepoRef, head: string, base: string): Promise<{ number: number; html_url: string } | null> {
    return this.call('pull_requests', `find pull request from ${head}`, async () => {
      const res = await this.req('GET /repos/{owner}/{repo}/pulls', { ...repo, head: head.includes(':') ? head : `${repo.owner}:${head}`, base, state: 'open', per_page: PER_PAGE });
      const pr = (res.data as { number: number; html_url: string }[])[0];
      return pr ? { number: pr.number, html_url: pr.html_url } : null;
    });
  }
}
