import type { Logger } from 'pino';
import type { Signer } from '../core/certificate/index.js';
import { GitHubCache, createOctokit } from '../github/index.js';
import { DurableStateAdapter } from '../github/durable-state.js';
import { LedgerCache, createGitLedger } from '../ledger/index.js';
import type { PipelineContext } from '../pipeline/context.js';
import { EnvSyncScheduler, type EnvSyncSchedulerOptions } from '../schedule/scheduler.js';
import type { ScheduleStore } from '../schedule/store.js';
import { SANDBOX_ADMIN_TOKEN } from '../sandbox/index.js';

/**
 * The App's EnvSyncScheduler on an in-process sandbox, as a freshly started App builds it: new, empty
 * in-memory caches (GitHub responses, ledger snapshots) each call, the durable state only in `store`.
 * For the scheduling benchmark and tests, which drive it with a virtual clock.
 */
export function sandboxScheduler(opts: {
  apiUrl: string;
  store: ScheduleStore;
  signer: Signer;
  log: Logger;
  clock: { now(): number; sleep(ms: number): Promise<void> };
  /** The healer's environment for `from_env` sources. */
  env: Record<string, string>;
  installationId?: number;
  extra?: Partial<EnvSyncSchedulerOptions>;
}): EnvSyncScheduler {
  const cache = new GitHubCache();
  const ledgers = new LedgerCache();
  const now = () => new Date(opts.clock.now());
  return new EnvSyncScheduler({
    store: opts.store,
    log: opts.log,
    now,
    sleep: (ms) => opts.clock.sleep(ms),
    installations: async () => [opts.installationId ?? 1],
    contextFor: async () => {
      const adapter = new DurableStateAdapter(createOctokit({ baseUrl: opts.apiUrl, auth: SANDBOX_ADMIN_TOKEN, throttle: false, retry: { enabled: false } }), { cache });
      const ctx: PipelineContext = {
        github: adapter,
        ledgerFor: (repo, branch) => createGitLedger(adapter, repo, branch, { cache: ledgers, signer: opts.signer, now, delay: async () => {} }),
        signer: opts.signer,
        now,
        randomBytes: (n) => new Uint8Array(n).fill(1),
        env: opts.env,
        log: opts.log,
        door: 'schedule',
        autonomyEnabled: true,
        fromEnvRefusal: () => null,
        grantKeys: {},
      };
      return { contextFor: () => ctx, adapter, ledgerCache: ledgers };
    },
    ...opts.extra,
  });
}
