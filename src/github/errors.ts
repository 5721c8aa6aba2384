/**
 * Error helpers for the GitHub adapter. A RequestError from octokit is recognised structurally
 * (status + response) so any Octokit-compatible client (Probot's, ours, the sandbox's) works.
 */

/** The GitHub App / token permission a failing call needed. */
export type GitHubPermission =
  | 'secrets'
  | 'variables'
  | 'environments'
  /** Creating or updating a deployment environment needs Administration: write. */
  | 'administration'
  | 'actions'
  | 'contents'
  | 'issues'
  | 'pull_requests'
  | 'checks'
  | 'deployments'
  | 'metadata';

/** GitHub answered 403 "Resource not accessible by integration" (or "must have admin rights"). */
export class GitHubPermissionError extends Error {
  readonly status = 403;
  constructor(
    readonly permission: GitHubPermission,
    readonly operation: string,
    detail: string,
  ) {
    super(
      `GitHub refused ${operation}: ${detail}. The token or GitHub App needs the "${permission}" permission ` +
        `(${permission === 'metadata' ? 'read' : 'write'} access) on this repository.`,
    );
    this.name = 'GitHubPermissionError';
  }
}

/** A call failed in a way callers may want to branch on; never carries a secret value. */
export class GitHubRequestError extends Error {
  constructor(
    readonly status: number,
    readonly operation: string,
    detail: string,
  ) {
    super(`GitHub ${operation} failed (${status}): ${detail}`);
    this.name = 'GitHubRequestError';
  }
}

interface RequestErrorLike {
  status: number;
  message: string;
  response?: { data?: unknown; headers?: Record<string, unknown> };
}

export function isRequestError(e: unknown): e is RequestErrorLike {
  return typeof e === 'object' && e !== null && typeof (e as { status?: unknown }).status === 'number';
}

export const statusOf = (e: unknown): number | null => (isRequestError(e) ? e.status : null);

/** GitHub's own message (`response.data.message`), falling back to the error message. */
export function githubMessage(e: unknown): string {
  if (!isRequestError(e)) return e instanceof Error ? e.message : String(e);
  const data = e.response?.data;
  if (typeof data === 'object' && data !== null && typeof (data as { message?: unknown }).message === 'string') {
    const errors = (data as { errors?: unknown }).errors;
    const extra = Array.isArray(errors)
      ? errors.map((x) => (typeof x === 'string' ? x : typeof x === 'object' && x !== null && 'message' in x ? String((x as { message: unknown }).message) : '')).filter(Boolean)
      : [];
    return [(data as { message: string }).message, ...extra].join('; ');
  }
  return e.message;
}

const PERMISSION_PATTERNS = [/resource not accessible by (integration|personal access token)/i, /must have admin rights/i, /must have push access/i];

export function isPermissionError(e: unknown): boolean {
  return statusOf(e) === 403 && PERMISSION_PATTERNS.some((p) => p.test(githubMessage(e)));
}

export const isNotFound = (e: unknown): boolean => statusOf(e) === 404;
export const isNotModified = (e: unknown): boolean => statusOf(e) === 304;

const NETWORK_CODES: Record<string, string> = {
  ENOTFOUND: 'the host name does not resolve (DNS)',
  EAI_AGAIN: 'the host name does not resolve right now (DNS)',
  ECONNREFUSED: 'the connection was refused',
  ECONNRESET: 'the connection was reset',
  ETIMEDOUT: 'the connection timed out',
  UND_ERR_CONNECT_TIMEOUT: 'the connection timed out',
  EHOSTUNREACH: 'the host is unreachable',
  ENETUNREACH: 'the network is unreachable',
  CERT_HAS_EXPIRED: 'its TLS certificate has expired',
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'its TLS certificate cannot be verified',
  SELF_SIGNED_CERT_IN_CHAIN: 'its TLS certificate is self-signed (set NODE_EXTRA_CA_CERTS)',
};

/** The network-level cause of a failed request (fetch or octokit), or null when GitHub did answer. */
export function networkCause(err: unknown): string | null {
  if (isRequestError(err) && err.status !== 500) return null;
  for (let e: unknown = err, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    const { code, name } = e as { code?: string; name?: string };
    if (name === 'TimeoutError' || name === 'AbortError') return 'no answer before the timeout';
    if (code && NETWORK_CODES[code]) return `${NETWORK_CODES[code]} (${code})`;
  }
  // Octokit reports a network failure as status 500 with the fetch error as message.
  if (isRequestError(err) && /fetch failed|network|socket/i.test(err.message)) return 'the request did not reach GitHub';
  if (err instanceof TypeError && /fetch failed/.test(err.message)) return 'the request did not reach GitHub';
  return null;
}

export function describeNetworkError(err: unknown): string {
  return networkCause(err) ?? (err instanceof Error ? err.message : String(err));
}
