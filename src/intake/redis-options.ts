import type { Logger } from 'pino';

/** The intake could not record a job (Redis unreachable or too slow): the door must not answer 202. */
export class IntakeUnavailableError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'IntakeUnavailableError';
  }
}

export interface RedisIntakeOptions {
  /** `redis://[user:password@]host:port[/db]` (or `rediss://` for TLS). */
  url: string;
  /**
   * Prefix of every key (BullMQ's and ours). Replicas that share a queue share the prefix; tests use a
   * unique one. On Redis Cluster use a hash tag, e.g. `{living-bridge}`, so the multi-key scripts stay in one slot.
   */
  prefix?: string;
  queueName?: string;
  /** Jobs this replica runs at once (different repositories; one repository never runs twice at once). */
  concurrency?: number;
  /** How long a delivery id and a run attempt are remembered as seen. */
  dedupeTtlSeconds?: number;
  /** Tries per job, the first included. */
  attempts?: number;
  /** First retry delay; doubles on each further retry. */
  backoffMs?: number;
  /** TTL of the per-repository lock; renewed every third of it while the job runs, so a dead replica frees it. */
  repoLockTtlMs?: number;
  /** BullMQ's job lock (and stalled-job check interval): how soon a dead replica's job runs elsewhere. Default BullMQ's 30 s. */
  jobLockMs?: number;
  /** How long a job waits (plus jitter) before trying again when its repository is busy on some replica. */
  repoBusyDelayMs?: number;
  /** A submit not done by then fails, whatever step it is in (GitHub gives up on a webhook after 10 s). Default 4000. */
  submitTimeoutMs?: number;
  /** A seen-marker older than this whose job does not exist is an orphan of a failed submit, not a duplicate. */
  orphanAfterMs?: number;
  log?: Logger;
}
