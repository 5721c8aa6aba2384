/**
 * Chaos drills: make requests fail the way GitHub sometimes does.
 *
 * Two modes, usable together:
 * - **armed faults** — the next request(s) matching "METHOD /route/template" fail once (or `times`);
 * - **faults at a rate** — a chosen share of all API requests fail at random, drawn from a seeded
 *   generator so a drill can be replayed: 5xx, 403 secondary rate limit / 429 with `retry-after`,
 *   extra latency, a dropped connection, "5xx after the write took effect" (the write is applied and
 *   the answer lost), and ledger compare-and-swap races (another writer moves the ref first).
 */
export interface ChaosFault { status: number; message: string; headers: Record<string, string>; remaining: number }

export const FAULT_KINDS = ['5xx', 'secondary-rate-limit', '429', 'latency', 'drop', 'write-then-5xx', 'cas-race'] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

export interface ChaosRateConfig {
  /** Share of API requests that get a fault, 0..1. */
  rate: number;
  /** Seed of the generator (same seed, same request order → same faults). */
  seed: number;
  /** Kinds drawn from (default all). A kind that does not apply to a request (e.g. a CAS race on a GET) is replaced by a 5xx. */
  kinds: FaultKind[];
  /** Extra latency of a `latency` fault, ms (default 800). */
  latencyMs: number;
}

/** What the server should do with one request. */
export type ChaosRoll =
  | { kind: 'fail'; fault: FaultKind; status: number; message: string; headers: Record<string, string> }
  | { kind: 'latency'; ms: number }
  | { kind: 'drop' }
  | { kind: 'write-then-5xx' }
  | { kind: 'cas-race' };

const SECONDARY_MESSAGE = 'You have exceeded a secondary rate limit. Please wait a few minutes before you try again. If you reach out to GitHub Support for help, please include the request ID.';
const DEFAULT_MESSAGES: Record<number, string> = { 500: 'Server Error', 502: 'Bad Gateway', 503: 'Service Unavailable', 404: 'Not Found', 403: 'Forbidden', 409: 'Conflict', 422: 'Validation Failed' };

/** mulberry32: small, fast, good enough for picking faults (and a drill's kill schedule); deterministic per seed. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function isFaultKind(k: string): k is FaultKind {
  return (FAULT_KINDS as readonly string[]).includes(k);
}

export class Chaos {
  private readonly faults = new Map<string, ChaosFault[]>();
  private config: ChaosRateConfig | null = null;
  private random: () => number = Math.random;
  /** Faults injected at the rate, by kind (what a drill reports next to what it recovered from). */
  injected: Record<string, number> = {};
  /** Requests that were eligible for a fault at the rate. */
  considered = 0;

  /** Next request matching `key` ("METHOD /route/template") gets GitHub's secondary-rate-limit 403 with `retry-after: 1`. */
  secondaryRateLimitOnce(key: string): void {
    this.push(key, { status: 403, message: SECONDARY_MESSAGE, headers: { 'retry-after': '1' }, remaining: 1 });
  }

  /** Next `times` requests matching `key` answer `status` (default message per status). */
  failNext(key: string, status: number, times = 1, message?: string): void {
    this.push(key, { status, message: message ?? DEFAULT_MESSAGES[status] ?? 'Sandbox chaos', headers: {}, remaining: times });
  }

  /** Fails `rate` of all API requests at random from now on (rate 0 stops it). */
  setRate(input: { rate: number; seed?: number; kinds?: FaultKind[]; latencyMs?: number }): ChaosRateConfig | null {
    if (!(input.rate >= 0 && input.rate <= 1)) throw new RangeError('rate must be between 0 and 1');
    if (input.rate === 0) {
      this.config = null;
      return null;
    }
    const seed = input.seed ?? 1;
    this.config = { rate: input.rate, seed, kinds: input.kinds?.length ? [...input.kinds] : [...FAULT_KINDS], latencyMs: input.latencyMs ?? 800 };
    this.random = seededRandom(seed);
    this.injected = {};
    this.considered = 0;
    return this.config;
  }

  rate(): ChaosRateConfig | null {
    return this.config;
  }

  clear(): void {
    this.faults.clear();
    this.config = null;
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

  /** Draws the fate of one API request at the configured rate (null: let it through untouched). */
  roll(method: string, routeKey: string): ChaosRoll | null {
    const cfg = this.config;
    if (!cfg) return null;
    this.considered += 1;
    if (this.random() >= cfg.rate) return null;
    let fault = cfg.kinds[Math.floor(this.random() * cfg.kinds.length)] ?? '5xx';
    const write = method !== 'GET' && method !== 'HEAD';
    if (fault === 'write-then-5xx' && !write) fault = '5xx';
    if (fault === 'cas-race' && routeKey !== 'PATCH /repos/{owner}/{repo}/git/refs/{ref}') fault = '5xx';
    this.injected[fault] = (this.injected[fault] ?? 0) + 1;
    switch (fault) {
      case '5xx': {
        const status = [500, 502, 503][Math.floor(this.random() * 3)]!;
        return { kind: 'fail', fault, status, message: DEFAULT_MESSAGES[status]!, headers: {} };
      }
      case 'secondary-rate-limit':
        return { kind: 'fail', fault, status: 403, message: SECONDARY_MESSAGE, headers: { 'retry-after': '1' } };
      case '429':
        return { kind: 'fail', fault, status: 429, message: 'Too Many Requests', headers: { 'retry-after': '1' } };
      case 'latency':
        return { kind: 'latency', ms: Math.round(cfg.latencyMs * (0.5 + this.random())) };
      case 'drop':
        return { kind: 'drop' };
      case 'write-then-5xx':
        return { kind: 'write-then-5xx' };
      case 'cas-race':
        return { kind: 'cas-race' };
    }
  }

  private push(key: string, f: ChaosFault): void {
    const list = this.faults.get(key) ?? [];
    list.push(f);
    this.faults.set(key, list);
  }
}
