/** Chaos drills: make the next matching request fail the way GitHub sometimes does. */
export interface ChaosFault { status: number; message: string; headers: Record<string, string>; remaining: number }

export class Chaos {
  private readonly faults = new Map<string, ChaosFault[]>();

  /** Next request matching `key` ("METHOD /route/template") gets GitHub's secondary-rate-limit 403 with `retry-after: 1`. */
  secondaryRateLimitOnce(key: string): void {
    this.push(key, {
      status: 403,
      message: 'You have exceeded a secondary rate limit. Please wait a few minutes before you try again. If you reach out to GitHub Support for help, please include the request ID.',
      headers: { 'retry-after': '1' },
      remaining: 1,
    });
  }

  /** Next `times` requests matching `key` answer `status` (default message per status). */
  failNext(key: string, status: number, times = 1, message?: string): void {
    const defaults: Record<number, string> = { 500: 'Server Error', 502: 'Bad Gateway', 503: 'Service Unavailable', 404: 'Not Found', 403: 'Forbidden', 409: 'Conflict', 422: 'Validation Failed' };
    this.push(key, { status, message: message ?? defaults[status] ?? 'Sandbox chaos', headers: {}, remaining: times });
  }

  clear(): void {
    this.faults.clear();
  }

  /** Consumes and returns the fault armed for `key`, if any. */
  take(key: string): ChaosFault | undefined {
    const list = this.faults.get(key);
    const f = list?.[0];
    if (!f) return undefined;
    f.remaining -= 1;
    if (f.remaining <= 0) list.shift();
    return f;
  }

  private push(key: string, f: ChaosFault): void {
    const list = this.faults.get(key) ?? [];
    list.push(f);
    this.faults.set(key, list);
  }
}
