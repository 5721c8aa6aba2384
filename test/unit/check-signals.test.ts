import { describe, expect, test } from '@jest/globals';
import { CheckSignals, checkEventCommit } from '../../src/pipeline/check-signals.js';

const SHA = 'a'.repeat(40);

describe('config loop wake-up by check webhooks', () => {
  test('a check_suite/check_run/status payload names its repository and head commit; anything else is ignored', () => {
    const repository = { full_name: 'acme/api' };
    expect(checkEventCommit('check_suite', { repository, check_suite: { head_sha: SHA } })).toEqual({ repository: 'acme/api', sha: SHA });
    expect(checkEventCommit('check_run', { repository, check_run: { head_sha: SHA } })).toEqual({ repository: 'acme/api', sha: SHA });
    expect(checkEventCommit('status', { repository, sha: SHA })).toEqual({ repository: 'acme/api', sha: SHA });
    expect(checkEventCommit('status', { repository, sha: 'not-a-sha' })).toBeNull();
    expect(checkEventCommit('push', { repository, after: SHA })).toBeNull();
    expect(checkEventCommit('check_run', { check_run: { head_sha: SHA } })).toBeNull();
  });

  test('a waiter on (repository, sha) wakes on notify, case-insensitively, and only for its own commit', async () => {
    const signals = new CheckSignals();
    const woken = signals.wait('Acme/API', SHA, 60_000);
    const other = signals.wait('acme/api', 'b'.repeat(40), 30);
    expect(signals.size).toBe(2);
    signals.notify('acme/api', SHA);
    await expect(woken).resolves.toBe('signal');
    // The other commit's waiter was not woken: it times out, and leaves nothing registered.
    await expect(other).resolves.toBe('timeout');
    expect(signals.size).toBe(0);
    // A notify with nobody waiting is a no-op.
    signals.notify('acme/api', SHA);
    expect(signals.size).toBe(0);
  });
});
