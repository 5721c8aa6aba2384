import { describe, expect, test } from '@jest/globals';
import { heal } from '../../src/pipeline/heal.js';
import { DASHBOARD_MARKER, updateDashboard } from '../../src/pipeline/dashboard.js';
import { readOverview } from '../../src/pipeline/overview.js';
import { PROMOTIONS_FILE } from '../../src/pipeline/promotion-ledger.js';
import type { BridgeEvent } from '../../src/pipeline/observe.js';
import { AUTONOMY, FULL, LOGS, REPO, failedRun, jobFor, makeKit } from './pipeline-kit.js';

describe('dashboard issue', () => {
  test('one issue, updated in place: pending suggestion with its approve command, EMA table, the month\'s figures; no write when nothing changed', async () => {
    const kit = await makeKit();
    const events: BridgeEvent[] = [];
    kit.ctx.observer = { emit: (e) => events.push(e) };
    kit.gh.seedFiles(REPO, { '.github/autonomy.yml': AUTONOMY() });
    // A transient failure healed by a re-run, which then goes green 3 minutes later.
    const run = failedRun(kit.gh, LOGS.transient);
    expect((await heal(kit.ctx, jobFor({ repository: FULL, run_id: run.id }))).status).toBe('healed');
    kit.clock.advance(3);
    kit.gh.completeRun(REPO, run.id, 'success');
    await heal(kit.ctx, jobFor({ repository: FULL, run_id: run.id, run_attempt: 2 }));
    // The pipeline told the observe port what the Governor learned.
    expect(events).toEqual([expect.objectContaining({ type: 'autonomy.outcome', action: 'RERUN', outcome: 'success', recovery_seconds: 180, ema: { RERUN: 0.55 } })]);

    const created = await updateDashboard(kit.ctx, FULL);
    expect(created.status).toBe('created');
    const issues = kit.gh.issues(REPO).filter((i) => i.body.includes(DASHBOARD_MARKER));
    expect(issues).toHaveLength(1);
    const body = issues[0]!.body;
    expect(issues[0]!.title).toBe('Living Bridge dashboard');
    expect(body).toContain('## Pending suggestions\n\nNone.');
    expect(body).toContain('| RERUN | 0.55 |');
    expect(body).toMatch(/\| Failures seen \| Healed without a human \| Escalated \| Median time to recovery \|\n\| --- \| --- \| --- \| --- \|\n\| 1 \| 1 \| 0 \| 3 min \|/);
    expect(body).toContain('Certificate chain: verifies (2 certificates)');

    // Nothing changed: no write at all.
    const writesBefore = kit.gh.calls.filter((c) => c.method === 'updateIssue' || c.method === 'createIssue').length;
    expect((await updateDashboard(kit.ctx, FULL)).status).toBe('unchanged');
    expect(kit.gh.calls.filter((c) => c.method === 'updateIssue' || c.method === 'createIssue').length).toBe(writesBefore);

    // At `suggest` the next transient failure waits for a human: a pending suggestion with its command.
    kit.gh.seedFiles(REPO, { '.github/autonomy.yml': AUTONOMY('', 'suggest') });
    kit.clock.advance(60);
    const second = failedRun(kit.gh, LOGS.transient);
    const suggested = await heal(kit.ctx, jobFor({ repository: FULL, run_id: second.id }));
    expect(suggested.status).toBe('suggested');
    const updated = await updateDashboard(kit.ctx, FULL);
    expect(updated.status).toBe('updated');
    const after = kit.gh.issues(REPO).filter((i) => i.body.includes(DASHBOARD_MARKER));
    expect(after).toHaveLength(1);
    expect(after[0]!.body).toMatch(new RegExp(`Approve: comment \`/bridge approve ${second.id}-[0-9a-f]{8}\``));
    expect(after[0]!.body).toMatch(/\| 2 \| 1 \| 0 \| 3 min \|/);
  });

  test('config pull requests the loop left for a human are listed, newest record per file only', async () => {
    const kit = await makeKit();
    kit.gh.seedFiles(REPO, { '.github/autonomy.yml': AUTONOMY() });
    const record = (pr: number, path: string, status: string, at: string) => ({
      id: `p${pr}`, path, base: 'main', pull_request: pr, before_blob: null, after_blob: 'b', merge_commit: null,
      dispatched_runs: [], status, certificates: [], failed_run_id: null, workflow: null, rollback_of: null, updated_at: at,
    });
    // Newest first, as the loop writes them: vercel.json's latest promotion deployed (an older PR was left open).
    const records = [record(12, 'vercel.json', 'deployed', '2026-12-01T10:00:00Z'), record(11, 'vercel.json', 'left_for_human', '2026-11-30T10:00:00Z'), record(9, 'fly.toml', 'left_for_human', '2026-11-29T10:00:00Z')];
    await kit.ctx.ledgerFor(REPO, 'bridge-ledger').commit('promotions', async () => ({ files: { [PROMOTIONS_FILE]: `${JSON.stringify(records)}\n` }, audit: [] }));
    const overview = await readOverview(kit.ctx, FULL);
    expect(overview.configPullRequests).toEqual([{ pullRequest: 9, path: 'fly.toml', status: 'left_for_human', updatedAt: '2026-11-29T10:00:00Z' }]);
    expect((await updateDashboard(kit.ctx, FULL)).status).toBe('created');
    const body = kit.gh.issues(REPO).find((i) => i.body.includes(DASHBOARD_MARKER))!.body;
    expect(body).toContain('## Config pull requests waiting for a human\n\n- #9 (`fly.toml`): left open for a human to review and merge');
    expect(body).not.toContain('#11 (');
  });

  test('`dashboard: { enabled: false }` in autonomy.yml: no issue', async () => {
    const kit = await makeKit();
    kit.gh.seedFiles(REPO, { '.github/autonomy.yml': `${AUTONOMY()}dashboard:\n  enabled: false\n` });
    expect(await updateDashboard(kit.ctx, FULL)).toEqual({ status: 'disabled', url: null });
    expect(kit.gh.issues(REPO)).toHaveLength(0);
    expect((await readOverview(kit.ctx, FULL)).dashboardEnabled).toBe(false);
  });
});
