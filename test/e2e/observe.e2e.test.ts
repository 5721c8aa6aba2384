/**
 * End to end: /healthz, /ready and /metrics of the real App process after a real heal on the
 * sandbox (webhook in, re-run green, outcome learned).
 */
import { afterAll, beforeAll, describe, expect, jest, test } from '@jest/globals';
import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { SCENARIO_VALUES } from '../../src/sandbox/scenarios.js';
import { eventually, sandboxControl, sendWebhook, startAppProcess, startSandboxProcess, type AppProcess, type ManagedProcess } from '../../src/demo/processes.js';
import { failingRun, seedDemoRepo } from '../../src/demo/scenario.js';

jest.setTimeout(120_000);

let sandbox: ManagedProcess;
let app: AppProcess;
let subscriber: Server;
const EVENT_SECRET = 'e2e-event-secret-0123456789';
/** What the subscriber received: headers and raw bodies. Its first answer is a 503, to be retried. */
const received: { headers: Record<string, string | string[] | undefined>; body: string }[] = [];
let answered = 0;
const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as { version: string };

beforeAll(async () => {
  subscriber = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      answered += 1;
      if (answered === 1) { res.writeHead(503).end(); return; }
      received.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((r) => subscriber.listen(0, '127.0.0.1', () => r()));
  const hookUrl = `http://127.0.0.1:${(subscriber.address() as { port: number }).port}/hooks/living-bridge`;
  sandbox = await startSandboxProcess();
  app = await startAppProcess(sandbox.url, { DEPLOY_TOKEN: SCENARIO_VALUES.DEPLOY_TOKEN, LIVING_BRIDGE_FROM_ENV_ALLOW: 'DEPLOY_TOKEN', LIVING_BRIDGE_EVENT_URLS: hookUrl, LIVING_BRIDGE_EVENT_SECRET: EVENT_SECRET, LOG_LEVEL: 'debug' });
  await sandboxControl(sandbox.url, 'POST', '/_sandbox/webhook', { url: `${app.url}/api/github/webhooks`, secret: app.webhookSecret, auto: true });
});

afterAll(async () => {
  await app?.stop();
  await sandbox?.stop();
  await new Promise((r) => subscriber?.close(r));
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

/** The keys of a JSON object's top level as written (JSON.parse would keep only the last of a pair). */
function topLevelKeys(json: string): string[] {
  const keys: string[] = [];
  let depth = 0;
  for (let i = 0; i < json.length; i++) {
    const c = json[i];
    if (c === '"') {
      let j = i + 1;
      while (json[j] !== '"') j += json[j] === '\\' ? 2 : 1;
      if (depth === 1 && json[j + 1] === ':') keys.push(json.slice(i + 1, j));
      i = j;
    } else if (c === '{' || c === '[') depth++;
    else if (c === '}' || c === ']') depth--;
  }
  return keys;
}

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
      // The outcome is learned inside the re-run's job: wait for that job to finish too.
      return (sample(t, 'living_bridge_time_to_recovery_seconds_count') ?? 0) >= 1 && sample(t, 'living_bridge_queue_depth') === 0 ? t : undefined;
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

  test('events reach the subscriber signed, retried after a 503, with a Slack text, in the delivery log, without secrets', async () => {
    const events = await eventually(async () => {
      const types = received.map((r) => JSON.parse(r.body) as { type: string });
      // The first delivery met a 503 and comes again after its retry delay.
      return ['autonomy.decision', 'autonomy.heal.applied', 'autonomy.outcome'].every((t) => types.some((e) => e.type === t)) ? types : undefined;
    }, 60_000, 'the decision, heal and outcome events');
    expect(events.map((e) => e.type)).toEqual(expect.arrayContaining(['autonomy.decision', 'autonomy.heal.applied', 'autonomy.outcome']));
    for (const r of received) {
      expect(r.headers['x-living-bridge-signature-256']).toBe(`sha256=${createHmac('sha256', EVENT_SECRET).update(r.body).digest('hex')}`);
      const body = JSON.parse(r.body) as { id: string; type: string; text: string; data: { repository: string } };
      expect(r.headers['x-living-bridge-event']).toBe(body.type);
      expect(r.headers['x-living-bridge-delivery']).toBe(body.id);
      expect(body.text).toContain('acme/e2e-observe-metrics');
      expect(body.data.repository).toBe('acme/e2e-observe-metrics');
      expect(r.body).not.toContain(SCENARIO_VALUES.DEPLOY_TOKEN);
    }
    const applied = received.map((r) => JSON.parse(r.body) as { type: string; text: string }).find((e) => e.type === 'autonomy.heal.applied')!;
    expect(applied.text).toMatch(/healed: CREATE_SECRET → RERUN, certificate [0-9a-f]{12}…/);

    const unauthorized = await fetch(`${app.url}/api/autonomy/deliveries`);
    expect(unauthorized.status).toBe(401);
    const log = (await (await fetch(`${app.url}/api/autonomy/deliveries`, { headers: { authorization: `Bearer ${app.apiToken}` } })).json()) as { deliveries: { status: string; attempts: number; subscriber: string; event: string }[] };
    expect(log.deliveries.length).toBe(received.length);
    expect(log.deliveries.every((d) => d.status === 'delivered' && d.subscriber === new URL(d.subscriber).origin)).toBe(true);
    // The very first delivery met the 503 and was retried.
    expect(log.deliveries.some((d) => d.attempts === 2)).toBe(true);
  });

  test('logs: JSON lines with ISO timestamps, no key twice, no 404/304 logged as an error, a shutdown line after draining', async () => {
    await app.stop();
    const lines = app.output().split('\n').filter((l) => l.startsWith('{'));
    expect(lines.length).toBeGreaterThan(5);
    for (const line of lines) {
      const parsed = JSON.parse(line) as { time: string; level: number; msg?: string };
      expect(parsed.time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
      const keys = topLevelKeys(line);
      expect(keys.length).toBe(new Set(keys).size);
      if (parsed.level >= 50) expect(parsed.msg ?? '').not.toMatch(/ - (404|304)\b/);
    }
    // The heal's lines carry its job and GitHub delivery id (the worker's child logger).
    expect(lines.some((l) => /"job":"wh-[0-9a-f-]{36}","delivery":"[0-9a-f-]{36}"/.test(l) && l.includes('"repository":"acme/e2e-observe-metrics"'))).toBe(true);
    const last = JSON.parse(lines[lines.length - 1]!) as { msg: string; queue: { pending: number; running: number } };
    expect(last.msg).toBe('Living Bridge stopped after draining');
    expect(last.queue).toMatchObject({ pending: 0, running: 0 });
  });
});
