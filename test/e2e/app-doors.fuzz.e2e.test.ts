/**
 * Fuzzes every door of the real App process (issue #10, item 6): at least 1,000 generated inputs per
 * door — signed and unsigned webhooks, incident, halt, resume and verify requests — and asserts no
 * 5xx, no crash (the process stays up and healthy) and no hang (every answer within 15 s).
 */
import { createHmac } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, jest, test } from '@jest/globals';
import fc from 'fast-check';
import { startAppProcess, startSandboxProcess, type AppProcess, type ManagedProcess } from '../../src/demo/processes.js';

jest.setTimeout(600_000);
const RUNS = 1000;

let sandbox: ManagedProcess;
let app: AppProcess;

beforeAll(async () => {
  sandbox = await startSandboxProcess();
  app = await startAppProcess(sandbox.url, { LOG_LEVEL: 'warn' });
});

afterAll(async () => {
  await app?.stop();
  await sandbox?.stop();
});

const statuses = new Map<string, Map<number, number>>();
async function send(door: string, path: string, init: RequestInit): Promise<number> {
  const res = await fetch(`${app.url}${path}`, { ...init, signal: AbortSignal.timeout(15_000) });
  await res.arrayBuffer();
  const seen = statuses.get(door) ?? new Map<number, number>();
  seen.set(res.status, (seen.get(res.status) ?? 0) + 1);
  statuses.set(door, seen);
  return res.status;
}

async function stillHealthy(): Promise<void> {
  expect(app.child.exitCode).toBeNull();
  const health = await fetch(`${app.url}/healthz`, { signal: AbortSignal.timeout(15_000) });
  expect(health.status).toBe(200);
}

/** Names that look like repositories, and names that must never reach a URL. */
const repoName = fc.oneof(
  fc.constantFrom('fuzz/none', 'fuzz/a.b', '../..', './.', 'a/..', 'not a repo', 'a/b/c', '', 'x'.repeat(200) + '/y', 'fuzz/%2e%2e', 'fuzz/ä'),
  fc.tuple(fc.stringMatching(/^[A-Za-z0-9_.-]{1,20}$/), fc.stringMatching(/^[A-Za-z0-9_.-]{1,20}$/)).map(([o, r]) => `${o}/${r}`),
  fc.string(),
);
const anyValue = fc.oneof(fc.jsonValue(), fc.constant(null), fc.constant(undefined), fc.integer(), fc.double(), fc.string());
const runId = fc.oneof(fc.integer({ min: -10, max: 10 }), fc.constant(-5), fc.constant(0), fc.maxSafeNat(), fc.double(), fc.string(), fc.constant(null), fc.constant(1e30));

const workflowRunPayload = fc.record(
  {
    action: fc.oneof(fc.constant('completed'), fc.constant('requested'), anyValue),
    workflow_run: fc.oneof(
      fc.record({ id: runId, run_attempt: runId, conclusion: fc.oneof(fc.constantFrom('failure', 'success', 'cancelled'), anyValue), name: anyValue, head_sha: anyValue, pull_requests: anyValue }, { requiredKeys: [] }),
      anyValue,
    ),
    repository: fc.oneof(fc.record({ full_name: fc.oneof(repoName, anyValue) }, { requiredKeys: [] }), anyValue),
    installation: fc.oneof(fc.record({ id: runId }), anyValue),
  },
  { requiredKeys: [] },
);
const issueCommentPayload = fc.record(
  {
    action: fc.oneof(fc.constant('created'), anyValue),
    comment: fc.oneof(fc.record({ body: fc.oneof(fc.constantFrom('/bridge approve abc', '/bridge reject x', '/bridge'), anyValue), user: fc.oneof(fc.record({ login: anyValue, type: anyValue }), anyValue) }, { requiredKeys: [] }), anyValue),
    repository: fc.oneof(fc.record({ full_name: fc.oneof(repoName, anyValue) }), anyValue),
    issue: fc.oneof(fc.record({ number: runId }), anyValue),
    installation: fc.oneof(fc.record({ id: runId }), anyValue),
  },
  { requiredKeys: [] },
);
/** Well-formed payloads (valid names and ids) reach the intake and the worker, not only the validation. */
const validRun = fc.record({
  action: fc.constant('completed'),
  workflow_run: fc.record({ id: fc.integer({ min: 1, max: 2 ** 40 }), run_attempt: fc.integer({ min: 1, max: 5 }), conclusion: fc.constantFrom('failure', 'success') }),
  repository: fc.record({ full_name: fc.constantFrom('fuzz/none', 'fuzz/other') }),
  installation: fc.record({ id: fc.integer({ min: 1, max: 10 }) }),
});
const webhookBody = fc.oneof(
  validRun.map((p) => JSON.stringify(p)),
  workflowRunPayload.map((p) => JSON.stringify(p)),
  issueCommentPayload.map((p) => JSON.stringify(p)),
  fc.jsonValue().map((v) => JSON.stringify(v)),
  fc.string(),
  fc.constantFrom('null', '[]', '{', '""', '1e999', '{"action":"completed","workflow_run":{"id":-5}}'),
);
const event = fc.oneof(fc.constantFrom('workflow_run', 'issue_comment', 'ping', 'push', ''), fc.string());
const deliveryId = fc.oneof(fc.uuid(), fc.string(), fc.constant(undefined));

const headersOf = (e: string, d: string | undefined, signature?: string): Record<string, string> => {
  const h: Record<string, string> = { 'content-type': 'application/json' };
  // Header values must be valid HTTP tokens for fetch; others are what GitHub never sends.
  const safe = (v: string) => v.replace(/[^\x20-\x7e]/g, '').trim();
  if (safe(e)) h['x-github-event'] = safe(e);
  if (d !== undefined && safe(d)) h['x-github-delivery'] = safe(d);
  if (signature !== undefined) h['x-hub-signature-256'] = signature;
  return h;
};

const healRequest = fc.record(
  {
    repository: fc.oneof(repoName, anyValue),
    run_id: runId,
    run_attempt: runId,
    environment: fc.oneof(fc.string(), anyValue),
    incident: fc.oneof(fc.record({ kind: fc.oneof(fc.constantFrom('secret.missing', 'unknown', 'nope'), anyValue), target: anyValue, confidence: fc.oneof(fc.double(), anyValue), evidence: anyValue }, { requiredKeys: [] }), anyValue),
    dry_run: fc.oneof(fc.constant(true), anyValue),
  },
  { requiredKeys: [] },
);
const validHealRequest = fc.record({ repository: fc.constantFrom('fuzz/none', 'fuzz/other'), run_id: fc.integer({ min: 1, max: 2 ** 40 }), dry_run: fc.boolean() });
const controlBody = fc.record({ repository: fc.oneof(repoName, anyValue), reason: fc.oneof(fc.string(), fc.constant({}), anyValue), actor: anyValue }, { requiredKeys: [] });
const bodyText = (gen: fc.Arbitrary<unknown>) => fc.oneof(gen.map((v) => JSON.stringify(v) ?? ''), fc.string(), fc.constantFrom('null', '[]', '{', ''));

describe('no door answers 5xx, crashes or hangs on generated input', () => {
  test(`signed webhooks (${RUNS})`, async () => {
    await fc.assert(
      fc.asyncProperty(webhookBody, event, deliveryId, async (body, e, d) => {
        const signature = `sha256=${createHmac('sha256', app.webhookSecret).update(body).digest('hex')}`;
        expect(await send('signed webhook', '/api/github/webhooks', { method: 'POST', headers: headersOf(e, d, signature), body })).toBeLessThan(500);
      }),
      { numRuns: RUNS },
    );
    await stillHealthy();
  });

  test(`unsigned and wrongly signed webhooks (${RUNS})`, async () => {
    await fc.assert(
      fc.asyncProperty(webhookBody, event, deliveryId, fc.oneof(fc.constant(undefined), fc.string().map((s) => s.replace(/[^\x20-\x7e]/g, '')), fc.stringMatching(/^[0-9a-f]{0,64}$/).map((h) => `sha256=${h}`)), async (body, e, d, signature) => {
        const status = await send('unsigned webhook', '/api/github/webhooks', { method: 'POST', headers: headersOf(e, d, signature), body });
        expect(status).toBe(401);
      }),
      { numRuns: RUNS },
    );
    await stillHealthy();
  });

  test(`incident bodies (${RUNS})`, async () => {
    await fc.assert(
      fc.asyncProperty(fc.oneof(bodyText(healRequest), validHealRequest.map((r) => JSON.stringify(r))), fc.constantFrom('', '?wait=false'), async (body, query) => {
        const status = await send('incident', `/api/autonomy/incident${query}`, { method: 'POST', headers: { authorization: `Bearer ${app.apiToken}`, 'content-type': 'application/json' }, body });
        expect(status).toBeLessThan(500);
      }),
      { numRuns: RUNS },
    );
    await stillHealthy();
  });

  test(`halt and resume bodies (${RUNS} each)`, async () => {
    for (const path of ['/api/autonomy/halt', '/api/autonomy/resume']) {
      await fc.assert(
        fc.asyncProperty(fc.oneof(bodyText(controlBody), fc.record({ repository: fc.constantFrom('fuzz/none', 'fuzz/other'), reason: fc.string({ maxLength: 100 }) }).map((b) => JSON.stringify(b))), async (body) => {
          const status = await send(path, path, { method: 'POST', headers: { authorization: `Bearer ${app.apiToken}`, 'content-type': 'application/json' }, body });
          expect(status).toBeLessThan(500);
        }),
        { numRuns: RUNS },
      );
    }
    await stillHealthy();
  });

  test(`verify queries (${RUNS})`, async () => {
    await fc.assert(
      fc.asyncProperty(fc.oneof(repoName, fc.string()), async (repository) => {
        const status = await send('verify', `/api/autonomy/verify?repository=${encodeURIComponent(repository)}`, { headers: { authorization: `Bearer ${app.apiToken}` } });
        expect(status).toBeLessThan(500);
      }),
      { numRuns: RUNS },
    );
    await stillHealthy();
    // What the doors answered, for the test output (each door saw every kind of refusal).
    console.log(JSON.stringify(Object.fromEntries([...statuses].map(([door, m]) => [door, Object.fromEntries(m)]))));
  });
});
