/**
 * Shared shape and helpers of engine reports.
 *
 * Every engine returns an `EngineReport` (src/pipeline/context.ts) plus `certified`: whether the engine
 * read the effect back from GitHub after acting and found it holds (secret exists with a newer
 * updated_at, re-run accepted, file on the branch, issue open with its marker). `ok` says the action
 * was performed; `certified` says it was checked. A report never carries a value.
 */
import type { Change } from '../core/schemas/index.js';
import type { EngineReport } from '../ports/index.js';

export type EngineResult<Extra extends object = object> = EngineReport & { certified: boolean } & Extra;

/** Duck-typed `GitHubPermissionError` (thrown by src/github) so engines need not import the adapter. */
export function permissionOf(err: unknown): string | null {
  if (typeof err !== 'object' || err === null) return null;
  const e = err as { name?: unknown; permission?: unknown };
  if (e.name === 'GitHubPermissionError' && typeof e.permission === 'string' && e.permission.length > 0) {
    return e.permission;
  }
  return null;
}

export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message;
  if (typeof err === 'string') return err;
  try {
    return JSON.stringify(err);
  } catch {
    return String(err);
  }
}

/** Removes every occurrence of the given secret strings from a message (defence in depth). */
export function redact(message: string, secrets: readonly string[]): string {
  let out = message;
  for (const s of secrets) if (s.length > 0) out = out.split(s).join('***');
  return out;
}

/** A report for an action that could not be performed (or not completely). */
export function failed<Extra extends object = object>(
  action: EngineReport['action'],
  error: string,
  opts: { notes?: string[]; changes?: Change[]; missingPermission?: string; extra?: Extra } = {},
): EngineResult<Extra> {
  const report: EngineReport & { certified: boolean } = {
    action,
    ok: false,
    certified: false,
    changes: opts.changes ?? [],
    notes: opts.notes ?? [],
    error,
  };
  if (opts.missingPermission) report.missingPermission = opts.missingPermission;
  return { ...report, ...(opts.extra ?? ({} as Extra)) };
}

/**
 * An error GitHub may well not repeat: a 5xx, a timeout or a dropped connection (no status, or 500+),
 * or a rate limit (429, a 403 that says so) that outlasted the client's retries.
 */
export function isTransientError(err: unknown): boolean {
  const status = (err as { status?: unknown } | null)?.status;
  if (typeof status !== 'number') return err instanceof Error && /ECONNRESET|ETIMEDOUT|socket hang up|fetch failed|aborted|other side closed/i.test(err.message);
  return status >= 500 || status === 429 || (status === 403 && /rate limit/i.test(errorMessage(err)));
}

/**
 * Turns an error thrown by a port into a failed report: a permission problem sets
 * `missingPermission`; `secrets` are scrubbed from the message.
 */
export function fromPortError<Extra extends object = object>(
  action: EngineReport['action'],
  what: string,
  err: unknown,
  opts: { notes?: string[]; changes?: Change[]; secrets?: readonly string[]; extra?: Extra } = {},
): EngineResult<Extra> {
  const permission = permissionOf(err);
  const detail = redact(errorMessage(err), opts.secrets ?? []);
  const error = permission
    ? `${what}: missing permission "${permission}" (${detail})`
    : `${what}: ${detail}`;
  const report = failed(action, error, {
    notes: opts.notes ?? [],
    changes: opts.changes ?? [],
    ...(permission ? { missingPermission: permission } : {}),
    ...(opts.extra ? { extra: opts.extra } : {}),
  });
  // A failure worth trying again later rather than asking a human about (the App's jobs retry it).
  return isTransientError(err) ? { ...report, transient: true } : report;
}
