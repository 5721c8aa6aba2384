import { appendFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Logger } from 'pino';
import { HealJob } from '../core/schemas/index.js';

export interface SubmitResult {
  accepted: boolean;
  duplicate: boolean;
  id: string;
}

export interface Intake {
  /** Records the job durably, or reports it as a duplicate (same delivery id or same run attempt). */
  submit(job: HealJob): Promise<SubmitResult>;
  /** Starts handing jobs to `worker`; jobs of one repository run one at a time, in order. */
  start(worker: (job: HealJob) => Promise<void>): void;
  /** Resolves when every accepted job has been processed. */
  drain(): Promise<void>;
  close(): Promise<void>;
  stats(): { pending: number; running: number; done: number; failed: number };
}

/** The de-duplication key of "the same failure event": a run attempt, else the delivery. */
export const dedupeKeyOf = (job: HealJob): string =>
  job.request.run_id !== undefined
    ? `${job.request.repository}#${job.request.run_id}@${job.request.run_attempt ?? 1}${job.request.dry_run ? ':dry' : ''}`
    : `delivery:${job.delivery_id}`;

type JournalLine = { t: 'submitted'; job: HealJob } | { t: 'done'; id: string; ok: boolean };

/**
 * An in-process queue with an append-only JSON-lines journal: what was accepted and not finished
 * when the process stopped is replayed on the next start, so a 202 is a promise kept.
 */
export class EmbeddedIntake implements Intake {
  private readonly queue: HealJob[] = [];
  private readonly seenDeliveries = new Set<string>();
  private readonly seenKeys = new Set<string>();
  private readonly busyRepos = new Set<string>();
  private worker: ((job: HealJob) => Promise<void>) | null = null;
  private running = 0;
  private done = 0;
  private failed = 0;
  private idleWaiters: (() => void)[] = [];
  private closed = false;

  constructor(
    private readonly opts: { journalPath?: string; concurrency?: number; log?: Logger } = {},
  ) {
    if (opts.journalPath) this.replay(opts.journalPath);
  }

  private replay(path: string): void {
    if (!existsSync(path)) {
      mkdirSync(dirname(path), { recursive: true });
      return;
    }
    const finished = new Set<string>();
    const submitted: HealJob[] = [];
    const text = readFileSync(path, 'utf8');
    // End a torn last line, or the next entry appended would be glued to it and lost with it.
    if (text.length > 0 && !text.endsWith('\n')) appendFileSync(path, '\n');
    for (const [i, line] of text.split('\n').entries()) {
      if (!line.trim()) continue;
      try {
        const entry = JSON.parse(line) as JournalLine;
        if (entry.t === 'submitted') submitted.push(HealJob.parse(entry.job));
        else finished.add(entry.id);
      } catch {
        // A torn last line (crash mid-write) must not stop the app from starting.
        this.opts.log?.warn({ line: i + 1, path }, 'skipping unreadable intake journal line');
      }
    }
    for (const job of submitted) {
      this.seenDeliveries.add(job.delivery_id);
      this.seenKeys.add(dedupeKeyOf(job));
      if (!finished.has(job.id)) this.queue.push(job);
    }
    if (this.queue.length) this.opts.log?.info({ replayed: this.queue.length }, 'replaying unfinished heal jobs');
  }

  private journal(entry: JournalLine): void {
    if (this.opts.journalPath) appendFileSync(this.opts.journalPath, `${JSON.stringify(entry)}\n`);
  }

  async submit(job: HealJob): Promise<SubmitResult> {
    if (this.closed) throw new Error('intake is closed');
    const key = dedupeKeyOf(job);
    if (this.seenDeliveries.has(job.delivery_id) || this.seenKeys.has(key)) {
      return { accepted: false, duplicate: true, id: job.id };
    }
    this.seenDeliveries.add(job.delivery_id);
    this.seenKeys.add(key);
    this.journal({ t: 'submitted', job });
    this.queue.push(job);
    this.pump();
    return { accepted: true, duplicate: false, id: job.id };
  }

  start(worker: (job: HealJob) => Promise<void>): void {
    this.worker = worker;
    this.pump();
  }

  private pump(): void {
    if (!this.worker || this.closed) return;
    const limit = this.opts.concurrency ?? 2;
    while (this.running < limit) {
      const index = this.queue.findIndex((j) => !this.busyRepos.has(j.request.repository));
      if (index < 0) break;
      const [job] = this.queue.splice(index, 1) as [HealJob];
      this.running++;
      this.busyRepos.add(job.request.repository);
      const worker = this.worker;
      void (async () => {
        let ok = true;
        try {
          await worker(job);
        } catch (err) {
          ok = false;
          this.opts.log?.error({ job: job.id, err: (err as Error).message }, 'heal job failed');
        } finally {
          this.journal({ t: 'done', id: job.id, ok });
          if (ok) this.done++;
          else this.failed++;
          this.running--;
          this.busyRepos.delete(job.request.repository);
          this.pump();
          this.notifyIdle();
        }
      })();
    }
    this.notifyIdle();
  }

  private notifyIdle(): void {
    if (this.running === 0 && this.queue.length === 0) {
      for (const w of this.idleWaiters.splice(0)) w();
    }
  }

  drain(): Promise<void> {
    if (this.running === 0 && this.queue.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  async close(): Promise<void> {
    await this.drain();
    this.closed = true;
  }

  stats() {
    return { pending: this.queue.length, running: this.running, done: this.done, failed: this.failed };
  }
}
