import { Octokit } from '@octokit/rest';
import { throttling } from '@octokit/plugin-throttling';
import { retry } from '@octokit/plugin-retry';
import type { Logger } from 'pino';
import { DEFAULT_REQUEST_TIMEOUT_MS, MAX_RATE_LIMIT_RETRIES, lostAnswerReadBack, retryRateLimited, timedFetch, unpacedGroups } from './request-policy.js';

export const LivingBridgeOctokit = Octokit.plugin(throttling, retry, lostAnswerReadBack);
export type LivingBridgeOctokit = InstanceType<typeof LivingBridgeOctokit>;

export { MAX_RATE_LIMIT_RETRIES };

export interface ThrottleTuning {
  /** Seconds to wait on a secondary rate limit without a Retry-After header (GitHub suggests 60). */
  fallbackSecondaryRateRetryAfter?: number;
  /** Milliseconds per "retry-after second" (1000 in production; tests use 1). */
  retryAfterBaseValue?: number;
}

export interface CreateOctokitOptions {
  auth?: string;
  baseUrl?: string;
  log?: Logger;
  /** false disables the throttling plugin entirely (tests only); an object tunes it. Default: enabled. */
  throttle?: boolean | ThrottleTuning;
  /**
   * Client-side pacing of writes (default on). Off keeps the throttling plugin's 403/429 retries and
   * the retry plugin's 5xx retries: only the spacing goes (see request-policy.ts).
   */
  pacing?: boolean;
  /** Per-request timeout in ms (default 30 s). */
  timeoutMs?: number;
  retry?: { enabled?: boolean; retries?: number; retryAfterBaseValue?: number };
  request?: { fetch?: typeof fetch };
  userAgent?: string;
}

interface LimitedRequest { method: string; url: string }

/**
 * Answers that are part of normal work, not errors: a 304 (our ETag still holds) and a 404 (an absent
 * file, branch or ledger). Octokit's request log reports every non-2xx as an error; these go to debug.
 */
const EXPECTED_ANSWER = / - (304|404) with id /;

/**
 * The logger Octokit gets. Only messages reach pino (the request log's second argument, the request
 * options with headers and body, is dropped), so tokens and encrypted values never reach a log.
 */
export function octokitLog(log: Pick<Logger, 'debug' | 'warn' | 'error'> | undefined): Record<'debug' | 'info' | 'warn' | 'error', (m: unknown, msg?: string) => void> {
  // Plugins call either (message) or (fields, message): keep the message only.
  const text = (m: unknown, msg?: string): string => (typeof m === 'string' ? m : msg ?? '');
  return {
    debug: (m, msg) => log?.debug(text(m, msg)),
    info: (m, msg) => log?.debug(text(m, msg)),
    warn: (m, msg) => log?.warn(text(m, msg)),
    error: (m, msg) => (EXPECTED_ANSWER.test(text(m, msg)) ? log?.debug(text(m, msg)) : log?.error(text(m, msg))),
  };
}

/** Octokit with the throttling and retry plugins. Tokens are never logged. */
export function createOctokit(opts: CreateOctokitOptions = {}): LivingBridgeOctokit {
  const log = opts.log;
  const tuning: ThrottleTuning = typeof opts.throttle === 'object' ? opts.throttle : {};
  const onLimit = (kind: 'rate-limit' | 'secondary-rate-limit') =>
    (retryAfter: number, options: LimitedRequest, _octokit: unknown, retryCount: number): boolean => {
      const retrying = retryRateLimited(retryAfter, retryCount);
      log?.warn({ kind, method: options.method, url: options.url, retryAfter, retryCount, retrying }, `GitHub ${kind}: ${retrying ? `retrying in ${retryAfter}s` : retryCount < MAX_RATE_LIMIT_RETRIES ? `not waiting ${retryAfter}s (the job is retried later)` : 'giving up'}`);
      return retrying;
    };
  return new LivingBridgeOctokit({
    ...(opts.auth !== undefined ? { auth: opts.auth } : {}),
    ...(opts.baseUrl !== undefined ? { baseUrl: opts.baseUrl } : {}),
    userAgent: opts.userAgent ?? 'living-bridge',
    request: { fetch: timedFetch(opts.timeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS, opts.request?.fetch ?? fetch) },
    log: octokitLog(log),
    throttle: {
      enabled: opts.throttle !== false,
      ...tuning,
      ...(opts.pacing === false ? unpacedGroups() : {}),
      onRateLimit: onLimit('rate-limit'),
      onSecondaryRateLimit: onLimit('secondary-rate-limit'),
    },
    retry: { ...opts.retry },
  });
}
