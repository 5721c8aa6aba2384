import { createHmac } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { createProbot } from 'probot';
import type { Signer } from '../core/certificate/index.js';
import { parseRepoFullName, type Door, type RepoRef } from '../core/schemas/index.js';
import { findRepoInstallation } from '../github/index.js';
import { createIntake, type Intake } from '../intake/index.js';
import { CheckSignals } from '../pipeline/check-signals.js';
import { OutageStores } from '../pipeline/outage.js';
import { buildContext, loadSigner } from '../pipeline/build-context.js';
import type { HealResult, PipelineContext } from '../pipeline/context.js';
import { safeMessage } from '../pipeline/safe-message.js';
import { pinnedKeys } from '../pipeline/trust.js';
import { readAppSettings, type AppSettings } from './config.js';
import { authenticate, createApiDoor, type JobResult } from './api.js';
import { HttpError, sendJson } from './http.js';
import { livingBridgeProbotOctokit } from './octokit.js';
import { announceDeadLetter, deadLetterRoute, redeliverySweeper, type AppClient } from './reliability.js';
import { createObservability } from './observability.js';
import { startEnvSyncSchedule } from './schedule.js';
import { createAppLogger } from './logger.js';
import { installedRepositories } from './installations.js';
import { VERSION } from '../version.js';
import { flows } from './flows-lazy.js';
import { createWebhookRoute, livingBridgeApp } from './webhooks.js';

export { jobFromWorkflowRun } from './webhooks.js';

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
  const signer = await loadSigner(env);
  const root = opts.log ?? createAppLogger(env);
  const log = opts.log ?? root.child({ name: 'living-bridge' });
  const policy = { pacing: settings.pipeline.clientPacing, timeoutMs: settings.pipeline.requestTimeoutMs };
  const probot = createProbot({
    env: { ...env, LOG_LEVEL: env.LOG_LEVEL ?? 'warn' } as NodeJS.ProcessEnv,
    // One logger for everything the process prints (JSON lines unless LOG_FORMAT=pretty).
    overrides: { Octokit: livingBridgeProbotOctokit(policy, log.child({ component: 'github' })), log: root },
  });
  const intake = await createIntake({ ...settings.storage, concurrency: settings.concurrency }, log);
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
  // Verification trusts this App's own signer, its grant keys and LIVING_BRIDGE_TRUSTED_KEYS (older or
  // rotated keys), never keys listed on a ledger branch. A bad entry stops the start, naming it.
  const trust = pinnedKeys({ env, signer });
  const contextFor = async (repo: RepoRef, door: Door, installationId?: number, bindings: Record<string, unknown> = {}): Promise<PipelineContext> => {
    const id = installationId ?? (await findRepoInstallation(await probot.auth(), repo));
    const octokit = observability.instrument(await probot.auth(id));
    const ctx = buildContext({ octokit: octokit as never, signer, settings: settings.pipeline, door, repository: `${repo.owner}/${repo.repo}`, log: log.child({ ...bindings, repository: `${repo.owner}/${repo.repo}` }) });
    return { ...ctx, trust, observer: observability.observer, checkSignals, outages: outageStores.for(id) };
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
  const stopSweeping = sweeper.start(settings.redeliverySweepSeconds);

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

  // The webhook door is a Probot app function; deliveries go through Probot's webhooks (src/app/webhooks.ts).
  await probot.load(livingBridgeApp({ intake, log, checkSignals, contextFor, recordApproval: (repository, actor, result) => observability.recordApproval(repository, actor, result) }));
  const webhook = createWebhookRoute(probot, log);

  const api = createApiDoor({
    tokens: settings.apiTokens,
    intake,
    log,
    contextFor: (repo) => contextFor(repo, 'api'),
    trust,
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
    if (req.method === 'POST' && path === settings.webhookPath) return webhook(req, res);
    if (await api(req, res, url)) return;
    sendJson(res, 404, { error: 'not found' });
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(settings.port, settings.host, () => resolve());
  });
  const address = server.address() as { port: number };
  const url = `http://${settings.host}:${address.port}`;
  log.info({ url, keyid: signer.keyid }, 'Living Bridge is listening');
  const schedule = startEnvSyncSchedule({ settings, probot, signer, log, instrument: (o) => observability.instrument(o), observer: observability.observer });
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

export type { AppSettings, Signer };
