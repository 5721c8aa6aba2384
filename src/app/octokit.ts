import { ProbotOctokit } from 'probot';

type ThrottleOptions = { enabled?: boolean; [k: string]: unknown };
const MAX_RETRIES = 2;

/**
 * Probot's Octokit with our throttling policy. Probot's default only logs secondary rate limits;
 * GitHub asks clients to wait `retry-after` and try again, so we retry (twice). Client-side pacing
 * of writes (one per second, GitHub's guidance) can be switched off with
 * LIVING_BRIDGE_CLIENT_PACING=off — for the sandbox only, where it just makes drills slow.
 */
export function livingBridgeProbotOctokit(pacing: boolean): typeof ProbotOctokit {
  return ProbotOctokit.defaults((instanceOptions: { throttle?: ThrottleOptions; [k: string]: unknown }) => ({
    ...instanceOptions,
    throttle: {
      ...instanceOptions.throttle,
      enabled: pacing && instanceOptions.throttle?.enabled !== false,
      onRateLimit: (_retryAfter: number, _options: unknown, _octokit: unknown, retryCount: number) => retryCount < MAX_RETRIES,
      onSecondaryRateLimit: (_retryAfter: number, _options: unknown, _octokit: unknown, retryCount: number) => retryCount < MAX_RETRIES,
    },
  })) as typeof ProbotOctokit;
}
