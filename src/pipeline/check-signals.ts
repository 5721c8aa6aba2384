/**
 * Wakes the config loop early when GitHub says a commit's checks moved: the App forwards its
 * `check_suite`, `check_run` and `status` webhooks here; the loop waits on (repository, sha) with a
 * timeout, so polling with backoff stays the fallback when no webhook comes (the Action, a missed
 * delivery, an App not subscribed to those events).
 */
export class CheckSignals {
  private readonly waiters = new Map<string, Set<() => void>>();

  private key(repository: string, sha: string): string {
    return `${repository.toLowerCase()}@${sha}`;
  }

  /** A check, suite or status of `sha` changed. */
  notify(repository: string, sha: string): void {
    const key = this.key(repository, sha);
    const set = this.waiters.get(key);
    if (!set) return;
    this.waiters.delete(key);
    for (const wake of set) wake();
  }

  /** Resolves after `ms`, or earlier ('signal') when `notify` is called for this commit. */
  wait(repository: string, sha: string, ms: number): Promise<'signal' | 'timeout'> {
    const key = this.key(repository, sha);
    return new Promise((resolve) => {
      const set = this.waiters.get(key) ?? new Set<() => void>();
      this.waiters.set(key, set);
      const wake = (): void => {
        clearTimeout(timer);
        resolve('signal');
      };
      const timer = setTimeout(() => {
        set.delete(wake);
        if (set.size === 0 && this.waiters.get(key) === set) this.waiters.delete(key);
        resolve('timeout');
      }, ms);
      set.add(wake);
    });
  }

  /** Waiters currently registered (bounded by the loops in progress). */
  get size(): number {
    let n = 0;
    for (const s of this.waiters.values()) n += s.size;
    return n;
  }
}

/** The commit a `check_suite` / `check_run` / `status` webhook payload is about, or null. */
export function checkEventCommit(event: string, payload: Record<string, unknown>): { repository: string; sha: string } | null {
  const repository = (payload.repository as { full_name?: unknown } | undefined)?.full_name;
  if (typeof repository !== 'string') return null;
  const sha =
    event === 'status' ? payload.sha
    : event === 'check_suite' ? (payload.check_suite as { head_sha?: unknown } | undefined)?.head_sha
    : event === 'check_run' ? (payload.check_run as { head_sha?: unknown } | undefined)?.head_sha
    : undefined;
  return typeof sha === 'string' && /^[0-9a-f]{40}$/.test(sha) ? { repository, sha } : null;
}
