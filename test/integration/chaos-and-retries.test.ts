/** Sandbox faults at a rate (seeded), and the retry floor: 403/429/5xx retried whether pacing is on or off; every request times out. */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { livingBridgeProbotOctokit } from '../../src/app/octokit.js';
import { createOctokit } from '../../src/github/index.js';
import { SANDBOX_ADMIN_TOKEN, seedScenario, startSandbox, type Sandbox } from '../../src/sandbox/index.js';

let sb: Sandbox;
beforeAll(async () => {
  sb = await startSandbox();
  seedScenario(sb.state, 'missing-secret', 'acme');
});
afterAll(() => sb.close());
afterEach(() => sb.state.chaos.clear());

const control = async (body: unknown) => {
  const res = await fetch(`${sb.url}/_sandbox/chaos`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
};
const api = (path: string, init: RequestInit = {}) =>
  fetch(`${sb.apiUrl}${path}`, { ...init, headers: { authorization: `token ${SANDBOX_ADMIN_TOKEN}`, 'content-type': 'application/json' } });

describe('sandbox faults at a rate', () => {
  test('the same seed injects the same faults in the same order; rate 0 stops them', async () => {
    const sequence = async () => {
      expect((await control({ rate: 0.5, seed: 42, kinds: ['5xx', '429', 'secondary-rate-limit'] })).status).toBe(200);
      const statuses: number[] = [];
      for (let i = 0; i < 30; i++) statuses.push((await api('/repos/acme/missing-secret')).status);
      return statuses;
    };
    const first = await sequence();
    const second = await sequence();
    expect(second).toEqual(first);
    expect(first.filter((s) => s !== 200).length).toBeGreaterThan(5);
    expect(first.filter((s) => s === 200).length).toBeGreaterThan(5);
    const state = await (await fetch(`${sb.url}/_sandbox/chaos`)).json() as { considered: number; injected: Record<string, number> };
    expect(state.considered).toBe(30);
    expect(Object.values(state.injected).reduce((a, b) => a + b, 0)).toBe(first.filter((s) => s !== 200).length);
    await control({ rate: 0 });
    expect((await api('/repos/acme/missing-secret')).status).toBe(200);
  });

  test('a 429 and a secondary rate limit carry retry-after; control routes are never faulted', async () => {
    await control({ rate: 1, seed: 7, kinds: ['429'] });
    const res = await api('/repos/acme/missing-secret');
    expect(res.status).toBe(429);
    expect(res.headers.get('retry-after')).toBe('1');
    expect((await fetch(`${sb.url}/_sandbox/health`)).status).toBe(200);
    await control({ rate: 1, seed: 7, kinds: ['secondary-rate-limit'] });
    const limited = await api('/repos/acme/missing-secret');
    expect(limited.status).toBe(403);
    expect(((await limited.json()) as { message: string }).message).toMatch(/secondary rate limit/);
  });

  test('"5xx after the write took effect": the variable exists although the answer was 502', async () => {
    await control({ rate: 1, seed: 3, kinds: ['write-then-5xx'] });
    const res = await api('/repos/acme/missing-secret/actions/variables', { method: 'POST', body: JSON.stringify({ name: 'LOST_ANSWER', value: 'x' }) });
    expect(res.status).toBe(502);
    expect(sb.state.getVariable('acme', 'missing-secret', 'LOST_ANSWER')?.value).toBe('x');
  });

  test('a dropped connection gets no answer at all', async () => {
    await control({ rate: 1, seed: 3, kinds: ['drop'] });
    await expect(api('/repos/acme/missing-secret')).rejects.toThrow();
  });

  test('a ledger CAS race: another writer moved the branch, the update is not a fast forward', async () => {
    const head = sb.state.headSha('acme', 'missing-secret');
    await control({ rate: 1, seed: 3, kinds: ['cas-race'] });
    const res = await api('/repos/acme/missing-secret/git/refs/heads/main', { method: 'PATCH', body: JSON.stringify({ sha: head }) });
    expect(res.status).toBe(422);
    expect(sb.state.headSha('acme', 'missing-secret')).not.toBe(head);
  });

  test('bad control input is a 422 that names the field', async () => {
    expect((await control({ rate: 2 })).status).toBe(422);
    const bad = await control({ rate: 0.1, kinds: ['meteor'] });
    expect(bad.status).toBe(422);
    expect(String(bad.body.message)).toMatch(/kinds/);
  });
});

describe('retries with a floor', () => {
  for (const pacing of [true, false]) {
    test(`pacing ${pacing ? 'on' : 'off'}: a secondary rate limit (403 retry-after) and a 502 are retried`, async () => {
      const octokit = createOctokit({ auth: SANDBOX_ADMIN_TOKEN, baseUrl: sb.apiUrl, pacing, throttle: { retryAfterBaseValue: 1 }, retry: { retryAfterBaseValue: 1 } });
      sb.state.chaos.secondaryRateLimitOnce('GET /repos/{owner}/{repo}');
      await expect(octokit.request('GET /repos/{owner}/{repo}', { owner: 'acme', repo: 'missing-secret' })).resolves.toMatchObject({ status: 200 });
      sb.state.chaos.failNext('GET /repos/{owner}/{repo}', 502);
      await expect(octokit.request('GET /repos/{owner}/{repo}', { owner: 'acme', repo: 'missing-secret' })).resolves.toMatchObject({ status: 200 });
    });

    test(`Probot's Octokit, pacing ${pacing ? 'on' : 'off'}: a secondary rate limit is retried`, async () => {
      const Probot = livingBridgeProbotOctokit({ pacing, timeoutMs: 5000 });
      const octokit = new Probot({ auth: { token: SANDBOX_ADMIN_TOKEN }, baseUrl: sb.apiUrl, throttle: { retryAfterBaseValue: 1 }, retry: { retryAfterBaseValue: 1 } } as never);
      sb.state.chaos.secondaryRateLimitOnce('GET /repos/{owner}/{repo}');
      await expect(octokit.request('GET /repos/{owner}/{repo}', { owner: 'acme', repo: 'missing-secret' })).resolves.toMatchObject({ status: 200 });
    });
  }

  test('an exhausted hourly budget (429, remaining 0, reset in an hour) is not slept through: the request fails at once with the 429', async () => {
    const limited = createServer((_req, res) => {
      res.writeHead(429, { 'content-type': 'application/json', 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': String(Math.floor(Date.now() / 1000) + 3600) });
      res.end(JSON.stringify({ message: 'API rate limit exceeded' }));
    });
    await new Promise<void>((r) => limited.listen(0, '127.0.0.1', () => r()));
    try {
      const baseUrl = `http://127.0.0.1:${(limited.address() as AddressInfo).port}`;
      const started = Date.now();
      await expect(createOctokit({ baseUrl, retry: { retries: 0 } }).request('GET /repos/{owner}/{repo}', { owner: 'a', repo: 'b' })).rejects.toMatchObject({ status: 429 });
      const Probot = livingBridgeProbotOctokit({ pacing: false, timeoutMs: 5000 });
      await expect(new Probot({ auth: { token: 't' }, baseUrl, retry: { retries: 0 } } as never).request('GET /repos/{owner}/{repo}', { owner: 'a', repo: 'b' })).rejects.toMatchObject({ status: 429 });
      expect(Date.now() - started).toBeLessThan(10_000);
    } finally {
      limited.close();
    }
  });

  test('a request that hangs times out (and is retried, then fails) instead of waiting forever', async () => {
    let hits = 0;
    const hang: Server = createServer(() => { hits++; });
    await new Promise<void>((r) => hang.listen(0, '127.0.0.1', () => r()));
    try {
      const octokit = createOctokit({ baseUrl: `http://127.0.0.1:${(hang.address() as AddressInfo).port}`, timeoutMs: 200, retry: { retries: 1, retryAfterBaseValue: 1 } });
      const started = Date.now();
      await expect(octokit.request('GET /repos/{owner}/{repo}', { owner: 'a', repo: 'b' })).rejects.toMatchObject({ status: 500 });
      expect(Date.now() - started).toBeLessThan(5000);
      expect(hits).toBe(2);
    } finally {
      hang.closeAllConnections();
      hang.close();
    }
  });
});
