import type { ActionKind } from '../schemas/common.js';
import type { ActionRecord } from '../schemas/governor-state.js';
import { RATE_WINDOW_MS, RECURRENCE_WINDOW_MS } from './constants.js';
import { toMs } from './time.js';

/** What the state's action log says about one decision (see decide()). */
export interface LogScan {
  /** Rate-limited actions of this repository in (now − 1 h, now]. */
  recentActions: number;
  /** Latest time (ms) each candidate's cooldown key was acted on, by candidate index; null: never. */
  lastByCandidate: (number | null)[];
  /** Successful heals of this fingerprint within the recurrence window: each one did not stick. */
  unstickedSuccesses: number;
}

/**
 * An index of one action log, answering a LogScan in O(candidates × log n) instead of a pass over
 * every record. Built from the same rules as the scan: ESCALATE and NOOP records never count;
 * unparsable timestamps never count and are never the latest.
 */
interface LogIndex {
  /** Sorted ms of the rate-limited actions, per repository (the cooldown key's text before the first `|`). */
  byRepository: Map<string, number[]>;
  /** Latest ms per `action␀cooldown key`. */
  latestByKey: Map<string, number>;
  /** Sorted ms of successful actions, per incident fingerprint. */
  successesByFingerprint: Map<string, number[]>;
  length: number;
}

const push = (map: Map<string, number[]>, key: string, ms: number): void => {
  const list = map.get(key);
  if (list) list.push(ms);
  else map.set(key, [ms]);
};

function buildIndex(log: readonly ActionRecord[]): LogIndex {
  const byRepository = new Map<string, number[]>();
  const latestByKey = new Map<string, number>();
  const successesByFingerprint = new Map<string, number[]>();
  for (const rec of log) {
    if (rec.action === 'ESCALATE' || rec.action === 'NOOP') continue;
    const ms = toMs(rec.at);
    if (Number.isNaN(ms)) continue;
    const bar = rec.cooldown_key.indexOf('|');
    if (bar >= 0) push(byRepository, rec.cooldown_key.slice(0, bar), ms);
    const key = `${rec.action}\u0000${rec.cooldown_key}`;
    const prev = latestByKey.get(key);
    if (prev === undefined || ms > prev) latestByKey.set(key, ms);
    if (rec.outcome === 'success') push(successesByFingerprint, rec.incident_fingerprint, ms);
  }
  const ascending = (a: number, b: number): number => a - b;
  for (const list of byRepository.values()) list.sort(ascending);
  for (const list of successesByFingerprint.values()) list.sort(ascending);
  return { byRepository, latestByKey, successesByFingerprint, length: log.length };
}

/** Index of the first element > ms (sorted ascending). */
function upperBound(sorted: readonly number[], ms: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((sorted[mid] as number) <= ms) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Elements in (from, to] when `openFrom`, else in [from, to]. */
function countIn(sorted: readonly number[] | undefined, from: number, to: number, openFrom: boolean): number {
  if (!sorted || sorted.length === 0) return 0;
  const start = openFrom ? upperBound(sorted, from) : upperBound(sorted, from - 1);
  return Math.max(0, upperBound(sorted, to) - start);
}

/**
 * Action logs are immutable values (recordAction/recordOutcome return new arrays), so an index can
 * be kept per array. A log seen once is scanned (one decision per loaded state, as in a heal, costs
 * no index build); from the second decision on the same array, the index answers. The length check
 * guards against a caller that pushed onto an array it already decided on.
 */
const seen = new WeakMap<readonly ActionRecord[], LogIndex | 'scanned-once'>();

function indexFor(log: readonly ActionRecord[]): LogIndex | null {
  const known = seen.get(log);
  if (known !== undefined && known !== 'scanned-once' && known.length === log.length) return known;
  if (known === undefined) {
    seen.set(log, 'scanned-once');
    return null;
  }
  const index = buildIndex(log);
  seen.set(log, index);
  return index;
}

/** Whether `repository` can be looked up by the key's text before the first `|`. */
const indexable = (repository: string): boolean => !repository.includes('|');

/**
 * The LogScan from the index when this log was decided on before, else null (then scan).
 * Integer-millisecond comparisons give the same answers as the scan's canonical-string ones.
 */
export function scanFromIndex(
  log: readonly ActionRecord[],
  repository: string,
  fingerprint: string,
  leads: readonly ActionKind[],
  keys: readonly string[],
  nowMs: number,
): LogScan | null {
  if (!indexable(repository)) return null;
  const index = indexFor(log);
  if (!index) return null;
  const recentActions = countIn(index.byRepository.get(repository), nowMs - RATE_WINDOW_MS, nowMs, true);
  const lastByCandidate = leads.map((lead, j) => index.latestByKey.get(`${lead}\u0000${keys[j] ?? ''}`) ?? null);
  const unstickedSuccesses = countIn(index.successesByFingerprint.get(fingerprint), nowMs - RECURRENCE_WINDOW_MS, nowMs, false);
  return { recentActions, lastByCandidate, unstickedSuccesses };
}
