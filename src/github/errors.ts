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
