import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, test } from '@jest/globals';
import { EmbeddedIntake } from '../../src/intake/index.js';
import { bullJobStatus } from '../../src/intake/job-status.js';
import { healJob, sleep } from '../support/heal-jobs.js';

describe('EmbeddedIntake.status', () => {
  let dir: string;
  beforeEach(() => { dir = mkdtempSync(path.join(os.tmpdir(), 'intake-status-')); });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  test('waiting → running → retrying → done with the worker\'s result; failed with the last error; unknown is null', async () => {
    const intake = new EmbeddedIntake({ backoffMs: 200, attempts: 2 });
    const flaky = healJob({ repo: 'acme/flaky' });
    const broken = healJob({ repo: 'acme/broken' });
    await intake.submit(flaky);
    await intake.submit(broken);
    expect(await intake.status(flaky.id)).toEqual({ id: flaky.id, repository: 'acme/flaky', state: 'waiting', attempts: 0 });
    let release!: () => void;
    const gate = new Promise<void>((resolve) => { release = resolve; });
    let flakyTries = 0;
    intake.start(async (job) => {
      if (job.id === broken.id) throw new Error('GitHub answered 502');
      if (++flakyTries === 1) throw new Error('first try fails');
      await gate;
      return { status: 'healed' };
    });
    const stateOf = async (state: string) => {
      for (let i = 0; i < 500; i++) {
        const s = await intake.status(flaky.id);
        if (s?.state === state) return s;
        await sleep(2);
      }
      throw new Error(`never ${state}`);
    };
    expect(await stateOf('retrying')).toEqual({ id: flaky.id, repository: 'acme/flaky', state: 'retrying', attempts: 1, error: 'first try fails' });
    expect(await stateOf('running')).toMatchObject({ state: 'running', attempts: 2, error: 'first try fails' });
    release();
    await intake.drain();
    expect(await intake.status(flaky.id)).toEqual({ id: flaky.id, repository: 'acme/flaky', state: 'done', attempts: 1, result: { status: 'healed' } });
    expect(await intake.status(broken.id)).toEqual({ id: broken.id, repository: 'acme/broken', state: 'failed', attempts: 2, error: 'GitHub answered 502' });
    expect(await intake.status('wh-unknown')).toBeNull();
  });

  test('a finished job\'s status and result come back from the journal after a restart', async () => {
    const journalPath = path.join(dir, 'intake.jsonl');
    const first = new EmbeddedIntake({ journalPath });
    const job = healJob({ repo: 'acme/web' });
    await first.submit(job);
    first.start(async () => ({ status: 'healed', certificate_hash: 'ab'.repeat(32) }));
    await first.drain();
    await first.close();
    const second = new EmbeddedIntake({ journalPath });
    expect(await second.status(job.id)).toEqual({ id: job.id, repository: 'acme/web', state: 'done', attempts: 1, result: { status: 'healed', certificate_hash: 'ab'.repeat(32) } });
    await second.close();
  });
});

describe('bullJobStatus', () => {
  const job = healJob({ repo: 'acme/web' });
  test.each([
    ['waiting', 0, { state: 'waiting', attempts: 0 }],
    ['prioritized', 0, { state: 'waiting', attempts: 0 }],
    ['delayed', 1, { state: 'retrying', attempts: 1, error: 'boom' }],
    ['active', 1, { state: 'running', attempts: 2 }],
    ['failed', 3, { state: 'failed', attempts: 3, error: 'boom' }],
    ['completed', 0, { state: 'done', attempts: 1, result: { status: 'healed' } }],
  ])('BullMQ state %s (%d tries made)', (state, attemptsMade, expected) => {
    expect(bullJobStatus(job.id, { data: job, attemptsMade, failedReason: 'boom', returnvalue: { status: 'healed' } }, state)).toEqual({ id: job.id, repository: 'acme/web', ...expected });
  });
  test('a BullMQ job that is not the one the id names is no answer', () => {
    expect(bullJobStatus('wh-other', { data: job, attemptsMade: 0 }, 'waiting')).toBeNull();
    expect(bullJobStatus(job.id, { data: { not: 'a job' }, attemptsMade: 0 }, 'waiting')).toBeNull();
  });
});
