import { RefConflictError } from '../../src/ports/index.js';
import { backoff, isRefConflict, retryCompareAndSwap, type AttemptOutcome } from '../../src/ledger/cas.js';
import { LedgerConflictError } from '../../src/ledger/errors.js';

const opts = (over: Partial<Parameters<typeof retryCompareAndSwap>[0]> = {}) => {
  const delays: number[] = [];
  return { delays, opts: { branch: 'bridge-ledger', maxAttempts: 4, speculative: false, delay: async (ms: number) => { delays.push(ms); }, random: () => 0.5, ...over } };
};

describe('compare-and-swap retry loop', () => {
  test('returns the first done result with its attempt number', async () => {
    const { opts: o, delays } = opts();
    const seen: [number, boolean][] = [];
    const outcomes: AttemptOutcome<string>[] = [{ kind: 'conflict' }, { kind: 'conflict' }, { kind: 'done', result: 'landed' }];
    const result = await retryCompareAndSwap(o, async (n, fromCache) => {
      seen.push([n, fromCache]);
      return outcomes.shift()!;
    });
    expect(result).toBe('landed');
    expect(seen).toEqual([[1, false], [2, false], [3, false]]);
    // Backoff between attempts: 50ms and 100ms base, times 0.75 with random 0.5.
    expect(delays).toEqual([38, 75]);
  });

  test('gives up after maxAttempts conflicts with LedgerConflictError, without waiting after the last', async () => {
    const { opts: o, delays } = opts({ maxAttempts: 3 });
    let calls = 0;
    const err = await retryCompareAndSwap(o, async () => { calls++; return { kind: 'conflict' }; }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LedgerConflictError);
    expect(err).toMatchObject({ branch: 'bridge-ledger', attempts: 3 });
    expect(calls).toBe(3);
    expect(delays).toHaveLength(2);
  });

  test('a speculative first attempt that was stale is retried at once on a fresh read, not counted', async () => {
    const { opts: o, delays } = opts({ speculative: true, maxAttempts: 2 });
    const seen: [number, boolean][] = [];
    const result = await retryCompareAndSwap(o, async (n, fromCache) => {
      seen.push([n, fromCache]);
      return fromCache ? { kind: 'stale' } : { kind: 'done', result: n };
    });
    expect(seen).toEqual([[1, true], [1, false]]);
    expect(result).toBe(1);
    expect(delays).toEqual([]);
  });

  test('only the first attempt is speculative, and not with a single attempt allowed', async () => {
    const fromCacheFlags: boolean[] = [];
    const { opts: one } = opts({ speculative: true, maxAttempts: 1 });
    await retryCompareAndSwap(one, async (_n, fromCache) => { fromCacheFlags.push(fromCache); return { kind: 'done', result: null }; });
    expect(fromCacheFlags).toEqual([false]);
  });

  test('stale from a non-speculative attempt counts as a conflict', async () => {
    const { opts: o } = opts({ maxAttempts: 2 });
    let calls = 0;
    await expect(retryCompareAndSwap(o, async () => { calls++; return { kind: 'stale' }; })).rejects.toThrow(LedgerConflictError);
    expect(calls).toBe(2);
  });

  test('an error thrown by an attempt ends the loop', async () => {
    const { opts: o } = opts();
    await expect(retryCompareAndSwap(o, async () => { throw new Error('refused'); })).rejects.toThrow('refused');
  });

  test('backoff doubles from 50ms, capped at 2s, jittered into [0.5, 1) of the base', () => {
    expect([1, 2, 3, 4, 5, 6, 7].map((n) => backoff(n, () => 0))).toEqual([25, 50, 100, 200, 400, 800, 1000]);
    expect(backoff(10, () => 0.999)).toBeLessThanOrEqual(2000);
    expect(backoff(10, () => 0.999)).toBeGreaterThan(1990);
  });

  test('ref conflicts are recognised from the port error and from GitHub 422 messages', () => {
    expect(isRefConflict(new RefConflictError('bridge-ledger'))).toBe(true);
    expect(isRefConflict(Object.assign(new Error('Update is not a fast forward'), { status: 422 }))).toBe(true);
    expect(isRefConflict(Object.assign(new Error('Reference already exists'), { status: 422 }))).toBe(true);
    expect(isRefConflict(Object.assign(new Error('Validation failed'), { status: 422 }))).toBe(false);
    expect(isRefConflict(Object.assign(new Error('not found'), { status: 404 }))).toBe(false);
    expect(isRefConflict(null)).toBe(false);
  });
});
