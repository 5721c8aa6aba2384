import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { HealJob, RepoRef } from '../core/schemas/index.js';
import type { Intake } from '../intake/index.js';
import type { HealResult, PipelineContext } from '../pipeline/context.js';
import { eventsOfHeal, fanOut, type Observer } from '../pipeline/observe.js';
import { loadRepoConfig } from '../pipeline/repo-files.js';
import { createReadiness } from './health.js';
import { bearerMatches, sendJson } from './http.js';
import { createMetrics, instrumentOctokit, type AppMetrics } from './metrics.js';
import { createEventBus, readEventBusSettings, type EventBus } from './events.js';
import { createDashboardScheduler } from './dashboards.js';
import { readOverview } from '../pipeline/overview.js';
import { UNAUTHORIZED_PAGE, renderStatusPage, sendHtml, statusAccess, type StatusPageData } from './status-page.js';
import { safeMessage } from '../pipeline/heal.js';

const MAX_STATUS_REPOSITORIES = 25;

export interface ObservabilityOptions {
  env: Record<string, string | undefined>;
  intake: Intake;
  log: Logger;
  /**
   * Whether the request carries an API token that covers every repository (AUTONOMY_API_TOKEN or a
   * scoped token with scope "*"): the delivery log spans all of them.
   */
  allScopeToken(authorization: string | undefined): boolean;
  /** Signs the status page's session cookie (derived from a secret every replica has). */
  statusSessionKey: string;
  /** Asks GitHub about the App itself (GET /app with its JWT): the reachability probe. */
  pingGitHub(): Promise<void>;
  /** A pipeline context for reading one repository's ledger (status page, readiness). */
  contextFor(repo: RepoRef): Promise<PipelineContext>;
  /** The repositories the status page shows (the App's installations). */
  listRepositories(): Promise<string[]>;
  /** More listeners for the pipeline's events. */
  listeners?: Observer[];
}

export interface Observability {
  metrics: AppMetrics;
  /** The observe port handed to every pipeline context. */
  observer: Observer;
  /** Counts an Octokit's requests into the metrics. */
  instrument<T>(octokit: T): T;
  /** After a heal job: its duration, and the events its result stands for. */
  recordHeal(job: HealJob, outcome: { result: HealResult } | { error: unknown }, seconds: number): void;
  /** After a `/bridge approve`: the execution it caused. */
  recordApproval(repository: string, actor: string, result: HealResult | undefined): void;
  /** Serves /ready, /metrics, /status and the delivery log; false when the path is not one of them. */
  handle(req: IncomingMessage, res: ServerResponse, url: URL): Promise<boolean>;
  /** Event subscribers, when LIVING_BRIDGE_EVENT_URLS is set. */
  events: EventBus | null;
  /** Lets event deliveries and dashboard updates under way finish (at most `timeoutMs`). */
  close(timeoutMs?: number): Promise<void>;
}

/**
 * The App's observability, wired at the door: metrics and readiness (/healthz stays in the server). The pipeline only
 * sees the observe port (ctx.observer); nothing in src/core knows any of this exists.
 */
export function createObservability(opts: ObservabilityOptions): Observability {
  const { env, intake } = opts;
  const metrics = createMetrics(intake);
  const busSettings = readEventBusSettings(env);
  const dataDir = env.LIVING_BRIDGE_DATA_DIR?.trim().replace(/\/$/, '');
  const events = busSettings ? createEventBus(busSettings, { log: opts.log.child({ component: 'events' }), logPath: dataDir ? `${dataDir}/deliveries.jsonl` : undefined }) : null;
  const dashboards = createDashboardScheduler({ contextFor: opts.contextFor, log: opts.log.child({ component: 'dashboard' }) });
  const observer = fanOut(metrics.observer, ...(events ? [events] : []), dashboards, ...(opts.listeners ?? []));
  let lastRepository: RepoRef | null = null;
  const readiness = createReadiness({
    intake,
    github: opts.pingGitHub,
    ledger: async () => {
      const repo = lastRepository;
      if (!repo) return null;
      const ctx = await opts.contextFor(repo);
      const config = await loadRepoConfig(ctx.github, repo);
      await ctx.ledgerFor(repo, config.ledger.branch).read();
      return `${repo.owner}/${repo.repo}`;
    },
  });
  const metricsToken = env.LIVING_BRIDGE_METRICS_TOKEN?.trim() || undefined;
  /** The page's data is read at most every 15 s: a page left open on a wall screen costs GitHub little. */
  let statusCache: { at: number; data: Promise<StatusPageData> } | null = null;
  const statusData = (): Promise<StatusPageData> => {
    if (statusCache && Date.now() - statusCache.at < 15_000) return statusCache.data;
    const data = (async (): Promise<StatusPageData> => {
      const repositories = (await opts.listRepositories()).slice(0, MAX_STATUS_REPOSITORIES);
      const overviews = await Promise.all(repositories.map(async (repository) => {
        try {
          const [owner, repo] = repository.split('/') as [string, string];
          return await readOverview(await opts.contextFor({ owner, repo }), repository);
        } catch (err) {
          return { repository, error: safeMessage(err) };
        }
      }));
      const dead = await intake.deadLetters();
      return { generatedAt: new Date().toISOString(), repositories: overviews, deadLetters: dead.map((d) => ({ id: d.id, repository: d.repository, error: d.error, at: d.failed_at, attempts: d.attempts })) };
    })();
    statusCache = { at: Date.now(), data };
    data.catch(() => { statusCache = null; });
    return data;
  };

  return {
    metrics,
    observer,
    events,
    async close(timeoutMs = 10_000) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([Promise.all([dashboards.drain(), events?.drain()]), new Promise<void>((r) => { timer = setTimeout(r, timeoutMs); })]);
      clearTimeout(timer);
    },
    instrument: (octokit) => instrumentOctokit(octokit, metrics),
    recordHeal(job, outcome, seconds) {
      const [owner, repo] = job.request.repository.split('/');
      if (owner && repo) lastRepository = { owner, repo };
      if ('error' in outcome) {
        metrics.observeHeal(seconds, 'error');
        return;
      }
      metrics.observeHeal(seconds, outcome.result.status);
      const base = { repository: job.request.repository, at: new Date().toISOString(), door: job.door, run_id: job.request.run_id ?? null };
      for (const e of eventsOfHeal(outcome.result, base)) observer.emit(e);
    },
    recordApproval(repository, actor, result) {
      if (!result) return;
      for (const e of eventsOfHeal(result, { repository, at: new Date().toISOString(), door: 'webhook', run_id: null, approved_by: actor })) observer.emit(e);
    },
    async handle(req, res, url) {
      if (req.method !== 'GET') return false;
      const path = url.pathname;
      if (path === '/ready') {
        const r = await readiness();
        sendJson(res, r.ready ? 200 : 503, r);
        return true;
      }
      if (path === '/metrics') {
        if (metricsToken && !bearerMatches(req.headers.authorization, metricsToken)) {
          sendJson(res, 401, { error: 'unauthorized' });
          return true;
        }
        const { contentType, body } = await metrics.render();
        res.writeHead(200, { 'content-type': contentType, 'content-length': Buffer.byteLength(body) });
        res.end(body);
        return true;
      }
      if (path === '/status') {
        const access = statusAccess(req, url, { authorized: opts.allScopeToken, sessionKey: opts.statusSessionKey });
        if (!access.ok) {
          sendHtml(res, 401, UNAUTHORIZED_PAGE);
          return true;
        }
        if (access.setCookie) {
          // The token leaves the address bar (and the history) at once; the cookie carries on.
          res.writeHead(303, { location: '/status', 'set-cookie': access.setCookie, 'cache-control': 'no-store' }).end();
          return true;
        }
        sendHtml(res, 200, renderStatusPage(await statusData()));
        return true;
      }
      if (path === '/api/autonomy/deliveries') {
        if (!opts.allScopeToken(req.headers.authorization)) {
          sendJson(res, 401, { error: 'unauthorized' });
          return true;
        }
        sendJson(res, 200, { subscribers: busSettings?.subscribers.length ?? 0, deliveries: events?.deliveries() ?? [] });
        return true;
      }
      return false;
    },
  };
}
