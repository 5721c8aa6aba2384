import type { Logger } from 'pino';
import type { RepoRef } from '../core/schemas/index.js';
import type { PipelineContext } from '../pipeline/context.js';
import { updateDashboard, type DashboardUpdate } from '../pipeline/dashboard.js';
import type { BridgeEvent, Observer } from '../pipeline/observe.js';
import { safeMessage } from '../pipeline/heal.js';

export interface DashboardScheduler extends Observer {
  /** Runs the updates still waiting, then resolves (shutdown). */
  drain(): Promise<void>;
}

/**
 * Keeps each repository's dashboard issue current after heals and outcomes. Updates of one
 * repository run one at a time; events arriving meanwhile (a heal's decision, its result, the
 * outcome of the re-run) are folded into one more update after a short pause.
 */
export function createDashboardScheduler(opts: {
  contextFor(repo: RepoRef): Promise<PipelineContext>;
  log: Logger;
  debounceMs?: number;
  onUpdate?: (repository: string, update: DashboardUpdate) => void;
}): DashboardScheduler {
  const debounceMs = opts.debounceMs ?? 500;
  const timers = new Map<string, NodeJS.Timeout>();
  const running = new Map<string, Promise<void>>();
  const again = new Set<string>();

  const run = (repository: string): void => {
    timers.delete(repository);
    if (running.has(repository)) {
      again.add(repository);
      return;
    }
    const p = (async () => {
      try {
        const [owner, repo] = repository.split('/') as [string, string];
        const ctx = await opts.contextFor({ owner, repo });
        const update = await updateDashboard(ctx, repository);
        opts.log.debug({ repository, dashboard: update.status, url: update.url }, 'dashboard issue');
        opts.onUpdate?.(repository, update);
      } catch (err) {
        opts.log.warn({ repository, err: safeMessage(err) }, 'could not update the dashboard issue');
      }
    })().finally(() => {
      running.delete(repository);
      if (again.delete(repository)) schedule(repository);
    });
    running.set(repository, p);
  };
  const schedule = (repository: string): void => {
    clearTimeout(timers.get(repository));
    timers.set(repository, setTimeout(() => run(repository), debounceMs));
  };
  const worthShowing = (e: BridgeEvent): boolean => !(e.type === 'autonomy.decision' && e.verdict === 'execute');

  return {
    emit(e) {
      // An executed decision is followed by its heal event; waiting for that saves one update.
      if (worthShowing(e)) schedule(e.repository);
    },
    async drain() {
      for (const [repository, t] of [...timers]) {
        clearTimeout(t);
        run(repository);
      }
      while (running.size) await Promise.all([...running.values()]);
    },
  };
}
