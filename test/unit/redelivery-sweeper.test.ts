/**
 * The redelivery sweeper (src/app/reliability.ts): which failed deliveries it asks GitHub to redeliver,
 * over paginated `GET /app/hook/deliveries`, and which it leaves alone.
 */
import { describe, expect, jest, test } from '@jest/globals';
import type { Logger } from 'pino';
import { redeliverySweeper, type AppClient } from '../../src/app/reliability.js';
import { EmbeddedIntake } from '../../src/intake/index.js';
import { healJob } from '../support/heal-jobs.js';

interface Delivery { id: number; guid: string; status_code: number; event: string; action: string | null; redelivery?: boolean }

const log = () => ({ warn: jest.fn(), info: jest.fn(), error: jest.fn(), debug: jest.fn() }) as unknown as Logger & { warn: jest.Mock };

/** GitHub's delivery list, newest first, in pages of `pageSize` linked by a cursor; records redelivery requests. */
function fakeGitHub(deliveries: Delivery[], pageSize = 100) {
  const asked: number[] = [];
  const pagesRead: (string | undefined)[] = [];
  const client: AppClient = {
    request: async (route, params = {}) => {
      if (route === 'GET /app/hook/deliveries') {
        const cursor = params.cursor as string | undefined;
        pagesRead.push(cursor);
        const from = cursor ? Number(cursor) : 0;
        const items = deliveries.slice(from, from + pageSize).map((d) => ({ redelivery: false, delivered_at: '2026-12-01T00:00:00Z', ...d }));
        const next = from + pageSize < deliveries.length ? `<https://api.github.com/app/hook/deliveries?per_page=100&cursor=${from + pageSize}>; rel="next"` : undefined;
        return { status: 200, data: items, headers: next ? { link: next } : {} };
      }
      const m = /^POST \/app\/hook\/deliveries\/\{delivery_id\}\/attempts$/.exec(route);
      if (m) {
        asked.push(params.delivery_id as number);
        return { status: 202, data: {}, headers: {} };
      }
      throw new Error(`unexpected ${route}`);
    },
  };
  return { client, asked, pagesRead };
}

const failedRun = (id: number, guid: string): Delivery => ({ id, guid, status_code: 502, event: 'workflow_run', action: 'completed' });

describe('redelivery sweeper', () => {
  test('redelivers a failed workflow_run.completed the intake never accepted, once per event; leaves the rest alone', async () => {
    // No worker: a submitted job stays accepted (what the sweeper asks about), nothing runs.
    const intake = new EmbeddedIntake();
    const known = healJob({ delivery: 'guid-known', run: 2 });
    await intake.submit(known);
    const gh = fakeGitHub([
      failedRun(1, 'guid-lost'),
      failedRun(2, 'guid-lost'), // an earlier failed try of the same event
      failedRun(3, 'guid-known'), // GitHub logged a failure but the intake has it (e.g. the answer timed out)
      failedRun(4, 'guid-later-ok'),
      { id: 5, guid: 'guid-later-ok', status_code: 202, event: 'workflow_run', action: 'completed' },
      { id: 6, guid: 'guid-push', status_code: 500, event: 'push', action: null },
      { id: 7, guid: 'guid-requested', status_code: 500, event: 'workflow_run', action: 'requested' },
      { id: 8, guid: 'guid-fine', status_code: 202, event: 'workflow_run', action: 'completed' },
    ]);
    const l = log();
    const sweeper = redeliverySweeper({ app: async () => gh.client, intake, log: l });
    const report = await sweeper.sweep();
    expect(gh.asked).toEqual([1]);
    expect(report).toEqual({ looked_at: 8, redelivered: ['guid-lost'], skipped_known: 2, skipped_other: 2 });
    expect(l.warn).toHaveBeenCalledWith(expect.objectContaining({ redelivered: 1, guids: ['guid-lost'] }), expect.stringContaining('redeliver'));
  });

  test('follows the cursor over several pages (up to its page limit)', async () => {
    const intake = new EmbeddedIntake();
    const many: Delivery[] = Array.from({ length: 250 }, (_, i) => ({ id: 1000 + i, guid: `ok-${i}`, status_code: 202, event: 'workflow_run', action: 'completed' }));
    many[230] = failedRun(1230, 'guid-page-3');
    const gh = fakeGitHub(many);
    const report = await redeliverySweeper({ app: async () => gh.client, intake, log: log() }).sweep();
    expect(gh.pagesRead).toEqual([undefined, '100', '200']);
    expect(report.looked_at).toBe(250);
    expect(gh.asked).toEqual([1230]);
    const limited = fakeGitHub(many);
    const two = await redeliverySweeper({ app: async () => limited.client, intake, log: log(), pages: 2 }).sweep();
    expect(two.looked_at).toBe(200);
    expect(limited.asked).toEqual([]);
    await intake.close();
  });

  test('asks at most 3 times for one event whose redeliveries keep failing; a delivery accepted meanwhile is left alone', async () => {
    const intake = new EmbeddedIntake();
    const gh = fakeGitHub([failedRun(1, 'guid-stubborn'), failedRun(2, 'guid-accepted')]);
    const sweeper = redeliverySweeper({ app: async () => gh.client, intake, log: log() });
    await sweeper.sweep();
    await intake.submit(healJob({ delivery: 'guid-accepted', run: 9 }));
    for (let i = 0; i < 4; i++) await sweeper.sweep();
    expect(gh.asked.filter((id) => id === 1)).toHaveLength(3);
    expect(gh.asked.filter((id) => id === 2)).toHaveLength(1);
  });

  test('concurrent sweeps share one run; a failing list is an error of that sweep only', async () => {
    const intake = new EmbeddedIntake();
    const gh = fakeGitHub([failedRun(1, 'guid-x')]);
    let calls = 0;
    const sweeper = redeliverySweeper({ app: async () => { calls++; return gh.client; }, intake, log: log() });
    const [a, b] = await Promise.all([sweeper.sweep(), sweeper.sweep()]);
    expect(a).toBe(b);
    expect(calls).toBe(1);
    expect(gh.asked).toEqual([1]);
    const broken = redeliverySweeper({ app: async () => ({ request: async () => { throw Object.assign(new Error('Bad credentials'), { status: 401 }); } }), intake, log: log() });
    await expect(broken.sweep()).rejects.toThrow('Bad credentials');
    // The next sweep is a new one (the failed one is not kept).
    await expect(broken.sweep()).rejects.toThrow('Bad credentials');
    await intake.close();
  });

  test('start(0) never sweeps; start(n) sweeps soon after start and logs a failed sweep instead of throwing', async () => {
    jest.useFakeTimers();
    try {
      const intake = new EmbeddedIntake();
      let calls = 0;
      const l = log();
      const sweeper = redeliverySweeper({ app: async () => { calls++; throw new Error('GitHub unreachable'); }, intake, log: l });
      sweeper.start(0)();
      await jest.advanceTimersByTimeAsync(10_000);
      expect(calls).toBe(0);
      const stop = sweeper.start(60);
      await jest.advanceTimersByTimeAsync(600);
      expect(calls).toBe(1);
      await jest.advanceTimersByTimeAsync(60_000);
      expect(calls).toBe(2);
      expect(l.warn).toHaveBeenCalledWith(expect.objectContaining({ err: 'GitHub unreachable' }), expect.stringContaining('redelivery sweep failed'));
      stop();
      await jest.advanceTimersByTimeAsync(120_000);
      expect(calls).toBe(2);
      await intake.close();
    } finally {
      jest.useRealTimers();
    }
  });
});
