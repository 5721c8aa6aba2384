import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, connect } from 'node:net';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, test } from '@jest/globals';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import type { HealJob } from '../../src/core/schemas/index.js';
import { IntakeUnavailableError, RedisIntake, type RedisIntakeOptions } from '../../src/intake/redis.js';
import { sendWebhook, startAppProcess, startSandboxProcess, type ManagedProcess } from '../../src/demo/processes.js';
import { healJob, overlapping, sleep, type Interval } from '../support/heal-jobs.js';

// The real Redis of this machine (or LIVING_BRIDGE_TEST_REDIS_URL). Each run uses its own key prefix and deletes it.
const REDIS_URL = process.env.LIVING_BRIDGE_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const PREFIX = `lbtest-${process.pid}-${randomBytes(4).toString('hex')}`;
const DOOR_PREFIX = `${PREFIX}-door`;

/** PING over a plain socket: no client library, no reconnect loop. */
function probeRedis(url: string, timeoutMs = 1500): Promise<string | null> {
  const u = new URL(url);
  return new Promise((resolve) => {
    const socket = connect({ host: u.hostname, port: Number(u.port || 6379) });
    const done = (reason: string | null) => { socket.destroy(); resolve(reason); };
    socket.setTimeout(timeoutMs, () => done(`no answer from ${u.host} within ${timeoutMs} ms`));
    socket.once('error', (err) => done(`${u.host}: ${err.message}`));
    socket.once('connect', () => socket.write(u.password ? `AUTH ${decodeURIComponent(u.password)}\r\nPING\r\n` : 'PING\r\n'));
    socket.on('data', (chunk) => { if (chunk.toString().includes('+PONG')) done(null); else if (chunk.toString().startsWith('-')) done(chunk.toString().trim()); });
  });
}

const unreachable = await probeRedis(REDIS_URL);
if (unreachable && !process.env.CI) {
  console.warn(`intake-redis: skipping the Redis tests, Redis is not reachable (${unreachable}). Start redis-server or set LIVING_BRIDGE_TEST_REDIS_URL; on CI this fails.`);
}
const describeRedis = unreachable && !process.env.CI ? describe.skip : describe;

let queueSeq = 0;
const open: RedisIntake[] = [];
/** A "replica": its own RedisIntake (own connections) on the shared queue of the current test. */
function replica(queueName: string, opts: Partial<RedisIntakeOptions> = {}): RedisIntake {
  const intake = new RedisIntake({ url: REDIS_URL, prefix: PREFIX, queueName, concurrency: 4, backoffMs: 20, repoBusyDelayMs: 20, ...opts });
  open.push(intake);
  return intake;
}

describeRedis('RedisIntake against a real Redis', () => {
  let admin: Redis;
  let q: string;

  beforeAll(async () => {
    if (unreachable) {
      throw new Error(`CI is set and Redis at ${REDIS_URL} is not reachable (${unreachable}): the Redis intake cannot be tested. Start a Redis service for this job.`);
    }
    admin = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
  });
  beforeEach(() => { q = `heal${++queueSeq}`; });
  afterEach(async () => {
    await Promise.all(open.splice(0).map((i) => i.close()));
  });
  afterAll(async () => {
    if (!admin) return;
    let cursor = '0';
    do {
      const [next, keys] = await admin.scan(cursor, 'MATCH', `${PREFIX}:*`, 'COUNT', 500);
      if (keys.length) await admin.del(...keys);
      cursor = next;
    } while (cursor !== '0');
    expect(await admin.keys(`${PREFIX}:*`)).toEqual([]);
    admin.disconnect();
  });

  test('the same delivery sent to two replicas is accepted once and run once', async () => {
    const [a, b] = [replica(q), replica(q)];
    const runs: string[] = [];
    a.start(async (job) => { runs.push(`a:${job.id}`); });
    b.start(async (job) => { runs.push(`b:${job.id}`); });
    const job = healJob({ repo: 'acme/web', run: 42 });
    const results = await Promise.all([a.submit(job), b.submit({ ...job }), a.submit({ ...job }), b.submit({ ...job })]);
    expect(results.filter((r) => r.accepted)).toHaveLength(1);
    expect(results.filter((r) => r.duplicate)).toHaveLength(3);
    await a.drain();
    await sleep(100);
    expect(runs).toHaveLength(1);
    expect(runs[0]).toMatch(new RegExp(`:${job.id}$`));
    expect(a.stats().done + b.stats().done).toBe(1);
  });

  test('the same run attempt arriving as different deliveries is accepted once', async () => {
    const [a, b] = [replica(q), replica(q)];
    const runs: HealJob[] = [];
    a.start(async (job) => { runs.push(job); });
    const first = healJob({ repo: 'acme/web', run: 77, attempt: 1 });
    const second = healJob({ repo: 'acme/web', run: 77, attempt: 1 });
    expect(first.delivery_id).not.toBe(second.delivery_id);
    const results = await Promise.all([a.submit(first), b.submit(second)]);
    expect(results.map((r) => r.accepted).sort()).toEqual([false, true]);
    // The next attempt of that run is a new failure event.
    expect(await b.submit(healJob({ repo: 'acme/web', run: 77, attempt: 2 }))).toMatchObject({ accepted: true });
    await a.drain();
    expect(runs.map((j) => j.request.run_attempt).sort()).toEqual([1, 2]);
  });

  test('one repository never runs on two replicas at once; different repositories run in parallel', async () => {
    const [a, b] = [replica(q), replica(q)];
    const intervals: Interval[] = [];
    const work = (by: string) => async (job: HealJob) => {
      const start = Date.now();
      await sleep(120);
      intervals.push({ id: job.id, repo: job.request.repository, start, end: Date.now(), by });
    };
    const jobs = [
      ...Array.from({ length: 4 }, () => healJob({ repo: 'acme/one' })),
      ...Array.from({ length: 4 }, () => healJob({ repo: 'acme/two' })),
      healJob({ repo: 'acme/three' }),
    ];
    // Submitted through both replicas, before either works, so both compete for every repository.
    for (const [i, job] of jobs.entries()) expect(await (i % 2 ? a : b).submit(job)).toMatchObject({ accepted: true });
    a.start(work('a'));
    b.start(work('b'));
    await a.drain();
    expect(intervals).toHaveLength(jobs.length);
    const sameRepo = overlapping(intervals).filter(([x, y]) => x.repo === y.repo);
    expect(sameRepo).toEqual([]);
    expect(overlapping(intervals).some(([x, y]) => x.repo !== y.repo)).toBe(true);
    // Both replicas took part (the lock, not luck, kept them apart).
    expect(new Set(intervals.map((i) => i.by))).toEqual(new Set(['a', 'b']));
  });

  test('a failing job is retried with backoff, then recorded as failed', async () => {
    const [a, b] = [replica(q, { attempts: 3 }), replica(q, { attempts: 3 })];
    const tries: number[] = [];
    const failing = async () => { tries.push(Date.now()); throw new Error('deploy API down'); };
    a.start(failing);
    b.start(failing);
    const job = healJob({ repo: 'acme/flaky' });
    await a.submit(job);
    await a.drain();
    expect(tries).toHaveLength(3);
    // Exponential backoff from 20 ms: the gaps are at least 20 and 40 ms.
    expect(tries[1]! - tries[0]!).toBeGreaterThanOrEqual(15);
    expect(tries[2]! - tries[1]!).toBeGreaterThanOrEqual(35);
    expect(a.stats().failed + b.stats().failed).toBe(1);
    expect(await a.queueCounts()).toMatchObject({ failed: 1, completed: 0, waiting: 0, delayed: 0, active: 0 });
  });

  test('a job that failed every try is a dead letter: listed, announced once, replayable with fresh tries', async () => {
    const a = replica(q, { attempts: 2 });
    const dead: string[] = [];
    let fail = true;
    const runs: string[] = [];
    a.start(async (j) => { runs.push(j.id); if (fail) throw new Error('GitHub answered 502'); }, { onDead: (d) => { dead.push(d.id); } });
    const job = healJob({ repo: 'acme/dead' });
    await a.submit(job);
    await a.drain();
    await new Promise((r) => setTimeout(r, 50));
    expect(dead).toEqual([job.id]);
    expect((await a.deadLetters()).map((d) => ({ id: d.id, attempts: d.attempts, error: d.error }))).toEqual([{ id: job.id, attempts: 2, error: 'GitHub answered 502' }]);
    expect(await a.hasDelivery(job.delivery_id)).toBe(true);
    expect(await a.hasDelivery('never-seen')).toBe(false);
    fail = false;
    expect(await a.replayDead('no-such-job')).toBe(false);
    expect(await a.replayDead(job.id)).toBe(true);
    await new Promise((r) => setTimeout(r, 50));
    await a.drain();
    expect(runs).toEqual([job.id, job.id, job.id]);
    expect(await a.deadLetters()).toEqual([]);
  });

  test('intent records are kept in Redis under the run attempt, shared by replicas', async () => {
    const [a, b] = [replica(q), replica(q)];
    await a.intents.record('acme/web#5@1', { step: 'RERUN', phase: 'begin', at: '2026-12-01T00:00:00Z' });
    await a.intents.record('acme/web#5@1', { step: 'RERUN', phase: 'done', at: '2026-12-01T00:00:01Z', data: { ok: true } });
    expect((await b.intents.read('acme/web#5@1')).map((r) => r.phase)).toEqual(['begin', 'done']);
    expect(await b.intents.read('acme/web#6@1')).toEqual([]);
  });

  test('jobs survive a replica restart', async () => {
    const first = replica(q);
    const jobs = [healJob({ repo: 'acme/a' }), healJob({ repo: 'acme/b' })];
    for (const job of jobs) await first.submit(job);
    await first.close(); // never started: the jobs are only in Redis now
    await expect(first.submit(healJob())).rejects.toBeInstanceOf(IntakeUnavailableError);

    const next = replica(q);
    const ran: string[] = [];
    next.start(async (job) => { ran.push(job.id); });
    await next.drain();
    expect(ran.sort()).toEqual(jobs.map((j) => j.id).sort());
    // And what was accepted before the restart is still a duplicate after it.
    expect(await next.submit({ ...jobs[0]! })).toMatchObject({ duplicate: true });
  });

  test('a job that is not a valid HealJob when it comes out of Redis fails without retries and never reaches the worker', async () => {
    const intake = replica(q);
    const ran: string[] = [];
    intake.start(async (job) => { ran.push(job.id); });
    const raw = new Queue(q, { connection: { url: REDIS_URL }, prefix: PREFIX });
    await raw.add('heal', { id: 'x', door: 'webhook', delivery_id: 'x', received_at: 'now', request: { repository: 'not a repo' } }, { jobId: 'tampered', attempts: 3 });
    await intake.drain();
    await raw.close();
    expect(ran).toEqual([]);
    expect(intake.stats().failed).toBe(1);
    expect(await intake.queueCounts()).toMatchObject({ failed: 1 });
  });

  test('a submit whose earlier attempt claimed the keys but never added its job is accepted (no lost redelivery)', async () => {
    const intake = replica(q, { orphanAfterMs: 0 });
    const job = healJob({ repo: 'acme/web', run: 9 });
    // What a submit leaves behind when Redis dies between the claim and the add.
    const { bullJobIdOf } = await import('../../src/intake/redis.js');
    const { dedupeKeyOf } = await import('../../src/intake/index.js');
    const marker = `${bullJobIdOf(dedupeKeyOf(job))}|${Date.now() - 60_000}`;
    await admin.set(`${PREFIX}:${q}:seen:delivery:${job.delivery_id}`, marker);
    await admin.set(`${PREFIX}:${q}:seen:run:${dedupeKeyOf(job)}`, marker);
    expect(await intake.submit(job)).toMatchObject({ accepted: true });
    expect(await intake.submit({ ...job })).toMatchObject({ duplicate: true });
  });
});

describeRedis('two App processes on one Redis', () => {
  const procs: ManagedProcess[] = [];
  afterAll(async () => {
    await Promise.all(procs.map((p) => p.stop()));
    if (unreachable) return;
    const admin = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
    const keys = await admin.keys(`${DOOR_PREFIX}:*`);
    if (keys.length) await admin.del(...keys);
    admin.disconnect();
  });

  test('the same delivery posted to both replicas is accepted by exactly one', async () => {
    if (unreachable) throw new Error(`CI is set and Redis at ${REDIS_URL} is not reachable (${unreachable})`);
    const sandbox = await startSandboxProcess();
    procs.push(sandbox);
    const secret = `whsec-${randomBytes(12).toString('hex')}`;
    const env = { REDIS_URL, LIVING_BRIDGE_REDIS_PREFIX: DOOR_PREFIX, WEBHOOK_SECRET: secret };
    const [a, b] = await Promise.all([startAppProcess(sandbox.url, env), startAppProcess(sandbox.url, env)]);
    procs.push(a, b);
    const payload = { action: 'completed', workflow_run: { id: 31337, run_attempt: 1, conclusion: 'failure' }, repository: { full_name: 'acme/replicas' }, installation: { id: 1 } };
    const deliveryId = randomUUID();
    const answers = await Promise.all([a, b, a, b].map((app) => sendWebhook(app.url, secret, 'workflow_run', payload, { deliveryId })));
    expect(answers.map((r) => r.status)).toEqual([202, 202, 202, 202]);
    expect(answers.filter((r) => (r.body as { duplicate?: boolean }).duplicate === false)).toHaveLength(1);
    // A new delivery about the same run attempt is the same failure event.
    const again = await sendWebhook(b.url, secret, 'workflow_run', payload);
    expect(again.body).toMatchObject({ duplicate: true });
  });
});

describe('RedisIntake when Redis is down', () => {
  let deadUrl: string;
  beforeAll(async () => {
    // A port that was free a moment ago: nothing listens there.
    const srv = createServer();
    await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
    deadUrl = `redis://127.0.0.1:${(srv.address() as { port: number }).port}`;
    await new Promise<void>((resolve) => srv.close(() => resolve()));
  });

  test('submit throws IntakeUnavailableError quickly instead of accepting', async () => {
    const intake = new RedisIntake({ url: deadUrl, prefix: PREFIX, submitTimeoutMs: 1000 });
    const t0 = Date.now();
    await expect(intake.submit(healJob())).rejects.toBeInstanceOf(IntakeUnavailableError);
    expect(Date.now() - t0).toBeLessThan(2000);
    await intake.close();
  });

  test('the webhook door answers 503 so GitHub keeps the delivery as failed', async () => {
    // A real app process: Probot also opens its own Redis clients for REDIS_URL (clustered throttling), which
    // an in-process app could not close while Redis is down.
    const app = await startAppProcess('http://127.0.0.1:9', { REDIS_URL: deadUrl, LOG_LEVEL: 'warn' });
    try {
      const payload = { action: 'completed', workflow_run: { id: 5, run_attempt: 1, conclusion: 'failure' }, repository: { full_name: 'acme/web' }, installation: { id: 1 } };
      const res = await sendWebhook(app.url, app.webhookSecret, 'workflow_run', payload);
      expect(res.status).toBe(503);
      expect(res.body).toEqual({ error: 'queue unavailable' });
      const api = await fetch(`${app.url}/api/autonomy/incident`, {
        method: 'POST',
        headers: { authorization: `Bearer ${app.apiToken}`, 'content-type': 'application/json' },
        body: JSON.stringify({ repository: 'acme/web', run_id: 6 }),
      });
      expect(api.status).toBe(503);
      expect(await api.json()).toEqual({ error: 'queue unavailable' });
      expect(app.output()).toMatch(/intake refused the job/);
    } finally {
      await app.stop();
    }
  });
});
