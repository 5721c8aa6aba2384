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

export interface ObservabilityOptions {
  env: Record<string, string | undefined>;
  intake: Intake;
  log: Logger;
  /**
   * Whether the request carries an API token that covers every repository (AUTONOMY_API_TOKEN or a
   * scoped token with scope "*"): the delivery log spans all of them.
   */
  allScopeToken(authorization: string | undefined): boolean;
  /** Asks GitHub about the App itself (GET /app with its JWT): the reachability probe. */
  pingGitHub(): Promise<void>;
  /** A pipeline context for reading one repository's ledger (status page, readiness). */
  contextFor(repo: RepoRef): Promise<PipelineContext>;
  /** More listeners for the pipeline's events (webhook subscribers, the dashboard issue). */
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
  /** Serves /ready, /metrics and the delivery log; false when the path is not one of them. */
  handle(req: IncomingMessage, res: ServerResponse, url: URL): Promise<boolean>;
  /** Event subscribers, when LIVING_BRIDGE_EVENT_URLS is set. */
  events: EventBus | null;
  /** Lets deliveries under way finish (at most `timeoutMs`). */
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
  const observer = fanOut(metrics.observer, ...(events ? [events] : []), ...(opts.listeners ?? []));
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

  return {
    metrics,
    observer,
    events,
    async close(timeoutMs = 10_000) {
      if (!events) return;
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([events.drain(), new Promise<void>((r) => { timer = setTimeout(r, timeoutMs); })]);
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
