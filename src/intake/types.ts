import type { HealJob } from '../core/schemas/index.js';

export interface SubmitResult {
  accepted: boolean;
  duplicate: boolean;
  id: string;
}

/** A job that failed every try: kept, visible and replayable, never dropped silently. */
export interface DeadLetter {
  id: string;
  repository: string;
  run_id: number | null;
  run_attempt: number | null;
  /** Tries made, the first included. */
  attempts: number;
  error: string;
  failed_at: string;
  job: HealJob;
}

/**
 * One intent record of a heal step: `begin` is written durably before the step acts, `done` after it
 * (with the step's value-free report). A replay reads them back and resumes after the last done step.
 */
export interface IntentRecord {
  step: string;
  phase: 'begin' | 'done';
  at: string;
  /** Value-free facts the resumed job needs (a decision, a report, a fingerprint) — never a secret value. */
  data?: unknown;
}

/** Where intent records live: next to the job (the embedded journal, or Redis). */
export interface IntentStore {
  record(key: string, rec: IntentRecord): Promise<void>;
  read(key: string): Promise<IntentRecord[]>;
}

/**
 * Where a job is, as the intake tracks it (BullMQ's job state with Redis, the journal when embedded):
 * any replica reads the same answer for a job another replica took.
 */
export interface JobStatus {
  id: string;
  repository: string;
  state: 'waiting' | 'running' | 'retrying' | 'done' | 'failed';
  /** Tries started so far (the first included). */
  attempts: number;
  /** What the worker returned (done). */
  result?: unknown;
  /** The last try's error (retrying, failed). */
  error?: string;
}

/** The worker's returned value is kept with the job as its result (JSON: no secrets, no values). */
export type JobWorker = (job: HealJob) => Promise<unknown>;

export interface WorkerHooks {
  /** Called once when a job has used up its tries and went to the dead-letter list. */
  onDead?: (dead: DeadLetter) => void | Promise<void>;
}

export interface Intake {
  /** Records the job durably, or reports it as a duplicate (same delivery id or same run attempt). */
  submit(job: HealJob): Promise<SubmitResult>;
  /** Starts handing jobs to `worker`; jobs of one repository run one at a time, in order. A job that throws is retried with backoff, then dead-lettered. */
  start(worker: JobWorker, hooks?: WorkerHooks): void;
  /** The job's state and result by its id (`wh-<delivery>` or the API's id); null when unknown (never taken, or forgotten after the window). */
  status(id: string): Promise<JobStatus | null>;
  /** Resolves when every accepted job has been processed (or dead-lettered). */
  drain(): Promise<void>;
  close(): Promise<void>;
  stats(): { pending: number; running: number; done: number; failed: number; dead?: number };
  /** Jobs that failed every try. */
  deadLetters(): Promise<DeadLetter[]>;
  /** Puts a dead job back in the queue (fresh tries). False when no dead job has that id. */
  replayDead(id: string): Promise<boolean>;
  /** Whether a delivery id was ever accepted (within the de-duplication window): the redelivery sweeper asks. */
  hasDelivery(deliveryId: string): Promise<boolean>;
  /** The intent records of the heal steps, stored with the jobs. */
  readonly intents: IntentStore;
}

/** The de-duplication key of "the same failure event": a run attempt, else the delivery. */
export const dedupeKeyOf = (job: HealJob): string =>
  job.request.run_id !== undefined
    ? `${job.request.repository}#${job.request.run_id}@${job.request.run_attempt ?? 1}${job.request.dry_run ? ':dry' : ''}`
    : `delivery:${job.delivery_id}`;

/** The idempotency key of a job's steps: repository, run id, run attempt (steps are recorded under it). */
export const intentKeyOf = (job: HealJob): string => dedupeKeyOf(job);

export function deadLetterOf(job: HealJob, attempts: number, error: string, at: Date): DeadLetter {
  return {
    id: job.id,
    repository: job.request.repository,
    run_id: job.request.run_id ?? null,
    run_attempt: job.request.run_attempt ?? null,
    attempts,
    error,
    failed_at: at.toISOString(),
    job,
  };
}
