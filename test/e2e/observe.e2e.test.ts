/**
 * End to end: /healthz, /ready and /metrics of the real App process after a real heal on the
 * sandbox (webhook in, re-run green, outcome learned).
 */
import { afterAll, beforeAll, describe, expect, jest, test } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { SCENARIO_VALUES } from '../../src/sandbox/scenarios.js';
import { eventually, sandboxControl, sendWebhook, startAppProcess, startSandboxProcess, type AppProcess, type ManagedProcess } from '../../src/demo/processes.js';
import { failingRun, seedDemoRepo } from '../../src/demo/scenario.js';

jest.setTimeout(120_000);

let sandbox: ManagedProcess;
let app: AppProcess;
const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as { version: string };

beforeAll(async () => {
  sandbox = await startSandboxProcess();
  app = await startAppProcess(sandbox.url, { DEPLOY_TOKEN: SCENARIO_VALUES.DEPLOY_TOKEN, LIVING_BRIDGE_FROM_ENV_ALLOW: 'DEPLOY_TOKEN' });
  await sandboxControl(sandbox.url, 'POST', '/_sandbox/webhook', { url: `${app.url}/api/github/webhooks`, secret: app.webhookSecret, auto: true });
});

afterAll(async () => {
  await app?.stop();
  await sandbox?.stop();
});

const metricsText = async () => {
  const res = await fetch(`${app.url}/metrics`);
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toContain('text/plain');
  return res.text();
};
/** The value of one sample line, e.g. `living_bridge_acts_total{action="RERUN",outcome="ok"}`. */
const sample = (text: string, name: string, labels: Record<string, string> = {}): number | undefined => {
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    if (Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`))) return Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return undefined;
};

describe('health, readiness and metrics of the App process', () => {
  test('/healthz names the version; /ready checks the queue, GitHub and the ledger', async () => {
    const health = (await (await fetch(`${app.url}/healthz`)).json()) as { ok: boolean; version: string };
    expect(health).toMatchObject({ ok: true, version: pkg.version });
    const ready = await fetch(`${app.url}/ready`);
    expect(ready.status).toBe(200);
    const body = (await ready.json()) as { ready: boolean; checks: { name: string; ok: boolean; detail: string }[] };
    expect(body.ready).toBe(true);
    expect(body.checks.map((c) => c.name)).toEqual(['queue', 'github', 'ledger']);
    expect(body.checks.find((c) => c.name === 'ledger')?.detail).toBe('no repository handled yet');
  });

  test('a heal shows up in /metrics: decision, acts, duration, GitHub requests, EMA and time to recovery', async () => {
    const repo = await seedDemoRepo(sandbox.url, 'missing-secret', { repo: 'e2e-observe-metrics' });
    const run = await failingRun(sandbox.url, repo.fullName, repo);
    const sent = await sendWebhook(app.url, app.webhookSecret, 'workflow_run', run.payload);
    expect(sent.status).toBe(202);
    // The re-run's completion webhook (sent by the sandbox) is the outcome the Governor learns from.
    const text = await eventually(async () => {
      const t = await metricsText();
      return (sample(t, 'living_bridge_time_to_recovery_seconds_count') ?? 0) >= 1 ? t : undefined;
    }, 60_000, 'the outcome in /metrics');
    expect(sample(text, 'living_bridge_decisions_total', { verdict: 'execute', guardrail: 'none', action: 'CREATE_SECRET' })).toBe(1);
    expect(sample(text, 'living_bridge_acts_total', { action: 'CREATE_SECRET', outcome: 'ok' })).toBe(1);
    expect(sample(text, 'living_bridge_acts_total', { action: 'RERUN', outcome: 'ok' })).toBe(1);
    expect(sample(text, 'living_bridge_heals_total', { status: 'healed' })).toBe(1);
    expect(sample(text, 'living_bridge_heal_duration_seconds_count', { status: 'healed' })).toBe(1);
    expect(sample(text, 'living_bridge_heals_without_human_total')).toBe(1);
    expect(sample(text, 'living_bridge_outcomes_total', { action: 'CREATE_SECRET', outcome: 'success' })).toBe(1);
    // EMA after one success: 0.9·0.5 + 0.1·1 (the Governor's prior is 0.5).
    expect(sample(text, 'living_bridge_action_ema', { repository: repo.fullName, action: 'CREATE_SECRET' })).toBeCloseTo(0.55, 5);
    expect(sample(text, 'living_bridge_github_requests_total', { method: 'PUT', route: '/repos/{owner}/{repo}/actions/secrets/{secret_name}', status: '201' })).toBe(1);
    expect(sample(text, 'living_bridge_github_rate_limit_remaining', { resource: 'core' })).toBeGreaterThan(0);
    expect(sample(text, 'living_bridge_queue_depth')).toBe(0);
    expect(sample(text, 'living_bridge_dead_letters')).toBe(0);
    expect(text).toContain('living_bridge_process_cpu_seconds_total');
    // Repository names appear only as the EMA's label, never in a route.
    expect(text).not.toMatch(/route="[^"]*e2e-observe-metrics/);

    const ready = (await (await fetch(`${app.url}/ready`)).json()) as { checks: { name: string; detail: string }[] };
    expect(ready.checks.find((c) => c.name === 'ledger')?.detail).toMatch(/ledger of acme\/e2e-observe-metrics readable|no repository handled yet/);
  });
});
