/** The config loop's pure rules and its lock in the ledger (compare-and-swap on an in-memory git). */
import { describe, expect, it } from '@jest/globals';
import pino from 'pino';
import { chooseMergeMethod, judgeChecks, lockState, newLock, pollDelay, promotionVerdict, type PromotionInput } from '../../src/core/promotion/index.js';
import type { HeadCheck } from '../../src/core/schemas/index.js';
import { createGitLedger } from '../../src/ledger/index.js';
import type { PipelineContext } from '../../src/pipeline/context.js';
import { PromotionLockHeldError, acquireLock, readLock, releaseLock } from '../../src/pipeline/promotion-ledger.js';
import { MemoryGit } from '../support/memory-git.js';

const check = (name: string, state: HeadCheck['state'], source: HeadCheck['source'] = 'check_run'): HeadCheck => ({ name, source, state, app: null, url: null });

describe('judgeChecks', () => {
  it('with required checks: each must be reported and pass; others do not count', () => {
    expect(judgeChecks([check('build', 'success'), check('lint', 'failure')], ['build'])).toMatchObject({ state: 'success', passed: ['build'], basis: 'required' });
    expect(judgeChecks([check('build', 'success')], ['build', 'ci/integration'])).toMatchObject({ state: 'pending', missing: ['ci/integration'] });
    expect(judgeChecks([check('build', 'success'), check('build', 'failure', 'status')], ['build'])).toMatchObject({ state: 'failure', failing: ['build'], passed: [] });
  });
  it('without: every check must pass, at least one must exist, and Living Bridge\'s own check never counts', () => {
    expect(judgeChecks([], [])).toMatchObject({ state: 'pending', missing: ['(any check)'], basis: 'all' });
    expect(judgeChecks([check('Living Bridge', 'success')], [])).toMatchObject({ state: 'pending' });
    expect(judgeChecks([check('a', 'success'), check('b', 'pending')], [])).toMatchObject({ state: 'pending', pending: ['b'] });
    expect(judgeChecks([check('a', 'success'), check('b', 'pending'), check('c', 'failure')], [])).toMatchObject({ state: 'failure', failing: ['c'] });
  });
});

describe('promotionVerdict', () => {
  const green = judgeChecks([check('build', 'success')], ['build']);
  const base: PromotionInput = { level: 'full', predictedSuccess: 0.6, minSuccess: 0.3, checks: green, rules: { required_checks: ['build'], strict: true, required_approving_reviews: 0 }, rulesUnknown: false, method: 'squash', halted: false, autonomyEnabled: true, isRollback: false };
  it('promotes only when every rule allows it', () => {
    expect(promotionVerdict(base)).toEqual({ promote: true, method: 'squash' });
  });
  it.each<[string, Partial<PromotionInput>, RegExp]>([
    ['level balanced', { level: 'balanced' }, /autonomy level is balanced; merging needs level full/],
    ['low prediction', { predictedSuccess: 0.2 }, /predicted success 0.20 is below 0.3/],
    ['red checks', { checks: judgeChecks([check('build', 'failure')], ['build']) }, /checks failed: build/],
    ['checks still pending', { checks: judgeChecks([check('build', 'pending')], ['build']) }, /did not pass in time: build/],
    ['required reviews', { rules: { required_checks: [], strict: false, required_approving_reviews: 1 } }, /requires 1 approving review/],
    ['protection unreadable', { rules: null, rulesUnknown: true }, /Administration: read/],
    ['no merge method', { method: null }, /allows no merge method/],
    ['kill switch', { halted: true }, /kill switch/],
    ['autonomy disabled', { autonomyEnabled: false }, /AUTONOMY_ENABLED/],
  ])('%s leaves it for a human, saying why', (_name, change, reason) => {
    const v = promotionVerdict({ ...base, ...change });
    expect(v.promote).toBe(false);
    if (!v.promote) expect(v.reasons.join('; ')).toMatch(reason);
  });
  it('a rollback needs no prediction (it restores what was there)', () => {
    expect(promotionVerdict({ ...base, predictedSuccess: null, isRollback: true })).toEqual({ promote: true, method: 'squash' });
  });
});

describe('merge method, backoff', () => {
  it('prefers the configured method, else the first allowed; unknown settings try the preferred one', () => {
    expect(chooseMergeMethod('squash', { merge: true, squash: true, rebase: true })).toBe('squash');
    expect(chooseMergeMethod('squash', { merge: false, squash: false, rebase: true })).toBe('rebase');
    expect(chooseMergeMethod('merge', { merge: false, squash: false, rebase: false })).toBeNull();
    expect(chooseMergeMethod('rebase', null)).toBe('rebase');
  });
  it('polls at 2 s, 4 s, 8 s … capped', () => {
    expect([1, 2, 3, 4, 5, 6].map((n) => pollDelay(n))).toEqual([2000, 4000, 8000, 16000, 30000, 30000]);
  });
});

describe('the promotion lock in the ledger', () => {
  const T0 = Date.parse('2026-12-01T10:00:00Z');
  const setup = () => {
    let now = T0;
    const git = new MemoryGit();
    const ledger = createGitLedger(git, { owner: 'acme', repo: 'shop' }, 'bridge-ledger', { delay: async () => {}, random: () => 0.5, now: () => new Date(now) });
    const ctx = { now: () => new Date(now), door: 'webhook', log: pino({ level: 'silent' }) } as unknown as PipelineContext;
    return { git, ledger, ctx, advance: (ms: number) => { now += ms; } };
  };

  it('lockState: free, mine, held until expires_at, then expired', () => {
    const lock = newLock('w1', new Date(T0), 15, 3, 'promote');
    expect(lockState(null, 'w1', new Date(T0))).toEqual({ kind: 'free' });
    expect(lockState(lock, 'w1', new Date(T0)).kind).toBe('mine');
    expect(lockState(lock, 'w2', new Date(T0 + 14 * 60_000)).kind).toBe('held');
    expect(lockState(lock, 'w2', new Date(T0 + 15 * 60_000)).kind).toBe('expired');
  });

  it('a second worker is refused while the lock lives; after the holder crashes it expires and is taken over; release frees it', async () => {
    const { ledger, ctx, advance } = setup();
    await acquireLock(ctx, ledger, 'acme/shop', 'worker-a', 15, 7, 'promote vercel.json (#7)');
    await expect(acquireLock(ctx, ledger, 'acme/shop', 'worker-b', 15, 8, 'promote fly.toml (#8)')).rejects.toBeInstanceOf(PromotionLockHeldError);
    advance(16 * 60_000); // worker-a died without releasing
    const took = await acquireLock(ctx, ledger, 'acme/shop', 'worker-b', 15, 8, 'promote fly.toml (#8)');
    expect(took.tookOverFrom?.holder).toBe('worker-a');
    expect((await readLock(ledger))?.holder).toBe('worker-b');
    await releaseLock(ctx, ledger, 'acme/shop', 'worker-a'); // not the holder: no effect
    expect((await readLock(ledger))?.holder).toBe('worker-b');
    await releaseLock(ctx, ledger, 'acme/shop', 'worker-b');
    expect(await readLock(ledger)).toBeNull();
    const audit = (await ledger.readFile('audit/2026-12.jsonl')) ?? '';
    expect(audit).toContain('took over the expired lock of worker-a');
  });

  it('two workers racing for a free lock: exactly one wins (the other sees it held after the CAS retry)', async () => {
    const { git, ledger, ctx } = setup();
    const other = createGitLedger(git, { owner: 'acme', repo: 'shop' }, 'bridge-ledger', { cache: false, delay: async () => {}, random: () => 0.5 });
    const results = await Promise.allSettled([
      acquireLock(ctx, ledger, 'acme/shop', 'worker-a', 15, 1, 'a'),
      acquireLock(ctx, other, 'acme/shop', 'worker-b', 15, 2, 'b'),
    ]);
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    const refused = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
    expect(refused.reason).toBeInstanceOf(PromotionLockHeldError);
  });
});
