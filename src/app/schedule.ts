import type { Logger } from 'pino';
import type { Probot } from 'probot';
import type { Signer } from '../core/certificate/index.js';
import type { RepoRef } from '../core/schemas/index.js';
import { DurableStateAdapter, type OctokitLike } from '../github/index.js';
import { createGitLedger, sharedLedgerCache } from '../ledger/index.js';
import { buildContext } from '../pipeline/build-context.js';
import type { Observer } from '../pipeline/observe.js';
import { EnvSyncScheduler } from '../schedule/scheduler.js';
import { createScheduleStore } from '../schedule/store.js';
import type { AppSettings } from './config.js';

export interface RunningSchedule {
  stop(): Promise<void>;
}

/**
 * The App's hourly env sync over every repository of every installation (src/schedule), on when
 * LIVING_BRIDGE_ENV_SYNC_SCHEDULE is on (the default) and the App has somewhere durable to keep the
 * schedule's state: REDIS_URL or LIVING_BRIDGE_DATA_DIR. Without either it logs why and stays off:
 * without durable state every restart would re-read every repository in full.
 */
export function startEnvSyncSchedule(opts: {
  settings: Pick<AppSettings, 'envSyncSchedule' | 'envSyncPeriodMinutes' | 'pipeline' | 'storage'>;
  probot: Probot;
  signer: Signer;
  log: Logger;
  instrument: <T>(octokit: T) => T;
  observer?: Observer;
}): RunningSchedule | null {
  const { log } = opts;
  if (!opts.settings.envSyncSchedule) {
    log.info('env sync schedule: off (LIVING_BRIDGE_ENV_SYNC_SCHEDULE=off)');
    return null;
  }
  const store = createScheduleStore(opts.settings.storage);
  if (!store) {
    log.warn('env sync schedule: off — set LIVING_BRIDGE_DATA_DIR (or REDIS_URL) so its state survives restarts');
    return null;
  }
  const periodMinutes = opts.settings.envSyncPeriodMinutes;
  const scheduler = new EnvSyncScheduler({
    store,
    log: log.child({ component: 'env-sync-schedule' }),
    periodMs: periodMinutes * 60_000,
    installations: async () => {
      const app = await opts.probot.auth();
      const all = (await app.paginate('GET /app/installations', { per_page: 100 })) as { id: number; suspended_at?: string | null }[];
      return all.filter((i) => !i.suspended_at).map((i) => i.id);
    },
    contextFor: async (installationId) => {
      const octokit = opts.instrument((await opts.probot.auth(installationId)) as unknown as OctokitLike);
      const adapter = new DurableStateAdapter(octokit);
      const ledgerFor = (repo: RepoRef, branch: string) => createGitLedger(adapter, repo, branch, { signer: opts.signer });
      return {
        // Per repository: LIVING_BRIDGE_FROM_ENV_ALLOW entries scoped to an owner or repository apply to it.
        contextFor: (repository: string) => {
          const ctx = buildContext({ octokit, signer: opts.signer, settings: opts.settings.pipeline, door: 'schedule', repository, log: log.child({ installation: installationId, repository }) });
          return { ...ctx, github: adapter, ledgerFor, ...(opts.observer ? { observer: opts.observer } : {}) };
        },
        adapter,
        ledgerCache: sharedLedgerCache,
      };
    },
  });
  scheduler.start();
  log.info({ periodMinutes }, 'env sync schedule: on');
  return {
    async stop() {
      await scheduler.stop();
      await store.close();
    },
  };
}
