/**
 * SandboxState: the in-memory GitHub the sandbox serves. Every helper here is usable directly from
 * tests and the demo (no HTTP needed). Secret plaintexts live in a private field and are only
 * reachable through `secretValue()` (for tests) and `secretFingerprint()` (sha256 hex).
 */
import sodium from 'libsodium-wrappers';
import { Chaos } from './chaos.js';
import type { HookDelivery } from './routes/hook-deliveries.js';
import { GitStore, type FlatEntry } from './git.js';
import type {
  AttemptModel, CheckRunModel, CollaboratorRole, CommentModel, EnvironmentModel, IssueModel, JobModel, KeyPair, Level, Permissions,
  PullModel, RepoModel, RunModel, RunTrigger, TokenInfo, VariableRecord, WorkflowModel, WorkflowRequirements,
} from './model.js';
import { ALL_PERMISSIONS } from './model.js';
import { JOB_NAMES, executeAttempt, workflowYaml, type JobName } from './runner.js';
import { deployHealthCheck, jobCheckRuns, runCiOnPull } from './promotion.js';
import { issueCommentPayload, workflowRunPayload } from './shapes.js';
import { SandboxHttpError, isoSeconds, notFound, randomHex, sha256Hex } from './util.js';

/** All-permissions token accepted by every route (a site admin, for tests and the demo). */
export const SANDBOX_ADMIN_TOKEN = 'ghs_sandboxAdminToken000000000000000000';
export const INSTALLATION_ID = 1;
export const APP_ID = 1001;
export const APP_SLUG = 'living-bridge-sandbox';
/** GitHub refuses to re-run a workflow run more than 50 times. */
export const MAX_RERUNS = 50;

export interface StateOptions { now?: () => number }
export interface CreateRepoInput { owner: string; repo: string; defaultBranch?: string; private?: boolean; fork?: boolean }
export interface AddWorkflowInput { name: string; path?: string; requirements?: WorkflowRequirements; commit?: boolean }
export interface CreatePullInput { headSha?: string; headBranch: string; baseBranch?: string; fromFork?: boolean; title?: string; body?: string; user?: string }
export interface WebhookEvent { event: string; payload: Record<string, unknown> }

type RunListener = (owner: string, repo: string, runId: number) => void;
type CommentListener = (owner: string, repo: string, commentId: number) => void;

const SANDBOX_IDENTITY = { name: 'Sandbox', email: 'sandbox@example.com' };

export async function createSandboxState(opts: StateOptions = {}): Promise<SandboxState> {
  await sodium.ready;
  return new SandboxState(opts);
}

export interface SandboxEffect { seq: number; repo: string; kind: 'secret' | 'secret-delete' | 'variable-delete' | 'issue' | 'rerun'; name: string; sha256?: string; env?: string }

export class SandboxState {
  readonly now: () => number;
  readonly chaos = new Chaos();
  /** Send a workflow_run webhook when a run completes (if the server has a webhook target). */
  autoWebhooks = true;
  /** Set by the server once listening. */
  url = 'http://127.0.0.1';
  /** Where completed runs are announced (`workflow_run` webhooks); set by options or `POST /_sandbox/webhook`. */
  webhook: { url: string; secret: string } | null = null;
  /** Outcome of every webhook delivery attempt (no payloads). */
  readonly webhookDeliveries: { id: string; event: string; runId: number; status: number | null; error?: string }[] = [];
  /**
   * Every effect on a repository, in order (value-free: a secret's sha256 only) — what a chaos drill
   * checks for duplicate and unsafe acts. Bounded to the last 200 000.
   */
  readonly effects: SandboxEffect[] = [];
  /** The App's delivery log (`GET /app/hook/deliveries`), oldest first. */
  readonly hookDeliveries: HookDelivery[] = [];
  /** Set by the server: sends a logged delivery again (`POST /app/hook/deliveries/{id}/attempts`). */
  redeliver: ((d: HookDelivery) => void) | null = null;
  readonly repos = new Map<string, RepoModel>();
  readonly jobs = new Map<number, JobModel>();
  readonly installation = { id: INSTALLATION_ID, appId: APP_ID, appSlug: APP_SLUG, permissions: { ...ALL_PERMISSIONS } };

  readonly #secretValues = new Map<string, string>();
  readonly #tokens = new Map<string, TokenInfo>();
  readonly #logUrls = new Map<string, { jobId: number; expiresAt: number }>();
  readonly #runListeners: RunListener[] = [];
  readonly #commentListeners: CommentListener[] = [];
  #ids = 1000;

  constructor(opts: StateOptions = {}) {
    this.now = opts.now ?? (() => Date.now());
    this.#tokens.set(SANDBOX_ADMIN_TOKEN, { token: SANDBOX_ADMIN_TOKEN, permissions: { ...ALL_PERMISSIONS }, login: 'sandbox-admin', type: 'User', expiresAt: null });
  }

  get apiUrl(): string {
    return `${this.url}/api/v3`;
  }

  #effectSeq = 0;
  recordEffect(e: Omit<SandboxEffect, 'seq'>): void {
    this.effects.push({ seq: ++this.#effectSeq, ...e });
    if (this.effects.length > 200_000) this.effects.splice(0, this.effects.length - 200_000);
  }

  nextId(): number {
    this.#ids += 1;
    return this.#ids;
  }

  timestamp(): string {
    return isoSeconds(this.now());
  }

  // ---------------------------------------------------------------- tokens

  /** A token carrying exactly these permissions (e.g. a GITHUB_TOKEN-like `{contents:'read'}`). */
  issueToken(permissions: Record<string, Level>, opts: { login?: string; ttlMs?: number } = {}): string {
    const token = `ghs_${randomHex(18)}`;
    this.#tokens.set(token, {
      token, permissions: { metadata: 'read', ...permissions }, login: opts.login ?? `${APP_SLUG}[bot]`, type: opts.login ? 'User' : 'Bot',
      expiresAt: opts.ttlMs ? this.now() + opts.ttlMs : null,
    });
    return token;
  }

  /** An installation access token as `POST /app/installations/:id/access_tokens` returns it. */
  issueInstallationToken(requested?: Permissions): { token: string; expires_at: string; permissions: Permissions } {
    const permissions = requested && Object.keys(requested).length ? requested : { ...this.installation.permissions };
    const ttl = 3600_000;
    const token = this.issueToken(permissions, { ttlMs: ttl });
    return { token, expires_at: isoSeconds(this.now() + ttl), permissions: this.#tokens.get(token)!.permissions };
  }

  resolveToken(token: string): TokenInfo | undefined {
    const t = this.#tokens.get(token);
    if (!t) return undefined;
    if (t.expiresAt !== null && t.expiresAt <= this.now()) return undefined;
    return t;
  }

  revokeToken(token: string): void {
    if (token !== SANDBOX_ADMIN_TOKEN) this.#tokens.delete(token);
  }

  // ---------------------------------------------------------------- repos

  private key(owner: string, repo: string): string {
    return `${owner}/${repo}`.toLowerCase();
  }

  findRepo(owner: string, repo: string): RepoModel | undefined {
    return this.repos.get(this.key(owner, repo));
  }

  repo(owner: string, repo: string): RepoModel {
    const r = this.findRepo(owner, repo);
    if (!r) throw notFound();
    return r;
  }

  private keyPair(): KeyPair {
    const kp = sodium.crypto_box_keypair();
    return { keyId: String(3380000000000000000n + BigInt(this.nextId()) * 7919n), publicKey: kp.publicKey, privateKey: kp.privateKey };
  }

  createRepo(input: CreateRepoInput): RepoModel {
    if (this.findRepo(input.owner, input.repo)) throw new SandboxHttpError(422, 'Repository creation failed.', { errors: [{ resource: 'Repository', code: 'custom', field: 'name', message: 'name already exists on this account' }] });
    const now = this.timestamp();
    const r: RepoModel = {
      id: this.nextId(), owner: input.owner, name: input.repo, fullName: `${input.owner}/${input.repo}`,
      defaultBranch: input.defaultBranch ?? 'main', private: input.private ?? false, fork: input.fork ?? false,
      created_at: now, pushed_at: now, git: new GitStore(), refs: new Map(), keys: this.keyPair(), secrets: new Map(),
      variables: new Map(), environments: new Map(), workflows: [], runs: [], issues: new Map(), comments: new Map(),
      pulls: new Map(), checkRuns: new Map(), nextNumber: 1, deployments: [],
      mergeMethods: { merge: true, squash: true, rebase: true }, statuses: [], protection: new Map(),
      ci: { workflowOnPullRequests: false, statuses: {}, failNextDeploys: 0 },
      collaborators: new Map([[input.owner.toLowerCase(), 'admin'], ['octocat', 'admin'], ['sandbox-admin', 'admin']]),
    };
    this.repos.set(this.key(input.owner, input.repo), r);
    const name = 'Build & Deploy';
    const path = '.github/workflows/deploy.yml';
    this.commitFiles(r.owner, r.name, r.defaultBranch, {
      'README.md': `# ${r.name}\n\nA repository in the Living Bridge sandbox.\n`,
      [path]: workflowYaml(name, {}),
      'scripts/deploy.sh': '#!/usr/bin/env bash\nset -euo pipefail\necho "Deploying"\n',
    }, 'Initial commit');
    r.workflows.push({ id: this.nextId(), name, path, state: 'active', created_at: now, updated_at: now, requirements: {} });
    return r;
  }

  /** Gives `login` a role on the repository (`null` removes it). */
  setCollaborator(owner: string, repo: string, login: string, role: CollaboratorRole | null): void {
    const r = this.repo(owner, repo);
    if (role) r.collaborators.set(login.toLowerCase(), role);
    else r.collaborators.delete(login.toLowerCase());
  }

  // ---------------------------------------------------------------- git helpers

  /** Commits files (path -> content, null deletes) on top of a branch (created if missing); returns the commit sha. */
  commitFiles(owner: string, repo: string, branch: string, files: Record<string, string | null>, message: string, opts: { parentSha?: string } = {}): string {
    const r = this.repo(owner, repo);
    const parent = opts.parentSha ?? r.refs.get(`refs/heads/${branch}`);
    const flat = new Map<string, FlatEntry>(parent ? r.git.flatten(r.git.commit(parent)!.tree) : []);
    for (const [path, content] of Object.entries(files)) {
      if (content === null) flat.delete(path);
      else flat.set(path, { mode: path.endsWith('.sh') ? '100755' : '100644', type: 'blob', sha: r.git.putBlob(Buffer.from(content)).sha });
    }
    const tree = r.git.buildTree(flat);
    const date = this.timestamp();
    const commit = r.git.putCommit({ tree: tree.sha, parents: parent ? [parent] : [], message, author: { ...SANDBOX_IDENTITY, date }, committer: { ...SANDBOX_IDENTITY, date } });
    r.refs.set(`refs/heads/${branch}`, commit.sha);
    r.pushed_at = date;
    return commit.sha;
  }

  headSha(owner: string, repo: string, branch?: string): string {
    const r = this.repo(owner, repo);
    const sha = r.refs.get(`refs/heads/${branch ?? r.defaultBranch}`);
    if (!sha) throw notFound();
    return sha;
  }

  // ---------------------------------------------------------------- secrets

  private scope(owner: string, repo: string, env?: string): { keys: KeyPair; secrets: Map<string, { name: string; created_at: string; updated_at: string }>; variables: Map<string, VariableRecord> } {
    const r = this.repo(owner, repo);
    if (env === undefined) return r;
    const e = r.environments.get(env);
    if (!e) throw notFound();
    return e;
  }

  private secretKey(owner: string, repo: string, name: string, env?: string): string {
    return `${this.key(owner, repo)}\0${env ?? ''}\0${name.toUpperCase()}`;
  }

  publicKey(owner: string, repo: string, env?: string): { key_id: string; key: string } {
    const { keys } = this.scope(owner, repo, env);
    return { key_id: keys.keyId, key: sodium.to_base64(keys.publicKey, sodium.base64_variants.ORIGINAL) };
  }

  /** PUT semantics: decrypts a sealed box; returns whether the secret was created (201) or updated (204). */
  putEncryptedSecret(owner: string, repo: string, name: string, encryptedValue: string, keyId: string, env?: string): { created: boolean } {
    const s = this.scope(owner, repo, env);
    if (keyId !== s.keys.keyId) throw new SandboxHttpError(422, `Invalid request.\n\nkey_id ${keyId} does not match the current public key.`);
    let plain: string;
    try {
      plain = sodium.to_string(sodium.crypto_box_seal_open(sodium.from_base64(encryptedValue, sodium.base64_variants.ORIGINAL), s.keys.publicKey, s.keys.privateKey));
    } catch {
      throw new SandboxHttpError(422, 'Invalid request.\n\nencrypted_value could not be decrypted with the public key.');
    }
    return this.storeSecret(owner, repo, name, plain, env);
  }

  /** Sets a secret from plaintext (tests and scenario seeding; the HTTP route only accepts sealed boxes). */
  setSecret(owner: string, repo: string, name: string, value: string, env?: string): { created: boolean } {
    return this.storeSecret(owner, repo, name, value, env);
  }

  private storeSecret(owner: string, repo: string, rawName: string, value: string, env?: string): { created: boolean } {
    const name = rawName.toUpperCase();
    if (!/^[A-Z_][A-Z0-9_]*$/.test(name) || name.startsWith('GITHUB_')) throw new SandboxHttpError(422, 'Secret names can only contain alphanumeric characters ([a-z], [A-Z], [0-9]) or underscores (_). Spaces are not allowed. Must start with a letter ([a-z], [A-Z]) or underscores (_). Must not start with GITHUB_.');
    const s = this.scope(owner, repo, env);
    const now = this.timestamp();
    const existing = s.secrets.get(name);
    s.secrets.set(name, { name, created_at: existing?.created_at ?? now, updated_at: now });
    this.#secretValues.set(this.secretKey(owner, repo, name, env), value);
    this.recordEffect({ repo: this.key(owner, repo), kind: 'secret', name, sha256: sha256Hex(value), ...(env ? { env } : {}) });
    return { created: !existing };
  }

  deleteSecret(owner: string, repo: string, name: string, env?: string): void {
    const s = this.scope(owner, repo, env);
    if (!s.secrets.delete(name.toUpperCase())) throw notFound();
    this.#secretValues.delete(this.secretKey(owner, repo, name, env));
    this.recordEffect({ repo: this.key(owner, repo), kind: 'secret-delete', name: name.toUpperCase(), ...(env ? { env } : {}) });
  }

  /** The decrypted plaintext (tests only; never served over HTTP). */
  secretValue(owner: string, repo: string, name: string, env?: string): string | undefined {
    return this.#secretValues.get(this.secretKey(owner, repo, name, env));
  }

  /** sha256 hex of the plaintext, safe to print. */
  secretFingerprint(owner: string, repo: string, name: string, env?: string): string | null {
    const v = this.secretValue(owner, repo, name, env);
    return v === undefined ? null : sha256Hex(v);
  }

  // ---------------------------------------------------------------- variables

  getVariable(owner: string, repo: string, name: string, env?: string): VariableRecord | undefined {
    return this.scope(owner, repo, env).variables.get(name.toUpperCase());
  }

  createVariable(owner: string, repo: string, name: string, value: string, env?: string): VariableRecord {
    const s = this.scope(owner, repo, env);
    const key = name.toUpperCase();
    if (s.variables.has(key)) throw new SandboxHttpError(409, 'Already exists - Variable already exists');
    const now = this.timestamp();
    const v = { name: key, value, created_at: now, updated_at: now };
    s.variables.set(key, v);
    return v;
  }

  updateVariable(owner: string, repo: string, name: string, patch: { name?: string; value?: string }, env?: string): VariableRecord {
    const s = this.scope(owner, repo, env);
    const v = s.variables.get(name.toUpperCase());
    if (!v) throw notFound();
    if (patch.value !== undefined) v.value = patch.value;
    if (patch.name && patch.name.toUpperCase() !== v.name) {
      s.variables.delete(v.name);
      v.name = patch.name.toUpperCase();
      s.variables.set(v.name, v);
    }
    v.updated_at = this.timestamp();
    return v;
  }

  /** Create-or-update helper for tests and seeding. */
  setVariable(owner: string, repo: string, name: string, value: string, env?: string): VariableRecord {
    return this.getVariable(owner, repo, name, env) ? this.updateVariable(owner, repo, name, { value }, env) : this.createVariable(owner, repo, name, value, env);
  }

  deleteVariable(owner: string, repo: string, name: string, env?: string): void {
    if (!this.scope(owner, repo, env).variables.delete(name.toUpperCase())) throw notFound();
    this.recordEffect({ repo: this.key(owner, repo), kind: 'variable-delete', name: name.toUpperCase(), ...(env ? { env } : {}) });
  }

  // ---------------------------------------------------------------- environments

  putEnvironment(owner: string, repo: string, name: string, cfg: Partial<Pick<EnvironmentModel, 'wait_timer' | 'prevent_self_review' | 'reviewers' | 'deployment_branch_policy'>> = {}): { env: EnvironmentModel; created: boolean } {
    const r = this.repo(owner, repo);
    const now = this.timestamp();
    const existing = r.environments.get(name);
    const env: EnvironmentModel = existing ?? {
      id: this.nextId(), name, created_at: now, updated_at: now, wait_timer: 0, prevent_self_review: false, reviewers: [],
      deployment_branch_policy: null, keys: this.keyPair(), secrets: new Map(), variables: new Map(),
    };
    if (cfg.wait_timer !== undefined) env.wait_timer = cfg.wait_timer;
    if (cfg.prevent_self_review !== undefined) env.prevent_self_review = cfg.prevent_self_review;
    if (cfg.reviewers !== undefined) env.reviewers = cfg.reviewers ?? [];
    if (cfg.deployment_branch_policy !== undefined) env.deployment_branch_policy = cfg.deployment_branch_policy;
    env.updated_at = now;
    r.environments.set(name, env);
    return { env, created: !existing };
  }

  deleteEnvironment(owner: string, repo: string, name: string): void {
    const r = this.repo(owner, repo);
    const env = r.environments.get(name);
    if (!env) throw notFound();
    for (const s of env.secrets.keys()) this.#secretValues.delete(this.secretKey(owner, repo, s, name));
    r.environments.delete(name);
  }

  // ---------------------------------------------------------------- workflows and runs

  /** Registers (or replaces, by path) a workflow; by default also commits its YAML to the default branch. */
  addWorkflow(owner: string, repo: string, input: AddWorkflowInput): WorkflowModel {
    const r = this.repo(owner, repo);
    const path = input.path ?? '.github/workflows/deploy.yml';
    const requirements = input.requirements ?? {};
    const now = this.timestamp();
    let wf = r.workflows.find((w) => w.path === path);
    if (wf) Object.assign(wf, { name: input.name, requirements, updated_at: now });
    else {
      wf = { id: this.nextId(), name: input.name, path, state: 'active', created_at: now, updated_at: now, requirements };
      r.workflows.push(wf);
    }
    if (requirements.environment && !r.environments.has(requirements.environment)) this.putEnvironment(owner, repo, requirements.environment);
    if (input.commit !== false) {
      const yaml = workflowYaml(input.name, requirements);
      const current = r.git.fileAt(this.headSha(owner, repo), path);
      if (current?.content.toString() !== yaml) this.commitFiles(owner, repo, r.defaultBranch, { [path]: yaml }, `ci: ${input.name}`);
    }
    return wf;
  }

  workflow(r: RepoModel, idOrFile: string | number): WorkflowModel | undefined {
    return r.workflows.find((w) => String(w.id) === String(idOrFile) || w.path === idOrFile || w.path.split('/').pop() === idOrFile || w.name === idOrFile);
  }

  run(owner: string, repo: string, runId: number): RunModel {
    const run = this.repo(owner, repo).runs.find((x) => x.id === runId);
    if (!run) throw notFound();
    return run;
  }

  latestAttempt(run: RunModel): AttemptModel {
    return run.attempts[run.attempts.length - 1]!;
  }

  /** Executes a workflow against the current state and records a completed run (attempt 1). */
  triggerRun(owner: string, repo: string, workflowName: string, trigger: RunTrigger = {}): RunModel {
    const r = this.repo(owner, repo);
    const wf = this.workflow(r, workflowName);
    if (!wf) throw notFound();
    const pull = trigger.pullRequest !== undefined ? r.pulls.get(trigger.pullRequest) : undefined;
    const fromFork = trigger.fromFork ?? pull?.fromFork ?? false;
    const headBranch = trigger.headBranch ?? pull?.headRef ?? r.defaultBranch;
    const headSha = trigger.headSha ?? pull?.headSha ?? r.refs.get(`refs/heads/${headBranch}`) ?? this.headSha(owner, repo);
    const run: RunModel = {
      id: this.nextId() + 7_000_000_000, workflowId: wf.id, name: wf.name, path: wf.path,
      runNumber: r.runs.filter((x) => x.workflowId === wf.id).length + 1,
      event: trigger.event ?? (trigger.pullRequest !== undefined ? 'pull_request' : 'push'),
      headSha, headBranch, headRepoFullName: fromFork ? `${trigger.actor && !trigger.actor.endsWith('[bot]') ? trigger.actor : 'contributor'}/${r.name}` : r.fullName,
      pullRequests: fromFork || trigger.pullRequest === undefined ? [] : [trigger.pullRequest],
      actor: trigger.actor ?? 'octocat', fromFork, created_at: this.timestamp(), attempts: [],
    };
    r.runs.push(run);
    this.executeAttempt(r, run, new Set(JOB_NAMES), run.actor);
    return run;
  }

  /**
   * Re-runs a run as attempt n+1 against the current state: all jobs, or only the failed ones (and the
   * jobs that depend on them), carrying the successful jobs over. 403 past GitHub's cap of 50 re-runs.
   */
  rerun(owner: string, repo: string, runId: number, mode: 'all' | 'failed', actor = 'octocat'): AttemptModel {
    const r = this.repo(owner, repo);
    const run = this.run(owner, repo, runId);
    if (run.attempts.length > MAX_RERUNS) throw new SandboxHttpError(403, `This workflow run cannot be re-run: it has already been re-run the maximum of ${MAX_RERUNS} times.`);
    const last = this.latestAttempt(run);
    let toRun = new Set<JobName>(JOB_NAMES);
    if (mode === 'failed') {
      const failed = last.jobIds.map((id) => this.jobs.get(id)!).filter((j) => j.conclusion === 'failure' || j.conclusion === 'cancelled');
      if (!failed.length) throw new SandboxHttpError(403, 'This workflow run has no failed jobs to re-run.');
      toRun = new Set(failed.map((j) => j.name as JobName));
      if (toRun.has('build')) toRun.add('deploy');
    }
    this.recordEffect({ repo: this.key(owner, repo), kind: 'rerun', name: `run ${runId} attempt ${run.attempts.length}` });
    return this.executeAttempt(r, run, toRun, actor);
  }

  private executeAttempt(r: RepoModel, run: RunModel, toRun: Set<JobName>, actor: string): AttemptModel {
    const wf = r.workflows.find((w) => w.id === run.workflowId)!;
    const req = wf.requirements;
    const attempt = run.attempts.length + 1;
    const prev = run.attempts[run.attempts.length - 1];
    const carried = new Map<JobName, JobModel>((prev?.jobIds ?? []).map((id) => [this.jobs.get(id)!.name as JobName, this.jobs.get(id)!]));
    const noSecrets = run.fromFork || run.actor === 'dependabot[bot]';
    const secrets: Record<string, string> = {};
    const variables: Record<string, string> = {};
    for (const v of r.variables.values()) variables[v.name] = v.value;
    if (!noSecrets) for (const s of r.secrets.keys()) secrets[s] = this.secretValue(r.owner, r.name, s)!;
    const env = req.environment ? r.environments.get(req.environment) : undefined;
    if (env) {
      for (const v of env.variables.values()) variables[v.name] = v.value;
      if (!noSecrets) for (const s of env.secrets.keys()) secrets[s] = this.secretValue(r.owner, r.name, s, env.name)!;
    }
    const startMs = this.now();
    const configFile = req.config ? r.git.fileAt(run.headSha, req.config.path) : undefined;
    const { jobs, executed } = executeAttempt({
      runId: run.id, attempt, repoFullName: r.fullName, workflowName: wf.name, requirements: req, headSha: run.headSha,
      headBranch: run.headBranch, startMs, secrets, variables,
      secretSource: noSecrets ? (run.actor === 'dependabot[bot]' ? 'Dependabot' : 'None') : 'Actions',
      toRun, carried, nextJobId: () => this.nextId() + 30_000_000_000,
      ...(req.config ? { configText: configFile ? configFile.content.toString('utf8') : null } : {}),
      healthCheck: deployHealthCheck(r, run),
    });
    for (const j of jobs) this.jobs.set(j.id, j);
    jobCheckRuns(this, r, executed);
    // Like GitHub: a job that targets an environment creates a deployment for the run's commit when it runs.
    const deployJob = jobs.find((j) => j.name === 'deploy' && j.runAttempt === attempt && j.conclusion !== 'skipped');
    if (req.environment && deployJob) {
      r.deployments.push({ id: this.nextId(), sha: run.headSha, ref: run.headBranch, task: 'deploy', environment: req.environment, creator: 'github-actions[bot]', created_at: deployJob.started_at, runId: run.id });
    }
    const end = Math.max(...jobs.map((j) => Date.parse(j.completed_at)), startMs);
    const a: AttemptModel = {
      attempt, status: 'completed', conclusion: jobs.some((j) => j.conclusion === 'failure') ? 'failure' : 'success',
      created_at: run.created_at, run_started_at: isoSeconds(startMs), updated_at: isoSeconds(end), jobIds: jobs.map((j) => j.id), triggeringActor: actor,
    };
    run.attempts.push(a);
    for (const l of this.#runListeners) l(r.owner, r.name, run.id);
    return a;
  }

  /** Called with every completed run or re-run (the server uses it to deliver webhooks). */
  onRunCompleted(listener: RunListener): () => void {
    this.#runListeners.push(listener);
    return () => {
      const i = this.#runListeners.indexOf(listener);
      if (i >= 0) this.#runListeners.splice(i, 1);
    };
  }

  /** The `workflow_run.completed` webhook GitHub would send for this run's latest attempt. */
  webhookPayloadFor(owner: string, repo: string, runId: number): WebhookEvent {
    return { event: 'workflow_run', payload: workflowRunPayload(this, this.repo(owner, repo), this.run(owner, repo, runId)) };
  }

  // ---------------------------------------------------------------- logs

  /** A short-lived (60 s) download path for a job's log, as GitHub's 302 Location. */
  createLogUrl(jobId: number): string {
    const token = randomHex(16);
    this.#logUrls.set(token, { jobId, expiresAt: this.now() + 60_000 });
    return `${this.url}/_logs/${token}`;
  }

  /** 'expired' once the 60 s are over, undefined if unknown. */
  resolveLogToken(token: string): JobModel | 'expired' | undefined {
    const e = this.#logUrls.get(token);
    if (!e) return undefined;
    if (this.now() > e.expiresAt) return 'expired';
    return this.jobs.get(e.jobId);
  }

  // ---------------------------------------------------------------- issues, pulls, checks

  createIssue(owner: string, repo: string, input: { title: string; body?: string | null; labels?: string[]; assignees?: string[]; user?: string }): IssueModel {
    const r = this.repo(owner, repo);
    const now = this.timestamp();
    const issue: IssueModel = {
      id: this.nextId(), number: r.nextNumber++, title: input.title, body: input.body ?? null, state: 'open', state_reason: null,
      labels: input.labels ?? [], assignees: input.assignees ?? [], user: input.user ?? 'octocat', created_at: now, updated_at: now, closed_at: null, isPull: false,
    };
    r.issues.set(issue.number, issue);
    this.recordEffect({ repo: this.key(owner, repo), kind: 'issue', name: issue.title });
    return issue;
  }

  createComment(owner: string, repo: string, issueNumber: number, body: string, user = 'octocat'): CommentModel {
    const r = this.repo(owner, repo);
    const issue = r.issues.get(issueNumber);
    if (!issue) throw notFound();
    const now = this.timestamp();
    const c: CommentModel = { id: this.nextId() + 1_000_000_000, issueNumber, body, user, created_at: now, updated_at: now };
    r.comments.set(c.id, c);
    issue.updated_at = now;
    for (const l of this.#commentListeners) l(r.owner, r.name, c.id);
    return c;
  }

  /** Called after every new issue or PR comment (the server sends `issue_comment.created` for it). */
  onCommentCreated(listener: CommentListener): () => void {
    this.#commentListeners.push(listener);
    return () => {
      const i = this.#commentListeners.indexOf(listener);
      if (i >= 0) this.#commentListeners.splice(i, 1);
    };
  }

  /** The `issue_comment.created` webhook GitHub would send for this comment. */
  commentPayloadFor(owner: string, repo: string, commentId: number): WebhookEvent {
    const r = this.repo(owner, repo);
    const c = r.comments.get(commentId);
    if (!c) throw notFound();
    return { event: 'issue_comment', payload: issueCommentPayload(this, r, c) };
  }

  /** Opens a pull request (an issue too, sharing the numbering). The head branch is created if needed. */
  createPullRequest(owner: string, repo: string, input: CreatePullInput): PullModel {
    const r = this.repo(owner, repo);
    const fromFork = input.fromFork ?? false;
    let headSha = input.headSha;
    if (!fromFork) {
      const ref = `refs/heads/${input.headBranch}`;
      if (!r.refs.has(ref)) {
        headSha ??= this.commitFiles(owner, repo, input.headBranch, { [`changes/${input.headBranch}.md`]: `Change on ${input.headBranch}\n` }, `Change on ${input.headBranch}`, { parentSha: this.headSha(owner, repo) });
        r.refs.set(ref, headSha);
      }
      headSha ??= r.refs.get(ref)!;
    }
    headSha ??= randomHex(20);
    const issue = this.createIssue(owner, repo, { title: input.title ?? `Update ${input.headBranch}`, body: input.body ?? null, user: input.user ?? (fromFork ? 'contributor' : 'octocat') });
    issue.isPull = true;
    const pull: PullModel = {
      number: issue.number, id: this.nextId(), headRef: input.headBranch, headSha, headRepoFullName: fromFork ? `${issue.user}/${r.name}` : r.fullName,
      baseRef: input.baseBranch ?? r.defaultBranch, fromFork, merged: false, draft: false, merged_at: null, merge_commit_sha: null, merged_by: null,
    };
    r.pulls.set(pull.number, pull);
    runCiOnPull(this, r, pull);
    return pull;
  }

  createCheckRun(owner: string, repo: string, input: Partial<CheckRunModel> & { name: string; head_sha: string }): CheckRunModel {
    const r = this.repo(owner, repo);
    const c: CheckRunModel = {
      ...(input.app ? { app: input.app } : {}),
      id: this.nextId() + 2_000_000_000, name: input.name, head_sha: input.head_sha, status: input.status ?? (input.conclusion ? 'completed' : 'queued'),
      conclusion: input.conclusion ?? null, started_at: input.started_at ?? this.timestamp(), completed_at: input.completed_at ?? (input.conclusion ? this.timestamp() : null),
      details_url: input.details_url ?? null, external_id: input.external_id ?? null,
      output: input.output ?? { title: null, summary: null, text: null, annotations_count: 0 },
    };
    r.checkRuns.set(c.id, c);
    return c;
  }

  /** A compact, value-free picture of a repository (the `/_sandbox/state` control endpoint). */
  summary(owner: string, repo: string): Record<string, unknown> {
    const r = this.repo(owner, repo);
    const secrets = (m: Map<string, { name: string; updated_at: string }>, env?: string) =>
      [...m.values()].map((s) => ({ name: s.name, updated_at: s.updated_at, sha256: this.secretFingerprint(owner, repo, s.name, env) }));
    return {
      full_name: r.fullName,
      default_branch: r.defaultBranch,
      secrets: secrets(r.secrets),
      variables: [...r.variables.values()].map(({ name, value }) => ({ name, value })),
      environments: [...r.environments.values()].map((e) => ({ name: e.name, secrets: secrets(e.secrets, e.name), variables: [...e.variables.values()].map(({ name, value }) => ({ name, value })) })),
      workflows: r.workflows.map((w) => ({ id: w.id, name: w.name, path: w.path, requirements: w.requirements })),
      runs: r.runs.map((run) => {
        const a = this.latestAttempt(run);
        return { id: run.id, name: run.name, run_attempt: a.attempt, conclusion: a.conclusion, head_sha: run.headSha, event: run.event, actor: run.actor, attempts: run.attempts.map((x) => x.conclusion) };
      }),
      issues: [...r.issues.values()].map((i) => ({ number: i.number, title: i.title, state: i.state, pull_request: i.isPull, labels: i.labels })),
      comments: [...r.comments.values()].map((c) => ({ id: c.id, issue_number: c.issueNumber, user: c.user, body: c.body })),
      refs: Object.fromEntries(r.refs),
      check_runs: [...r.checkRuns.values()].map((c) => ({ id: c.id, name: c.name, head_sha: c.head_sha, status: c.status, conclusion: c.conclusion })),
    };
  }
}
