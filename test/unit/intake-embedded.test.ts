import { appendFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, jest, test } from '@jest/globals';
import type { Logger } from 'pino';
import type { HealJob } from '../../src/core/schemas/index.js';
import { EmbeddedIntake, dedupeKeyOf } from '../../src/intake/index.js';
import { healJob, overlapping, sleep, type Interval } from '../support/heal-jobs.js';

const fakeLog = () => ({ warn: jest.fn(), info: jest.fn(), error: jest.fn() });

describe('dedupeKeyOf', () => {
  test('a run attempt is the key; dry runs are their own; incidents without a run fall back to the delivery', () => {
    const a = healJob({ repo: 'acme/web', run: 7, attempt: 2 });
    expect(dedupeKeyOf(a)).toBe('acme/web#7@2');
    expect(dedupeKeyOf(healJob({ repo: 'acme/web', run: 7, attempt: 2, dryRun: true }))).toBe('acme/web#7@2:dry');
    const inc = healJob({ incident: true, delivery: 'api-1' });
    expect(dedupeKeyOf(inc)).toBe('delivery:api-1');
  });
});

describe('EmbeddedIntake', () => {
  let dir: string;
  beforeEach(() => { dir = mkdtempSync(path.join(os.tmpdir(), 'intake-embedded-')); });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  test('de-duplicates by delivery id and by run attempt', async () => {
    const intake = new EmbeddedIntake();
    const first = healJob({ delivery: 'x1', run: 5 });
    expect(await intake.submit(first)).toEqual({ accepted: true, duplicate: false, id: first.id });
    // GitHub redelivers the same delivery.
    expect(await intake.submit({ ...first })).toMatchObject({ accepted: false, duplicate: true });
    // A different delivery about the same run attempt (e.g. the API door) is the same failure event.
    expect(await intake.submit(healJob({ delivery: 'x2', run: 5 }))).toMatchObject({ accepted: false, duplicate: true });
    // The next attempt of that run is a new event; a delivery id once seen stays seen, whatever it carries.
    expect(await intake.submit(healJob({ delivery: 'x3', run: 5, attempt: 2 }))).toMatchObject({ accepted: true });
    expect(await intake.submit(healJob({ delivery: 'x1', run: 6 }))).toMatchObject({ accepted: false, duplicate: true });
    expect(intake.stats()).toEqual({ pending: 2, running: 0, done: 0, failed: 0, dead: 0 });
  });

  test('one repository at a time, in order; different repositories in parallel; drain waits for all', async () => {
    const intake = new EmbeddedIntake({ concurrency: 4 });
    const intervals: Interval[] = [];
    const jobs = [
      healJob({ repo: 'acme/a' }), healJob({ repo: 'acme/a' }), healJob({ repo: 'acme/b' }),
      healJob({ repo: 'acme/a' }), healJob({ repo: 'acme/b' }), healJob({ repo: 'acme/c' }),
    ];
    for (const j of jobs) await intake.submit(j);
    intake.start(async (job) => {
      const start = Date.now();
      await sleep(40);
      intervals.push({ id: job.id, repo: job.request.repository, start, end: Date.now() });
    });
    await intake.drain();
    expect(intervals).toHaveLength(jobs.length);
    expect(intake.stats()).toEqual({ pending: 0, running: 0, done: 6, failed: 0, dead: 0 });
    const sameRepo = overlapping(intervals).filter(([a, b]) => a.repo === b.repo);
    expect(sameRepo).toEqual([]);
    expect(overlapping(intervals).some(([a, b]) => a.repo !== b.repo)).toBe(true);
    // In submission order within a repository.
    const order = (repo: string) => intervals.filter((i) => i.repo === repo).sort((x, y) => x.start - y.start).map((i) => i.id);
    expect(order('acme/a')).toEqual(jobs.filter((j) => j.request.repository === 'acme/a').map((j) => j.id));
  });

  test('a burst into one busy repository queues behind it; a job of another repository still starts at once; order kept', async () => {
    const intake = new EmbeddedIntake({ concurrency: 2 });
    const started: string[] = [];
    const release = new Map<string, () => void>();
    intake.start((job) => new Promise<void>((resolve) => {
      started.push(`${job.request.repository}#${job.request.run_id}`);
      release.set(`${job.request.repository}#${job.request.run_id}`, resolve);
    }));
    await intake.submit(healJob({ repo: 'acme/busy', run: 1 }));
    for (let run = 2; run <= 50; run++) await intake.submit(healJob({ repo: 'acme/busy', run }));
    expect(started).toEqual(['acme/busy#1']);
    expect(intake.stats()).toMatchObject({ pending: 49, running: 1 });
    // Another repository is not held up by the busy one's backlog.
    await intake.submit(healJob({ repo: 'acme/other', run: 1 }));
    expect(started).toEqual(['acme/busy#1', 'acme/other#1']);
    // When the busy repository's job ends, its next one (in order) starts.
    release.get('acme/busy#1')!();
    await sleep(10);
    expect(started.at(-1)).toBe('acme/busy#2');
    release.get('acme/other#1')!();
    await sleep(10);
    // The slot freed by acme/other finds nothing runnable (acme/busy is busy): still one busy job running.
    expect(intake.stats()).toMatchObject({ running: 1, pending: 48 });
    for (let run = 2; run <= 50; run++) {
      while (!release.has(`acme/busy#${run}`)) await sleep(1);
      release.get(`acme/busy#${run}`)!();
    }
    await intake.drain();
    expect(started.filter((s) => s.startsWith('acme/busy'))).toEqual(Array.from({ length: 50 }, (_, i) => `acme/busy#${i + 1}`));
    expect(intake.stats()).toMatchObject({ pending: 0, running: 0, done: 51 });
  });

  test('a failing job (one try) is counted failed and does not stop the queue; drain resolves when nothing is queued', async () => {
    const log = fakeLog();
    const intake = new EmbeddedIntake({ log: log as unknown as Logger, attempts: 1 });
    await intake.drain(); // nothing submitted: resolves at once
    const bad = healJob({ repo: 'acme/a' });
    const good = healJob({ repo: 'acme/a' });
    await intake.submit(bad);
    await intake.submit(good);
    const seen: string[] = [];
    intake.start(async (job) => {
      seen.push(job.id);
      if (job.id === bad.id) throw new Error('boom');
    });
    await intake.drain();
    expect(seen).toEqual([bad.id, good.id]);
    expect(intake.stats()).toMatchObject({ done: 1, failed: 1, pending: 0, running: 0 });
    expect(log.error).toHaveBeenCalled();
    await intake.close();
    await expect(intake.submit(healJob())).rejects.toThrow(/closed/);
  });

  test('journal replay after a crash: accepted-but-unfinished jobs run again, finished ones do not, a torn last line is skipped', async () => {
    const journal = path.join(dir, 'data', 'intake.jsonl');
    const [a, b, c] = [healJob({ repo: 'acme/a' }), healJob({ repo: 'acme/b' }), healJob({ repo: 'acme/c' })] as [HealJob, HealJob, HealJob];

    // First life: a finishes, b and c are accepted; the process dies mid-write.
    const first = new EmbeddedIntake({ journalPath: journal });
    for (const j of [a, b, c]) await first.submit(j);
    appendFileSync(journal, `${JSON.stringify({ t: 'done', id: a.id, ok: true })}\n`);
    appendFileSync(journal, '{"t":"done","id":"' + b.id); // torn: no end, no newline

    // Second life.
    const log = fakeLog();
    const second = new EmbeddedIntake({ journalPath: journal, log: log as unknown as Logger });
    expect(log.warn).toHaveBeenCalledTimes(1);
    expect(second.stats().pending).toBe(2);
    // What was seen stays seen: a redelivery of a finished or replayed job is a duplicate.
    expect(await second.submit({ ...a })).toMatchObject({ duplicate: true });
    expect(await second.submit(healJob({ delivery: 'other', repo: 'acme/b', run: b.request.run_id }))).toMatchObject({ duplicate: true });
    // Accepted after the restart: its journal entry is the first one written after the torn line.
    const d = healJob({ repo: 'acme/d' });
    expect(await second.submit(d)).toMatchObject({ accepted: true });
    const ran: string[] = [];
    second.start(async (job) => {
      ran.push(job.id);
      if (job.id === d.id) await new Promise<never>(() => undefined); // the process dies while d runs
    });
    await sleep(50);
    expect(ran.sort()).toEqual([b.id, c.id, d.id].sort());
    expect(second.stats()).toMatchObject({ done: 2, running: 1 });

    // Third life: d's entry was not glued to the torn line and lost with it: d is replayed, b and c are not.
    const third = new EmbeddedIntake({ journalPath: journal });
    expect(await third.submit({ ...d })).toMatchObject({ duplicate: true });
    const ranAgain: string[] = [];
    third.start(async (job) => { ranAgain.push(job.id); });
    await third.drain();
    expect(ranAgain).toEqual([d.id]);
    const lines = readFileSync(journal, 'utf8').split('\n').filter(Boolean);
    expect(lines.filter((l) => { try { JSON.parse(l); return false; } catch { return true; } })).toEqual(['{"t":"done","id":"' + b.id]);
  });

  test('an unfinished job whose worker crashed mid-run is replayed', async () => {
    const journal = path.join(dir, 'intake.jsonl');
    const job = healJob();
    writeFileSync(journal, `${JSON.stringify({ t: 'submitted', job })}\n`);
    const intake = new EmbeddedIntake({ journalPath: journal });
    const ran: string[] = [];
    intake.start(async (j) => { ran.push(j.id); });
    await intake.drain();
    expect(ran).toEqual([job.id]);
  });

  test('a failing job is retried with backoff, then dead-lettered (journaled, listed, replayable, kept across a restart)', async () => {
    const journal = path.join(dir, 'intake.jsonl');
    const onDead = jest.fn((_d: unknown) => undefined);
    const first = new EmbeddedIntake({ journalPath: journal, attempts: 3, backoffMs: 20 });
    const job = healJob({ repo: 'acme/a' });
    await first.submit(job);
    const tries: number[] = [];
    first.start(async () => {
      tries.push(Date.now());
      throw new Error('GitHub answered 502');
    }, { onDead });
    await first.drain();
    expect(tries).toHaveLength(3);
    // Backoff doubles: ~20 ms, then ~40 ms.
    expect(tries[1]! - tries[0]!).toBeGreaterThanOrEqual(15);
    expect(tries[2]! - tries[1]!).toBeGreaterThanOrEqual(35);
    expect(onDead).toHaveBeenCalledTimes(1);
    expect(onDead.mock.calls[0]![0]).toMatchObject({ id: job.id, attempts: 3, error: 'GitHub answered 502', repository: 'acme/a' });
    expect(first.stats()).toMatchObject({ failed: 1, dead: 1, pending: 0 });

    // A restart keeps the dead letter (not replayed by itself), and a redelivery stays a duplicate.
    const second = new EmbeddedIntake({ journalPath: journal, attempts: 1 });
    expect((await second.deadLetters()).map((d) => d.id)).toEqual([job.id]);
    expect(await second.submit({ ...job })).toMatchObject({ duplicate: true });
    const ran: string[] = [];
    second.start(async (j) => { ran.push(j.id); });
    await second.drain();
    expect(ran).toEqual([]);
    expect(await second.replayDead('no-such-job')).toBe(false);
    expect(await second.replayDead(job.id)).toBe(true);
    await second.drain();
    expect(ran).toEqual([job.id]);
    expect(await second.deadLetters()).toEqual([]);
    const third = new EmbeddedIntake({ journalPath: journal });
    expect(await third.deadLetters()).toEqual([]);
    expect(third.stats().pending).toBe(0);
  });

  test('intent records survive a restart while the job is unfinished and are dropped once it is done', async () => {
    const journal = path.join(dir, 'intake.jsonl');
    const job = healJob({ repo: 'acme/a', run: 11 });
    const first = new EmbeddedIntake({ journalPath: journal });
    await first.submit(job);
    await first.intents.record('acme/a#11@1', { step: 'CREATE_SECRET', phase: 'begin', at: '2026-12-01T00:00:00Z', data: { fingerprint: 'f' } });
    const second = new EmbeddedIntake({ journalPath: journal });
    expect(await second.intents.read('acme/a#11@1')).toEqual([{ step: 'CREATE_SECRET', phase: 'begin', at: '2026-12-01T00:00:00Z', data: { fingerprint: 'f' } }]);
    second.start(async () => undefined);
    await second.drain();
    const third = new EmbeddedIntake({ journalPath: journal });
    expect(await third.intents.read('acme/a#11@1')).toEqual([]);
  });

  test('compaction: finished jobs older than the window are dropped, newer ones shrink to their keys, live jobs stay whole', async () => {
    const journal = path.join(dir, 'intake.jsonl');
    let now = Date.parse('2026-12-01T00:00:00Z');
    const lines: string[] = [];
    for (let i = 0; i < 3000; i++) {
      const j = healJob({ repo: 'acme/old', run: 1000 + i, delivery: `old-${i}` });
      lines.push(JSON.stringify({ t: 'submitted', id: j.id, at: now - 9 * 86_400_000, job: j }), JSON.stringify({ t: 'done', id: j.id, ok: true, at: now - 9 * 86_400_000 }));
    }
    const recent = healJob({ repo: 'acme/new', run: 1, delivery: 'recent' });
    const live = healJob({ repo: 'acme/live', run: 2, delivery: 'live' });
    lines.push(JSON.stringify({ t: 'submitted', id: recent.id, at: now - 3600_000, job: recent }), JSON.stringify({ t: 'done', id: recent.id, ok: true, at: now - 3600_000 }));
    lines.push(JSON.stringify({ t: 'submitted', id: live.id, at: now - 60_000, job: live }));
    writeFileSync(journal, `${lines.join('\n')}\n`);
    const intake = new EmbeddedIntake({ journalPath: journal, compactAfterLines: 1000, now: () => now });
    const kept = readFileSync(journal, 'utf8').split('\n').filter(Boolean);
    expect(kept).toHaveLength(2);
    expect(kept.map((l) => (JSON.parse(l) as { t: string }).t).sort()).toEqual(['seen', 'submitted']);
    // Inside the window a redelivery is still a duplicate; an old delivery id is not remembered.
    expect(await intake.submit({ ...recent })).toMatchObject({ duplicate: true });
    expect(await intake.hasDelivery('recent')).toBe(true);
    expect(await intake.hasDelivery('old-1')).toBe(false);
    expect(intake.stats().pending).toBe(1);
    // Later, the recent job's keys age out too.
    now += 8 * 86_400_000;
    intake.compact();
    expect(await intake.hasDelivery('recent')).toBe(false);
  });
});
