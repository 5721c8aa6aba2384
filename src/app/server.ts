import { createHmac } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { createProbot } from 'probot';
import type { Signer } from '../core/certificate/index.js';
import { HealJob, HealRequest, RepoFullName, SchemaError, WorkflowRunSnapshot, parseRepoFullName, parseWith, type Door, type RepoRef } from '../core/schemas/index.js';
import { findRepoInstallation, runFromWebhook } from '../github/index.js';
import { createIntake, type Intake } from '../intake/index.js';
import { parseApprovalCommand } from '../pipeline/approval-command.js';
import { handleLabelComment, parseLabelCommand, type LabelCommand } from '../pipeline/label.js';
import { CheckSignals, checkEventCommit } from '../pipeline/check-signals.js';
import { OutageStores } from '../pipeline/outage.js';
import { buildContext, loadSigner } from '../pipeline/build-context.js';
import type { HealResult, PipelineContext } from '../pipeline/context.js';
import { safeMessage } from '../pipeline/safe-message.js';
import { pinnedKeys } from '../pipeline/trust.js';
import { readAppSettings, type AppSettings } from './config.js';
import { authenticate, createApiDoor, type JobResult } from './api.js';
import { HttpError, readBody, sendJson } from './http.js';
import { requestPolicyFrom } from '../github/request-policy.js';
import { livingBridgeProbotOctokit } from './octokit.js';
import { announceDeadLetter, deadLetterRoute, redeliverySweeper, type AppClient } from './reliability.js';
import { createObservability } from './observability.js';
import { startEnvSyncSchedule } from './schedule.js';
import { createAppLogger } from './logger.js';
import { installedRepositories } from './installations.js';
import { VERSION } from '../version.js';
import { flows } from './flows-lazy.js';

export interface RunningApp {
  url: string;
  port: number;
  intake: Intake;
  close(): Promise<void>;
}


/** A short summary safe to return over HTTP: no evidence lines beyond the masked ones, no values. */
const publicResult = (r: HealResult): JobResult => ({
  status: r.status,
  summary: r.summary,
  commentUrl: r.commentUrl,
  issueUrl: r.issueUrl,
  certificate_hash: r.certificate?.certificate_hash ?? null,
  decision: r.decision,
  ...(r.configLoop ? { config_loop: r.configLoop } : {}),
});

export async function startApp(env: Record<string, string | undefined> = process.env, opts: { log?: Logger } = {}): Promise<RunningApp> {
  const settings = readAppSettings(env);
  const sweepSeconds = redeliverySweepSeconds(env);
  const signer = await loadSigner(env);
  const root = opts.log ?? createAppLogger(env);
  const log = opts.log ?? root.child({ name: 'living-bridge' });
  const policy = requestPolicyFrom(env, settings.clientPacing);
  const probot = createProbot({
    env: { ...env, LOG_LEVEL: env.LOG_LEVEL ?? 'warn' } as NodeJS.ProcessEnv,
    // One logger for everything the process prints (JSON lines unless LOG_FORMAT=pretty).
    overrides: { Octokit: livingBridgeProbotOctokit(policy, log.child({ component: 'github' })), log: root },
  });
  const intake = await createIntake(env, log);
  // check_suite / check_run / status webhooks wake a config loop waiting on that commit's checks.
  const checkSignals = new CheckSignals();
  // The outage brake: each installation's recent transient failures (src/pipeline/outage.ts).
  const outageStores = new OutageStores();

  const observability = createObservability({
    env,
    intake,
    log,
    allScopeToken: (authorization) => authenticate(authorization, settings.apiTokens)?.scopes.includes('*') ?? false,
    statusSessionKey: createHmac('sha256', settings.webhookSecret).update('living-bridge status session').digest('hex'),
    pingGitHub: async () => { await observability.instrument(await probot.auth()).request('GET /app'); },
    contextFor: (repo) => contextFor(repo, 'api'),
    listRepositories: () => installedRepositories(probot, observability.instrument),
  });
  /** `bindings` name the unit of work in every line its flow logs (one child logger per delivery). */
  const contextFor = async (repo: RepoRef, door: Door, installationId?: number, bindings: Record<string, unknown> = {}): Promise<PipelineContext> => {
    const id = installationId ?? (await findRepoInstallation(await probot.auth(), repo));
    const octokit = observability.instrument(await probot.auth(id));
    const ctx = buildContext({ octokit: octokit as never, signer, env, door, repository: `${repo.owner}/${repo.repo}`, log: log.child({ ...bindings, repository: `${repo.owner}/${repo.repo}` }) });
    return { ...ctx, observer: observability.observer, checkSignals, outages: outageStores.for(id) };
  };

  // The worker's public result is kept by the intake with the job: GET /api/autonomy/jobs/:id reads it there.
  intake.start(async (job) => {
    const started = performance.now();
    try {
      const ctx = await contextFor(parseRepoFullName(job.request.repository), job.door, job.installation_id, { job: job.id, delivery: job.delivery_id });
      // Steps record their intent in the intake, so a replay after a crash resumes instead of repeating.
      const { heal } = await flows();
      const result = await heal({ ...ctx, intents: intake.intents, ...(job.requested_by ? { actor: job.requested_by } : {}) }, job);
      observability.recordHeal(job, { result }, (performance.now() - started) / 1000);
      return publicResult(result);
    } catch (err) {
      observability.recordHeal(job, { error: err }, (performance.now() - started) / 1000);
      // The intake keeps the message with the job (retrying, then failed): never a secret value.
      throw new Error(safeMessage(err), { cause: err });
    }
  }, {
    onDead: (dead) => announceDeadLetter(contextFor, dead, log).catch((err: unknown) => log.error({ job: dead.id, err: safeMessage(err) }, 'could not announce the dead-lettered job on its run')),
  });
  const sweeper = redeliverySweeper({ app: async () => (await probot.auth()) as unknown as AppClient, intake, log });
  const stopSweeping = sweeper.start(sweepSeconds);

  const server = createServer((req, res) => {
    route(req, res).catch((err: unknown) => {
      if (!(err instanceof HttpError)) log.error({ err: safeMessage(err) }, 'request failed');
      // An answer already on its way cannot be replaced; the connection ends with it.
      if (res.headersSent) return void res.end();
      // A 500 is a bug of ours: every known refusal is an HttpError with its own status and reason.
      if (err instanceof HttpError) return sendJson(res, err.status, err.body ?? { error: err.message });
      sendJson(res, 500, { error: 'internal error' });
    });
  });

  const api = createApiDoor({
    tokens: settings.apiTokens,
    intake,
    log,
    contextFor: (repo) => contextFor(repo, 'api'),
    // Verification trusts this App's own signer, its grant keys and LIVING_BRIDGE_TRUSTED_KEYS (older or
    // rotated keys), never keys listed on a ledger branch. A bad entry stops the start, naming it.
    trust: pinnedKeys({ env, signer }),
    // The dead-letter queue and the redelivery sweep span every repository: all-scope tokens only.
    installationWide: async (req, res, path) => {
      if (await deadLetterRoute(intake, req, res, path)) return true;
      if (req.method === 'POST' && path === '/api/autonomy/redeliveries/sweep') return sendJson(res, 200, await sweeper.sweep()), true;
      return false;
    },
  });

  async function route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let url: URL;
    try {
      url = new URL(req.url ?? '/', 'http://localhost');
    } catch {
      return sendJson(res, 400, { error: 'not a valid request path' });
    }
    const path = url.pathname;
    if (await observability.handle(req, res, url)) return;
    if (req.method === 'GET' && (path === '/healthz' || path === '/')) {
      return sendJson(res, 200, { ok: true, app: 'living-bridge', version: VERSION, queue: intake.stats(), signer_keyid: signer.keyid, autonomy_enabled: settings.autonomyEnabled });
    }
    if (req.method === 'POST' && path === (env.WEBHOOK_PATH ?? '/api/github/webhooks')) return webhook(req, res);
    if (await api(req, res, url)) return;
    sendJson(res, 404, { error: 'not found' });
  }

  async function webhook(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = (await readBody(req)).toString('utf8');
    const signature = req.headers['x-hub-signature-256'];
    const deliveryId = req.headers['x-github-delivery'];
    const event = req.headers['x-github-event'];
    // One child logger per delivery: every line about it carries its id.
    const dlog = log.child({ delivery: deliveryId, event });
    if (typeof signature !== 'string' || !(await probot.webhooks.verify(body, signature).catch(() => false))) {
      dlog.warn('rejected webhook with a missing or invalid signature');
      return sendJson(res, 401, { error: 'signature does not match' });
    }
    if (typeof deliveryId !== 'string' || typeof event !== 'string') return sendJson(res, 400, { error: 'missing X-GitHub-Delivery or X-GitHub-Event' });
    let parsed: unknown;
    try {
      parsed = JSON.parse(body);
    } catch {
      return sendJson(res, 400, { error: 'body is not JSON' });
    }
    // GitHub always sends an object; `null`, arrays and scalars are not a webhook payload.
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) return sendJson(res, 400, { error: 'body is not a JSON object' });
    const payload = parsed as Record<string, unknown>;
    if (event === 'workflow_run') {
      let job: ReturnType<typeof jobFromWorkflowRun>;
      try {
        job = jobFromWorkflowRun(payload, deliveryId);
      } catch (err) {
        // Signed, but not a workflow_run GitHub would send (a negative id, attempt 0, "not a repo").
        if (err instanceof SchemaError) return sendJson(res, 422, { error: err.message, issues: err.issues });
        throw err;
      }
      if ('ignored' in job) return sendJson(res, 202, { ignored: job.ignored });
      const submitted = await intake.submit(job.job).catch((err: unknown) => { dlog.error({ err: safeMessage(err) }, 'intake refused the job'); return null; });
      // Not recorded: a 503 lets GitHub keep the delivery as failed, to be redelivered; a 202 would lose it.
      if (!submitted) return sendJson(res, 503, { error: 'queue unavailable' });
      return sendJson(res, 202, { job_id: job.job.id, duplicate: submitted.duplicate });
    }
    if (event === 'issue_comment' && payload.action === 'created') {
      const comment = payload.comment as { body?: unknown; user?: { login?: string; type?: string } } | undefined;
      const text = typeof comment?.body === 'string' ? comment.body : '';
      const label = parseLabelCommand(text);
      if (label) return labelComment(res, payload, comment, label, deliveryId);
      const command = text ? parseApprovalCommand(text) : null;
      if (!command) return sendJson(res, 202, { ignored: 'not a /bridge command' });
      // Bots (including Living Bridge itself, whose comments quote the command) never approve.
      if (comment?.user?.type === 'Bot' || /\[bot\]$/.test(comment?.user?.login ?? '')) return sendJson(res, 202, { ignored: 'commands from bots are ignored' });
      const repository = (payload.repository as { full_name?: unknown } | undefined)?.full_name;
      const named = RepoFullName.safeParse(repository);
      if (!named.success) return sendJson(res, 422, { error: 'issue_comment payload: repository.full_name must be "owner/name"' });
      const rawInstallation = (payload.installation as { id?: unknown } | undefined)?.id;
      const installationId = typeof rawInstallation === 'number' && Number.isSafeInteger(rawInstallation) && rawInstallation > 0 ? rawInstallation : undefined;
      const rawIssue = (payload.issue as { number?: unknown } | undefined)?.number;
      const issueNumber = typeof rawIssue === 'number' && Number.isSafeInteger(rawIssue) && rawIssue > 0 ? rawIssue : null;
      sendJson(res, 202, { accepted: command.verb });
      // Approvals are quick and idempotent (a second approve finds nothing pending); run them after answering.
      void (async () => {
        try {
          const repo = parseRepoFullName(named.data);
          const ctx = await contextFor(repo, 'webhook', installationId, { delivery: deliveryId });
          const { handleApprovalComment } = await flows();
          const outcome = await handleApprovalComment(ctx, { repository: named.data, issueNumber, actor: comment?.user?.login ?? 'unknown', command });
          observability.recordApproval(named.data, comment?.user?.login ?? 'unknown', outcome.result);
        } catch (err) {
          dlog.error({ err: safeMessage(err) }, 'approval command failed');
        }
      })();
      return;
    }
    if (event === 'check_suite' || event === 'check_run' || event === 'status') {
      const commit = checkEventCommit(event, payload);
      if (commit) checkSignals.notify(commit.repository, commit.sha);
      return sendJson(res, 202, commit ? { noted: `${event} of ${commit.sha.slice(0, 7)}` } : { ignored: `${event} without a repository and commit` });
    }
    sendJson(res, 202, { ignored: `event ${event} is not handled` });
  }

  /** `/bridge label <signature> <kind>`: answered at once, stored after (writers only; bots ignored). */
  function labelComment(res: ServerResponse, payload: Record<string, unknown>, comment: { user?: { login?: string; type?: string } } | undefined, command: LabelCommand | { error: string }, deliveryId: string): void {
    if (comment?.user?.type === 'Bot' || /\[bot\]$/.test(comment?.user?.login ?? '')) return sendJson(res, 202, { ignored: 'commands from bots are ignored' });
    const named = RepoFullName.safeParse((payload.repository as { full_name?: unknown } | undefined)?.full_name);
    if (!named.success) return sendJson(res, 422, { error: 'issue_comment payload: repository.full_name must be "owner/name"' });
    const rawInstallation = (payload.installation as { id?: unknown } | undefined)?.id;
    const installationId = typeof rawInstallation === 'number' && Number.isSafeInteger(rawInstallation) && rawInstallation > 0 ? rawInstallation : undefined;
    const rawIssue = (payload.issue as { number?: unknown } | undefined)?.number;
    const issueNumber = typeof rawIssue === 'number' && Number.isSafeInteger(rawIssue) && rawIssue > 0 ? rawIssue : null;
    sendJson(res, 202, { accepted: 'label' });
    void (async () => {
      try {
        const ctx = await contextFor(parseRepoFullName(named.data), 'webhook', installationId, { delivery: deliveryId });
        await handleLabelComment(ctx, { repository: named.data, issueNumber, actor: comment?.user?.login ?? 'unknown', command });
      } catch (err) {
        log.error({ err: safeMessage(err) }, 'label command failed');
      }
    })();
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(settings.port, settings.host, () => resolve());
  });
  const address = server.address() as { port: number };
  const url = `http://${settings.host}:${address.port}`;
  log.info({ url, keyid: signer.keyid }, 'Living Bridge is listening');
  const schedule = startEnvSyncSchedule({ env, settings, probot, signer, log, instrument: (o) => observability.instrument(o), observer: observability.observer });
  return {
    url,
    port: address.port,
    intake,
    async close() {
      stopSweeping();
      log.info('Living Bridge is stopping: no new requests; draining the queue and event deliveries');
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await schedule?.stop();
      await intake.close();
      await observability.close();
      log.info({ queue: intake.stats(), deliveries: observability.events?.deliveries().length ?? 0 }, 'Living Bridge stopped after draining');
    },
  };
}

/** workflow_run.completed → a heal job; everything else about workflow runs is ignored. */
export function jobFromWorkflowRun(payload: Record<string, unknown>, deliveryId: string): { job: HealJob } | { ignored: string } {
  const run = payload.workflow_run as { id?: number; run_attempt?: number; conclusion?: string | null } | undefined;
  const repository = (payload.repository as { full_name?: string } | undefined)?.full_name;
  if (payload.action !== 'completed') return { ignored: `workflow_run.${String(payload.action)}` };
  if (!run || typeof run.id !== 'number' || !repository) return { ignored: 'payload has no workflow_run or repository' };
  // Failures are healed; a success after a re-run is the outcome the Governor learns from.
  if (run.conclusion !== 'failure' && !(run.conclusion === 'success' && (run.run_attempt ?? 1) > 1)) {
    return { ignored: `conclusion ${String(run.conclusion)}` };
  }
  const installationId = (payload.installation as { id?: number } | undefined)?.id;
  const request = parseWith(HealRequest, { repository, run_id: run.id, run_attempt: run.run_attempt ?? 1 }, 'workflow_run payload');
  return {
    job: {
      id: `wh-${deliveryId}`,
      door: 'webhook',
      delivery_id: deliveryId,
      received_at: new Date().toISOString(),
      installation_id: installationId,
      request,
      // The payload carries the whole run: the worker need not read it again (if it is complete).
      ...snapshotOf(payload),
    },
  };
}

function snapshotOf(payload: Record<string, unknown>): { workflow_run?: WorkflowRunSnapshot } {
  try {
    const parsed = WorkflowRunSnapshot.safeParse(runFromWebhook(payload.workflow_run as Parameters<typeof runFromWebhook>[0], payload.repository as { full_name?: string }));
    return parsed.success ? { workflow_run: parsed.data } : {};
  } catch {
    return {};
  }
}

export type { AppSettings, Signer };

/** LIVING_BRIDGE_REDELIVERY_SWEEP_SECONDS: how often failed deliveries are looked for (default 300; 0 = never). */
function redeliverySweepSeconds(env: Record<string, string | undefined>): number {
  const raw = env.LIVING_BRIDGE_REDELIVERY_SWEEP_SECONDS;
  const n = raw === undefined || raw.trim() === '' ? 300 : Number(raw);
  if (!Number.isFinite(n) || n < 0) throw new Error('LIVING_BRIDGE_REDELIVERY_SWEEP_SECONDS must be a number of seconds (0 turns the sweeper off)');
  return n;
}
