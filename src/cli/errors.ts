import { isRequestError, networkCause } from '../github/errors.js';
import { safeMessage } from '../pipeline/heal.js';

/** What a 404 from a REST path means, in the words of the thing that was not there. */
const NOT_FOUND: { pattern: RegExp; say: (m: RegExpExecArray) => string }[] = [
  { pattern: /^\/repos\/([^/]+\/[^/]+)\/actions\/runs\/(\d+)/, say: (m) => `workflow run ${m[2]} not found in ${m[1]}` },
  { pattern: /^\/repos\/([^/]+\/[^/]+)\/actions\/jobs\/(\d+)/, say: (m) => `job ${m[2]} not found in ${m[1]}` },
  { pattern: /^\/repos\/([^/]+\/[^/]+)\/contents\/([^?]+)/, say: (m) => `file ${decodeURIComponent(m[2]!)} not found in ${m[1]}` },
  { pattern: /^\/repos\/([^/]+\/[^/]+)\/environments\/([^/?]+)/, say: (m) => `environment ${decodeURIComponent(m[2]!)} not found in ${m[1]}` },
  { pattern: /^\/repos\/([^/]+\/[^/]+)\/git\/ref\/heads\/([^?]+)/, say: (m) => `branch ${decodeURIComponent(m[2]!)} not found in ${m[1]}` },
  { pattern: /^\/repos\/([^/]+\/[^/]+)\/?(\?|$)/, say: (m) => `repository ${m[1]} not found` },
];

/**
 * One line for an error GitHub (or the way to it) caused: what was not found, that the network
 * failed, or that the token was refused. Never GitHub's bare "Not Found" or octokit's "HTTP 500".
 */
export function explainGitHubError(err: unknown, apiUrl: string | undefined): string | null {
  const base = apiUrl ?? 'https://api.github.com';
  const cause = networkCause(err);
  if (cause) return `cannot reach GitHub at ${base}: ${cause}`;
  if (!isRequestError(err)) return null;
  const url = (err as { request?: { url?: string } }).request?.url;
  const path = url ? pathUnder(url, base) : null;
  if (err.status === 404) {
    for (const { pattern, say } of NOT_FOUND) {
      const m = path ? pattern.exec(path) : null;
      if (m) return `${say(m)} (or the token cannot see it: GitHub answers 404 for both)`;
    }
    return `not found on GitHub: ${path ?? 'the requested resource'} (or the token cannot see it)`;
  }
  if (err.status === 401) return `GitHub rejected the token (401 ${safeMessage(err).replace(/ \(HTTP 401\)$/, '')}): check LIVING_BRIDGE_TOKEN`;
  return null;
}

function pathUnder(url: string, base: string): string {
  const p = new URL(url).pathname;
  const basePath = new URL(base).pathname.replace(/\/$/, '');
  return basePath && p.startsWith(basePath) ? p.slice(basePath.length) : p;
}
