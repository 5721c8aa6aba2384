import { healJob } from '../support/heal-jobs.js';
import { describe, expect, test } from '@jest/globals';
import { EmbeddedIntake } from '../../src/intake/index.js';
import { createMetrics, deadLetterCount, routeLabel } from '../../src/app/metrics.js';
import type { BridgeEvent } from '../../src/pipeline/observe.js';

const base = { repository: 'acme/api', at: '2026-12-01T00:00:00.000Z', door: 'webhook' };

describe('metrics', () => {
  test('route labels are REST templates: absolute next-page and redirect URLs lose their values', () => {
    expect(routeLabel('/repos/{owner}/{repo}/actions/runs/{run_id}')).toBe('/repos/{owner}/{repo}/actions/runs/{run_id}');
    expect(routeLabel('https://api.github.com/repos/acme/api/issues?page=2')).toBe('/repos/{owner}/{repo}/issues');
    expect(routeLabel('https://api.github.com/repos/acme/api/actions/jobs/123/logs')).toBe('/repos/{owner}/{repo}/actions/jobs/{id}/logs');
    expect(routeLabel('/repos/acme/api/git/ref/heads/bridge-ledger')).toBe('/repos/{owner}/{repo}/git/ref/{ref}');
  });

  test('noop decisions are counted with their guardrail; acts by action and outcome; EMA per repository and action', async () => {
    const intake = new EmbeddedIntake();
    const m = createMetrics(intake, { defaultMetrics: false });
    const events: BridgeEvent[] = [
      { ...base, type: 'autonomy.decision', run_id: 1, verdict: 'noop', action: 'NOOP', steps: [], guardrail: 'cooldown', reason: 'cooling down', incident_kind: 'secret.missing', target: 'DEPLOY_TOKEN', score: null, predicted_success: null },
      { ...base, type: 'autonomy.heal.error', run_id: 2, status: 'failed', steps: ['RERUN'], acts: [{ action: 'RERUN', ok: false }], certificate_hash: null, comment_url: null, issue_url: null, approved_by: null, summary: 'failed' },
      { ...base, type: 'autonomy.heal.applied', run_id: 3, status: 'healed', steps: ['RERUN'], acts: [{ action: 'RERUN', ok: true }], certificate_hash: 'c', comment_url: null, issue_url: null, approved_by: 'octocat', summary: 'healed' },
      { ...base, type: 'autonomy.outcome', run_id: 3, run_attempt: 2, action: 'RERUN', outcome: 'success', ema: { RERUN: 0.55 }, recovery_seconds: 42, certificate_hash: 'o' },
    ];
    for (const e of events) m.observer.emit(e);
    m.observeHeal(1.5, 'healed');
    m.observeGitHubRequest('get', 'https://api.github.com/repos/acme/api', 200, { 'x-ratelimit-remaining': '4999', 'x-ratelimit-resource': 'core' });
    m.observeGitHubRequest('get', '/repos/{owner}/{repo}/contents/{path}', 404, {});
    m.observeGitHubRequest('get', '/app', 0, {});
    const { body, contentType } = await m.render();
    expect(contentType).toContain('text/plain');
    expect(body).toContain('living_bridge_decisions_total{verdict="noop",guardrail="cooldown",action="NOOP"} 1');
    expect(body).toContain('living_bridge_acts_total{action="RERUN",outcome="failed"} 1');
    expect(body).toContain('living_bridge_acts_total{action="RERUN",outcome="ok"} 1');
    // Approved by a human: not a heal without one.
    expect(body).toContain('living_bridge_heals_without_human_total 0');
    expect(body).toContain('living_bridge_action_ema{repository="acme/api",action="RERUN"} 0.55');
    expect(body).toContain('living_bridge_time_to_recovery_seconds_sum 42');
    expect(body).toContain('living_bridge_heal_duration_seconds_count{status="healed"} 1');
    expect(body).toContain('living_bridge_github_requests_total{method="GET",route="/repos/{owner}/{repo}",status="200"} 1');
    expect(body).toContain('living_bridge_github_requests_total{method="GET",route="/repos/{owner}/{repo}/contents/{path}",status="404"} 1');
    expect(body).toContain('living_bridge_github_requests_total{method="GET",route="/app",status="network"} 1');
    expect(body).toContain('living_bridge_github_rate_limit_remaining{resource="core"} 4999');
    expect(body).toContain('living_bridge_queue_depth 0');
    await intake.close();
  });

  test('dead letters: the jobs the intake gave up on after every try', async () => {
    const intake = new EmbeddedIntake({ attempts: 1 });
    expect(deadLetterCount(intake)).toBe(0);
    intake.start(async () => { throw new Error('boom'); });
    await intake.submit(healJob({ repo: 'acme/dead' }));
    await intake.drain();
    expect(deadLetterCount(intake)).toBe(1);
  });
});
