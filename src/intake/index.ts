import type { Logger } from 'pino';
import { EmbeddedIntake, type Intake } from './embedded.js';

export * from './embedded.js';
// Types only: BullMQ and ioredis take longer to load than the rest of the App together, so the Redis
// intake is imported when REDIS_URL asks for it (values: import from './redis.js').
export type { RedisIntake, RedisIntakeOptions } from './redis.js';

/** Where the App keeps its queue and state, as its door parsed them (src/app/config.ts: REDIS_URL, LIVING_BRIDGE_*). */
export interface StorageSettings {
  /** REDIS_URL: `redis://` or `rediss://`; unset: embedded. */
  redisUrl?: string;
  /** LIVING_BRIDGE_REDIS_PREFIX (default `living-bridge`). */
  redisPrefix?: string;
  /** LIVING_BRIDGE_REDIS_LOCK_MS: repository lock TTL and job lock, i.e. how soon a dead replica's work is taken up. */
  redisLockMs?: number;
  /** LIVING_BRIDGE_DATA_DIR: the embedded intake's journal (and the schedule's files) live here. */
  dataDir?: string;
}

/**
 * The intake this process should use: Redis (BullMQ) when `REDIS_URL` is set, so several replicas share
 * one queue and one de-duplication; otherwise the embedded queue, journaled to
 * `$LIVING_BRIDGE_DATA_DIR/intake.jsonl` when that directory is set.
 *
 * An unreachable Redis at start is logged, not fatal: the app comes up, answers 503 to webhooks until
 * Redis is back (GitHub keeps those deliveries as failed, to be redelivered), and its worker reconnects.
 */
export async function createIntake(storage: StorageSettings & { concurrency?: number }, log?: Logger): Promise<Intake> {
  const concurrency = storage.concurrency ?? 2;
  const url = storage.redisUrl?.trim();
  if (url) {
    if (!/^rediss?:\/\//.test(url)) throw new Error('REDIS_URL must look like redis://host:6379 (or rediss:// for TLS)');
    const { RedisIntake } = await import('./redis.js');
    const lockMs = storage.redisLockMs;
    if (lockMs !== undefined && !(Number.isInteger(lockMs) && lockMs >= 1000)) throw new Error('LIVING_BRIDGE_REDIS_LOCK_MS must be a whole number of milliseconds >= 1000');
    const intake = new RedisIntake({ url, prefix: storage.redisPrefix?.trim() || undefined, concurrency, log, ...(lockMs ? { repoLockTtlMs: lockMs, jobLockMs: lockMs } : {}) });
    try {
      await intake.ready(5000);
      log?.info({ redis: redactUrl(url) }, 'intake: Redis queue');
    } catch (err) {
      log?.error({ redis: redactUrl(url), err: (err as Error).message }, 'intake: Redis is not reachable yet; webhooks get 503 until it is');
    }
    return intake;
  }
  const dir = storage.dataDir?.trim();
  return new EmbeddedIntake({ journalPath: dir ? `${dir.replace(/\/$/, '')}/intake.jsonl` : undefined, concurrency, log });
}

/** The URL without its password, for logs. */
const redactUrl = (url: string): string => {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return 'redis://(unparsable)';
  }
};
