/** Exact requests of env sync over the real GitHubAdapter (nock): ETags, pagination, upsert, pacing, retry-after. */
import { createHash } from 'node:crypto';
import nock from 'nock';
import { useNock } from '../support/nock-hooks.js';
import { EnvironmentFile, SyncState, type EnvironmentFileInput } from '../../src/core/schemas/index.js';
import { planSync, resolveFromEnv, type ActualInventory, type SyncPlan, type SyncPlanItem } from '../../src/core/env-plan/index.js';
import { WritePacer, executeSync, rateLimitRetryAfter, syncValueResolver } from '../../src/engines/env-sync.js';
import { auditInventory } from '../../src/pipeline/sync.js';
import { createOctokit, GitHubAdapter } from '../../src/github/index.js';

const API = 'https://api.github.com';
const repo = { owner: 'acme', repo: 'shop' };
const R = '/repos/acme/shop';
const fp = (v: string): string => createHash('sha256').update(`k:${v}`).digest('hex').slice(0, 16);
const adapter = () => new GitHubAdapter(createOctokit({ auth: 'test', throttle: false, retry: { enabled: false } }));

/** A fake clock that `sleep` advances. */
function fakeClock(start = 0) {
  let t = start;
  const sleeps: number[] = [];
  return { now: () => t, sleep: async (ms: number) => { sleeps.push(ms); t += ms; }, sleeps, get t() { return t; } };
}

function planFor(declared: EnvironmentFileInput, actual: ActualInventory, sync: Partial<SyncState> = {}): SyncPlan {
  return planSync({ declared: EnvironmentFile.parse(declared), actual, sync: SyncState.parse(sync), fingerprintOf: fp, resolveVariable: resolveFromEnv({}) });
}
const emptyActual = (): ActualInventory => ({ repository: { variables: {}, secrets: {} }, environments: {} });

useNock();

describe('audit', () => {
  test('first audit stores ETags; the next sends If-None-Match and a 304 reuses the cached inventory', async () => {
    nock(API)
      .get(`${R}/environments`).query({ per_page: 100 }).reply(200, { total_count: 0, environments: [] }, { etag: 'W/"env-1"' })
      .get(`${R}/actions/secrets`).query({ per_page: 100 }).reply(200, { total_count: 1, secrets: [{ name: 'TOKEN', created_at: 'c', updated_at: 'u1' }] }, { etag: 'W/"sec-1"' })
      .get(`${R}/actions/variables`).query({ per_page: 30 }).reply(200, { total_count: 1, variables: [{ name: 'REGION', value: 'eu', created_at: 'c', updated_at: 'u' }] }, { etag: 'W/"var-1"' });
    const gh = adapter();
    const first = await auditInventory(gh, repo, SyncState.parse({}), null);
    expect(first.calls).toBe(3);
    expect(first.notModified).toBe(0);
    expect(first.etags).toEqual({ environments: 'W/"env-1"', 'secrets:repository': 'W/"sec-1"', 'variables:repository': 'W/"var-1"' });
    expect(first.actual.repository).toEqual({ variables: { REGION: 'eu' }, secrets: { TOKEN: { updated_at: 'u1' } } });

    nock(API)
      .get(`${R}/environments`).query({ per_page: 100 }).matchHeader('if-none-match', 'W/"env-1"').reply(304)
      .get(`${R}/actions/secrets`).query({ per_page: 100 }).matchHeader('if-none-match', 'W/"sec-1"').reply(304)
      .get(`${R}/actions/variables`).query({ per_page: 30 }).matchHeader('if-none-match', 'W/"var-1"').reply(304);
    const second = await auditInventory(gh, repo, SyncState.parse({ etags: first.etags, inventory: first.inventory }), null);
    expect(second.calls).toBe(3);
    expect(second.notModified).toBe(3);
    expect(second.actual).toEqual(first.actual);
  });

  test('an ETag without its cached inventory is not sent (a 304 would leave nothing to reuse)', async () => {
    nock(API)
      .get(`${R}/environments`).query(true).matchHeader('if-none-match', (v) => v === undefined).reply(200, { total_count: 0, environments: [] })
      .get(`${R}/actions/secrets`).query(true).matchHeader('if-none-match', (v) => v === undefined).reply(200, { total_count: 0, secrets: [] })
      .get(`${R}/actions/variables`).query(true).matchHeader('if-none-match', (v) => v === undefined).reply(200, { total_count: 0, variables: [] });
    const res = await auditInventory(adapter(), repo, SyncState.parse({ etags: { environments: 'x', 'secrets:repository': 'y', 'variables:repository': 'z' } }), null);
    expect(res.notModified).toBe(0);
  });

  test('variables are read 30 per page, following the Link header', async () => {
    const vars = Array.from({ length: 45 }, (_, i) => ({ name: `V${String(i).padStart(2, '0')}`, value: `v${i}`, created_at: 'c', updated_at: 'u' }));
    nock(API)
      .get(`${R}/environments`).query({ per_page: 100 }).reply(200, { total_count: 1, environments: [{ id: 1, name: 'prod', wait_timer: 0, protection_rules: [], deployment_branch_policy: null }] })
      .get(`${R}/actions/secrets`).query({ per_page: 100 }).reply(200, { total_count: 0, secrets: [] })
      .get(`${R}/actions/variables`).query({ per_page: 30 })
      .reply(200, { total_count: 45, variables: vars.slice(0, 30) }, { link: `<${API}${R}/actions/variables?per_page=30&page=2>; rel="next", <${API}${R}/actions/variables?per_page=30&page=2>; rel="last"` })
      .get(`${R}/actions/variables`).query({ per_page: 30, page: 2 }).reply(200, { total_count: 45, variables: vars.slice(30) })
      .get(`${R}/environments/prod/secrets`).query({ per_page: 100 }).reply(200, { total_count: 0, secrets: [] })
      .get(`${R}/environments/prod/variables`).query({ per_page: 30 }).reply(200, { total_count: 1, variables: [{ name: 'LEVEL', value: 'high' }] });
    const res = await auditInventory(adapter(), repo, SyncState.parse({}), null);
    expect(Object.keys(res.actual.repository.variables)).toHaveLength(45);
    expect(res.actual.environments.prod).toMatchObject({ audited: true, variables: { LEVEL: 'high' } });
  });
});

describe('apply', () => {
  const base = (clock: ReturnType<typeof fakeClock>) => ({
    repo, confirmPrune: false, dryRun: false, pace: { maxWritesPerMinute: 80 }, sleep: clock.sleep, now: clock.now,
    values: syncValueResolver({ DB_PASS: 'pw' }, () => new Uint8Array(64).fill(7)), fingerprintOf: fp,
  });

  test('a new variable is POSTed at once (the audit saw it missing); a changed one PATCHed; an environment PUT first', async () => {
    const actual = emptyActual();
    actual.repository.variables = { OLD: 'x' };
    const plan = planFor({ repository: { variables: { NEW_ONE: 'a', OLD: 'y' } }, environments: { prod: { settings: { wait_timer: 5 } } } }, actual);
    const order: string[] = [];
    nock(API)
      .put(`${R}/environments/prod`, (b) => { order.push('PUT env'); return b.wait_timer === 5; }).reply(200, { name: 'prod' })
      .post(`${R}/actions/variables`, (b) => { order.push('POST NEW_ONE'); return b.name === 'NEW_ONE' && b.value === 'a'; }).reply(201)
      .patch(`${R}/actions/variables/OLD`, (b) => { order.push('PATCH OLD'); return b.value === 'y'; }).reply(204);
    const clock = fakeClock();
    const report = await executeSync(adapter(), plan, base(clock));
    expect(order).toEqual(['PUT env', 'POST NEW_ONE', 'PATCH OLD']);
    expect(report).toMatchObject({ applied: 3, failed: 0, skipped: 0, writeAttempts: 3 });
    expect(report.results.find((r) => r.item.name === 'NEW_ONE')).toMatchObject({ status: 'applied', created: true, after_fingerprint: fp('a') });
    expect(report.results.find((r) => r.item.name === 'OLD')).toMatchObject({ created: false, before_fingerprint: fp('x'), after_fingerprint: fp('y') });
  });

  test('a variable created meanwhile (POST answers 409) is updated instead; a port without createVariable upserts', async () => {
    const plan = planFor({ repository: { variables: { RACE: 'r' } } }, emptyActual());
    nock(API)
      .post(`${R}/actions/variables`, (b) => b.name === 'RACE').reply(409, { message: 'Already exists - Variable already exists' })
      .patch(`${R}/actions/variables/RACE`, (b) => b.value === 'r').reply(204);
    const report = await executeSync(adapter(), plan, base(fakeClock()));
    expect(report.results[0]).toMatchObject({ status: 'applied', created: false });
    const gh = adapter();
    const upsertOnly = Object.assign(Object.create(gh) as GitHubAdapter, { createVariable: undefined });
    nock(API).patch(`${R}/actions/variables/RACE`).reply(404, { message: 'Not Found' }).post(`${R}/actions/variables`).reply(201);
    const fallback = await executeSync(upsertOnly, plan, base(fakeClock()));
    expect(fallback.results[0]).toMatchObject({ status: 'applied', created: true });
  });

  test('deletions wait for confirmation; external secrets escalate; nothing written for them', async () => {
    const actual = emptyActual();
    actual.repository.variables = { EXTRA: 'x' };
    const plan = planFor({ repository: { prune: true, secrets: { STRIPE: { source: 'external' } } } }, actual);
    const report = await executeSync(adapter(), plan, base(fakeClock()));
    expect(report.results.map((r) => [r.item.name, r.status])).toEqual([['STRIPE', 'skipped'], ['EXTRA', 'skipped']]);
    expect(report.writeAttempts).toBe(0);
    nock(API).delete(`${R}/actions/variables/EXTRA`).reply(204);
    const confirmed = await executeSync(adapter(), plan, { ...base(fakeClock()), confirmPrune: true });
    expect(confirmed.results.find((r) => r.item.name === 'EXTRA')).toMatchObject({ status: 'applied' });
  });

  test('a partial failure is reported and the other items still apply', async () => {
    const plan = planFor({ repository: { variables: { A: 'a', B: 'b', C: 'c' } } }, emptyActual());
    nock(API)
      .post(`${R}/actions/variables`, (b) => b.name === 'A').reply(201)
      .post(`${R}/actions/variables`, (b) => b.name === 'B').reply(500, { message: 'Server Error' })
      .post(`${R}/actions/variables`, (b) => b.name === 'C').reply(201);
    const report = await executeSync(adapter(), plan, base(fakeClock()));
    expect(report.results.map((r) => [r.item.name, r.status])).toEqual([['A', 'applied'], ['B', 'failed'], ['C', 'applied']]);
    expect(report.results[1]!.detail).toContain('Server Error');
  });

  test('a secondary rate limit (403 + retry-after) is waited out and retried', async () => {
    const plan = planFor({ repository: { variables: { A: 'a' } } }, { repository: { variables: { A: 'old' }, secrets: {} }, environments: {} });
    nock(API)
      .patch(`${R}/actions/variables/A`).reply(403, { message: 'You have exceeded a secondary rate limit. Please wait a few minutes before you try again.' }, { 'retry-after': '7' })
      .patch(`${R}/actions/variables/A`).reply(204);
    const clock = fakeClock();
    const report = await executeSync(adapter(), plan, base(clock));
    expect(report).toMatchObject({ applied: 1, failed: 0, writeAttempts: 2 });
    expect(clock.sleeps).toContain(7000);
  });

  test('100 writes are paced: they take at least one minute of (fake) time and no 60 s window holds more than 80', async () => {
    const names = Array.from({ length: 100 }, (_, i) => `V${String(i).padStart(3, '0')}`);
    const actual = emptyActual();
    for (const n of names) actual.repository.variables[n] = 'old';
    const plan = planFor({ repository: { variables: Object.fromEntries(names.map((n) => [n, 'new'])) } }, actual);
    const clock = fakeClock(1_000_000);
    const at: number[] = [];
    const scope = nock(API).patch(/\/repos\/acme\/shop\/actions\/variables\/V\d+/).times(100).reply(() => { at.push(clock.t); return [204]; });
    const report = await executeSync(adapter(), plan, base(clock));
    expect(scope.isDone()).toBe(true);
    expect(report.applied).toBe(100);
    expect(clock.t - 1_000_000).toBeGreaterThanOrEqual(60_000);
    for (let i = 80; i < at.length; i++) expect(at[i]! - at[i - 80]!).toBeGreaterThanOrEqual(60_000);
    expect(report.waitedMs).toBe(clock.t - 1_000_000);
  });
});

describe('pacer and retry-after', () => {
  test('a burst goes out at once, then one write per 750 ms', async () => {
    const clock = fakeClock();
    const p = new WritePacer({ maxWritesPerMinute: 80, burst: 3 }, clock.now, clock.sleep);
    const at: number[] = [];
    for (let i = 0; i < 5; i++) { await p.acquire(); at.push(clock.t); }
    expect(at).toEqual([0, 0, 0, 750, 1500]);
  });

  test('rateLimitRetryAfter recognises secondary limits only', () => {
    expect(rateLimitRetryAfter({ status: 403, message: 'x', response: { headers: { 'retry-after': '30' } } })).toBe(30);
    expect(rateLimitRetryAfter({ status: 403, message: 'You have exceeded a secondary rate limit', response: { headers: {} } })).toBe(60);
    expect(rateLimitRetryAfter({ status: 403, message: 'Resource not accessible by integration', response: { headers: {} } })).toBeNull();
    expect(rateLimitRetryAfter({ status: 500, message: 'x' })).toBeNull();
  });

  test('the value resolver never invents: external and unset env fail, generate uses the injected randomness', () => {
    const resolve = syncValueResolver({ SET: 'v' }, (n) => new Uint8Array(n).fill(1));
    const item = (source: SyncPlanItem['source']): SyncPlanItem => ({ op: 'add', kind: 'secret', scope: 'repository', name: 'X', reason: '', created_by_bridge: false, declared: true, source, before_fingerprint: null, after_fingerprint: null });
    expect(resolve(item({ source: 'external' }))).toHaveProperty('error');
    expect(resolve(item({ source: 'from_env', env: 'UNSET' }))).toEqual({ error: '$UNSET is not set' });
    expect(resolve(item({ source: 'from_env', env: 'SET' }))).toEqual({ value: 'v' });
    expect(resolve(item({ source: 'generate', length: 16, charset: 'hex' }))).toEqual({ value: '1'.repeat(16) });
  });
});
