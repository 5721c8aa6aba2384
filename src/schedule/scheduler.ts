/**
 * The App's hourly env sync: every repository of every installation, once per pass (default one hour),
 * each at its own offset in the pass so the work is spread over the hour, one repository at a time
 * per installation (installations run side by side), within the content-creation budget (writes per
 * hour; writes per minute are paced by the sync itself), and resumable: the pass number, its start
 * and every repository's last pass live in the ScheduleStore, so a restarted App continues the pass
 * where it stopped instead of starting over or skipping it.
 *
 * Per pass and installation the repository listing is read page by page, each page conditional on its
 * ETag (a 304 is free); per repository see repo-step.ts. docs/env-sync.md#scheduled-sync.
 */
import { createHash, randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { PaceOptions } from '../engines/env-sync.js';
import type { DurableStateAdapter, InstallationRepository } from '../github/durable-state.js';
import type { LedgerCache } from '../ledger/index.js';
import type { PipelineContext } from '../pipeline/context.js';
import { DEFAULT_PACE } from '../pipeline/sync.js';
import { parseRepoMemo, syncRepositoryTurn, type RepoStepResult } from './repo-step.js';
import type { ScheduleStore } from './store.js';

export interface ScheduleContext {
  /** The pipeline context for one repository (door `schedule`; from_env rules of that repository), its GitHub port `adapter`. */
  contextFor(repository: string): PipelineContext;
  adapter: DurableStateAdapter;
  /** The cache the context's ledgers use (sharedLedgerCache in the App). */
  ledgerCache: LedgerCache;
}

export interface EnvSyncSchedulerOptions {
  store: ScheduleStore;
  /** Installation ids of the App (`GET /app/installations`). */
  installations(): Promise<number[]>;
  /** Per installation: its adapter (authenticated as the installation) and a pipeline context per repository on it. */
  contextFor(installationId: number): Promise<ScheduleContext>;
  log: Logger;
  now?: () => Date;
  sleep?: (ms: number) => Promise<void>;
  /** Length of a pass; default one hour. */
  periodMs?: number;
  /** Content-creating requests allowed per installation in any hour (GitHub: 500). Default 450 (headroom for heals). */
  writesPerHour?: number;
  /** A repository starts only with at least this many writes left in the hour. */
  writeReserve?: number;
  /** Every this many passes each repository is read fully (conditionally) even without a push. Default 24. */
  fullEvery?: number;
  pace?: PaceOptions;
  /** Called after each repository's turn (metrics, tests, the benchmark). */
  onTurn?: (installationId: number, repository: string, turn: RepoStepResult) => void;
}

interface InstallationState {
  pass: number;
  passStartedAt: number;
  pages: { etag: string | null; repositories: InstallationRepository[]; hasNext: boolean }[];
  /** Times (ms) of recent writes, for the hourly content-creation budget. */
  writes: number[];
}

const HOUR = 3_600_000;
/** How long an installation's lease lasts without renewal (renewed before every repository). */
const LEASE_MS = 10 * 60_000;

/** A repository's offset in the pass: spread evenly and stable across restarts. */
export function offsetInPass(repository: string, periodMs: number): number {
  const h = createHash('sha256').update(repository.toLowerCase()).digest();
  return Math.floor((h.readUInt32BE(0) / 0x1_0000_0000) * periodMs);
}

export class EnvSyncScheduler {
  private readonly now: () => Date;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly periodMs: number;
  private readonly writesPerHour: number;
  private readonly writeReserve: number;
  private readonly fullEvery: number;
  private stopped = false;
  /** This process's name for the per-installation lease. */
  private readonly owner = `${process.pid}-${randomUUID()}`;
  private running: Promise<void> | null = null;

  constructor(private readonly o: EnvSyncSchedulerOptions) {
    this.now = o.now ?? (() => new Date());
    this.sleep = o.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms).unref()));
    this.periodMs = o.periodMs ?? HOUR;
    this.writesPerHour = o.writesPerHour ?? 450;
    this.writeReserve = o.writeReserve ?? 60;
    this.fullEvery = o.fullEvery ?? 24;
  }

  /** Runs passes until stop(): each installation in its own loop, one repository at a time in each. */
  start(): void {
    this.running ??= (async () => {
      const loops = new Map<number, Promise<void>>();
      while (!this.stopped) {
        try {
          for (const id of await this.o.installations()) {
            if (!loops.has(id)) loops.set(id, this.loop(id).finally(() => loops.delete(id)));
          }
        } catch (err) {
          this.o.log.warn({ err: (err as Error).message }, 'env sync schedule: cannot list installations; retrying');
        }
        // New installations join within this interval; one that was removed ends with a failed pass.
        await this.pause(Math.min(this.periodMs, 10 * 60_000));
      }
      await Promise.all(loops.values());
    })();
  }

  private async loop(id: number): Promise<void> {
    while (!this.stopped) {
      try {
        await this.runPass(id);
      } catch (err) {
        this.o.log.error({ installation: id, err: (err as Error).message }, 'env sync schedule: pass failed; retrying in a minute');
        return void (await this.pause(60_000));
      }
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const wake of this.sleepers.splice(0)) wake();
    await this.running;
  }

  private readonly sleepers: (() => void)[] = [];
  /** A sleep that stop() cuts short. */
  private pause(ms: number): Promise<void> {
    if (this.stopped) return Promise.resolve();
    return new Promise((resolve) => {
      const wake = (): void => {
        const i = this.sleepers.indexOf(wake);
        if (i >= 0) this.sleepers.splice(i, 1);
        resolve();
      };
      this.sleepers.push(wake);
      void this.sleep(ms).then(wake);
    });
  }

  private key = (installationId: number): string => `installation:${installationId}`;
  private repoKey = (installationId: number, repository: string): string => `repo:${installationId}:${repository.toLowerCase()}`;

  private async loadInstallation(id: number): Promise<InstallationState> {
    const text = await this.o.store.get(this.key(id));
    if (text) {
      try {
        const s = JSON.parse(text) as InstallationState;
        if (typeof s.pass === 'number' && Array.isArray(s.pages)) return { ...s, writes: Array.isArray(s.writes) ? s.writes : [] };
      } catch {
        // unreadable: start a new pass (every repository's own state is still used)
      }
    }
    return { pass: 1, passStartedAt: this.now().getTime(), pages: [], writes: [] };
  }

  private save(id: number, s: InstallationState): Promise<void> {
    return this.o.store.set(this.key(id), JSON.stringify(s));
  }

  /** The installation's repositories, each page conditional on its stored ETag. */
  private async listRepositories(adapter: DurableStateAdapter, s: InstallationState): Promise<InstallationRepository[]> {
    const pages: InstallationState['pages'] = [];
    for (let page = 1; ; page++) {
      const known = s.pages[page - 1] ?? null;
      const res = await adapter.listInstallationRepositoriesPage(page, known?.etag ?? null);
      const got = res.notModified && known ? known : { etag: res.etag, repositories: res.repositories, hasNext: res.hasNext };
      pages.push(got);
      if (!got.hasNext || page >= 1000) break;
    }
    s.pages = pages;
    return pages.flatMap((p) => p.repositories).filter((r) => !r.archived);
  }

  /** Waits until the hour's write budget has room for one more repository. */
  private async waitForBudget(s: InstallationState): Promise<void> {
    for (;;) {
      const t = this.now().getTime();
      s.writes = s.writes.filter((w) => w > t - HOUR);
      if (this.writesPerHour - s.writes.length >= this.writeReserve || this.stopped) return;
      await this.pause((s.writes[0] ?? t) + HOUR - t + 1);
    }
  }

  /**
   * One pass over one installation (or what is left of it after a restart). Returns when every
   * repository had its turn this pass; the next pass starts one period after this one started.
   */
  async runPass(installationId: number): Promise<{ pass: number; turns: number }> {
    // One replica per installation: the others wait and take over when its lease runs out.
    const lease = (): Promise<boolean> => this.o.store.lease(this.key(installationId), this.owner, LEASE_MS);
    if (!(await lease())) {
      await this.pause(LEASE_MS / 2);
      return { pass: 0, turns: 0 };
    }
    const s = await this.loadInstallation(installationId);
    const { contextFor, adapter, ledgerCache } = await this.o.contextFor(installationId);
    const repos = await this.listRepositories(adapter, s);
    await this.save(installationId, s);
    const order = repos
      .map((r) => ({ r, at: s.passStartedAt + offsetInPass(r.fullName, this.periodMs) }))
      .sort((a, b) => a.at - b.at || (a.r.fullName < b.r.fullName ? -1 : 1));
    let turns = 0;
    for (const { r, at } of order) {
      if (this.stopped) break;
      const memoKey = this.repoKey(installationId, r.fullName);
      const memo = parseRepoMemo(await this.o.store.get(memoKey));
      if (memo && memo.pass >= s.pass) continue; // already synced in this pass (before a restart)
      const wait = at - this.now().getTime();
      if (wait > 0) await this.pause(wait);
      await this.waitForBudget(s);
      if (!(await lease())) return { pass: s.pass, turns };
      const turn = await syncRepositoryTurn({ ctx: contextFor(r.fullName), adapter, ledgerCache, listing: r, memo, pass: s.pass, fullEvery: this.fullEvery, pace: this.o.pace ?? DEFAULT_PACE, sleep: this.sleep });
      const t = this.now().getTime();
      for (let i = 0; i < turn.writes; i++) s.writes.push(t);
      await this.o.store.set(memoKey, JSON.stringify(turn.memo));
      if (turn.writes > 0) await this.save(installationId, s);
      if (turn.outcome === 'failed') this.o.log.warn({ repository: r.fullName, err: turn.memo.lastError }, 'env sync schedule: sync failed; the next pass retries');
      this.o.onTurn?.(installationId, r.fullName, turn);
      turns++;
    }
    if (!this.stopped) {
      // The next pass starts one period after this one did; a pass missed entirely (the App was down
      // longer than a period) is not replayed back to back: the next one starts now.
      const next = s.passStartedAt + this.periodMs;
      const t = this.now().getTime();
      s.passStartedAt = next + this.periodMs < t ? t : next;
      const done = s.pass;
      s.pass += 1;
      await this.save(installationId, s);
      const wait = s.passStartedAt - t;
      if (wait > 0 && !this.stopped) await this.pause(wait);
      return { pass: done, turns };
    }
    return { pass: s.pass, turns };
  }
}
