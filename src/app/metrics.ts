import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { Intake } from '../intake/index.js';
import type { BridgeEvent, Observer } from '../pipeline/observe.js';

/** The route label of a GitHub request: the REST template, so owner/repo names never become labels. */
export function routeLabel(url: string): string {
  let path = url;
  if (/^https?:\/\//.test(url)) {
    try {
      path = new URL(url).pathname;
    } catch {
      return 'unparsable';
    }
  }
  path = path.split('?')[0]!;
  if (!path.includes('{')) {
    // An absolute URL (a next page, a redirect) carries values: put the template back.
    path = path
      .replace(/^\/repos\/[^/]+\/[^/]+/, '/repos/{owner}/{repo}')
      .replace(/\/\d+(?=\/|$)/g, '/{id}')
      .replace(/\/git\/(refs|ref)\/.+$/, '/git/$1/{ref}');
  }
  return path;
}

/** Dead letters: jobs the intake gave up on after every try (the intake counts them; else its failed count). */
export function deadLetterCount(intake: Intake): number {
  const stats = intake.stats();
  return stats.dead ?? stats.failed;
}

export interface AppMetrics {
  registry: Registry;
  /** Listens to the pipeline's events (the observe port). */
  observer: Observer;
  observeHeal(seconds: number, status: string): void;
  observeGitHubRequest(method: string, url: string, status: number, headers: Record<string, string | number | undefined>): void;
  render(): Promise<{ contentType: string; body: string }>;
}

/**
 * The App's Prometheus metrics, in a registry of their own (several Apps in one test process do
 * not share counters). The pipeline stays unaware of them: everything arrives as events, request
 * hooks and the intake's own counts.
 */
export function createMetrics(intake: Intake, opts: { defaultMetrics?: boolean } = {}): AppMetrics {
  const registry = new Registry();
  if (opts.defaultMetrics ?? true) collectDefaultMetrics({ register: registry, prefix: 'living_bridge_' });
  const registers = [registry];
  const decisions = new Counter({ name: 'living_bridge_decisions_total', help: 'Governor decisions by verdict, guardrail (none when no guardrail applied) and action; noops included', labelNames: ['verdict', 'guardrail', 'action'], registers });
  const acts = new Counter({ name: 'living_bridge_acts_total', help: 'Engine steps taken, by action and outcome (ok or failed)', labelNames: ['action', 'outcome'], registers });
  const heals = new Counter({ name: 'living_bridge_heals_total', help: 'Finished heal jobs by status (healed, suggested, escalated, noop, failed, error)', labelNames: ['status'], registers });
  const withoutHuman = new Counter({ name: 'living_bridge_heals_without_human_total', help: 'Heals completed (certified) without a human approving them', registers });
  const outcomes = new Counter({ name: 'living_bridge_outcomes_total', help: 'Outcomes learned from the next run, by action and outcome', labelNames: ['action', 'outcome'], registers });
  const duration = new Histogram({ name: 'living_bridge_heal_duration_seconds', help: 'Wall time of one heal job, from the worker taking it to its result', labelNames: ['status'], buckets: [0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 120], registers });
  const recovery = new Histogram({ name: 'living_bridge_time_to_recovery_seconds', help: 'From the action on a failed run to the green run that judged it', buckets: [10, 30, 60, 120, 300, 600, 1800, 3600, 7200], registers });
  const ema = new Gauge({ name: 'living_bridge_action_ema', help: 'EMA of each action\'s success rate per repository, as last learned', labelNames: ['repository', 'action'], registers });
  const syncs = new Counter({ name: 'living_bridge_sync_items_total', help: 'Environment sync items by result', labelNames: ['result'], registers });
  const requests = new Counter({ name: 'living_bridge_github_requests_total', help: 'GitHub REST requests by method, route template and status (304s included: GitHub does not count them)', labelNames: ['method', 'route', 'status'], registers });
  const rateRemaining = new Gauge({ name: 'living_bridge_github_rate_limit_remaining', help: 'x-ratelimit-remaining of the last GitHub answer, by rate-limit resource', labelNames: ['resource'], registers });
  new Gauge({
    name: 'living_bridge_queue_jobs',
    help: 'Intake jobs by state',
    labelNames: ['state'],
    registers,
    collect() {
      const s = intake.stats();
      for (const state of ['pending', 'running', 'done', 'failed'] as const) this.set({ state }, s[state]);
    },
  });
  new Gauge({ name: 'living_bridge_queue_depth', help: 'Jobs accepted and not yet finished (pending + running)', registers, collect() { const s = intake.stats(); this.set(s.pending + s.running); } });
  new Gauge({ name: 'living_bridge_dead_letters', help: 'Jobs the intake gave up on after its retries', registers, collect() { this.set(deadLetterCount(intake)); } });

  const onEvent = (e: BridgeEvent): void => {
    switch (e.type) {
      case 'autonomy.decision':
        decisions.inc({ verdict: e.verdict, guardrail: e.guardrail, action: e.action });
        return;
      case 'autonomy.heal.applied':
      case 'autonomy.heal.error':
      case 'autonomy.escalated':
        for (const a of e.acts) acts.inc({ action: a.action, outcome: a.ok ? 'ok' : 'failed' });
        if (e.type === 'autonomy.heal.applied' && e.approved_by === null) withoutHuman.inc();
        return;
      case 'autonomy.sync.applied':
        syncs.inc({ result: 'applied' }, e.applied);
        syncs.inc({ result: 'failed' }, e.failed);
        return;
      case 'autonomy.outcome':
        outcomes.inc({ action: e.action, outcome: e.outcome });
        for (const [action, value] of Object.entries(e.ema)) if (typeof value === 'number') ema.set({ repository: e.repository, action }, value);
        if (e.recovery_seconds !== null) recovery.observe(e.recovery_seconds);
        return;
    }
  };

  return {
    registry,
    observer: { emit: onEvent },
    observeHeal(seconds, status) {
      duration.observe({ status }, seconds);
      heals.inc({ status });
    },
    observeGitHubRequest(method, url, status, headers) {
      requests.inc({ method: method.toUpperCase(), route: routeLabel(url), status: status === 0 ? 'network' : String(status) });
      const remaining = Number(headers['x-ratelimit-remaining']);
      if (headers['x-ratelimit-remaining'] !== undefined && Number.isFinite(remaining)) {
        rateRemaining.set({ resource: String(headers['x-ratelimit-resource'] ?? 'core') }, remaining);
      }
    },
    async render() {
      return { contentType: registry.contentType, body: await registry.metrics() };
    },
  };
}

/** The part of an Octokit its request hook needs. */
interface Hookable {
  hook: {
    wrap(name: 'request', fn: (request: (o: unknown) => Promise<unknown>, options: { method?: string; url?: string }) => Promise<unknown>): void;
  };
}

/** Counts every request an Octokit makes (also the ones that fail: a 404 is an answer too). */
export function instrumentOctokit<T>(octokit: T, metrics: AppMetrics): T {
  (octokit as unknown as Hookable).hook.wrap('request', async (request, options) => {
    try {
      const res = (await request(options)) as { status: number; headers?: Record<string, string | number | undefined> };
      metrics.observeGitHubRequest(options.method ?? 'GET', options.url ?? '', res.status, res.headers ?? {});
      return res;
    } catch (err) {
      const e = err as { status?: number; response?: { headers?: Record<string, string | number | undefined> } };
      metrics.observeGitHubRequest(options.method ?? 'GET', options.url ?? '', typeof e.status === 'number' ? e.status : 0, e.response?.headers ?? {});
      throw err;
    }
  });
  return octokit;
}
