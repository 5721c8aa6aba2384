import { HealJob, HealRequest } from '../../src/core/schemas/index.js';

let seq = 0;

/** A valid HealJob for intake tests: a webhook delivery for a run attempt unless told otherwise. */
export function healJob(o: { delivery?: string; repo?: string; run?: number; attempt?: number; dryRun?: boolean; incident?: boolean } = {}): HealJob {
  seq++;
  const delivery = o.delivery ?? `d-${process.pid}-${seq}-${Math.random().toString(36).slice(2, 8)}`;
  const request = HealRequest.parse(
    o.incident
      ? { repository: o.repo ?? 'acme/web', incident: { kind: 'secret.missing' }, dry_run: o.dryRun ?? false }
      : { repository: o.repo ?? 'acme/web', run_id: o.run ?? 1000 + seq, run_attempt: o.attempt ?? 1, dry_run: o.dryRun ?? false },
  );
  return HealJob.parse({ id: `wh-${delivery}`, door: 'webhook', delivery_id: delivery, received_at: new Date(0).toISOString(), request });
}

export interface Interval { id: string; repo: string; start: number; end: number; by?: string }

/** Pairs of intervals that overlap in time. */
export function overlapping(intervals: Interval[]): [Interval, Interval][] {
  const out: [Interval, Interval][] = [];
  for (let i = 0; i < intervals.length; i++) {
    for (let j = i + 1; j < intervals.length; j++) {
      const a = intervals[i]!;
      const b = intervals[j]!;
      if (a.start < b.end && b.start < a.end) out.push([a, b]);
    }
  }
  return out;
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
