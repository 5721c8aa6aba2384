import { appendFileSync, closeSync, existsSync, mkdirSync, openSync, readSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Logger } from 'pino';
import { HealJob } from '../core/schemas/index.js';
import { FinishedJobs, MAX_FINISHED_STATUS, heldStatus } from './job-status.js';
import { scanJournal, type JournalLine } from './journal-scan.js';
import { deadLetterOf, dedupeKeyOf, type DeadLetter, type Intake, type IntentRecord, type IntentStore, type JobStatus, type JobWorker, type SubmitResult, type WorkerHooks } from './types.js';

export * from './types.js';

const DAY_MS = 24 * 60 * 60 * 1000;

export interface EmbeddedIntakeOptions {
  /** JSON-lines journal; without it the queue lives in memory only. */
  journalPath?: string;
  /** Jobs run at once (different repositories; one repository never runs twice at once). Default 2. */
  concurrency?: number;
  /** Tries per job, the first included (like the Redis intake). Default 3. */
  attempts?: number;
  /** First retry delay; doubles on each further retry. Default 5000. */
  backoffMs?: number;
  /** How long a delivery id and a run attempt are remembered as seen (the Redis intake's dedupe TTL). Default 7 days. */
  dedupeWindowMs?: number;
  /** Rewrite the journal (dropping what the window no longer needs) after this many appended lines. Default 10 000. */
  compactAfterLines?: number;
  now?: () => number;
  log?: Logger;
}

interface Tracked { job: HealJob; tries: number; submittedAt: number; error?: string }

/**
 * An in-process queue with an append-only JSON-lines journal: what was accepted and not finished
 * when the process stopped is replayed on the next start, so a 202 is a promise kept.
 *
 * - A job that throws is tried again with exponential backoff; after its last try it goes to the
 *   dead-letter list (journaled, listed by `deadLetters()`, replayable with `replayDead`).
 * - The journal is compacted: finished jobs older than the de-duplication window are dropped, and
 *   finished jobs inside it shrink to their two de-duplication keys. A long-running App's journal and
 *   memory stay bounded by the window, not by its whole history.
 */
export class EmbeddedIntake implements Intake {
  private readonly queue: Tracked[] = [];
  /** Seen delivery ids → their run key and when (ms) their job was submitted or finished; dropped after the window. */
  private readonly seenDeliveries = new Map<string, { k: string; at: number }>();
  private readonly seenKeys = new Map<string, number>();
  private readonly live = new Map<string, Tracked>();
  private readonly dead = new Map<string, DeadLetter>();
  private readonly intentLog = new Map<string, IntentRecord[]>();
  private readonly busyRepos = new Set<string>();
  private readonly runningIds = new Set<string>();
  private readonly finished = new FinishedJobs();
  private readonly timers = new Set<NodeJS.Timeout>();
  private worker: JobWorker | null = null;
  private hooks: WorkerHooks = {};
  private running = 0;
  private waiting = 0;
  private done = 0;
  private failed = 0;
  private appended = 0;
  private idleWaiters: (() => void)[] = [];
  /** The last look through the queue found every queued job's repository busy (see pump). */
  private stalled = false;
  private closed = false;
  readonly intents: IntentStore;

  constructor(private readonly opts: EmbeddedIntakeOptions = {}) {
    if (opts.journalPath) this.replay(opts.journalPath);
    this.intents = {
      record: async (key, rec) => {
        this.intentLog.set(key, [...(this.intentLog.get(key) ?? []), rec]);
        this.journal({ t: 'intent', key, rec });
      },
      read: async (key) => [...(this.intentLog.get(key) ?? [])],
    };
  }

  private now(): number {
    return this.opts.now?.() ?? Date.now();
  }

  private get window(): number {
    return this.opts.dedupeWindowMs ?? 7 * DAY_MS;
  }

  private replay(path: string): void {
    if (!existsSync(path)) {
      mkdirSync(dirname(path), { recursive: true });
      return;
    }
    // End a torn last line, or the next entry appended would be glued to it and lost with it.
    const size = statSync(path).size;
    if (size > 0) {
      const last = Buffer.alloc(1);
      const fd = openSync(path, 'r');
      readSync(fd, last, 0, 1, size - 1);
      closeSync(fd);
      if (last[0] !== 0x0a) appendFileSync(path, '\n');
    }
    // One pass over the bytes: finished jobs older than the window are never parsed (journal-scan.ts).
    const horizon = this.now() - this.window;
    const pending: Tracked[] = [];
    const unreadable = (line: number) => this.opts.log?.warn({ line: line + 1, path }, 'skipping unreadable intake journal line');
    const scanOptions = { horizon, now: () => this.now(), keepDone: MAX_FINISHED_STATUS, onUnreadable: unreadable, onDone: (e: Extract<JournalLine, { t: 'done' }>) => { if (e.repo) this.finished.remember(e.id, e.repo, e.r); } };
    const lineCount = scanJournal(path, scanOptions, (entry, doneAt) => {
      try {
        switch (entry.t) {
          case 'submitted': {
            const at = doneAt ?? entry.at ?? this.now();
            if (at < horizon) break;
            this.markSeen(entry.job, at);
            if (doneAt === undefined) pending.push({ job: HealJob.parse(entry.job), tries: 0, submittedAt: entry.at ?? this.now() });
            break;
          }
          case 'seen':
            if (entry.at < horizon) break;
            this.seenDeliveries.set(entry.d, { k: entry.k, at: entry.at });
            this.seenKeys.set(entry.k, entry.at);
            break;
          case 'retry': {
            const p = pending.find((x) => x.job.id === entry.id);
            if (p) p.tries = entry.tries;
            break;
          }
          case 'dead': {
            const idx = pending.findIndex((x) => x.job.id === entry.id);
            if (idx >= 0) {
              const [p] = pending.splice(idx, 1) as [Tracked];
              this.dead.set(entry.id, deadLetterOf(p.job, entry.tries, entry.error, new Date(entry.at)));
            }
            break;
          }
          case 'revive': {
            const d = this.dead.get(entry.id);
            if (d) {
              this.dead.delete(entry.id);
              pending.push({ job: d.job, tries: 0, submittedAt: entry.at });
            }
            break;
          }
          case 'intent':
            this.intentLog.set(entry.key, [...(this.intentLog.get(entry.key) ?? []), entry.rec]);
            break;
        }
      } catch {
        this.opts.log?.warn({ path, type: entry.t }, 'skipping an invalid intake journal entry');
      }
    });
    for (const p of pending) {
      this.live.set(p.job.id, p);
      this.queue.push(p);
    }
    // Intents of finished jobs are history the ledger already holds.
    const liveKeys = new Set([...pending, ...[...this.dead.values()].map((d) => ({ job: d.job }))].map((p) => dedupeKeyOf(p.job)));
    for (const key of [...this.intentLog.keys()]) if (!liveKeys.has(key)) this.intentLog.delete(key);
    if (this.queue.length) this.opts.log?.info({ replayed: this.queue.length }, 'replaying unfinished heal jobs');
    if (this.dead.size) this.opts.log?.warn({ dead: this.dead.size }, 'dead-lettered heal jobs are waiting for `living-bridge incidents replay <id>`');
    if (lineCount > (this.opts.compactAfterLines ?? 10_000)) this.compact();
  }

  /** Rewrites the journal with only what a restart needs: live and dead jobs, their intents, and the window's seen keys. */
  compact(): void {
    const path = this.opts.journalPath;
    if (!path) return;
    const horizon = this.now() - this.window;
    const kept = [...this.live.values()].map((p) => p.job).concat([...this.dead.values()].map((d) => d.job));
    const keptDeliveries = new Set(kept.map((j) => j.delivery_id));
    for (const [d, seen] of this.seenDeliveries) if (seen.at < horizon && !keptDeliveries.has(d)) this.seenDeliveries.delete(d);
    const keptKeys = new Set(kept.map((j) => dedupeKeyOf(j)));
    for (const [k, at] of this.seenKeys) if (at < horizon && !keptKeys.has(k)) this.seenKeys.delete(k);
    const out: string[] = [];
    for (const [d, seen] of this.seenDeliveries) if (!keptDeliveries.has(d)) out.push(JSON.stringify({ t: 'seen', d, k: seen.k, at: seen.at }));
    for (const p of this.live.values()) {
      out.push(JSON.stringify({ t: 'submitted', id: p.job.id, at: p.submittedAt, job: p.job }));
      if (p.tries > 0) out.push(JSON.stringify({ t: 'retry', id: p.job.id, tries: p.tries, error: 'before compaction', at: p.submittedAt }));
    }
    for (const d of this.dead.values()) {
      out.push(JSON.stringify({ t: 'submitted', id: d.id, at: Date.parse(d.failed_at), job: d.job }));
      out.push(JSON.stringify({ t: 'dead', id: d.id, tries: d.attempts, error: d.error, at: Date.parse(d.failed_at) }));
    }
    for (const [key, recs] of this.intentLog) for (const rec of recs) out.push(JSON.stringify({ t: 'intent', key, rec }));
    // Write aside and rename: a crash mid-compaction leaves the old journal whole.
    const tmp = `${path}.compact`;
    writeFileSync(tmp, out.length ? `${out.join('\n')}\n` : '');
    renameSync(tmp, path);
    this.appended = 0;
  }

  /** From memory: what is live or dead, and the most recent finished jobs (also replayed from the journal's `done` lines). */
  async status(id: string): Promise<JobStatus | null> {
    return heldStatus(this.live.get(id), this.runningIds.has(id), this.dead.get(id)) ?? this.finished.status(id);
  }

  private markSeen(job: HealJob, at: number): void {
    const k = dedupeKeyOf(job);
    this.seenDeliveries.set(job.delivery_id, { k, at });
    this.seenKeys.set(k, at);
  }

  private journal(entry: JournalLine): void {
    if (!this.opts.journalPath) return;
    appendFileSync(this.opts.journalPath, `${JSON.stringify(entry)}\n`);
    if (++this.appended >= (this.opts.compactAfterLines ?? 10_000)) this.compact();
  }

  async submit(job: HealJob): Promise<SubmitResult> {
    if (this.closed) throw new Error('intake is closed');
    const key = dedupeKeyOf(job);
    const horizon = this.now() - this.window;
    if ((this.seenDeliveries.get(job.delivery_id)?.at ?? -Infinity) >= horizon || (this.seenKeys.get(key) ?? -Infinity) >= horizon) {
      return { accepted: false, duplicate: true, id: job.id };
    }
    const at = this.now();
    this.markSeen(job, at);
    const tracked: Tracked = { job, tries: 0, submittedAt: at };
    this.journal({ t: 'submitted', id: job.id, at, job });
    this.live.set(job.id, tracked);
    this.queue.push(tracked);
    this.pump(tracked);
    return { accepted: true, duplicate: false, id: job.id };
  }

  start(worker: JobWorker, hooks: WorkerHooks = {}): void {
    this.worker = worker;
    this.hooks = hooks;
    this.pump();
  }

  /**
   * Starts queued jobs while there is room. `added`: the one job just queued. When the last look found
   * nothing runnable and the new job's repository is busy too, nothing can have become runnable (a
   * repository stops being busy only when its job ends, which pumps without `added`): the queue is not
   * searched again, so a burst into one repository costs O(1) per delivery, not O(queue).
   */
  private pump(added?: Tracked): void {
    if (!this.worker || this.closed) return;
    if (added && this.stalled && this.busyRepos.has(added.job.request.repository)) return this.notifyIdle();
    const limit = this.opts.concurrency ?? 2;
    while (this.running < limit) {
      const index = this.queue.findIndex((j) => !this.busyRepos.has(j.job.request.repository));
      this.stalled = index < 0;
      if (index < 0) break;
      const [tracked] = this.queue.splice(index, 1) as [Tracked];
      const job = tracked.job;
      this.running++;
      this.busyRepos.add(job.request.repository);
      this.runningIds.add(job.id);
      const worker = this.worker;
      void (async () => {
        try {
          const result = await worker(job);
          this.finish(tracked, result);
        } catch (err) {
          this.failedTry(tracked, err);
        } finally {
          this.runningIds.delete(job.id);
          this.running--;
          this.busyRepos.delete(job.request.repository);
          this.pump();
          this.notifyIdle();
        }
      })();
    }
    this.notifyIdle();
  }

  private finish(tracked: Tracked, result: unknown): void {
    const at = this.now();
    this.live.delete(tracked.job.id);
    this.intentLog.delete(dedupeKeyOf(tracked.job));
    // The window of a finished job's keys starts when it finished.
    this.markSeen(tracked.job, at);
    const repo = tracked.job.request.repository;
    this.finished.remember(tracked.job.id, repo, result);
    this.journal({ t: 'done', id: tracked.job.id, ok: true, at, repo, ...(result === undefined ? {} : { r: result }) });
    this.done++;
  }

  private failedTry(tracked: Tracked, err: unknown): void {
    const job = tracked.job;
    tracked.tries += 1;
    const error = (err as Error)?.message ?? String(err);
    tracked.error = error;
    const attempts = this.opts.attempts ?? 3;
    const at = this.now();
    if (tracked.tries < attempts && !this.closed) {
      const delay = (this.opts.backoffMs ?? 5000) * 2 ** (tracked.tries - 1);
      this.journal({ t: 'retry', id: job.id, tries: tracked.tries, error, at });
      this.opts.log?.warn({ job: job.id, attempt: tracked.tries, retryInMs: delay, err: error }, 'heal job failed, will retry');
      this.waiting++;
      const timer = setTimeout(() => {
        this.timers.delete(timer);
        this.waiting--;
        if (this.closed) return;
        this.queue.push(tracked);
        this.pump();
      }, delay);
      this.timers.add(timer);
      return;
    }
    this.live.delete(job.id);
    this.failed++;
    const dead = deadLetterOf(job, tracked.tries, error, new Date(at));
    this.dead.set(job.id, dead);
    this.journal({ t: 'dead', id: job.id, tries: tracked.tries, error, at });
    this.opts.log?.error({ job: job.id, attempts: tracked.tries, err: error }, 'heal job failed every try: dead-lettered (living-bridge incidents list --dead)');
    void Promise.resolve(this.hooks.onDead?.(dead)).catch((e: unknown) => this.opts.log?.warn({ job: job.id, err: (e as Error).message }, 'could not announce the dead-lettered job'));
  }

  async deadLetters(): Promise<DeadLetter[]> {
    return [...this.dead.values()];
  }

  async replayDead(id: string): Promise<boolean> {
    const d = this.dead.get(id);
    if (!d) return false;
    this.dead.delete(id);
    const tracked: Tracked = { job: d.job, tries: 0, submittedAt: this.now() };
    this.journal({ t: 'revive', id, at: tracked.submittedAt });
    this.live.set(id, tracked);
    this.queue.push(tracked);
    this.pump();
    return true;
  }

  async hasDelivery(deliveryId: string): Promise<boolean> {
    return this.seenDeliveries.has(deliveryId);
  }

  private notifyIdle(): void {
    if (this.running === 0 && this.queue.length === 0 && this.waiting === 0) {
      for (const w of this.idleWaiters.splice(0)) w();
    }
  }

  drain(): Promise<void> {
    if (this.running === 0 && this.queue.length === 0 && this.waiting === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  async close(): Promise<void> {
    // Jobs waiting for a retry stay in the journal for the next start; running ones finish.
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    this.waiting = 0;
    this.notifyIdle();
    await this.drain();
    this.closed = true;
  }

  stats() {
    return { pending: this.queue.length + this.waiting, running: this.running, done: this.done, failed: this.failed, dead: this.dead.size };
  }
}
