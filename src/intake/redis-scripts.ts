/**
 * The Lua scripts the Redis intake runs, each atomic on the server: claiming the de-duplication keys
 * together, and releasing or renewing a key only while it still holds this replica's marker.
 */
import type { Redis } from 'ioredis';

/**
 * Atomically claims both de-duplication keys (delivery id and run attempt) or neither; with them, any
 * further key (the job id's pointer to its BullMQ job, read by `status`).
 * Returns {1} when claimed, else {0, existing delivery marker or '', existing run marker or ''}.
 */
export const CLAIM = `
local d = redis.call('GET', KEYS[1])
local r = redis.call('GET', KEYS[2])
if d or r then return {0, d or '', r or ''} end
for _, k in ipairs(KEYS) do redis.call('SET', k, ARGV[1], 'EX', ARGV[2]) end
return {1}
`;
/** Deletes each key whose value is still ARGV[1] (a claim undone after a failed add). */
export const RELEASE_IF = `
local n = 0
for _, k in ipairs(KEYS) do
  if redis.call('GET', k) == ARGV[1] then n = n + redis.call('DEL', k) end
end
return n
`;
export const RENEW_IF = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0
`;

/** The client with CLAIM defined as a command (see the constructor). */
export type ClaimingRedis = Redis & { livingBridgeClaim(numberOfKeys: number, ...keysThenMarkerAndTtl: string[]): Promise<unknown> };
