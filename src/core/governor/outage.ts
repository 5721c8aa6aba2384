/**
 * The outage brake (issue #10 item 9). Re-running during a GitHub or registry outage only adds load:
 * when several repositories of one installation fail with the same transient signature within a few
 * minutes, re-runs for that signature are held (guardrail `outage`) until one of those repositories
 * has a run that succeeds, or the hold expires. Pure: the watch is data, every function takes the time.
 */
import type { Incident } from '../schemas/incident.js';
import { looksTransient } from './candidates.js';
import { toMs } from './time.js';

/** Failures of one signature in this many distinct repositories within the window start a hold. */
export const OUTAGE_MIN_REPOSITORIES = 3;
export const OUTAGE_WINDOW_MS = 10 * 60_000;
/** A hold nobody lifts (no run succeeded) ends after this, so a later failure is re-run again. */
export const OUTAGE_HOLD_MAX_MS = 60 * 60_000;

export interface OutageHold {
  signature: string;
  since: string;
  repositories: string[];
}

/** What one installation's recent transient failures look like. */
export interface OutageWatch {
  /** signature -> repository -> time of its latest failure with that signature. */
  failures: Record<string, Record<string, string>>;
  holds: Record<string, OutageHold>;
}

export const emptyOutageWatch = (): OutageWatch => ({ failures: {}, holds: {} });

/** The transient signature an incident is watched under, or null for failures that are not transient. */
export function transientSignature(incident: Pick<Incident, 'kind' | 'signature' | 'target' | 'summary' | 'evidence'>): string | null {
  const transient =
    incident.kind === 'transient.network' ||
    incident.kind === 'timeout.cancelled' ||
    (incident.kind === 'dependency.resolution' && looksTransient(incident));
  if (!transient) return null;
  return incident.signature ?? `${incident.kind}:${incident.target?.name ?? '-'}`;
}

/** A hold in force at `now` (not expired), or null. */
export function outageHoldOf(watch: OutageWatch, signature: string, now: Date): OutageHold | null {
  const hold = watch.holds[signature];
  if (!hold) return null;
  return now.getTime() - toMs(hold.since) < OUTAGE_HOLD_MAX_MS ? hold : null;
}

/** Records a transient failure; starts a hold when enough repositories failed alike within the window. */
export function noteTransientFailure(watch: OutageWatch, f: { signature: string; repository: string; at: Date }): OutageWatch {
  const atMs = f.at.getTime();
  const recent = Object.fromEntries(
    Object.entries({ ...watch.failures[f.signature], [f.repository]: f.at.toISOString() }).filter(([, at]) => atMs - toMs(at) <= OUTAGE_WINDOW_MS),
  );
  const repositories = Object.keys(recent).sort();
  const holds = { ...watch.holds };
  const current = outageHoldOf(watch, f.signature, f.at);
  if (current) holds[f.signature] = { ...current, repositories: [...new Set([...current.repositories, ...repositories])].sort() };
  else if (repositories.length >= OUTAGE_MIN_REPOSITORIES) holds[f.signature] = { signature: f.signature, since: f.at.toISOString(), repositories };
  else delete holds[f.signature];
  return { failures: { ...watch.failures, [f.signature]: recent }, holds };
}

/** A run of `repository` succeeded: the holds it took part in are lifted, its failures forgotten. */
export function noteSuccess(watch: OutageWatch, repository: string): OutageWatch {
  const failures: OutageWatch['failures'] = {};
  const holds = { ...watch.holds };
  for (const [signature, byRepo] of Object.entries(watch.failures)) {
    if (repository in byRepo || holds[signature]?.repositories.includes(repository)) delete holds[signature];
    const { [repository]: _gone, ...rest } = byRepo;
    if (Object.keys(rest).length) failures[signature] = rest;
  }
  return { failures, holds };
}
