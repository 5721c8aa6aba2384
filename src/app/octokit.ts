import type { Logger } from 'pino';
import { ProbotOctokit } from 'probot';
import { octokitLog } from '../github/octokit.js';

type ThrottleOptions = { enabled?: boolean; [k: string]: unknown };
const MAX_RETRIES = 2;

/**
 * Probot's Octokit with our throttling policy. Probot's default only logs secondary rate limits;
 * GitHub asks clients to wait `retry-after` and try again, so we retry (twice). Client-side pacing
 * of writes (one per second, GitHub's guidance) can be switched off with
 * LIVING_BRIDGE_CLIENT_PACING=off — for the sandbox only, where it just makes drills slow.
 */
export function livingBridgeProbotOctokit(pacing: boolean, log?: Logger): typeof ProbotOctokit {
  return ProbotOctokit.defaults((instanceOptions: { throttle?: ThrottleOptions; log?: Logger; [k: string]: unknown }) => ({
    ...instanceOptions,
    // Messages only, into the App's logger; 304s and 404s are answers, not errors (octokitLog).
    ...(log ?? instanceOptions.log ? { log: octokitLog(log ?? instanceOptions.log) } : {}),
    throttle: {
      ...instanceOptions.throttle,
      enabled: pacing && instanceOptions.throttle?.enabled !== false,
      onRateLimit: (_retryAfter: number, _options: unknown, _octokit: unknown, retryCount: number) => retryCount < MAX_RETRIES,
      onSecondaryRateLimit: (_retryAfter: number, _options: unknown, _octokit: unknown, retryCount: number) => retryCount < MAX_RETRIES,
    },
  })) as typeof ProbotOctokit;
}
