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
    // Only messages reach pino: octokit's own logs never carry the Authorization header.
    log: {
      debug: (m: string) => log?.debug(m),
      info: (m: string) => log?.debug(m),
      warn: (m: string) => log?.warn(m),
      error: (m: string) => log?.error(m),
    },
    throttle: {
      enabled: opts.throttle !== false,
      ...tuning,
      onRateLimit: onLimit('rate-limit'),
      onSecondaryRateLimit: onLimit('secondary-rate-limit'),
    },
    retry: { ...opts.retry },
  });
}
