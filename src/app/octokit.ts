import type { Logger } from 'pino';
import { ProbotOctokit } from 'probot';
import { octokitLog } from '../github/octokit.js';
import { lostAnswerReadBack, retryRateLimited, timedFetch, unpacedGroups, type RequestPolicy } from '../github/request-policy.js';

type ThrottleOptions = { enabled?: boolean; [k: string]: unknown };
type RequestOptions = { fetch?: typeof fetch; [k: string]: unknown };

/**
 * Probot's Octokit with our request policy. Probot's default only logs secondary rate limits;
 * GitHub asks clients to wait `retry-after` and try again, so we retry (twice), paced or not.
 * LIVING_BRIDGE_CLIENT_PACING=off (for the sandbox, where spacing writes just makes drills slow)
 * removes only the spacing: the 403/429 and 5xx retries stay. Every request has a timeout, and a lost
 * answer to a check run or comment POST is read back instead of retried (lostAnswerReadBack).
 */
export function livingBridgeProbotOctokit(policy: RequestPolicy, log?: Logger): typeof ProbotOctokit {
  // A wait longer than MAX_RATE_LIMIT_WAIT_SECONDS (an exhausted hourly budget) is not slept through: the job is retried later.
  const again = (retryAfter: number, _options: unknown, _octokit: unknown, retryCount: number) => retryRateLimited(retryAfter, retryCount);
  return ProbotOctokit.plugin(lostAnswerReadBack).defaults((instanceOptions: { throttle?: ThrottleOptions; request?: RequestOptions; log?: Logger; [k: string]: unknown }) => ({
    ...instanceOptions,
    request: { ...instanceOptions.request, fetch: timedFetch(policy.timeoutMs, instanceOptions.request?.fetch ?? fetch) },
    // Messages only, into the App's logger; 304s and 404s are answers, not errors (octokitLog).
    ...(log ?? instanceOptions.log ? { log: octokitLog(log ?? instanceOptions.log) } : {}),
    throttle: {
      ...instanceOptions.throttle,
      enabled: instanceOptions.throttle?.enabled !== false,
      ...(policy.pacing ? {} : unpacedGroups()),
      onRateLimit: again,
      onSecondaryRateLimit: again,
    },
  })) as typeof ProbotOctokit;
}
