/**
 * Where the scheduled env sync keeps what must survive a restart: per repository its conditional-
 * request state (ETags and the answers they describe, the ledger head and SyncState, the last seen
 * `pushed_at`), per installation the ETags of its repository listing and the schedule's cursor.
 *
 * Two implementations: a directory of small JSON files (one per key, written to a temporary file and
 * renamed, so a crash leaves either the old or the new value, never half of one) for a single App
 * process, and a Redis hash for replicas sharing REDIS_URL.
 */
import { createHash } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { readFile, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Redis } from 'ioredis';

export interface ScheduleStore {
  get(key: string): Promise<string | null>;
  set(key: string, value: string): Promise<void>;
  delete(key: string): Promise<void>;
  /**
   * Takes or renews the lease `name` for `owner` for `ttlMs`; false while another owner holds it.
   * Replicas sharing a store run each installation's pass on one replica only.
   */
  lease(name: string, owner: string, ttlMs: number): Promise<boolean>;
  close(): Promise<void>;
}

/** One process owns its file or memory store: a lease there is always granted. */
const processLocalLease = (): Promise<boolean> => Promise.resolve(true);

/** SET NX PX, or PEXPIRE when we already hold it: atomic, so two replicas never both hold a lease. */
const LEASE = `
local v = redis.call('GET', KEYS[1])
if v == false then redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2]) return 1 end
if v == ARGV[1] then redis.call('PEXPIRE', KEYS[1], ARGV[2]) return 1 end
return 0
`;

/** One file per key under `dir`; file names are a hash of the key (keys hold `/` and `|`). */
export class FileScheduleStore implements ScheduleStore {
  private seq = 0;
  constructor(private readonly dir: string) {
    mkdirSync(dir, { recursive: true });
  }

  private pathOf(key: string): string {
    return join(this.dir, `${createHash('sha256').update(key).digest('hex').slice(0, 40)}.json`);
  }

  async get(key: string): Promise<string | null> {
    try {
      const text = await readFile(this.pathOf(key), 'utf8');
      const entry = JSON.parse(text) as { key?: unknown; value?: unknown };
      // A hash collision (or a foreign file) is treated as absent rather than as another key's value.
      return entry.key === key && typeof entry.value === 'string' ? entry.value : null;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT' || err instanceof SyntaxError) return null;
      throw err;
    }
  }

  async set(key: string, value: string): Promise<void> {
    const path = this.pathOf(key);
    const tmp = `${path}.${process.pid}.${++this.seq}.tmp`;
    await writeFile(tmp, JSON.stringify({ key, value }));
    await rename(tmp, path);
  }

  async delete(key: string): Promise<void> {
    await rm(this.pathOf(key), { force: true });
  }

  lease = processLocalLease;

  /** Number of keys stored (for the benchmark's size report). */
  async count(): Promise<number> {
    return (await readdir(this.dir)).filter((f) => f.endsWith('.json')).length;
  }

  async close(): Promise<void> {}
}

/** A Redis hash `<prefix>:env-sync-schedule`, one field per key. */
export class RedisScheduleStore implements ScheduleStore {
  private readonly redis: Redis;
  private readonly hash: string;
  constructor(url: string, prefix = 'living-bridge') {
    this.redis = new Redis(url, { maxRetriesPerRequest: 2, lazyConnect: false });
    this.hash = `${prefix}:env-sync-schedule`;
  }

  get(key: string): Promise<string | null> {
    return this.redis.hget(this.hash, key);
  }

  async set(key: string, value: string): Promise<void> {
    await this.redis.hset(this.hash, key, value);
  }

  async delete(key: string): Promise<void> {
    await this.redis.hdel(this.hash, key);
  }

  async lease(name: string, owner: string, ttlMs: number): Promise<boolean> {
    return (await this.redis.eval(LEASE, 1, `${this.hash}:lease:${name}`, owner, String(ttlMs))) === 1;
  }

  /** Removes every key of this store (tests clean up their prefix). */
  async clear(): Promise<void> {
    const leases = await this.redis.keys(`${this.hash}:lease:*`);
    await this.redis.del(this.hash, ...leases);
  }

  async close(): Promise<void> {
    await this.redis.quit().catch(() => undefined);
  }
}

/** A store kept in memory only (tests; a process that must not write to disk). */
export class MemoryScheduleStore implements ScheduleStore {
  readonly map = new Map<string, string>();
  get(key: string): Promise<string | null> {
    return Promise.resolve(this.map.get(key) ?? null);
  }
  set(key: string, value: string): Promise<void> {
    this.map.set(key, value);
    return Promise.resolve();
  }
  delete(key: string): Promise<void> {
    this.map.delete(key);
    return Promise.resolve();
  }
  lease = processLocalLease;
  close(): Promise<void> {
    return Promise.resolve();
  }
}

/**
 * The store this process should use: Redis when REDIS_URL is set (replicas share it), else files under
 * `$LIVING_BRIDGE_DATA_DIR/env-sync/`. Without either, null: the App cannot keep the schedule's state
 * across restarts, so it does not run the schedule (docs/env-sync.md says how to turn it on).
 */
export function createScheduleStore(storage: { redisUrl?: string; redisPrefix?: string; dataDir?: string }): ScheduleStore | null {
  const url = storage.redisUrl?.trim();
  if (url) return new RedisScheduleStore(url, storage.redisPrefix?.trim() || undefined);
  const dir = storage.dataDir?.trim();
  return dir ? new FileScheduleStore(join(dir, 'env-sync')) : null;
}
