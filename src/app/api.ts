/**
 * The operator API door (`/api/autonomy/*`): scoped bearer tokens, the incident, halt/resume and
 * verify endpoints and job status. Every body and query is parsed with the core schemas; bad input
 * gets a 4xx with the reason, and GitHub's refusals are not passed off as our own 500s.
 */
import { createHash, randomUUID, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { ControlRequest, HealRequest, RepoFullName, SchemaError, parseRepoFullName, parseWith, scopeCovers, type ApiToken, type HealJob, type RepoRef } from '../core/schemas/index.js';
import type { Intake, JobStatus } from '../intake/index.js';
import type { PipelineContext } from '../pipeline/context.js';
import { safeMessage } from '../pipeline/safe-message.js';
import { flows } from './flows-lazy.js';
import type { PinnedKeys } from '../pipeline/trust.js';
import { HttpError, readJson, sendJson } from './http.js';

export const INCIDENT_BODY_LIMIT = 1024 * 1024;
export const CONTROL_BODY_LIMIT = 64 * 1024;

/** The public result of a heal job (what the worker returns to the intake; no evidence lines, no values). */
export interface JobResult { status: string; summary: string; commentUrl: string | null; issueUrl: string | null; certificate_hash: string | null; decision: unknown; config_loop?: unknown }

/**
 * A job as `GET /api/autonomy/jobs/:id` shows it, read from the intake (so any replica answers for a
 * job another one took). `status` is `queued` until the job is done or failed every try; `state`
 * says more (waiting, running, retrying). A token sees only the jobs of repositories it covers.
 */
export interface JobRecord {
  status: 'queued' | 'done' | 'failed';
  state: JobStatus['state'];
  repository: string;
  attempts: number;
  result?: JobResult;
  error?: string;
}

export const jobRecordOf = (s: JobStatus): JobRecord => ({
  status: s.state === 'done' ? 'done' : s.state === 'failed' ? 'failed' : 'queued',
  state: s.state,
  repository: s.repository,
  attempts: s.attempts,
  ...(s.result !== undefined ? { result: s.result as JobResult } : {}),
  ...(s.error !== undefined ? { error: s.error } : {}),
});

/** How often `?wait=true` looks at the intake for the job's end (it may run on another replica). */
const WAIT_POLL_MS = 100;

export interface ApiDoorDeps {
  tokens: readonly ApiToken[];
  intake: Intake;
  log: Logger;
  contextFor(repo: RepoRef): Promise<PipelineContext>;
  /** The keys GET /api/autonomy/verify trusts (the App's signer, grant keys, LIVING_BRIDGE_TRUSTED_KEYS), never a branch's. */
  trust: PinnedKeys;
  /** Endpoints about the whole installation (dead letters, redelivery); only all-scope tokens reach them. */
  installationWide?(req: IncomingMessage, res: ServerResponse, path: string): Promise<boolean>;
}

const sha256 = (s: string): Buffer => createHash('sha256').update(s).digest();

/** The token the request presents, compared in constant time against every configured one; null: none matches. */
export function authenticate(header: string | undefined, tokens: readonly ApiToken[]): ApiToken | null {
  const match = header ? /^Bearer\s+(\S.*)$/i.exec(header.trim()) : null;
  if (!match) return null;
  const presented = sha256(match[1]!);
  let found: ApiToken | null = null;
  for (const t of tokens) {
    const expected = t.token_sha256 ? Buffer.from(t.token_sha256, 'hex') : sha256(t.token!);
    // Every token is compared (no early exit), so timing says nothing about which one matched.
    if (timingSafeEqual(presented, expected) && found === null) found = t;
  }
  return found;
}

/** Who acted, as the audit trail records it: the token's configured name, never a free-text field. */
export const actorOf = (token: ApiToken): string => `api-token:${token.name}`;

/** GitHub's answer while building a context or acting: a 404 is ours to report as such, anything else is GitHub's. */
export function fromGitHub(err: unknown, repository: string): never {
  if (err instanceof HttpError) throw err;
  // The repository's own files are invalid (e.g. .github/autonomy.yml): the request was fine, the target is not.
  if (err instanceof SchemaError) throw new HttpError(422, err.message, { error: err.message, issues: err.issues });
  const status = (err as { status?: unknown }).status;
  if (status === 404) throw new HttpError(404, `${repository} was not found, or Living Bridge is not installed on it`);
  if (typeof status === 'number') throw new HttpError(502, `GitHub answered ${status} for ${repository}: ${safeMessage(err).slice(0, 200)}`);
  throw err;
}

export function createApiDoor(deps: ApiDoorDeps) {
  const { tokens, intake, log } = deps;

  const job = async (id: string): Promise<JobRecord | null> => {
    const status = await intake.status(id).catch((err: unknown) => {
      log.error({ job: id, err: safeMessage(err) }, 'intake could not say where the job is');
      throw new HttpError(503, 'queue unavailable');
    });
    return status ? jobRecordOf(status) : null;
  };
  /** Until the job is done or failed every try, wherever it runs; null when the intake forgets it. */
  const waitFor = async (id: string): Promise<JobRecord | null> => {
    for (;;) {
      const rec = await job(id);
      if (!rec || rec.status !== 'queued') return rec;
      await new Promise((resolve) => setTimeout(resolve, WAIT_POLL_MS));
    }
  };

  const forbid = (token: ApiToken, repository: string) =>
    new HttpError(403, `token ${token.name} may not act on ${repository} (its scopes: ${token.scopes.join(', ')})`);

  async function contextOf(token: ApiToken, repository: string): Promise<PipelineContext> {
    if (!scopeCovers(token.scopes, repository)) throw forbid(token, repository);
    try {
      return { ...(await deps.contextFor(parseRepoFullName(repository))), actor: actorOf(token) };
    } catch (err) {
      return fromGitHub(err, repository);
    }
  }

  async function incident(req: IncomingMessage, res: ServerResponse, url: URL, token: ApiToken): Promise<void> {
    const request = parseWith(HealRequest, await readJson(req, INCIDENT_BODY_LIMIT), 'request body');
    if (!scopeCovers(token.scopes, request.repository)) throw forbid(token, request.repository);
    const id = randomUUID();
    const job: HealJob = { id, door: 'api', delivery_id: `api-${id}`, received_at: new Date().toISOString(), request, requested_by: actorOf(token) };
    const submitted = await intake.submit(job).catch((err: unknown) => { log.error({ err: safeMessage(err) }, 'intake refused the job'); return null; });
    if (!submitted) return sendJson(res, 503, { error: 'queue unavailable' });
    if (submitted.duplicate) return sendJson(res, 409, { error: 'this run attempt is already being healed', duplicate: true });
    if (url.searchParams.get('wait') === 'true') {
      // The request was served: a heal that failed is reported in the body, not as a server error.
      const rec = await waitFor(id);
      return sendJson(res, 200, { job_id: id, ...(rec ?? { status: 'queued', repository: request.repository }) });
    }
    sendJson(res, 202, { job_id: id, status_url: `/api/autonomy/jobs/${id}` });
  }

  async function control(req: IncomingMessage, res: ServerResponse, token: ApiToken, halt: boolean): Promise<void> {
    const body = parseWith(ControlRequest, await readJson(req, CONTROL_BODY_LIMIT), 'request body');
    const ctx = await contextOf(token, body.repository);
    try {
      const { setHalted } = await flows();
      await setHalted(ctx, body.repository, halt, body.reason ?? (halt ? 'halted through the API' : 'resumed through the API'), actorOf(token));
    } catch (err) {
      fromGitHub(err, body.repository);
    }
    sendJson(res, 200, { repository: body.repository, halted: halt, by: actorOf(token) });
  }

  async function verify(res: ServerResponse, url: URL, token: ApiToken): Promise<void> {
    const repository = parseWith(RepoFullName, url.searchParams.get('repository') ?? '', 'query parameter repository');
    const ctx = await contextOf(token, repository);
    try {
      const { verifyLedger } = await flows();
      const report = await verifyLedger(ctx, repository, deps.trust);
      // No ledger is not "ok": 404 with the report (status "no-ledger"); a broken chain is a 200 with ok: false.
      return sendJson(res, report.status === 'no-ledger' ? 404 : 200, report);
    } catch (err) {
      return fromGitHub(err, repository);
    }
  }

  /** Handles `/api/autonomy/*`; false for any other path. */
  return async function handle(req: IncomingMessage, res: ServerResponse, url: URL): Promise<boolean> {
    const path = url.pathname;
    if (!path.startsWith('/api/autonomy/')) return false;
    const token = authenticate(req.headers.authorization, tokens);
    // No detail: a caller without a valid token learns nothing about why.
    if (!token) return sendJson(res, 401, { error: 'unauthorized' }), true;
    try {
      if (req.method === 'POST' && path === '/api/autonomy/incident') await incident(req, res, url, token);
      else if (req.method === 'POST' && (path === '/api/autonomy/halt' || path === '/api/autonomy/resume')) await control(req, res, token, path.endsWith('halt'));
      else if (req.method === 'GET' && path === '/api/autonomy/verify') await verify(res, url, token);
      else if (req.method === 'GET' && /^\/api\/autonomy\/jobs\/[^/]+$/.test(path)) {
        let id: string;
        try { id = decodeURIComponent(path.slice('/api/autonomy/jobs/'.length)); } catch { id = ''; }
        const rec = await job(id);
        // A job of a repository outside the token's scopes does not exist for it.
        if (!rec || !scopeCovers(token.scopes, rec.repository)) sendJson(res, 404, { error: 'no such job' });
        else sendJson(res, 200, rec);
      } else if (!token.scopes.includes('*')) {
        sendJson(res, 403, { error: `token ${token.name} is scoped to ${token.scopes.join(', ')}; ${path} needs an all-scope token` });
      } else if (!(await deps.installationWide?.(req, res, path))) sendJson(res, 404, { error: 'not found' });
    } catch (err) {
      if (err instanceof SchemaError) sendJson(res, 400, { error: err.message, issues: err.issues });
      else throw err;
    }
    return true;
  };
}
