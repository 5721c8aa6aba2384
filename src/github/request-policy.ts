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
 */
import Bottleneck from 'bottleneck';

/** Default per-request timeout. GitHub itself gives up on a request after 10 s; log downloads take longer. */
export const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;

/** Max retries the throttling handlers allow per request (rate limit and secondary rate limit). */
export const MAX_RATE_LIMIT_RETRIES = 2;

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

export function requestPolicyFrom(env: Record<string, string | undefined>, pacing: boolean): RequestPolicy {
  const timeout = Number(env.LIVING_BRIDGE_REQUEST_TIMEOUT_MS ?? DEFAULT_REQUEST_TIMEOUT_MS);
  if (!Number.isFinite(timeout) || timeout < 100) throw new Error('LIVING_BRIDGE_REQUEST_TIMEOUT_MS must be a number of milliseconds >= 100');
  return { pacing, timeoutMs: timeout };
}
