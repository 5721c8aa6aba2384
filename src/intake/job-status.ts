import { HealJob } from '../core/schemas/index.js';
import type { DeadLetter, JobStatus } from './types.js';

/** Finished jobs whose status (and result) the embedded intake still answers: the most recent ones. */
export const MAX_FINISHED_STATUS = 5000;

/** Finished jobs' repository and result, newest last, bounded (the embedded intake's `status`). */
export class FinishedJobs {
  private readonly byId = new Map<string, { repository: string; result?: unknown }>();

  remember(id: string, repository: string, result: unknown): void {
    this.byId.delete(id);
    this.byId.set(id, result === undefined ? { repository } : { repository, result });
    if (this.byId.size > MAX_FINISHED_STATUS) this.byId.delete(this.byId.keys().next().value as string);
  }

  status(id: string): JobStatus | null {
    const done = this.byId.get(id);
    return done ? { id, repository: done.repository, state: 'done', attempts: 1, ...('result' in done ? { result: done.result } : {}) } : null;
  }
}

/** A job the embedded intake still holds: waiting, running (now), retrying (after a failed try), or dead. */
export function heldStatus(live: { job: HealJob; tries: number; error?: string } | undefined, running: boolean, dead: DeadLetter | undefined): JobStatus | null {
  if (live) {
    const state = running ? 'running' : live.tries > 0 ? 'retrying' : 'waiting';
    return { id: live.job.id, repository: live.job.request.repository, state, attempts: live.tries + (running ? 1 : 0), ...(live.error ? { error: live.error } : {}) };
  }
  return dead ? { id: dead.id, repository: dead.repository, state: 'failed', attempts: dead.attempts, error: dead.error } : null;
}

/** A BullMQ job (the Redis intake) in the same terms; null when it is not the job `id` names. */
export function bullJobStatus(id: string, bullJob: { data: unknown; attemptsMade: number; failedReason?: string; returnvalue?: unknown }, state: string): JobStatus | null {
  const parsed = HealJob.safeParse(bullJob.data);
  if (!parsed.success || parsed.data.id !== id) return null;
  const tries = bullJob.attemptsMade;
  const base = { id, repository: parsed.data.request.repository, attempts: tries };
  const error = bullJob.failedReason ? { error: bullJob.failedReason } : {};
  if (state === 'completed') return { ...base, attempts: Math.max(1, tries), state: 'done', ...(bullJob.returnvalue == null ? {} : { result: bullJob.returnvalue }) };
  if (state === 'failed') return { ...base, state: 'failed', ...error };
  if (state === 'active') return { ...base, attempts: tries + 1, state: 'running' };
  // waiting, delayed (a retry's backoff, or its repository busy on some replica), prioritized
  return { ...base, state: tries > 0 ? 'retrying' : 'waiting', ...(tries > 0 ? error : {}) };
}
