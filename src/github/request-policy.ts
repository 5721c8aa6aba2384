/**
 * The request policy shared by every Octokit Living Bridge builds (its own and Probot's):
 *
 * - **Pacing** (client-side spacing of writes, GitHub's "about one write per second") is one switch.
 * - **Retrying** is another, and it has a floor: the throttling plugin's secondary-rate-limit and
 *   rate-limit retries (403/429 with `retry-after`) and the retry plugin's 5xx retries stay on whether
 *   pacing is on or off. With pacing off the throttling plugin still runs, over limiter groups that
 *   do not space requests out.
 * - **Every request has a timeout**: a hung connection becomes an error the retry plugin retries (an
 *   aborted request is reported as HTTP 500), not a job that never ends.
 * - **A lost answer to a non-idempotent POST is read back, not retried blindly** (check runs by
 *   `external_id`, comments by their body: {@link lostAnswerReadBack}). Re-runs and issues are read back by
 *   their callers (the re-run engine, the escalation engine's marker), which send them with `retries: 0`.
 */
import { randomUUID } from 'node:crypto';
import Bottleneck from 'bottleneck';

/** Default per-request timeout. GitHub itself gives up on a request after 10 s; log downloads take longer. */
export { DEFAULT_REQUEST_TIMEOUT_MS } from '../core/schemas/index.js';

/** Max retries the throttling handlers allow per request (rate limit and secondary rate limit). */
export const MAX_RATE_LIMIT_RETRIES = 2;

/**
 * The longest a request waits for a rate limit before it is retried. An exhausted primary rate limit
 * answers "wait until the hourly reset" (up to an hour): a request that slept that long would hold its
 * job, silently, past anything watching it. Past this wait the request fails with GitHub's 403/429,
 * and the job is retried with backoff by its intake, then dead-lettered (visible and replayable).
 */
export const MAX_RATE_LIMIT_WAIT_SECONDS = 120;

/** Whether the throttling plugin should wait `retryAfter` seconds and retry (both our Octokits ask this). */
export function retryRateLimited(retryAfter: number, retryCount: number): boolean {
  return retryCount < MAX_RATE_LIMIT_RETRIES && retryAfter <= MAX_RATE_LIMIT_WAIT_SECONDS;
}

/** The throttling plugin's limiter groups without any spacing: same retry handling, no pacing. */
export function unpacedGroups(): Record<'global' | 'auth' | 'search' | 'write' | 'notifications', Bottleneck.Group> {
  const group = (id: string) => new Bottleneck.Group({ id, maxConcurrent: null, minTime: 0 });
  return { global: group('lb-global'), auth: group('lb-auth'), search: group('lb-search'), write: group('lb-write'), notifications: group('lb-notifications') };
}

/** `fetch` with a deadline per request (on top of any signal the caller gave). */
export function timedFetch(timeoutMs: number, base: typeof fetch = fetch): typeof fetch {
  return ((input: Parameters<typeof fetch>[0], init: RequestInit = {}) => {
    const timeout = AbortSignal.timeout(timeoutMs);
    const signal = init.signal ? AbortSignal.any([init.signal, timeout]) : timeout;
    return base(input, { ...init, signal });
  }) as typeof fetch;
}

/** LIVING_BRIDGE_CLIENT_PACING (parsed by the door) and LIVING_BRIDGE_REQUEST_TIMEOUT_MS. */
export interface RequestPolicy { pacing: boolean; timeoutMs: number }

// ------------------------------------------------------------------ writes whose answer was lost

/** Tries of a non-idempotent POST whose answer may be lost (each failure is followed by a read-back). */
export const LOST_ANSWER_WRITE_TRIES = 4;

/** An answer that may have been lost on the way: a 5xx, a timeout or a dropped connection (octokit reports those as 500). */
export const answerMayBeLost = (err: unknown): boolean => {
  const status = (err as { status?: number }).status;
  return status === undefined || status >= 500;
};

/** The request options the hook sees (octokit's endpoint options: the route's URL template and its parameters). */
type HookOptions = { method: string; url: string; request?: Record<string, unknown>; [param: string]: unknown };
type Response = { status: number; url: string; headers: Record<string, unknown>; data: unknown };
type RequestFn = (route: string, params?: Record<string, unknown>) => Promise<Response>;
interface HookOctokit { request: RequestFn & { endpoint?: unknown }; hook: { wrap: (name: 'request', fn: (request: (o: HookOptions) => Promise<Response>, options: HookOptions) => Promise<Response>) => void } }

/**
 * A non-idempotent POST that must not be repeated blindly: how it is made recognisable before it is
 * sent, and how it is found on GitHub afterwards.
 */
interface ReadBackRule {
  route: RegExp;
  /** The parameters actually sent (e.g. with an `external_id` added). */
  prepare: (params: HookOptions) => HookOptions;
  /** What GitHub holds of this write, or null when it shows nothing. */
  find: (request: RequestFn, sent: HookOptions, startedAt: number) => Promise<unknown | null>;
}

/** `/repos/{owner}/{repo}/…` with the owner and repo either as template slots or already filled in. */
const repoRoute = (tail: string): RegExp => new RegExp(`^(?:https?://[^/]+)?(?:/api/v3)?/repos/[^/]+/[^/]+/${tail}$`);

/** The owner/repo (and issue number) of a request, from its parameters or from an already expanded URL. */
function routeParams(o: HookOptions, names: string[]): Record<string, string> {
  const m = /\/repos\/([^/]+)\/([^/]+)\/(?:issues\/([^/]+)\/)?/.exec(o.url);
  const fromUrl = [m?.[1], m?.[2], m?.[3]];
  const out: Record<string, string> = {};
  names.forEach((n, i) => {
    const v = o[n] ?? (fromUrl[i] && !fromUrl[i]!.startsWith('{') ? decodeURIComponent(fromUrl[i]!) : undefined);
    if (v !== undefined) out[n] = String(v);
  });
  return out;
}

/** Comments are read back from a little before the write (clock skew between us and GitHub). */
const COMMENT_READ_BACK_MARGIN_MS = 5 * 60_000;
const READ_BACK_PAGES = 10;

const RULES: ReadBackRule[] = [
  {
    // A check run carries an external_id (ours, unique per write); a lost answer is looked up by it.
    route: repoRoute('check-runs'),
    prepare: (o) => (typeof o.external_id === 'string' && o.external_id ? o : { ...o, external_id: `living-bridge-${randomUUID()}` }),
    find: async (request, sent) => {
      const { owner, repo } = routeParams(sent, ['owner', 'repo']);
      if (!owner || !repo || typeof sent.head_sha !== 'string') return null;
      for (let page = 1; page <= READ_BACK_PAGES; page++) {
        const res = await request('GET /repos/{owner}/{repo}/commits/{ref}/check-runs', {
          owner, repo, ref: sent.head_sha, ...(typeof sent.name === 'string' ? { check_name: sent.name } : {}), filter: 'all', per_page: 100, page,
        });
        const runs = ((res.data as { check_runs?: { external_id?: string | null }[] }).check_runs ?? []);
        const hit = runs.find((r) => r.external_id === sent.external_id);
        if (hit) return hit;
        if (runs.length < 100) return null;
      }
      return null;
    },
  },
  {
    // An issue or PR comment is found by its exact body among the thread's comments since just before the write.
    route: repoRoute('issues/[^/]+/comments'),
    prepare: (o) => o,
    find: async (request, sent, startedAt) => {
      const { owner, repo, issue_number } = routeParams(sent, ['owner', 'repo', 'issue_number']);
      if (!owner || !repo || !issue_number || typeof sent.body !== 'string') return null;
      const since = new Date(startedAt - COMMENT_READ_BACK_MARGIN_MS).toISOString();
      let last: unknown = null;
      for (let page = 1; page <= READ_BACK_PAGES; page++) {
        const res = await request('GET /repos/{owner}/{repo}/issues/{issue_number}/comments', { owner, repo, issue_number, since, per_page: 100, page });
        const comments = (res.data as { body?: string }[]) ?? [];
        // The newest match: a thread may hold an older identical comment (then ours is the later one).
        for (const c of comments) if (c.body === sent.body) last = c;
        if (comments.length < 100) break;
      }
      return last;
    },
  },
];

const sleepMs = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * An Octokit plugin: a check run or a comment POST is never retried blindly. The retry plugin is
 * switched off for it (a retried POST whose first answer was lost writes twice); after a lost answer
 * (5xx, timeout, dropped connection) GitHub is read back — the check run by the `external_id` given
 * to it, the comment by its body — and only when nothing shows is the POST sent again, up to
 * {@link LOST_ANSWER_WRITE_TRIES} in all. A read-back hit is answered as the 201 that was lost.
 * Other errors (4xx) are thrown at once, as before.
 */
export function lostAnswerReadBack(octokit: unknown, pluginOptions: object = {}): void {
  const kit = octokit as HookOctokit;
  // `lostAnswerBackoffMs` (Octokit constructor option): the wait before a repeated POST, times the try (tests use 0).
  const backoff = (pluginOptions as { lostAnswerBackoffMs?: number }).lostAnswerBackoffMs ?? 250;
  kit.hook.wrap('request', async (request, options) => {
    const rule = options.method === 'POST' ? RULES.find((r) => r.route.test(options.url)) : undefined;
    if (!rule) return request(options);
    // In place: the inner layers of octokit's request hook are bound to this very options object
    // (before-after-hook), so a copy handed on would be ignored.
    Object.assign(options, rule.prepare(options));
    options.request = { ...options.request, retries: 0 };
    const sent = options;
    const startedAt = Date.now();
    let lastError: unknown;
    for (let attempt = 1; attempt <= LOST_ANSWER_WRITE_TRIES; attempt++) {
      if (attempt > 1) await sleepMs(backoff * (attempt - 1));
      try {
        return await request(options);
      } catch (err) {
        if (!answerMayBeLost(err)) throw err;
        lastError = err;
        let found: unknown;
        try {
          found = await rule.find(kit.request, sent, startedAt);
        } catch {
          // GitHub cannot be read back either: whether the write happened is unknown, so it is not repeated.
          throw err;
        }
        if (found) return { status: 201, url: String(options.url), headers: {}, data: found };
      }
    }
    throw lastError;
  });
}
