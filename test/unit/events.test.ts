import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { createHmac } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { createEventBus, readEventBusSettings, textOf, type EventBusSettings } from '../../src/app/events.js';
import type { BridgeEvent } from '../../src/pipeline/observe.js';

const SECRET = 'unit-event-secret-0123456789';
const silent = pino({ level: 'silent' });
const outcome: BridgeEvent = { type: 'autonomy.outcome', repository: 'acme/api', at: '2026-12-01T00:00:00.000Z', door: 'webhook', run_id: 7, run_attempt: 2, action: 'RERUN', outcome: 'success', ema: { RERUN: 0.55 }, recovery_seconds: 61.4, certificate_hash: 'ab'.repeat(32) };

let server: Server;
let base = '';
/** path -> statuses to answer in order (the last one repeats). */
const script: Record<string, number[]> = {};
const hits: Record<string, { headers: Record<string, string | string[] | undefined>; body: string }[]> = {};

beforeAll(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const path = req.url ?? '/';
      (hits[path] ??= []).push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
      const statuses = script[path] ?? [204];
      res.writeHead(statuses.length > 1 ? statuses.shift()! : statuses[0]!).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

const settings = (paths: string[], types?: string): EventBusSettings =>
  readEventBusSettings({ LIVING_BRIDGE_EVENT_URLS: paths.map((p) => `${base}${p}`).join(','), LIVING_BRIDGE_EVENT_SECRET: SECRET, LIVING_BRIDGE_EVENT_TYPES: types })!;

describe('event bus', () => {
  test('a delivery is signed like X-Hub-Signature-256, names its event and id, and carries a Slack text', async () => {
    const bus = createEventBus(settings(['/ok']), { log: silent, retryDelaysMs: [] });
    bus.emit(outcome);
    await bus.drain();
    const [hit] = hits['/ok']!;
    expect(hit!.headers['x-living-bridge-signature-256']).toBe(`sha256=${createHmac('sha256', SECRET).update(hit!.body).digest('hex')}`);
    const body = JSON.parse(hit!.body) as { id: string; type: string; created_at: string; text: string; data: BridgeEvent };
    expect(hit!.headers['x-living-bridge-event']).toBe('autonomy.outcome');
    expect(hit!.headers['x-living-bridge-delivery']).toBe(body.id);
    expect(hit!.headers['content-type']).toBe('application/json');
    expect(body.text).toBe('acme/api run 7 attempt 2 went green after RERUN (EMA 0.55), recovered in 61 s');
    expect(body.data).toEqual(outcome);
    expect(bus.deliveries()).toEqual([expect.objectContaining({ delivery: body.id, event: 'autonomy.outcome', status: 'delivered', attempts: 1, http_status: 204, error: null })]);
  });

  test('5xx and 429 are retried, then given up on; a 400 is not retried; an unreachable subscriber is recorded; the log file keeps every record', async () => {
    script['/flaky'] = [503, 429, 200];
    script['/down'] = [500];
    script['/refuses'] = [400];
    const dir = mkdtempSync(join(tmpdir(), 'lb-events-'));
    const bus = createEventBus({ ...settings(['/flaky', '/down', '/refuses']), subscribers: [...settings(['/flaky', '/down', '/refuses']).subscribers, new URL('http://127.0.0.1:1/closed')] }, { log: silent, retryDelaysMs: [5, 5], logPath: join(dir, 'deliveries.jsonl') });
    bus.emit(outcome);
    await bus.drain();
    const bySubscriber = (path: string) => bus.deliveries().find((d) => hits[path]?.some((h) => JSON.parse(h.body).id === d.delivery));
    expect(hits['/flaky']).toHaveLength(3);
    expect(bySubscriber('/flaky')).toMatchObject({ status: 'delivered', attempts: 3, http_status: 200 });
    expect(hits['/down']).toHaveLength(3);
    expect(bySubscriber('/down')).toMatchObject({ status: 'failed', attempts: 3, http_status: 500, error: 'HTTP 500' });
    expect(hits['/refuses']).toHaveLength(1);
    expect(bySubscriber('/refuses')).toMatchObject({ status: 'failed', attempts: 1, http_status: 400 });
    const closed = bus.deliveries().find((d) => d.subscriber === 'http://127.0.0.1:1');
    expect(closed).toMatchObject({ status: 'failed', attempts: 3, http_status: null });
    expect(closed!.error).toMatch(/^network: /);
    // Every retry of one delivery carries the same id (a subscriber can de-duplicate).
    expect(new Set(hits['/flaky']!.map((h) => JSON.parse(h.body).id)).size).toBe(1);
    const logged = readFileSync(join(dir, 'deliveries.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { delivery: string });
    expect(logged.map((l) => l.delivery).sort()).toEqual(bus.deliveries().map((d) => d.delivery).sort());
  });

  test('LIVING_BRIDGE_EVENT_TYPES filters what is sent', async () => {
    const bus = createEventBus(settings(['/filtered'], 'autonomy.escalated'), { log: silent, retryDelaysMs: [] });
    bus.emit(outcome);
    await bus.drain();
    expect(hits['/filtered']).toBeUndefined();
    expect(bus.deliveries()).toEqual([]);
  });

  test('settings: none without URLs; bad URLs, a short secret and unknown types are refused, naming the variable and never echoing the URL', () => {
    expect(readEventBusSettings({})).toBeNull();
    const bad = () => readEventBusSettings({ LIVING_BRIDGE_EVENT_URLS: 'https://hooks.example/ok,not a url/T0SECRETPATH', LIVING_BRIDGE_EVENT_SECRET: 'short', LIVING_BRIDGE_EVENT_TYPES: 'autonomy.heal' });
    expect(bad).toThrow(/LIVING_BRIDGE_EVENT_URLS entry 2 is not an http\(s\) URL/);
    expect(bad).toThrow(/LIVING_BRIDGE_EVENT_SECRET must be set/);
    expect(bad).toThrow(/LIVING_BRIDGE_EVENT_TYPES: "autonomy.heal" is not one of/);
    expect(bad).not.toThrow(/T0SECRETPATH/);
    // The delivery log names a subscriber by its origin: a Slack webhook's path is its credential.
    const s = readEventBusSettings({ LIVING_BRIDGE_EVENT_URLS: 'https://hooks.slack.com/services/T000/B000/XXXX', LIVING_BRIDGE_EVENT_SECRET: SECRET })!;
    expect(s.subscribers[0]!.origin).toBe('https://hooks.slack.com');
  });

  test('every event type has a one-line text', () => {
    const base = { repository: 'acme/api', at: '2026-12-01T00:00:00.000Z', door: 'webhook', run_id: 9 };
    const heal = { ...base, status: 'healed' as const, steps: ['CREATE_SECRET' as const, 'RERUN' as const], acts: [], certificate_hash: 'cd'.repeat(32), comment_url: 'https://github.com/acme/api/pull/1#issuecomment-1', issue_url: 'https://github.com/acme/api/issues/2', approved_by: null, summary: 'done' };
    expect(textOf({ ...base, type: 'autonomy.decision', verdict: 'noop', action: 'NOOP', steps: [], guardrail: 'cooldown', reason: 'r', incident_kind: 'secret.missing', target: 'DEPLOY_TOKEN', score: null, predicted_success: null })).toBe('acme/api run 9: noop NOOP for secret.missing DEPLOY_TOKEN (guardrail cooldown)');
    expect(textOf({ ...heal, type: 'autonomy.heal.applied' })).toBe(':white_check_mark: acme/api run 9 healed: CREATE_SECRET → RERUN, certificate cdcdcdcdcdcd… — https://github.com/acme/api/pull/1#issuecomment-1');
    expect(textOf({ ...heal, type: 'autonomy.escalated', status: 'escalated' })).toBe(':rotating_light: acme/api run 9 needs a human: https://github.com/acme/api/issues/2 — done');
    expect(textOf({ ...heal, type: 'autonomy.heal.error', status: 'failed' })).toBe(':x: acme/api run 9: CREATE_SECRET → RERUN could not be completed — done');
    expect(textOf({ ...base, type: 'autonomy.sync.applied', applied: 2, failed: 0, skipped: 1, certificate_hash: null })).toBe('acme/api environment sync: 2 applied, 0 failed, 1 skipped, certificate none');
  });
});
