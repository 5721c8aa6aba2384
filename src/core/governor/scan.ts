/**
 * decide()'s pass over the action log when no index answers (log-index.ts): recent actions for the
 * rate limit, the latest action of each candidate for its cooldown, successes that did not stick.
 */
import type { ActionKind } from '../schemas/common.js';
import type { ActionRecord, GovernorState } from '../schemas/governor-state.js';
import type { Incident } from '../schemas/incident.js';
import { RATE_WINDOW_MS, RECURRENCE_WINDOW_MS } from './constants.js';
import { repositoryKeyPrefix } from './keys.js';
import type { LogScan } from './log-index.js';
import { inWindow, isLater, iso, isoHourBefore, toMs } from './time.js';

/**
 * One pass over the action log, cheapest tests first (this loop is most of decide()'s cost):
 * canonical timestamps are compared as strings, and only the few winners are parsed.
 * The log is not assumed to be sorted. A log decided on more than once is answered by its index
 * (log-index.ts) instead.
 */
export function scanLog(
  state: GovernorState,
  repository: string,
  incident: Incident,
  leads: readonly ActionKind[],
  keys: readonly string[],
  nowMs: number,
  nowIso: string,
): LogScan {
  const prefix = repositoryKeyPrefix(repository);
  const fingerprint = incident.fingerprint;
  const cutoffMs = nowMs - RATE_WINDOW_MS;
  const cutoffIso = RATE_WINDOW_MS === 3_600_000 ? isoHourBefore(nowIso, nowMs) : iso(cutoffMs);
  const recurrenceFromMs = nowMs - RECURRENCE_WINDOW_MS;
  const latest: (string | null)[] = leads.map(() => null);
  let recentActions = 0;
  let unstickedSuccesses = 0;
  const log = state.actions;
  // Newest first: with an append-only log the first key match is the latest, and older matches
  // fail the cheap time test before the key comparison.
  for (let i = log.length - 1; i >= 0; i--) {
    const rec = log[i] as ActionRecord;
    const action = rec.action;
    if (action === 'ESCALATE' || action === 'NOOP') continue;
    const at = rec.at;
    if (inWindow(at, cutoffIso, cutoffMs, nowIso, nowMs) && rec.cooldown_key.startsWith(prefix)) recentActions++;
    for (let j = 0; j < leads.length; j++) {
      if (action !== leads[j]) continue;
      const prev = latest[j];
      if ((prev === null || prev === undefined || isLater(at, prev)) && rec.cooldown_key === keys[j]) latest[j] = at;
    }
    if (rec.outcome === 'success' && rec.incident_fingerprint === fingerprint) {
      const ms = toMs(at);
      if (ms <= nowMs && ms >= recurrenceFromMs) unstickedSuccesses++;
    }
  }
  const lastByCandidate = latest.map((at) => {
    if (at === null) return null;
    const ms = toMs(at);
    return Number.isNaN(ms) ? null : ms;
  });
  return { recentActions, lastByCandidate, unstickedSuccesses };
}
