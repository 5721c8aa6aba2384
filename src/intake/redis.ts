import { createHash, randomUUID } from 'node:crypto';
import { DelayedError, Queue, UnrecoverableError, Worker, type Job } from 'bullmq';
import { Redis, type RedisOptions } from 'ioredis';
import { HealJob } from '../core/schemas/index.js';
import { bullJobStatus } from './job-status.js';
export { IntakeUnavailableError, type RedisIntakeOptions } from './redis-options.js';
import { CLAIM, RELEASE_IF, RENEW_IF, type ClaimingRedis } from './redis-scripts.js';
import { IntakeUnavailableError, type RedisIntakeOptions } from './redis-options.js';
import { deadLetterOf, dedupeKeyOf, type DeadLetter, type Intake, type IntentRecord, type IntentStore, type JobStatus, type JobWorker, type SubmitResult, type WorkerHooks } from './types.js';

const DAY_SECONDS = 24 * 60 * 60;
/** Times a job may be taken up again after its replica died (or stalled) before it fails. */
const MAX_STALLS = 10;

type Counts = { pending: number; running: number; done: number; failed: number };

/** The shared queue's pending count (for /healthz) is re-read at most this often, not once per submit. */
const PENDING_REFRESH_MS = 1000;

/**
 * The intake for several App replicas behind one webhook URL: jobs live in a BullMQ queue on Redis.
 *
 * - De-duplication is shared by every replica: a Lua script claims the delivery-id key and the
 *   run-attempt key ({@link dedupeKeyOf}) together with `SET … EX`, and the BullMQ job id is a hash of the
 *   run-attempt key, so BullMQ itself also refuses a second copy.
 * - A submit that cannot reach Redis throws {@link IntakeUnavailableError}: the door answers 503 and
 *   GitHub can redeliver, rather than 202 for a job that was never recorded.
 * - One repository's jobs never run at the same time on two replicas: a per-repository lock in Redis
 *   (`SET NX PX`, renewed while the job runs, expires if the replica dies); a job that finds its
 *   repository busy goes back to BullMQ's delayed set and tries again shortly (this does not use up an attempt).
 * - Failed jobs are retried with exponential backoff (3 attempts by default), then kept as failed.
 * - Jobs are validated with the HealJob schema when they come out of Redis; an invalid one fails without retry.
 */
export class RedisIntake implements Intake {
  private readonly prefix: string;
  private readonly queueName: string;
  private readonly client: Redis;
  private readonly queue: Queue;
  private worker: Worker | null = null;
  private workerClient: Redis | null = null;
  private readonly instanceId = randomUUID();
  private closed = false;
  private running = 0;
  private done = 0;
  private failed = 0;
  private pending = 0;
  private refreshing: Promise<void> | null = null;
  private pendingReadAt = 0;
  private connectionDown = false;
  readonly intents: IntentStore;

  constructor(private readonly opts: RedisIntakeOptions) {
    this.prefix = opts.prefix ?? 'living-bridge';
    this.queueName = opts.queueName ?? 'heal';
    // Producer side: fail fast. Without an offline queue a command issued while Redis is away is
    // rejected at once instead of being held until the webhook's caller has given up.
    this.client = new Redis(opts.url, { enableOfflineQueue: false, maxRetriesPerRequest: 1, connectionName: `living-bridge:${this.instanceId}` } satisfies RedisOptions);
    this.client.on('error', (err: Error) => this.connectionError(err));
    // Sent by its SHA (EVALSHA; the script text only when Redis does not know it yet), not in full on every submit.
    this.client.defineCommand('livingBridgeClaim', { lua: CLAIM }); // number of keys: the first argument
    this.client.on('ready', () => {
      if (this.connectionDown) opts.log?.info('Redis reachable again');
      this.connectionDown = false;
    });
    this.queue = new Queue(this.queueName, { connection: this.client, prefix: this.prefix });
    this.queue.on('error', (err: Error) => this.connectionError(err));
    const ttl = this.opts.dedupeTtlSeconds ?? 7 * DAY_SECONDS;
    // Intent records: one Redis list per run attempt, kept as long as its de-duplication keys.
    this.intents = {
      record: async (key: string, rec: IntentRecord) => {
        const k = this.key('intent', key);
        await this.connected(() => 5000);
        await this.withTimeout(this.client.multi().rpush(k, JSON.stringify(rec)).expire(k, ttl).exec(), 5000, 'intent record');
      },
      read: async (key: string) => {
        await this.connected(() => 5000);
        const items = await this.withTimeout(this.client.lrange(this.key('intent', key), 0, -1), 5000, 'intent read');
        return items.map((i) => JSON.parse(i) as IntentRecord);
      },
    };
  }

  async deadLetters(): Promise<DeadLetter[]> {
    const failed = await this.withTimeout(this.queue.getFailed(0, 999), 5000, 'dead-letter list');
    return failed.flatMap((j) => {
      const parsed = HealJob.safeParse(j.data);
      return parsed.success ? [deadLetterOf(parsed.data, j.attemptsMade, j.failedReason ?? 'failed', new Date(j.finishedOn ?? Date.now()))] : [];
    });
  }

  async replayDead(id: string): Promise<boolean> {
    const failed = await this.withTimeout(this.queue.getFailed(0, 999), 5000, 'dead-letter list');
    const job = failed.find((j) => (j.data as { id?: string } | undefined)?.id === id);
    if (!job) return false;
    await this.withTimeout(job.retry('failed', { resetAttemptsMade: true, resetAttemptsStarted: true }), 5000, 'replay');
    this.opts.log?.info({ job: id }, 'dead-lettered heal job put back in the queue');
    return true;
  }

  async hasDelivery(deliveryId: string): Promise<boolean> {
    await this.connected(() => 5000);
    return (await this.withTimeout(this.client.exists(this.key('seen', 'delivery', deliveryId)), 5000, 'delivery lookup')) === 1;
  }

  private connectionError(err: Error): void {
    if (this.connectionDown || this.closed) return;
    this.connectionDown = true;
    this.opts.log?.error({ err: err.message }, 'Redis unreachable: the intake refuses new jobs until it is back');
  }

  private key(...parts: string[]): string {
    return [this.prefix, this.queueName, ...parts].join(':');
  }

  /** Resolves once Redis answers a PING, or rejects after `timeoutMs`. */
  async ready(timeoutMs = 5000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      try {
        await this.withTimeout(this.client.ping(), Math.max(1, deadline - Date.now()), 'ping');
        return;
      } catch (err) {
        if (Date.now() >= deadline) throw err;
        await sleep(100);
      }
    }
  }

  /** Waits (within the submit timeout) for the producer connection: commands are never queued offline. */
  private async connected(left: () => number): Promise<void> {
    if (this.client.status === 'ready') return;
    if (this.client.status === 'end' || this.client.status === 'close') {
      if (this.closed) throw new IntakeUnavailableError('intake is closed');
    }
    const client = this.client;
    let onReady: (() => void) | undefined;
    await this.withTimeout(new Promise<void>((resolve) => { onReady = resolve; client.once('ready', resolve); }), left(), 'connection').finally(() => {
      if (onReady) client.off('ready', onReady);
    });
  }

  async submit(job: HealJob): Promise<SubmitResult> {
    if (this.closed) throw new IntakeUnavailableError('intake is closed');
    // One budget for the whole submit: the webhook must be answered well within GitHub's 10 s.
    const deadline = Date.now() + (this.opts.submitTimeoutMs ?? 4000);
    const left = () => Math.max(1, deadline - Date.now());
    await this.connected(left);
    const runKey = dedupeKeyOf(job);
    const bullId = bullJobIdOf(runKey);
    // The job id's key holds the same marker: any replica finds the BullMQ job of a job id (`status`).
    const keys = [this.key('seen', 'delivery', job.delivery_id), this.key('seen', 'run', runKey), this.key('job', job.id)];
    const marker = `${bullId}|${Date.now()}`;
    const ttl = String(this.opts.dedupeTtlSeconds ?? 7 * DAY_SECONDS);
    const claim = (await this.withTimeout((this.client as ClaimingRedis).livingBridgeClaim(keys.length, ...keys, marker, ttl), left(), 'claim')) as [number, string?, string?];
    if (claim[0] !== 1) {
      if (!(await this.isOrphan([claim[1] ?? '', claim[2] ?? ''], left))) return { accepted: false, duplicate: true, id: job.id };
      // The earlier submit claimed the keys and then failed to add its job: take them over.
      this.opts.log?.warn({ job: job.id }, 'taking over de-duplication keys left by a submit that failed');
      const multi = this.client.multi();
      for (const k of keys) multi.set(k, marker, 'EX', Number(ttl));
      await this.withTimeout(multi.exec(), left(), 'claim');
    }
    try {
      await this.withTimeout(
        this.queue.add('heal', job, {
          jobId: bullId,
          attempts: this.opts.attempts ?? 3,
          backoff: { type: 'exponential', delay: this.opts.backoffMs ?? 5000 },
          // Kept as long as the de-duplication keys, so a duplicate can always be told from an orphan.
          removeOnComplete: { age: Number(ttl) },
          removeOnFail: { age: Number(ttl) },
        }),
        left(),
        'add',
      );
    } catch (err) {
      // Undo the claim if Redis still listens, so a redelivery is not taken for a duplicate.
      await this.client.eval(RELEASE_IF, keys.length, ...keys, marker).catch(() => undefined);
      throw err;
    }
    this.refreshPending();
    return { accepted: true, duplicate: false, id: job.id };
  }

  /** True when every existing marker is old and names a job that does not exist. */
  private async isOrphan(markers: string[], left: () => number): Promise<boolean> {
    const orphanAfter = this.opts.orphanAfterMs ?? 30_000;
    let any = false;
    for (const m of markers) {
      if (!m) continue;
      any = true;
      const [id, at] = m.split('|');
      // A young marker may belong to a submit still in flight on another replica.
      if (!id || Date.now() - Number(at) < orphanAfter) return false;
      if (await this.withTimeout(this.queue.getJob(id), left(), 'lookup')) return false;
    }
    return any;
  }

  /**
   * The job's state as BullMQ tracks it, on any replica: the job id's key names its BullMQ job, whose
   * state, tries, return value and failure reason are in Redis. Kept as long as the de-duplication keys.
   */
  async status(id: string): Promise<JobStatus | null> {
    await this.connected(() => 5000);
    const marker = await this.withTimeout(this.client.get(this.key('job', id)), 5000, 'job lookup');
    const bullId = marker?.split('|')[0];
    if (!bullId) return null;
    const bullJob = await this.withTimeout(this.queue.getJob(bullId), 5000, 'job lookup');
    if (!bullJob) return null;
    return bullJobStatus(id, bullJob, await this.withTimeout(bullJob.getState(), 5000, 'job state'));
  }

  start(worker: JobWorker, hooks: WorkerHooks = {}): void {
    if (this.worker || this.closed) return;
    const lockTtl = this.opts.repoLockTtlMs ?? 60_000;
    const busyDelay = this.opts.repoBusyDelayMs ?? 1000;
    // The worker blocks on its connection waiting for jobs: it needs its own, which waits out outages.
    this.workerClient = this.client.duplicate({ maxRetriesPerRequest: null, enableOfflineQueue: true, connectionName: `living-bridge-worker:${this.instanceId}` });
    this.workerClient.on('error', (err: Error) => this.connectionError(err));
    this.worker = new Worker(
      this.queueName,
      async (bullJob: Job, token?: string) => {
        const parsed = HealJob.safeParse(bullJob.data);
        if (!parsed.success) {
          throw new UnrecoverableError(`not a valid heal job: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
        }
        const job = parsed.data;
        const lockKey = this.key('repo-lock', job.request.repository);
        const lockValue = `${this.instanceId}|${bullJob.id ?? ''}|${token ?? ''}`;
        const locked = await this.client.set(lockKey, lockValue, 'PX', lockTtl, 'NX');
        if (locked !== 'OK') {
          // Another job of this repository runs somewhere: come back later (not counted as an attempt).
          await bullJob.moveToDelayed(Date.now() + busyDelay + Math.floor(Math.random() * (busyDelay / 4 + 1)), token);
          throw new DelayedError();
        }
        const renew = setInterval(() => {
          this.client.eval(RENEW_IF, 1, lockKey, lockValue, String(lockTtl)).then(
            (kept) => { if (kept !== 1) this.opts.log?.warn({ job: job.id }, 'lost the repository lock while the job was running'); },
            () => undefined,
          );
        }, Math.max(10, Math.floor(lockTtl / 3)));
        this.running++;
        try {
          // BullMQ keeps the returned value with the job (its result, read back by `status` anywhere).
          const result = await worker(job);
          this.done++;
          return result;
        } finally {
          clearInterval(renew);
          this.running--;
          await this.client.eval(RELEASE_IF, 1, lockKey, lockValue).catch(() => undefined);
        }
      },
      {
        connection: this.workerClient,
        prefix: this.prefix,
        concurrency: this.opts.concurrency ?? 2,
        // A replica that dies mid-job: its job is stalled and taken up again after about this long.
        ...(this.opts.jobLockMs ? { lockDuration: this.opts.jobLockMs, stalledInterval: this.opts.jobLockMs } : {}),
        // A job stalls when its replica dies (or is starved past its lock): not the job's fault. BullMQ's
        // default (1) fails a job that stalls twice — two kills, or a kill and a slow restart — with
        // "job stalled more than allowable limit"; it is taken up again instead, up to this many times.
        maxStalledCount: MAX_STALLS,
      },
    );
    this.worker.on('error', (err: Error) => this.connectionError(err));
    this.worker.on('failed', (bullJob: Job | undefined, err: Error) => {
      const final = !bullJob || err instanceof UnrecoverableError || bullJob.attemptsMade >= (bullJob.opts.attempts ?? 1);
      if (final) {
        this.failed++;
        const parsed = HealJob.safeParse(bullJob?.data);
        if (parsed.success && hooks.onDead) {
          void Promise.resolve(hooks.onDead(deadLetterOf(parsed.data, bullJob?.attemptsMade ?? 1, err.message, new Date()))).catch(() => undefined);
        }
      }
      this.opts.log?.[final ? 'error' : 'warn'](
        { job: (bullJob?.data as { id?: string } | undefined)?.id, attempt: bullJob?.attemptsMade, err: err.message },
        final ? 'heal job failed every try: dead-lettered (living-bridge incidents list --dead)' : 'heal job failed, will retry',
      );
    });
  }

  /** Resolves when the shared queue holds nothing waiting, delayed or active (on any replica). */
  async drain(pollMs = 50): Promise<void> {
    for (;;) {
      const c = await this.queue.getJobCounts('waiting', 'active', 'delayed', 'prioritized', 'waiting-children');
      if (Object.values(c).every((n) => n === 0) && this.running === 0) return;
      await sleep(pollMs);
    }
  }

  /**
   * Stops taking jobs, lets the jobs running here finish, and disconnects. Jobs still queued stay in
   * Redis for the other replicas (or the next start): unlike the embedded intake, close does not drain.
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.worker) {
      const worker = this.worker;
      // Connected: let the running jobs finish. Not connected: nothing can finish cleanly, stop now.
      const graceful = this.workerClient?.status === 'ready';
      await this.withTimeout(worker.close(!graceful), graceful ? 60_000 : 2000, 'worker close').catch(() =>
        // BullMQ's close waits for a connection that may never come: cut its connections, or they retry forever.
        this.withTimeout(worker.disconnect(), 2000, 'worker disconnect').catch(() => undefined),
      );
    }
    if (this.client.status === 'ready') {
      await this.withTimeout(this.queue.close(), 5000, 'queue close').catch(() => this.withTimeout(this.queue.disconnect(), 2000, 'queue disconnect').catch(() => undefined));
    } else {
      await this.withTimeout(this.queue.disconnect(), 2000, 'queue disconnect').catch(() => undefined);
    }
    this.workerClient?.disconnect();
    this.client.disconnect();
  }

  /** `pending` is the shared queue (last known); running/done/failed count this replica's work. */
  stats(): Counts {
    this.refreshPending();
    return { pending: this.pending, running: this.running, done: this.done, failed: this.failed };
  }

  /** Counts of the shared queue by state, read now. */
  async queueCounts(): Promise<Record<string, number>> {
    return this.queue.getJobCounts('waiting', 'active', 'delayed', 'prioritized', 'completed', 'failed');
  }

  private refreshPending(): void {
    if (this.refreshing || this.closed || this.connectionDown || Date.now() - this.pendingReadAt < PENDING_REFRESH_MS) return;
    this.pendingReadAt = Date.now();
    this.refreshing = this.queue
      .getJobCounts('waiting', 'delayed', 'prioritized')
      .then((c) => { this.pending = Object.values(c).reduce((a, b) => a + b, 0); })
      .catch(() => undefined)
      .finally(() => { this.refreshing = null; });
  }

  private async withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    try {
      return await Promise.race([
        p,
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new IntakeUnavailableError(`Redis did not answer the ${what} within ${ms} ms`)), ms);
        }),
      ]);
    } catch (err) {
      if (err instanceof IntakeUnavailableError) throw err;
      throw new IntakeUnavailableError(`Redis ${what} failed: ${(err as Error).message}`, { cause: err });
    } finally {
      clearTimeout(timer);
    }
  }
}

/** BullMQ job ids may not contain ':' nor be integers: a hash of the run-attempt key is neither. */
export const bullJobIdOf = (dedupeKey: string): string => `heal-${createHash('sha256').update(dedupeKey).digest('hex').slice(0, 40)}`;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
