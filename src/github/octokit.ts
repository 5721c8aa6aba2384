import { Octokit } from '@octokit/rest';
import { throttling } from '@octokit/plugin-throttling';
import { retry } from '@octokit/plugin-retry';
import type { Logger } from 'pino';

export const LivingBridgeOctokit = Octokit.plugin(throttling, retry);
export type LivingBridgeOctokit = InstanceType<typeof LivingBridgeOctokit>;

/** Max retries the throttling handlers allow per request (rate limit and secondary rate limit). */
export const MAX_RATE_LIMIT_RETRIES = 2;

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
  /** false disables the throttling plugin (tests); an object tunes it. Default: enabled. */
  throttle?: boolean | ThrottleTuning;
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
      const retrying = retryCount < MAX_RATE_LIMIT_RETRIES;
      log?.warn({ kind, method: options.method, url: options.url, retryAfter, retryCount, retrying }, `GitHub ${kind}: ${retrying ? `retrying in ${retryAfter}s` : 'giving up'}`);
      return retrying;
    };
  return new LivingBridgeOctokit({
    ...(opts.auth !== undefined ? { auth: opts.auth } : {}),
    ...(opts.baseUrl !== undefined ? { baseUrl: opts.baseUrl } : {}),
    userAgent: opts.userAgent ?? 'living-bridge',
    ...(opts.request?.fetch ? { request: { fetch: opts.request.fetch } } : {}),
    log: octokitLog(log),
    throttle: {
      enabled: opts.throttle !== false,
      ...tuning,
      onRateLimit: onLimit('rate-limit'),
      onSecondaryRateLimit: onLimit('secondary-rate-limit'),
    },
    retry: { ...opts.retry },
  });
}
